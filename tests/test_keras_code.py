"""The Keras code of a run (``core.present.keras_code``): one standalone script per config.

Its text names the run's choices, compiles, uses no name it does not define or import, and
imports nothing of the lab; its model, built beside the lab's, has the same layers; and run
as a program for one epoch on 512 images, for every named model, every preset of your own
network and a Fashion-MNIST run, it saves a model with the lab's parameter count and layer
output shapes and, trained from the same seed, the very weights the lab's own ``train``
gives the same settings.
"""

import builtins
import ast
import os
import subprocess
import symtable
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.config import DEFAULTS, FASHION, NAMED_KINDS, TrainConfig
from core.data import fashion
from core.data.mnist import BUNDLED_PATH
from core.nets.layers import PRESETS
from core.present.keras_code import model_code, script
from core.present.runs import history_csv

# Every named model's default recipe, every preset as your own network with the Train
# page's starting recipe (core.config.PRESET_RUNS), and the Fashion-MNIST CNN (its
# augmentation mirrors and shifts).
RUNS = {
    **{kind: DEFAULTS[kind] for kind in NAMED_KINDS},
    **{f"preset {name}": replace(DEFAULTS["custom"], layers=stack) for name, stack in PRESETS.items()},
    "fashion cnn": FASHION[0],
}
CIFAR_PRESET = next(name for name in PRESETS if name.startswith("CIFAR"))
# Settings no run above has: checked as text and as a model, not executed.
OTHERS = {
    "cifar10 own network, mirrored and shifted": replace(DEFAULTS["custom"], dataset="cifar10", augment=True,
                                                          layers=PRESETS[CIFAR_PRESET]),
    "sgd with momentum, constant rate, label smoothing in float32": replace(
        DEFAULTS["dense_64_64"], optimizer="sgd", momentum=0.9, lr_schedule="constant", label_smoothing=0.1),
    "500-300 without weight decay, distorted, quick look": replace(DEFAULTS["dense_500_300"], l2=0.0, augment=True,
                                                                   train_size=10_000),
    "dense autoencoder on clean digits": replace(DEFAULTS["denoising_autoencoder"], noise_level=0.0),
    "vae with a 5-number code, seed 3": replace(DEFAULTS["vae"], latent_dim=5, seed=3),
    "conv denoiser in bfloat16": replace(DEFAULTS["conv_denoiser"], precision="mixed_bfloat16"),
}
ALL = {**RUNS, **OTHERS}
QUICK = {"epochs": 1, "train_size": 512}
EVAL_SIZE = 500
LOADERS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist", "cifar10": "cifar10"}


def undefined_and_unused(source: str) -> tuple[set, set]:
    """(names a script reads but never defines, imports or has built in; names it imports
    and never reads), from Python's own symbol tables."""
    top = symtable.symtable(source, "script", "exec")
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    defined |= set(dir(builtins)) | {"__doc__", "__name__", "__file__"}
    read, missing = set(), set()

    def visit(table):
        for symbol in table.get_symbols():
            if symbol.is_referenced():
                read.add(symbol.get_name())
                if (table is top or symbol.is_global()) and symbol.get_name() not in defined:
                    missing.add(symbol.get_name())
        for child in table.get_children():
            visit(child)

    visit(top)
    imported = {s.get_name() for s in top.get_symbols() if s.is_imported()}
    return missing, imported - read


