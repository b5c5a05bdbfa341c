"""The layout of core/ (README, "Layout"): a few top-level modules, the rest in folders that
say what they hold; and what a page imports before the warm-up loads without TensorFlow."""

import subprocess
import sys
from pathlib import Path

from core.paths import ROOT

# What the pages and the queue import before TensorFlow is needed: a visitor's first page
# must not wait for TensorFlow's import (7-12 s here), nor the web server carry it twice.
LIGHT = ("core.config", "core.targets", "core.paths", "core.machine", "core.vocabulary", "core.nets.layers", "core.data.registry", "core.data.images", "core.data.mnist",
         "core.data.fashion", "core.data.cifar", "core.data.noise", "core.present.glossary", "core.present.figures",
         "core.present.answers", "core.present.runs", "core.present.sprites", "core.present.payloads", "core.present.links", "core.present.keras_code", "core.store.cache", "core.store.leaderboard", "core.queue.jobs",
         "core.queue.classroom", "core.training.timing", "core.analysis.compare", "core.analysis.overview",
         "core.analysis.mistakes", "core.analysis.inside", "core.drawing.strokes", "core.drawing.preprocess",
         "core.drawing.upload", "pages.shared", "pages.identity", "pages.components.sketchpad", "pages.components.noise_slider",
         "pages.components.latent_explorer", "pages.components.confusion_matrix", "pages.components.copy_link", "core.classset.db",
         "core.classset.samples", "core.classset.evaluate", "core.classset.finetune", "core.classset.symbols",
         "core.drawing.templates", "core.lessons.files", "core.lessons.checks", "core.lessons.progress")
TOP_LEVEL = {"__init__.py", "__main__.py", "config.py", "targets.py", "bench.py", "paths.py", "vocabulary.py",
             "machine.py"}
FOLDERS = {"data", "nets", "training", "store", "queue", "analysis", "drawing", "present", "classset", "lessons"}


def test_what_a_page_imports_first_loads_without_tensorflow():
    code = ("import sys\n" + "".join(f"import {name}\n" for name in LIGHT)
            + "heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
            + "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"TensorFlow or Keras loaded by: {out.stdout.strip()}"


def test_core_is_a_few_modules_and_folders_that_say_what_they_hold():
    core = Path(ROOT) / "core"
    assert {p.name for p in core.glob("*.py")} == TOP_LEVEL
    assert {p.name for p in core.iterdir() if p.is_dir() and p.name != "__pycache__"} == FOLDERS
    for folder in FOLDERS:
        doc = (core / folder / "__init__.py").read_text()
        assert doc.startswith('"""') and len(doc) > 60, f"core/{folder}/__init__.py does not say what it holds"
