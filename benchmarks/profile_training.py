"""Profile an epoch of the lab's CNN under each setting that could make training slow.

    .venv/bin/python benchmarks/profile_training.py              # every condition, 5 epochs each
    .venv/bin/python benchmarks/profile_training.py --epochs 3 --only before after

Each condition runs in a fresh Python process (TensorFlow's thread settings and oneDNN
must be chosen before its first operation) and trains the lab's CNN recipe (distorted
digits, batch 128, Adam with warm-up and cosine decay) on the 55,000 training digits,
validating on the 5,000 after each epoch, as ``core.training.run`` does. Per epoch it records
the wall time and the CPU seconds the process used, so an epoch that ran on one core
shows as about 1.1 cores busy instead of 1.8. Writes ``benchmarks/profile.json`` and
prints a markdown table (README.md, "Fast training"). Run it with nothing else busy: on
2 cores any other work is in the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "profile.json"
sys.path.insert(0, str(ROOT))

# name -> (what it changes, settings). Settings: env (process environment), intra/inter
# (TensorFlow thread pools; 0 = its default), determinism, autotune (tf.data),
# prefetch, per_image (distort each digit alone, before batching), repeat (one iterator
# for all epochs), batch, precision, spe (steps per execution), shipped (core.training.run's
# own pipeline and compile, as the lab trains now).
BEFORE = dict(env={}, intra=0, inter=0, determinism=True, autotune=True, prefetch=True, per_image=False,
              repeat=False, batch=128, precision="float32", spe=1, shipped=False)
CONDITIONS = {
    "before": ("the pipeline as shipped until 2026-12-06 (tf.data autotuning on, op determinism on, "
               "TensorFlow's thread defaults, oneDNN on, batch 128, float32)", {}),
    "no_determinism": ("op determinism off", {"determinism": False}),
    "intra2_inter1": ("intra-op 2 threads, inter-op 1 (the worker's cap before)", {"intra": 2, "inter": 1}),
    "intra1_inter2": ("intra-op 1 thread, inter-op 2", {"intra": 1, "inter": 2}),
    "intra4": ("intra-op 4 threads (more threads than cores)", {"intra": 4}),
    "onednn_off": ("oneDNN off (TF_ENABLE_ONEDNN_OPTS=0)", {"env": {"TF_ENABLE_ONEDNN_OPTS": "0"}}),
    "no_prefetch": ("no prefetch", {"prefetch": False}),
    "per_image": ("distortions drawn per digit, before batching (not per batch)", {"per_image": True}),
    "one_iterator": ("one iterator for all epochs (repeat, steps per epoch)", {"repeat": True}),
    "autotune_off": ("tf.data autotuning off", {"autotune": False}),
    "batch256": ("autotuning off, batch 256", {"autotune": False, "batch": 256}),
    "bfloat16": ("autotuning off, mixed precision bfloat16", {"autotune": False, "precision": "mixed_bfloat16"}),
    "after": ("as the lab trains now: core.training.run's pipeline (autotuning off, 16 steps per call), "
              "mixed precision bfloat16", {"shipped": True, "precision": "mixed_bfloat16"}),
}


def run_condition(name: str, epochs: int) -> dict:
    """Train the CNN for ``epochs`` epochs under condition ``name``; per-epoch timings."""
    settings = {**BEFORE, **CONDITIONS[name][1]}
    import math

    import tensorflow as tf

    if settings["intra"]:
        tf.config.threading.set_intra_op_parallelism_threads(settings["intra"])
    if settings["inter"]:
        tf.config.threading.set_inter_op_parallelism_threads(settings["inter"])
    import keras

    from core.data import augment
    from core.training import run as training
    from core.config import default_config
    from core.data.mnist import load_mnist

    config = replace(default_config("cnn"), epochs=epochs, batch_size=settings["batch"],
                     precision=settings["precision"])
    fit, validation, test = load_mnist().splits()
    keras.utils.set_random_seed(config.seed)
    if settings["determinism"]:
        tf.config.experimental.enable_op_determinism()
    steps = math.ceil(len(fit[1]) / config.batch_size)
    if settings["shipped"]:
        pipeline = training.PIPELINES["cnn"](config, fit, validation, test)
        batches, val = pipeline.fit, pipeline.validation
    else:
        generator = tf.random.Generator.from_seed(config.seed)
        batches = tf.data.Dataset.from_tensor_slices(fit).shuffle(len(fit[1]), seed=config.seed)
        if settings["per_image"]:
            batches = batches.map(lambda x, y: (augment.distort(x[None], generator)[0], y)).batch(config.batch_size)
        else:
            batches = batches.batch(config.batch_size).map(lambda x, y: (augment.distort(x, generator), y))
        val = tf.data.Dataset.from_tensor_slices(validation).batch(training.EVAL_BATCH)
        options = tf.data.Options()
        options.autotune.enabled = settings["autotune"]
        batches, val = batches.with_options(options), val.with_options(options)
        if settings["prefetch"]:
            batches = batches.prefetch(2)
        if settings["repeat"]:
            batches = batches.repeat()
    with training.precision(config.precision):
        model = training.build(config)
    model.compile(optimizer=training._optimizer(config, steps), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], steps_per_execution=training.STEPS_PER_EXECUTION if settings["shipped"] else 1)
    rows = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.wall, self.cpu = time.perf_counter(), os.times()

        def on_epoch_end(self, epoch, logs=None):
            wall, cpu = time.perf_counter() - self.wall, os.times()
            used = (cpu.user - self.cpu.user) + (cpu.system - self.cpu.system)
            rows.append({"seconds": round(wall, 2), "cpu_seconds": round(used, 2), "cores": round(used / wall, 2),
                         "val_accuracy": round(float(logs["val_accuracy"]), 4)})

    extra = {"steps_per_epoch": steps} if settings["repeat"] else {}
    model.fit(batches, epochs=epochs, validation_data=val, callbacks=[Clock()], verbose=0, **extra)
    return {"name": name, "what": CONDITIONS[name][0], "settings": settings, "epochs": rows}


def summarize(result: dict) -> dict:
    """Mean, fastest and slowest epoch after the first (the first includes tracing), and
    how many of those ran with fewer than 1.4 cores busy."""
    later = result["epochs"][1:] or result["epochs"]
    seconds = [e["seconds"] for e in later]
    return {"first": result["epochs"][0]["seconds"], "mean": sum(seconds) / len(seconds), "min": min(seconds),
            "max": max(seconds), "slow": sum(e["cores"] < 1.4 for e in later), "n": len(later),
            "cores": sum(e["cores"] for e in later) / len(later)}


def markdown(results: list[dict]) -> str:
    """The profile as a markdown table, fastest mean epoch relative to ``before``."""
    base = summarize(next(r for r in results if r["name"] == "before"))["mean"] if any(
        r["name"] == "before" for r in results) else None
    lines = ["| condition | first epoch | later epochs: mean | fastest | slowest | epochs on one core | cores busy "
             "| vs before |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        s = summarize(r)
        ratio = f"{base / s['mean']:.2f}x" if base else ""
        lines.append(f"| {r['what']} | {s['first']:.1f} s | {s['mean']:.1f} s | {s['min']:.1f} s | {s['max']:.1f} s "
                     f"| {s['slow']} of {s['n']} | {s['cores']:.2f} | {ratio} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per condition (default 5)")
    parser.add_argument("--only", nargs="*", choices=list(CONDITIONS), help="run these conditions only")
    parser.add_argument("--one", choices=list(CONDITIONS), help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--json", default=str(OUT), help=f"where to write the results (default {OUT})")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_condition(args.one, args.epochs)))
        return 0
    results = []
    for name in args.only or CONDITIONS:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT),
               **{**BEFORE, **CONDITIONS[name][1]}["env"]}
        done = subprocess.run([sys.executable, __file__, "--one", name, "--epochs", str(args.epochs)], env=env,
                              capture_output=True, text=True, cwd=ROOT)
        if done.returncode:
            print(f"{name} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
            return 1
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        s = summarize(results[-1])
        print(f"{name}: later epochs {s['mean']:.1f} s ({s['min']:.1f}-{s['max']:.1f}), {s['slow']} of {s['n']} "
              f"on one core", flush=True)
    from core.training.run import machine

    record = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "epochs": args.epochs, "results": results}
    Path(args.json).write_text(json.dumps(record, indent=2) + "\n")
    print("\n" + markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
