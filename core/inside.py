"""What a classifier computes for one digit: feature maps, first-layer weights and two
maps of which pixels the answer depends on (occlusion and integrated gradients).

Every function takes a (28, 28) float32 digit in [0, 1], ink high, and a Keras
classifier as ``core.models`` builds it ((batch, 28, 28) -> (batch, 10) softmax). The
per-model TensorFlow functions are built on first use and kept beside the model (a weak
reference, so they go with it): after that a digit costs a few compiled calls, not
``model.predict`` (about 45 ms each on 2 cores, ../shared/TIPS.md).
"""

from __future__ import annotations

import weakref

import numpy as np

# Occlusion: a 6x6 patch of zeros (no ink, MNIST's background) slid with stride 2, so
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
        ([(layer name, (h, w, channels) float32 >= 0 after relu), ...] in layer order,
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

    A map that is zero everywhere (a relu unit that did not fire) stays black. Maps are
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
    scaled = np.where(peak > 0, maps / np.where(peak > 0, peak, 1), 0.0)
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
        # Small maps (4x4) are enlarged more, so each layer's grid is about as wide.
        layers.append((layer_title(layer), values.shape, tile(values, scale=max(scale, 48 // values.shape[0]))))
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
