"""Command line: ``python -m core train --all``, ``python -m core info``.

    python -m core train --all             both sweeps, every default model (the CNNs at each
                                           of their seeds) and the noise curve
    python -m core train cnn vae           named kinds (also: sweep, noise_curve, fashion: the
                                           CNN and 64-64 on Fashion-MNIST, dropout: 500-300
                                           with and without dropout, presets: your own
                                           network's other presets)
    python -m core train --config '{...}'  one TrainConfig given as JSON
    python -m core worker                  take training jobs from the queue (Redis at
                                           $DIGITLAB_REDIS_URL); see core.queue.jobs
    python -m core info                    the cache as a table
    python -m core report                  markdown tables of models, sweep and noise curve
    python -m core bench                   every target, measured; markdown table + JSON
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace

from core.config import DROPOUT_PAIR, FASHION, KINDS, NAMED_KINDS, PRESET_RUNS, SWEEPS, TrainConfig, seeded_configs
from core.data import registry as datasets
from core.queue.jobs import QueueUnavailable, redis_url, run_worker
from core.store import cache
from core.training.sweeps import sweep_best, sweep_verdict

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow takes seconds to import: only the commands that train or measure import
# core.training and core.bench (inside them), so `info` and `worker` start at once.

EXPERIMENTS = ("sweep", "noise_curve", "fashion", "dropout", "presets")


def _print_epoch(epoch, epochs, logs):
    """An ``on_epoch`` callback that prints the epoch's metrics."""
    shown = "  ".join(f"{k} {v:.4f}" for k, v in logs.items())
    print(f"  epoch {epoch}/{epochs}  {shown}", flush=True)


def _train_models(configs, force):
    from core.training.run import train

    loaded = {}
    for config in configs:
        if cache.is_cached(config) and not force:
            print(f"{config.kind} ({config.key()}): cached", flush=True)
            continue
        print(f"{config.kind} ({config.key()}): training {config.epochs} epochs", flush=True)
        if config.dataset not in loaded:
            loaded[config.dataset] = datasets.load(config.dataset)
        result = train(config, on_epoch=_print_epoch, mnist=loaded[config.dataset])
        path = cache.save(config, result)
        val = result.history.get("val_accuracy")
        shown = f"validation accuracy {val[-1]:.4f}" if val else f"validation loss {result.history['val_loss'][-1]:.4f}"
        print(f"  -> {path.name}: {shown}, {result.metrics['training_seconds']:.0f} s", flush=True)


def _run_sweeps(args) -> list:
    """Run both weight-decay sweeps (plain, then distorted digits); return their configs."""
    from core.training.experiments import run_sweep

    overrides = {name: getattr(args, name) for name in ("epochs", "replicates") if getattr(args, name)}
    configs = [replace(sweep, **overrides) for sweep in SWEEPS]
    for config in configs:
        total = len(config.runs())

        def on_run(done, runs, row):
            print(f"  run {done}/{runs}: l2 {row['l2']:.2e} seed {row['seed']} "
                  f"final val {row['final_val_accuracy']:.4f}", flush=True)

        print(f"sweep on {config.name} digits ({config.key()}): {total} runs", flush=True)
        # Two runs at once on two or more cores (core.training.experiments.run_sweep says why).
        results = run_sweep(config, on_run=on_run, on_epoch=_print_epoch, force=args.force,
                            processes=min(2, _cores()))
        for row in results["summary"]:
            print(f"  l2 {row['l2']:.2e}: final val {row['final_val_accuracy_mean']:.4f} "
                  f"± {row['final_val_accuracy_std']:.4f}", flush=True)
        print(f"  chosen on validation: l2 {sweep_best(results)['l2']:.2e}", flush=True)
    return configs


def _run_noise_curve(force):
    from core.training.experiments import run_noise_curve

    results = run_noise_curve(force=force)
    for row in results["rows"]:
        print(f"  noise {row['noise_level']:.1f}: " + "  ".join(
            f"{name} {row[name + '_accuracy']:.4f} ({_db(row[name + '_psnr'])})"
            for name in ("seasoned", "dense", "conv", "median")), flush=True)


