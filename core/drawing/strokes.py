"""Strokes drawn on the Draw page's pad, made into an image as the pad showed them.

The pad (pages/components/sketchpad.js) sends each stroke as points in [0, 1] of its side, so a
digit drawn on a 200 px phone and on a 400 px projector gives the same image here. The
points come from a visitor's browser: anything else is refused with one sentence.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

# The pen: 22 px on the 280 px canvas the lab's classifiers were tried with by hand
# (40 of 40 hand-drawn digits read right), i.e. about the width of an MNIST stroke
# (2-3 of 28 pixels) once to_mnist scales the digit to its 20-pixel box.
SIDE = 280
BRUSH = 22 / SIDE
# A digit takes a few strokes of a few hundred points; far more is not a drawing.
MAX_STROKES = 200
MAX_POINTS = 20_000


class StrokeError(ValueError):
    """The strokes are not a list of point lists in [0, 1] (a tampered message)."""


def to_image(strokes, side: int = SIDE, brush: float = BRUSH) -> np.ndarray:
    """Draw ``strokes`` white on black, as the pad shows them.

    Args:
        strokes: a list of strokes, each a non-empty list of [x, y] points, x to the
            right and y down, in [0, 1] of the pad's side (values a little outside are
            clipped, as the pad clips them). A stroke of one point is a dot.
        side: the image's side in pixels.
        brush: the pen's width as a fraction of the side.

    Returns:
        (side, side) uint8 array, 0 (paper) to 255 (ink): round-capped, round-joined
        lines of width ``brush * side``; all zero for no strokes.

    Raises:
        StrokeError: if ``strokes`` is not such a list, has more than MAX_STROKES
            strokes or MAX_POINTS points, or holds a number that is not finite.
    """
    if not isinstance(strokes, list) or len(strokes) > MAX_STROKES:
        raise StrokeError(f"the drawing must be a list of at most {MAX_STROKES} strokes")
    image = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(image)
    width = max(1, round(brush * side))
    total = 0
    for stroke in strokes:
        if not isinstance(stroke, list) or not stroke:
            raise StrokeError("each stroke must be a non-empty list of points")
        total += len(stroke)
        if total > MAX_POINTS:
            raise StrokeError(f"the drawing has more than {MAX_POINTS} points")
        points = []
        for p in stroke:
            if (not isinstance(p, (list, tuple)) or len(p) != 2
                    or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in p)):
                raise StrokeError("each point must be two finite numbers")
            points.append((min(max(p[0], 0.0), 1.0) * side, min(max(p[1], 0.0), 1.0) * side))
        if len(points) > 1:
            draw.line(points, fill=255, width=width, joint="curve")
        # PIL's lines end flat: a disc at each end gives the pad's round caps (and a tap's dot).
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return np.asarray(image)
