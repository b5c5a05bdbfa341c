"""core.analysis.inside on the shipped models, and the Inside page in AppTest."""

import numpy as np
import pytest

from core.analysis import inside


@pytest.fixture(scope="module")
def cnn():
    from core.store import cache
    from core.config import default_config

    return cache.load(default_config("cnn")).model


@pytest.fixture(scope="module")
def dense():
    from core.store import cache
    from core.config import default_config

    return cache.load(default_config("dense_64_64")).model


def test_feature_maps_have_the_layers_shapes(cnn, test_set):
    x, _ = test_set
    maps, probabilities = inside.feature_maps(cnn, x[0])
    layers = inside.map_layers(cnn)
    assert [values.shape for _, values in maps] == [tuple(layer.output.shape[1:]) for layer in layers]
    assert [values.shape for _, values in maps] == [(24, 24, 32), (12, 12, 32), (10, 10, 64), (8, 8, 64),
                                                    (4, 4, 64)]
    assert all(values.min() >= 0 for _, values in maps)  # relu and max pooling of relu
    np.testing.assert_allclose(probabilities, cnn.predict_on_batch(x[:1])[0], atol=1e-5)


def test_feature_maps_reject_a_batch(cnn, test_set):
    with pytest.raises(ValueError):
        inside.feature_maps(cnn, test_set[0][:2])


def test_tile_lays_out_every_map_normalised(cnn, test_set):
    maps, _ = inside.feature_maps(cnn, test_set[0][0])
    values = maps[0][1]  # (24, 24, 32)
    grid = inside.tile(values, columns=8, scale=2, gap=1)
    assert grid.shape == (4 * 49 - 1, 8 * 49 - 1) and grid.dtype == np.uint8
    # The third map, row 0 column 2: its brightest pixel is 255 (or it is all black).
    third = grid[0:48, 2 * 49: 2 * 49 + 48]
    assert third.max() == (255 if values[..., 2].max() > 0 else 0)


def test_first_layer_filters_and_dense_units_as_images(cnn, dense):
    filters = inside.first_layer_filters(cnn)
    assert filters.shape == (32, 5, 5) and filters.dtype == np.float32
    np.testing.assert_array_equal(filters[3], np.asarray(cnn.layers[1].kernel)[:, :, 0, 3])
    units = inside.dense_unit_weights(dense)
    assert units.shape == (64, 28, 28)
    # Unit 5's weight from pixel (row 10, column 17) is kernel row 10 * 28 + 17.
    assert units[5, 10, 17] == np.asarray(dense.layers[1].kernel)[10 * 28 + 17, 5]
    assert inside.tile_rgb(inside.diverging(units), columns=16, scale=2, gap=2).shape == (4 * 58 - 2, 16 * 58 - 2, 3)
    with pytest.raises(ValueError):
        inside.first_layer_filters(dense)


def test_occlusion_is_higher_on_the_inked_half(cnn, test_set):
    x, y = test_set
    for index in np.flatnonzero(y == 0)[:3]:
        digit = x[index].copy()
        digit[:, 14:] = 0.0  # the right half blanked: only the left half has ink
        occlusion, target = inside.occlusion_map(cnn, digit)
        assert occlusion.shape == (28, 28)
        assert occlusion[:, :14].mean() > occlusion[:, 14:].mean() + 0.01, index


def test_occlusion_follows_a_chosen_class(cnn, test_set):
    digit = test_set[0][0]
    _, target = inside.occlusion_map(cnn, digit, target=3)
    assert target == 3
    with pytest.raises(ValueError):
        inside.occlusion_map(cnn, digit, target=10)


