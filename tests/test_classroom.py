"""benchmarks/classroom.py's pieces that need no browser: the uploads, the epochs each
training student asks for, the verdicts and the report."""

import importlib.util
import io

import pytest
from PIL import Image

from core.paths import ROOT


@pytest.fixture(scope="module")
def classroom():
    spec = importlib.util.spec_from_file_location("classroom", ROOT / "benchmarks" / "classroom.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_uploads_are_dark_digits_on_white(classroom):
    pngs = classroom.digit_pngs(3, seed=0)
    assert len(set(pngs)) == 3
    image = Image.open(io.BytesIO(pngs[0]))
    assert image.size == (200, 200)
    assert image.getpixel((0, 0)) == 255  # paper in the corner


def test_every_training_is_a_new_job(classroom):
    epochs = classroom.training_epochs(students=12, trainings=11)
    asked = [e for e in epochs if e is not None]
    assert len(asked) == len(set(asked)) == 11
    assert classroom.SHIPPED_EPOCHS not in asked
    assert epochs[-1] is None


def test_verdicts_follow_the_targets(classroom):
    record = classroom.Record()
    record.ms["slider move"] = [100.0] * 19 + [5000.0] * 2  # p95 over 1500 ms
    record.ms["stroke to prediction"] = [800.0] * 10
    record.ms["overview"] = [900.0]
    record.boxes["overview"] = 1
    rows = {r["interaction"]: r for r in classroom.interaction_rows(record)}
    assert rows["slider move"]["passed"] is False
    assert rows["stroke to prediction"]["passed"] is True
    assert rows["overview"]["passed"] is False  # an exception box
    assert rows["upload"]["passed"] is None  # nothing measured, no target on time