# --- the text ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ALL))
def test_the_script_names_the_runs_choices_and_stands_alone(name):
    config = ALL[name]
    source = script(config)
    compile(source, f"{config.entry}.py", "exec")
    assert source.isascii()  # opens the same in any editor, whatever its encoding
    missing, unused = undefined_and_unused(source)
    assert not missing, f"reads undefined names {missing}"
    assert not unused, f"imports {unused} and never uses them"
    # It imports numpy, Keras and TensorFlow, and nothing of the lab's (any use of it would be undefined).
    imported = {alias.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"argparse", "math", "collections.abc", "keras", "numpy", "tensorflow"}
    assert source.startswith(f'"""Digit Lab run {config.entry}:')
    assert f'default="{config.entry}.keras"' in source
    assert f"keras.datasets.{LOADERS[config.dataset]}.load_data()" in source
    for line in (f"EPOCHS = {config.epochs}", f"BATCH_SIZE = {config.batch_size}",
                 f"LEARNING_RATE = {config.learning_rate!r}", f"SEED = {config.seed}",
                 f"TRAIN_SIZE = {config.train_size}", "keras.utils.set_random_seed(SEED)",
                 "tf.config.experimental.enable_op_determinism()"):
        assert line in source
    assert source.count("model.fit(") == 1 and source.count("model.evaluate(") == 1
    optimizer = ("keras.optimizers.SGD(learning_rate, momentum=MOMENTUM)" if config.optimizer == "sgd"
                 else "keras.optimizers.Adam(learning_rate)")
    assert optimizer in source
    assert (f"MOMENTUM = {config.momentum!r}" in source) == (config.optimizer == "sgd")
    assert ("CosineDecay(" in source) == (config.lr_schedule == "cosine")
    assert ('set_dtype_policy("mixed_bfloat16")' in source) == (config.precision == "mixed_bfloat16")
    assert ("def distort(" in source) == (config.augment and config.dataset == "mnist")
    assert ("def mirror_and_shift(" in source) == (config.augment and config.dataset != "mnist")
    assert ("smoothed_crossentropy(LABEL_SMOOTHING)" in source) == bool(config.label_smoothing)
    assert ("def salt_and_pepper(" in source) == (config.kind == "denoising_autoencoder" and config.noise_level > 0)
    assert ("def seasoned_batch(" in source) == (config.kind == "conv_denoiser")
    if config.kind == "conv_denoiser" or config.kind == "denoising_autoencoder" and config.noise_level:
        assert f"NOISE_LEVEL = {config.noise_level!r}" in source
    else:
        assert "NOISE_LEVEL" not in source
    if config.kind in ("vae", "cvae"):
        assert '@keras.saving.register_keras_serializable(package="digitlab")\nclass Sampling(' in source
        assert f"model = {config.kind}(latent_dim={config.latent_dim}, seed={config.seed})" in source
    if config.kind == "dense_500_300":
        assert f"model = dense_500_300(l2={config.l2!r})" in source
    if config.layers:
        assert "def your_network() -> keras.Model:" in source


def test_the_script_follows_its_settings_and_refuses_invalid_ones():
    base = DEFAULTS["quick_cnn"]
    assert script(replace(base, epochs=3)) != script(base)
    assert "EPOCHS = 3" in script(replace(base, epochs=3))
    with pytest.raises(ValueError, match="layers go with kind custom"):
        script(TrainConfig("custom", epochs=1))
    with pytest.raises(ValueError, match="epochs"):
        script(replace(base, epochs=0))


def test_the_cnn_keeps_its_own_layer_order():
    # The lab's cnn() flattens before its first dropout; a layer list would flatten after it.
    source = script(DEFAULTS["cnn"])
    assert "layers.MaxPooling2D(),\n            layers.Flatten(),\n            layers.Dropout(0.3)," in source


def test_history_csv_has_one_row_per_epoch():
    text = history_csv({"accuracy": [0.5, 0.75], "val_accuracy": [0.625, 0.875], "seconds": [1.5]})
    assert text.splitlines() == ["epoch,accuracy,val_accuracy,seconds", "1,0.5,0.625,1.5", "2,0.75,0.875,"]
    assert history_csv({}) == "epoch\n"


def test_history_csv_of_a_shipped_run_keeps_every_number():
    from core.store import cache

    history = cache.read_json(cache.entry_path(DEFAULTS["dense_64_64"]) / "history.json")
    rows = [line.split(",") for line in history_csv(history).splitlines()]
    assert rows[0] == ["epoch", *history]
    assert len(rows) == 1 + DEFAULTS["dense_64_64"].epochs
    column = rows[0].index("val_accuracy")
    assert [float(row[column]) for row in rows[1:]] == history["val_accuracy"]


