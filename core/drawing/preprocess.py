"""Turn a drawing or a photo into a digit the way MNIST's digits were made.

LeCun, Cortes and Burges: "the images were size normalized to fit in a 20x20 pixel box
while preserving their aspect ratio ... centered in a 28x28 image by computing the
center of mass of the pixels, and translating the image so as to position this point at
the center of the 28x28 field."
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

# Ink below this fraction of the strongest ink is treated as paper (noise, shadows).
INK_FLOOR = 0.2
# Less contrast than this (on a 0-1 scale) between ink and paper means "no ink".
MIN_CONTRAST = 0.15
# Fewer ink pixels than this fraction of the image means "no ink" (a dot, a speck).
MIN_INK_FRACTION = 0.0005
# A separate blob with less ink than this fraction of the largest stroke is a speck.
SPECK_FRACTION = 0.05
# Ink whose bounding box is shorter than this fraction of the image's shorter side and
# solid (more than DOT_FILL of the box inked) is a dot, not a digit: a tap on the Draw
# canvas (22-pixel pen, 280-pixel canvas) is 8% of the side and fills 78% of its box, a
# tap with a short drag 15% and 63%. A small digit in a photo passes: its thin strokes
# fill less of its box. MNIST digits span at least a third of their frame.
DOT_SIDE = 0.2
DOT_FILL = 0.6
# More ink pixels than this fraction of the image means a scribble, not a digit. The
# inkiest of the 10,000 MNIST test digits covers 36% of its 28x28 frame, 38% upscaled
# 10x (median 16%).
SCRIBBLE_FRACTION = 0.5
# More ink than this share of the border pixels: the drawing runs off the image on all
# sides, so the border is no longer paper. MNIST test digits upscaled: at most 3.1%; a
# "7" whose bar runs along the whole top edge: 32%; 96% of 288 random scribbles that
# cover more than half of a 280x280 canvas with 22-pixel strokes: more than this.
BORDER_INK_SHARE = 0.35


class NoInkError(ValueError):
    """The image holds no visible ink: nothing to classify."""


class SpeckError(NoInkError):
    """The only ink is a dot or a speck: too little to be a digit."""


class ScribbleError(ValueError):
    """The ink covers most of the image or runs off its edges: no single digit to find."""


def _grayscale(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array -> (H, W) float32 in [0, 1]."""
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
        raise ValueError(f"expected a (H, W), (H, W, 3) or (H, W, 4) image, got shape {img.shape}")
    if img.shape[0] < 8 or img.shape[1] < 8:
        raise ValueError(f"the image is too small ({img.shape[0]}x{img.shape[1]}); need at least 8x8")
    scale = 255.0 if img.dtype == np.uint8 or img.max(initial=0) > 1.0 else 1.0
    img = img.astype(np.float32) / scale
    if img.ndim == 2:
        return img
    # ITU-R BT.601 luma, as PIL's "L" conversion uses.
    luma = img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114
    if img.shape[2] == 3:
        return luma
    return flatten_alpha(luma, img[..., 3])


def flatten_alpha(luma: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Lay an image with transparency on paper: (H, W) float32 luma and alpha in [0, 1]
    -> (H, W) float32 in [0, 1].

    Where the background is transparent (a canvas without a background colour, a PNG
    cut-out) the strokes are in alpha and the hidden colour is arbitrary (often black):
    the strokes go on paper of the opposite brightness so they stay visible.
    """
    if alpha.min() > 0.99:
        return luma
    drawn = alpha > 0.5
    ink_is_light = drawn.any() and luma[drawn].mean() > 0.5
    paper = 0.0 if ink_is_light else 1.0
    return luma * alpha + paper * (1.0 - alpha)


def to_mnist(image: np.ndarray) -> np.ndarray:
    """Make an MNIST-style digit from a drawing or a photo.

    Args:
        image: a 280x280 RGBA canvas or any grayscale (H, W), RGB or RGBA image, uint8
            0-255 or float 0-1; dark ink on light paper or light ink on dark.

    Returns:
        (28, 28) float32 in [0, 1], ink high: the ink cropped, its longer side scaled to
        20 pixels keeping the aspect ratio, placed in 28x28 with its centre of mass at
        the centre (as MNIST was made, see the module docstring). Specks far smaller
        than the largest stroke are dropped first.

    Raises:
        SpeckError: (a NoInkError) if the only ink is a speck or a dot: ink on fewer
            than MIN_INK_FRACTION of the pixels, or a solid blob smaller than DOT_SIDE
            of the image (a tap on the canvas).
        NoInkError: if the image is blank (no ink with enough contrast).
        ScribbleError: if ink covers more than SCRIBBLE_FRACTION of the image, or more
            than BORDER_INK_SHARE of its border (a scribble over the whole canvas, a
            photo with a dark table around the paper). A scribble so dense that it fills
            nearly the whole border reads as light paper with dark gaps; that case
            is not caught.
        ValueError: if the array is not an image of a supported shape.
    """
    gray = _grayscale(image)
    # The paper is the brightness of the border; on light paper, invert so ink is high.
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    paper = float(np.median(border))
    ink = gray - paper if paper < 0.5 else paper - gray
    ink = np.clip(ink, 0.0, None)
    strongest = float(ink.max())
    if strongest < MIN_CONTRAST:
        raise NoInkError("no ink found: draw a digit (or upload a photo of one)")
    ink = ink / strongest
    ink[ink < INK_FLOOR] = 0.0
    inked = np.count_nonzero(ink)
    if inked < MIN_INK_FRACTION * ink.size:
        raise SpeckError("only a speck of ink found: draw a bigger digit")
    edge = np.concatenate([ink[0], ink[-1], ink[1:-1, 0], ink[1:-1, -1]])
    if inked > SCRIBBLE_FRACTION * ink.size or np.mean(edge > 0.5) > BORDER_INK_SHARE:
        raise ScribbleError("the ink covers most of the image: clear it and draw one digit")
    # Drop specks (dust, a shadow at the edge of a photo) so they do not widen the crop:
    # keep the strokes whose ink is at least SPECK_FRACTION of the largest stroke's.
    strokes, count = ndimage.label(ink > 0, structure=np.ones((3, 3)))
    if count > 1:
        weight = ndimage.sum(ink, strokes, index=np.arange(1, count + 1))
        keep = np.flatnonzero(weight >= SPECK_FRACTION * weight.max()) + 1
        ink = np.where(np.isin(strokes, keep), ink, 0.0).astype(np.float32)

    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    height, width = crop.shape
    small_box = max(height, width) < DOT_SIDE * min(ink.shape)
    if small_box and np.count_nonzero(crop) > DOT_FILL * crop.size:
        raise SpeckError("only a dot of ink found: draw a bigger digit")
    factor = 20.0 / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    # Lanczos keeps thin strokes' anti-aliased edges, as MNIST's own resampling did.
    small = np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.LANCZOS))
    small = np.clip(small, 0.0, 1.0)

    digit = np.zeros((28, 28), np.float32)
    top, left = (28 - small.shape[0]) // 2, (28 - small.shape[1]) // 2
    digit[top: top + small.shape[0], left: left + small.shape[1]] = small
    cy, cx = ndimage.center_of_mass(digit)
    shift = (int(round(13.5 - cy)), int(round(13.5 - cx)))
    digit = ndimage.shift(digit, shift, order=0, mode="constant", cval=0.0)
    return digit.astype(np.float32)
