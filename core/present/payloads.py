"""What the pages' own browser components receive: JSON-ready dicts, their frames in one
sprite PNG (``core.present.sprites``), so a slider or a pointer moving over them needs no
server round trip; and the confusion matrix as cells a finger can tap."""

from __future__ import annotations

import numpy as np
from plotly.colors import sample_colorscale

from core.present.figures import VERSION_COLORS, VERSIONS
from core.present.sprites import data_url, sprite_png


def noise_payload(images: np.ndarray, labels: np.ndarray, frames: dict, curve_rows: list[dict] | None,
                  classifier: str, start: float, factor: int, token: str) -> dict:
    """The Denoising component's data for one set of digits.

    Args:
        images: (n, 28, 28) float32 in [0, 1], the originals; ``labels`` (n,) their classes.
        frames: ``core.analysis.inference.noise_frames`` of ``images``.
        curve_rows: the noise curve's rows (``run_noise_curve``), or None when not cached.
        classifier: the classifier's name in words ("CNN").
        start: the slider's first level; ``factor``: each digit's size in 28-pixel units.
        token: names this set of digits; the component rebuilds only when it changes.

    Returns:
        {"sprite": a PNG data URL whose row 0 holds the originals and row 1 + 4 * i + v
        version v (``VERSIONS`` order) at level i, "n", "levels", "labels", "versions"
        [{"key", "title", "color"}], "answers" {version: [level][digit] int}, "curve" (levels,
        accuracy and PSNR per version; None without a curve), "classifier", "start" (an
        index into levels), "factor", "token"}.
    """
    levels = list(frames["levels"])
    versions = [frames["seasoned"], *(frames["denoised"][key] for key in list(VERSIONS)[1:])]
    # Level by level, the four versions of the 8 digits: row 1 + 4 * i + v.
    sheet = np.concatenate([np.asarray(images)[None], np.stack(versions, axis=1).reshape(-1, *np.shape(images))])
    answers = {"seasoned": frames["seasoned_labels"], **frames["denoised_labels"]}
    return {
        "sprite": data_url(sprite_png(sheet)), "n": len(images), "levels": levels,
        "labels": [int(y) for y in labels],
        "versions": [{"key": key, "title": title, "color": VERSION_COLORS[key]} for key, title in VERSIONS.items()],
        "answers": {key: np.asarray(answers[key]).astype(int).tolist() for key in VERSIONS},
        "curve": _curve(curve_rows) if curve_rows else None, "classifier": classifier,
        "start": int(np.argmin(np.abs(np.asarray(levels) - start))), "factor": factor, "token": token,
    }


def _curve(rows: list[dict]) -> dict:
    # PSNR of an image equal to the clean one is infinite (stored as a 100 dB cap): a gap.
    def value(row, key):
        return None if row[key] >= 100 else float(row[key])
    return {"levels": [float(r["noise_level"]) for r in rows],
            "accuracy": {key: [float(r[f"{key}_accuracy"]) for r in rows] for key in VERSIONS},
            "psnr": {key: [value(r, f"{key}_psnr") for r in rows] for key in VERSIONS}}


def latent_map_payload(grid: np.ndarray, low: tuple, high: tuple, codes: np.ndarray, labels: np.ndarray,
                       colors: list[str], factor: int, token: str) -> dict:
    """The latent map component's data: the decoder's digits on a fine grid (blended in
    the browser between the four nearest points) and the test codes drawn under them.

    Args:
        grid: ``core.analysis.latent.latent_grid`` (size, size, 28, 28) over ``low``..``high``.
        codes: (m, 2) float32 test codes; ``labels`` (m,) their classes; ``colors`` 10 CSS colours.
        factor: the decoded digit's size in 28-pixel units; ``token`` names the payload.

    Returns:
        {"mode": "map", "sprite" (row r, column c: grid[r, c]), "grid" {"size", "low",
        "high"}, "points" {"x", "y", "label"} (codes rounded to 0.001), "colors",
        "start" (0, 0) clipped to the map, "factor", "token", "layout"}.
    """
    low, high = [float(v) for v in low], [float(v) for v in high]
    return {"mode": "map", "layout": "map", "sprite": data_url(sprite_png(grid)),
            "grid": {"size": int(grid.shape[0]), "low": low, "high": high},
            "points": {"x": np.round(codes[:, 0], 3).tolist(), "y": np.round(codes[:, 1], 3).tolist(),
                       "label": np.asarray(labels).astype(int).tolist()},
            "colors": list(colors), "start": [min(max(0.0, low[i]), high[i]) for i in range(2)],
            "factor": factor, "token": token}


