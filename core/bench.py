"""The benchmark: every target of ``core.targets``, measured on the machine that runs it.

``python -m core bench`` prints a markdown table and writes it as JSON. Each row is
either measured afresh from the committed cache (accuracies on the 10,000 MNIST test
digits; latencies timed server side over exactly what a page does per interaction)
or labelled *recorded*, with the file and machine it was recorded on: training and
rebuild times, which only a new training run could measure again. A recorded row is
never marked pass or miss.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from core.analysis import adversarial, inside
from core.analysis.compare import comparable_runs
from core.classset import db, evaluate, samples, symbols
from core.analysis.inference import noise_frames, probabilities
from core.analysis.latent import generate
from core.analysis.mistakes import DIGITS, analyse, cell_view, test_predictions
from core.config import DROPOUT_PAIR, FASHION, SWEEPS, default_config, seeded_configs
from core.data import images, mnist as data_mod
from core.data.augment import distort
from core.data.noise import salt_and_pepper
from core.data.registry import load
from core.drawing.preprocess import to_mnist
from core.drawing.templates import scripted
from core.paths import ROOT
from core.present.answers import answer_html
from core.present.payloads import confusion_payload, noise_payload
from core.store import cache
from core.targets import TARGETS, Target, shown, target_text
from core.training.experiments import accuracy, load_noise_curve, load_sweep
from core.training.run import machine
from core.training.speed import matmul_gflops, measure_all, seconds_to
from core.training.sweeps import kept_configs, sweep_best
from core.training.timing import leave_one_out, observations

RESULTS = ROOT / "benchmarks" / "results.json"  # shown by README.md and the Overview page
BROWSER = ROOT / "benchmarks" / "browser.json"  # written by benchmarks/browser.py


@dataclass
class Row:
    """One benchmark line.

    ``value`` is in ``unit`` ("%": a fraction in [0, 1]); None when it could not be
    measured. ``median`` is set for latency rows, whose ``value`` is the 95th
    percentile. ``recorded`` names where a value that was not measured now comes from.
    """

    what: str
    value: float | None
    unit: str
    target: Target | None = None
    median: float | None = None
    recorded: str = ""

    @property
    def passed(self) -> bool | None:
        """True or False against the target; None without a target, a value, or when recorded."""
        if self.target is None or self.value is None or self.recorded:
            return None
        return self.target.met(self.value)

    def shown(self, value) -> str:
        return shown(self.unit, value) if value is not None else "not measured"


def timings_ms(function, inputs, warmup: int = 3) -> tuple[float, float]:
    """(median, 95th percentile) wall time of ``function(x)`` for each of ``inputs``, in
    ms, after ``warmup`` untimed calls (compiled functions and caches warmed up).

    Raises:
        ValueError: if ``inputs`` is empty.
    """
    if not inputs:
        raise ValueError("nothing to time")
    for x in inputs[:warmup]:
        function(x)
    times = []
    for x in inputs:
        start = time.perf_counter()
        function(x)
        times.append(1000 * (time.perf_counter() - start))
    return float(np.median(times)), float(np.percentile(times, 95))


def encode_image(image: np.ndarray) -> bytes:
    """What ``st.image`` sends the browser for a float (H, W) image in [0, 1]: 8-bit
    greyscale JPEG at quality 90 (Streamlit's encoding of numpy images)."""
    buffer = io.BytesIO()
    Image.fromarray(np.uint8(np.clip(image, 0, 1) * 255)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def canvas_images(digits: np.ndarray) -> list[np.ndarray]:
    """Test digits as the Draw page's canvas returns them: (280, 280, 4) uint8 RGBA,
    white ink on black, upscaled 10x with bilinear interpolation."""
    out = []
    for digit in digits:
        grey = Image.fromarray(np.uint8(255 * digit)).resize((280, 280), Image.BILINEAR)
        rgb = np.asarray(grey)[..., None].repeat(3, axis=2)
        out.append(np.concatenate([rgb, np.full((280, 280, 1), 255, np.uint8)], axis=2))
    return out


def draw_stroke(image: np.ndarray, classifiers) -> None:
    """What the Draw page computes per stroke: preprocess the (280, 280, 4) uint8 pad
    image, run each Keras classifier and build the answer block (input image, digits,
    probability bars) as st.html sends it."""
    digit = to_mnist(image)
    answer_html(digit, {f"model {i}": probabilities(model, digit) for i, model in enumerate(classifiers)}, "bench")


def inside_drawing(image: np.ndarray, cnn) -> None:
    """What the Inside page computes per drawing: preprocess the (280, 280, 4) uint8 pad
    image, then feature maps, probabilities, occlusion and integrated gradients
    (``core.analysis.inside.inspect``), the answer block, the two saliency images as JPEG and the
    five feature-map grids as PNG, the way st.image encodes them."""
    digit = to_mnist(image)
    result = inside.inspect(cnn, digit)
    answer_html(digit, {"CNN": result["probabilities"]}, "bench")
    for values in (result["occlusion"], result["gradients"]):
        Image.fromarray(inside.saliency_image(values, digit)).save(io.BytesIO(), format="JPEG", quality=100)
    for _, _, grid in result["layers"]:
        Image.fromarray(grid).save(io.BytesIO(), format="PNG")


def _mean_test_accuracy(configs, x_test, y_test) -> float:
    return float(np.mean([accuracy(cache.load(c).model, x_test, y_test) for c in configs]))


def _recorded_in(path: Path, info: dict | None) -> str:
    where = f"{path.relative_to(cache.cache_dir())}"
    if info:
        where += f", {info.get('cpu', '?')}, {info.get('cores', '?')} cores"
    return where


def measure(mnist=None, repeats: int = 200) -> list[Row]:
    """Measure every row (see the module docstring): accuracies from the committed cache
    on the 10,000 test digits, then the pages' latencies, then the recorded rows.

    Args:
        repeats: interactions timed per latency row.

    Raises:
        FileNotFoundError: if a needed model or sweep is not cached.
    """
    mnist = mnist or data_mod.load_mnist()
    _, _, (x_test, y_test) = mnist.splits()
    models = {kind: cache.load(default_config(kind))
              for kind in ("dense_64_64", "denoising_autoencoder", "conv_denoiser", "cvae")}
    cnns = [cache.load(config) for config in seeded_configs("cnn")]
    cnn = cnns[0].model
    rows = [Row("dense_64_64, test accuracy", accuracy(models["dense_64_64"].model, x_test, y_test), "%",
                TARGETS["dense_64_64"])]
    rows += sweep_rows(x_test, y_test) + cnn_rows(cnns, x_test, y_test)
    try:
        rows += fashion_and_dropout_rows(x_test, y_test)
    except (FileNotFoundError, images.DataUnavailableError) as exc:
        # Fashion-MNIST is optional to the lab (the pages say so); its rows say why they are empty.
        rows.append(Row("Fashion-MNIST and dropout rows", None, "%", recorded=f"not measured: {exc}"))
    rows += harder_digits_rows(models, cnn, x_test, y_test)
    rows += latency_rows(models, cnn, x_test, y_test, repeats)
    rows += class_rows()
    rows += fool_rows(cnn, models["dense_64_64"].model, x_test, y_test)
    rows += browser_rows()
    rows.append(estimate_row())
    rows.append(rebuild_row())
    return rows


def sweep_rows(x_test: np.ndarray, y_test: np.ndarray) -> list[Row]:
    """The weight-decay sweeps' rows: per sweep, the factor chosen on validation and the
    l2 = 0 control, each the mean test accuracy of its replicates."""
    rows = []
    for sweep_config in SWEEPS:
        sweep = load_sweep(sweep_config)
        if sweep is None:
            raise FileNotFoundError(f"the sweep on {sweep_config.name} digits is not cached: "
                                    "python -m core train sweep")
        kept = kept_configs(sweep)
        chosen = sweep_best(sweep)
        target = TARGETS["dense_500_300_plain"] if sweep_config.name == "plain" else None
        if chosen["l2"] > 0:
            rows.append(Row(f"dense_500_300, {sweep_config.name} digits, L2 {chosen['l2']:.2g} (chosen on "
                            f"validation), mean test accuracy of {chosen['replicates']} replicates",
                            _mean_test_accuracy([c for c in kept if c.l2 > 0], x_test, y_test), "%", target))
        control = [c for c in kept if c.l2 == 0]
        label = " (chosen on validation)" if chosen["l2"] == 0 else ""
        rows.append(Row(f"dense_500_300, {sweep_config.name} digits, l2 = 0 control{label}, mean test "
                        f"accuracy of {len(control)} replicates", _mean_test_accuracy(control, x_test, y_test),
                        "%", target if chosen["l2"] == 0 else None))
    return rows


def cnn_rows(cnns: list, x_test: np.ndarray, y_test: np.ndarray) -> list[Row]:
    """The CNN's (``cnns``: its shipped entries, one per seed) and the quick CNN's test
    accuracy per seed and their means."""
    scores = [accuracy(entry.model, x_test, y_test) for entry in cnns]
    rows = [Row(f"CNN seed {entry.metrics['seed']}, test accuracy", score, "%", TARGETS["cnn_each"])
            for entry, score in zip(cnns, scores)]
    rows.append(Row(f"CNN, mean test accuracy of {len(cnns)} seeds", float(np.mean(scores)), "%",
                    TARGETS["cnn_mean"]))
    quick = [(c, accuracy(cache.load(c).model, x_test, y_test)) for c in seeded_configs("quick_cnn")]
    rows += [Row(f"quick_cnn seed {c.seed}, test accuracy", score, "%", TARGETS["quick_cnn_each"]) for c, score in quick]
    rows.append(Row(f"quick_cnn, mean test accuracy of {len(quick)} seeds", float(np.mean([a for _, a in quick])), "%"))
    return rows


def harder_digits_rows(models: dict, cnn, x_test: np.ndarray, y_test: np.ndarray) -> list[Row]:
    """The CNN (seed 0) on randomly distorted test digits, after the conv denoiser at three
    noise levels, and on the conditional VAE's samples (how often it reads the digit asked for)."""
    distorted = distort(tf.constant(x_test), tf.random.Generator.from_seed(1)).numpy()
    rows = [Row("CNN seed 0 on randomly distorted test digits", accuracy(cnn, distorted, y_test), "%")]
    for level in (0.0, 0.5, 0.7):
        seasoned = salt_and_pepper(x_test, level, np.random.default_rng(0))
        denoised = models["conv_denoiser"].model.predict(seasoned, batch_size=1000, verbose=0)
        rows.append(Row(f"conv denoiser then CNN seed 0, noise {level:.1f}", accuracy(cnn, denoised, y_test),
                        "%", TARGETS[f"conv_denoiser_{level:.1f}"]))
    cvae = models["cvae"]
    decoder, latent_dim = cvae.model.get_layer("decoder"), cvae.metrics["config"]["latent_dim"]
    samples = np.concatenate([generate(decoder, d, 100, latent_dim, seed=d) for d in range(10)])
    rows.append(Row("cvae: CNN seed 0 agrees with the requested digit, 1,000 samples",
                    accuracy(cnn, samples, np.repeat(np.arange(10), 100)), "%", TARGETS["cvae_agreement"]))
    return rows


def latency_rows(models: dict, cnn, x_test: np.ndarray, y_test: np.ndarray, repeats: int) -> list[Row]:
    """What a page does per interaction, server side, timed ``repeats`` times: a stroke on
    the Draw page, a drawing on the Inside page, a slider move, a confusion-matrix click."""
    classifiers = (cnn, models["dense_64_64"].model)
    median, p95 = timings_ms(lambda image: draw_stroke(image, classifiers), canvas_images(x_test[:repeats]))
    rows = [Row("Draw: pad image to both models' answers and probability bars (server side), p95", p95, "ms",
                TARGETS["draw_ms"], median=median)]
    median, p95 = timings_ms(lambda image: inside_drawing(image, cnn), canvas_images(x_test[:repeats]))
    rows.append(Row("Inside: a new drawing to feature maps, both saliency maps and probabilities, p95", p95,
                    "ms", TARGETS["inside_ms"], median=median))
    curve = load_noise_curve()
    if curve is None:
        raise FileNotFoundError("the noise curve is not cached: python -m core train noise_curve")
    denoisers = {"dense": models["denoising_autoencoder"].model, "conv": models["conv_denoiser"].model}

    def other_digits(batch):
        # The Denoising page per new set of 8 digits (its slider then moves in the browser):
        # every noise level seasoned, denoised three ways and classified, the sprite encoded,
        # the component's data serialised.
        digits = x_test[8 * batch: 8 * batch + 8]
        frames = noise_frames(digits, 1000 + batch, denoisers, cnn)
        json.dumps(noise_payload(digits, y_test[8 * batch: 8 * batch + 8], frames, curve["rows"], "CNN", 0.4, 3,
                                 str(batch)))

    median, p95 = timings_ms(other_digits, list(range(max(1, repeats // 10))))
    rows.append(Row("Denoising: Other digits, every noise level of 8 new digits (3 denoisers, CNN, sprite), p95",
                    p95, "ms", TARGETS["other_digits_ms"], median=median))
    rows.append(confusion_click_row(cnn, x_test, y_test))
    return rows


@contextlib.contextmanager
def _class_database(url: str):
    """The class's database at ``url`` for the block (``$DIGITLAB_DATABASE_URL``), then the previous one."""
    before = os.environ.get(db.DATABASE_ENV_VAR)
    os.environ[db.DATABASE_ENV_VAR] = url
    db.dispose()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(db.DATABASE_ENV_VAR, None)
        else:
            os.environ[db.DATABASE_ENV_VAR] = before
        db.dispose()


def class_rows(digits: int = 1000, students: int = 25, per_symbol: int = 30) -> list[Row]:
    """The class's handwriting on a scripted class (``core.drawing.templates``) in a fresh
    SQLite database: ``digits`` drawings by ``students`` saved one by one (each save timed),
    every shipped MNIST classifier reading them, and a head for two symbols ("-" and "|",
    ``per_symbol`` drawings each) trained from the CNN's load on."""
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp, _class_database(f"sqlite:///{tmp}/class.sqlite"):
        seconds = []
        for i in range(digits):
            label, strokes = str(i % 10), scripted(str(i % 10), rng)
            start = time.perf_counter()
            samples.save(f"Student {i % students}", label, strokes)
            seconds.append(time.perf_counter() - start)
        runs = [r for r in comparable_runs(cache.cache_dir(), Path(tmp)) if r.config.dataset == "mnist"]
        start = time.perf_counter()
        models = {run.label: cache.load(run.config).model for run in runs}
        evaluate.every_model(models, *_class_digits())  # TensorFlow's first call per model: once per server
        loading = time.perf_counter() - start
        start = time.perf_counter()
        images, labels = _class_digits()
        probs = evaluate.every_model(models, images, labels)
        reading = time.perf_counter() - start
        best = max(evaluate.accuracy(p, labels) for p in probs.values())
        for name in ("-", "|"):
            samples.add_symbol("Bench", name)
            for i in range(per_symbol):
                samples.save(f"Student {i % students}", name, scripted(name, rng))
        start = time.perf_counter()
        config, _ = symbols.plan(samples.load(), ("-", "|"))
        heads = samples.load(labels=("-", "|"))
        _, _, metrics = symbols.train(config, cache.load(default_config("cnn")).model, heads.images,
                                      (heads.labels == "|").astype(np.int64))
        head_seconds = time.perf_counter() - start
    ms = 1000 * np.array(seconds)
    return [
        Row(f"Class: save one drawing (strokes to the 28x28 input, one SQLite insert), p95 of {digits:,}",
            float(np.percentile(ms, 95)), "ms", TARGETS["class_save_ms"], median=float(np.median(ms))),
        Row(f"Class: every shipped MNIST classifier ({len(models)}) reads {digits:,} class digits from the database",
            reading, "s", TARGETS["class_eval_s"]),
        Row(f"Class: loading those {len(models)} classifiers and their first reading (once per server process)",
            loading, "s"),
        Row("Class: the best of them on the scripted class's digits", best, "%"),
        Row(f"Class: new-symbols head for - and | ({per_symbol} drawings each), CNN load to last epoch",
            head_seconds, "s", TARGETS["symbols_head_s"]),
        Row(f"Class: that head on its {metrics['held_out_count']} held-out drawings", metrics["held_out_accuracy"], "%"),
    ]


def _class_digits() -> tuple[np.ndarray, np.ndarray]:
    """The class's digits read from the database: (N, 28, 28) images, (N,) labels 0-9."""
    data = samples.load().digits()
    return data.images, data.digit_labels()


def fool_rows(cnn, dense, x_test: np.ndarray, y_test: np.ndarray, count: int = 100) -> list[Row]:
    """The Inside page's *Fool the network* on the first ``count`` test digits: its time per
    picture (the smallest FGSM epsilon, the changed picture, both nets' answers), the median
    epsilon that flips the CNN, and how often that change also fools the dense 64-64 net
    (of the digits both read right and the CNN was flipped on)."""
    epsilons, transferred, candidates = [], 0, 0

    def page(i):
        attack = adversarial.smallest_fgsm(cnn, x_test[i])
        changed = adversarial.fgsm(cnn, x_test[i], attack.epsilon or adversarial.EPSILONS[-1], attack.before)
        dense_before, dense_after = np.argmax(np.asarray(dense(np.stack([x_test[i], changed]), training=False)), axis=1)
        return attack, int(dense_before), int(dense_after)

    median, p95 = timings_ms(page, list(range(count)))
    for i in range(count):
        attack, dense_before, dense_after = page(i)
        if attack.epsilon is None or attack.before != y_test[i]:
            continue
        epsilons.append(attack.epsilon)
        if dense_before == y_test[i]:
            candidates += 1
            transferred += dense_after != y_test[i]
    return [
        Row(f"Inside: fool the CNN (smallest FGSM epsilon, the changed picture, both nets' answers), p95 of {count}",
            p95, "ms", TARGETS["fool_ms"], median=median),
        Row(f"Inside: median FGSM epsilon that flips the CNN, as a share of black to white ({len(epsilons)} of "
            f"{count} test digits flipped within {adversarial.EPSILONS[-1]})",
            float(np.median(epsilons)) if epsilons else None, "%"),
        Row(f"Inside: that change also fools the dense 64-64 net ({transferred} of {candidates})",
            transferred / candidates if candidates else None, "%"),
    ]


def rebuild_row() -> Row:
    """The last full rebuild's wall time, as recorded in the cache's rebuild.json."""
    rebuild_file = cache.cache_dir() / "rebuild.json"
    rebuild = cache.read_json(rebuild_file) if rebuild_file.exists() else None
    return Row("full rebuild, wall time of one python -m core train --all --force",
               rebuild["seconds"] / 60 if rebuild else None, "min", TARGETS["rebuild_minutes"],
               recorded=_recorded_in(rebuild_file, rebuild["machine"]) if rebuild else "no record")


def fashion_and_dropout_rows(x_test: np.ndarray, y_test: np.ndarray) -> list[Row]:
    """The Fashion-MNIST and dropout runs, re-measured from the cache: the CNN and the dense 64-64 on
    Fashion-MNIST's 10,000 test images (the CNN's training time as recorded), and the
    500-300 without and with dropout on the MNIST test digits, with each one's gap between
    training and validation accuracy at the last epoch (from history.json, as recorded).

    Raises:
        FileNotFoundError: if an entry is not cached (``python -m core train fashion
            dropout`` builds them).
        core.data.images.DataUnavailableError: if Fashion-MNIST is not installed.
    """
    _, _, (x_fashion, y_fashion) = load("fashion_mnist").splits()
    cnn, dense = (cache.load(config) for config in FASHION)
    rows = [Row(f"Fashion-MNIST: CNN ({FASHION[0].epochs} epochs, chosen on validation), test accuracy",
                accuracy(cnn.model, x_fashion, y_fashion), "%", TARGETS["fashion_cnn"]),
            Row("Fashion-MNIST: dense_64_64 (the MNIST recipe), test accuracy",
                accuracy(dense.model, x_fashion, y_fashion), "%")]
    for config, name in zip(DROPOUT_PAIR, ("without dropout", "with dropout 0.35")):
        entry = cache.load(config)
        history = entry.history
        rows.append(Row(f"Dense 500-300 {name}, test accuracy", accuracy(entry.model, x_test, y_test), "%"))
        rows.append(Row(f"Dense 500-300 {name}, training minus validation accuracy at the last epoch",
                        history["accuracy"][-1] - history["val_accuracy"][-1], "%",
                        recorded=_recorded_in(cache.entry_path(config) / "history.json", entry.metrics.get("machine"))))
    return rows


def estimate_row() -> Row:
    """The Train page's time estimates against the training times recorded in the shipped
    classifier entries: the worst relative error, each entry estimated from a fit to the
    others (``core.training.timing.leave_one_out``)."""
    errors = leave_one_out(observations())
    return Row(f"Train page's time estimate, worst error over {len(errors)} shipped classifier runs (each estimated "
               "from the others' times)", max((e["error"] for e in errors), default=None), "%",
               TARGETS["estimate_error"])


def training_rows(speeds: list) -> list[Row]:
    """The training-time targets: measured now where ``speeds`` (``core.training.speed.measure_all``)
    holds a recipe trained by this run, else as recorded in the shipped entry (the CNN's
    seeds after the first, or every recipe when the benchmark ran without training)."""
    trained = {s.config: s for s in speeds}
    rows = []
    targets = [(c, "quick_cnn", "s", TARGETS["quick_cnn_training_seconds"]) for c in seeded_configs("quick_cnn")]
    targets += [(c, "CNN", "min", TARGETS["cnn_training_minutes"]) for c in seeded_configs("cnn")]
    targets.append((FASHION[0], "Fashion-MNIST: CNN", "min", TARGETS["fashion_cnn_training_minutes"]))
    for config, name, unit, target in targets:
        scale = 60 if unit == "min" else 1
        label = name if config.dataset != "mnist" else f"{name} seed {config.seed}"
        now = trained.get(config)
        if now is not None:
            rows.append(Row(f"{label}, training time measured now (validation passes included)",
                            now.training_seconds / scale, unit, target))
            if config.kind == "cnn" and config.dataset == "mnist":
                rows.append(Row(f"{label}, time to 99.0% validation accuracy, measured now", now.seconds_to_99, "s",
                                TARGETS["cnn_seconds_to_99_val"]))
            if now.same_weights is not None:
                rows.append(Row(f"{label}, retrained now: weights identical to the shipped entry", now.same_weights,
                                "yes/no"))
            continue
        history, metrics = cache.load_records(config)
        where = _recorded_in(cache.entry_path(config) / "metrics.json", metrics.get("machine"))
        rows.append(Row(f"{label}, training time (validation passes included)", metrics["training_seconds"] / scale,
                        unit, target, recorded=where))
        if config.kind == "cnn" and config.dataset == "mnist":
            rows.append(Row(f"{label}, time to 99.0% validation accuracy", seconds_to(history), "s",
                            TARGETS["cnn_seconds_to_99_val"], recorded=where))
    return rows


def speed_table(speeds: list, matmul: float) -> list[dict]:
    """``core.training.speed.Speed`` rows as JSON-ready dicts, with the machine's matmul rate:
    seconds (training, mean epoch after the first, to 99.0% validation accuracy), training
    images per second, GFLOP/s, roofline as a fraction of ``matmul`` (GFLOP/s)."""
    return [{"name": s.name, "training_seconds": s.training_seconds, "epoch_seconds": s.epoch_seconds,
             "images_per_second": s.images_per_second, "gflops": s.gflops, "roofline": s.roofline,
             "seconds_to_99": s.seconds_to_99, "same_weights": s.same_weights, "precision": s.config.precision,
             "matmul_gflops": matmul} for s in speeds]


def confusion_click_row(classifier, x_test: np.ndarray, y_test: np.ndarray) -> Row:
    """Time a click on each of the 100 cells of ``classifier``'s confusion matrix on the
    test digits ((10000, 28, 28) float32 in [0, 1], (10000,) labels) as the Mistakes page
    answers it; the model's predictions are computed once before, as the page caches them."""
    analysis = analyse(test_predictions(classifier, x_test), y_test)

    def click(cell):
        # The page's fragment per click: the cell's digits (at most 40), their captions and
        # images as st.image sends them, and the matrix component's data it sends again.
        images, _, _ = cell_view(analysis, x_test, *cell)
        for image in images:
            encode_image(image)
        json.dumps(confusion_payload(analysis.matrix, DIGITS, "digit", cell, False))

    median, p95 = timings_ms(click, [(true, predicted) for true in range(10) for predicted in range(10)])
    return Row("Mistakes: a confusion-matrix cell click (cell's digits and their images), p95", p95, "ms",
               TARGETS["confusion_click_ms"], median=median)


def browser_rows(path: Path = BROWSER) -> list[Row]:
    """The rows ``benchmarks/browser.py`` measured in Chromium (first page, first visits,
    stroke to answer), labelled recorded: measuring them again starts a server and a
    browser, which that script does. None when it has not been run."""
    if not path.exists():
        return [Row("browser timings (benchmarks/browser.py)", None, "s", recorded="no record")]
    record = cache.read_json(path)
    where = f"{path.relative_to(ROOT)}, {record['date']}, {record['machine'].get('cpu', '?')}, " \
            f"{record['machine'].get('cores', '?')} cores"
    return [Row(r["what"], r["value"], r["unit"], TARGETS.get(r.get("target")), median=r.get("median"), recorded=where)
            for r in record["rows"]]


def describe_machine(info: dict) -> str:
    """One line: CPU, cores, GPUs (or "no GPU found by TensorFlow"), library versions."""
    gpus = ", ".join(info.get("gpus") or []) or "no GPU found by TensorFlow"
    return (f"{info['cpu']}, {info['cores']} cores, {gpus}; TensorFlow {info['tensorflow']}, "
            f"Keras {info['keras']}")


def speed_markdown(table: list[dict]) -> str:
    """The training-speed table (``speed_table``) as markdown."""
    if not table:
        return ""
    lines = [f"\nTraining speed, each recipe trained now (this machine's float32 matmul rate, NumPy: "
             f"{table[0]['matmul_gflops']:.0f} GFLOP/s):\n",
             "| classifier | training time | seconds per epoch | training images per second | GFLOP/s "
             "| share of the matmul rate | time to 99.0% validation accuracy | same weights as shipped |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in table:
        bf16 = " (bfloat16)" if r["precision"] == "mixed_bfloat16" else ""
        reached = f"{r['seconds_to_99']:.1f} s" if r["seconds_to_99"] is not None else "-"
        same = shown("yes/no", r["same_weights"]) or "-"
        lines.append(f"| {r['name']}{bf16} | {r['training_seconds']:.1f} s | {r['epoch_seconds']:.2f} s "
                     f"| {r['images_per_second']:,.0f} | {r['gflops']:.1f} | {100 * r['roofline']:.1f}% "
                     f"| {reached} | {same} |")
    return "\n".join(lines)


def markdown(rows: list[Row], info: dict) -> str:
    """The table as markdown, with the date and machine underneath (and the training-speed
    table, when the run trained)."""
    lines = ["| what | measured | median | target | course | |", "| --- | ---: | ---: | ---: | --- | --- |"]
    for row in rows:
        target = ""
        if row.target is not None:
            target = target_text(row.target.higher_is_better, row.unit, row.target.value)
        mark = {True: "pass", False: "**miss**", None: ""}[row.passed]
        if row.recorded:
            mark = f"recorded ({row.recorded})"
        median = row.shown(row.median) if row.median is not None else ""
        course = row.target.course if row.target else ""
        what = row.what.replace("|", "\\|")  # a symbol's name such as "|" would end the cell
        lines.append(f"| {what} | {row.shown(row.value)} | {median} | {target} | {course} | {mark} |")
    lines.append(f"\nMeasured {info['date']} on {describe_machine(info)}.")
    return "\n".join(lines) + speed_markdown(info.get("training") or [])


def run(json_path=None, repeats: int = 200, train: bool = True) -> tuple[list[Row], dict]:
    """Measure, then write ``{"date", "machine", "rows", "training"}`` to ``json_path`` if
    given. ``train``: also train every shipped classifier recipe again (``core.training.speed``;
    about 10 minutes here), for the training-time rows and the speed table."""
    rows = measure(repeats=repeats)
    info = {"date": time.strftime("%Y-%m-%d"), **machine(), "training": []}
    speeds = []
    if train:
        matmul = matmul_gflops()
        speeds = measure_all(matmul)
        info["training"] = speed_table(speeds, matmul)
    # Before the rebuild row, which stays last.
    rows[-1:-1] = training_rows(speeds)
    if json_path:
        json_path = Path(json_path)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        cache.write_json(json_path, {"date": info["date"], "machine": {k: v for k, v in info.items() if k != "training"},
                                     "training": info["training"],
                                     "rows": [{**asdict(r), "target": asdict(r.target) if r.target else None,
                                               "passed": r.passed} for r in rows]})
    return rows, info
