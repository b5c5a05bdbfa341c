"""The weight-decay sweep on a tiny subset, the validation-only choices, the verdict."""

import pytest

from core.config import SweepConfig
from core.store import cache
from core.training.experiments import run_sweep
from core.training.sweeps import kept_configs, summarize_sweep, sweep_best, sweep_verdict

TINY = SweepConfig(l2_factors=(0.0, 1e-3), replicates=1, epochs=1, train_size=300)


def test_tiny_sweep_end_to_end(tmp_cache, mnist, monkeypatch):
    seen = []
    results = run_sweep(TINY, on_run=lambda done, total, row: seen.append((done, total)), mnist=mnist)
    assert seen == [(1, 2), (2, 2)]
    assert [r["l2"] for r in results["rows"]] == [0.0, 1e-3] and results["name"] == "plain"
    assert all(r["key"] == c.key() for r, c in zip(results["rows"], TINY.runs()))
    assert results["chosen_l2"] == sweep_best(results)["l2"]
    # The kept runs (chosen factor and control) are model entries; the others are not.
    kept = kept_configs(results)
    assert {c.l2 for c in kept} == {0.0, results["chosen_l2"]}
    for config in TINY.runs():
        assert cache.is_cached(config) == (config in kept)
    assert cache.load_experiment("sweep", TINY.key()) == results
    # Cached: a second call trains nothing.
    monkeypatch.setattr("core.training.experiments.train", lambda *a, **k: pytest.fail("trained although cached"))
    assert run_sweep(TINY, mnist=mnist) == results


def test_sweep_runs_share_the_recipe_and_differ_in_l2_and_seed():
    sweep = SweepConfig(augment=True, l2_factors=(0.0, 1e-5), replicates=2)
    runs = sweep.runs()
    assert [(r.l2, r.seed) for r in runs] == [(0.0, 0), (0.0, 1), (1e-5, 0), (1e-5, 1)]
    assert all(r.augment and r.kind == "dense_500_300" and r.epochs == sweep.base().epochs for r in runs)
    assert sweep.key() != SweepConfig(augment=False, l2_factors=(0.0, 1e-5), replicates=2).key()


def rows(values):
    return [{"l2": l2, "final_val_accuracy": v, "best_val_accuracy": v, "test_accuracy": 0.5}
            for l2, group in values.items() for v in group]


def test_choice_and_verdict_use_validation_only():
    summary = summarize_sweep(rows({0.0: [0.980, 0.982], 1e-5: [0.990, 0.992], 1e-3: [0.970, 0.972]}))
    # Test accuracy that would pick another factor plays no part.
    summary[2]["test_accuracy_mean"] = 0.999
    results = {"summary": summary}
    assert sweep_best(results)["l2"] == 1e-5
    verdict = sweep_verdict(results)
    assert verdict["difference"] == pytest.approx(0.010) and verdict["spread"] == pytest.approx(0.0014142, rel=1e-3)
    assert verdict["clear"]
    close = {"summary": summarize_sweep(rows({0.0: [0.980, 0.990], 1e-5: [0.984, 0.990]}))}
    assert not sweep_verdict(close)["clear"]
    with pytest.raises(ValueError):
        sweep_verdict({"summary": summarize_sweep(rows({1e-5: [0.98]}))})
