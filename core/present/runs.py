"""A run's name in words, in one place: the label that tells runs apart on Compare runs
and Mistakes (``run_label``), the model and all its settings in the Train page's job list
and leaderboard (``run_name``, ``settings_text``), and the pieces they share: a setting's
cell, the layer list, the subset, the epochs; and a run's history as CSV for a download
(``history_csv``). Plain Python over ``TrainConfig`` fields."""

from __future__ import annotations

import csv
import io

from core.config import DEFAULTS, QUICK_LOOK_SIZE, TrainConfig
from core.nets.layers import activation, describe
from core.vocabulary import DATASET_NAMES as NAMES
from core.vocabulary import DATASET_TITLES, MODEL_CHOICES, MODEL_NAMES, OPTIMIZER_NAMES

# The settings a table column can show, in the order a learner reads them, with the
# column's plain name. ``TrainConfig``'s fields, all of them.
SETTINGS = {
    "kind": "model",
    "layers": "layers",
    "dataset": "data set",
    "augment": "training images",
    "l2": "L2 weight decay",
    "optimizer": "optimizer",
    "learning_rate": "learning rate",
    "momentum": "SGD momentum",
    "lr_schedule": "learning-rate schedule",
    "batch_size": "batch size",
    "epochs": "epochs",
    "train_size": "training images used",
    "precision": "arithmetic",
    "label_smoothing": "label smoothing",
    "noise_level": "training noise level",
    "latent_dim": "code size",
    "seed": "seed",
}
# Settings a run's label always names for its kind, even at the default: the shipped
# 500-300 nets differ in exactly these, and the three CNNs in their seed.
_ALWAYS_NAMED = {"dense_500_300": ("augment", "l2", "seed"), "cnn": ("seed",), "quick_cnn": ("seed",)}


def layers_text(layers) -> str:
    """Your own network's layer list in a few words, as the other pages write it
    (``core.nets.layers.describe``; output layer left out, the lab adds it): ``(("dense", 500,
    "relu"), ("dropout", 0.35))`` -> "Dense 500 · dropout 0.35". ReLU, the usual
    activation, goes unsaid; another follows its layer ("Dense 64 tanh"), so two networks
    that differ only in it read differently. Empty for no layers."""
    words = describe(layers).split(" · ") if layers else []
    for i, layer in enumerate(layers):
        if activation(layer) not in (None, "relu"):
            words[i] += f" {activation(layer)}"
    return " · ".join(words)


def setting_text(field: str, value, dataset: str = "mnist") -> str:
    """A setting's value as a table cell shows it: ``("l2", 0.0)`` -> "none",
    ``("augment", True)`` -> "distorted" (digits; "mirrored and shifted" off MNIST, ``dataset``),
    ``("learning_rate", 0.003)`` -> "0.003".

    Raises:
        KeyError: for a name that is not a ``TrainConfig`` field.
    """
    SETTINGS[field]  # noqa: B018  an unknown field fails here, in one place
    if field == "kind":
        return MODEL_NAMES.get(value, str(value))
    if field == "layers":
        return layers_text(value) or "its own (named model)"
    if field == "dataset":
        return NAMES.get(value, str(value))
    if field == "augment":
        if dataset != "mnist":
            return "mirrored and shifted" if value else "as they are"
        return "distorted" if value else "plain"
    if field == "l2":
        return f"{value:.2g}" if value else "none"
    if field == "optimizer":
        return OPTIMIZER_NAMES.get(value, str(value))
    if field == "train_size":
        if value == QUICK_LOOK_SIZE:
            return f"quick look: first {value:,}"
        return "all 55,000" if value is None else f"first {value:,}"
    if field == "precision":
        return "bfloat16" if value == "mixed_bfloat16" else str(value)
    if field == "label_smoothing":
        return f"{value:g}" if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def subset_text(train_size: int) -> str:
    """A run on part of the training set, as every list and label names it: "a quick look
    (first 10,000 images)" for ``QUICK_LOOK_SIZE``, else "a subset (first N images)"."""
    what = "a quick look" if train_size == QUICK_LOOK_SIZE else "a subset"
    return f"{what} (first {train_size:,} images)"


