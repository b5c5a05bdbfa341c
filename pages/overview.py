"""Overview: what the lab is, the cached models, where the data came from."""

import pandas as pd
import streamlit as st

from core import cache
from core import data as data_mod
from core.config import DEFAULTS
from core.targets import HINTON_ACCURACY
from pages.shared import use_app_navigation

use_app_navigation()

st.title("Digit Lab")
st.markdown(
    """
An interactive lab for neural networks on **MNIST**, the 70,000 handwritten digits
(60,000 for training, 10,000 for testing). Every model here was trained on the real
MNIST set by the lab's own training command and is loaded from `models_cache/`, so
nothing needs training before you explore.

| page | what you can do |
| --- | --- |
| **Train** | pick a model and its hyperparameters, watch accuracy and loss curves live |
| **Regularization** | see whether L2 weight decay helps a 500-300 dense net, on plain and on distorted digits, against Hinton's {hinton} |
| **Denoising** | drag the noise level and watch two autoencoders and a median filter clean salt-and-pepper noise |
| **Latent space** | walk a variational autoencoder's 2-D latent space; order new digits of a chosen class |
| **Draw** | draw a digit and see two networks classify it live |
""".format(hinton=f"{HINTON_ACCURACY:.2%}")
)

st.subheader("Cached models")
rows = sorted(cache.list_models(), key=lambda m: (list(DEFAULTS).index(m["kind"]), m.get("created", "")))
if not rows:
    st.warning("models_cache/ is empty. Rebuild it with `python -m core train --all`.")
else:
    table = pd.DataFrame(
        {
            "kind": [m["kind"] for m in rows],
            "seed": [m["seed"] for m in rows],
            "parameters": [m["param_count"] for m in rows],
            # Autoencoders reconstruct digits; they have no accuracy to show.
            "test accuracy": [f"{m['test_accuracy']:.2%}" if "test_accuracy" in m else "–" for m in rows],
            "test loss": [m["test_loss"] for m in rows],
            "epochs": [m["epochs"] for m in rows],
            "training time (s)": [m["training_seconds"] for m in rows],
            "optimizer": [f"{m['config']['optimizer']} lr {m['config']['learning_rate']:g}" for m in rows],
            "L2": [m["config"]["l2"] for m in rows],
            "distorted digits": [m["config"]["augment"] for m in rows],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        height="content",  # every row, no inner scroll
        column_config={
            "parameters": st.column_config.NumberColumn(format="localized"),
            "L2": st.column_config.NumberColumn(format="%.2g"),
        },
    )
    st.caption("Accuracy and loss on the 10,000 MNIST test digits, measured once after training (every "
               "choice was made on the 5,000 validation digits); the autoencoders' loss is binary "
               "cross-entropy per pixel. Training time on the machine that built the cache. The CNN is "
               "trained at three seeds; the weight-decay sweeps keep the runs at their chosen factor and "
               "at l2 = 0.")

st.subheader("Benchmark")
bench_file = data_mod.ROOT / "benchmarks" / "results.json"
if bench_file.exists():
    bench = cache.read_json(bench_file)

    def shown(unit, value):
        if value is None:
            return ""
        return f"{100 * value:.2f}%" if unit == "%" else f"{value:.1f} {unit}"

    def target(row):
        t = row["target"]
        return ("≥ " if t["higher_is_better"] else "≤ ") + shown(t["unit"], t["value"]) if t else ""

    def mark(row):
        if row["recorded"]:
            return f"recorded ({row['recorded']})"
        return {True: "pass", False: "MISS", None: ""}[row["passed"]]

    # A static table: every row and the whole text of each cell, wrapped, no inner scroll.
    st.table(pd.DataFrame({
        "what": [r["what"] for r in bench["rows"]],
        "measured": [shown(r["unit"], r["value"]) for r in bench["rows"]],
        "median": [shown(r["unit"], r["median"]) for r in bench["rows"]],
        "target": [target(r) for r in bench["rows"]],
        "verdict": [mark(r) for r in bench["rows"]],
    }).set_index("what"))
    info = bench["machine"]
    gpus = ", ".join(info.get("gpus") or []) or "no GPU found by TensorFlow"
    st.caption(f"`python -m core bench`, {bench['date']}, on {info['cpu']} ({info['cores']} cores, {gpus}). "
               "Recorded rows come from the training records, measured when the cache was built; they "
               "are not marked pass or miss.")
else:
    st.info("No benchmark results yet: run `python -m core bench`.")

st.subheader("The data")
st.markdown("MNIST by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, available under "
            "[CC BY-SA 3.0](https://creativecommons.org/licenses/by-sa/3.0/).")
sha = rows[0]["data_sha256"] if rows else None
source = rows[0]["data_source"] if rows else None
with st.expander("Where this came from"):
    st.markdown(
        f"""
- Source of the training data: **{source or "unknown"}**, sha256 `{sha or "-"}`
  (the bundled file's expected sha256 is `{data_mod.BUNDLED_SHA256}`).
- The lab reads MNIST from `$DIGITLAB_MNIST` if set, else the bundled `data/mnist.npz`,
  else `keras.datasets.mnist.load_data()` (which needs the network).
- Each model's cache entry (`models_cache/<kind>-<hash of its settings>`):
"""
    )
    st.dataframe(pd.DataFrame({"kind": [m["kind"] for m in rows], "seed": [m["seed"] for m in rows],
                               "entry": [f"{m['kind']}-{m['key']}" for m in rows],
                               "created": [m.get("created", "") for m in rows]}),
                 hide_index=True, height="content")
