"""A damaged cache entry (a truncated model.keras or metrics.json) is skipped with a warning
that names it, on every page, never a traceback."""

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from core.config import default_config
from core.paths import ROOT
from core.store import cache

PAGES = ["pages/overview.py", "pages/train.py", "pages/regularization.py", "pages/denoising.py",
         "pages/latent.py", "pages/draw.py", "pages/collect.py", "pages/class_models.py", "pages/inside.py",
         "pages/mistakes.py", "pages/compare.py"]


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


# A damaged entry of the runs store (trained here) -------------------------------------------

# The fastest settings the Train page's widgets make: the dense 64-64, 1 epoch, a quick look.
FAST = default_config("dense_64_64", epochs=1, train_size=10_000)


def train_page(settings_epochs: int = 1) -> AppTest:
    """The Train page alone (AppTest loses a click after switch_page) on ``FAST``, as Ada."""
    at = AppTest.from_file("../pages/train.py", default_timeout=120)
    at.session_state["student"] = "Ada"
    at.run()
    at.selectbox(key="train-kind").set_value("dense_64_64").run()
    at.number_input(key="dense_64_64-epochs").set_value(settings_epochs).run()
    at.checkbox(key="dense_64_64-quick_look").check().run()
    return at


def damage(entry, part: str) -> None:
    if part == "metrics.json":
        (entry / "metrics.json").write_text('{"kind": "dense_64_64", "val')  # edited by hand, cut short
    else:
        truncate(entry / "model.keras")


@pytest.fixture
def trained_here(queue_env):
    """``FAST``'s entry in the runs store (the shipped dense 64-64's files under its name);
    no job in Redis, as after RESULT_TTL."""
    entry = cache.entry_path(FAST, queue_env)
    shutil.copytree(ROOT / "models_cache" / f"dense_64_64-{default_config('dense_64_64').key()}", entry)
    return entry


def test_a_whole_entry_trained_here_shows_at_once(trained_here):
    at = train_page()
    assert not at.exception
    assert any("trained here" in s.value for s in at.success)
    assert "Train" not in [b.label for b in at.main.button]


@pytest.mark.parametrize("part", ["metrics.json", "model.keras"])
def test_a_damaged_entry_trained_here_offers_train_again(trained_here, part):
    damage(trained_here, part)
    at = train_page()
    assert not at.exception, [e.value for e in at.exception]
    assert "The stored result for these settings is damaged; train it again to replace it." in [
        w.value for w in at.warning]
    assert not any("trained here" in s.value for s in at.success)
    assert [b.label for b in at.main.button] == ["Train"]


def test_training_a_damaged_entry_again_replaces_it(trained_here, worker, queue_env):
    from core.queue import jobs

    damage(trained_here, "model.keras")
    at = train_page()
    next(b for b in at.main.button if b.label == "Train").click().run()
    assert not at.exception and jobs.status(jobs.job_id(FAST))["state"] in ("queued", "running")
    assert jobs.wait(jobs.job_id(FAST), 240)["state"] == "done"
    at.run()  # the page collects the result: the damaged copy is replaced, atomically
    assert not at.exception
    assert any("trained here" in s.value for s in at.success)
    history, metrics = cache.check_entry(trained_here)
    assert metrics["key"] == FAST.key() and metrics["config"]["train_size"] == 10_000 and len(history["loss"]) == 1
    assert cache.trained_by(trained_here) == "Ada"
    assert not [p for p in queue_env.iterdir() if p.name.startswith(".")]