def test_integrated_gradients_add_up_to_the_change_in_probability(cnn, test_set):
    # Completeness (Sundararajan et al. 2017): the attributions sum to f(x) - f(baseline),
    # up to the error of the path integral's trapezoid rule.
    x, _ = test_set
    black = np.zeros((28, 28), np.float32)
    # The CNN reads a blank image as a "1" (0.68 with label smoothing): for the 1s the
    # change is small, so the others carry the "real test" guard.
    blank_class = int(np.argmax(inside.feature_maps(cnn, black)[1]))
    for digit in x[:10]:
        attributions, target = inside.integrated_gradients(cnn, digit)
        change = inside.feature_maps(cnn, digit)[1][target] - inside.feature_maps(cnn, black)[1][target]
        if target != blank_class:
            assert abs(change) > 0.5  # a real test: the black image is not the digit's class
        assert attributions.sum() == pytest.approx(change, abs=0.05)
    fine, target = inside.integrated_gradients(cnn, x[0], steps=256)
    change = inside.feature_maps(cnn, x[0])[1][target] - inside.feature_maps(cnn, black)[1][target]
    assert fine.sum() == pytest.approx(change, abs=0.01)


def test_inspect_returns_what_the_page_shows(cnn, test_set):
    result = inside.inspect(cnn, test_set[0][0])
    assert result["answer"] == int(np.argmax(result["probabilities"])) == test_set[1][0]
    assert [title for title, _, _ in result["layers"]] == [
        "Convolution: 32 filters of 5 × 5", "Max pooling 2 × 2", "Convolution: 64 filters of 3 × 3",
        "Convolution: 64 filters of 3 × 3", "Max pooling 2 × 2"]
    assert result["occlusion"].shape == result["gradients"].shape == (28, 28)
    image = inside.saliency_image(result["gradients"], test_set[0][0])
    assert image.shape == (168, 168, 3) and image.dtype == np.uint8


def _texts(at) -> str:
    """The page's markdown, captions and image captions (AppTest has no image element: read its proto)."""
    images = [image.caption for element in at.get("image") for image in element.proto.imgs]
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] + images)


def test_the_page_shows_a_test_digit_and_its_layers(test_set):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../pages/inside.py", default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Inside the CNN"
    assert any("Draw a digit on the pad" in i.value for i in at.info)
    at.segmented_control(key="inside-source").set_value("A test digit").run()
    at.number_input(key="inside-index").set_value(3).run()
    assert not at.exception, [e.value for e in at.exception]
    text = _texts(at)
    for shape in ("24×24×32", "12×12×32", "10×10×64", "8×8×64", "4×4×64"):
        assert shape in text
    assert f"Test digit 3, labelled {test_set[1][3]}" in text
    at.radio(key="inside-by").set_value("class").run()
    at.selectbox(key="inside-class").set_value(4).run()
    at.number_input(key="inside-nth").set_value(2).run()
    assert not at.exception
    second_four = int(np.flatnonzero(test_set[1] == 4)[1])
    assert f"Test digit {second_four}, labelled 4" in _texts(at)
    # The last 1 is beyond the number of 5s: switching to 5 shows the last 5, not an error.
    at.selectbox(key="inside-class").set_value(1).run()
    at.number_input(key="inside-nth").set_value(int(np.sum(test_set[1] == 1))).run()
    at.selectbox(key="inside-class").set_value(5).run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"Test digit {int(np.flatnonzero(test_set[1] == 5)[-1])}, labelled 5" in _texts(at)


def test_the_page_opens_on_the_drawing_from_the_draw_page(test_set):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../pages/inside.py", default_timeout=120)
    at.session_state["drawn_digit"] = test_set[0][0]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Your drawing from the Draw page" in _texts(at)
    assert f"to answer {test_set[1][0]}" in _texts(at)


# ---------------------------------------------------------------------------------------
# Other networks: the Fashion-MNIST CNN and your own networks with convolutions

@pytest.fixture(scope="module")
def fashion_root(tmp_path_factory):
    from tests.fashion_store import make_store

    return make_store(tmp_path_factory.mktemp("fashion") / "cache")


