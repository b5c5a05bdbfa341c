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

LAYER_TYPES = ("dense", "conv2d", "maxpool", "dropout", "batchnorm")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "linear")
# Limits of one layer's settings, inclusive.
LIMITS = {"units": (1, 2048), "filters": (1, 256), "kernel": (1, 7), "rate": (0.0, 0.9)}
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


def _number(value, kind, low, high, what, n):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind is int:
        ok = ok and float(value).is_integer()
    if not ok or not low <= value <= high:
        raise StackError(f"Layer {n}: {what} must be {'a whole number' if kind is int else 'a number'} "
                         f"from {low:g} to {high:g}, not {shown(value)}.")
    return kind(value)


def check_layer(layer, n: int) -> tuple:
    """One layer, checked: its settings in range and of the right type.

    Raises:
        StackError: naming layer ``n`` (counted from 1) and the setting that is wrong.
    """
    if not isinstance(layer, (tuple, list)) or not layer or layer[0] not in LAYER_TYPES:
        raise StackError(f"Layer {n} is not one of Dense, Conv2D, MaxPooling, Dropout, BatchNormalization.")
    kind, args = layer[0], tuple(layer[1:])
    arity = {"dense": 2, "conv2d": 3, "maxpool": 0, "dropout": 1, "batchnorm": 0}[kind]
    if len(args) != arity:
        raise StackError(f"Layer {n} ({kind}) needs {arity} settings, got {len(args)}.")
    if kind == "dense":
        units = _number(args[0], int, *LIMITS["units"], "the number of units", n)
        return ("dense", units, _activation(args[1], n))
    if kind == "conv2d":
        filters = _number(args[0], int, *LIMITS["filters"], "the number of filters", n)
        kernel = _number(args[1], int, *LIMITS["kernel"], "the kernel size", n)
        return ("conv2d", filters, kernel, _activation(args[2], n))
    if kind == "dropout":
        return ("dropout", _number(args[0], float, *LIMITS["rate"], "the dropout rate", n))
    return (kind,)


