"""Compare runs: classifiers from both stores side by side, the settings that tell them
apart, their numbers in one table, and the ready-made comparisons of the course.

``comparable_runs`` is the lab's one labelled list of classifiers: the Compare runs and
the Mistakes pages both pick from it, so a run has the same name on both.

Plain Python and pandas over the stores' small files (``core.store.cache.list_models``), no
TensorFlow: the Compare runs page and the tests use the same code. The overlaid curves
are ``core.present.figures.comparison_figure``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path

import pandas as pd

from core.config import CLASSIFIERS, DATASETS, DEFAULTS, DROPOUT_PAIR, FASHION, HASH_OPTIONAL, SWEEPS, TrainConfig
from core.nets.layers import normalize
from core.present.runs import SETTINGS, run_label, setting_text
from core.store import cache

# At most this many runs at once: beyond it the curves' colours can no longer be told
# apart (core.present.figures.COMPARE_COLORS has this many).
MAX_RUNS = 8

def wrapped(label: str, width: int = 56) -> str:
    """``label`` broken into lines of at most ``width`` characters with plotly's "<br>",
    after a ", " or " · " (a single longer word stays whole): a legend entry is one line
    that plotly never wraps, so on a 390 px phone a long run name was cut off at the
    screen's edge. Labels of ``width`` characters or fewer come back unchanged."""
    lines, line = [], ""
    for piece in re.split(r"(?<=, )|(?<= · )", label):
        if line and len(line) + len(piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += piece
    lines.append(line)
    return "<br>".join(lines)


@dataclass
class Run:
    """A stored classifier run: ``entry`` its folder name ``<kind>-<key>``, ``store``
    "shipped" or "here", ``label`` its plain name (unique in a listing), ``config``,
    ``metrics`` (metrics.json) and ``history`` (history.json: per-epoch ``accuracy``,
    ``val_accuracy``, ``loss``, ``val_loss`` and ``seconds``)."""

    entry: str
    store: str
    label: str
    config: TrainConfig
    metrics: dict
    history: dict


def _runs_of(root: Path, store: str) -> list[Run]:
    runs, seen = [], set()
    for m in cache.list_models(root):
        if m["kind"] not in CLASSIFIERS:
            continue
        m = dict(m)
        history = m.pop("history")
        try:
            config = TrainConfig.from_fields(m["config"])
        except (KeyError, TypeError):
            continue  # settings that no longer read as a config: not comparable
        entry = config.entry
        # A copy under another folder name reads as the same settings: the store's own
        # folder for them (what cache.load reads) is listed once, a copy never alone.
        if config.key() != m.get("key") or entry in seen or not cache.has_entry(root, entry):
            continue
        if not history.get("val_accuracy"):
            continue  # no curves to compare
        seen.add(entry)
        runs.append(Run(entry, store, run_label(config, store), config, m, history))
    return runs


def comparable_runs(shipped_root: Path | None = None, runs_root: Path | None = None) -> list[Run]:
    """The lab's one labelled list of classifiers, which the Compare runs and the Mistakes
    pages both pick from: every readable classifier of the shipped cache
    (``cache.cache_dir()`` by default) by data set (MNIST first) and model (Dense 64-64,
    Dense 500-300 by digits, L2 factor and seed, CNN by seed, your own networks by
    layers), then every one trained here (``cache.runs_dir()``), newest first. Damaged
    entries are left out (``core.store.cache.problems`` names them); two labels that would read
    the same get "(#2)", "(#3)" after the later ones."""
    shipped = _runs_of(Path(shipped_root or cache.cache_dir()), "shipped")

    def order(run: Run) -> tuple:
        c = run.config
        data = DATASETS.index(c.dataset) if c.dataset in DATASETS else len(DATASETS)
        return data, CLASSIFIERS.index(c.kind), len(c.layers), repr(c.layers), c.augment, c.l2, c.seed, run.entry

    shipped.sort(key=order)
    here = _runs_of(Path(runs_root or cache.runs_dir()), "here")
    here.sort(key=lambda r: r.metrics.get("created", ""), reverse=True)
    seen: dict[str, int] = {}
    for run in shipped + here:
        seen[run.label] = seen.get(run.label, 0) + 1
        if seen[run.label] > 1:
            run.label += f" (#{seen[run.label]})"
    return shipped + here


def store_signature(root: Path) -> tuple:
    """(entry, modification time in ns) of every complete model entry of a store, sorted: a
    new or rewritten run changes it, so a page's cached ``comparable_runs`` is read again."""
    return tuple(sorted((p.parent.name, p.stat().st_mtime_ns) for p in Path(root).glob("*/metrics.json")))


def _as_dict(config) -> dict:
    if isinstance(config, TrainConfig):
        return {f.name: getattr(config, f.name) for f in fields(TrainConfig)}
    # As metrics.json holds it: written before a field existed (its default then) and
    # with the layers as lists of lists, which a set cannot hold.
    out = {**HASH_OPTIONAL, **config} if {"kind", "epochs"} <= set(config) else dict(config)
    if "layers" in out:
        out["layers"] = normalize(out["layers"] or ())
    return out


def differences(configs) -> list[str]:
    """The settings whose values differ among ``configs`` (``TrainConfig``s or their dicts),
    in ``SETTINGS`` order; empty for fewer than two configs or identical ones.

    Raises:
        KeyError: if a dict lacks a field another config has.
    """
    dicts = [_as_dict(c) for c in configs]
    if len(dicts) < 2:
        return []
    names = set().union(*dicts)
    # Augmenting means distorting digits but mirroring and shifting clothes: across data sets it is a
    # different setting even where the flag is the same.
    seen = {field: {d[field] for d in dicts} for field in SETTINGS if field in names}
    if len(seen.get("dataset", ())) > 1 and True in seen.get("augment", ()):
        seen["augment"] = {(d["dataset"], d["augment"]) for d in dicts}
    return [field for field in SETTINGS if field in seen and len(seen[field]) > 1]


def generalization_gap(history: dict) -> float:
    """Final training accuracy minus final validation accuracy, as a fraction (0.0136 is
    1.36 points): positive when the network does better on digits it learned from.

    Keras' training accuracy is the mean over the last epoch's batches while the weights
    still change (and, for distorted digits, on the distorted ones), so it is not the
    accuracy of the final weights on the training digits.

    Raises:
        ValueError: if ``history`` has no accuracy curves (an autoencoder's).
    """
    train, val = history.get("accuracy") or [], history.get("val_accuracy") or []
    if not train or not val:
        raise ValueError("This run has no accuracy curves: only classifiers have a generalization gap.")
    return float(train[-1]) - float(val[-1])


# The table's columns that are numbers, not settings, in display order.
# Short headers, so the whole table fits a laptop's width; the page's caption says that
# validation and training accuracy are the last epoch's.
NUMBER_COLUMNS = ("test accuracy", "validation accuracy", "training accuracy", "gap (points)",
                  "parameters", "training time (s)", "epochs")


def comparison_table(runs: list[Run]) -> tuple[pd.DataFrame, list[str]]:
    """The picked runs as one table, a row each, and the names of its columns that show
    differing settings (to highlight).

    Columns: "run" (its label), one column per setting in ``differences`` other than
    epochs, named as in ``SETTINGS`` and filled with ``setting_text`` (first, so a phone
    shows them without scrolling sideways), then "test accuracy", "validation accuracy",
    "training accuracy" (percent, 0-100; the last two the last epoch's, test accuracy as
    recorded in metrics.json, once after training), "gap (points)" (``generalization_gap`` times
    100), "parameters", "training time (s)" (metrics.json's ``training_seconds``) and
    "epochs", which is among the highlighted columns when it differs.
    """
    differing = differences([r.config for r in runs])
    rows = []
    for run in runs:
        row = {
            "run": run.label,
            "test accuracy": 100 * run.metrics["test_accuracy"] if run.metrics.get("test_accuracy") is not None
            else math.nan,
            "validation accuracy": 100 * run.history["val_accuracy"][-1],
            "training accuracy": 100 * run.history["accuracy"][-1],
            "gap (points)": 100 * generalization_gap(run.history),
            "parameters": int(run.metrics["param_count"]),
            "training time (s)": float(run.metrics["training_seconds"]),
            "epochs": len(run.history["val_accuracy"]),
        }
        for field in differing:
            if field != "epochs":
                row[SETTINGS[field]] = setting_text(field, getattr(run.config, field), run.config.dataset)
        rows.append(row)
    columns = ["run", *(SETTINGS[f] for f in differing if f != "epochs"), *NUMBER_COLUMNS]
    return pd.DataFrame(rows, columns=columns), [SETTINGS[f] for f in differing]


def shared_settings(runs: list[Run]) -> str:
    """The settings every picked run has in common, in words: "model: Dense 500-300;
    data set: MNIST; training images: plain; optimizer: Adam; ..."; empty for no runs.
    Settings that do nothing for a classifier (noise level, code size) are left out, and
    so are SGD momentum when every run uses Adam, which ignores it, and the layers when
    every run is a named model. Altered training images read "distorted" on MNIST and
    "mirrored and shifted" elsewhere (``setting_text``)."""
    if not runs:
        return ""
    differing = set(differences([r.config for r in runs]))
    config = runs[0].config
    all_adam = "optimizer" not in differing and config.optimizer == "adam"
    unused = {"noise_level", "latent_dim"} | ({"momentum"} if all_adam else set())
    # Named models only (no layer list to share).
    if "layers" not in differing and not config.layers:
        unused.add("layers")
    return "; ".join(f"{SETTINGS[f]}: {setting_text(f, getattr(config, f), config.dataset)}" for f in SETTINGS
                     if f not in differing and f not in unused)


@dataclass(frozen=True)
class Preset:
    """A ready-made comparison: ``title`` (its button), ``question`` (one sentence on what
    it shows), ``configs`` (the runs it needs) with ``names`` (a short name for each, for
    the sentence under it) and ``focus`` ("gap": the gap between training and validation
    accuracy, "speed": how fast validation accuracy climbs)."""

    key: str
    title: str
    question: str
    configs: tuple = ()
    names: tuple = ()
    focus: str = "gap"


def _sweep_run(sweep, l2: float, seed: int = 0) -> TrainConfig:
    # The run of a shipped sweep at (l2, seed): built from the sweep, so its cache key is
    # the shipped entry's.
    return next(run for run in sweep.runs() if run.l2 == l2 and run.seed == seed)


# The plain sweep's chosen factor, which the default 500-300 recipe carries (core.config).
_CHOSEN_L2 = DEFAULTS["dense_500_300"].l2
# The course's SGD: learning rate 0.1, no momentum (README, "How each recipe was chosen";
# 96.95% test accuracy there, with batch 128 and a constant rate). Here only the optimizer
# and its learning rate change, so the two runs differ in nothing else.
SGD_LEARNING_RATE = 0.1

PRESETS = (
    # Two shipped runs of your own network (core.config.DROPOUT_PAIR): the same 500-300
    # layers and recipe, dropout 0.35 after each hidden layer in the second only.
    Preset("dropout", "With and without dropout",
           "Dropout switches off a random 35% of a layer's units at every training step, so the network "
           "cannot lean on any one of them: compare the gap between training and validation accuracy of the "
           "same 500-300 network trained the same way, without dropout and with it after each hidden layer.",
           DROPOUT_PAIR, ("no dropout", "dropout 0.35")),
    Preset("sgd_adam", "SGD against Adam",
           "Adam gives every weight its own step size while SGD, here at the course's learning rate of 0.1, "
           "moves all weights by the same rule: watch how fast each validation curve climbs and where it ends.",
           (DEFAULTS["dense_64_64"],
            replace(DEFAULTS["dense_64_64"], optimizer="sgd", learning_rate=SGD_LEARNING_RATE, momentum=0.0)),
           ("Adam", "SGD"), focus="speed"),
    Preset("plain_distorted", "Plain against distorted digits",
           "Distorted training digits are new in every batch, so the network cannot learn them by heart: "
           "compare the gap between its training accuracy (on the digits it trains on) and its validation "
           "accuracy (on plain digits it never trains on).",
           (_sweep_run(SWEEPS[0], 0.0), _sweep_run(SWEEPS[1], 0.0)), ("plain digits", "distorted digits")),
    Preset("weight_decay", "Weight decay on and off",
           "L2 weight decay keeps the weights small, so the network should memorise less of its training "
           "digits: compare the gap between training and validation accuracy with and without it.",
           (_sweep_run(SWEEPS[0], _CHOSEN_L2), _sweep_run(SWEEPS[0], 0.0)),
           (f"L2 {_CHOSEN_L2:.2g}", "no weight decay")),
    # The shipped seed-0 CNN against the same network on clothes (core.config.FASHION[0]).
    Preset("mnist_fashion", "The same CNN on MNIST and on Fashion-MNIST",
           "The same network reads handwritten digits and photos of clothes: compare how far each climbs and "
           f"the gap between training and validation accuracy. On clothes it trains {FASHION[0].epochs} epochs on "
           + ("images mirrored left to right and shifted by up to 2 pixels at random" if FASHION[0].augment
              else "plain images")
           + " (slant and stroke width are distortions of digits); on digits "
           f"{DEFAULTS['cnn'].epochs} epochs on distorted ones, whose training accuracy is therefore measured on "
           "harder images than its validation accuracy.",
           (DEFAULTS["cnn"], FASHION[0]), ("MNIST digits", "Fashion-MNIST clothes")),
)


def preset(key: str) -> Preset:
    """The preset named ``key``.

    Raises:
        KeyError: for an unknown key.
    """
    found = {p.key: p for p in PRESETS}
    if key not in found:
        raise KeyError(f"no ready-made comparison named {key!r}")
    return found[key]


def resolve(chosen: Preset, runs: list[Run]) -> tuple[list[Run], list[TrainConfig]]:
    """(the runs of ``runs`` that ``chosen`` needs, in its order, a shipped run before one
    trained here with the same settings; its configs that none of them has)."""
    by_entry: dict[str, Run] = {}
    for run in runs:
        by_entry.setdefault(run.entry, run)
    found, missing = [], []
    for config in chosen.configs:
        run = by_entry.get(config.entry)
        (found if run else missing).append(run or config)
    return found, missing


def findings(chosen: Preset, runs: list[Run]) -> str:
    """One sentence of numbers on what ``chosen`` asks, from its runs (``resolve``'s first
    list, in the preset's order): the generalization gap and test accuracy of each, or
    for "speed" the validation accuracy after the first and the last epoch."""
    pairs = [(name, run) for name, config in zip(chosen.names, chosen.configs) for run in runs
             if run.config == config]
    names, runs = [name for name, _ in pairs], [run for _, run in pairs]
    if chosen.focus == "speed":
        first = ", ".join(f"{100 * r.history['val_accuracy'][0]:.2f}% with {n}" for n, r in zip(names, runs))
        last = ", ".join(f"{100 * r.history['val_accuracy'][-1]:.2f}% with {n}" for n, r in zip(names, runs))
        return f"Validation accuracy after the first epoch: {first}; after the last: {last}."
    gaps = ", ".join(f"{100 * generalization_gap(r.history):+.2f} points with {n}" for n, r in zip(names, runs))
    tests = ", ".join(f"{r.metrics['test_accuracy']:.2%} with {n}" for n, r in zip(names, runs))
    return f"Training minus validation accuracy at the last epoch: {gaps}; test accuracy {tests}."
