"""The Train page's time estimates (core.training.timing) against the training times recorded in
the shipped cache: every classifier entry, each estimated from a fit to the others."""

import numpy as np
import pytest

from core.nets import layers
from core.store import cache
from core.training import timing
from core.config import (AUTOENCODERS, DEFAULTS, DROPOUT_PAIR, FASHION, NAMED_KINDS, PRESET_RUNS, TrainConfig,
                         default_config)
from core.targets import TARGETS


@pytest.fixture(scope="module")
def observed():
    return timing.observations()


@pytest.fixture(scope="module")
def estimates(observed):
    return {row["config"]: row for row in timing.leave_one_out(observed)}


def test_every_shipped_classifier_is_estimated_within_the_target(estimates):
    misses = {f"{c.kind}-{c.key()}": (round(r["estimated"], 1), r["recorded"]) for c, r in estimates.items()
              if not TARGETS["estimate_error"].met(r["error"])}
    assert not misses, misses


def test_the_named_models_and_every_preset_of_your_own_network_are_among_them(estimates):
    # dense_500_300's shipped entry is a sweep's run, trained beside another with one
    # thread (left out: core.training.timing.observations); the dropout pair has its layers.
    named = [DEFAULTS[kind] for kind in NAMED_KINDS if kind not in (*AUTOENCODERS, "dense_500_300")]
    for config in [*named, *FASHION, *DROPOUT_PAIR, *PRESET_RUNS]:
        assert config in estimates, config
    assert DEFAULTS["dense_500_300"] not in estimates
    # Every preset's layer list has a shipped run: the 500-300s in the dropout pair, the rest here.
    shipped_stacks = {c.layers for c in estimates if c.kind == "custom"}
    assert set(layers.PRESETS.values()) <= shipped_stacks


@pytest.mark.parametrize("kind", AUTOENCODERS)
def test_autoencoders_are_estimated_from_their_shipped_entry(kind):
    config = default_config(kind)
    recorded = cache.load_records(config)[1]["training_seconds"]
    assert timing.estimate_seconds(config) == pytest.approx(recorded)
    # Half the images, about half the time.
    assert timing.estimate_seconds(default_config(kind, train_size=27_500)) == pytest.approx(recorded / 2)


def test_terms_follow_the_settings():
    cnn = DEFAULTS["cnn"]
    terms = dict(zip(timing.TERMS, timing.epoch_terms(cnn)))
    assert terms["float32 multiply-adds"] == 0 and terms["bfloat16 multiply-adds"] == (3 * 55_000 + 5_000) * 4_795_648
    assert terms["distorted images"] == 55_000 and terms["mirrored images"] == 0 and terms["steps"] == 430
    fashion = dict(zip(timing.TERMS, timing.epoch_terms(FASHION[0])))
    assert fashion["distorted images"] == 0 and fashion["mirrored images"] == 55_000
    quick_look = TrainConfig("custom", epochs=1, layers=(("dense", 64, "relu"),), train_size=10_000, batch_size=100)
    terms = dict(zip(timing.TERMS, timing.epoch_terms(quick_look)))
    assert terms["steps"] == 100 and terms["float32 multiply-adds"] == (3 * 10_000 + 5_000) * (784 * 64 + 64 * 10)


def test_a_longer_or_larger_run_is_estimated_longer():
    base = DEFAULTS["quick_cnn"]
    seconds = timing.estimate_seconds(base)
    from dataclasses import replace

    assert timing.estimate_seconds(replace(base, epochs=8)) > 1.9 * seconds - 5
    assert timing.estimate_seconds(replace(base, train_size=10_000)) < seconds / 2
    assert timing.estimate_seconds(replace(base, precision="float32")) > seconds


def test_too_few_entries_fall_back_to_the_measured_rates():
    coefficients, extra = timing.fit([])
    assert np.array_equal(coefficients, timing.FALLBACK) and extra == timing.FALLBACK_FIRST_EXTRA
    assert timing.classifier_seconds(DEFAULTS["cnn"], (coefficients, extra)) > 0


def test_a_term_one_entry_uses_keeps_its_measured_rate():
    # Only the Fashion CNN mirrors its images: a fit without it (leave-one-out) must not
    # price mirroring at zero, and a fit with it cannot check it against another entry.
    observed = timing.observations()
    mirrored = [o for o in observed if o[0].augment and o[0].dataset != "mnist"]
    assert len(mirrored) == 1
    for subset in (observed, [o for o in observed if o not in mirrored]):
        coefficients, _ = timing.fit(subset)
        assert coefficients[timing.TERMS.index("mirrored images")] == timing.FALLBACK[
            timing.TERMS.index("mirrored images")]


def test_runs_trained_two_at_a_time_are_left_out_of_the_fit():
    # The sweeps' runs trained with one thread each, beside another run.
    one_thread = [m for m in cache.list_models() if (m.get("threads") or {}).get("intra_op") == 1]
    assert one_thread, "the sweeps' kept runs are in the cache"
    kept = {o[0] for o in timing.observations()}
    assert not any(TrainConfig.from_fields(m["config"]) in kept for m in one_thread)
