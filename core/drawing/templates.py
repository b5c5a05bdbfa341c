"""A scripted class: digits and symbols as pad strokes, each drawn a little differently.

No recording of real children's handwriting ships with the lab, so the benchmark, the
screenshots and the tests draw from these shapes: one polyline template per class, then a
random slant, rotation, scale, shift and wobble per drawing (what differs between two
people's digits). Numbers measured on them are numbers on this scripted class, and are
labelled so; a real class's own digits are what the Collect page is for.
"""

from __future__ import annotations

import numpy as np

# Each class: strokes of [x, y] points in [0, 1] of the pad, x right, y down.
_ARC = [[0.5 + 0.22 * np.sin(t), 0.5 - 0.32 * np.cos(t)] for t in np.linspace(0, 2 * np.pi, 17)]
SHAPES: dict[str, list] = {
    "0": [_ARC],
    "1": [[[0.42, 0.25], [0.52, 0.15], [0.52, 0.85]]],
    "2": [[[0.3, 0.3], [0.4, 0.17], [0.6, 0.17], [0.7, 0.3], [0.65, 0.45], [0.3, 0.85], [0.75, 0.85]]],
    "3": [[[0.3, 0.2], [0.6, 0.15], [0.7, 0.3], [0.5, 0.48], [0.72, 0.62], [0.65, 0.82], [0.3, 0.85]]],
    "4": [[[0.58, 0.15], [0.25, 0.6], [0.78, 0.6]], [[0.6, 0.35], [0.6, 0.88]]],
    "5": [[[0.7, 0.15], [0.35, 0.15], [0.32, 0.45], [0.6, 0.45], [0.72, 0.62], [0.62, 0.82], [0.3, 0.84]]],
    "6": [[[0.65, 0.15], [0.4, 0.35], [0.3, 0.65], [0.45, 0.85], [0.65, 0.78], [0.65, 0.58], [0.45, 0.52],
           [0.32, 0.65]]],
    "7": [[[0.28, 0.18], [0.74, 0.18], [0.45, 0.86]]],
    "8": [[[0.62, 0.22], [0.5, 0.15], [0.35, 0.25], [0.42, 0.42], [0.65, 0.6], [0.6, 0.82], [0.42, 0.85],
           [0.35, 0.68], [0.58, 0.42], [0.65, 0.28], [0.62, 0.22]]],
    "9": [[[0.66, 0.35], [0.55, 0.18], [0.38, 0.22], [0.35, 0.4], [0.5, 0.48], [0.66, 0.35], [0.64, 0.86]]],
    "-": [[[0.2, 0.5], [0.8, 0.5]]],
    "|": [[[0.5, 0.15], [0.5, 0.85]]],
    "+": [[[0.2, 0.5], [0.8, 0.5]], [[0.5, 0.2], [0.5, 0.8]]],
    "=": [[[0.22, 0.38], [0.78, 0.38]], [[0.22, 0.62], [0.78, 0.62]]],
    "x": [[[0.25, 0.25], [0.75, 0.75]], [[0.75, 0.25], [0.25, 0.75]]],
}


def scripted(label: str, rng: np.random.Generator) -> list:
    """One drawing of ``label`` (a key of ``SHAPES``) as the pad would send it: its
    template slanted (±0.3), rotated (±15°), scaled (0.6-1.05), shifted (±0.12) and
    wobbled (σ 0.015), points clipped to [0, 1].

    Raises:
        KeyError: for a label without a shape.
    """
    slant, angle = rng.uniform(-0.3, 0.3), np.radians(rng.uniform(-15, 15))
    scale, shift = rng.uniform(0.6, 1.05), rng.uniform(-0.12, 0.12, 2)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    strokes = []
    for stroke in SHAPES[label]:
        points = np.asarray(stroke, float) - 0.5
        points[:, 0] += slant * -points[:, 1]
        points = scale * points @ turn.T + 0.5 + shift + rng.normal(0, 0.015, points.shape)
        strokes.append(np.clip(points, 0, 1).round(4).tolist())
    return strokes
