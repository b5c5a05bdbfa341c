"""Compare runs: the differing settings, the ready-made comparisons against the shipped
cache, the table's numbers against the entries' files, the gap, the figure and the page."""

import shutil
from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from core.analysis import compare
from core.config import CLASSIFIERS, DEFAULTS, DROPOUT_PAIR, FASHION, SWEEPS, TrainConfig, default_config
from core.present import runs
from core.present.figures import COMPARE_COLORS, comparison_figure
from core.queue import jobs
from core.store import cache
from core.training.experiments import load_sweep
from core.training.sweeps import kept_configs


def entry(config: TrainConfig) -> str:
    return f"{config.kind}-{config.key()}"


@pytest.fixture(scope="module")
def shipped_runs():
    return compare.comparable_runs(runs_root=cache.cache_dir() / "no-such-store")


# --- differences -------------------------------------------------------------------------

def test_differences_names_exactly_the_fields_that_differ():
    base = DEFAULTS["dense_500_300"]
    assert compare.differences([base, replace(base, l2=0.0, seed=2)]) == ["l2", "seed"]
    assert compare.differences([base, replace(base, seed=1), replace(base, augment=True)]) == ["augment", "seed"]
    assert compare.differences([base, DEFAULTS["dense_64_64"]]) == \
        ["kind", "l2", "learning_rate", "batch_size", "epochs"]


def test_differences_of_equal_or_single_configs_is_empty():
    base = DEFAULTS["cnn"]
    assert compare.differences([base, replace(base)]) == []
    assert compare.differences([base]) == []
    assert compare.differences([]) == []


def test_differences_reads_dicts_as_stored_in_metrics_json(shipped_runs):
    dicts = [run.metrics["config"] for run in shipped_runs if run.config.kind == "cnn" and
             run.config.dataset == "mnist"]
    assert len(dicts) == 3 and compare.differences(dicts) == ["seed"]
    # An int and a float of the same value are the same setting (JSON may write either).
    assert compare.differences([{"momentum": 0}, {"momentum": 0.0}]) == []


# --- the ready-made comparisons ------------------------------------------------------------

def test_each_preset_differs_in_what_it_asks_about():
    assert compare.differences(compare.preset("sgd_adam").configs) == ["optimizer", "learning_rate"]
    assert compare.differences(compare.preset("plain_distorted").configs) == ["augment"]
    assert compare.differences(compare.preset("weight_decay").configs) == ["l2"]
    assert compare.differences(compare.preset("dropout").configs) == ["layers"]
    # The same network; on clothes without the digit distortions and with its own epochs.
    assert compare.differences(compare.preset("mnist_fashion").configs) == ["dataset", "augment", "epochs"]
    assert [c.optimizer for c in compare.preset("sgd_adam").configs] == ["adam", "sgd"]
    with pytest.raises(KeyError):
        compare.preset("batch_norm")


@pytest.mark.parametrize("key", ["plain_distorted", "weight_decay"])
def test_shipped_presets_name_entries_the_sweeps_kept(key, shipped_runs):
    chosen = compare.preset(key)
    kept = {entry(c) for sweep in SWEEPS for c in kept_configs(load_sweep(sweep))}
    for config in chosen.configs:
        assert cache.has_entry(cache.cache_dir(), entry(config)), entry(config)
        assert entry(config) in kept
    found, missing = compare.resolve(chosen, shipped_runs)
    assert missing == [] and [r.config for r in found] == list(chosen.configs)
    assert all(r.store == "shipped" and r.config.seed == 0 for r in found)


def test_weight_decay_preset_uses_the_factor_the_plain_sweep_chose():
    on, off = compare.preset("weight_decay").configs
    assert on.l2 == load_sweep(SWEEPS[0])["chosen_l2"] > 0 and off.l2 == 0
    assert not on.augment and not off.augment


def test_sgd_against_adam_needs_one_training(shipped_runs):
    adam, sgd = compare.preset("sgd_adam").configs
    assert adam == default_config("dense_64_64")
    assert (sgd.optimizer, sgd.learning_rate, sgd.momentum) == ("sgd", compare.SGD_LEARNING_RATE, 0.0)
    sgd.validate()
    found, missing = compare.resolve(compare.preset("sgd_adam"), shipped_runs)
    assert [r.entry for r in found] == [entry(adam)] and missing == [sgd]


