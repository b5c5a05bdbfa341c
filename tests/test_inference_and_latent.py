"""Running cached models on a few digits: the Denoising page's path, the VAE's latent
space, and the layer table of the Train page."""

import numpy as np
import pytest

from core.analysis.inference import denoise_and_classify, probabilities
from core.analysis.latent import decode, encode, generate, interpolate, perturb, sample_prior
from core.config import default_config
from core.nets.summary import layer_table
from core.store import cache
from core.training.experiments import accuracy


@pytest.fixture(scope="module")
def entries():
    return {kind: cache.load(default_config(kind))
            for kind in ("cnn", "denoising_autoencoder", "conv_denoiser", "vae", "cvae")}


def test_probabilities_of_one_digit_and_a_batch(entries, test_set):
    x, y = test_set
    one, batch = probabilities(entries["cnn"].model, x[0]), probabilities(entries["cnn"].model, x[:16])
    assert one.shape == (10,) and batch.shape == (16, 10)
    assert np.allclose(batch.sum(axis=1), 1, atol=1e-5) and np.allclose(one, batch[0], atol=1e-5)
    assert accuracy(entries["cnn"].model, x[:16], y[:16]) >= 0.9


def test_denoise_and_classify(entries, test_set):
    x, y = test_set[0][:32], test_set[1][:32]
    denoisers = {"dense": entries["denoising_autoencoder"].model, "conv": entries["conv_denoiser"].model}
    out = denoise_and_classify(x, 0.5, 7, denoisers, entries["cnn"].model)
    assert set(out["denoised"]) == set(out["denoised_labels"]) == {"dense", "conv", "median"}
    assert out["seasoned"].shape == (32, 28, 28) and out["seasoned_labels"].shape == (32,)
    for name, images in out["denoised"].items():
        assert images.shape == (32, 28, 28) and 0 <= images.min() and images.max() <= 1, name
    # At noise 0.5 the conv denoiser restores what the seasoned digits lose.
    seasoned_right = np.mean(out["seasoned_labels"] == y)
    conv_right = np.mean(out["denoised_labels"]["conv"] == y)
    assert conv_right >= 0.9 and conv_right > seasoned_right + 0.3
    # Same level and seed, same digits; another seed, other noise.
    again = denoise_and_classify(x, 0.5, 7, denoisers, entries["cnn"].model)
    assert np.array_equal(again["seasoned"], out["seasoned"])
    assert not np.array_equal(denoise_and_classify(x, 0.5, 8, {}, entries["cnn"].model)["seasoned"], out["seasoned"])
    with pytest.raises(ValueError):
        denoise_and_classify(x, 1.5, 7, denoisers, entries["cnn"].model)


def test_interpolate_runs_from_one_code_to_the_other(entries, test_set):
    encoder, decoder = (entries["vae"].model.get_layer(n) for n in ("encoder", "decoder"))
    a, b = test_set[0][0], test_set[0][1]
    strip = interpolate(encoder, decoder, a, b, steps=5)
    assert strip.shape == (5, 28, 28) and strip.dtype == np.float32
    ends = decode(decoder, encode(encoder, np.stack([a, b])))
    assert np.allclose(strip[0], ends[0], atol=1e-5) and np.allclose(strip[-1], ends[1], atol=1e-5)
    # The middle differs from both ends.
    assert np.abs(strip[2] - strip[0]).mean() > 0.01 and np.abs(strip[2] - strip[-1]).mean() > 0.01
    for steps in (1, 51):
        with pytest.raises(ValueError):
            interpolate(encoder, decoder, a, b, steps=steps)


def test_sample_prior_is_seeded_and_clipped(entries):
    decoder = entries["vae"].model.get_layer("decoder")
    codes, digits = sample_prior(decoder, 200, 2, seed=3, limit=1.5)
    assert codes.shape == (200, 2) and digits.shape == (200, 28, 28)
    assert np.abs(codes).max() == pytest.approx(1.5) and 0 <= digits.min() and digits.max() <= 1
    assert np.array_equal(sample_prior(decoder, 200, 2, seed=3, limit=1.5)[0], codes)
    assert not np.array_equal(sample_prior(decoder, 200, 2, seed=4, limit=1.5)[0], codes)


def test_perturb_adds_noise_of_the_given_sigma(entries):
    decoder = entries["vae"].model.get_layer("decoder")
    code = np.array([0.5, -0.5], np.float32)
    codes, digits = perturb(decoder, code, 0.0, 4, seed=0)
    assert np.allclose(codes, code) and np.allclose(digits, digits[0], atol=1e-6)
    codes, _ = perturb(decoder, code, 0.5, 2000, seed=0)
    assert np.std(codes - code) == pytest.approx(0.5, rel=0.05)
    with pytest.raises(ValueError):
        perturb(decoder, code, -0.1, 4, seed=0)


def test_generate_draws_the_chosen_digit(entries):
    decoder, latent_dim = entries["cvae"].model.get_layer("decoder"), entries["cvae"].metrics["config"]["latent_dim"]
    sevens = generate(decoder, 7, 20, latent_dim, seed=1)
    assert sevens.shape == (20, 28, 28) and np.array_equal(sevens, generate(decoder, 7, 20, latent_dim, seed=1))
    assert accuracy(entries["cnn"].model, sevens, np.full(20, 7)) >= 0.9
    for digit, n in ((10, 1), (-1, 1), (2.5, 1), (3, 0)):
        with pytest.raises(ValueError):
            generate(decoder, digit, n, latent_dim, seed=0)


def test_layer_table(entries):
    model = entries["cnn"].model
    rows = layer_table(model)
    assert [r["type"] for r in rows][:3] == ["Reshape", "Conv2D", type(model.layers[2]).__name__]
    assert sum(r["parameters"] for r in rows) == model.count_params()
    assert rows[1]["output shape"].count(" × ") == 2 and "None" not in rows[1]["output shape"]
    nested = layer_table(entries["denoising_autoencoder"].model)
    top = [r for r in nested if not r["layer"].startswith(" ")]
    assert [r["layer"] for r in top] == ["encoder", "decoder"]
    assert sum(r["parameters"] for r in top) == entries["denoising_autoencoder"].model.count_params()
    inner = [r for r in nested if r["layer"].startswith("    ")]
    assert inner and all(r["type"] != "InputLayer" for r in nested)
