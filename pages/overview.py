"""Overview: what the lab is, the same networks on MNIST and on Fashion-MNIST side by
side, the cached models, where the data came from."""

import pandas as pd
import streamlit as st

from core import targets
from core.analysis import overview
from core.present.runs import run_label, setting_text
from core.config import DATASETS, DEFAULTS, TrainConfig, entry_name
from core.data import mnist as data_mod
from core.data.images import DataUnavailableError
from core.data.registry import available
from core.paths import ROOT
from core.present.glossary import plain, tip
from core.store import cache
from core.targets import HINTON_ACCURACY
from core.vocabulary import DATASET_NAMES as NAMES, DATASET_TITLES as TITLES, MODEL_NAMES, OPTIMIZER_NAMES
from pages.shared import caption, duration, enlarge, explain, projector, use_app_navigation

use_app_navigation()

st.title("Digit Lab")
st.markdown(
    """
An interactive lab for neural networks on **MNIST**, the 70,000 handwritten digits
(60,000 for training, 10,000 for testing), and on Fashion-MNIST's clothes. Every model
here was trained on the real data by the lab itself and comes with the lab, ready, so
nothing needs training before you explore.

| page | what you can do |
| --- | --- |
| **Train** | pick a data set, a model or your own list of layers, and how it learns (epochs, batch size, learning rate); watch its accuracy and loss curves live |
| **Regularization** | see whether L2 weight decay helps a 500-300 dense net, on plain and on distorted digits, against Hinton's {hinton} |
| **Denoising** | drag the noise level and watch two autoencoders and a median filter clean salt-and-pepper noise |
| **Latent space** | walk a variational autoencoder's 2-D latent space; order new digits of a chosen class |
| **Draw** | draw a digit and see two networks classify it live |
| **Inside the CNN** | see what a convolutional network looks at and the pictures its layers make, on digits or on clothes |
| **Mistakes** | click a cell of a network's confusion matrix to see the images it got wrong |
| **Compare runs** | overlay runs' learning curves: with and without dropout, SGD against Adam, digits against clothes, … |
""".format(hinton=f"{HINTON_ACCURACY:.2%}")
)
explain("mnist", "l2", "salt_and_pepper", "vae")

# What the lab achieves, in a few numbers measured by the benchmark; its whole table is at the
# foot, from the same reading.
BENCH_FILE = ROOT / "benchmarks" / "results.json"
bench = cache.read_json(BENCH_FILE) if BENCH_FILE.exists() else None
if bench:
    st.subheader("What the lab achieves")
    # Five abreast on a laptop; three to a row in projector mode, whose larger type cut them off.
    columns = st.columns(3) * 2 if projector() else st.columns(5)
    for column, (label, what, row) in zip(columns, overview.headlines(bench["rows"])):
        column.metric(label, targets.shown(row["unit"], row["value"]), help=what)


@st.cache_resource(show_spinner=False)
def samples(dataset: str):
    """``core.analysis.overview.samples``: one test image of each class and the class names, read
    once per server process (read-only). Errors are not cached."""
    images, names = overview.samples(dataset)
    images.setflags(write=False)
    return images, names


def percent(value) -> str:
    """An accuracy as the benchmark prints it ("97.93%"), "–" when not measured."""
    return targets.shown("%", value) or "–"