def test_dropout_preset_runs_differ_only_in_their_dropout_layers():
    off, on = compare.preset("dropout").configs
    assert (off, on) == DROPOUT_PAIR
    assert [layer for layer in on.layers if layer[0] != "dropout"] == list(off.layers)
    assert [layer for layer in on.layers if layer[0] == "dropout"] == [("dropout", 0.35)] * 2
    assert off.l2 == on.l2 == 0  # no weight decay: the gap is dropout's alone


@pytest.mark.parametrize("key", ["dropout", "mnist_fashion"])
def test_new_presets_are_shipped_runs_and_quote_their_own_histories(key, shipped_runs):
    chosen = compare.preset(key)
    found, missing = compare.resolve(chosen, shipped_runs)
    assert missing == [], f"not in models_cache/: {[entry(c) for c in missing]}"
    assert [r.config for r in found] == list(chosen.configs) and all(r.store == "shipped" for r in found)
    text = compare.findings(chosen, found)
    for name, config in zip(chosen.names, chosen.configs):
        history, metrics = cache.load_records(config)
        gap = history["accuracy"][-1] - history["val_accuracy"][-1]
        assert f"{100 * gap:+.2f} points with {name}" in text
        assert f"{metrics['test_accuracy']:.2%} with {name}" in text


def test_every_preset_is_one_click():
    # No preset waits on a setting the lab lacks; only SGD against Adam needs a training.
    assert [p.key for p in compare.PRESETS] == ["dropout", "sgd_adam", "plain_distorted", "weight_decay",
                                                "mnist_fashion"]
    assert all(len(p.configs) == len(p.names) == 2 for p in compare.PRESETS)
    for p in compare.PRESETS:
        for config in p.configs:
            config.validate()


# --- labels ---------------------------------------------------------------------------------

def test_labels_name_the_data_set_and_your_own_layers():
    off, on = DROPOUT_PAIR
    assert runs.run_label(on) == ("Your own network: Dense 500 · dropout 0.35 · Dense 300 · dropout 0.35, "
                                     "learning rate 0.002, batch 256, 20 epochs")
    assert runs.run_label(off).startswith("Your own network: Dense 500 · Dense 300, ")
    assert runs.run_label(FASHION[0]) == (f"CNN, Fashion-MNIST, mirrored and shifted images, {FASHION[0].epochs} "
                                             "epochs, seed 0")
    assert runs.run_label(FASHION[1], "here") == "Dense 64-64, Fashion-MNIST, trained here"
    assert runs.run_label(default_config("cnn")) == "CNN, seed 0"  # MNIST goes unsaid
    assert runs.layers_text((("conv2d", 32, 3, "relu"), ("batchnorm",), ("maxpool",), ("dense", 64, "tanh"))) \
        == "Conv 32 3x3 · batch norm · pool · Dense 64 tanh"
    assert runs.setting_text("dataset", "fashion_mnist") == "Fashion-MNIST"
    assert runs.setting_text("layers", on.layers) == "Dense 500 · dropout 0.35 · Dense 300 · dropout 0.35"


def test_long_labels_wrap_for_the_legend_at_their_separators():
    label = runs.run_label(DROPOUT_PAIR[1], "here")
    lines = compare.wrapped(label).split("<br>")
    assert len(lines) > 1 and all(len(line) <= 56 for line in lines)
    assert " ".join(lines) == label  # broken only after ", " or " · "
    assert compare.wrapped("Dense 500-300, plain digits, no weight decay, seed 0") == \
        "Dense 500-300, plain digits, no weight decay, seed 0"
    assert compare.wrapped("x" * 70) == "x" * 70


def test_differences_read_old_entries_as_mnist_without_layers():
    old = {k: v for k, v in DEFAULTS["cnn"].__dict__.items() if k not in ("dataset", "layers")}
    assert compare.differences([old, DEFAULTS["cnn"]]) == []
    assert compare.differences([old, FASHION[0]]) == ["dataset", "augment", "epochs"]
    stored = {**DROPOUT_PAIR[1].__dict__, "layers": [list(layer) for layer in DROPOUT_PAIR[1].layers]}
    assert compare.differences([stored, DROPOUT_PAIR[0]]) == ["layers"]


# --- the table and the gap -----------------------------------------------------------------

def test_gap_is_final_training_minus_final_validation_accuracy():
    assert compare.generalization_gap({"accuracy": [0.5, 0.99], "val_accuracy": [0.4, 0.97]}) == \
        pytest.approx(0.02)
    assert compare.generalization_gap({"accuracy": [0.98], "val_accuracy": [0.99]}) == pytest.approx(-0.01)
    with pytest.raises(ValueError, match="only classifiers"):
        compare.generalization_gap({"loss": [0.2], "val_loss": [0.3]})


