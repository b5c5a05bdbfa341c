"""Reading a weight-decay sweep's results: summary, the choice on validation, the verdict.

Plain NumPy over ``core.training.experiments.run_sweep``'s results, no TensorFlow, so the
Regularization page uses the same code as the benchmark and the tests.
"""

from __future__ import annotations

import numpy as np

from dataclasses import asdict

from core.config import SweepConfig
from core.targets import HINTON_ACCURACY


def sweep_row(config: SweepConfig, run, history: dict, metrics: dict) -> dict:
    """One run's row of a sweep's results from its history and metrics: {l2, replicate,
    seed, key, final_val_accuracy, best_val_accuracy, test_accuracy, training_seconds}."""
    val = history["val_accuracy"]
    return {"l2": run.l2, "replicate": run.seed - config.seed, "seed": run.seed, "key": run.key(),
            "final_val_accuracy": val[-1], "best_val_accuracy": max(val),
            "test_accuracy": metrics["test_accuracy"], "training_seconds": metrics["training_seconds"]}


def sweep_results(config: SweepConfig, rows: list[dict], seconds: float, data_sha256: str,
                  versions: dict) -> dict:
    """A sweep's results as stored in ``results.json``: its config, every run's row, the
    summary, the factor chosen on validation, Hinton's accuracy for reference, the
    training time in seconds, the data's sha256 and the library versions."""
    results = {
        "config": asdict(config), "name": config.name, "base_config": asdict(config.base()), "rows": rows,
        "summary": summarize_sweep(rows), "hinton_accuracy": HINTON_ACCURACY, "seconds": round(seconds, 1),
        "data_sha256": data_sha256, "versions": versions,
    }
    results["chosen_l2"] = sweep_best(results)["l2"]
    return results


def summarize_sweep(rows: list[dict]) -> list[dict]:
    """Per L2 factor, in increasing order: ``replicates`` and the mean and sample
    standard deviation (ddof=1; 0 for one replicate) of ``final_val_accuracy``,
    ``best_val_accuracy`` and ``test_accuracy`` over its rows."""
    summary = []
    for factor in sorted({row["l2"] for row in rows}):
        group = [row for row in rows if row["l2"] == factor]
        entry = {"l2": factor, "replicates": len(group)}
        for column in ("final_val_accuracy", "best_val_accuracy", "test_accuracy"):
            values = np.array([row[column] for row in group])
            entry[f"{column}_mean"] = float(values.mean())
            entry[f"{column}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        summary.append(entry)
    return summary


def sweep_best(results: dict) -> dict:
    """The summary entry of the factor with the highest mean final validation accuracy
    (the ``l2 = 0`` control included): chosen without looking at the test set."""
    return max(results["summary"], key=lambda entry: entry["final_val_accuracy_mean"])


def sweep_verdict(results: dict) -> dict:
    """Does weight decay help? The best non-zero factor against the ``l2 = 0`` control,
    on mean final validation accuracy.

    Returns:
        {"best": summary entry of the best non-zero factor, "control": the control's,
        "difference": best mean - control mean (accuracy, fraction), "spread": the
        larger of the two replicate standard deviations, "clear": whether the
        difference exceeds that spread}.

    Raises:
        ValueError: if the sweep has no control or no non-zero factor.
    """
    control = [e for e in results["summary"] if e["l2"] == 0]
    decayed = [e for e in results["summary"] if e["l2"] > 0]
    if not control or not decayed:
        raise ValueError("a verdict needs the l2 = 0 control and at least one non-zero factor")
    best = max(decayed, key=lambda e: e["final_val_accuracy_mean"])
    difference = best["final_val_accuracy_mean"] - control[0]["final_val_accuracy_mean"]
    spread = max(best["final_val_accuracy_std"], control[0]["final_val_accuracy_std"])
    return {"best": best, "control": control[0], "difference": difference, "spread": spread,
            "clear": bool(difference > spread)}


def kept_configs(results: dict) -> list:
    """The ``TrainConfig`` of every replicate whose weights the sweep kept: those at
    the chosen factor and those of the ``l2 = 0`` control."""
    chosen = sweep_best(results)["l2"]
    config = SweepConfig(**{**results["config"], "l2_factors": tuple(results["config"]["l2_factors"])})
    return [run for run in config.runs() if run.l2 in (0.0, chosen)]