def _phrase(field: str, value) -> str:
    # A setting as words inside a run's label ("L2 0.000178", "distorted digits").
    if field == "dataset":
        return NAMES.get(value, str(value))
    if field == "augment":
        return "distorted digits" if value else "plain digits"
    if field == "l2":
        return f"L2 {value:.2g}" if value else "no weight decay"
    if field == "optimizer":
        return setting_text(field, value)
    if field == "lr_schedule":
        return "constant learning rate" if value == "constant" else "cosine schedule"
    if field == "train_size":
        return "all training images" if value is None else subset_text(value)
    if field == "precision":
        return "in bfloat16" if value == "mixed_bfloat16" else f"in {value}"
    if field == "label_smoothing":
        return f"label smoothing {value:g}" if value else "no label smoothing"
    names = {"learning_rate": "learning rate", "momentum": "momentum", "batch_size": "batch", "seed": "seed",
             "noise_level": "noise", "latent_dim": "code size"}
    if field == "epochs":
        return f"{value} epochs"
    return f"{names[field]} {setting_text(field, value)}"


def run_label(config: TrainConfig, store: str = "shipped") -> str:
    """A run's plain name: its model (your own network by its layers), its data set when
    not MNIST, then every setting that differs from the model's default recipe
    (``core.config.DEFAULTS``), and "trained here" for the runs store, e.g. "Dense
    500-300, distorted digits, no weight decay, seed 1", "CNN, Fashion-MNIST, 13 epochs,
    seed 0" or "Your own network: Dense 500 · dropout 0.35 · Dense 300 · dropout 0.35,
    learning rate 0.002, batch 256, 20 epochs".

    Args:
        store: "shipped" (models_cache/) or "here" (the runs store).
    """
    default = DEFAULTS.get(config.kind)
    always = _ALWAYS_NAMED.get(config.kind, ())
    name = MODEL_NAMES.get(config.kind, config.kind)
    parts = [f"{name}: {layers_text(config.layers)}" if config.layers else name]
    for field in SETTINGS:
        # The layers are in the name. Off MNIST the images are mirrored and shifted or left
        # as they are, whatever the (digits') default recipe says: named only when altered.
        if field in ("kind", "layers"):
            continue
        if field == "augment" and config.dataset != "mnist":
            if config.augment:
                parts.append("mirrored and shifted images")
            continue
        value = getattr(config, field)
        if field in always or default is None or value != getattr(default, field):
            parts.append(_phrase(field, value))
    if store == "here":
        parts.append("trained here")
    return ", ".join(parts)



def epochs_text(epochs) -> str:
    """ "1 epoch", "16 epochs"."""
    return f"{epochs} epoch" if epochs == 1 else f"{epochs} epochs"


def run_name(fields: dict) -> str:
    """A job's or run's model in words: "Your own network (Conv 32 3x3 · pool · Dense 64)
    on Fashion-MNIST clothes"; the data set is named off MNIST only."""
    name = MODEL_CHOICES.get(fields.get("kind"), "A model")
    if fields.get("kind") == "custom":
        name += f" ({describe(fields.get('layers') or ())})"
    dataset = fields.get("dataset", "mnist")
    name = name if dataset == "mnist" else f"{name} on {DATASET_TITLES.get(dataset, dataset)}"
    return name + (f", {subset_text(fields.get('train_size'))}" if fields.get("train_size") else "")


def settings_text(fields: dict) -> str:
    """The settings that tell two runs of one model apart: "16 epochs, batch 256, Adam,
    learning rate 0.01, seed 3" (and the weight decay or noise level where they apply)."""
    text = (f"{epochs_text(fields.get('epochs'))}, batch {fields.get('batch_size')}, "
            f"{OPTIMIZER_NAMES.get(fields.get('optimizer'), fields.get('optimizer'))}, "
            f"learning rate {fields.get('learning_rate', 0):g}")
    if fields.get("l2"):
        text += f", L2 {fields['l2']:.2g}"
    if fields.get("kind") in ("denoising_autoencoder", "conv_denoiser"):
        text += f", noise {fields.get('noise_level', 0):g}"
    return text + f", seed {fields.get('seed')}"


def history_csv(history: dict) -> str:
    """A run's history (``history.json``: {metric: [one float per epoch]}) as CSV text for a
    download: the header ``epoch`` and the metrics in the history's order (accuracy, loss,
    val_accuracy, val_loss, seconds, ...), then one row per epoch counted from 1, numbers
    as Python writes them (every digit kept); a metric with fewer epochs than the others
    leaves its last cells blank. Empty history: the header ``epoch`` alone."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = list(history)
    writer.writerow(["epoch", *names])
    for epoch in range(max((len(values) for values in history.values()), default=0)):
        writer.writerow([epoch + 1, *(repr(history[name][epoch]) if epoch < len(history[name]) else ""
                                      for name in names)])
    return out.getvalue()