# --- the model, built here ----------------------------------------------------------------


def layer_shapes(model) -> list:
    """(layer type, output shape) of every layer, nested models (encoder, decoder) opened."""
    import keras

    shapes = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            shapes += layer_shapes(layer)
        else:
            shapes.append((type(layer).__name__, keras.tree.map_structure(lambda t: tuple(t.shape), layer.output)))
    return shapes


@pytest.mark.parametrize("name", list(ALL))
def test_the_scripts_model_is_the_labs(name):
    import keras
    from keras import layers, regularizers

    from core.training.run import build

    config = ALL[name]
    definitions, call = model_code(config)
    registered = dict(keras.saving.get_custom_objects())
    try:
        space = {"keras": keras, "layers": layers, "regularizers": regularizers}
        exec(compile(definitions, "model", "exec"), space)
        ours = eval(call, space)
    finally:  # the script's Sampling registers under the lab's name: give the lab's back
        keras.saving.get_custom_objects().clear()
        keras.saving.get_custom_objects().update(registered)
    lab = build(config)
    assert ours.count_params() == lab.count_params()
    assert layer_shapes(ours) == layer_shapes(lab)


# --- the script, run ----------------------------------------------------------------------


def keras_home(folder: Path) -> Path:
    """A private KERAS_HOME (never ~/.keras) holding Fashion-MNIST's files where
    keras.datasets.fashion_mnist looks for them, when this machine has them. MNIST is read
    from the bundled file with --data: its bytes differ from Keras' download, whose hash
    Keras checks (and, offline, deletes the file on a mismatch)."""
    home = folder / "keras_home"
    target = home / "datasets" / "fashion-mnist"
    target.mkdir(parents=True)
    if fashion.available():
        for file in fashion.SHA256:
            (target / file).symlink_to(fashion.folder() / file)
    return home


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Every run's script executed for one epoch on 512 images (2 at a time, in a fresh
    folder each): {name: (the saved model's path, exit status, the output's last lines,
    seconds)} under "results", and ~/.keras's files before and after. The Fashion-MNIST
    run is left out where its files are missing."""
    root = tmp_path_factory.mktemp("keras_code")
    home = keras_home(root)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND")}
    env.update(KERAS_HOME=str(home), TF_CPP_MIN_LOG_LEVEL="2")
    runs = {name: config for name, config in RUNS.items() if config.dataset == "mnist" or fashion.available()}

    def run(item):
        name, config = item
        folder = root / config.entry
        folder.mkdir(exist_ok=True)
        (folder / "run.py").write_text(script(config))
        command = [sys.executable, "run.py", "--epochs", str(QUICK["epochs"]), "--train-size",
                   str(QUICK["train_size"]), "--eval-size", str(EVAL_SIZE), "--out", "model.keras"]
        if config.dataset == "mnist":
            command += ["--data", str(BUNDLED_PATH)]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        return name, (folder / "model.keras", done.returncode, tail, time.perf_counter() - start)

    before = user_keras_files()
    with ThreadPoolExecutor(2) as pool:
        results = dict(pool.map(run, runs.items()))
    return {"results": results, "home before": before, "home after": user_keras_files()}


def user_keras_files() -> dict:
    """{path: (size, mtime)} of every file under ~/.keras."""
    home = Path.home() / ".keras"
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in home.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", list(RUNS))
def test_the_script_runs_and_trains_the_labs_model(name, executed):
    import keras

    from core.nets.models import Sampling  # registers digitlab>Sampling for loading
    from core.training.run import train

    config = RUNS[name]
    if name not in executed["results"]:
        pytest.skip("Fashion-MNIST's files are not installed here (apt-get install dataset-fashion-mnist)")
    path, status, tail, _ = executed["results"][name]
    assert status == 0, tail
    lines = tail.splitlines()
    assert any(line.startswith(("test accuracy ", "test loss ")) for line in lines), tail
    assert "saved the trained model as model.keras" in lines, tail
    theirs = keras.models.load_model(path, compile=False)
    if config.kind in ("vae", "cvae"):  # the script's Sampling is saved under the lab's name
        assert isinstance(theirs.get_layer("sampling"), Sampling)
    # The lab's own training of the same settings, one epoch on the same 512 images.
    lab = train(replace(config, **QUICK)).model
    assert theirs.count_params() == lab.count_params()
    assert layer_shapes(theirs) == layer_shapes(lab)
    ours, labs = theirs.get_weights(), lab.get_weights()
    assert [w.shape for w in ours] == [w.shape for w in labs]
    assert all(np.array_equal(a, b) for a, b in zip(ours, labs)), "the script's weights differ from the lab's"


def test_the_scripts_kept_to_their_folders(executed):
    # Each saved its model in its own folder; none wrote to ~/.keras (the private KERAS_HOME).
    results, before, after = executed["results"], executed["home before"], executed["home after"]
    for name, (path, status, _, seconds) in results.items():
        assert status == 0 and path.is_file() and path.parent.name == RUNS[name].entry
        print(f"{name}: {seconds:.1f} s")
    assert after == before


# --- the pages --------------------------------------------------------------------------


def code_shown(at) -> list[str]:
    """The Python code blocks on the page, each with its final newline (st.code drops it)."""
    return [c.value.rstrip("\n") + "\n" for c in at.code if c.language == "python"]


def downloads(at) -> dict:
    """The page's download buttons: {label: the button's proto}."""
    return {button.proto.label: button.proto for button in at.get("download_button")}


def test_the_train_page_shows_the_code_of_its_run_and_its_downloads(queue_env):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../pages/train.py", default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = DEFAULTS["quick_cnn"]  # the page's first settings, shipped
    assert code_shown(at) == [script(shown)]
    assert any(e.label.startswith("Keras code") for e in at.expander)
    buttons = downloads(at)
    assert set(buttons) == {"Download the script (.py)", "Download the trained model (.keras)",
                            "Download its history (.csv)"}
    # The model is read when clicked, not sent with every run of the page.
    assert buttons["Download the trained model (.keras)"].deferred_file_id
    assert buttons["Download the script (.py)"].url.endswith(".py")

    # Settings not trained yet: their code, and nothing stored to download.
    at.number_input(key="quick_cnn-epochs").set_value(3).run()
    assert not at.exception, [e.value for e in at.exception]
    assert code_shown(at) == [script(replace(shown, epochs=3))]
    assert set(downloads(at)) == {"Download the script (.py)"}


def test_compare_runs_shows_the_code_of_the_run_picked(queue_env):
    from streamlit.testing.v1 import AppTest

    from core.analysis import compare

    at = AppTest.from_file("../pages/compare.py", default_timeout=120)
    at.session_state["student"] = "Ada"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    runs = {run.label: run for run in compare.comparable_runs()}
    picked = at.selectbox(key="compare-code-run")
    assert len(picked.options) >= 2
    assert code_shown(at) == [script(runs[picked.value].config)]
    assert {"Download the script (.py)", "Download the trained model (.keras)",
            "Download its history (.csv)"} <= set(downloads(at))
    other = picked.options[1]
    picked.set_value(other).run()
    assert not at.exception, [e.value for e in at.exception]
    assert code_shown(at) == [script(runs[other].config)]


def show_code_of(folder: str) -> None:
    """A page with only ``pages.run_code.code_body`` of the dense 64-64 run whose entry is ``folder``."""
    from pathlib import Path

    from core.config import DEFAULTS
    from pages.run_code import code_body

    code_body(DEFAULTS["dense_64_64"], Path(folder), key="code")


def test_a_run_whose_model_file_is_gone_offers_the_rest_in_one_sentence(tmp_path):
    from streamlit.testing.v1 import AppTest

    (tmp_path / "history.json").write_text('{"accuracy": [0.5, 0.75]}')
    at = AppTest.from_function(show_code_of, args=(str(tmp_path),), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert set(downloads(at)) == {"Download the script (.py)", "Download its history (.csv)"}
    assert [i.value for i in at.info][-1] == "This run's trained model cannot be read now, so it cannot be downloaded."