@pytest.mark.parametrize("key", ["plain_distorted", "weight_decay"])
def test_table_numbers_are_the_entries_own(key, shipped_runs):
    found, _ = compare.resolve(compare.preset(key), shipped_runs)
    table, shaded = compare.comparison_table(found)
    assert list(table["run"]) == [r.label for r in found]
    for (_, row), run in zip(table.iterrows(), found):
        history, metrics = cache.load_records(run.config)
        assert row["test accuracy"] == pytest.approx(100 * metrics["test_accuracy"])
        assert row["validation accuracy"] == pytest.approx(100 * history["val_accuracy"][-1])
        assert row["training accuracy"] == pytest.approx(100 * history["accuracy"][-1])
        assert row["gap (points)"] == pytest.approx(100 * (history["accuracy"][-1] - history["val_accuracy"][-1]))
        assert row["parameters"] == metrics["param_count"]
        assert row["training time (s)"] == metrics["training_seconds"]
        assert row["epochs"] == metrics["epochs"] == len(history["val_accuracy"])
    assert shaded == {"plain_distorted": ["training images"], "weight_decay": ["L2 weight decay"]}[key]
    assert list(table.columns[1:2]) == shaded


def test_findings_quote_the_gaps_and_test_accuracies(shipped_runs):
    chosen = compare.preset("plain_distorted")
    found, _ = compare.resolve(chosen, shipped_runs)
    text = compare.findings(chosen, found)
    for name, run in zip(chosen.names, found):
        assert f"{100 * compare.generalization_gap(run.history):+.2f} points with {name}" in text
        assert f"{run.metrics['test_accuracy']:.2%} with {name}" in text


def test_shared_settings_leave_out_the_differing_ones(shipped_runs):
    found, _ = compare.resolve(compare.preset("weight_decay"), shipped_runs)
    shared = compare.shared_settings(found)
    assert "model: Dense 500-300" in shared and "training images: plain" in shared
    assert "L2" not in shared and "momentum" not in shared  # differing; ignored by Adam


# --- the listing ----------------------------------------------------------------------------

def test_listing_has_every_shipped_classifier_once_with_plain_unique_labels(shipped_runs):
    classifiers = [m for m in cache.list_models() if m["kind"] in CLASSIFIERS]
    assert sorted(r.entry for r in shipped_runs) == sorted(f"{m['kind']}-{m['key']}" for m in classifiers)
    labels = [r.label for r in shipped_runs]
    assert len(set(labels)) == len(labels)
    assert all("_" not in label for label in labels)
    assert runs.run_label(default_config("cnn", seed=2)) == "CNN, seed 2"
    assert runs.run_label(compare.preset("sgd_adam").configs[1], "here") == \
        "Dense 64-64, SGD, learning rate 0.1, trained here"


def test_runs_trained_here_are_listed_apart_and_bad_entries_skipped(tmp_path):
    runs = tmp_path / "runs"
    shipped = cache.entry_path(default_config("dense_64_64"))
    shutil.copytree(shipped, runs / shipped.name)
    # An entry whose settings name another entry is not comparable.
    moved = runs / "dense_64_64-000000000000"
    shutil.copytree(shipped, moved)
    listed = compare.comparable_runs(runs_root=runs)
    here = [r for r in listed if r.store == "here"]
    assert [(r.entry, r.label) for r in here] == [(shipped.name, "Dense 64-64, trained here")]
    found, _ = compare.resolve(compare.preset("sgd_adam"), listed)
    assert found[0].store == "shipped"  # the shipped run first, when both stores have it
    shutil.rmtree(runs / shipped.name)
    assert [r for r in compare.comparable_runs(runs_root=runs) if r.store == "here"] == []


# --- the figure -----------------------------------------------------------------------------

def test_figure_draws_each_run_in_its_colour_training_dashed(shipped_runs):
    picked = shipped_runs[:3]
    fig = comparison_figure([(r.label, r.history) for r in picked], loss=True)
    runs = [t for t in fig.data if t.legendgroup]
    assert len(runs) == 3 * 2 * 2  # runs x (validation, training) x (accuracy, loss)
    for run, color in zip(picked, COMPARE_COLORS):
        mine = [t for t in runs if t.legendgroup == run.label]
        assert {t.line.color for t in mine} == {color}
        assert sorted(t.line.dash for t in mine) == ["dash", "dash", "solid", "solid"]
        accuracy = [t for t in mine if t.xaxis == "x"]
        assert {tuple(t.y) for t in accuracy} == {tuple(100 * v for v in run.history[k])
                                                   for k in ("accuracy", "val_accuracy")}
    assert sum(bool(t.showlegend) for t in runs) == 3


