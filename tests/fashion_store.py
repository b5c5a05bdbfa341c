"""A shipped store with the Fashion-MNIST networks in it, for the Inside and Overview tests.

Every entry of models_cache/ is linked in (read only). The Fashion-MNIST CNN and dense
64-64 (``core.config.FASHION``) are the shipped ones where models_cache/ has them; where
it does not, they are stand-ins: a copy of the MNIST network of the same layers under the
Fashion-MNIST settings, with their own made-up accuracies (``STAND_IN``), so the pages can
be tested before the real entries are built.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

from core import cache
from core.config import FASHION, default_config
from core.data import ROOT

SHIPPED = ROOT / "models_cache"
# Test accuracy, final validation accuracy and training seconds of the stand-ins.
STAND_IN = {"cnn": (0.9123, 0.9187, 321.0), "dense_64_64": (0.8712, 0.8801, 12.0)}


def make_store(root: Path, with_fashion: bool = True) -> Path:
    """Fill ``root`` (created) as described in the module docstring; ``with_fashion=False``
    leaves the Fashion-MNIST networks out. Returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    fashion_names = {f"{c.kind}-{c.key()}" for c in FASHION}
    for entry in SHIPPED.iterdir():
        if entry.is_dir() and not entry.name.startswith(".") and entry.name not in fashion_names:
            (root / entry.name).symlink_to(entry, target_is_directory=True)
    if not with_fashion:
        return root
    for config in FASHION:
        name = f"{config.kind}-{config.key()}"
        if (SHIPPED / name / "metrics.json").exists():
            (root / name).symlink_to(SHIPPED / name, target_is_directory=True)
            continue
        source = cache.entry_path(default_config(config.kind), SHIPPED)
        target = root / name
        shutil.copytree(source, target)
        metrics = json.loads((target / "metrics.json").read_text())
        history = json.loads((target / "history.json").read_text())
        test, validation, seconds = STAND_IN[config.kind]
        fields = asdict(config)
        fields["layers"] = list(fields["layers"])
        metrics.update(config=fields, key=config.key(), test_accuracy=test, training_seconds=seconds,
                       epochs=config.epochs)
        history["val_accuracy"] = history["val_accuracy"][:config.epochs - 1] + [validation]
        (target / "metrics.json").write_text(json.dumps(metrics))
        (target / "history.json").write_text(json.dumps(history))
    return root