def morph_payload(image_a: np.ndarray, image_b: np.ndarray, frames: np.ndarray, a: int, b: int, factor: int) -> dict:
    """The interpolation component's data: the two test digits (#``a``, #``b``, each
    (28, 28)) and the decoded walk between their codes, ``frames`` (steps, 28, 28).

    Returns:
        {"mode": "morph", "sprite" (row 0: the two originals; row 1: the frames), "steps",
        "from", "to", "start_index" (the middle), "factor", "token", "layout"}.
    """
    steps = len(frames)
    top = np.zeros((steps, 28, 28), np.float32)
    top[0], top[1] = image_a, image_b
    return {"mode": "morph", "layout": "morph", "sprite": data_url(sprite_png(np.stack([top, frames]))),
            "steps": steps, "from": int(a), "to": int(b), "start_index": steps // 2, "factor": factor,
            "token": f"{a}-{b}-{steps}"}


def samples_payload(batches: np.ndarray, digit: int, factor: int, token: str) -> dict:
    """The conditional VAE component's data: ``batches`` (B, k, 28, 28) of generated
    ``digit`` s, shown k at a time; its button shows the next batch, and after the last one
    asks the server for more (trigger "more").

    Returns:
        {"mode": "samples", "sprite" (row i: batch i), "batches", "per_batch", "digit",
        "factor", "token", "layout"}.
    """
    return {"mode": "samples", "layout": f"samples-{batches.shape[1]}", "sprite": data_url(sprite_png(batches)),
            "batches": int(batches.shape[0]), "per_batch": int(batches.shape[1]), "digit": int(digit),
            "factor": factor, "token": token}


def confusion_payload(matrix: np.ndarray, names: tuple, noun: str, selected: tuple[int, int], large: bool) -> dict:
    """The confusion-matrix component's data: a (10, 10) matrix of counts (true classes
    down, answers across) as cells to click, the diagonal (read right) in greens and the
    mistakes in reds, each on its own scale (on one scale the diagonal's ~1,000 would wash
    out the mistakes' 1-10), a mistake-free cell white.

    Args:
        names: the 10 class names; ``noun``: "digit" or "image" (words for each cell);
        selected: the (true, answer) cell outlined; ``large``: projector mode's sizes.

    Returns:
        {"names", "axis" ("true digit" or "true class"), "counts" [[int]], "colors" and
        "ink" [[CSS colour]] (background and text), "labels" [[words for a screen reader]],
        "selected" [true, answer], "large"}.
    """
    matrix = np.asarray(matrix)
    diagonal = np.eye(len(matrix), dtype=bool)
    top_right = max(1, matrix[diagonal].max(initial=1)) * 2.5
    top_wrong = max(1, np.where(diagonal, 0, matrix).max(initial=1)) * 1.3
    colors, ink, labels = [], [], []
    for t in range(len(matrix)):
        row_colors, row_ink, row_labels = [], [], []
        for p in range(len(matrix)):
            count = int(matrix[t, p])
            if t == p or count:
                scale, top = ("Greens", top_right) if t == p else ("Reds", top_wrong)
                color = sample_colorscale(scale, [min(1.0, count / top)])[0]
            else:
                color = "rgb(255, 255, 255)"
            red, green, blue = (float(v) for v in color[color.index("(") + 1:-1].split(","))
            row_colors.append(color)
            # Dark text on a light cell, white on a dark one (relative luminance, sRGB weights).
            row_ink.append("#000" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 140 else "#fff")
            row_labels.append(f"true {names[t]}, read as {names[p]}: {count} {noun}{'s' if count != 1 else ''}")
        colors.append(row_colors)
        ink.append(row_ink)
        labels.append(row_labels)
    return {"names": list(names), "axis": "true digit" if noun == "digit" else "true class",
            "counts": matrix.astype(int).tolist(), "colors": colors, "ink": ink, "labels": labels,
            "selected": [int(selected[0]), int(selected[1])], "large": bool(large)}