def cmd_train(args) -> int:
    from core.training.experiments import kept_configs, load_sweep

    start = time.perf_counter()
    if args.config:
        configs = [TrainConfig.from_fields(json.loads(args.config))]
        configs[0].validate()
        _train_models(configs, args.force)
    else:
        names = list(NAMED_KINDS) + list(EXPERIMENTS) if args.all else args.names
        unknown = [n for n in names if n not in NAMED_KINDS + EXPERIMENTS]
        if not names or unknown:
            print(f"name kinds to train ({', '.join(NAMED_KINDS + EXPERIMENTS)}) or --all; "
                  f"unknown: {unknown}", file=sys.stderr)
            return 2
        built = set()
        if "sweep" in names:
            # First: the sweeps keep some of their runs' weights, perhaps the default
            # dense_500_300's, which then needs no second training.
            for sweep in _run_sweeps(args):
                built.update(config.key() for config in kept_configs(load_sweep(sweep)))
        configs = [config for n in names if n in KINDS for config in seeded_configs(n)]
        configs += [*(FASHION if "fashion" in names else ()), *(DROPOUT_PAIR if "dropout" in names else ()),
                    *(PRESET_RUNS if "presets" in names else ())]
        _train_models([c for c in configs if c.key() not in built], args.force)
        if "noise_curve" in names:
            _run_noise_curve(args.force)
    seconds = time.perf_counter() - start
    if args.all and args.force:
        from core.training.run import machine

        # Only a forced --all is a full rebuild; the benchmark reports this file.
        cache.write_json(cache.cache_dir() / "rebuild.json", {
            "command": "python -m core train --all --force", "seconds": round(seconds, 1),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine()})
    print(f"done in {seconds:.0f} s", flush=True)
    return 0


def cmd_worker(args) -> int:
    """Take training jobs from the queue at ``$DIGITLAB_REDIS_URL`` until stopped (waiting
    for Redis, with back-off, whenever it does not answer)."""
    try:
        run_worker(burst=args.burst, nice=args.nice)
    except QueueUnavailable as exc:
        print(f"{exc} (tried {redis_url()})", file=sys.stderr)
        return 1
    return 0


def cmd_bench(args) -> int:
    """Measure every target from the cache; print markdown, write JSON; exit 1 on a miss."""
    from core.bench import RESULTS, markdown, run

    args.json = args.json or RESULTS
    rows, info = run(args.json, repeats=args.repeats, train=not args.no_training)
    print(markdown(rows, info))
    print(f"\nwritten to {args.json}")
    return 0 if all(row.passed is not False for row in rows) else 1


def cmd_info(args) -> int:
    rows = cache.list_models()
    print(f"cache: {cache.cache_dir()}")
    print(f"{'entry':<36} {'params':>9} {'test acc':>9} {'test loss':>9} {'epochs':>6} {'train s':>8}")
    for m in rows:
        acc = f"{m['test_accuracy']:.4f}" if "test_accuracy" in m else "-"
        print(f"{m['kind'] + '-' + m['key']:<36} {m['param_count']:>9,} {acc:>9} "
              f"{m['test_loss']:>9.4f} {m['epochs']:>6} {m['training_seconds']:>8.1f}")
    for path in sorted(cache.cache_dir().glob("*/results.json")):
        print(f"experiment {path.parent.name}")
    return 0


