"""The benchmark: every accuracy, speed and build-time target, measured from the cache.

``python -m core bench`` prints the table in markdown and writes it as JSON. Accuracy
is measured afresh on the 10,000 MNIST test digits; training and rebuild times are read
from the records the training command wrote beside each artifact; latencies are timed
here, server side, on whatever machine runs the benchmark.
"""

from __future__ import annotations

import io
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core import cache
from core import data as data_mod
from core.training import DEFAULTS, default_config, library_versions

NOISE_TARGETS = {0.0: 0.990, 0.5: 0.96, 0.7: 0.85}
RESULTS = data_mod.ROOT / "benchmarks" / "results.json"  # shown by README.md and the Overview page


@dataclass
class Row:
    """One benchmark line: ``value`` against ``target`` (None: reported, no target).

    ``value`` None means it could not be measured (e.g. no rebuild record yet).
    """

    what: str
    value: float | None
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    course: str = ""

    @property
    def passed(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def shown(self, value) -> str:
        if value is None:
            return "not measured"
        if self.unit == "%":
            return f"{100 * value:.2f}%"
        if self.unit == "min":
            return f"{value:.1f} min"
        return f"{value:.1f} {self.unit}"


def _p95_ms(function, inputs) -> tuple[float, float]:
    """(median, 95th percentile) wall time of ``function(x)`` over ``inputs``, in ms,
    after three warm-up calls."""
    for x in inputs[:3]:
        function(x)
    times = []
    for x in inputs:
        start = time.perf_counter()
        function(x)
        times.append(1000 * (time.perf_counter() - start))
    return float(np.median(times)), float(np.percentile(times, 95))


def _png(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.uint8(255 * np.clip(image, 0, 1))).save(buffer, format="PNG")
    return buffer.getvalue()


def canvas_images(digits: np.ndarray) -> list[np.ndarray]:
    """Test digits as the Draw page's canvas returns them: (280, 280, 4) uint8 RGBA,
    white ink on black, upscaled 10x with bilinear interpolation."""
    from PIL import Image

    out = []
    for digit in digits:
        grey = Image.fromarray(np.uint8(255 * digit)).resize((280, 280), Image.BILINEAR)
        rgb = np.asarray(grey)[..., None].repeat(3, axis=2)
        out.append(np.concatenate([rgb, np.full((280, 280, 1), 255, np.uint8)], axis=2))
    return out


def measure(mnist=None) -> list[Row]:
    """Measure every row.

    Raises:
        FileNotFoundError: if a needed model or the sweep is not cached.
    """
    from core.augment import distort
    from core.experiments import accuracy, load_sweep, sweep_best
    from core.inference import denoise_and_classify, probabilities
    from core.latent import generate
    from core.noise import salt_and_pepper
    from core.preprocess import to_mnist

    (_, _), (x_test, y_test) = mnist or data_mod.load_mnist()
    x_test = data_mod.to_float(x_test)
    models = {kind: cache.load(default_config(kind))
              for kind in ("dense_64_64", "cnn", "denoising_autoencoder", "conv_denoiser", "cvae")}
    cnn = models["cnn"].model
    rows = [Row("dense_64_64, 10 epochs, test accuracy",
                accuracy(models["dense_64_64"].model, x_test, y_test), "%", 0.978,
                course="97.1–97.5%")]

    sweep = load_sweep()
    if sweep is None:
        raise FileNotFoundError("the weight-decay sweep is not cached: python -m core train sweep")
    best = sweep_best(sweep)
    rows.append(Row(f"dense_500_300, L2 {best['l2']:.0e} (best by validation), mean test accuracy "
                    f"of {best['replicates']} replicates", best["test_accuracy_mean"], "%", 0.986,
                    course="best 98.33%; Hinton 98.47%"))

    cnn_metrics, cnn_history = models["cnn"].metrics, models["cnn"].history
    rows.append(Row("CNN test accuracy", accuracy(cnn, x_test, y_test), "%", 0.996,
                    course="98.8–99.26%"))
    rows.append(Row("CNN training time", cnn_metrics["training_seconds"] / 60, "min", 10.0, False))
    reached = [s for s, a in zip(cnn_history["seconds"], cnn_history["test_accuracy"]) if a >= 0.99]
    rows.append(Row("CNN time to reach 99.0% test accuracy", reached[0] / 60 if reached else None, "min"))
    import tensorflow as tf

    distorted = distort(tf.constant(x_test), tf.random.Generator.from_seed(1)).numpy()
    rows.append(Row("CNN on randomly distorted test digits (core.augment)",
                    accuracy(cnn, distorted, y_test), "%"))

    conv = models["conv_denoiser"].model
    for level, target in NOISE_TARGETS.items():
        seasoned = salt_and_pepper(x_test, level, np.random.default_rng(0))
        denoised = conv.predict(seasoned, batch_size=1000, verbose=0)
        rows.append(Row(f"conv denoiser then CNN, noise {level:.1f}", accuracy(cnn, denoised, y_test),
                        "%", target, course={0.0: "95.4%", 0.5: "86.2%", 0.7: "51.4%"}[level]))

    cvae = models["cvae"]
    decoder, latent_dim = cvae.model.get_layer("decoder"), cvae.metrics["config"]["latent_dim"]
    samples = np.concatenate([generate(decoder, d, 100, latent_dim, seed=d) for d in range(10)])
    requested = np.repeat(np.arange(10), 100)
    rows.append(Row("cvae: CNN agrees with the requested digit, 1,000 samples",
                    accuracy(cnn, samples, requested), "%", 0.98))

    drawings = canvas_images(x_test[:200])
    _, p95 = _p95_ms(lambda image: probabilities(cnn, to_mnist(image)), drawings)
    rows.append(Row("drawn 280×280 image to CNN probabilities, p95", p95, "ms", 10.0, False,
                    course="Keras predict on one image about 45 ms"))

    denoisers = {"dense": models["denoising_autoencoder"].model, "conv": conv}
    grids = [(x_test[8 * i: 8 * i + 8], 0.05 * (i % 21)) for i in range(100)]

    def slider_move(grid):
        # What the Denoising page's fragment does per move: season, denoise three
        # ways, classify, and encode the 40 enlarged digits as PNG for the browser.
        out = denoise_and_classify(grid[0], grid[1], 1000, denoisers, cnn)
        for images in (grid[0], out["seasoned"], *out["denoised"].values()):
            for image in images:
                _png(np.kron(image, np.ones((3, 3), np.float32)))

    _, p95 = _p95_ms(slider_move, grids)
    rows.append(Row("noise slider move to new 8-digit denoised grids (3 denoisers), p95", p95, "ms",
                    100.0, False))

    rebuild_file = cache.cache_dir() / "rebuild.json"
    if rebuild_file.exists():
        rows.append(Row("full cache rebuild, wall time of python -m core train --all --force",
                        cache.read_json(rebuild_file)["seconds"] / 60, "min", 45.0, False))
    else:
        rows.append(Row("full cache rebuild, sum of every artifact's recorded build time",
                        build_seconds() / 60, "min", 45.0, False))
    return rows


def build_seconds() -> float:
    """Seconds the training command recorded for building every default model, the sweep
    and the noise curve (the sweep's time already holds the default dense_500_300).

    Raises:
        FileNotFoundError: if one of them is not cached.
    """
    from core.experiments import SweepConfig, load_noise_curve, load_sweep

    sweep, curve = load_sweep(), load_noise_curve()
    if sweep is None or curve is None:
        raise FileNotFoundError("the sweep or the noise curve is not cached: python -m core train --all")
    in_sweep = SweepConfig().runs()
    models = sum(cache.load_records(config)[1]["training_seconds"]
                 for config in (default_config(kind) for kind in DEFAULTS) if config not in in_sweep)
    return models + sweep["seconds"] + curve["seconds"]


def machine() -> dict:
    """Where the benchmark ran: CPU model, core count, OS and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "system": platform.platform(), **library_versions()}


def markdown(rows: list[Row], info: dict) -> str:
    """The table as markdown, with the date and machine underneath."""
    lines = ["| what | measured | target | course | |", "| --- | ---: | ---: | --- | --- |"]
    for row in rows:
        target = "" if row.target is None else ("≥ " if row.higher_is_better else "≤ ") + row.shown(row.target)
        mark = {True: "pass", False: "**miss**", None: ""}[row.passed]
        lines.append(f"| {row.what} | {row.shown(row.value)} | {target} | {row.course} | {mark} |")
    lines.append(f"\nMeasured {info['date']} on {info['cpu']} ({info['cores']} cores, no GPU), "
                 f"TensorFlow {info['tensorflow']}, Keras {info['keras']}.")
    return "\n".join(lines)


def run(json_path=None) -> tuple[list[Row], dict]:
    """Measure, then write ``{"date", "machine", "rows"}`` to ``json_path`` if given."""
    rows = measure()
    info = {"date": time.strftime("%Y-%m-%d"), **machine()}
    if json_path:
        json_path = Path(json_path)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        cache.write_json(json_path, {"date": info["date"], "machine": info,
                                     "rows": [{**asdict(r), "passed": r.passed} for r in rows]})
    return rows, info