@pytest.fixture(scope="module")
def fashion_test():
    from core.data import registry as datasets

    return datasets.load("fashion_mnist").splits()[2]


def test_fashion_cnn_feature_maps_have_its_layers_shapes(fashion_root, fashion_test):
    from core.store import cache
    from core.config import FASHION

    model = cache.load(FASHION[0], fashion_root).model
    x, y = fashion_test
    maps, probabilities = inside.feature_maps(model, x[0])
    layers = inside.map_layers(model)
    assert [values.shape for _, values in maps] == [tuple(layer.output.shape[1:]) for layer in layers]
    assert len(maps) == 5 and maps[0][1].shape == (24, 24, 32)
    assert probabilities.shape == (10,) and probabilities.sum() == pytest.approx(1, abs=1e-5)
    # Occlusion's blank patch is Fashion-MNIST's background too: the pictures' border is black.
    assert np.median(np.concatenate([x[:100, 0, :], x[:100, :, 0]], axis=1)) == 0.0
    result = inside.inspect(model, x[0])
    assert result["occlusion"].shape == result["gradients"].shape == (28, 28)


def test_tile_keeps_negative_values_black():
    maps = np.zeros((4, 4, 2), np.float32)
    maps[0, 0, 0], maps[1, 1, 0] = -3.0, 1.0
    grid = inside.tile(maps, columns=2, gap=0)
    assert grid[0, 0] == 0 and grid[1, 1] == 255


def test_named_answer_names_the_class():
    from core.data.registry import class_names

    p = np.full(10, 0.02, np.float32)
    p[7] = 0.82
    block = inside.named_answer_html(np.zeros((28, 28), np.float32), p, class_names("fashion_mnist"), "test-5")
    assert 'data-answer="Sneaker"' in block and "82% sure" in block and 'data-drawing="test-5"' in block
    with pytest.raises(ValueError):
        inside.named_answer_html(np.zeros((28, 28), np.float32), p, ("a", "b"), "x")


def _custom_entry(runs, layers, dataset="mnist", created="2026-11-21T20:00:00Z"):
    """A custom network saved untrained into the store ``runs``; returns its config."""
    import keras

    from core.store import cache
    from core.nets import models
    from core.config import TrainConfig
    from core.data.registry import INPUT_SHAPES
    from core.training.run import TrainResult
    from dataclasses import asdict

    config = TrainConfig("custom", epochs=1, layers=layers, dataset=dataset, train_size=100)
    keras.utils.set_random_seed(0)
    model = models.custom(layers, INPUT_SHAPES[dataset])
    fields = asdict(config)
    fields["layers"] = [list(layer) for layer in layers]
    metrics = {"config": fields, "key": config.key(), "kind": "custom", "created": created, "seed": 0,
               "epochs": 1, "param_count": model.count_params(), "test_accuracy": 0.1, "test_loss": 2.3,
               "training_seconds": 1.0}
    history = {"accuracy": [0.1], "val_accuracy": [0.1], "loss": [2.3], "val_loss": [2.3], "seconds": [1.0]}
    cache.save(config, TrainResult(model, history, metrics), runs)
    return config


CONV = (("conv2d", 4, 3, "tanh"), ("maxpool",), ("dense", 16, "relu"))


