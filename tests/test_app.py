"""Every page renders in Streamlit's AppTest without an exception."""

import pytest
from streamlit.testing.v1 import AppTest

PAGES = ["pages/overview.py", "pages/train.py", "pages/regularization.py", "pages/denoising.py",
         "pages/latent.py", "pages/draw.py", "pages/collect.py", "pages/class_models.py", "pages/inside.py",
         "pages/mistakes.py", "pages/compare.py"]


@pytest.fixture
def app(queue_env):
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(app, page):
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title, f"{page} shows no title"


def test_overview_lists_the_cached_models(app):
    from core.vocabulary import MODEL_NAMES

    app.switch_page("pages/overview.py").run()
    table = app.dataframe[0].value
    # In a learner's words; the kinds and entry names are under "Where this came from".
    assert {MODEL_NAMES[k] for k in ("dense_64_64", "dense_500_300", "cnn", "denoising_autoencoder", "vae")} \
        <= set(table["model"])
    assert {"dense_64_64", "cnn", "vae"} <= set(app.dataframe[1].value["kind"])


def test_denoising_sends_every_level_at_once(app):
    app.switch_page("pages/denoising.py").run()
    assert not app.exception
    # The component's own slider and Other digits (tests/test_browser.py, tests/test_load.py):
    # no Streamlit slider whose every release would ask the server.
    assert not app.slider
    assert app.session_state["digit_batch"] == 0


def test_train_page_shows_cached_config_without_training(app):
    app.switch_page("pages/train.py").run()
    app.selectbox[0].set_value("cnn").run()
    assert not app.exception
    assert any("shipped with the lab" in s.value for s in app.success)
    assert all(b.label != "Train" for b in app.button)


def test_train_page_offers_training_for_a_new_config(app):
    app.switch_page("pages/train.py").run()
    app.selectbox[0].set_value("dense_64_64").run()
    app.number_input(key="dense_64_64-epochs").set_value(3).run()
    assert not app.exception
    assert any("Not trained yet" in i.value for i in app.info)
    assert [b.label for b in app.main.button] == ["Train"]


def test_train_button_queues_one_job_and_shows_it_to_everyone(app):
    from core.queue import jobs

    # The page alone: AppTest loses a button's click after switch_page in a multipage app.
    app = AppTest.from_file("../pages/train.py", default_timeout=120)
    app.session_state["student"] = "Ada"  # the name the sidebar's form would have claimed
    app.run()
    app.selectbox(key="train-kind").set_value("dense_64_64").run()
    app.number_input(key="dense_64_64-epochs").set_value(3).run()
    next(b for b in app.button if b.label == "Train").click().run()
    assert not app.exception
    assert any("Queued: number 1 in the line" in i.value and "Queued by you" in i.value for i in app.info)
    assert [b.label for b in app.button if b.label in ("Cancel", "Show")] == ["Cancel", "Show", "Cancel"]
    # Another student, with the same settings, sees the same job, by Ada, without a Cancel button.
    other = AppTest.from_file("../pages/train.py", default_timeout=120)
    other.session_state["student"] = "Grace"
    other.run()
    other.selectbox(key="train-kind").set_value("dense_64_64").run()
    other.number_input(key="dense_64_64-epochs").set_value(3).run()
    assert any("Queued by Ada" in i.value for i in other.info)
    assert "Cancel" not in [b.label for b in other.button]
    assert jobs.queued_count() == 1
    # Without a name, the Train button is there but off, with the sentence saying why.
    nameless = AppTest.from_file("../pages/train.py", default_timeout=120)
    nameless.run()
    nameless.selectbox(key="train-kind").set_value("dense_64_64").run()
    nameless.number_input(key="dense_64_64-epochs").set_value(4).run()
    assert any(w.value.startswith("Pick your name in the class") for w in nameless.warning)
    assert next(b for b in nameless.button if b.label == "Train").disabled
    app.button(key="cancel").click().run()
    assert any("cancelled" in i.value for i in app.info) and jobs.queued_count() == 0


