"""What a classifier computes for one image: feature maps, first-layer weights and two
maps of which pixels the answer depends on (occlusion and integrated gradients); and
which stored networks the Inside page can open (``model_choices``).

Every function takes a (28, 28) float32 image in [0, 1], ink (or cloth) high on a black
background -- an MNIST digit or a Fashion-MNIST picture -- and a Keras classifier as
``core.nets.models`` builds it ((batch, 28, 28) -> (batch, 10) softmax): the shipped CNNs of
either data set or a "custom" network with convolutions. The
per-model TensorFlow functions are built on first use and kept beside the model (a weak
reference, so they go with it): after that a digit costs a few compiled calls, not
``model.predict`` (about 45 ms each on 2 cores, ../shared/TIPS.md).
"""

from __future__ import annotations

import base64
import html
import io
import math
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core.analysis.compare import comparable_runs
from core.config import FASHION, default_config
from core.data import registry as datasets
from core.store import cache

# Occlusion: a 6x6 patch of zeros (no ink: the black background of MNIST and of
# Fashion-MNIST alike) slid with stride 2, so
# 12 x 12 = 144 occluded copies go through the network in one batch.
PATCH = 6
STRIDE = 2
# Integrated gradients: points on the straight path from the black image to the digit
# (trapezoid rule over STEPS intervals).
STEPS = 64

_probes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def map_layers(model) -> list:
    """The layers whose outputs are feature maps: every Conv2D and MaxPooling2D, in order."""
    import keras

    return [layer for layer in model.layers
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.MaxPooling2D))]


class _Probe:
    """The compiled functions for one model (built once, see the module docstring)."""

    def __init__(self, model):
        import keras
        import tensorflow as tf

        self.layers = map_layers(model)
        outputs = [layer.output for layer in self.layers] + [model.outputs[0]]
        tap = keras.Model(inputs=model.inputs, outputs=outputs)
        self.maps = tf.function(lambda x: tap(x, training=False), reduce_retracing=True)
        self.forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

        @tf.function(reduce_retracing=True)
        def path_gradients(path, target):
            with tf.GradientTape() as tape:
                tape.watch(path)
                chosen = model(path, training=False)[:, target]
            return tape.gradient(chosen, path)

        self.path_gradients = path_gradients


def _probe(model) -> _Probe:
    probe = _probes.get(model)
    if probe is None:
        probe = _probes[model] = _Probe(model)
    return probe


def _digit(digit) -> np.ndarray:
    digit = np.asarray(digit, np.float32)
    if digit.shape != (28, 28):
        raise ValueError(f"expected one (28, 28) digit, got shape {digit.shape}")
    return digit


def feature_maps(model, digit) -> tuple[list[tuple[str, np.ndarray]], np.ndarray]:
    """Every Conv2D and MaxPooling2D layer's output for one digit, and the class
    probabilities, from one call of one sub-model.

    Args:
        model: a classifier with at least one such layer (the shipped CNN has five).
        digit: (28, 28) float32 in [0, 1].

    Returns:
        ([(layer name, (h, w, channels) float32), ...] in layer order (>= 0 after relu;
        a custom network's tanh or linear convolution gives signed maps),
        (10,) float32 probabilities summing to 1).

    Raises:
        ValueError: if ``digit`` is not (28, 28) or the model has no such layer.
    """
    digit = _digit(digit)
    probe = _probe(model)
    if not probe.layers:
        raise ValueError(f"{model.name} has no convolution or pooling layer")
    outputs = probe.maps(digit[None])
    maps = [(layer.name, np.asarray(out)[0]) for layer, out in zip(probe.layers, outputs[:-1])]
    return maps, np.asarray(outputs[-1])[0]


