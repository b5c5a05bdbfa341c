"""Where a lesson's number comes from: a value in one of the lab's committed JSON results
(``models_cache/*/metrics.json``, an experiment's ``results.json``,
``benchmarks/results.json``), so that a lesson quotes the lab's real numbers and a
retrained cache that changes one is caught when the lesson is loaded.

A key is a dotted path into the JSON: ``param_count``, ``summary[l2=0.0].test_accuracy_mean``
(in a list, the first item whose field equals the value, compared as numbers where both
read as numbers), ``rows[what=CNN seed 0, test accuracy].value`` or ``rows.3.value`` (an
index).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from pathlib import Path

from core.paths import ROOT

# One part of a key: a name, optionally followed by [field=value].
_PART = re.compile(r"([A-Za-z0-9_]+)(?:\[([A-Za-z0-9_]+)=([^\]]*)\])?")


class SourceError(ValueError):
    """A source that cannot be read; the message is a phrase (no final full stop)."""


def _same(item, wanted: str) -> bool:
    try:
        return not isinstance(item, bool) and math.isclose(float(item), float(wanted))
    except (TypeError, ValueError):
        return str(item) == wanted


def _split(key: str) -> list[str]:
    # Split on dots outside brackets (a value such as noise_level=0.5 keeps its dot).
    parts, depth, current = [], 0, ""
    for char in key:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return parts + [current]


def read_value(file: str, key: str, root: Path = ROOT) -> float:
    """The number at ``key`` in the JSON file ``file`` (a path relative to ``root``, the
    project's folder by default), as a float.

    Raises:
        SourceError: if the path leaves ``root``, the file is missing or not JSON, the key
            names nothing, or the value there is not a number.
    """
    path = (root / file).resolve()
    if not path.is_relative_to(root.resolve()) or path.suffix != ".json":
        raise SourceError(f"{file} is not a JSON file of the lab")
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SourceError(f"{file} cannot be read ({type(exc).__name__})") from exc
    for part in _split(key):
        found = _PART.fullmatch(part)
        if not found:
            raise SourceError(f"{key!r} is not a key this lab reads (such as summary[l2=0.0].test_accuracy_mean)")
        name, field, wanted = found.groups()
        if isinstance(value, list) and name.isdigit() and int(name) < len(value):
            value = value[int(name)]
        elif isinstance(value, dict) and name in value:
            value = value[name]
        else:
            raise SourceError(f"{file} has nothing at {key!r}")
        if field is not None:
            matches = [item for item in value if isinstance(item, dict) and _same(item.get(field), wanted)] \
                if isinstance(value, list) else []
            if not matches:
                raise SourceError(f"{file} has no {name} item with {field} = {wanted}")
            value = matches[0]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SourceError(f"{file} has no number at {key!r}")
    return float(value)


def shown(value: float, percent: bool) -> float:
    """A source's value as a lesson quotes it: times 100 where the lesson gives it in
    percent (the lab stores accuracies as fractions)."""
    return value * 100 if percent else value


def agrees(quoted: float, value: float) -> bool:
    """Whether ``quoted`` is ``value`` rounded to the decimals it is written with (97.93
    for 97.9300022; 98.53 for 98.5333; 55050 for 55050): within half its last digit."""
    places = -Decimal(repr(float(quoted))).normalize().as_tuple().exponent
    half = 0.5 * 10 ** -max(places, 0)
    return abs(quoted - value) <= half + 1e-9
