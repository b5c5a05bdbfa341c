"""The Train page's data set picker and "Your own network" in Streamlit's AppTest: presets
with their shapes and parameters, a list that cannot be built, the models each data set
offers, a shipped Fashion-MNIST entry shown at once, and a custom stack queued through a
real Redis (the ``queue_env`` fixture) with its layers, restored by "Show"."""

import json
from dataclasses import replace
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from core.config import CLASSIFIERS, DEFAULTS, FASHION
from core.nets import layers
from core.store import cache
from core.vocabulary import DATASET_TITLES

CNN_SHAPES = ["24 × 24 × 32", "12 × 12 × 32", "10 × 10 × 64", "8 × 8 × 64", "4 × 4 × 64", "4 × 4 × 64",
              "1024", "128", "128", "10"]


@pytest.fixture
def app(queue_env):
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.session_state["student"] = "Ada"  # the name the sidebar's form would have claimed
    at.run()
    at.switch_page("pages/train.py").run()
    return at


def summary(at):
    """The live layer table under the list: the data frame with a multiply-adds column."""
    return next(d.value for d in at.dataframe if "multiply-adds" in d.value.columns)


def own_network(at):
    at.selectbox(key="train-kind").set_value("custom").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def seed(at, value: int):
    next(n for n in at.number_input if n.label == "Seed").set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]


def test_own_network_opens_with_the_courses_64_64_and_its_sizes(app):
    own_network(app)
    table = summary(app)
    assert list(table["output shape"]) == ["784", "64", "64", "10"]
    assert table["parameters"].sum() == 55_050
    assert any("55,050 parameters" in m.value and "54,912 multiply-adds" in m.value for m in app.markdown)
    # The 64-64 preset is shipped (the course's comparison): shown at once, no Train button.
    assert any("shipped with the lab" in s.value for s in app.success)
    assert "Train" not in [b.label for b in app.button]
    seed(app, 1)
    assert any("Not trained yet" in i.value and "your own network" in i.value for i in app.info)
    assert [b.label for b in app.main.button] == ["Train"]


def test_choosing_a_preset_shows_its_shapes_and_parameters(app):
    own_network(app)
    app.selectbox(key="custom-preset").set_value("The lab's CNN").run()
    assert not app.exception
    table = summary(app)
    assert list(table["output shape"]) == CNN_SHAPES
    assert table["parameters"].sum() == 188_746
    # Numbered as the error sentences number layers; the Flatten and the output layer are marked "lab".
    assert list(table["#"]) == ["1", "2", "3", "4", "5", "6", "lab", "7", "8", "lab"]
    assert any("188,746 parameters" in m.value and "4.8 million multiply-adds" in m.value for m in app.markdown)
    assert any("The lab's CNN" in c.value for c in app.caption)
    # The picker clears itself, so the same preset can be loaded again after edits.
    assert app.selectbox(key="custom-preset").value is None
    # The list the editor shows is the preset's.
    editor = next(d.value for d in app.dataframe if "kernel" in d.value.columns)
    assert layers.from_rows(editor.astype(object).to_dict("records")) == layers.PRESETS["The lab's CNN"]


def test_a_list_that_cannot_be_built_shows_one_sentence_and_no_train_button(app):
    own_network(app)
    # As if edited in the table: the page keeps the list in the session (a new version of the editor).
    app.session_state["custom-rows"] = layers.to_rows((("conv2d", 8, 3, "relu"),) + (("maxpool",),) * 5)
    app.session_state["custom-version"] = 7
    app.run()
    assert not app.exception
    assert [e.value for e in app.error] == ["Layer 6, MaxPooling 2x2, cannot pool a 1x1 map: remove it, or a "
                                            "convolution or pooling layer before it."]
    assert "Train" not in [b.label for b in app.button]
    assert not [d for d in app.dataframe if "multiply-adds" in d.value.columns]
    # The rest of the page stays: the settings and the server's job list.
    assert app.number_input(key="custom-epochs").value == DEFAULTS["custom"].epochs
    assert "Jobs on this server" in [h.value for h in app.subheader]
    # A row left without a cell its type needs: its own sentence.
    app.session_state["custom-rows"] = [{"layer": "dense", "units or filters": None, "activation": "relu"}]
    app.session_state["custom-version"] = 8
    app.run()
    assert [e.value for e in app.error] == ["Layer 1, Dense, needs its number of units: fill in the empty cell."]
    assert "Train" not in [b.label for b in app.button]


