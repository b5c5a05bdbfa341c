"""A copy of the shipped store, with or without the Fashion-MNIST networks, for the Inside
and Overview tests: every entry of models_cache/ is linked in (read only), the
Fashion-MNIST CNN and dense 64-64 (``core.config.FASHION``) left out on request, so the
pages' sentences for a missing network can be tested.
"""

from __future__ import annotations

from pathlib import Path

from core.config import FASHION
from core.paths import ROOT

SHIPPED = ROOT / "models_cache"


def make_store(root: Path, with_fashion: bool = True) -> Path:
    """Fill ``root`` (created) as described in the module docstring; ``with_fashion=False``
    leaves the Fashion-MNIST networks out. Returns ``root``.

    Raises:
        FileNotFoundError: if models_cache/ lacks a Fashion-MNIST network
            (``python -m core train fashion`` builds them).
    """
    root.mkdir(parents=True, exist_ok=True)
    fashion_names = {f"{c.kind}-{c.key()}" for c in FASHION}
    missing = [name for name in fashion_names if not (SHIPPED / name / "metrics.json").exists()]
    if missing:
        raise FileNotFoundError(f"models_cache/ lacks {missing}: python -m core train fashion")
    for entry in SHIPPED.iterdir():
        if entry.is_dir() and not entry.name.startswith(".") and (with_fashion or entry.name not in fashion_names):
            (root / entry.name).symlink_to(entry, target_is_directory=True)
    return root
