"""The Train page keeps its settings in its address (Streamlit's AppTest): written as they
change, read when the page opens (a reconnect after a server restart, a reload, a shared
link), and a tampered value falls back to its default with one sentence, never a traceback."""

import json
from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from core.config import DEFAULTS, QUICK_LOOK_SIZE, from_query, query_fields
from core.nets import layers

from addresses import address, infos, open_page


def open_train(params: dict | None = None) -> AppTest:
    return open_page("train", params)


def test_a_config_goes_into_an_address_and_comes_back():
    start = DEFAULTS["custom"]
    config = replace(start, epochs=3, seed=7, learning_rate=1e-5, train_size=QUICK_LOOK_SIZE,
                     layers=layers.PRESETS[next(name for name in layers.PRESETS if name.startswith("The lab's CNN"))])
    fields = query_fields(config, start)
    assert fields["epochs"] == "3" and fields["learning_rate"] == "1e-05" and "batch_size" not in fields
    assert json.loads(fields["layers"])[0][0] == "conv2d" and " " not in fields["layers"]
    assert from_query(start, {**fields, "mode": "class"}) == (config, [])
    # Text of the wrong type is refused, never coerced: 3.0 epochs would name another entry than 3.
    assert from_query(start, {"epochs": "3.0", "augment": "1", "seed": "true", "learning_rate": "NaN",
                              "layers": "[1, 2]"}) == (start, ["epochs", "augment", "seed", "learning_rate", "layers"])


def test_the_address_follows_the_settings_and_reopens_them(queue_env):
    at = open_train({"mode": "class"})
    assert address(at) == {"mode": "class", "dataset": "mnist", "kind": "quick_cnn"}
    at.selectbox(key="train-kind").set_value("dense_500_300").run()
    at.number_input(key="dense_500_300-epochs").set_value(3).run()
    at.number_input(key="dense_500_300-seed").set_value(5).run()
    at.checkbox(key="dense_500_300-quick_look").check().run()
    assert not at.exception, [e.value for e in at.exception]
    link = address(at)
    assert link == {"mode": "class", "dataset": "mnist", "kind": "dense_500_300", "epochs": "3", "seed": "5",
                    "train_size": str(QUICK_LOOK_SIZE)}
    # A new session on that address (a reconnect after a restart): the same settings, no sentence.
    again = open_train(link)
    assert again.selectbox(key="train-kind").value == "dense_500_300"
    assert again.number_input(key="dense_500_300-epochs").value == 3
    assert again.number_input(key="dense_500_300-seed").value == 5
    assert again.checkbox(key="dense_500_300-quick_look").value
    assert any(i.startswith("Not trained yet: 3 epochs") for i in infos(again))
    assert not any("address" in i for i in infos(again))
    assert address(again) == link


def test_your_own_network_and_fashion_mnist_come_back_from_the_address(queue_env):
    at = open_train()
    at.radio(key="train-dataset").set_value("fashion_mnist").run()
    at.selectbox(key="train-kind").set_value("custom").run()
    preset = "Dense 500-300 with dropout 0.35"
    at.selectbox(key="fashion_mnist-custom-preset").set_value(preset).run()
    link = address(at)
    assert link["dataset"] == "fashion_mnist"
    assert json.loads(link["layers"]) == [list(layer) for layer in layers.PRESETS[preset]]
    again = open_train(link)
    assert again.radio(key="train-dataset").value == "fashion_mnist"
    assert again.selectbox(key="train-kind").value == "custom"
    summary = next(d.value for d in again.dataframe if "multiply-adds" in d.value.columns)
    assert list(summary["output shape"]) == ["784", "500", "500", "300", "300", "10"]
    assert address(again) == link


@pytest.mark.parametrize("params, refused, kept", [
    # Values out of range, of the wrong type, or for a widget this model does not have.
    ({"kind": "dense_500_300", "epochs": "9999", "seed": "abc", "l2": "0.001"}, "epochs, seed", {"l2": "0.001"}),
    ({"kind": "cnn", "l2": "0.001", "train_size": "500", "optimizer": "rmsprop", "batch_size": "64"},
     "l2, quick look, optimizer", {"batch_size": "64"}),
    ({"kind": "conv_denoiser", "noise_level": "0.123", "precision": "mixed_bfloat16"}, "noise level, bfloat16", {}),
    ({"kind": "custom", "layers": '[["dense",64,"relu"],["conv2d",8,3,"relu"]]'}, "layers", {}),
    ({"kind": "custom", "layers": "[[" * 5000}, "layers", {}),
])
def test_a_tampered_value_keeps_its_default_with_one_sentence(queue_env, params, refused, kept):
    at = open_train({"dataset": "mnist", **params})
    assert infos(at)[0] == (f"This page's address named settings it cannot use ({refused}), so those keep "
                            "their defaults.")
    assert at.selectbox(key="train-kind").value == params["kind"]
    # The address now holds what the page shows: the refused values are gone, the good ones stay.
    assert address(at) == {"dataset": "mnist", "kind": params["kind"], **kept}
    # The sentence is said once: the next run has none.
    at.run()
    assert not any("address" in i for i in infos(at))


@pytest.mark.parametrize("params", [{"kind": "nonsense", "epochs": "2"}, {"dataset": "cifar100", "kind": "cnn"},
                                    {"dataset": "fashion_mnist", "kind": "vae"}])
def test_an_unknown_model_or_data_set_opens_the_defaults(queue_env, params):
    at = open_train(params)
    assert any(i.startswith("This page's address named settings it cannot use") and
               i.endswith("so the page opens with its defaults.") for i in infos(at))
    assert at.radio(key="train-dataset").value == "mnist" and at.selectbox(key="train-kind").value == "quick_cnn"
    assert at.number_input(key="quick_cnn-epochs").value == DEFAULTS["quick_cnn"].epochs
    assert address(at) == {"dataset": "mnist", "kind": "quick_cnn"}