def test_choices_list_the_networks_with_convolutions(fashion_root, tmp_path):
    runs = tmp_path / "runs"
    conv = _custom_entry(runs, CONV)
    _custom_entry(runs, (("dense", 16, "relu"),))  # no convolution: not offered
    fashion_conv = _custom_entry(runs, CONV, dataset="fashion_mnist", created="2026-11-21T21:00:00Z")
    found = inside.model_choices(fashion_root, runs, fashion_installed=True)
    # The shipped presets of your own network with a convolution (both quick looks on
    # digits), then the runs trained here, newest first.
    from core.config import PRESET_RUNS

    assert {c.config for c in found[2:] if c.store == "shipped"} == {
        run for run in PRESET_RUNS if any(layer[0] == "conv2d" for layer in run.layers)}
    mine = [c for c in found if c.store == "here"]
    assert [c.entry for c in mine] == [f"custom-{fashion_conv.key()}", f"custom-{conv.key()}"]
    assert found[0].config.kind == "cnn" and found[0].dataset == "mnist"
    assert found[1].dataset == "fashion_mnist" and found[1].label == "The same CNN on Fashion-MNIST clothes"
    # One name on every page: the Compare runs and Mistakes pages' label.
    from core.analysis.compare import comparable_runs

    named = {run.entry: run.label for run in comparable_runs(fashion_root, runs)}
    assert mine[1].label == named[mine[1].entry]
    assert mine[1].label.startswith("Your own network: Conv 4 3x3") and "trained here" in mine[1].label
    assert all(c.config.key() not in c.label and "custom" not in c.label for c in found)  # plain words
    without = inside.model_choices(fashion_root, runs, fashion_installed=False)
    assert [c.entry for c in without] == [c.entry for c in found if c.dataset == "mnist"]
    assert len(without) == len(found) - 2  # the Fashion-MNIST CNN and the run on clothes
    assert inside.dense_partner("fashion_mnist").dataset == "fashion_mnist"
    with pytest.raises(ValueError):
        inside.dense_partner("cifar10")


def test_page_shows_a_fashion_image_picked_by_class(fashion_root, fashion_test, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from core.data.registry import class_names

    monkeypatch.setenv("DIGITLAB_CACHE", str(fashion_root))
    at = AppTest.from_file("../pages/inside.py", default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    picker = at.selectbox(key="inside-model")
    assert picker.options[:2] == ["The CNN on MNIST digits (the lab's own)", "The same CNN on Fashion-MNIST clothes"]
    picker.select_index(1).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "drawing clothes is not the point" in _texts(at)
    assert not at.get("segmented_control")  # no drawing pad choice for clothes
    at.radio(key="inside-by").set_value("class").run()
    classes = at.selectbox(key="inside-class")
    assert classes.options == list(class_names("fashion_mnist"))
    classes.set_value(8).run()  # Bag
    at.number_input(key="inside-nth").set_value(3).run()
    assert not at.exception, [e.value for e in at.exception]
    third_bag = int(np.flatnonzero(fashion_test[1] == 8)[2])
    text = _texts(at)
    assert f"Test image {third_bag}, labelled Bag" in text
    assert "Which Bag (1 to 1000)" in [n.label for n in at.number_input]
    for shape in ("24×24×32", "12×12×32", "10×10×64", "8×8×64", "4×4×64"):
        assert shape in text
    # The answer names a class, not a digit.
    assert any(f"to answer {name}:" in text for name in class_names("fashion_mnist"))
    assert any("on Fashion-MNIST clothes" in s.value for s in at.subheader)  # its own dense 64-64


def test_page_opens_your_own_network_with_its_maps(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    runs = tmp_path / "runs"
    _custom_entry(runs, CONV)
    monkeypatch.setenv("DIGITLAB_RUNS", str(runs))
    at = AppTest.from_file("../pages/inside.py", default_timeout=120)
    at.run()
    picker = at.selectbox(key="inside-model")
    index = next(i for i, option in enumerate(picker.options)
                 if option.startswith("Your own network: Conv 4 3x3") and "trained here" in option)
    picker.select_index(index).run()
    at.segmented_control(key="inside-source").set_value("A test digit").run()
    assert not at.exception, [e.value for e in at.exception]
    text = _texts(at)
    assert "1. Convolution: 4 filters of 3 × 3** · 26×26×4" in text and "13×13×4" in text
    assert "Your network's 4 first-layer filters, 3 × 3 weights each" in text
    assert any(s.value == "The dense 64-64 net's first layer" for s in at.subheader)
