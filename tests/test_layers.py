"""Your own network: the layer list's checks and sizes against Keras, its config and its
cache key, and one custom stack trained end to end on a small subset."""

import json
from dataclasses import asdict, replace

import numpy as np
import pytest

from core.config import DEFAULTS, DROPOUT_PAIR, FASHION, NAMED_KINDS, SWEEPS, TrainConfig, config_key
from core.data.registry import INPUT_SHAPES
from core.nets import layers
from core.store import cache


def keras_rows(stack, input_shape):
    from core.nets.models import custom

    model = custom(stack, input_shape)
    return [(tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers
            if type(layer).__name__ != "Reshape"], model.count_params()


@pytest.mark.parametrize("name", list(layers.PRESETS))
@pytest.mark.parametrize("dataset", ["mnist", "cifar10"])
def test_walk_matches_keras_shapes_and_parameters(name, dataset):
    stack, shape = layers.PRESETS[name], INPUT_SHAPES[dataset]
    rows = layers.walk(stack, shape)
    built, total = keras_rows(stack, shape)
    assert [(r["output shape"], r["parameters"]) for r in rows] == built
    assert sum(r["parameters"] for r in rows) == total


@pytest.mark.parametrize("kind", list(layers.NAMED_STACKS))
def test_named_stacks_size_the_named_models(kind):
    from core.nets import models

    model = getattr(models, kind)()
    rows = layers.walk(layers.NAMED_STACKS[kind])
    assert sum(r["parameters"] for r in rows) == model.count_params()
    # The same output shapes of every convolution, pooling and dense layer, in order (the
    # CNN drops out before its Flatten, the list after: the same numbers either way).
    shapes = [tuple(layer.output.shape[1:]) for layer in model.layers
              if type(layer).__name__ in ("Conv2D", "MaxPooling2D", "Dense")]
    assert [r["output shape"] for r in rows if r["layer"].startswith(("Conv2D", "MaxPooling", "Dense"))] == shapes


@pytest.mark.parametrize("stack, words", [
    ((("conv2d", 8, 3, "relu"),) + (("maxpool",),) * 5, "cannot pool a 1x1 map"),
    ((("dense", 32, "relu"), ("conv2d", 8, 3, "relu")), "comes after a Dense layer"),
    ((("maxpool",), ("maxpool",), ("maxpool",), ("conv2d", 8, 7, "relu")), "larger than its 3x3 input map"),
    ((("dense", 2048, "relu"), ("dense", 2048, "relu")), "parameters; at most 2,000,000"),
    ((("conv2d", 64, 3, "relu"), ("conv2d", 128, 3, "relu")), "million multiply-adds per image"),
    ((("dense", 64, "swish"),), "the activation must be one of"),
    ((("dense", 0, "relu"),), "the number of units must be a whole number from 1 to 2048"),
    ((("dropout", 1.5),), "the dropout rate must be a number from 0 to 0.9"),
    ((("attention", 4),), "is not one of Dense, Conv2D"),
    (((), ), "is not one of"),
    ((), "Add at least one layer"),
    ((("dense", 8, "relu"),) * 25, "at most 24"),
])
def test_a_stack_that_cannot_be_built_gets_one_sentence(stack, words):
    with pytest.raises(layers.StackError, match=words) as raised:
        layers.check(stack)
    assert str(raised.value).count(". ") == 0 and str(raised.value).endswith(".")


def test_an_invalid_stack_is_an_invalid_config():
    config = TrainConfig("custom", epochs=1, layers=(("conv2d", 8, 3, "relu"),) + (("maxpool",),) * 5)
    with pytest.raises(ValueError, match="cannot pool a 1x1 map"):
        config.validate()
    with pytest.raises(ValueError, match="custom needs layers"):
        TrainConfig("custom", epochs=1).validate()
    with pytest.raises(ValueError, match="CIFAR-10 trains your own network"):
        TrainConfig("cnn", epochs=1, dataset="cifar10").validate()
    with pytest.raises(ValueError, match="trains on MNIST only"):
        TrainConfig("vae", epochs=1, dataset="fashion_mnist").validate()


def test_new_fields_at_their_defaults_leave_every_shipped_key_as_it_was():
    # The key before the fields existed: the hash of the old twelve fields.
    added = ("dataset", "layers", "precision", "label_smoothing")
    for config in [*(DEFAULTS[kind] for kind in NAMED_KINDS), *SWEEPS[0].runs()]:
        if (config.precision, config.label_smoothing) != ("float32", 0.0):
            continue  # the CNNs' faster recipes: new settings, new entries
        old = {k: v for k, v in asdict(config).items() if k not in added}
        assert config.key() == config_key(old)
    # The CNN's earlier recipe keeps the key it was shipped under.
    before = replace(DEFAULTS["cnn"], precision="float32", label_smoothing=0.0)
    assert before.key() == "2c51cc3e64a5" and DEFAULTS["cnn"].key() != before.key()
    assert (cache.cache_dir() / f"cnn-{DEFAULTS['cnn'].key()}").is_dir()
    assert [s.key() for s in SWEEPS] == ["c96fc8f84fcf", "c765f5a71554"]
    # ... and a new value names a new entry.
    assert FASHION[0].key() != replace(FASHION[0], dataset="mnist").key()
    assert DROPOUT_PAIR[0].key() != DROPOUT_PAIR[1].key()


def test_one_network_has_one_key_however_its_json_spells_the_numbers():
    spelled = {**asdict(DROPOUT_PAIR[1]), "layers": [["dense", 500.0, "relu"], ["dropout", 0.35],
                                                      ["dense", 300, "relu"], ["dropout", 0.35]]}
    assert TrainConfig.from_fields(spelled).key() == DROPOUT_PAIR[1].key()
    assert TrainConfig.from_fields({**spelled, "layers": [["dropout", 0]]}).layers == (("dropout", 0.0),)
    # A list that cannot be built is kept as given, for validate() to name.
    bad = TrainConfig.from_fields({**spelled, "layers": [["maxpool"]] * 6})
    with pytest.raises(ValueError, match="cannot pool"):
        bad.validate()


def test_describe_reads_damaged_layers_as_question_marks():
    assert layers.describe([["dropout", "0.3"], ["dense"], ["conv2d", 8, 3, "relu"], None]) == "? · ? · Conv 8 3x3 · ?"


def test_a_config_survives_json_with_its_layers():
    for config in DROPOUT_PAIR + FASHION:
        again = TrainConfig.from_fields(json.loads(json.dumps(asdict(config))))
        assert again == config and again.key() == config.key()
    old_entry = {k: v for k, v in asdict(DEFAULTS["cnn"]).items() if k not in ("dataset", "layers")}
    assert TrainConfig.from_fields(old_entry) == DEFAULTS["cnn"]


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_a_custom_stack_trains_on_a_small_subset_end_to_end(dataset, tmp_path):
    from core.training.run import train

    config = TrainConfig("custom", epochs=2, batch_size=32, train_size=300, dataset=dataset,
                         layers=(("conv2d", 4, 3, "relu"), ("batchnorm",), ("maxpool",), ("dropout", 0.2),
                                 ("dense", 16, "tanh")))
    result = train(config)
    assert len(result.history["val_accuracy"]) == 2
    assert result.metrics["dataset"] == dataset and result.metrics["config"]["layers"]
    assert result.metrics["param_count"] == sum(r["parameters"] for r in layers.walk(config.layers))
    assert 0.0 <= result.metrics["test_accuracy"] <= 1.0
    path = cache.save(config, result, root=tmp_path)
    loaded = cache.load(TrainConfig.from_fields(json.loads((path / "metrics.json").read_text())["config"]),
                        root=tmp_path)
    x = np.random.default_rng(0).random((3, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(loaded.model.predict_on_batch(x), result.model.predict_on_batch(x), atol=1e-5)


@pytest.mark.parametrize("name", list(layers.PRESETS))
def test_editor_rows_give_back_the_stack_through_a_data_frame(name):
    import pandas as pd

    stack = layers.PRESETS[name]
    rows = layers.to_rows(stack)
    assert all(set(row) == set(layers.ROW_FIELDS) for row in rows)
    # As the Train page's editor gives them back: nullable integers, NaN and NA in unused cells.
    frame = pd.DataFrame(rows, columns=layers.ROW_FIELDS).astype(
        {"units or filters": "Int64", "kernel": "Int64", "dropout rate": "float64"})
    back = layers.from_rows(frame.astype(object).to_dict("records"))
    assert back == stack and all(type(v) in (str, int, float) for layer in back for v in layer)
    assert layers.check(back) == stack


def test_editor_rows_read_only_the_cells_their_type_uses():
    rows = [{"layer": "maxpool", "units or filters": 64, "activation": "relu"},
            {"layer": "dropout", "dropout rate": 0.25, "kernel": 3},
            dict.fromkeys(layers.ROW_FIELDS),  # a row added and left blank
            {"layer": "dense", "units or filters": 10.0, "activation": "tanh", "dropout rate": float("nan")}]
    assert layers.from_rows(rows) == (("maxpool",), ("dropout", 0.25), ("dense", 10, "tanh"))


@pytest.mark.parametrize("rows, words", [
    ([{"layer": None, "units or filters": 64}], "Layer 1 has no type"),
    ([{"layer": "dense", "activation": "relu"}], "Layer 1, Dense, needs its number of units"),
    ([{"layer": "maxpool"}, {"layer": "conv2d", "units or filters": 8, "activation": "relu"}],
     "Layer 2, Conv2D, needs its kernel size"),
    ([{"layer": "dropout", "dropout rate": float("nan")}], "needs its dropout rate"),
])
def test_an_editor_row_with_a_blank_cell_it_needs_gets_one_sentence(rows, words):
    with pytest.raises(layers.StackError, match=words) as raised:
        layers.from_rows(rows)
    assert str(raised.value).count(". ") == 0 and str(raised.value).endswith(".")


def test_describe_and_shape_text():
    assert layers.describe(layers.PRESETS["The lab's CNN"]) == \
        "Conv 32 5x5 · pool · Conv 64 3x3 · Conv 64 3x3 · pool · dropout 0.3 · Dense 128 · dropout 0.3"
    assert layers.shape_text((24, 24, 32)) == "24 × 24 × 32" and layers.shape_text((10,)) == "10"


@pytest.mark.parametrize("row, sentence", [
    ({"layer": "dense", "units or filters": "64.7", "activation": "relu"},
     "Layer 2: the number of units must be a whole number from 1 to 2048, not 64.7."),
    ({"layer": "dense", "units or filters": "-5", "activation": "relu"},
     "Layer 2: the number of units must be a whole number from 1 to 2048, not -5."),
    ({"layer": "dense", "units or filters": "1e9", "activation": "relu"},
     "Layer 2: the number of units must be a whole number from 1 to 2048, not 1,000,000,000."),
    ({"layer": "conv2d", "units or filters": "8", "kernel": "99", "activation": "relu"},
     "Layer 2: the kernel size must be a whole number from 1 to 7, not 99."),
    ({"layer": "conv2d", "units or filters": "300", "kernel": "3", "activation": "relu"},
     "Layer 2: the number of filters must be a whole number from 1 to 256, not 300."),
    ({"layer": "dropout", "dropout rate": "1.5"}, "Layer 2: the dropout rate must be a number from 0 to 0.9, not 1.5."),
    ({"layer": "dropout", "dropout rate": "half"},
     "Layer 2: the dropout rate must be a number from 0 to 0.9, not \u201chalf\u201d."),
    ({"layer": "dense", "units or filters": "NaN", "activation": "relu"},
     "Layer 2: the number of units must be a whole number from 1 to 2048, not \u201cNaN\u201d."),
    ({"layer": "dense", "units or filters": 64.7, "activation": "relu"},  # a number, as a pasted frame holds it
     "Layer 2: the number of units must be a whole number from 1 to 2048, not 64.7."),
])
def test_a_typed_cell_out_of_range_is_refused_as_typed(row, sentence):
    # Behind a valid first layer: each refusal names the second, as the page's table numbers it.
    stack = layers.from_rows([{"layer": "conv2d", "units or filters": "8", "kernel": "3", "activation": "relu"}, row])
    with pytest.raises(layers.StackError) as raised:
        layers.check(stack)
    assert str(raised.value) == sentence


def test_typed_cells_are_read_as_typed():
    rows = [{"layer": "conv2d", "units or filters": " 32 ", "kernel": "5", "activation": "relu"},
            {"layer": "dropout", "dropout rate": "0.25"}, {"layer": "dense", "units or filters": "64.0",
                                                           "activation": "tanh"}]
    assert layers.check(layers.from_rows(rows)) == (("conv2d", 32, 5, "relu"), ("dropout", 0.25), ("dense", 64, "tanh"))
    # The editor's text for a number and back: what was typed stays as typed.
    assert [layers.cell_text(v) for v in (64, 64.0, 0.35, float("nan"), None, "", "64.7", "abc")] == \
        ["64", "64", "0.35", None, None, None, "64.7", "abc"]


def test_an_editor_list_keeps_its_first_max_layers_layers():
    dense = {"layer": "dense", "units or filters": "8", "activation": "relu"}
    kept, cut = layers.first_layers([dense] * 1000)
    assert cut and len(kept) == layers.MAX_LAYERS == 24
    assert layers.TOO_MANY_LAYERS == "Only the first 24 layers were kept: this server trains at most 24."
    # Blank rows do not count: 24 layers and a row just added stay as they are.
    blank = dict.fromkeys(layers.ROW_FIELDS)
    assert layers.first_layers([dense] * 24 + [blank]) == ([dense] * 24 + [blank], False)
    assert layers.first_layers([blank] + [dense] * 25) == ([blank] + [dense] * 24, True)


@pytest.mark.parametrize("fields, sentence", [
    ({"epochs": 1000}, "the number of epochs must be a whole number from 1 to 200, not 1,000"),
    ({"epochs": 0}, "the number of epochs must be a whole number from 1 to 200, not 0"),
    ({"epochs": 2.5}, "the number of epochs must be a whole number from 1 to 200, not 2.5"),
    ({"optimizer": "sgd", "momentum": 1.5}, "SGD momentum must be from 0 to 0.99, not 1.5"),
    ({"seed": -1}, "the seed must be a whole number from 0 to 10,000, not -1"),
    ({"kind": "vae", "latent_dim": 20}, "the size of a digit's code must be a whole number from 1 to 16, not 20"),
])
def test_an_out_of_range_setting_of_the_train_page_is_one_plain_sentence(fields, sentence):
    with pytest.raises(ValueError) as raised:
        TrainConfig(**{"kind": "dense_64_64", "epochs": 3, **fields}).validate()
    assert str(raised.value) == sentence
