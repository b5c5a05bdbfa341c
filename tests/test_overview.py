"""The Overview's side-by-side of MNIST and Fashion-MNIST: core.analysis.overview and the page in AppTest."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.analysis import overview
from core.config import FASHION, default_config
from core.paths import ROOT
from core.store import cache
from tests.fashion_store import make_store


@pytest.fixture(scope="module")
def fashion_root(tmp_path_factory):
    return make_store(tmp_path_factory.mktemp("fashion") / "cache")


def test_numbers_are_the_entries_own(fashion_root):
    rows = overview.side_by_side(fashion_root)
    assert [row["network"] for row in rows] == ["CNN", "Dense 64-64"]
    for row, mnist, fashion in zip(rows, (default_config("cnn"), default_config("dense_64_64")), FASHION):
        for dataset, config in (("mnist", mnist), ("fashion_mnist", fashion)):
            entry = cache.entry_path(config, fashion_root)
            metrics = json.loads((entry / "metrics.json").read_text())
            history = json.loads((entry / "history.json").read_text())
            assert row[dataset]["test_accuracy"] == metrics["test_accuracy"]
            assert row[dataset]["validation_accuracy"] == history["val_accuracy"][-1]
            assert row[dataset]["training_seconds"] == metrics["training_seconds"]
    assert rows[0]["mnist"]["augment"] and rows[0]["fashion_mnist"]["augment"] == FASHION[0].augment


def test_a_missing_or_damaged_entry_reads_as_none(tmp_path):
    root = make_store(tmp_path / "cache", with_fashion=False)
    assert all(row["fashion_mnist"] is None and row["mnist"] for row in overview.side_by_side(root))
    broken = make_store(tmp_path / "broken")
    name = f"{FASHION[0].kind}-{FASHION[0].key()}"
    if (broken / name).is_symlink():  # the shipped entry: damage a copy, never models_cache/
        import shutil

        target = (broken / name).resolve()
        (broken / name).unlink()
        shutil.copytree(target, broken / name)
    (broken / name / "metrics.json").write_text("{")
    assert overview.side_by_side(broken)[0]["fashion_mnist"] is None
    with pytest.raises(ValueError):
        overview.configs("vae")


def test_samples_are_one_test_image_per_class():
    from core.data import registry as datasets

    images, names = overview.samples("fashion_mnist")
    assert images.shape == (10, 28, 28) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    assert names[0] == "T-shirt/top" and names[9] == "Ankle boot"
    x, y = datasets.load("fashion_mnist").splits()[2]
    np.testing.assert_allclose(images[9], x[np.flatnonzero(y == 9)[0]], atol=1e-6)
    digits, labels = overview.samples("mnist", classes=[3, 1])
    assert labels == ["3", "1"] and digits.shape == (2, 28, 28)
    with pytest.raises(ValueError):
        overview.samples("cifar10")
    with pytest.raises(ValueError):
        overview.samples("mnist", classes=[10])


def test_samples_say_when_fashion_mnist_is_missing(tmp_path, monkeypatch):
    from core.data.images import DataUnavailableError

    monkeypatch.setenv("DIGITLAB_FASHION_MNIST", str(tmp_path))
    with pytest.raises(DataUnavailableError, match="apt-get install dataset-fashion-mnist"):
        overview.samples("fashion_mnist")


def _overview(monkeypatch, root) -> AppTest:
    monkeypatch.setenv("DIGITLAB_CACHE", str(root))
    at = AppTest.from_file("../pages/overview.py", default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_sets_both_data_sets_side_by_side(fashion_root, monkeypatch):
    at = _overview(monkeypatch, fashion_root)
    assert any(s.value == "The same network, a harder data set" for s in at.subheader)
    rows = overview.side_by_side(fashion_root)
    tables = [t.value for t in at.table][:2]  # MNIST's, then Fashion-MNIST's
    for table, dataset in zip(tables, overview.SIDE_BY_SIDE):
        assert list(table.index) == ["CNN", "Dense 64-64"]
        assert list(table["test accuracy"]) == [f"{row[dataset]['test_accuracy']:.2%}" for row in rows]
        assert list(table["validation accuracy"]) == [f"{row[dataset]['validation_accuracy']:.2%}"
                                                      for row in rows]
    images = [image.caption for element in at.get("image") for image in element.proto.imgs]
    assert images[:10] == [str(d) for d in range(10)] and "Ankle boot" in images[10:20]
    text = " ".join(m.value for m in at.markdown)
    assert f"**{rows[0]['fashion_mnist']['test_accuracy']:.2%}** of the test clothes" in text
    # The cached models name their data set; entry names stay under "Where this came from".
    models = at.dataframe[0].value
    assert set(models["data set"]) >= {"MNIST", "Fashion-MNIST"}
    assert not any("fashion_mnist" in name or "-" + FASHION[0].key() in name for name in models["model"])
    custom = models[models["model"] == "Your own network"]
    # What sets a run apart, your own network's layers included, is named beside its model.
    assert any(run.startswith("Dense 500 · Dense 300") for run in custom["run"]) or custom.empty
    assert len(set(models[models["model"] == "Dense 500-300"]["run"])) == (models["model"] == "Dense 500-300").sum()
    assert {"dense_64_64", "cnn", "vae"} <= set(at.dataframe[1].value["kind"])


def test_page_says_one_sentence_without_the_fashion_networks(tmp_path, monkeypatch):
    at = _overview(monkeypatch, make_store(tmp_path / "cache", with_fashion=False))
    assert any("trained on Fashion-MNIST are not among" in i.value for i in at.info)
    assert len(at.table) == 1  # only the benchmark's


def test_page_says_one_sentence_without_fashion_mnist(fashion_root, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_FASHION_MNIST", str(tmp_path))
    at = _overview(monkeypatch, fashion_root)
    assert any("Fashion-MNIST is not installed" in i.value for i in at.info)


def test_caption_says_which_cnn_trained_on_altered_copies(fashion_root, monkeypatch):
    at = _overview(monkeypatch, fashion_root)
    text = " ".join(c.value for c in at.caption)
    rows = overview.side_by_side(fashion_root)
    if rows[0]["fashion_mnist"]["augment"]:
        assert "clothes mirrored left to right and shifted" in text
    else:
        assert "only on digits does the CNN train on distorted copies" in text


def test_the_landing_page_leads_with_five_measured_numbers():
    rows = cache.read_json(ROOT / "benchmarks" / "results.json")["rows"]
    found = overview.headlines(rows)
    assert [label for label, _, _ in found] == [label for label, _, _ in overview.HEADLINES]
    assert all(row["value"] is not None for _, _, row in found)
    assert overview.headlines([]) == []
