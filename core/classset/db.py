"""The class's database, through SQLAlchemy: a SQLite file in the runs store by default
(nothing to install), PostgreSQL when ``$DIGITLAB_DATABASE_URL`` names one (compose.yaml's
``postgres`` service, shared by the app replicas and the workers).

The schema is created with SQLAlchemy's ``create_all`` rather than Alembic: ``create_all``
only creates what is missing, and no column has changed yet. The version is kept in the
``settings`` table (``SCHEMA_VERSION``): version 2 added two tables (the lessons' answers
and assignments), so a version-1 database gets them from ``create_all`` and its version
row is raised to 2; the day a column changes, Alembic starts from this schema as its base
revision, and a database newer than the code is refused with one sentence rather than
misread.
"""

from __future__ import annotations

import datetime
import os
import threading
from pathlib import Path

from sqlalchemy import (JSON, Boolean, Column, DateTime, Integer, LargeBinary, MetaData, String, Table, Text,
                        create_engine, event, exc, select)
from sqlalchemy.engine import Engine, make_url

from core.store import cache

DATABASE_ENV_VAR = "DIGITLAB_DATABASE_URL"
SQLITE_NAME = "class.sqlite"
SCHEMA_VERSION = 2
# Seconds a SQLite writer waits for another's lock: 30 students saving at once wait in
# turn (a save holds it a few milliseconds) instead of failing with "database is locked".
SQLITE_BUSY_SECONDS = 30

metadata = MetaData()

# One row per drawing saved from the pad: its label ("0"-"9" or a symbol's name), the
# student's name in the class, when, the strokes as the pad sent them ([[x, y], ...] in
# [0, 1]) and the 28x28 model input, float32 little-endian (784 * 4 bytes), exactly as
# core.drawing.preprocess.to_mnist made it.
samples = Table(
    "samples", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("label", String(12), nullable=False, index=True),
    Column("student", String(20), nullable=False, index=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("strokes", JSON, nullable=False),
    Column("image", LargeBinary, nullable=False),
)
# The new symbols the class defined, in the order they were added.
symbols = Table(
    "symbols", metadata,
    Column("name", String(12), primary_key=True),
    Column("student", String(20), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)
# Every answer a student gave to a lesson's step (core/lessons/progress.py): the lesson's
# name (its file's name without .yaml), the step's number from 1, the answer as typed
# (at most 2,000 characters), the same in the form answers are counted by ("55050" for
# "55,050"), whether it was right (None: free text the teacher reads), and when.
lesson_answers = Table(
    "lesson_answers", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("student", String(20), nullable=False, index=True),
    Column("lesson", String(80), nullable=False, index=True),
    Column("step", Integer, nullable=False),
    Column("answer", Text, nullable=False),
    Column("counted_as", String(200), nullable=False),
    Column("correct", Boolean, nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
)
# The lessons the teacher assigned to the class, and when.
lesson_assignments = Table(
    "lesson_assignments", metadata,
    Column("lesson", String(80), primary_key=True),
    Column("assigned", DateTime(timezone=True), nullable=False),
)
# Small settings: the schema's version, whether students see each other's drawings.
settings = Table(
    "settings", metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
)


class DatabaseUnavailable(RuntimeError):
    """The class's database cannot be reached or used; the message is one sentence."""


# What a page catches around a database call (the driver's errors come wrapped in these).
DB_ERRORS = (DatabaseUnavailable, exc.OperationalError, exc.InterfaceError, exc.DatabaseError)


def now() -> datetime.datetime:
    """The time a row is written, timezone-aware UTC (the tables' ``created`` and
    ``assigned`` columns)."""
    return datetime.datetime.now(datetime.timezone.utc)


def database_url() -> str:
    """``$DIGITLAB_DATABASE_URL`` if set, else a SQLite file ``class.sqlite`` in the runs
    store (``core.store.cache.runs_dir``)."""
    return os.environ.get(DATABASE_ENV_VAR) or f"sqlite:///{cache.runs_dir() / SQLITE_NAME}"


def where(url: str | None = None) -> str:
    """The database in words, without a password: "the SQLite file …" or "PostgreSQL at …"."""
    parsed = make_url(url or database_url())
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite file {parsed.database}"
    return f"{parsed.get_backend_name()} database {parsed.database} at {parsed.host or parsed.query.get('host', 'localhost')}"


def problem(error: BaseException) -> str:
    """One sentence for a database error, naming the database (never its password)."""
    if isinstance(error, DatabaseUnavailable):
        return str(error)
    return (f"The class's database ({where()}) cannot be used right now, so nothing was read or saved: "
            "ask the person who runs the lab to check it.")


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    # WAL: readers never wait for a writer; one writer at a time, the others wait their turn.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
    cursor.close()


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _engine(url: str) -> Engine:
    with _ENGINES_LOCK:
        if url not in _ENGINES:
            _ENGINES[url] = _new_engine(url)
        return _ENGINES[url]


def _new_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # pre_ping: a connection the server closed (a restart) is replaced, not handed out.
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=30)
    _create_schema(engine)
    return engine


def _create_schema(engine: Engine) -> None:
    try:
        metadata.create_all(engine)
    except exc.DBAPIError:
        # Two app processes starting at once: the other one created a table between our
        # check and our CREATE. Everything exists now; a real failure raises again here.
        metadata.create_all(engine)
    with engine.begin() as conn:
        version = conn.execute(select(settings.c.value).where(settings.c.name == "schema")).scalar()
        if version is None:
            try:
                with conn.begin_nested():  # a savepoint: PostgreSQL aborts the whole transaction otherwise
                    conn.execute(settings.insert().values(name="schema", value=str(SCHEMA_VERSION)))
            except exc.IntegrityError:
                pass  # written by another process a moment ago
        elif int(version) > SCHEMA_VERSION:
            raise DatabaseUnavailable(f"The class's database ({where(str(engine.url))}) was written by a newer "
                                      "Digit Lab: update this one before using it.")
        elif int(version) < SCHEMA_VERSION:
            # An older database: create_all above added the tables it lacked (version 1 had
            # no lesson tables; no column of an older table has changed).
            conn.execute(settings.update().where(settings.c.name == "schema").values(value=str(SCHEMA_VERSION)))


def engine() -> Engine:
    """The engine for ``database_url()``, made once per URL and process, with the schema
    created where it is missing.

    Raises:
        DatabaseUnavailable: if the database is newer than this code, its URL cannot be
            read, or the SQLite file's folder cannot be made (one sentence).
        sqlalchemy.exc.OperationalError: if it cannot be reached (``DB_ERRORS``).
    """
    try:
        return _engine(database_url())
    except exc.ArgumentError as error:
        raise DatabaseUnavailable(f"{DATABASE_ENV_VAR} is not a database URL SQLAlchemy can read.") from error
    except OSError as error:  # the runs store is a file, or cannot be written
        raise DatabaseUnavailable(f"The class's database ({where()}) cannot be created there (its folder cannot "
                                  "be written), so nothing was read or saved: ask the person who runs the lab "
                                  "to check it.") from error


def dispose() -> None:
    """Close every engine's connections and forget the engines (tests switch databases)."""
    with _ENGINES_LOCK:
        for made in _ENGINES.values():
            made.dispose()
        _ENGINES.clear()
