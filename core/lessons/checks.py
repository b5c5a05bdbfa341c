"""Judging a student's answer to a lesson's step (``core.lessons.files.Answer``): a number
within its tolerance, one of a few choices, or free text that is kept for the teacher.

Plain Python: no Streamlit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from core.lessons.files import Answer

# The longest answer kept, in characters (the database's column takes any length).
MAX_ANSWER = 2000
# A number as a student types it: "55050", "55,050", "55 050", "97.9", "97.9 %", "-0.5", "1e-6".
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


class NotAnAnswer(ValueError):
    """An answer that cannot be judged (empty, not a number where one is asked, not one of
    the choices); the message is one sentence for the student."""


@dataclass(frozen=True)
class Verdict:
    """A judged answer: ``correct`` (None for free text, which the teacher reads), the
    answer as typed (``answer``, at most 2,000 characters) and as it is counted among the
    class's answers (``counted_as``: "55050" for "55,050", the choice, or the text)."""

    correct: bool | None
    answer: str
    counted_as: str


def read_number(text: str, unit: str = "") -> float:
    """The number in ``text`` as a student types it: thousands separated by commas, spaces
    or underscores ("55,050"), a decimal point, an optional "%" or the step's ``unit``
    word after it ("55050 parameters").

    Raises:
        NotAnAnswer: if it is not one finite number so written.
    """
    cleaned = text.strip()
    for tail in ("%", unit):
        if tail and cleaned.lower().endswith(tail.lower()):
            cleaned = cleaned[: -len(tail)].strip()
    if re.fullmatch(r"[-+]?\d{1,3}([, _\u202f\u00a0]\d{3})+(\.\d*)?", cleaned):
        cleaned = re.sub(r"[, _\u202f\u00a0]", "", cleaned)
    if not _NUMBER.fullmatch(cleaned) or not math.isfinite(float(cleaned)):
        example = "97.9" if unit == "%" else "55050 or 0.5"
        raise NotAnAnswer(f"That is not a number: write it with digits, such as {example}.")
    return float(cleaned)


def counted(value: float) -> str:
    """A number as the class's answers are counted: "55050", "97.9", "1e-06"."""
    return f"{value:.10g}"


def judge(answer: Answer, text: str) -> Verdict:
    """Judge ``text`` against ``answer``: a number is right within ``answer.tolerance`` of
    ``answer.number`` (both ends included); a choice is right when it is ``answer.correct``;
    free text is kept with ``correct`` None.

    Raises:
        NotAnAnswer: one sentence, for an empty answer, text that is not a number where a
            number is asked, or a choice that is not one of the step's.
    """
    typed = (text or "").strip()[:MAX_ANSWER]
    if not typed:
        raise NotAnAnswer("The answer is empty: write one first.")
    if answer.kind == "number":
        value = read_number(typed, answer.unit)
        return Verdict(abs(value - answer.number) <= answer.tolerance + 1e-9, typed, counted(value))
    if answer.kind == "choice":
        if typed not in answer.choices:
            raise NotAnAnswer("Choose one of the answers offered.")
        return Verdict(typed == answer.correct, typed, typed)
    return Verdict(None, typed, " ".join(typed.split())[:200])


def expected(answer: Answer) -> str:
    """The right answer in words, for the teacher's view and a test: "55050 ± 0", "b", or
    "free text"."""
    if answer.kind == "number":
        unit = f" {answer.unit}" if answer.unit and answer.unit != "%" else answer.unit
        return f"{answer.number:g}{unit} ± {answer.tolerance:g}"
    return answer.correct if answer.kind == "choice" else "free text"
