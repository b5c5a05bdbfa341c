"""Lesson files: one YAML file per lesson in the ``lessons/`` folder (or
``$DIGITLAB_LESSONS``), read with PyYAML's safe loader and checked before any student sees
it. A broken file is named with its line in one sentence and skipped; the others load.

A lesson file::

    title: The 64-64 network            # 1-120 characters
    summary: What a small dense network does with a digit.   # optional, 1-500
    steps:                               # 1-20 steps
      - question: How many parameters does the 64-64 network have?
        link: /train?kind=dense_64_64    # a page of the lab with settings it takes
        look: The model summary at the foot of the page, its last line.
        answer:                          # exactly one of number, choices, text
          number: 55050
          tolerance: 0                   # required with number (same unit)
          unit: parameters               # optional; "%" for a percentage
          from_file: models_cache/dense_64_64-28f91602434d/metrics.json   # optional, with from_key
          from_key: param_count
        explain: 784 x 64 + 64 + 64 x 64 + 64 + 64 x 10 + 10 = 55,050 weights and biases.
        source: the cached model's metrics.json   # optional; where a quoted number is from

A choice answer is ``choices: [a, b, c]`` (2 to 6, different) with ``correct: b``; a free
answer is ``text:`` with what a good answer mentions (shown after answering; the teacher
reads the answers). ``from_file``/``from_key`` name the committed result a number is taken
from (``core.lessons.sources``): the file is refused when the number no longer agrees.

Plain Python: no Streamlit.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.lessons import sources
from core.paths import ROOT
from core.present.links import LESSON_NAME as NAME, MAX_LESSON_STEPS as MAX_STEPS, check_link

LESSONS_ENV_VAR = "DIGITLAB_LESSONS"
MAX_FILE_BYTES = 100_000
MAX_CHOICES = 6
# The longest text each field takes, in characters.
LIMITS = {"title": 120, "summary": 500, "question": 500, "look": 800, "explain": 800, "source": 300, "text": 800,
          "unit": 20, "correct": 200}
LESSON_FIELDS = ("title", "summary", "steps")
STEP_FIELDS = ("question", "link", "look", "answer", "explain", "source")
ANSWER_FIELDS = ("number", "tolerance", "unit", "from_file", "from_key", "choices", "correct", "text")


@dataclass(frozen=True)
class Answer:
    """How a step's answer is judged.

    Attributes:
        kind: "number" (``number`` within ± ``tolerance``, in ``unit``), "choice" (one of
            ``choices``; ``correct`` is right) or "text" (free text the teacher reads;
            ``text`` says what a good answer mentions).
        number, tolerance: the expected value and how far from it is still right (>= 0).
        unit: "%" for a percentage, else a word shown after the box ("parameters"), or "".
        choices, correct: the options in the file's order, and the right one.
        text: for a free answer, what a good one mentions.
        from_file, from_key: the committed JSON result the number is read from
            (``core.lessons.sources.read_value``), or "" when it is not from one.
    """

    kind: str
    number: float | None = None
    tolerance: float | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()
    correct: str = ""
    text: str = ""
    from_file: str = ""
    from_key: str = ""


@dataclass(frozen=True)
class Step:
    """One step: ``number`` from 1, the question, the ``link`` that opens its page, what
    to ``look`` at, its ``answer``, the ``explain`` sentences shown after an answer and
    their ``source`` ("" if none is quoted); ``line``: its line in the file."""

    number: int
    question: str
    link: str
    look: str
    answer: Answer
    explain: str
    source: str
    line: int


@dataclass(frozen=True)
class Lesson:
    """A lesson: ``name`` (its file's name without .yaml), ``title``, ``summary`` ("" if
    none), its ``steps`` in order and the file it came from."""

    name: str
    title: str
    summary: str
    steps: tuple[Step, ...]
    path: Path

    def step(self, number: int) -> Step:
        """Step ``number`` (from 1); IndexError if the lesson has no such step."""
        if not 1 <= number <= len(self.steps):
            raise IndexError(f"{self.name} has no step {number}")
        return self.steps[number - 1]


class LessonError(ValueError):
    """A lesson file that cannot be used; the message is one sentence naming the file and
    its line."""


# ---------------------------------------------------------------------------------------
# YAML with lines: mappings and lists remember the line of each key and item

class _Marked(dict):
    line = 0
    lines: dict


class _MarkedList(list):
    line = 0
    lines: list


class _Duplicate(Exception):
    def __init__(self, key, line):
        super().__init__(key)
        self.key, self.line = key, line


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader, node):
    loader.flatten_mapping(node)
    result = _Marked()
    result.line, result.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise _Duplicate(key, key_node.start_mark.line + 1)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader, node):
    result = _MarkedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line, result.lines = node.start_mark.line + 1, [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


# ---------------------------------------------------------------------------------------
# Reading one file

def lessons_dir() -> Path:
    """The folder of lesson files: ``$DIGITLAB_LESSONS`` if set, else ``lessons/`` in the project."""
    return Path(os.environ.get(LESSONS_ENV_VAR) or ROOT / "lessons")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT.resolve()))
    except ValueError:
        return f"{path.parent.name}/{path.name}"


class _Reader:
    """Checks one parsed file; ``fail`` raises LessonError with the file and a line."""

    def __init__(self, path: Path, stores):
        self.path, self.stores = path, stores

    def fail(self, line: int, what: str):
        raise LessonError(f"The lesson file {_shown(self.path)} is skipped: line {line}: {what}.")

    def text(self, mapping: _Marked, key: str, where: str, required: bool = True) -> str:
        line = mapping.lines.get(key, mapping.line)
        if key not in mapping:
            if required:
                self.fail(mapping.line, f"{where} has no {key}")
            return ""
        value = mapping[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.fail(line, f"{where}'s {key} must be a text (put it in quotes if it reads as yes, no or a list)")
        value = value.strip()
        limit = LIMITS.get(key, 2000)
        if len(value) > limit:
            self.fail(line, f"{where}'s {key} is longer than {limit} characters")
        return value

    def fields(self, mapping, allowed: tuple[str, ...], where: str) -> None:
        if not isinstance(mapping, _Marked):
            self.fail(getattr(mapping, "line", 1), f"{where} must be a list of fields (name: value)")
        for key in mapping:
            if key not in allowed:
                self.fail(mapping.lines[key], f"{where} has no field named {key[:40]!r} "
                                              f"(its fields: {', '.join(allowed)})")

    def number(self, mapping: _Marked, key: str, where: str) -> float:
        value = mapping[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.fail(mapping.lines[key], f"{where}'s {key} must be a number written plainly (55050 or 97.93)")
        return float(value)

    def answer(self, mapping, where: str) -> Answer:
        self.fields(mapping, ANSWER_FIELDS, where)
        kinds = [kind for kind in ("number", "choices", "text") if kind in mapping]
        if len(kinds) != 1:
            self.fail(mapping.line, f"{where} must have exactly one of number, choices or text")
        kind = kinds[0]
        others = {"number": ("tolerance", "unit", "from_file", "from_key"), "choices": ("correct",), "text": ()}[kind]
        for key in mapping:
            if key != kind and key not in others:
                self.fail(mapping.lines[key], f"{where} has {key}, which goes with another kind of answer")
        if kind == "text":
            return Answer("text", text=self.text(mapping, "text", where))
        if kind == "choices":
            return self.choices(mapping, where)
        if "tolerance" not in mapping:
            self.fail(mapping.lines["number"], f"{where} has a number but no tolerance")
        number, tolerance = self.number(mapping, "number", where), self.number(mapping, "tolerance", where)
        if tolerance < 0:
            self.fail(mapping.lines["tolerance"], f"{where}'s tolerance must be 0 or more")
        unit = self.text(mapping, "unit", where, required=False)
        from_file, from_key = (self.text(mapping, key, where, required=False) for key in ("from_file", "from_key"))
        if bool(from_file) != bool(from_key):
            self.fail(mapping.line, f"{where} needs from_file and from_key together")
        if from_file:
            try:
                value = sources.shown(sources.read_value(from_file, from_key), unit == "%")
            except sources.SourceError as exc:
                self.fail(mapping.lines["from_file"], f"{where}'s source cannot be read: {exc}")
            if not sources.agrees(number, value):
                self.fail(mapping.lines["number"], f"{where}'s number {number:g} does not agree with {from_file}, "
                                                   f"which says {value:.6g}")
        return Answer("number", number=number, tolerance=tolerance, unit=unit, from_file=from_file,
                      from_key=from_key)

    def choices(self, mapping: _Marked, where: str) -> Answer:
        options = mapping["choices"]
        line = mapping.lines["choices"]
        if not isinstance(options, list) or not 2 <= len(options) <= MAX_CHOICES:
            self.fail(line, f"{where}'s choices must be a list of 2 to {MAX_CHOICES}")
        texts = []
        for option in options:
            if isinstance(option, bool) or not isinstance(option, (str, int, float)) or not str(option).strip():
                self.fail(line, f"{where}'s choices must each be a short text (put yes or no in quotes)")
            texts.append(str(option).strip()[:LIMITS["correct"]])
        if len(set(texts)) != len(texts):
            self.fail(line, f"{where}'s choices must be different")
        if "correct" not in mapping:
            self.fail(line, f"{where} has choices but no correct one")
        correct = self.text(mapping, "correct", where)
        if correct not in texts:
            self.fail(mapping.lines["correct"], f"{where}'s correct answer {correct[:60]!r} is not one of its choices")
        return Answer("choice", choices=tuple(texts), correct=correct)

    def step(self, mapping, number: int, line: int) -> Step:
        where = f"step {number}"
        if not isinstance(mapping, _Marked):
            self.fail(line, f"{where} must be a list of fields (question: ..., link: ...)")
        self.fields(mapping, STEP_FIELDS, where)
        link = self.text(mapping, "link", where)
        problems = check_link(link, self.stores)
        if problems:
            self.fail(mapping.lines["link"], f"{where}'s link {link[:80]} cannot be used: "
                                             f"{problems[0].rstrip('.')}")
        if "answer" not in mapping:
            self.fail(mapping.line, f"{where} has no answer")
        return Step(number=number, question=self.text(mapping, "question", where), link=link,
                    look=self.text(mapping, "look", where),
                    answer=self.answer(mapping["answer"], f"{where}'s answer"),
                    explain=self.text(mapping, "explain", where), source=self.text(mapping, "source", where, False),
                    line=mapping.line)

    def lesson(self, document) -> Lesson:
        if not isinstance(document, _Marked):
            self.fail(getattr(document, "line", 1), "a lesson must be fields (title: ..., steps: ...)")
        self.fields(document, LESSON_FIELDS, "the lesson")
        title = self.text(document, "title", "the lesson")
        summary = self.text(document, "summary", "the lesson", required=False)
        steps = document.get("steps")
        if not isinstance(steps, _MarkedList) or not 1 <= len(steps) <= MAX_STEPS:
            self.fail(document.lines.get("steps", document.line), f"the lesson needs steps: a list of 1 to {MAX_STEPS}")
        return Lesson(name=self.path.stem, title=title, summary=summary, path=self.path,
                      steps=tuple(self.step(item, i + 1, steps.lines[i]) for i, item in enumerate(steps)))


def read_lesson(path: Path, stores: tuple[Path, ...] | None = None) -> Lesson:
    """The lesson in the YAML file ``path``, checked: every field known and of its kind,
    every link a page of the lab with settings it takes (``core.present.links.check_link``;
    ``stores`` as there: the folders a named model must be in, default the shipped cache
    and this server's runs), every number with its tolerance and every number read from a
    committed result agreeing with it, every choice answer with its choices.

    Raises:
        LessonError: one sentence naming the file and the line, for any problem (bad YAML,
            a file over 100 kB, a name other than lowercase letters, digits, - and _).
    """
    reader = _Reader(path, stores)
    if not NAME.fullmatch(path.stem):
        reader.fail(1, "its name must be lowercase letters, digits, - and _ (such as 01-dense-64-64.yaml)")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            reader.fail(1, f"it is larger than {MAX_FILE_BYTES // 1000} kB")
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except UnicodeDecodeError:
        reader.fail(1, "it is not UTF-8 text")
    except OSError as exc:
        reader.fail(1, f"it cannot be read ({type(exc).__name__})")
    except _Duplicate as exc:
        reader.fail(exc.line, f"{str(exc.key)[:40]!r} is given twice")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        hint = ("; a text with a colon and a space in it goes in quotes" if "mapping values" in str(exc.problem)
                else "")
        reader.fail(mark.line + 1 if mark else 1, f"it is not valid YAML ({exc.problem or exc.context}{hint})")
    except yaml.YAMLError as exc:
        reader.fail(1, f"it is not valid YAML ({type(exc).__name__})")
    return reader.lesson(document)


def load_lessons(folder: Path | None = None,
                 stores: tuple[Path, ...] | None = None) -> tuple[list[Lesson], list[str]]:
    """(lessons, problems): every ``*.yaml`` file of ``folder`` (default ``lessons_dir()``)
    that reads (``read_lesson``), in file-name order, and one sentence per file that does
    not. A missing folder is no lessons and one sentence. Never raises for a file's content."""
    folder = lessons_dir() if folder is None else Path(folder)
    if not folder.is_dir():
        return [], [f"There is no lessons folder at {folder}, so there are no lessons."]
    lessons, problems = [], []
    for path in sorted(folder.glob("*.yaml")):
        try:
            lessons.append(read_lesson(path, stores))
        except LessonError as exc:
            problems.append(str(exc))
    return lessons, problems