def test_figure_zoom_says_so_and_too_many_runs_are_refused(shipped_runs):
    curves = [(r.label, r.history) for r in shipped_runs]
    assert not comparison_figure(curves[:2]).layout.annotations
    zoomed = comparison_figure(curves[:2], zoom=True)
    assert "axis zoomed" in zoomed.layout.annotations[0].text
    low = zoomed.layout.yaxis.range[0]
    assert min(100 * v for _, h in curves[:2] for v in h["accuracy"]) < low  # the first epoch is cut off
    with pytest.raises(ValueError, match="between 1 and 8"):
        comparison_figure(curves[:9])


# --- the page -------------------------------------------------------------------------------

def table_runs(at) -> list[str]:
    return list(at.dataframe[0].value["run"])


@pytest.fixture
def page(queue_env):
    at = AppTest.from_file("../pages/compare.py", default_timeout=120)
    at.session_state["student"] = "Ada"  # the name the sidebar's form would have claimed
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_opens_on_plain_against_distorted_digits(page, shipped_runs):
    found, _ = compare.resolve(compare.preset("plain_distorted"), shipped_runs)
    assert table_runs(page) == [r.label for r in found]
    assert any("differ in **training images**" in m.value for m in page.markdown)
    assert not any(b.disabled for b in page.button if b.key.startswith("preset-"))


def test_a_preset_click_shows_its_runs_and_a_hand_pick_leaves_it(page, shipped_runs):
    page.button(key="preset-weight_decay").click().run()
    assert not page.exception
    found, _ = compare.resolve(compare.preset("weight_decay"), shipped_runs)
    assert table_runs(page) == [r.label for r in found]
    assert any(compare.findings(compare.preset("weight_decay"), found) in m.value for m in page.markdown)
    cnns = [r.label for r in shipped_runs if r.config.kind == "cnn" and r.config.dataset == "mnist"]
    page.multiselect(key="compare-runs").set_value(cnns).run()
    assert not page.exception
    assert table_runs(page) == cnns
    assert not any(h.value == "Weight decay on and off" for h in page.subheader)
    assert any("differ in **seed**" in m.value for m in page.markdown)


@pytest.mark.parametrize("key", ["dropout", "mnist_fashion"])
def test_a_click_on_a_new_preset_shows_both_shipped_runs(page, shipped_runs, key):
    page.button(key=f"preset-{key}").click().run()
    assert not page.exception
    chosen = compare.preset(key)
    found, missing = compare.resolve(chosen, shipped_runs)
    assert not missing and table_runs(page) == [r.label for r in found]
    assert any(h.value == chosen.title for h in page.subheader)
    assert any(compare.findings(chosen, found) in m.value for m in page.markdown)
    assert not any(b.label.startswith("Train the missing") for b in page.button)  # nothing to train
    table = page.dataframe[0].value
    if key == "dropout":
        assert any("differ in **layers**" in m.value for m in page.markdown)
        assert list(table["layers"]) == ["Dense 500 · Dense 300", "Dense 500 · dropout 0.35 · Dense 300 · dropout 0.35"]
    else:
        assert list(table["data set"]) == ["MNIST", "Fashion-MNIST"]


def test_sgd_against_adam_queues_the_missing_run(page):
    page.button(key="preset-sgd_adam").click().run()
    assert not page.exception
    assert table_runs(page) == ["Dense 64-64"]
    assert any("Not trained yet: Dense 64-64, SGD, learning rate 0.1" in i.value for i in page.info)
    page.button(key="compare-train").click().run()
    assert not page.exception
    assert jobs.queued_count() == 1
    sgd = compare.preset("sgd_adam").configs[1]
    assert jobs.status(jobs.job_id(sgd))["owner"] == "Ada"
    assert any("Queued: number 1 in the line" in i.value and "Queued by you" in i.value for i in page.info)


def test_sgd_against_adam_without_the_queue_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_REDIS_URL", f"unix://{tmp_path}/no-redis.sock")
    monkeypatch.setenv("DIGITLAB_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file("../pages/compare.py", default_timeout=120)
    at.run()
    at.button(key="preset-sgd_adam").click().run()
    assert not at.exception
    assert any("The training queue is not running" in w.value for w in at.warning)
    assert not any(b.label.startswith("Train the missing") for b in at.button)