def tile(maps: np.ndarray, columns: int | None = None, scale: int = 1, gap: int = 1) -> np.ndarray:
    """One grid image of a layer's (h, w, c) maps, each normalised to its own maximum.

    A map that is zero everywhere (a relu unit that did not fire) stays black, and so do
    negative values (a custom network's tanh or linear convolution): the grid shows where
    each filter responds positively. Maps are
    laid out row by row, ``columns`` per row (default 8, so 32 and 64 maps fill their rows), each
    enlarged ``scale`` times (nearest neighbour) and separated by ``gap`` grey pixels.

    Returns:
        (rows * (h*scale + gap) - gap, columns * (w*scale + gap) - gap) uint8 in 0..255.

    Raises:
        ValueError: if ``maps`` is not 3-dimensional, or ``scale`` < 1, or ``gap`` < 0.
    """
    maps = np.asarray(maps, np.float32)
    if maps.ndim != 3 or scale < 1 or gap < 0:
        raise ValueError(f"expected (h, w, c) maps, scale >= 1, gap >= 0; got {maps.shape}, {scale}, {gap}")
    h, w, c = maps.shape
    columns = columns or min(c, 8)
    rows = int(np.ceil(c / columns))
    peak = maps.max(axis=(0, 1))
    # Clipped: a negative value would wrap around in uint8 and show as bright.
    scaled = np.clip(np.where(peak > 0, maps / np.where(peak > 0, peak, 1), 0.0), 0.0, 1.0)
    scaled = np.repeat(np.repeat(scaled, scale, axis=0), scale, axis=1)
    cell_h, cell_w = h * scale + gap, w * scale + gap
    grid = np.full((rows * cell_h - gap, columns * cell_w - gap), 96, np.uint8)
    for i in range(c):
        r, col = divmod(i, columns)
        grid[r * cell_h: r * cell_h + h * scale, col * cell_w: col * cell_w + w * scale] = \
            np.uint8(np.round(255 * scaled[..., i]))
    return grid


