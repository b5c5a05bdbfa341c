"""Your own network: a layer list, checked and measured before anything is built.

A stack is a tuple of layers, each a small tuple that JSON and the config hash keep as is:

    ("dense", units, activation)            a fully connected layer
    ("conv2d", filters, kernel, activation) a kernel x kernel convolution, stride 1, no padding
    ("maxpool",)                            2x2 max pooling, stride 2
    ("dropout", rate)                       drop each input with probability ``rate`` while training
    ("batchnorm",)                          batch normalization (Ioffe and Szegedy, 2015)

The lab adds what every classifier needs: the input reshaped to (height, width, channels),
a Flatten before the first Dense layer, and the 10-way softmax output. ``walk`` computes
each layer's output shape, parameters and multiply-adds in plain Python (no TensorFlow),
so the Train page shows them as the list is edited; tests check them against Keras.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "linear")
MAX_LAYERS = 24
# What one server of 2 cores trains in minutes rather than hours: 500-300 has 545,810
# parameters, the lab's CNN about 4.8 million multiply-adds per image.
MAX_PARAMETERS = 2_000_000
MAX_MULTIPLY_ADDS = 30_000_000
CLASSES = 10

# The presets: the course's dense nets, the lab's CNN and the CIFAR lab's convolution
# blocks (two 3x3 convolutions with batch normalization, pooling and dropout 0.35).
PRESETS = {
    "Dense 64-64 (the course's small net)": (("dense", 64, "relu"), ("dense", 64, "relu")),
    "Dense 500-300 (Hinton's 98.47% shape)": (("dense", 500, "relu"), ("dense", 300, "relu")),
    "Dense 500-300 with dropout 0.35": (("dense", 500, "relu"), ("dropout", 0.35), ("dense", 300, "relu"),
                                        ("dropout", 0.35)),
    "CIFAR lab: convolution blocks, batch normalization, dropout 0.35": (
        ("conv2d", 32, 3, "relu"), ("batchnorm",), ("conv2d", 32, 3, "relu"), ("batchnorm",), ("maxpool",),
        ("dropout", 0.35),
        ("conv2d", 64, 3, "relu"), ("batchnorm",), ("conv2d", 64, 3, "relu"), ("batchnorm",), ("maxpool",),
        ("dropout", 0.35),
        ("dense", 128, "relu"), ("batchnorm",), ("dropout", 0.35)),
    "The lab's CNN": (("conv2d", 32, 5, "relu"), ("maxpool",), ("conv2d", 64, 3, "relu"), ("conv2d", 64, 3, "relu"),
                      ("maxpool",), ("dropout", 0.3), ("dense", 128, "relu"), ("dropout", 0.3)),
}


# The named classifiers as layer lists (their Reshape, Flatten and output are the lab's):
# the Train page sizes them with ``walk``, without waiting for TensorFlow. dense_500_300's
# weight decay changes no shape or parameter count. Tested against core.nets.models.
NAMED_STACKS = {
    "dense_64_64": PRESETS["Dense 64-64 (the course's small net)"],
    "dense_500_300": PRESETS["Dense 500-300 (Hinton's 98.47% shape)"],
    "cnn": PRESETS["The lab's CNN"],
    "quick_cnn": (("conv2d", 24, 5, "relu"), ("maxpool",), ("conv2d", 32, 3, "relu"), ("maxpool",),
                  ("dense", 256, "relu")),
}


class StackError(ValueError):
    """A stack that cannot be built or is too large here; the message is one sentence
    naming the layer and what to change."""


def normalize(stack) -> tuple:
    """``stack`` (a list of lists, as JSON gives it back) as the tuple of tuples configs hold."""
    return tuple(tuple(layer) for layer in stack)


def shown(value) -> str:
    """A cell's value as a sentence quotes it: whole numbers with thousands separators
    (1e9 -> "1,000,000,000"), other numbers as Python prints them (64.7 -> "64.7"), text
    in quotes ("abc" -> "“abc”")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"\u201c{value}\u201d"
    if math.isfinite(value) and float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return repr(float(value))