def test_fashion_mnist_offers_only_classifiers_without_digit_distortions(app):
    app.radio(key="train-dataset").set_value("fashion_mnist").run()
    assert not app.exception
    model = app.selectbox(key="train-kind")
    assert tuple(model.options) == tuple(model.format_func(k) for k in CLASSIFIERS)
    assert "Distort the training digits" not in [c.label for c in app.checkbox]
    assert "Mirror and shift the training images" in [c.label for c in app.checkbox]
    # Each (data set, model) pair opens with its own recipe: the CNN the shipped Fashion-MNIST one.
    model.set_value("cnn").run()
    assert app.number_input(key="fashion_mnist-cnn-epochs").value == FASHION[0].epochs
    # Shipped: its entry is in models_cache/, so it shows at once.
    assert cache.is_cached(FASHION[0]) and any("shipped with the lab" in s.value for s in app.success)
    # Back on MNIST, every model again, with the distortions checkbox for classifiers.
    app.radio(key="train-dataset").set_value("mnist").run()
    assert len(app.selectbox(key="train-kind").options) == len(DEFAULTS)
    assert "Distort the training digits" in [c.label for c in app.checkbox]


def test_cifar10_is_offered_only_where_the_server_has_it(app):
    from core.data import registry as datasets

    assert "cifar10" in datasets.DATASETS
    options = app.radio(key="train-dataset").options
    assert (DATASET_TITLES["cifar10"] in options) == datasets.available("cifar10")
    # Explained beside the picker either way (AppTest reads an expander with an icon as a status block).
    assert any(e.label == "What is CIFAR-10?" for e in app.status)


def test_a_shipped_fashion_mnist_entry_shows_at_once(queue_env, tmp_path, monkeypatch):
    # A stand-in shipped cache holding the Fashion-MNIST 64-64 entry (the real one lands in models_cache/).
    config = FASHION[1]
    source = cache.entry_path(DEFAULTS["dense_64_64"])
    target = tmp_path / "shipped" / f"{config.kind}-{config.key()}"
    shutil.copytree(source, target)
    metrics = json.loads((target / "metrics.json").read_text())
    metrics["config"]["dataset"] = "fashion_mnist"
    (target / "metrics.json").write_text(json.dumps(metrics))
    monkeypatch.setenv("DIGITLAB_CACHE", str(tmp_path / "shipped"))
    at = AppTest.from_file("../pages/train.py", default_timeout=120)
    at.run()
    at.radio(key="train-dataset").set_value("fashion_mnist").run()
    assert not at.exception
    # The quick CNN is offered first, for a class; the 64-64 is one choice away.
    assert at.selectbox(key="train-kind").value == "quick_cnn"
    at.selectbox(key="train-kind").set_value("dense_64_64").run()
    assert any("shipped with the lab" in s.value for s in at.success)
    assert "Train" not in [b.label for b in at.button]


def test_a_custom_stack_is_queued_with_its_layers_and_show_restores_them(queue_env):
    from core.queue import jobs

    # The page alone: AppTest loses a button's click after switch_page in a multipage app.
    at = AppTest.from_file("../pages/train.py", default_timeout=120)
    at.session_state["student"] = "Ada"
    at.run()
    own_network(at)
    at.selectbox(key="custom-preset").set_value("Dense 500-300 with dropout 0.35").run()
    at.number_input(key="custom-epochs").set_value(2).run()
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Queued by you" in i.value for i in at.info)
    assert jobs.queued_count() == 1
    job = [j for q in jobs.queues() for j in q.get_jobs()][0]
    fields = job.meta["config"]
    assert fields["kind"] == "custom" and fields["epochs"] == 2 and fields["dataset"] == "mnist"
    assert layers.normalize(fields["layers"]) == layers.PRESETS["Dense 500-300 with dropout 0.35"]
    # The job list names it in words, with its layers.
    assert any("Your own network (Dense 500 · dropout 0.35 · Dense 300 · dropout 0.35)" in m.value
               for m in at.markdown)
    # Another student on another model presses "Show": the data set, model, layers and epochs come back.
    other = AppTest.from_file("../pages/train.py", default_timeout=120)
    other.run()
    other.radio(key="train-dataset").set_value("fashion_mnist").run()
    next(b for b in other.button if b.label == "Show").click().run()
    other.run()
    assert not other.exception, [e.value for e in other.exception]
    assert other.radio(key="train-dataset").value == "mnist"
    assert other.selectbox(key="train-kind").value == "custom"
    assert other.number_input(key="custom-epochs").value == 2
    assert list(summary(other)["output shape"]) == ["784", "500", "500", "300", "300", "10"]
    assert any("Queued by Ada" in i.value for i in other.info)


