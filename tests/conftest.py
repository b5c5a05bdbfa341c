import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from core.paths import ROOT

from core.data.mnist import load_mnist  # noqa: E402

SHIPPED = ROOT / "models_cache"


def shipped_digest() -> str:
    """sha256 over every file of models_cache/ (names and bytes)."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(p for p in SHIPPED.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(SHIPPED)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def _shipped_state():
    return {"digest": shipped_digest()}


@pytest.fixture(autouse=True)
def shipped_cache_unchanged(_shipped_state):
    """Every test leaves the shipped cache byte for byte as it found it."""
    yield
    after = shipped_digest()
    assert after == _shipped_state["digest"], "this test changed models_cache/"


@pytest.fixture(scope="session")
def mnist():
    return load_mnist()


@pytest.fixture(scope="session")
def test_set(mnist):
    """The 10,000 test digits, float32 in [0, 1], and their labels."""
    return mnist.splits()[2]


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real, private ``redis-server`` (Debian's) on a Unix socket; yields its URL."""
    import shutil

    from scripts.harness import redis_server as private_redis

    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed: run scripts/setup.sh")
    with private_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """A real, private PostgreSQL server (Debian's) on a Unix socket with an empty database
    ``digitlab``; yields its SQLAlchemy URL (psycopg 3)."""
    from scripts.harness import postgres_binaries, postgres_server

    if postgres_binaries() is None:
        pytest.fail("PostgreSQL is not installed: run scripts/setup.sh --dev")
    with postgres_server(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture
def queue_env(redis_server, tmp_path, monkeypatch):
    """An empty Redis database and an empty runs store for one test; yields the runs path."""
    from core.queue import jobs

    monkeypatch.setenv("DIGITLAB_REDIS_URL", redis_server)
    monkeypatch.setenv("DIGITLAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("DIGITLAB_CHECKPOINTS", str(tmp_path / "checkpoints"))
    jobs.connection().flushdb()
    return tmp_path / "runs"


@pytest.fixture
def worker(queue_env):
    """One ``python -m core worker`` process on the test's queue (in pytest's session, as
    scripts/run_app.sh starts it); stopped after the test."""
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "core", "worker"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    yield process
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# The teacher's password the class-database tests unlock with.
TEACHER_PASSWORD = "a teacher's password"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, queue_env, monkeypatch):
    """An empty class database of each kind (core.classset.db: the default SQLite file in the
    runs store, or a real PostgreSQL); the teacher's grant lives in the test's Redis. Yields
    the backend's name."""
    from sqlalchemy import create_engine

    from core.classset import db

    db.dispose()
    if request.param == "sqlite":
        # The default: a new file (and its folder) in this test's own runs store (queue_env).
        monkeypatch.delenv(db.DATABASE_ENV_VAR, raising=False)
        db.metadata.drop_all(db.engine())
    else:
        # The session's one PostgreSQL, emptied through a plain engine: db.engine() would first
        # check the schema version, and an earlier test may have left a newer one on purpose.
        monkeypatch.setenv(db.DATABASE_ENV_VAR, request.getfixturevalue("postgres_url"))
        plain = create_engine(db.database_url())
        db.metadata.drop_all(plain)
        plain.dispose()
    db.dispose()
    yield request.param
    db.dispose()


@pytest.fixture
def grant(queue_env, monkeypatch):
    """The teacher's grant, unlocked with ``TEACHER_PASSWORD``."""
    from core.queue import classroom

    monkeypatch.setenv(classroom.PASSWORD_ENV_VAR, TEACHER_PASSWORD)
    return classroom.unlock(TEACHER_PASSWORD, "test-session")
