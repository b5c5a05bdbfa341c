"""Collecting the class's handwriting: save a drawing from the pad with its label and
student, list and count the set, delete samples, share or hide drawings, define new
symbols, and export the set (``.npz`` shaped like MNIST, and CSV).

A sample keeps what the pad sent (the strokes) and what the models read: the 28x28 image
``core.drawing.preprocess.to_mnist`` makes of ``core.drawing.strokes.to_image``, the same
path the Draw page's live answer takes. Teacher actions check the grant on the server
(``core.queue.classroom.require_teacher``) before they touch anything.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete as sql_delete, exc, func, select, update

from core.classset import db
from core.drawing.preprocess import NoInkError, ScribbleError, SpeckError, to_mnist
from core.drawing.strokes import StrokeError, to_image
from core.queue import classroom

DIGITS = tuple(str(d) for d in range(10))
MAX_SYMBOLS = 8
# A symbol is what a student can type and draw: 1 to 3 letters or signs, not a digit
# (those are the digits' own classes), e.g. "+", "-", "x", "=", "A", "pi".
SYMBOL_PATTERN = re.compile(r"[A-Za-z+\-=*/<>()?!#%&@~^|]{1,3}")
SHARE_SETTING = "share_drawings"
SIDE = 28


class SampleError(ValueError):
    """A sample that cannot be saved or a name that cannot be used; the message is one
    sentence, and nothing was written."""


@dataclass(frozen=True)
class ClassSet:
    """Samples read from the database, in the order they were saved.

    Attributes:
        ids: (N,) int64 row ids.
        images: (N, 28, 28) float32 in [0, 1], ink high: the models' input.
        labels: (N,) str, "0"-"9" or a symbol's name.
        students: (N,) str, each sample's student (their name in the class).
        created: (N,) str, when it was saved (ISO 8601, UTC).
    """

    ids: np.ndarray
    images: np.ndarray
    labels: np.ndarray
    students: np.ndarray
    created: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def where(self, mask: np.ndarray) -> ClassSet:
        """The samples where the (N,) bool ``mask`` is True."""
        return ClassSet(self.ids[mask], self.images[mask], self.labels[mask], self.students[mask],
                        self.created[mask])

    def digits(self) -> ClassSet:
        """Only the digits (labels "0"-"9")."""
        return self.where(np.isin(self.labels, DIGITS))

    def digit_labels(self) -> np.ndarray:
        """(N,) uint8 0-9 of a digits-only set (``digits()``).

        Raises:
            ValueError: if a label is not a digit.
        """
        if not np.isin(self.labels, DIGITS).all():
            raise ValueError("digit_labels needs a set of digits only: call digits() first")
        return self.labels.astype(np.uint8)

    def sha256(self) -> str:
        """Hex sha256 of the images, labels and students: names the set a model was tuned on."""
        digest = hashlib.sha256(np.ascontiguousarray(self.images, "<f4").tobytes())
        for column in (self.labels, self.students):
            digest.update("\x1f".join(column.tolist()).encode())
        return digest.hexdigest()


def _student(name: str) -> str:
    try:
        return classroom.check_name(name)
    except ValueError as exc:
        raise SampleError("Pick your name in the class (in the sidebar) before saving: each sample "
                          "carries it.") from exc


# Symbols ------------------------------------------------------------------------------------


def symbol_names() -> list[str]:
    """The new symbols the class defined, in the order they were added.

    Raises:
        sqlalchemy errors (``db.DB_ERRORS``) if the database cannot be read.
    """
    with db.engine().connect() as conn:
        return list(conn.execute(select(db.symbols.c.name).order_by(db.symbols.c.created, db.symbols.c.name)).scalars())


def add_symbol(student: str, name: str) -> str:
    """Add the symbol ``name`` to the class's classes (any student may); returns it.

    Raises:
        SampleError: if ``name`` is not 1-3 letters or signs (``SYMBOL_PATTERN``), already
            exists, or the class has ``MAX_SYMBOLS`` already.
    """
    student = _student(student)
    name = str(name).strip()
    if not SYMBOL_PATTERN.fullmatch(name):
        raise SampleError("A new symbol is 1 to 3 letters or signs such as + - x = or A (digits are already classes).")
    with db.engine().begin() as conn:
        existing = list(conn.execute(select(db.symbols.c.name)).scalars())
        if name in existing:
            raise SampleError(f"The class already has the symbol “{name}”.")
        if len(existing) >= MAX_SYMBOLS:
            raise SampleError(f"The class has {MAX_SYMBOLS} symbols, the most it may have: ask the teacher to "
                              "remove one first.")
        try:
            with conn.begin_nested():
                conn.execute(db.symbols.insert().values(name=name, student=student, created=db.now()))
        except exc.IntegrityError as error:  # another student added it a moment ago
            raise SampleError(f"The class already has the symbol “{name}”.") from error
    return name


def remove_symbol(grant: str | None, name: str) -> int:
    """Remove a symbol and its samples (teacher only); returns how many samples went.

    Raises:
        core.queue.classroom.NotTeacher: without a teacher's grant.
    """
    classroom.require_teacher(grant)
    with db.engine().begin() as conn:
        gone = conn.execute(sql_delete(db.samples).where(db.samples.c.label == name)).rowcount
        conn.execute(sql_delete(db.symbols).where(db.symbols.c.name == name))
    return gone


# Saving ------------------------------------------------------------------------------------


def prepare(strokes, label: str, classes) -> np.ndarray:
    """Check a drawing and its label and make the model input, as the Draw page does.

    Args:
        strokes: the pad's strokes (``core.drawing.strokes.to_image``).
        label: the class asked for: "0"-"9" or a symbol's name.
        classes: the labels that may be saved now (the digits and the class's symbols).

    Returns:
        (28, 28) float32 in [0, 1]: ``to_mnist(to_image(strokes))``.

    Raises:
        SampleError: one sentence, for a label that is not a class, a tampered stroke list,
            an empty pad, a dot or a scribble.
    """
    if not isinstance(label, str) or label not in classes:
        raise SampleError(f"“{str(label)[:12]}” is not one of the class's classes (the digits 0-9 and its symbols), "
                          "so the drawing was not saved.")
    try:
        return to_mnist(to_image(strokes))
    except StrokeError as exc:
        raise SampleError("This drawing could not be read, so it was not saved: press Clear and draw again.") from exc
    except SpeckError as exc:
        raise SampleError("That is only a dot, so it was not saved: draw the whole symbol.") from exc
    except NoInkError as exc:
        raise SampleError(f"The pad is empty: draw a {label} first, then save.") from exc
    except ScribbleError as exc:
        raise SampleError("The ink covers most of the pad, so it was not saved: clear it and draw one symbol.") from exc


def save(student: str, label: str, strokes) -> int:
    """Save one drawing of ``label`` by ``student``; returns its id.

    The strokes are stored rounded to 1/10,000 of the pad's side (as JSON); the image is
    ``prepare``'s, as float32 bytes.

    Raises:
        SampleError: if the student has no valid name, or ``prepare`` refuses the drawing.
        sqlalchemy errors (``db.DB_ERRORS``) if the database cannot be written.
    """
    student = _student(student)
    classes = DIGITS if label in DIGITS else DIGITS + tuple(symbol_names())
    image = prepare(strokes, label, classes)
    kept = [[[round(float(x), 4), round(float(y), 4)] for x, y in stroke] for stroke in strokes]
    with db.engine().begin() as conn:
        return int(conn.execute(db.samples.insert().values(
            label=label, student=student, created=db.now(), strokes=kept,
            image=np.ascontiguousarray(image, "<f4").tobytes())).inserted_primary_key[0])


# Reading -----------------------------------------------------------------------------------


def load(student: str | None = None, labels=None) -> ClassSet:
    """The samples (all, or ``student``'s, or those of ``labels``), oldest first.

    Raises:
        sqlalchemy errors (``db.DB_ERRORS``) if the database cannot be read.
    """
    query = select(db.samples.c.id, db.samples.c.image, db.samples.c.label, db.samples.c.student,
                   db.samples.c.created).order_by(db.samples.c.id)
    if student is not None:
        query = query.where(db.samples.c.student == student)
    if labels is not None:
        query = query.where(db.samples.c.label.in_(list(labels)))
    with db.engine().connect() as conn:
        rows = conn.execute(query).all()
    images = np.frombuffer(b"".join(r.image for r in rows), "<f4").astype(np.float32).reshape(-1, SIDE, SIDE)
    return ClassSet(ids=np.array([r.id for r in rows], np.int64), images=images,
                    labels=np.array([r.label for r in rows], dtype="<U12"),
                    students=np.array([r.student for r in rows], dtype="<U20"),
                    created=np.array([_iso(r.created) for r in rows], dtype="<U32"))


def _iso(moment: datetime.datetime) -> str:
    # SQLite hands back a naive time: it was stored as UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.isoformat(timespec="seconds")


def strokes_of(sample_id: int) -> list:
    """The strokes saved with sample ``sample_id`` ([] if there is no such sample)."""
    with db.engine().connect() as conn:
        return conn.execute(select(db.samples.c.strokes).where(db.samples.c.id == int(sample_id))).scalar() or []


def counts(student: str | None = None) -> dict[str, int]:
    """{label: number of samples} of the class (or of ``student``), labels with none left out."""
    query = select(db.samples.c.label, func.count()).group_by(db.samples.c.label)
    if student is not None:
        query = query.where(db.samples.c.student == student)
    with db.engine().connect() as conn:
        return {label: int(n) for label, n in conn.execute(query)}


def students() -> dict[str, int]:
    """{student: number of samples}, by name."""
    query = select(db.samples.c.student, func.count()).group_by(db.samples.c.student).order_by(db.samples.c.student)
    with db.engine().connect() as conn:
        return {name: int(n) for name, n in conn.execute(query)}


def next_label(student: str, classes) -> str:
    """The class to ask ``student`` for next, so the set stays balanced: the one they drew
    least, among those the least of the class, then in ``classes``' order."""
    mine, everyone = counts(student), counts()
    return min(classes, key=lambda c: (mine.get(c, 0), everyone.get(c, 0), list(classes).index(c)))


# Who sees what -----------------------------------------------------------------------------


def sharing() -> bool:
    """Whether students see each other's drawings (the teacher's switch; off by default)."""
    with db.engine().connect() as conn:
        return conn.execute(select(db.settings.c.value).where(db.settings.c.name == SHARE_SETTING)).scalar() == "on"


def set_sharing(grant: str | None, on: bool) -> None:
    """Let students see each other's drawings (``on``) or only their own (teacher only).

    Raises:
        core.queue.classroom.NotTeacher: without a teacher's grant.
    """
    classroom.require_teacher(grant)
    value = "on" if on else "off"
    with db.engine().begin() as conn:
        if conn.execute(update(db.settings).where(db.settings.c.name == SHARE_SETTING).values(value=value)).rowcount == 0:
            conn.execute(db.settings.insert().values(name=SHARE_SETTING, value=value))


def shown_to(viewer: str | None, teacher: bool, owners: np.ndarray) -> np.ndarray:
    """(N,) bool: which of the drawings by ``owners`` the viewer may see: all for the
    teacher (``teacher``: a grant checked by the caller) or when sharing is on, else only
    the viewer's own."""
    if teacher or sharing():
        return np.ones(len(owners), bool)
    return np.asarray(owners) == (viewer or "\x00")


# Deleting ----------------------------------------------------------------------------------


def delete_own(student: str, sample_id: int) -> bool:
    """Delete one of ``student``'s own samples; True if it was theirs and went."""
    with db.engine().begin() as conn:
        return conn.execute(sql_delete(db.samples).where(db.samples.c.id == int(sample_id),
                                                         db.samples.c.student == student)).rowcount == 1


def delete(grant: str | None, sample_id: int) -> bool:
    """Delete any sample (teacher only); True if it existed.

    Raises:
        core.queue.classroom.NotTeacher: without a teacher's grant.
    """
    classroom.require_teacher(grant)
    with db.engine().begin() as conn:
        return conn.execute(sql_delete(db.samples).where(db.samples.c.id == int(sample_id))).rowcount == 1


def delete_student(grant: str | None, student: str) -> int:
    """Delete every sample of ``student`` (teacher only); returns how many went.

    Raises:
        core.queue.classroom.NotTeacher: without a teacher's grant.
    """
    classroom.require_teacher(grant)
    with db.engine().begin() as conn:
        return conn.execute(sql_delete(db.samples).where(db.samples.c.student == student)).rowcount


# Export ------------------------------------------------------------------------------------


def class_order(labels) -> list[str]:
    """The classes of ``labels`` in the lab's order: the digits, then symbols by name."""
    present = set(np.asarray(labels).tolist())
    return [d for d in DIGITS if d in present] + sorted(present - set(DIGITS))


def npz_bytes(data: ClassSet) -> bytes:
    """The set as an ``.npz`` shaped like MNIST's: ``images`` (N, 28, 28) float32 in
    [0, 1] (the models' input, exact), ``labels`` (N,) int64 indices into ``classes``
    (so a digits-only set's labels are the digits), ``classes`` (K,) str, ``students`` (N,)
    str, ``ids`` (N,) int64, ``created`` (N,) str. Loads with ``np.load`` without pickle."""
    classes = class_order(data.labels) if len(data) else list(DIGITS)
    index = {c: i for i, c in enumerate(classes)}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=data.images.astype(np.float32),
                        labels=np.array([index[c] for c in data.labels.tolist()], np.int64),
                        classes=np.array(classes, dtype="<U12"), students=data.students, ids=data.ids,
                        created=data.created)
    return buffer.getvalue()


def csv_bytes(data: ClassSet) -> bytes:
    """The set as CSV, one row per sample: id, student, label, created, then pixel0 to
    pixel783 as whole numbers 0-255 (row by row, like the usual MNIST CSV; rounded, so the
    ``.npz`` is the exact copy)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["id", "student", "label", "created"] + [f"pixel{i}" for i in range(SIDE * SIDE)])
    pixels = np.round(data.images.reshape(len(data), -1) * 255).astype(np.uint8)
    for i in range(len(data)):
        writer.writerow([int(data.ids[i]), data.students[i], data.labels[i], data.created[i], *pixels[i].tolist()])
    return text.getvalue().encode()


def export(grant: str | None, data: ClassSet | None = None) -> tuple[bytes, bytes]:
    """(npz, csv) bytes of the whole set (teacher only): ``data`` when the caller has just
    read it with ``load()``, else read here.

    Raises:
        core.queue.classroom.NotTeacher: without a teacher's grant.
    """
    classroom.require_teacher(grant)
    data = load() if data is None else data
    return npz_bytes(data), csv_bytes(data)
