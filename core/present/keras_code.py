"""A run as one standalone Keras script: data -> model -> ``fit`` once -> evaluate.

``script(config)`` writes the Python program that reproduces a lab run from its
``TrainConfig`` alone, in the style of the Keras examples, for a student to read, copy and
run outside the lab: it needs numpy and TensorFlow (with Keras 3), not this package.

Generated, not written per model: the settings become the script's constants; a network
the lab builds from a layer list (your own network, the quick CNN) is written out layer by
layer through the layer table's own ``keras`` makers (``core.nets.layers.KINDS``), under the
same rules as ``core.nets.models.custom``; every other model, the augmentation, the noise
and the smoothed loss are the lab's own functions, copied from its source files with
everything they call (read with ``ast``, so this module imports no TensorFlow and the
Train page stays fast). The data pipeline, the optimizer and its schedule, mixed precision
and the test evaluation follow ``core.training.run.train`` step by step. Tests run the
script of every named model and preset and compare its model with the lab's
(tests/test_keras_code.py).
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import inspect
import json
import textwrap
import threading
from dataclasses import asdict, fields

from core.config import AUTOENCODERS, TrainConfig
from core.data import images
from core.data.registry import INPUT_SHAPES
from core.nets import layers as stack_mod
from core.paths import ROOT
from core.vocabulary import DATASET_TITLES, MODEL_NAMES, OPTIMIZER_NAMES

# The lab's files the script copies from, by the name this module gives them.
SOURCES = {
    "models": "core/nets/models.py",
    "augment": "core/data/augment.py",
    "noise": "core/data/noise.py",
    "run": "core/training/run.py",
}
# How the script imports the names the copied code and its own steps use, in this order.
IMPORTS = {
    "argparse": "import argparse",
    "math": "import math",
    "Callable": "from collections.abc import Callable",
    "keras": "import keras",
    "np": "import numpy as np",
    "tf": "import tensorflow as tf",
    "layers": "from keras import layers",
    "regularizers": "from keras import regularizers",
}
# The standard library's modules among them (their imports come first).
STDLIB = ("argparse", "math", "collections.abc")
# The keras.datasets loader of each data set.
LOADERS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist", "cifar10": "cifar10"}
# Training and test images of each set, as keras.datasets gives them.
SIZES = {"mnist": (60_000, 10_000), "fashion_mnist": (60_000, 10_000), "cifar10": (50_000, 10_000)}


def _literal(value) -> str:
    """A value as Python source, strings in double quotes: "relu" -> '"relu"', (28, 28) -> '(28, 28)'."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


# CPython 3.11 keeps ast.parse's recursion count in interpreter-wide state: two threads
# parsing at once can raise SystemError (python/cpython#106905). Streamlit serves each
# session on its own thread, and CI once failed so when the tests generated two scripts at once.
_PARSING = threading.Lock()


def _parse(text: str) -> ast.Module:
    with _PARSING:
        return ast.parse(text)


@functools.lru_cache(maxsize=None)
def _module(name: str) -> tuple[list[str], dict]:
    """The lines of one of ``SOURCES`` and its top-level definitions: {name: ast node}
    (functions, classes and assigned names)."""
    text = (ROOT / SOURCES[name]).read_text()
    defined = {}
    for node in _parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else (node.target,):
                if isinstance(target, ast.Name):
                    defined[target.id] = node
    return text.splitlines(), defined


def _segment(module: str, node) -> str:
    """A top-level definition's source with its decorators and the comment lines right above it."""
    lines, _ = _module(module)
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))]) - 1
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return "\n".join(lines[start:node.end_lineno])


def copied(module: str, *names: str) -> str:
    """The lab's definitions ``names`` from ``SOURCES[module]`` with every module-level
    definition they use (found by walking their names, transitively), each once, in the
    file's order: constants a line apart, functions and classes two blank lines apart.

    Raises:
        KeyError: for a name the file does not define at its top level.
    """
    _, defined = _module(module)
    needed, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += [n.id for n in ast.walk(defined[name]) if isinstance(n, ast.Name) and n.id in defined]
    nodes = sorted({id(defined[n]): defined[n] for n in needed}.values(), key=lambda node: node.lineno)
    text = ""
    for before, node in zip([None, *nodes], nodes):
        if before is not None:
            constants = all(isinstance(n, (ast.Assign, ast.AnnAssign)) for n in (before, node))
            text += "\n" if constants else "\n\n\n"
        text += _segment(module, node)
    return text