def cmd_report(args) -> int:
    """Markdown tables of the cached defaults, the sweep and the noise curve (for README.md)."""
    from core.training.experiments import load_noise_curve, load_sweep

    print("| model | data set | seed | parameters | validation accuracy | test accuracy | test loss | epochs "
          "| training time |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    configs = [c for kind in NAMED_KINDS for c in seeded_configs(kind)]
    for config in configs + list(FASHION) + list(DROPOUT_PAIR) + list(PRESET_RUNS):
        if cache.is_cached(config):
            h, m = cache.load_records(config)
            val = f"{h['val_accuracy'][-1]:.2%}" if "val_accuracy" in h else "-"
            acc = f"{m['test_accuracy']:.2%}" if "test_accuracy" in m else "-"
            name = config.kind if not config.layers else "custom: " + ", ".join(
                " ".join(str(part) for part in layer) for layer in config.layers)
            print(f"| {name} | {config.dataset} | {config.seed} | {m['param_count']:,} | {val} | {acc} "
                  f"| {m['test_loss']:.4f} | {m['epochs']} | {m['training_seconds']:.0f} s |")
    for config in SWEEPS:
        sweep = load_sweep(config)
        if not sweep:
            continue
        verdict = sweep_verdict(sweep)
        print(f"\nSweep on {config.name} digits: {len(sweep['rows'])} runs in {sweep['seconds'] / 60:.1f} "
              f"minutes; chosen on validation: l2 {sweep['chosen_l2']:.2g}; best non-zero factor minus "
              f"control: {100 * verdict['difference']:+.2f} points (replicate spread "
              f"{100 * verdict['spread']:.2f}).\n")
        print("| L2 factor | final val. accuracy (mean ± sd) | best val. accuracy | test accuracy |")
        print("| ---: | ---: | ---: | ---: |")
        for r in sweep["summary"]:
            print(f"| {r['l2']:.2g} | {r['final_val_accuracy_mean']:.2%} ± {r['final_val_accuracy_std']:.2%} "
                  f"| {r['best_val_accuracy_mean']:.2%} ± {r['best_val_accuracy_std']:.2%} "
                  f"| {r['test_accuracy_mean']:.2%} ± {r['test_accuracy_std']:.2%} |")
    curve = load_noise_curve()
    if curve:
        names = ("seasoned", "dense", "conv", "median")
        print(f"\n{curve['classifier_kind']} accuracy (PSNR) on seasoned digits and after each denoiser:\n")
        print("| noise level | seasoned | dense autoencoder | conv denoiser | 3×3 median |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        for r in curve["rows"]:
            print(f"| {r['noise_level']:.1f} | " + " | ".join(
                f"{r[n + '_accuracy']:.2%} ({_db(r[n + '_psnr'])})" for n in names) + " |")
    return 0


def _db(psnr: float) -> str:
    # core.analysis.denoise.psnr caps identical images at 100 dB: their PSNR is infinite.
    return "identical" if psnr >= 100 else f"{psnr:.1f} dB"


def _cores() -> int:
    """CPUs this process may use (all of the machine's where the OS cannot say)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core", description="Digit Lab's command line")
    sub = parser.add_subparsers(dest="command", required=True)
    p_train = sub.add_parser("train", help="train and cache models and experiments")
    p_train.add_argument("names", nargs="*", help="kinds and experiments to build")
    p_train.add_argument("--all", action="store_true", help="the sweep, every model, then the noise curve")
    p_train.add_argument("--force", action="store_true", help="retrain even when cached")
    p_train.add_argument("--config", help="one TrainConfig as JSON")
    p_train.add_argument("--epochs", type=int, help="sweep: epochs per run (default: SweepConfig)")
    p_train.add_argument("--replicates", type=int, help="sweep: seeds per factor (default: SweepConfig)")
    sub.add_parser("info", help="print the cache as a table")
    sub.add_parser("report", help="markdown tables of the cached results")
    p_bench = sub.add_parser("bench", help="measure every target; markdown table and JSON")
    p_bench.add_argument("--json", help="where to write the JSON (default: benchmarks/results.json)")
    p_bench.add_argument("--repeats", type=int, default=200, help="interactions timed per latency row")
    p_bench.add_argument("--no-training", action="store_true",
                         help="skip training the shipped classifiers again (their times are then as recorded)")
    p_worker = sub.add_parser("worker", help="take training jobs from the queue until stopped")
    p_worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    p_worker.add_argument("--nice", type=int, default=19,
                          help="lower the worker's CPU priority by this much (default 19: the web server first)")
    args = parser.parse_args(argv)
    commands = {"train": cmd_train, "info": cmd_info, "report": cmd_report, "bench": cmd_bench,
                "worker": cmd_worker}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