def _activation(name, n):
    if name not in ACTIVATIONS:
        raise StackError(f"Layer {n}: the activation must be one of {', '.join(ACTIVATIONS)}, not {name!r}.")
    return name


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
    shape, rows, flat = tuple(input_shape), [], False
    for n, layer in enumerate(stack, start=1):
        layer = check_layer(layer, n)
        kind = layer[0]
        if kind == "conv2d":
            if flat:
                raise StackError(f"Layer {n}, Conv2D, comes after a Dense layer, whose output is no longer an "
                                 "image: move it before the first Dense layer.")
            filters, kernel = layer[1], layer[2]
            h, w, c = shape
            if kernel > min(h, w):
                raise StackError(f"Layer {n}, Conv2D {kernel}x{kernel}, is larger than its {h}x{w} input map: "
                                 "use a smaller kernel or remove a pooling layer before it.")
            shape = (h - kernel + 1, w - kernel + 1, filters)
            params = kernel * kernel * c * filters + filters
            rows.append({"layer": f"Conv2D {filters} filters {kernel}x{kernel}, {layer[3]}", "output shape": shape,
                         "parameters": params, "multiply_adds": shape[0] * shape[1] * kernel * kernel * c * filters})
        elif kind == "maxpool":
            if flat:
                raise StackError(f"Layer {n}, MaxPooling, comes after a Dense layer, whose output is no longer "
                                 "an image: move it before the first Dense layer.")
            h, w, c = shape
            if min(h, w) < 2:
                raise StackError(f"Layer {n}, MaxPooling 2x2, cannot pool a {h}x{w} map: remove it, or a "
                                 "convolution or pooling layer before it.")
            shape = (h // 2, w // 2, c)
            rows.append({"layer": "MaxPooling 2x2", "output shape": shape, "parameters": 0, "multiply_adds": 0})
        elif kind == "dense":
            if not flat:
                size = math.prod(shape)
                rows.append({"layer": "Flatten (added by the lab)", "output shape": (size,), "parameters": 0,
                             "multiply_adds": 0})
                shape, flat = (size,), True
            units = layer[1]
            rows.append({"layer": f"Dense {units}, {layer[2]}", "output shape": (units,),
                         "parameters": shape[0] * units + units, "multiply_adds": shape[0] * units})
            shape = (units,)
        elif kind == "dropout":
            rows.append({"layer": f"Dropout {layer[1]:g}", "output shape": shape, "parameters": 0,
                         "multiply_adds": 0})
        else:  # batchnorm: a scale, an offset and the moving mean and variance per channel
            channels = shape[-1]
            rows.append({"layer": "BatchNormalization", "output shape": shape, "parameters": 4 * channels,
                         "multiply_adds": math.prod(shape)})
    if not flat:
        size = math.prod(shape)
        rows.append({"layer": "Flatten (added by the lab)", "output shape": (size,), "parameters": 0,
                     "multiply_adds": 0})
        shape = (size,)
    rows.append({"layer": f"Dense {CLASSES}, softmax (the output, added by the lab)", "output shape": (CLASSES,),
                 "parameters": shape[0] * CLASSES + CLASSES, "multiply_adds": shape[0] * CLASSES})
    params = sum(r["parameters"] for r in rows)
    if params > MAX_PARAMETERS:
        raise StackError(f"This stack has {params:,} parameters; at most {MAX_PARAMETERS:,} train on this server: "
                         "use fewer units or filters, or pool before the first Dense layer.")
    macs = sum(r["multiply_adds"] for r in rows)
    if macs > MAX_MULTIPLY_ADDS:
        raise StackError(f"This stack needs {macs / 1e6:,.0f} million multiply-adds per image; at most "
                         f"{MAX_MULTIPLY_ADDS / 1e6:,.0f} million train on this server: use fewer filters or pool "
                         "earlier.")
    return rows


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

# A layer type as the page shows it.
LAYER_NAMES = {"dense": "Dense", "conv2d": "Conv2D", "maxpool": "MaxPooling 2x2", "dropout": "Dropout",
               "batchnorm": "BatchNormalization"}
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
        if layer[0] == "dense":
            row["units or filters"], row["activation"] = layer[1], layer[2]
        elif layer[0] == "conv2d":
            row["units or filters"], row["kernel"], row["activation"] = layer[1], layer[2], layer[3]
        elif layer[0] == "dropout":
            row["dropout rate"] = layer[1]
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
        needs = {"dense": ("units or filters", "activation"), "conv2d": ("units or filters", "kernel", "activation"),
                 "dropout": ("dropout rate",)}.get(kind, ())
        blank = [field for field in needs if cells[field] is None]
        if blank:
            what = {"units or filters": "number of units" if kind == "dense" else "number of filters",
                    "kernel": "kernel size", "activation": "activation", "dropout rate": "dropout rate"}
            raise StackError(f"Layer {n}, {LAYER_NAMES.get(kind, kind)}, needs its "
                             f"{' and '.join(what[field] for field in blank)}: fill in the empty cell.")
        stack.append((kind, *(cells[field] for field in needs)))
    return tuple(stack)


def describe(stack) -> str:
    """A stack in one short line for labels and tables, e.g. "Conv 32 5x5 · pool · Dense
    128 · dropout 0.3" (the output layer left out)."""
    words = {"dense": lambda l: f"Dense {l[1]}", "conv2d": lambda l: f"Conv {l[1]} {l[2]}x{l[2]}",
             "maxpool": lambda l: "pool", "dropout": lambda l: f"dropout {l[1]:g}",
             "batchnorm": lambda l: "batch norm"}

    def word(layer) -> str:
        try:
            return words[layer[0]](layer)
        except (KeyError, IndexError, TypeError, ValueError):  # a hand-edited entry's layer
            return "?"

    return " · ".join(word(layer) for layer in stack or ())


def shape_text(shape: tuple) -> str:
    """An output shape as the pages print it: (24, 24, 32) -> "24 × 24 × 32"."""
    return " × ".join(str(d) for d in shape)