@dataclass(frozen=True)
class Setting:
    """One setting of a layer: the editor's cell that holds it, how a sentence names it,
    and its type and range (inclusive); ``type`` None is an activation, one of ``ACTIVATIONS``."""

    cell: str
    what: str
    type: type | None = None
    low: float = 0
    high: float = 0

    def check(self, value, n: int):
        """``value`` as this setting holds it (int or float, or the activation's name).

        Raises:
            StackError: naming layer ``n`` and this setting, in one sentence.
        """
        if self.type is None:
            if value not in ACTIVATIONS:
                raise StackError(f"Layer {n}: the activation must be one of {', '.join(ACTIVATIONS)}, "
                                 f"not {value!r}.")
            return value
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if self.type is int:
            ok = ok and float(value).is_integer()
        if not ok or not self.low <= value <= self.high:
            raise StackError(f"Layer {n}: the {self.what} must be "
                             f"{'a whole number' if self.type is int else 'a number'} from {self.low:g} to "
                             f"{self.high:g}, not {shown(value)}.")
        return self.type(value)


UNITS = Setting("units or filters", "number of units", int, 1, 2048)
FILTERS = Setting("units or filters", "number of filters", int, 1, 256)
KERNEL = Setting("kernel", "kernel size", int, 1, 7)
RATE = Setting("dropout rate", "dropout rate", float, 0.0, 0.9)
ACTIVATION = Setting("activation", "activation")


@dataclass(frozen=True)
class LayerKind:
    """One layer type, all it means in one place: its name, settings, where it may go,
    its shape rule, parameters and multiply-adds (``walk``), its Keras layer
    (``core.nets.models.custom``) and its words (the summary's row, ``describe``)."""

    name: str        # in sentences: "Conv2D"
    menu: str        # in the editor's menu: "MaxPooling 2x2"
    settings: tuple  # of Setting, in the layer tuple's order after its kind
    takes: str       # "image" (refused after a Dense layer), "flat" (the lab adds a Flatten) or "any"
    output: Callable[[tuple, tuple, int], tuple]   # (layer, input shape, n) -> output shape
    parameters: Callable[[tuple, tuple], int]      # (layer, input shape)
    multiply_adds: Callable[[tuple, tuple, tuple], int]  # (layer, input shape, output shape), per image
    label: Callable[[tuple], str]  # the summary's row: "Conv2D 32 filters 5x5, relu"
    word: Callable[[tuple], str]   # ``describe``'s: "Conv 32 5x5"
    keras: Callable                # (keras.layers, layer) -> the Keras layer; keeps this module TensorFlow-free


def _convolved(layer, shape, n):
    h, w, _ = shape
    kernel = layer[2]
    if kernel > min(h, w):
        raise StackError(f"Layer {n}, Conv2D {kernel}x{kernel}, is larger than its {h}x{w} input map: "
                         "use a smaller kernel or remove a pooling layer before it.")
    return (h - kernel + 1, w - kernel + 1, layer[1])


