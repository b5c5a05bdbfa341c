import numpy as np
import pytest

from core.nets import models


def test_course_parameter_counts():
    assert models.dense_64_64().count_params() == 55_050
    assert models.dense_500_300(1e-4).count_params() == 545_810
    assert models.denoising_autoencoder().count_params() == 226_416
    assert models.vae(latent_dim=2).count_params() == 1_068_820


def test_new_model_parameter_counts():
    assert models.cnn().count_params() == 188_746
    assert models.quick_cnn().count_params() == 215_194
    assert models.conv_denoiser().count_params() == 56_097
    assert models.cvae(latent_dim=8).count_params() == 1_081_120


def test_output_shapes():
    x = np.zeros((3, 28, 28), np.float32)
    for build in (models.dense_64_64, models.dense_500_300, models.quick_cnn, models.cnn):
        p = np.asarray(build()(x))
        assert p.shape == (3, 10)
        assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    dae = models.denoising_autoencoder()
    assert dae(x).shape == (3, 28, 28)
    assert dae.get_layer("encoder")(x).shape == (3, 96)
    assert dae.get_layer("decoder")(np.zeros((3, 96), np.float32)).shape == (3, 28, 28)
    vae = models.vae(latent_dim=2)
    z_mean, z_log_var = vae.get_layer("encoder")(x)
    assert z_mean.shape == (3, 2) and z_log_var.shape == (3, 2)
    assert vae.get_layer("decoder")(np.zeros((3, 2), np.float32)).shape == (3, 28, 28)
    conv = models.conv_denoiser()
    assert conv(x).shape == (3, 28, 28)
    assert conv.get_layer("encoder")(x).shape == (3, 7, 7, 32)
    cvae = models.cvae(latent_dim=4)
    labels = np.array([0, 5, 9], np.int32)
    z_mean, _ = cvae.get_layer("encoder")([x, labels])
    assert z_mean.shape == (3, 4) and cvae([x, labels]).shape == (3, 28, 28)
    assert cvae.get_layer("decoder")([np.zeros((3, 4), np.float32), labels]).shape == (3, 28, 28)


def test_l2_applies_to_hidden_kernels_only():
    model = models.dense_500_300(1e-3)
    factors = [float(layer.kernel_regularizer.l2) for layer in model.layers
               if getattr(layer, "kernel_regularizer", None)]
    assert factors == pytest.approx([1e-3, 1e-3])
    assert [layer.units for layer in model.layers if hasattr(layer, "units")] == [500, 300, 10]
    assert all(getattr(layer, "kernel_regularizer", None) is None for layer in models.dense_500_300(0.0).layers)
    with pytest.raises(ValueError):
        models.dense_500_300(-1.0)