def side_by_side() -> None:
    """The CNN and the dense 64-64 on MNIST and on Fashion-MNIST: numbers and sample images,
    one column per data set (stacked on a phone); one sentence when Fashion-MNIST's part
    is missing."""
    st.subheader("The same network, a harder data set")
    explain("fashion_mnist")
    found = overview.side_by_side()
    if not available("fashion_mnist"):
        st.info("Fashion-MNIST is not installed on this server, so the networks cannot be shown on it here "
                "(`sudo apt-get install dataset-fashion-mnist` installs it).")
        return
    if any(row["fashion_mnist"] is None or row["mnist"] is None for row in found):
        st.info("The networks trained on Fashion-MNIST are not among the models this lab has, so there is "
                "nothing to set beside MNIST yet.")
        return
    cnn = found[0]
    dense = found[1]
    st.markdown(
        f"Fashion-MNIST has MNIST's shapes: 28 × 28 grey pictures, ten classes, 60,000 for training and "
        f"10,000 for testing, but of clothes. The CNN that reads **{percent(cnn['mnist']['test_accuracy'])}** "
        f"of the test digits right names **{percent(cnn['fashion_mnist']['test_accuracy'])}** of the test "
        f"clothes right; the dense 64-64 falls from **{percent(dense['mnist']['test_accuracy'])}** to "
        f"**{percent(dense['fashion_mnist']['test_accuracy'])}**. A shirt and a T-shirt differ less than a 1 "
        "and a 7.")
    for column, dataset in zip(st.columns(2, gap="large"), overview.SIDE_BY_SIDE):
        with column:
            st.markdown(f"**{TITLES[dataset]}**")
            try:
                images, names = samples(dataset)
                # Two rows of five: a row of ten wraps unevenly in half a laptop screen or on a phone.
                for start in (0, 5):
                    # A fixed width: a long class name ("T-shirt/top") would otherwise widen its picture.
                    # U+2011, a hyphen no line breaks at: "T-shirt/top" stays whole.
                    # A line may break after the slash (a zero-width space): "T‑shirt/" over "top",
                    # where a caption wider than its picture broke inside a word ("T-shirt/t op").
                    st.image([enlarge(image, 2) for image in images[start:start + 5]],
                             caption=[n.replace("-", "\u2011").replace("/", "/\u200b")
                                      for n in names[start:start + 5]], clamp=True, width=56)
            except DataUnavailableError as exc:
                st.info(str(exc))
            # Static: four short columns, every cell whole on a phone.
            st.table(pd.DataFrame({
                "network": [row["network"] for row in found],
                "test accuracy": [percent(row[dataset]["test_accuracy"]) for row in found],
                "validation accuracy": [percent(row[dataset]["validation_accuracy"]) for row in found],
                "training time": [duration(row[dataset]["training_seconds"]).replace(" ", "\u00a0")
                                  for row in found],
            }).set_index("network"))
    differences = [f"{row['network']}: {row['mnist']['epochs']} epochs on digits, "
                   f"{row['fashion_mnist']['epochs']} on clothes" for row in found
                   if row["mnist"]["epochs"] != row["fashion_mnist"]["epochs"]]
    # Read from the entries, not assumed: the Fashion-MNIST recipe may take altered copies.
    copies = {d: cnn[d]["augment"] for d in overview.SIDE_BY_SIDE}
    if copies["mnist"] and copies["fashion_mnist"]:
        augmented = ("the CNN trains on altered copies of both: slanted, thicker or thinner digits, and clothes "
                     "mirrored left to right and shifted (a slanted stroke suits handwriting, not clothes)")
    elif copies["mnist"]:
        augmented = ("only on digits does the CNN train on distorted copies (slanted, thicker, thinner strokes "
                     "suit handwriting, not clothes)")
    else:
        augmented = "neither trains on altered copies of its images"
    caption("Test accuracy on the 10,000 test images, measured once after training; validation accuracy on "
            f"the 5,000 validation images after the last epoch. The same layers and the same optimizer on both; "
            f"{augmented}" + (". " + "; ".join(differences) if differences else "") + ".")


side_by_side()


def settings_of(m: dict) -> str:
    """A stored run's label (``core.present.runs.run_label``) without its model's name:
    "distorted digits, L2 1e-06, seed 1"; "default recipe" when nothing differs."""
    label = run_label(TrainConfig.from_fields(m["config"]))
    name = MODEL_NAMES.get(m["kind"], m["kind"])
    rest = label[len(name):].lstrip(":, ") if label.startswith(name) else label
    return rest or "default recipe"


def dataset_of(m: dict) -> str:
    return m["config"].get("dataset", "mnist")


