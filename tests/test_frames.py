"""The frames the Denoising and Latent space pages send once, so the browser can swap them
while the hand moves: each equals what the server computes for that one position."""

import base64

import numpy as np
import pytest

from core.analysis.inference import NOISE_LEVELS, denoise_and_classify, noise_frames
from core.analysis.latent import decode, interpolate, latent_grid
from core.config import default_config
from core.present.payloads import latent_map_payload, morph_payload, noise_payload, samples_payload
from core.present.sprites import read_sprite, sprite_png
from core.store import cache
from core.training.experiments import load_noise_curve


@pytest.fixture(scope="module")
def entries():
    return {kind: cache.load(default_config(kind)) for kind in ("cnn", "denoising_autoencoder", "conv_denoiser", "vae")}


def test_the_slider_offers_0_to_1_in_steps_of_0_05():
    assert NOISE_LEVELS[0] == 0.0 and NOISE_LEVELS[-1] == 1.0 and len(NOISE_LEVELS) == 21
    assert np.allclose(np.diff(NOISE_LEVELS), 0.05)


def test_noise_frames_equal_denoise_and_classify_at_every_level(entries, test_set):
    images = test_set[0][:8]
    denoisers = {"dense": entries["denoising_autoencoder"].model, "conv": entries["conv_denoiser"].model}
    frames = noise_frames(images, 1003, denoisers, entries["cnn"].model)
    assert frames["seasoned"].shape == (21, 8, 28, 28)
    for i, level in enumerate(NOISE_LEVELS):
        one = denoise_and_classify(images, level, 1003, denoisers, entries["cnn"].model)
        # The seasoned pixels are the same each time the slider returns to a level.
        assert np.array_equal(frames["seasoned"][i], one["seasoned"]), level
        assert np.array_equal(frames["seasoned_labels"][i], one["seasoned_labels"]), level
        for name in ("dense", "conv", "median"):
            assert np.allclose(frames["denoised"][name][i], one["denoised"][name], atol=1e-5), (name, level)
            assert np.array_equal(frames["denoised_labels"][name][i], one["denoised_labels"][name]), (name, level)


def test_sprite_round_trip_within_one_grey_level():
    frames = np.random.default_rng(0).random((3, 5, 28, 28)).astype(np.float32)
    back = read_sprite(sprite_png(frames))
    assert back.shape == frames.shape
    assert np.abs(back - frames).max() <= 0.5 / 255 + 1e-6
    with pytest.raises(ValueError):
        sprite_png(frames[0])


def test_noise_payload_holds_every_level_in_one_sprite(entries, test_set):
    images, labels = test_set[0][:8], test_set[1][:8]
    denoisers = {"dense": entries["denoising_autoencoder"].model, "conv": entries["conv_denoiser"].model}
    frames = noise_frames(images, 1000, denoisers, entries["cnn"].model)
    curve = load_noise_curve()
    payload = noise_payload(images, labels, frames, curve["rows"], "CNN", start=0.4, factor=3, token="0-3")
    sheet = read_sprite(base64.b64decode(payload["sprite"].split(",", 1)[1]))
    assert sheet.shape == (1 + 21 * 4, 8, 28, 28)
    assert np.abs(sheet[0] - images).max() <= 1 / 255
    level = NOISE_LEVELS.index(0.5)
    assert np.abs(sheet[1 + 4 * level + 2] - frames["denoised"]["conv"][level]).max() <= 1 / 255
    assert payload["levels"][payload["start"]] == 0.4
    assert payload["answers"]["median"][level] == frames["denoised_labels"]["median"][level].tolist()
    assert set(payload["curve"]["accuracy"]) == {"seasoned", "dense", "conv", "median"}


def test_latent_grid_equals_the_decoder_at_its_points(entries):
    decoder = entries["vae"].model.get_layer("decoder")
    grid = latent_grid(decoder, (-4.0, -3.0), (4.0, 5.0), 5)
    assert grid.shape == (5, 5, 28, 28)
    # Row r, column c is the code (low_1 + c * step_1, low_2 + r * step_2).
    for r, c in ((0, 0), (0, 4), (4, 0), (2, 3), (4, 4)):
        code = np.array([[-4.0 + 2.0 * c, -3.0 + 2.0 * r]], np.float32)
        assert np.allclose(grid[r, c], decode(decoder, code)[0], atol=1e-5), (r, c)
    payload = latent_map_payload(grid, (-4.0, -3.0), (4.0, 5.0), np.zeros((3, 2), np.float32), np.arange(3),
                                 ["#000"] * 10, 2, "t")
    assert payload["grid"] == {"size": 5, "low": [-4.0, -3.0], "high": [4.0, 5.0]} and payload["start"] == [0.0, 0.0]
    with pytest.raises(ValueError):
        latent_grid(decoder, (0, 0), (1, 1), 1)


def test_the_morph_slider_frames_are_the_interpolation(entries, test_set):
    vae = entries["vae"].model
    encoder, decoder = vae.get_layer("encoder"), vae.get_layer("decoder")
    x = test_set[0]
    frames = interpolate(encoder, decoder, x[0], x[1], 41)
    assert np.allclose(frames[::4], interpolate(encoder, decoder, x[0], x[1], 11), atol=1e-5)
    payload = morph_payload(x[0], x[1], frames, 0, 1, 2)
    sheet = read_sprite(base64.b64decode(payload["sprite"].split(",", 1)[1]))
    assert sheet.shape == (2, 41, 28, 28) and payload["start_index"] == 20


def test_samples_payload_has_one_row_per_set():
    batches = np.random.default_rng(1).random((8, 16, 28, 28)).astype(np.float32)
    payload = samples_payload(batches, 3, 2, "3-0")
    assert (payload["batches"], payload["per_batch"], payload["digit"]) == (8, 16, 3)