def test_a_sweep_trained_here_is_shown_beside_the_shipped_ones(app, queue_env):
    import shutil

    from core.store import cache
    from core.config import SWEEPS

    shutil.copytree(cache.experiment_path("sweep", SWEEPS[0].key()), queue_env / f"sweep-{SWEEPS[0].key()}")
    app.switch_page("pages/regularization.py").run()
    assert not app.exception
    assert any(h.value.startswith("Trained here: plain digits") for h in app.subheader)


def test_train_page_without_the_queue_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITLAB_REDIS_URL", f"unix://{tmp_path}/no-redis.sock")
    monkeypatch.setenv("DIGITLAB_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file("../pages/train.py", default_timeout=120)
    at.run()
    at.selectbox(key="train-kind").set_value("dense_64_64").run()
    at.number_input(key="dense_64_64-epochs").set_value(3).run()
    assert not at.exception
    assert any("The training queue is not running" in w.value for w in at.warning)
    assert "Train" not in [b.label for b in at.button]


def test_regularization_keeps_the_shipped_sweeps_while_a_sweep_is_set_up_and_queued(queue_env):
    # The page alone: AppTest loses a button's click after switch_page in a multipage app.
    app = AppTest.from_file("../pages/regularization.py", default_timeout=120)
    app.session_state["student"] = "Ada"
    app.run()
    shipped = [h.value for h in app.subheader]
    assert {"Plain digits", "Distorted digits"} <= set(shipped)
    epochs, seeds = (next(n for n in app.number_input if n.label == label) for label in ("Epochs per run",
                                                                                         "Seeds per factor"))
    epochs.set_value(5)
    seeds.set_value(3)
    app.run()
    assert [h.value for h in app.subheader] == shipped and len(app.get("plotly_chart")) == 1
    next(b for b in app.button if b.label == "Queue this sweep").click().run()
    assert not app.exception
    assert [h.value for h in app.subheader][:len(shipped)] == shipped and len(app.get("plotly_chart")) == 1
    assert any("3 seeds, 5 epochs" in i.value for i in app.info)


@pytest.mark.parametrize("page", [p for p in PAGES if p != "pages/draw.py"])
def test_page_renders_in_projector_mode_without_captions(queue_env, page):
    at = AppTest.from_file(f"../{page}", default_timeout=120)
    at.session_state["projector"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # Captions are for a learner reading alone; a projected page leaves them out.
    assert not at.caption, [c.value for c in at.caption]


@pytest.mark.parametrize("label, value, sentence", [
    ("Epochs", 1000, "the number of epochs must be a whole number from 1 to 200, not 1,000"),
    ("Epochs", 2.5, "the number of epochs must be a whole number from 1 to 200, not 2.5"),
    ("Seed", 20_000, "the seed must be a whole number from 0 to 10,000, not 20,000"),
])
def test_an_out_of_range_setting_gets_a_sentence_and_no_train_button(queue_env, label, value, sentence):
    at = AppTest.from_file("../pages/train.py", default_timeout=120)
    at.run()
    at.selectbox(key="train-kind").set_value("dense_64_64").run()
    next(n for n in at.number_input if n.label == label).set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [f"These settings cannot be trained: {sentence}."]
    assert "Train" not in [b.label for b in at.button]
    # The field keeps what was typed (no max to clamp it to).
    assert next(n for n in at.number_input if n.label == label).value == value


def test_sgd_momentum_and_a_digits_code_out_of_range_get_a_sentence(queue_env):
    at = AppTest.from_file("../pages/train.py", default_timeout=120)
    at.run()
    at.selectbox(key="train-kind").set_value("vae").run()
    at.number_input(key="vae-latent_dim").set_value(20).run()
    assert [e.value for e in at.error] == ["These settings cannot be trained: the size of a digit's code must be a "
                                           "whole number from 1 to 16, not 20."]
    at.number_input(key="vae-latent_dim").set_value(4).run()
    at.radio(key="vae-optimizer").set_value("sgd").run()
    at.number_input(key="vae-momentum").set_value(1.5).run()
    assert [e.value for e in at.error] == ["These settings cannot be trained: SGD momentum must be from 0 to 0.99, "
                                           "not 1.5."]
    assert "Train" not in [b.label for b in at.button]
