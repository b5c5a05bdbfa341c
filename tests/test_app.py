"""Every page renders in Streamlit's AppTest without an exception."""

import pytest
from streamlit.testing.v1 import AppTest

PAGES = ["pages/overview.py", "pages/train.py", "pages/regularization.py", "pages/denoising.py",
         "pages/latent.py", "pages/draw.py"]


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(app, page):
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title, f"{page} shows no title"


def test_overview_lists_the_cached_models(app):
    app.switch_page("pages/overview.py").run()
    table = app.dataframe[0].value
    assert {"dense_64_64", "dense_500_300", "cnn", "denoising_autoencoder", "vae"} <= set(table["kind"])


def test_denoising_slider_reruns_with_new_level(app):
    app.switch_page("pages/denoising.py").run()
    app.slider[0].set_value(0.7).run()
    assert not app.exception
    assert any("noise 0.70" in m.value for m in app.markdown)


def test_train_page_shows_cached_config_without_training(app):
    app.switch_page("pages/train.py").run()
    app.selectbox[0].set_value("cnn").run()
    assert not app.exception
    assert any("cached" in s.value for s in app.success)
    assert not app.button or all(b.label != "Train" for b in app.button)


def test_train_page_offers_training_for_a_new_config(app):
    app.switch_page("pages/train.py").run()
    app.selectbox[0].set_value("dense_64_64").run()
    app.number_input(key="dense_64_64-epochs").set_value(3).run()
    assert not app.exception
    assert any("Not cached yet" in i.value for i in app.info)
    assert [b.label for b in app.button] == ["Train"]
