"""core.inside on the shipped models, and the Inside page in AppTest."""

import numpy as np
import pytest

from core import inside


@pytest.fixture(scope="module")
def cnn():
    from core import cache
    from core.config import default_config

    return cache.load(default_config("cnn")).model


@pytest.fixture(scope="module")
def dense():
    from core import cache
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
    for digit in x[:10]:
        attributions, target = inside.integrated_gradients(cnn, digit)
        change = inside.feature_maps(cnn, digit)[1][target] - inside.feature_maps(cnn, black)[1][target]
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