def _pooled(layer, shape, n):
    h, w, c = shape
    if min(h, w) < 2:
        raise StackError(f"Layer {n}, MaxPooling 2x2, cannot pool a {h}x{w} map: remove it, or a "
                         "convolution or pooling layer before it.")
    return (h // 2, w // 2, c)


def _none(*_):
    return 0


def _same(layer, shape, n):
    return shape


KINDS = {
    "dense": LayerKind(
        "Dense", "Dense", (UNITS, ACTIVATION), "flat", lambda l, s, n: (l[1],),
        lambda l, s: s[0] * l[1] + l[1], lambda l, s, o: s[0] * l[1],
        lambda l: f"Dense {l[1]}, {l[2]}", lambda l: f"Dense {l[1]}",
        lambda kl, l: kl.Dense(l[1], activation=l[2])),
    "conv2d": LayerKind(
        "Conv2D", "Conv2D", (FILTERS, KERNEL, ACTIVATION), "image", _convolved,
        lambda l, s: l[2] * l[2] * s[2] * l[1] + l[1], lambda l, s, o: o[0] * o[1] * l[2] * l[2] * s[2] * l[1],
        lambda l: f"Conv2D {l[1]} filters {l[2]}x{l[2]}, {l[3]}", lambda l: f"Conv {l[1]} {l[2]}x{l[2]}",
        lambda kl, l: kl.Conv2D(l[1], l[2], activation=l[3])),
    "maxpool": LayerKind(
        "MaxPooling", "MaxPooling 2x2", (), "image", _pooled, _none, _none,
        lambda l: "MaxPooling 2x2", lambda l: "pool", lambda kl, l: kl.MaxPooling2D()),
    "dropout": LayerKind(
        "Dropout", "Dropout", (RATE,), "any", _same, _none, _none,
        lambda l: f"Dropout {l[1]:g}", lambda l: f"dropout {l[1]:g}", lambda kl, l: kl.Dropout(l[1])),
    # A scale, an offset and the moving mean and variance per channel; one multiply-add per value.
    "batchnorm": LayerKind(
        "BatchNormalization", "BatchNormalization", (), "any", _same,
        lambda l, s: 4 * s[-1], lambda l, s, o: math.prod(s),
        lambda l: "BatchNormalization", lambda l: "batch norm", lambda kl, l: kl.BatchNormalization()),
}
LAYER_TYPES = tuple(KINDS)
LAYER_NAMES = {name: kind.menu for name, kind in KINDS.items()}
_TYPES_TEXT = ", ".join(kind.name for kind in KINDS.values())


def check_layer(layer, n: int) -> tuple:
    """One layer, checked: its settings in range and of the right type.

    Raises:
        StackError: naming layer ``n`` (counted from 1) and the setting that is wrong.
    """
    if not isinstance(layer, (tuple, list)) or not layer or layer[0] not in KINDS:
        raise StackError(f"Layer {n} is not one of {_TYPES_TEXT}.")
    kind, args = KINDS[layer[0]], tuple(layer[1:])
    if len(args) != len(kind.settings):
        raise StackError(f"Layer {n} ({layer[0]}) needs {len(kind.settings)} settings, got {len(args)}.")
    return (layer[0], *(setting.check(value, n) for setting, value in zip(kind.settings, args)))


def activation(layer) -> str | None:
    """A checked layer's activation ("relu", "tanh", ...), None for a type without one."""
    kind = KINDS.get(layer[0]) if layer else None
    return layer[1 + kind.settings.index(ACTIVATION)] if kind and ACTIVATION in kind.settings else None


def in_order(stack) -> list:
    """The layers a checked ``stack`` builds, in order, with the Flatten the lab adds (as
    None) before the first Dense layer, or at the end when there is none; the 10-way output
    follows them. ``core.nets.models.custom`` builds this list, and
    ``core.present.keras_code`` writes it out, so the two cannot place the Flatten apart."""
    built, flat = [], False
    for layer in stack:
        if KINDS[layer[0]].takes == "flat" and not flat:
            built.append(None)
            flat = True
        built.append(layer)
    return built if flat else built + [None]


def _flatten(shape: tuple) -> dict:
    size = math.prod(shape)
    return {"layer": "Flatten (added by the lab)", "output shape": (size,), "parameters": 0, "multiply_adds": 0}


def walk(stack, input_shape: tuple = (28, 28, 1)) -> list[dict]:
    """The layers a stack builds, with their output shapes, parameters and multiply-adds.

    Args:
        stack: layer tuples (see the module docstring).
        input_shape: (height, width, channels) of one image: (28, 28, 1) for MNIST and
            Fashion-MNIST, (32, 32, 3) for CIFAR-10.

    Returns:
        One dict per layer, the added Flatten and output layer included: {"layer": its
        name as Keras shows it, "output shape": a tuple without the batch dimension,
        "parameters": int, "multiply_adds": int per image}.

    Raises:
        StackError: one sentence for the first layer that cannot be built (a convolution
            or pooling larger than its input map, a convolution after a Dense layer), for
            a stack over ``MAX_LAYERS`` layers, ``MAX_PARAMETERS`` parameters or
            ``MAX_MULTIPLY_ADDS`` multiply-adds per image.
    """
    if len(stack) > MAX_LAYERS:
        raise StackError(f"This stack has {len(stack)} layers; at most {MAX_LAYERS} train on this server.")
    shape, rows = tuple(input_shape), []
    for n, layer in enumerate(stack, start=1):
        layer = check_layer(layer, n)
        kind, flat = KINDS[layer[0]], len(shape) == 1
        if kind.takes == "image" and flat:
            raise StackError(f"Layer {n}, {kind.name}, comes after a Dense layer, whose output is no longer an "
                             "image: move it before the first Dense layer.")
        if kind.takes == "flat" and not flat:
            rows.append(_flatten(shape))
            shape = rows[-1]["output shape"]
        out = kind.output(layer, shape, n)
        rows.append({"layer": kind.label(layer), "output shape": out, "parameters": kind.parameters(layer, shape),
                     "multiply_adds": kind.multiply_adds(layer, shape, out)})
        shape = out
    if len(shape) != 1:
        rows.append(_flatten(shape))
        shape = rows[-1]["output shape"]
    rows.append({"layer": f"Dense {CLASSES}, softmax (the output, added by the lab)", "output shape": (CLASSES,),
                 "parameters": shape[0] * CLASSES + CLASSES, "multiply_adds": shape[0] * CLASSES})
    _check_size(len(stack), rows)
    return rows


def _check_size(layer_count: int, rows: list[dict]) -> None:
    params = sum(r["parameters"] for r in rows)
    if params > MAX_PARAMETERS:
        raise StackError(f"This stack has {params:,} parameters; at most {MAX_PARAMETERS:,} train on this server: "
                         "use fewer units or filters, or pool before the first Dense layer.")
    macs = sum(r["multiply_adds"] for r in rows)
    if macs > MAX_MULTIPLY_ADDS:
        raise StackError(f"This stack needs {macs / 1e6:,.0f} million multiply-adds per image; at most "
                         f"{MAX_MULTIPLY_ADDS / 1e6:,.0f} million train on this server: use fewer filters or pool "
                         "earlier.")


def check(stack, input_shape: tuple = (28, 28, 1)) -> tuple:
    """The stack, normalized, if ``walk`` accepts it.

    Raises:
        StackError: see ``walk``; also for an empty stack.
    """
    if not stack:
        raise StackError("Add at least one layer (the output layer is added for you).")
    walk(stack, input_shape)
    return tuple(check_layer(layer, n) for n, layer in enumerate(stack, start=1))


# --- the Train page's editable table ------------------------------------------------------

# The editor's columns: one row per layer, each type reading only the cells it needs
# (Dense: units and activation; Conv2D: filters, kernel and activation; Dropout: the rate).
ROW_FIELDS = ("layer", "units or filters", "kernel", "activation", "dropout rate")


def to_rows(stack) -> list[dict]:
    """A stack as the editor's rows: one dict per layer with every ``ROW_FIELDS`` key,
    None in the cells its type does not use, e.g. ("conv2d", 32, 5, "relu") ->
    {"layer": "conv2d", "units or filters": 32, "kernel": 5, "activation": "relu",
    "dropout rate": None}."""
    rows = []
    for layer in stack:
        row = dict.fromkeys(ROW_FIELDS)
        row["layer"] = layer[0]
        settings = KINDS[layer[0]].settings if layer[0] in KINDS else ()
        row.update((setting.cell, value) for setting, value in zip(settings, layer[1:]))
        rows.append(row)
    return rows


def _empty(value) -> bool:
    # The editor gives None, NaN or pandas' NA for a blank cell (NA's truth raises TypeError).
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    try:
        return bool(value != value)
    except TypeError:
        return True


# The cells that hold numbers. The page's editor shows them as text, so what is typed
# reaches Python as typed, for check_layer to refuse: its number columns changed it without
# a word (checked in Chromium): no "-" where the minimum is 0 or more (-5 became 5), the
# maximum for a larger value (99 became 7), no "." in whole-number columns (64.7 became
# 647), and never an "e" (1e9 became 19).
NUMBER_FIELDS = ("units or filters", "kernel", "dropout rate")
TOO_MANY_LAYERS = f"Only the first {MAX_LAYERS} layers were kept: this server trains at most {MAX_LAYERS}."


def _cell(value, numeric: bool = True):
    # Numbers as plain int or float (the editor gives NumPy scalars or the typed text), so
    # check_layer's type checks and JSON see what a typed config would hold; text that is
    # not a finite number stays text, for check_layer to quote.
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = float(text) if numeric else None
        except ValueError:
            parsed = None
        if parsed is None or not math.isfinite(parsed):
            return text
        value = parsed
    if isinstance(value, bool) or not hasattr(value, "__float__"):
        return value
    number = float(value)
    return int(number) if number.is_integer() else number


def cell_text(value) -> str | None:
    """A number cell as the editor's text shows it: None for a blank cell, a number as
    Python writes it (64 -> "64", 64.0 -> "64", 0.35 -> "0.35"), text as it was typed."""
    if _empty(value):
        return None
    if isinstance(value, str):
        return value
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def first_layers(rows) -> tuple[list, bool]:
    """The editor's rows up to its ``MAX_LAYERS``-th layer (blank rows do not count), and
    whether any layer was left out: a pasted list of 1,000 rows keeps its first 24 layers.

    Returns:
        (the rows kept, True if rows were dropped); the page then says ``TOO_MANY_LAYERS``.
    """
    rows, count = list(rows), 0
    for i, row in enumerate(rows):
        count += not all(_empty(row.get(field)) for field in ROW_FIELDS)
        if count > MAX_LAYERS:
            return rows[:i], True
    return rows, False


def from_rows(rows) -> tuple:
    """The stack the editor's rows describe (the inverse of ``to_rows``): rows with every
    cell blank are skipped; each row reads only the cells its type uses.

    Args:
        rows: dicts with ``ROW_FIELDS`` keys (missing keys count as blank); number cells
            may hold numbers or the text typed in them ("64", " 0.35", "1e9", "abc").

    Returns:
        The layer tuples, unchecked beyond their cells being filled: ``check`` or ``walk``
        judge ranges, types and sizes. Number cells become int or float as typed (64.7
        stays 64.7, for ``check_layer`` to refuse); text that is not a number stays text.

    Raises:
        StackError: one sentence for a row with no layer type or a blank cell its type
            needs, numbering the layers from 1 as ``walk`` does.
    """
    stack = []
    for row in rows:
        cells = {field: None if _empty(row.get(field)) else _cell(row.get(field), field in NUMBER_FIELDS)
                 for field in ROW_FIELDS}
        if all(value is None for value in cells.values()):
            continue
        n, kind = len(stack) + 1, cells["layer"]
        if kind is None:
            raise StackError(f"Layer {n} has no type: choose Dense, Conv2D, MaxPooling, Dropout or "
                             "BatchNormalization.")
        needs = KINDS[kind].settings if kind in KINDS else ()
        blank = [setting.what for setting in needs if cells[setting.cell] is None]
        if blank:
            raise StackError(f"Layer {n}, {LAYER_NAMES.get(kind, kind)}, needs its {' and '.join(blank)}: "
                             "fill in the empty cell.")
        stack.append((kind, *(cells[setting.cell] for setting in needs)))
    return tuple(stack)


def describe(stack) -> str:
    """A stack in one short line for labels and tables, e.g. "Conv 32 5x5 · pool · Dense
    128 · dropout 0.3" (the output layer left out)."""
    def word(layer) -> str:
        try:
            return KINDS[layer[0]].word(layer)
        except (KeyError, IndexError, TypeError, ValueError):  # a hand-edited entry's layer
            return "?"

    return " · ".join(word(layer) for layer in stack or ())


def shape_text(shape: tuple) -> str:
    """An output shape as the pages print it: (24, 24, 32) -> "24 × 24 × 32"."""
    return " × ".join(str(d) for d in shape)
