"""Regularization: the L2 weight-decay sweep of the 500-300 dense net, with error bars."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import augment, cache, jobs
from core.experiments import HINTON_ACCURACY, SweepConfig
from core.training import DEFAULTS
from pages.shared import poll_job, use_app_navigation

use_app_navigation()

st.title("Weight decay on a 500-300 dense net")
base, default_sweep = DEFAULTS["dense_500_300"], SweepConfig()
factors = default_sweep.l2_factors
momentum = f", momentum {base.momentum:g}" if base.optimizer == "sgd" else ""
distorted = (f" Every batch is randomly distorted (`core.augment`): shifts up to {augment.MAX_SHIFT_PX:g} px, "
             f"rotations up to {augment.MAX_ROTATION_DEG:g}°, scaling, slant and stroke width; a dense "
             "net, unlike a CNN, cannot learn such invariances from the digits alone."
             if base.augment else "")
st.markdown(
    f"""
A 784-500-300-10 dense network, L2 weight decay on both hidden kernels, trained at
{len(factors)} decay factors from {factors[0]:.0e} to {factors[-1]:.0e}, each with several
seeds. The recipe: {base.optimizer.upper()}, peak learning rate {base.learning_rate:g}{momentum},
{base.lr_schedule} schedule, batch {base.batch_size}; 55,000 training digits, 5,000 for
validation.{distorted} The dashed line is Hinton's **98.47%** for the same shape (LeCun's
MNIST table).
"""
)

c1, c2 = st.columns(2)
epochs = c1.number_input("Epochs per run", 1, 60, default_sweep.epochs)
replicates = c2.number_input("Replicates (seeds) per factor", 2, 5, default_sweep.replicates)
config = SweepConfig(epochs=int(epochs), replicates=int(replicates))
job_id = f"sweep-{config.key()}"
results = cache.load_experiment("sweep", config.key())
runs = len(config.runs())
minutes = runs * config.epochs * 4 / 60  # about 4 s per epoch on 2 CPU cores


@st.fragment(run_every=1.0)
def sweep_progress():
    def describe(state):
        run, total_runs = max(state.get("run", 1), 1), state.get("runs") or runs
        epoch, epochs = state.get("epoch", 0), state.get("epochs") or config.epochs
        return ((run - 1) + epoch / epochs) / total_runs, (
            f"Sweep running in the background: run {run} of {total_runs}, epoch {epoch} of {epochs}. "
            "You can leave this page; the results are cached when it ends.")

    poll_job(job_id, describe)


state = jobs.status(job_id)
if state.get("status") == "running":
    sweep_progress()
else:
    if state.get("status") == "failed":
        st.error(f"The last run of this sweep failed: {state.get('message', '')[-600:]}")
    label = "Rerun this sweep" if results else "Run the sweep"
    if results is None:
        st.info(f"This sweep is not cached: {runs} runs of {config.epochs} epochs "
                f"(about {minutes:.0f} minutes on 2 CPU cores).")
    if st.button(label, type="secondary" if results else "primary",
                 help=f"{runs} runs of {config.epochs} epochs, about {minutes:.0f} minutes; the "
                      "results shown stay until the new ones replace them."):
        jobs.start(job_id, ["train", "sweep", "--epochs", str(config.epochs),
                            "--replicates", str(config.replicates), "--force"])
        st.rerun()
if results is None:
    st.stop()

summary = pd.DataFrame(results["summary"])
best = summary.loc[summary["final_val_accuracy_mean"].idxmax()]
fig = go.Figure()
fig.add_trace(go.Scatter(
    x=summary["l2"], y=summary["final_val_accuracy_mean"] * 100, mode="lines+markers",
    name="final validation accuracy (mean ± sd)",
    error_y={"type": "data", "array": summary["final_val_accuracy_std"] * 100, "visible": True},
))
fig.add_trace(go.Scatter(
    x=summary["l2"], y=summary["test_accuracy_mean"] * 100, mode="lines+markers",
    name="test accuracy (mean ± sd)", line={"dash": "dot"},
    error_y={"type": "data", "array": summary["test_accuracy_std"] * 100, "visible": True},
))
fig.add_hline(y=HINTON_ACCURACY * 100, line_dash="dash", line_color="gray",
              annotation_text="Hinton 98.47%", annotation_position="bottom right")
fig.update_xaxes(type="log", title_text="L2 weight-decay factor", tickvals=summary["l2"],
                 ticktext=[f"{f:.1e}" for f in summary["l2"]])
fig.update_yaxes(title_text="accuracy (%)")
fig.update_layout(height=440, legend={"orientation": "h", "y": 1.12, "x": 0}, margin={"t": 50})
st.plotly_chart(fig)
st.caption(f"Best factor by mean final validation accuracy: {best['l2']:.1e} "
           f"({best['final_val_accuracy_mean']:.2%} ± {best['final_val_accuracy_std']:.2%}; "
           f"test {best['test_accuracy_mean']:.2%}). {len(results['rows'])} runs, "
           f"{results['seconds'] / 60:.0f} minutes of training.")

percent = st.column_config.NumberColumn(format="%.2f%%")
factor = st.column_config.NumberColumn("L2 factor", format="%.1e")

st.subheader("Mean and standard deviation per factor")
table = pd.DataFrame({"l2": summary["l2"], "replicates": summary["replicates"]})
for column, label in (("final_val_accuracy", "final validation"), ("best_val_accuracy", "best validation"),
                      ("test_accuracy", "test")):
    table[f"{label} mean"] = summary[f"{column}_mean"] * 100
    table[f"{label} sd"] = summary[f"{column}_std"] * 100
st.dataframe(table, hide_index=True,
             column_config={"l2": factor, **{c: percent for c in table.columns[2:]}})

st.subheader("Every run")
runs_table = pd.DataFrame(results["rows"])[["l2", "replicate", "seed", "final_val_accuracy",
                                            "best_val_accuracy", "test_accuracy", "training_seconds"]]
for column in ("final_val_accuracy", "best_val_accuracy", "test_accuracy"):
    runs_table[column] *= 100
st.dataframe(runs_table.rename(columns=lambda c: c.replace("_", " ")), hide_index=True,
             column_config={"l2": factor, "final val accuracy": percent, "best val accuracy": percent,
                            "test accuracy": percent,
                            "training seconds": st.column_config.NumberColumn(format="%.0f s")})
