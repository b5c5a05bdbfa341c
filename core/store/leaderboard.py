"""The class leaderboard: the runs trained on this server, best validation accuracy first."""

from __future__ import annotations

import math
from pathlib import Path

from core.config import CLASSIFIERS, entry_name
from core.store import cache

# Ten classes: guessing scores 10%. A classifier whose validation accuracy stays below
# twice that learned next to nothing; with the lab's recipes that means it diverged.
CHANCE_ACCURACY = 0.10
DIVERGED_BELOW = 2 * CHANCE_ACCURACY


def diverged(history: dict) -> bool:
    """Whether a run diverged: a loss that became NaN or infinite, or (classifiers) a final
    validation accuracy below ``DIVERGED_BELOW`` (near chance, 10% for ten digits)."""
    losses = history.get("loss", []) + history.get("val_loss", [])
    if any(not math.isfinite(v) for v in losses):
        return True
    val = history.get("val_accuracy")
    return bool(val) and val[-1] < DIVERGED_BELOW


def leaderboard(root: Path | None = None) -> list[dict]:
    """The classifiers of a store (default: the runs store), best final validation
    accuracy first: {"entry", "kind", "config", "val_accuracy", "test_accuracy",
    "param_count", "training_seconds", "created", "diverged", "student" (who trained it,
    "" when not recorded)}. The ranking uses validation
    accuracy only; test accuracy is shown beside it, as measured once after training."""
    rows = []
    for m in cache.list_models(root or cache.runs_dir()):
        if m["kind"] not in CLASSIFIERS:
            continue
        history = m["history"]
        rows.append({"entry": entry_name(m["kind"], m["key"]), "kind": m["kind"], "config": m["config"],
                     "val_accuracy": history["val_accuracy"][-1], "test_accuracy": m.get("test_accuracy"),
                     "param_count": m["param_count"], "training_seconds": m["training_seconds"],
                     "created": m.get("created", ""), "diverged": diverged(history),
                     "student": m.get("student", "")})
    return sorted(rows, key=lambda r: (-r["val_accuracy"] if math.isfinite(r["val_accuracy"]) else 1.0))
