"""A damaged cache entry (a truncated model.keras or metrics.json) is skipped with a warning
that names it, on every page, never a traceback."""

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from core import cache
from core.config import default_config
from core.data import ROOT

PAGES = ["pages/overview.py", "pages/train.py", "pages/regularization.py", "pages/denoising.py",
         "pages/latent.py", "pages/draw.py", "pages/inside.py", "pages/mistakes.py",
         "pages/compare.py"]


def truncate(path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """A copy of the shipped cache with dense_64_64's model.keras and CNN seed 1's
    metrics.json cut in half."""
    root = tmp_path_factory.mktemp("damaged") / "cache"
    shutil.copytree(ROOT / "models_cache", root, ignore=shutil.ignore_patterns(".*"))
    dense = root / f"dense_64_64-{default_config('dense_64_64').key()}"
    cnn = root / f"cnn-{default_config('cnn', seed=1).key()}"
    truncate(dense / "model.keras")
    truncate(cnn / "metrics.json")
    return root, dense.name, cnn.name


def test_problems_name_each_damaged_entry(damaged):
    root, dense, cnn = damaged
    found = cache.problems(root)
    assert len(found) == 2
    assert any(dense in p and "model.keras" in p for p in found)
    assert any(cnn in p and "metrics.json" in p for p in found)
    assert all("\n" not in p and "Traceback" not in p for p in found)


def test_listing_skips_and_loading_says_which(damaged, monkeypatch):
    root, dense, cnn = damaged
    monkeypatch.setenv("DIGITLAB_CACHE", str(root))
    names = {f"{m['kind']}-{m['key']}" for m in cache.list_models()}
    assert dense not in names and cnn not in names and len(names) == len(list(root.glob("*/model.keras"))) - 2
    with pytest.raises(cache.CorruptEntryError, match=dense):
        cache.load(default_config("dense_64_64"))
    with pytest.raises(cache.CorruptEntryError, match=cnn):
        cache.load_records(default_config("cnn", seed=1))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_warns_and_shows_no_traceback(damaged, monkeypatch, queue_env, page):
    root, dense, cnn = damaged
    monkeypatch.setenv("DIGITLAB_CACHE", str(root))
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning]
    assert any(dense in w for w in warnings) and any(cnn in w for w in warnings), warnings