st.subheader("Cached models")
# Each network's MNIST entries first, then the same network on the other data sets.
rows = sorted(cache.list_models(), key=lambda m: (list(DEFAULTS).index(m["kind"]) if m["kind"] in DEFAULTS
                                                  else len(DEFAULTS), DATASETS.index(dataset_of(m))
                                                  if dataset_of(m) in DATASETS else len(DATASETS),
                                                  m.get("created", "")))
if not rows:
    st.warning("models_cache/ is empty. Rebuild it with `python -m core train --all`.")
else:
    table = pd.DataFrame(
        {
            "model": [MODEL_NAMES.get(m["kind"], m["kind"]) for m in rows],
            # What tells a row from the others of its model (the Compare runs page's label, less
            # the model's name): twelve "Dense 500-300" rows differ only here.
            "run": [settings_of(m) for m in rows],
            "data set": [NAMES.get(dataset_of(m), dataset_of(m)) for m in rows],
            "seed": [m["seed"] for m in rows],
            "parameters": [m["param_count"] for m in rows],
            # Autoencoders reconstruct digits; they have no accuracy to show.
            "test accuracy": [f"{m['test_accuracy']:.2%}" if "test_accuracy" in m else "–" for m in rows],
            "test loss": [m["test_loss"] for m in rows],
            "epochs": [m["epochs"] for m in rows],
            # A quick look trained on the first 10,000 images: said here, as wherever it appears.
            "training images": [setting_text("train_size", m["config"].get("train_size")) for m in rows],
            "training time (s)": [m["training_seconds"] for m in rows],
            "optimizer": [OPTIMIZER_NAMES.get(o, o) for o in (m["config"]["optimizer"] for m in rows)],
            "learning rate": [f"{m['config']['learning_rate']:g}" for m in rows],
            "L2 weight decay": [m["config"]["l2"] for m in rows],
            # Distorted digits on MNIST, mirrored and shifted images elsewhere (core.data.augment).
            "altered training images": [setting_text("augment", m["config"]["augment"],
                                                     m["config"].get("dataset", "mnist")) for m in rows],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        height="content",  # every row, no inner scroll
        column_config={
            # Pinned: on a phone the other columns scroll beside the model's name.
            "model": st.column_config.TextColumn(pinned=True, width=250),
            "run": st.column_config.TextColumn(width="large", help="What sets this run apart from the model's "
                                               "default recipe, your own network's layers included (as Compare "
                                               "runs names it)"),
            "seed": st.column_config.NumberColumn(help=tip("seed")),
            "parameters": st.column_config.NumberColumn(format="localized", help=tip("parameters")),
            "test accuracy": st.column_config.TextColumn(help=tip("test_accuracy")),
            "test loss": st.column_config.NumberColumn(format="%.4f", help=tip("loss")),
            "epochs": st.column_config.NumberColumn(help=tip("epoch")),
            "training images": st.column_config.TextColumn(help=tip("quick_look")),
            "training time (s)": st.column_config.NumberColumn(format="%.0f"),
            "optimizer": st.column_config.TextColumn(help=tip("optimizer")),
            "learning rate": st.column_config.TextColumn(help=tip("learning_rate")),
            "L2 weight decay": st.column_config.NumberColumn(format="%.2g", help=tip("l2")),
            "altered training images": st.column_config.TextColumn(
                help="Distorted digits (slanted, shifted, thinner or thicker strokes) on MNIST; mirrored left to "
                     "right and shifted by up to 2 pixels at random on Fashion-MNIST; plain: the images as they are."),
        },
    )
    caption("Accuracy and loss on the 10,000 test images of the model's data set, measured once after training "
            "(every choice was made on the 5,000 validation images); an autoencoder names no digit, so it has "
            "a loss (how far its pictures are from the clean digits) but no accuracy. Training time on "
            "the machine that built the models. The CNN and the quick CNN are trained at three seeds; the "
            "weight-decay sweeps keep their runs at the chosen factor and without weight decay.")
    explain("validation", "test_accuracy", "autoencoder")

st.subheader("Benchmark")
if bench:
    # The whole table, 50-odd rows, behind an expander; its headline numbers lead the page.

    # No-break spaces keep "≥ 97.80%" and "6.0 min" whole in a phone's narrow columns.
    def shown(unit, value):
        return targets.shown(unit, value, space="\u00a0")

    def target(row):
        t = row["target"]
        return targets.target_text(t["higher_is_better"], t["unit"], t["value"], space="\u00a0") if t else ""

    def mark(row):
        if row["recorded"]:
            return "recorded"
        return {True: "pass", False: "missed", None: ""}[row["passed"]]

    def measured(row):
        median = f" (median {shown(row['unit'], row['median'])})" if row["median"] is not None else ""
        return shown(row["unit"], row["value"]) + median

    # A static table: every row and the whole text of each cell, wrapped, no inner scroll;
    # four short columns, so a phone shows it whole.
    table_box = st.expander(f"Every measurement ({len(bench['rows'])} rows), with its target")
    table_box.table(pd.DataFrame({
        "what": [plain(r["what"])[:1].upper() + plain(r["what"])[1:] for r in bench["rows"]],
        "measured": [measured(r) for r in bench["rows"]],
        "target": [target(r) for r in bench["rows"]],
        "verdict": [mark(r) for r in bench["rows"]],
    }).set_index("what"))
    info = bench["machine"]
    gpus = ", ".join(info.get("gpus") or []) or "no GPU"
    caption(f"Measured on {bench['date']} on one {info['cpu']} computer ({info['cores']} cores, {gpus}). "
            "“Recorded” rows were timed while the models were trained, not by the benchmark, so they "
            "are not marked pass or missed.")
else:
    st.info("No benchmark results yet: run `python -m core bench`.")

st.subheader("The data")
st.markdown("MNIST by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, available under "
            "[CC BY-SA 3.0](https://creativecommons.org/licenses/by-sa/3.0/). Fashion-MNIST by Han Xiao, "
            "Kashif Rasul and Roland Vollgraf (Zalando Research, 2017), under the "
            "[MIT licence](https://github.com/zalandoresearch/fashion-mnist/blob/master/LICENSE).")
mnist_rows = [m for m in rows if dataset_of(m) == "mnist"]
sha = mnist_rows[0]["data_sha256"] if mnist_rows else None
source = mnist_rows[0]["data_source"] if mnist_rows else None
with st.expander("Where this came from"):
    st.markdown(
        f"""
- Source of the training data: **{source or "unknown"}**, sha256 `{sha or "-"}`
  (the bundled file's expected sha256 is `{data_mod.BUNDLED_SHA256}`).
- The lab reads MNIST from `$DIGITLAB_MNIST` if set, else the bundled `data/mnist.npz`,
  else `keras.datasets.mnist.load_data()` (which needs the network).
- It reads Fashion-MNIST from `$DIGITLAB_FASHION_MNIST` if set, else the copy Debian's
  `dataset-fashion-mnist` package installs in `/usr/share/datasets/fashion-mnist`, each file
  checked against its sha256; nothing is downloaded.
- The benchmark table comes from `python -m core bench` (`benchmarks/results.json`); its
  recorded rows from the training records named below it.
- Each model's cache entry (`models_cache/<kind>-<hash of its settings>`):
"""
    )
    st.dataframe(pd.DataFrame({"kind": [m["kind"] for m in rows], "seed": [m["seed"] for m in rows],
                               "entry": [entry_name(m["kind"], m["key"]) for m in rows],
                               "created": [m.get("created", "") for m in rows]}),
                 hide_index=True, height="content")
    if bench:
        recorded = [(plain(r["what"]), r["recorded"]) for r in bench["rows"] if r["recorded"]]
        if recorded:
            st.markdown("Recorded benchmark rows:\n" + "\n".join(f"- {what}: `{where}`" for what, where in recorded))