def _constant(module: str, name: str):
    """A module-level constant of one of ``SOURCES``, read without importing it."""
    return ast.literal_eval(_module(module)[1][name].value)


class _Written:
    """Stands in for ``keras.layers`` where the layer table makes a layer
    (``core.nets.layers.LayerKind.keras``): each call comes back as the code that makes it,
    ``Dense(64, activation="relu")`` -> 'layers.Dense(64, activation="relu")'."""

    def __getattr__(self, name):
        def write(*args, **kwargs):
            parts = [_literal(a) for a in args] + [f"{k}={_literal(v)}" for k, v in kwargs.items()]
            return f"layers.{name}({', '.join(parts)})"

        return write


def _builder_name(config: TrainConfig) -> str:
    return "your_network" if config.kind == "custom" else config.kind


def _from_a_list(config: TrainConfig) -> tuple | None:
    """The layer list the lab builds this model from (``core.nets.models.custom``): your own
    network's, or a named model's whose builder calls ``custom``; None for the others."""
    if config.layers:
        return config.layers
    node = _module("models")[1].get(config.kind)
    calls = {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return stack_mod.NAMED_STACKS[config.kind] if "custom" in calls else None


def _stack_code(config: TrainConfig, stack: tuple) -> str:
    """A layer list as a Keras Sequential model's builder, one layer a line with its output
    shape and parameters (``core.nets.layers.walk``), under ``core.nets.models.custom``'s
    rules: the input reshaped to (height, width, channels) for grey images, a Flatten
    before the first Dense layer (or before the output) and the 10-way softmax."""
    shape = INPUT_SHAPES[config.dataset]
    grey = shape[-1] == 1
    stack = stack_mod.check(stack, shape)
    rows = iter(stack_mod.walk(stack, shape))
    lines = [f"keras.Input({_literal(shape[:2] if grey else shape)}),"]
    if grey:
        lines.append(f"layers.Reshape({_literal(shape)}),")

    def add(code):
        row = next(rows)
        shape = "x".join(str(d) for d in row["output shape"])
        lines.append(f"{code},  # -> {shape}, {row['parameters']:,} parameters")

    for layer in stack_mod.in_order(stack):
        add("layers.Flatten()" if layer is None else stack_mod.KINDS[layer[0]].keras(_Written(), layer))
    add("_output()")
    what = "Your own network" if config.kind == "custom" else f"The {MODEL_NAMES[config.kind]}"
    words = stack_mod.describe(stack).replace(" · ", ", ")
    doc = textwrap.fill(f"{what}: {words}, written out by the lab from its layer list as core.nets.models.custom "
                        "builds it: " + (f"the input reshaped to {'x'.join(map(str, shape))}, " if grey else "")
                        + "a Flatten before the first Dense layer, a 10-way softmax at the end.",
                        width=92, initial_indent='    """', subsequent_indent="    ") + '"""'
    body = "\n".join(f"            {line}" for line in lines)
    name = "custom" if config.kind == "custom" else config.kind
    return (f"def {_builder_name(config)}() -> keras.Model:\n{doc}\n"
            f"    return keras.Sequential(\n        [\n{body}\n        ],\n        name={_literal(name)},\n    )")


def model_code(config: TrainConfig) -> tuple[str, str]:
    """The model's part of the script: (its definitions, the call that builds the model),
    e.g. ("def cnn() -> keras.Model: ...", "cnn()"). The tests build it next to
    ``core.training.run.build(config)``."""
    stack = _from_a_list(config)
    if stack is not None:
        return f"{_from('models', '_output')}\n\n\n{_stack_code(config, stack)}", f"{_builder_name(config)}()"
    node = _module("models")[1][config.kind]
    names = {f.name for f in fields(TrainConfig)}
    # The builder's parameters that are settings of the run (l2, latent_dim, seed); others keep their default.
    args = ", ".join(f"{a.arg}={getattr(config, a.arg)!r}" for a in node.args.args if a.arg in names)
    return _from("models", config.kind), f"{config.kind}({args})"


def _settings_text(config: TrainConfig) -> str:
    """Every field of the config, ``name=value``, wrapped and indented for the docstring."""
    pairs = [f"{name}={value}" if isinstance(value, str) else f"{name}={value!r}"
             for name, value in asdict(config).items()]
    return textwrap.fill(", ".join(pairs), width=92, initial_indent="    ", subsequent_indent="    ",
                         break_long_words=False, break_on_hyphens=False)


def _versions() -> str:
    found = []
    for package in ("tensorflow", "keras", "numpy"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def _header(config: TrainConfig) -> str:
    name = "your own network" if config.kind == "custom" else f"the {MODEL_NAMES[config.kind]}"
    file = f"{config.entry}.py"
    train, tests = SIZES[config.dataset]
    fit = train - inspect.signature(images.validation_split).parameters["validation_size"].default
    sizes = f"the first {config.train_size:,}" if config.train_size else "all"
    return f'''"""Digit Lab run {config.entry}: {name} on {DATASET_TITLES[config.dataset]}, as one Keras script.

Generated by the lab (core/present/keras_code.py) from the run's settings:
{_settings_text(config)}
The functions marked "From the lab's ..." are the lab's own code, copied from its files;
data, training and evaluation follow core/training/run.py step by step.

Needs Python 3.10 or newer with numpy and TensorFlow 2.16 or newer (Keras 3):
    pip install tensorflow
The lab used {_versions()}.

Run it:
    python {file}            # the whole run, as the lab trained it
    python {file} --epochs 1 --train-size 1000 --eval-size 1000   # a quick try
    python {file} --data {config.dataset}.npz   # a local copy instead of keras.datasets' download

It loads the data set with keras.datasets (downloaded once into ~/.keras/datasets), trains
on {sizes} of the first {fit:,} training images, validates on the last {train - fit:,} after each
epoch, scores the {tests:,} test images once at the end and saves the trained model as
{config.entry}.keras (--out to change). On the lab's machine type, with the same library
versions and thread counts, it should give the lab's weights; elsewhere they differ a
little, and the accuracy agrees within the spread between seeds.
"""'''


def _from(module: str, *names: str) -> str:
    """``copied`` under a comment naming the lab's file."""
    return f"# From the lab's {SOURCES[module]}.\n{copied(module, *names)}"


def _optimizer_code(config: TrainConfig) -> list[str]:
    """``core.training.run._optimizer`` as statements ending in ``optimizer = ...``."""
    name = OPTIMIZER_NAMES[config.optimizer]
    make = f"keras.optimizers.{name}(learning_rate" + (", momentum=MOMENTUM)" if config.optimizer == "sgd" else ")")
    if config.lr_schedule != "cosine":
        return [f"# {name} at a constant learning rate.", "learning_rate = LEARNING_RATE", f"optimizer = {make}"]
    return [
        f"# {name}; the learning rate warms up linearly from 0 over the first 5% of the steps, then",
        "# falls to 0 along a cosine (Loshchilov and Hutter, SGDR, 2017).",
        "steps_per_epoch = math.ceil(len(x_fit) / BATCH_SIZE)",
        "total = steps_per_epoch * args.epochs",
        "warmup = max(1, total // 20)",
        "learning_rate = keras.optimizers.schedules.CosineDecay(",
        "    0.0, decay_steps=max(1, total - warmup), warmup_target=LEARNING_RATE, warmup_steps=warmup)",
        f"optimizer = {make}",
    ]


def _pipeline_code(config: TrainConfig) -> tuple[str, list[str]]:
    """(the lab's functions the pipeline copies, each block headed by its file, and the
    statements that make train_data, val_data and test_data), as
    ``core.training.run.PIPELINES[config.kind]`` does."""
    if config.kind in AUTOENCODERS:
        if config.kind == "conv_denoiser":
            return _from("augment", "seasoned_batch"), [
                "# A noise level per image, drawn from [0, NOISE_LEVEL], and fresh noise in every training batch;",
                "# the validation and test images get the same spread of levels, drawn once from their own seed.",
                "generator = tf.random.Generator.from_seed(SEED + 1)",
                "train_data = batches(x_fit, x_fit, lambda x, g: seasoned_batch(x, NOISE_LEVEL, g))",
                "val_data = fixed(seasoned_batch(x_val, NOISE_LEVEL, generator).numpy(), x_val)",
                "test_data = fixed(seasoned_batch(x_test, NOISE_LEVEL, generator).numpy(), x_test)",
            ]
        if config.kind == "cvae":
            return "", ["# Inputs: the images and their labels; targets: the images.",
                        "train_data = batches((x_fit, y_fit), x_fit)",
                        "val_data = fixed((x_val, y_val), x_val)",
                        "test_data = fixed((x_test, y_test), x_test)"]
        if config.noise_level:
            return _from("noise", "salt_and_pepper"), [
                "# Seasoned inputs (salt-and-pepper noise, drawn once for the run), clean targets.",
                "rng = np.random.default_rng(SEED)",
                "train_data = batches(salt_and_pepper(x_fit, NOISE_LEVEL, rng), x_fit)",
                "val_data = fixed(salt_and_pepper(x_val, NOISE_LEVEL, rng), x_val)",
                "test_data = fixed(salt_and_pepper(x_test, NOISE_LEVEL, rng), x_test)",
            ]
        return "", ["# The images are both the inputs and the targets.",
                    "train_data = batches(x_fit, x_fit)",
                    "val_data = fixed(x_val, x_val)",
                    "test_data = fixed(x_test, x_test)"]
    transform, copies, why = "", "", []
    if config.augment:
        transform = "distort" if config.dataset == "mnist" else "mirror_and_shift"
        copies = _from("augment", transform)
        why = (["# Every training batch randomly shifted, rotated, scaled, slanted, thinned and thickened."]
               if transform == "distort" else ["# Every training batch randomly mirrored and shifted."])
    return copies, [*why, f"train_data = batches(x_fit, y_fit{', ' + transform if transform else ''})",
                    "val_data = fixed(x_val, y_val)",
                    "test_data = fixed(x_test, y_test)"]


def _imports(body: str) -> str:
    """The import lines ``body`` needs (``IMPORTS``): the standard library's, then the others,
    the names from keras in one line."""
    used = {n.id for n in ast.walk(_parse(body)) if isinstance(n, ast.Name)}
    lines = [line for name, line in IMPORTS.items() if name in used]
    from_keras = [line.split()[-1] for line in lines if line.startswith("from keras")]
    stdlib = [line for line in lines if line.split()[1] in STDLIB]
    others = [line for line in lines if line not in stdlib and not line.startswith("from keras")]
    if from_keras:
        others.append(f"from keras import {', '.join(from_keras)}")
    return "\n".join(stdlib) + "\n\n" + "\n".join(others)


def script(config: TrainConfig) -> str:
    """The standalone Python script that reproduces the run ``config``.

    Returns:
        The script's text: a docstring naming the run (``config.entry``), its settings, what
        it needs and how to run it; then the data (``keras.datasets``, pixels scaled to
        float32 in [0, 1], the last 5,000 training images to validate on, the others to
        learn from), the model, the optimizer and schedule, ``fit`` once, the test
        images scored once, and the model saved as ``<entry>.keras``. Command-line options
        ``--epochs``, ``--train-size`` and ``--eval-size`` make a quick try, ``--data`` reads
        a local ``.npz`` (x_train, y_train, x_test, y_test as keras.datasets gives them) and
        ``--out`` names the saved model.

    Raises:
        ValueError: if the config is invalid (``TrainConfig.validate``'s sentence).
    """
    config.validate()
    classifier = config.kind not in AUTOENCODERS
    validation = inspect.signature(images.validation_split).parameters["validation_size"].default
    eval_batch, steps = _constant("run", "EVAL_BATCH"), _constant("run", "STEPS_PER_EXECUTION")
    pipeline_copies, pipeline = _pipeline_code(config)
    model_defs, build = model_code(config)
    mixed = config.precision != "float32"

    settings = ["# The run's settings.", f"EPOCHS = {config.epochs}", f"BATCH_SIZE = {config.batch_size}",
                f"LEARNING_RATE = {config.learning_rate!r}"]
    if config.optimizer == "sgd":
        settings.append(f"MOMENTUM = {config.momentum!r}")
    if config.kind == "conv_denoiser" or config.kind == "denoising_autoencoder" and config.noise_level:
        settings.append(f"NOISE_LEVEL = {config.noise_level!r}")
    if config.label_smoothing:
        settings.append(f"LABEL_SMOOTHING = {config.label_smoothing!r}")
    settings += [f"SEED = {config.seed}",
                 f"TRAIN_SIZE = {config.train_size}  # learn from the first TRAIN_SIZE training images"
                 + ("" if config.train_size else " (None: all)"),
                 f"VALIDATION = {validation}  # the last training images, kept for validation",
                 f"EVAL_BATCH = {eval_batch}  # images per step when validating and testing",
                 f"STEPS_PER_EXECUTION = {steps}  # training steps per call into TensorFlow: faster, same weights"]

    args = [
        "# A quick try: --epochs 1 --train-size 1000 --eval-size 1000.",
        "parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
        'parser.add_argument("--epochs", type=int, default=EPOCHS,',
        '                    help="passes over the training images (the run: %(default)s)")',
        'parser.add_argument("--train-size", type=int, default=TRAIN_SIZE,',
        '                    help="learn from the first N training images (the run: all of them)")'
        if not config.train_size else
        '                    help="learn from the first N training images (the run: %(default)s)")',
        'parser.add_argument("--eval-size", type=int, default=None,',
        '                    help="validate and test on the first N images only (the run: all)")',
        'parser.add_argument("--data", help="a local .npz with x_train, y_train, x_test and y_test as "',
        '                    "keras.datasets gives them, instead of keras.datasets")',
        f'parser.add_argument("--out", default={_literal(config.entry + ".keras")},',
        '                    help="where to save the trained model (default: %(default)s)")',
        "args = parser.parse_args()",
    ]

    data = [
        f"# 1. The data: {DATASET_TITLES[config.dataset]} (8-bit pixels"
        + ("" if config.dataset == "cifar10" else ", 0 = background") + ") and their labels.",
        "if args.data:",
        "    with np.load(args.data) as f:",
        '        (x_train, y_train), (x_test, y_test) = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])',
        "else:",
        f"    (x_train, y_train), (x_test, y_test) = keras.datasets.{LOADERS[config.dataset]}.load_data()",
    ]
    if config.dataset == "cifar10":
        data.append("y_train, y_test = y_train.reshape(-1), y_test.reshape(-1)  # keras gives (n, 1) labels")
    data += [
        "# Pixels as float32 in [0, 1]: the only conversion the lab's models see.",
        "x_train = np.asarray(x_train, dtype=np.float32) / np.float32(255.0)",
        "x_test = np.asarray(x_test, dtype=np.float32) / np.float32(255.0)",
        "# The last VALIDATION training images validate after each epoch (every choice is made on them);",
        "# the test images are scored once, after training.",
        "x_fit, y_fit = x_train[:-VALIDATION][: args.train_size], y_train[:-VALIDATION][: args.train_size]",
        "x_val, y_val = x_train[-VALIDATION:], y_train[-VALIDATION:]",
        "if args.eval_size:  # a quick try: fewer images to validate and test on",
        "    x_val, y_val = x_val[: args.eval_size], y_val[: args.eval_size]",
        "    x_test, y_test = x_test[: args.eval_size], y_test[: args.eval_size]",
        'print(f"{len(x_fit):,} training, {len(x_val):,} validation and {len(x_test):,} test images")',
        "",
        "# The same seed, the same weights, data order and random draws (on the same machine type,",
        "# libraries and thread counts).",
        "keras.utils.set_random_seed(SEED)",
        "tf.config.experimental.enable_op_determinism()",
    ]

    helpers = [
        "def steady(dataset):",
        '    """The dataset with tf.data\'s autotuning off: on 2 cores it ran some epochs on one core."""',
        "    options = tf.data.Options()",
        "    options.autotune.enabled = False",
        "    return dataset.with_options(options)",
        "",
        "",
        "def batches(inputs, targets, transform=None):",
        '    """Batches of (inputs, targets), shuffled afresh every epoch; each batch passed through',
        '    transform(batch, generator) when given; the next two prepared while the model trains."""',
        "    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))",
        "    dataset = dataset.shuffle(len(targets), seed=SEED).batch(BATCH_SIZE)",
        "    if transform is not None:",
        "        generator = tf.random.Generator.from_seed(SEED)",
        "        dataset = dataset.map(lambda x, y: (transform(x, generator), y))",
        "    return steady(dataset).prefetch(2)",
        "",
        "",
        "def fixed(inputs, targets):",
        '    """Validation or test batches of EVAL_BATCH images, in order."""',
        "    return steady(tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(EVAL_BATCH))",
    ]

    loss = '"sparse_categorical_crossentropy"' if classifier else '"binary_crossentropy"'
    metrics = ', metrics=["accuracy"]' if classifier else ""
    train_loss = loss
    loss_defs = ""
    if config.label_smoothing:
        loss_defs = _from("run", "smoothed_crossentropy")
        train_loss = "smoothed_crossentropy(LABEL_SMOOTHING)"
    model = []
    if mixed:
        model.append("# The layers compute in bfloat16, the weights stay float32.")
        model.append(f'keras.config.set_dtype_policy("{config.precision}")')
    model.append(f"model = {build}")
    if mixed:
        model.append('keras.config.set_dtype_policy("float32")')
    model.append("model.summary()")

    training = [*_optimizer_code(config),
                f"model.compile(optimizer=optimizer, loss={train_loss}{metrics},",
                "              steps_per_execution=STEPS_PER_EXECUTION)",
                "model.fit(train_data, epochs=args.epochs, validation_data=val_data, verbose=2, shuffle=False)"]

    test = ["# 5. The test images, once, after training."]
    if mixed:
        test += ["# In float32, as the lab stores and serves the model: the same weights in a float32 copy.",
                 "trained = model", f"model = {build}", "model.set_weights(trained.get_weights())"]
    if config.label_smoothing:
        test.append("# Scored by plain cross-entropy, as the lab reports it.")
    if mixed or config.label_smoothing:
        test.append(f"model.compile(loss={loss}{metrics})")
    test += ["scores = model.evaluate(test_data, verbose=0, return_dict=True)"]
    if classifier:
        test.append('print(f"test accuracy {scores[\'accuracy\']:.2%}, test loss {scores[\'loss\']:.4f}")')
    else:
        test.append('print(f"test loss {scores[\'loss\']:.4f}")')
    if "class Sampling(" in model_defs:
        test.append("# To load it elsewhere, define (register) the Sampling layer above first.")
    test += ["model.save(args.out)", 'print(f"saved the trained model as {args.out}")']

    def block(lines):
        return "\n".join(lines)

    parts = [
        block(settings),
        block(args),
        block(data),
        "# 2. The pipeline: batches for fit, and the validation and test sets.\n" + block(helpers),
        pipeline_copies,
        block(pipeline),
        "# 3. The model.\n" + model_defs,
        block(model),
        "# 4. Training: fit once, validating after each epoch.\n" + (loss_defs or block(training)),
        block(training) if loss_defs else "",
        block(test),
    ]
    body = "\n\n\n".join(part.strip("\n") for part in parts if part) + "\n"
    return _header(config) + "\n\n" + _imports(body) + "\n\n" + body