def test_cifar10_trains_only_your_own_network_on_colour_images(queue_env, tmp_path, monkeypatch):
    # Offered as soon as $DIGITLAB_CIFAR10 names a local copy (nothing is loaded before training).
    monkeypatch.setenv("DIGITLAB_CIFAR10", str(tmp_path))
    at = AppTest.from_file("../pages/train.py", default_timeout=120)
    at.run()
    at.radio(key="train-dataset").set_value("cifar10").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="train-kind").options == ["Your own network"]
    assert "Distort the training digits" not in [c.label for c in at.checkbox]
    # It starts from the CIFAR lab's blocks, on 32 x 32 colour photos.
    table = summary(at)
    assert list(table["output shape"])[:3] == ["30 × 30 × 32", "30 × 30 × 32", "28 × 28 × 32"]
    stack = layers.PRESETS[next(name for name in layers.PRESETS if name.startswith("CIFAR"))]
    assert table["parameters"].sum() == sum(r["parameters"] for r in layers.walk(stack, (32, 32, 3)))
    assert any("for 32 × 32 × 3 images" in m.value for m in at.markdown)
    assert any("on 45,000 photos" in i.value for i in at.info)


def test_a_custom_run_trained_here_shows_at_once_and_joins_the_leaderboard(queue_env):
    from dataclasses import asdict

    # A stand-in for a finished job's entry in the runs store: the shipped 64-64's files
    # under your own network's 64-64 config (the same layers) at seed 1 (seed 0 is shipped).
    config = replace(DEFAULTS["custom"], seed=1)
    target = queue_env / f"custom-{config.key()}"
    shutil.copytree(cache.entry_path(DEFAULTS["dense_64_64"]), target)
    metrics = json.loads((target / "metrics.json").read_text())
    metrics.update(kind="custom", config=asdict(config))
    (target / "metrics.json").write_text(json.dumps(metrics))
    at = AppTest.from_file("../pages/train.py", default_timeout=120)
    at.run()
    own_network(at)
    seed(at, 1)
    assert any("trained here, on this server" in s.value for s in at.success)
    assert "Train" not in [b.label for b in at.button]
    board = next(d.value for d in at.dataframe if "rank" in d.value.columns)
    assert list(board["model"]) == ["Your own network: Dense 64 · Dense 64"]


def page_order(at) -> list[str]:
    """The page's errors, warnings, captions and data frames in the order they show, as
    "error: ...", "warning: ...", "caption: ...", "editor" (the layer list) and "summary"."""
    shown = []
    for node in at.main:
        kind = getattr(node, "type", None)
        if kind in ("error", "warning", "caption"):
            shown.append(f"{kind}: {node.value}")
        elif kind == "dataframe":
            shown.append("editor" if "kernel" in node.value.columns else
                         "summary" if "multiply-adds" in node.value.columns else "table")
    return shown


def test_a_typed_cell_out_of_range_is_refused_right_under_the_list_and_kept_as_typed(app):
    own_network(app)
    # As the editor's text cells give them back after "64.7" is typed in the second row.
    rows = layers.to_rows(layers.PRESETS["Dense 64-64 (the course's small net)"])
    rows[1]["units or filters"] = "64.7"
    app.session_state["custom-rows"] = rows
    app.session_state["custom-version"] = 7
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    sentence = "Layer 2: the number of units must be a whole number from 1 to 2048, not 64.7."
    assert [e.value for e in app.error] == [sentence]
    assert "Train" not in [b.label for b in app.button]
    # Not changed: the cell still reads 64.7, not 647 nor 2048.
    editor = next(d.value for d in app.dataframe if "kernel" in d.value.columns)
    assert list(editor["units or filters"]) == ["64", "64.7"]
    # The sentence right under the list, before its caption; no summary below.
    order = page_order(app)
    assert order[order.index("editor") + 1] == f"error: {sentence}" and "summary" not in order


def test_a_list_over_max_layers_is_cut_in_the_editor_with_one_sentence_above_it(app):
    own_network(app)
    # As if 1,000 rows were pasted: the editor gives back every one.
    app.session_state["custom-rows"] = layers.to_rows((("dense", 8, "relu"),) * 1000)
    app.session_state["custom-version"] = 7
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    editor = next(d.value for d in app.dataframe if "kernel" in d.value.columns)
    assert len(editor) == layers.MAX_LAYERS == 24
    assert len(app.session_state["custom-rows"]) == 24
    order = page_order(app)
    sentence = "Only the first 24 layers were kept: this server trains at most 24."
    assert [w.value for w in app.warning] == [sentence]
    assert order.index(f"warning: {sentence}") < order.index("editor")
    # The 24 kept are a list that trains: measured, with a Train button.
    assert not app.error and list(summary(app)["#"])[-2:] == ["24", "lab"]
    assert [b.label for b in app.main.button] == ["Train"]