def diverging(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Signed values as colours: positive red, negative blue, zero black, each pixel's
    strength |value| / ``limit`` (default: the largest |value|).

    Args:
        values: (..., h, w) float.

    Returns:
        (..., h, w, 3) uint8.
    """
    values = np.asarray(values, np.float32)
    limit = float(np.abs(values).max()) if limit is None else float(limit)
    strength = np.clip(values / limit, -1, 1) if limit > 0 else np.zeros_like(values)
    red = np.clip(strength, 0, 1)
    blue = np.clip(-strength, 0, 1)
    # A little of the other channels, so strong values read as light red / light blue.
    rgb = np.stack([red, 0.35 * (red + blue) ** 2, blue], axis=-1)
    return np.uint8(np.round(255 * rgb))


def tile_rgb(images: np.ndarray, columns: int, scale: int = 1, gap: int = 1) -> np.ndarray:
    """(n, h, w, 3) uint8 images in one grid, row by row, ``gap`` grey pixels apart,
    each enlarged ``scale`` times (nearest neighbour).

    Returns:
        (rows * (h*scale + gap) - gap, columns * (w*scale + gap) - gap, 3) uint8.

    Raises:
        ValueError: if ``images`` is not (n, h, w, 3) or ``columns`` < 1.
    """
    images = np.asarray(images, np.uint8)
    if images.ndim != 4 or images.shape[-1] != 3 or columns < 1:
        raise ValueError(f"expected (n, h, w, 3) images and columns >= 1, got {images.shape}, {columns}")
    n, h, w, _ = images.shape
    images = np.repeat(np.repeat(images, scale, axis=1), scale, axis=2)
    rows = int(np.ceil(n / columns))
    cell_h, cell_w = h * scale + gap, w * scale + gap
    grid = np.full((rows * cell_h - gap, columns * cell_w - gap, 3), 96, np.uint8)
    for i in range(n):
        r, col = divmod(i, columns)
        grid[r * cell_h: r * cell_h + h * scale, col * cell_w: col * cell_w + w * scale] = images[i]
    return grid


def first_layer_filters(model) -> np.ndarray:
    """The first Conv2D layer's learned filters (one input channel): (filters, k, k)
    float32 weights, signed, in no fixed range.

    Raises:
        ValueError: if the model has no Conv2D layer or its first one has more than one
            input channel.
    """
    import keras

    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not convs:
        raise ValueError(f"{model.name} has no convolution layer")
    kernel = np.asarray(convs[0].kernel)  # (k, k, in, filters)
    if kernel.shape[2] != 1:
        raise ValueError(f"the first convolution has {kernel.shape[2]} input channels, expected 1")
    return np.transpose(kernel[:, :, 0, :], (2, 0, 1)).astype(np.float32)


def dense_unit_weights(model) -> np.ndarray:
    """The first Dense layer's weights from the 784 pixels to each unit, as pictures:
    (units, 28, 28) float32, signed.

    Raises:
        ValueError: if the model has no Dense layer or its first one does not take the
            784 pixels.
    """
    import keras

    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise ValueError(f"{model.name} has no dense layer")
    kernel = np.asarray(dense[0].kernel)  # (784, units)
    if kernel.shape[0] != 784:
        raise ValueError(f"the first dense layer takes {kernel.shape[0]} inputs, not the 784 pixels")
    return kernel.T.reshape(-1, 28, 28).astype(np.float32)


def occlusion_map(model, digit, target: int | None = None, patch: int = PATCH,
                  stride: int = STRIDE) -> tuple[np.ndarray, int]:
    """Occlusion sensitivity: how much the probability of class ``target`` drops when a
    ``patch`` x ``patch`` square of the digit is blanked (set to 0, no ink).

    Every position of the square (``stride`` apart) is one copy of the digit; all copies
    go through the model in one batch. A pixel's value is the mean drop over the
    positions whose square covers it. Zeiler and Fergus (2014), "Visualizing and
    understanding convolutional networks", section 4.2.

    Args:
        digit: (28, 28) float32 in [0, 1].
        target: the class to follow; default the model's answer for ``digit``.

    Returns:
        ((28, 28) float32 in [-1, 1]: positive where blanking lowers the probability,
        the class followed).

    Raises:
        ValueError: if ``digit`` is not (28, 28), ``target`` is not 0..9, or ``patch``
            and ``stride`` do not fit in 28.
    """
    digit = _digit(digit)
    if not 1 <= patch <= 28 or stride < 1:
        raise ValueError(f"patch must be 1..28 and stride >= 1, got {patch}, {stride}")
    starts = range(0, 28 - patch + 1, stride)
    corners = [(r, c) for r in starts for c in starts]
    batch = np.repeat(digit[None], len(corners) + 1, axis=0)
    for i, (r, c) in enumerate(corners, start=1):  # batch[0] stays the digit itself
        batch[i, r:r + patch, c:c + patch] = 0.0
    p = np.asarray(_probe(model).forward(batch))
    if target is None:
        target = int(np.argmax(p[0]))
    if not 0 <= target < p.shape[1]:
        raise ValueError(f"target must be a class 0..{p.shape[1] - 1}, got {target}")
    drop = p[0, target] - p[1:, target]
    total = np.zeros((28, 28), np.float32)
    count = np.zeros((28, 28), np.float32)
    for d, (r, c) in zip(drop, corners):
        total[r:r + patch, c:c + patch] += d
        count[r:r + patch, c:c + patch] += 1
    return np.where(count > 0, total / np.maximum(count, 1), 0.0).astype(np.float32), target


def integrated_gradients(model, digit, target: int | None = None, steps: int = STEPS,
                         baseline=None) -> tuple[np.ndarray, int]:
    """Integrated gradients of class ``target``'s probability: (digit - baseline) times
    the mean gradient along the straight path from ``baseline`` to the digit, the
    ``steps`` + 1 path points in one batched gradient call (trapezoid rule).

    The attributions add up to p(digit) - p(baseline) (completeness), up to the error
    of ``steps`` intervals. Sundararajan, Taly and Yan (2017), "Axiomatic attribution
    for deep networks".

    Args:
        digit: (28, 28) float32 in [0, 1].
        target: the class to explain; default the model's answer for ``digit``.
        baseline: (28, 28) float32; default the black image (no ink).

    Returns:
        ((28, 28) float32 attributions, signed: positive pixels raise the probability;
        the class explained).

    Raises:
        ValueError: if ``digit`` or ``baseline`` is not (28, 28), ``steps`` < 1 or
            ``target`` is not 0..9.
    """
    import tensorflow as tf

    digit = _digit(digit)
    baseline = np.zeros_like(digit) if baseline is None else _digit(baseline)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    probe = _probe(model)
    if target is None:
        target = int(np.argmax(np.asarray(probe.forward(digit[None]))[0]))
    if not 0 <= target < 10:
        raise ValueError(f"target must be a class 0..9, got {target}")
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)[:, None, None]
    path = baseline[None] + alphas * (digit - baseline)[None]
    grads = np.asarray(probe.path_gradients(tf.constant(path), tf.constant(target)))
    mean = (grads[:-1] + grads[1:]).sum(axis=0) / (2 * steps)
    return ((digit - baseline) * mean).astype(np.float32), target


def saliency_image(values: np.ndarray, digit: np.ndarray, scale: int = 6) -> np.ndarray:
    """A (28, 28) signed map over its digit for display: the digit in dim grey, the map
    in red (positive) and blue (negative) on top, enlarged ``scale`` times.

    Full colour is the 99th percentile of |values|, not the maximum: gradients of a
    confident answer sit on a few pixels, and one of them would leave the rest black.

    Returns:
        (28 * scale, 28 * scale, 3) uint8.
    """
    values = np.asarray(values, np.float32)
    colour = diverging(values, limit=float(np.percentile(np.abs(values), 99))).astype(np.float32)
    grey = 90.0 * _digit(digit)[..., None]
    image = np.uint8(np.clip(np.maximum(colour, grey), 0, 255))
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def inspect(model, digit, scale: int = 3) -> dict:
    """Everything the Inside page shows for one digit, computed together.

    Args:
        digit: (28, 28) float32 in [0, 1].
        scale: enlargement of the feature-map grids.

    Returns:
        {"probabilities": (10,) float32, "answer": int, "layers": [(title from
        ``layer_title``, (h, w, c) shape, grid uint8 image from ``tile``)], "occlusion": (28, 28) float32,
        "gradients": (28, 28) float32 integrated gradients, both for class "answer"}.

    Raises:
        ValueError: if ``digit`` is not (28, 28).
    """
    maps, probabilities = feature_maps(model, digit)
    answer = int(np.argmax(probabilities))
    layers = []
    for layer, (_, values) in zip(_probe(model).layers, maps):
        # Small maps (4x4) are enlarged more, so each layer's grid is about as wide; a
        # custom layer of more than 64 maps gets more columns, so its grid stays square-ish
        # (32 and 64 maps keep 8 columns).
        columns = min(values.shape[2], max(8, math.ceil(math.sqrt(values.shape[2]))))
        layers.append((layer_title(layer), values.shape,
                       tile(values, columns=columns, scale=max(scale, 48 // values.shape[0]))))
    occlusion, _ = occlusion_map(model, digit, answer)
    gradients, _ = integrated_gradients(model, digit, answer)
    return {"probabilities": probabilities, "answer": answer, "layers": layers,
            "occlusion": occlusion, "gradients": gradients}


def layer_title(layer) -> str:
    """A learner's name for a feature-map layer, e.g. "Convolution: 32 filters of 5 × 5"
    or "Max pooling 2 × 2".

    Raises:
        ValueError: if ``layer`` is neither a Conv2D nor a MaxPooling2D layer.
    """
    import keras

    if isinstance(layer, keras.layers.Conv2D):
        k = layer.kernel_size
        return f"Convolution: {layer.filters} filters of {k[0]} × {k[1]}"
    if isinstance(layer, keras.layers.MaxPooling2D):
        p = layer.pool_size
        return f"Max pooling {p[0]} × {p[1]}"
    raise ValueError(f"{layer.name} is not a convolution or pooling layer")


# ---------------------------------------------------------------------------------------
# Which networks the Inside page opens

# The data sets whose pictures these functions take: 28x28 grey, black background.
GREY_DATASETS = ("mnist", "fashion_mnist")


@dataclass(frozen=True)
class Choice:
    """A stored network the Inside page can open.

    Attributes:
        label: its plain name for the picker (no kind names or hashes).
        store: "shipped" (models_cache/) or "here" (the runs store).
        entry: its folder name ``<kind>-<key>`` in that store.
        config: its ``core.config.TrainConfig`` (for the class's symbols head: the CNN's,
            whose frozen layers it shares).
        names: its class names when they are not its data set's (the class's symbols), else ().
    """

    label: str
    store: str
    entry: str
    config: object
    names: tuple = ()

    @property
    def dataset(self) -> str:
        """The data set it was trained on: "mnist" or "fashion_mnist"."""
        return self.config.dataset


def has_convolution(config) -> bool:
    """Whether a ``TrainConfig``'s network has a Conv2D layer (the named CNN, or a custom
    layer list with a "conv2d"); read from the config, without TensorFlow."""
    return config.kind == "cnn" or any(layer[0] == "conv2d" for layer in config.layers)


def _stored_convnets(shipped: Path, runs: Path) -> list[Choice]:
    # Your own networks with a convolution, named as the Mistakes and Compare runs pages
    # name them (core.analysis.compare.comparable_runs: shipped first, then trained here, newest first).

    return [Choice(run.label, run.store, run.entry, run.config) for run in comparable_runs(shipped, runs)
            if run.config.kind == "custom" and run.config.dataset in GREY_DATASETS and has_convolution(run.config)]


def model_choices(shipped_root: Path | None = None, runs_root: Path | None = None,
                  fashion_installed: bool | None = None) -> list[Choice]:
    """The networks the Inside page offers, in this order: the shipped MNIST CNN (always,
    first: the page's default; the page says so when its entry is missing), the shipped
    Fashion-MNIST CNN (``core.config.FASHION[0]``) when it is stored and Fashion-MNIST is
    installed, then every "custom" network with at least one convolution on MNIST or
    Fashion-MNIST, shipped and then trained here (``cache.runs_dir()``), newest first,
    with the labels of ``core.analysis.compare.comparable_runs`` (so a run has one name on every
    page). Damaged entries and CIFAR-10 networks (32x32 colour input) are left out.

    Args:
        shipped_root, runs_root: the stores (default ``cache.cache_dir()`` and
            ``cache.runs_dir()``).
        fashion_installed: whether Fashion-MNIST's files are here (default
            ``core.data.registry.available``); without them no Fashion-MNIST network is offered.
    """
    shipped = Path(shipped_root or cache.cache_dir())
    runs = Path(runs_root or cache.runs_dir())
    if fashion_installed is None:
        fashion_installed = datasets.available("fashion_mnist")
    cnn = default_config("cnn")
    choices = [Choice("The CNN on MNIST digits (the lab's own)", "shipped", f"cnn-{cnn.key()}", cnn)]
    fashion = FASHION[0]
    if cache.is_cached(fashion, shipped):
        choices.append(Choice("The same CNN on Fashion-MNIST clothes", "shipped",
                              fashion.entry, fashion))
    choices += _stored_convnets(shipped, runs)
    if not fashion_installed:
        choices = [c for c in choices if c.dataset != "fashion_mnist"]
    return choices


def dense_partner(dataset: str):
    """The ``TrainConfig`` of the shipped dense 64-64 net of ``dataset``: the default on
    MNIST, ``core.config.FASHION[1]`` on Fashion-MNIST.

    Raises:
        ValueError: for a data set without one (CIFAR-10, an unknown name).
    """
    if dataset == "mnist":
        return default_config("dense_64_64")
    if dataset == "fashion_mnist":
        return FASHION[1]
    raise ValueError(f"no shipped dense 64-64 net for {dataset!r}")


def named_answer_html(image: np.ndarray, probabilities: np.ndarray, names, tag: str) -> str:
    """The answer block for a picture whose classes have names (Fashion-MNIST): the input,
    the most likely class's name large with "NN% sure", then one bar per class, named,
    longest first. Plain HTML, like ``core.present.answers.answer_html`` (which shows digits).

    Args:
        image: (28, 28) float32 in [0, 1], the model input.
        probabilities: (K,) softmax outputs in [0, 1], K = len(names) (10 for a data set, fewer or
            more for the class's symbols).
        names: the 10 class names in label order (``core.data.registry.class_names``).
        tag: set as the block's ``data-drawing`` attribute (a browser test waits for it).

    Raises:
        ValueError: if ``names`` and ``probabilities`` differ in length.
    """
    p = np.asarray(probabilities, np.float64)
    if len(names) != p.shape[0]:
        raise ValueError(f"{len(names)} class names for {p.shape[0]} probabilities")
    buffer = io.BytesIO()
    Image.fromarray(np.uint8(np.round(np.clip(_digit(image), 0, 1) * 255))).save(buffer, format="PNG")
    png = base64.b64encode(buffer.getvalue()).decode()
    top = int(np.argmax(p))
    rows = "".join(
        f'<span class="dl-cls{" dl-top" if c == top else ""}">{html.escape(names[c])}</span>'
        f'<span class="dl-track"><span class="dl-fill{" dl-top" if c == top else ""}" '
        f'style="width:{100 * p[c]:.1f}%"></span></span><span class="dl-pct">{p[c]:.0%}</span>'
        for c in np.argsort(-p, kind="stable"))
    css = ("<style>.dl-named { display: flex; gap: 1rem 1.5rem; flex-wrap: wrap; align-items: center; }"
           ".dl-named img { width: 4.5rem; height: 4.5rem; image-rendering: pixelated; border-radius: .25rem; }"
           ".dl-named .dl-class { font-size: 2.4rem; font-weight: 700; line-height: 1.1; }"
           ".dl-rank { display: grid; grid-template-columns: auto 1fr 2.8rem; gap: .2rem .5rem; "
           "align-items: center; max-width: 26rem; margin-top: .75rem; font-size: .9rem; }"
           ".dl-rank .dl-track { height: .8rem; background: rgba(128, 128, 128, .12); border-radius: .15rem; }"
           ".dl-rank .dl-fill { display: block; height: 100%; background: #1f77b4; border-radius: .15rem; }"
           ".dl-rank .dl-fill.dl-top { background: #d62728; } .dl-rank .dl-cls.dl-top { font-weight: 700; }"
           ".dl-rank .dl-pct { text-align: right; }</style>")
    return (f'{css}<div data-drawing="{html.escape(tag)}"><div class="dl-named">'
            f'<img src="data:image/png;base64,{png}" alt="the 28 by 28 model input">'
            f'<div><div class="dl-class" data-answer="{html.escape(names[top])}">{html.escape(names[top])}</div>'
            f'<div>{p[top]:.0%} sure</div></div></div>'
            f'<div class="dl-rank" role="img" aria-label="probability of each class">{rows}</div></div>')
