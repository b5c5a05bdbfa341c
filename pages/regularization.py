"""Regularization: two L2 weight-decay sweeps of the 500-300 dense net, with error bars."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core import cache
from core.config import SWEEPS
from core.sweeps import sweep_best, sweep_verdict
from core.targets import HINTON_ACCURACY
from pages.shared import use_app_navigation

use_app_navigation()

st.title("Weight decay on a 500-300 dense net")
base = SWEEPS[0].base()
st.markdown(
    f"""
A 784-500-300-10 dense network with L2 weight decay on both hidden layers: the loss gains
the factor times the sum of the squared weights, which pulls weights towards zero. Each
sweep trains the net with **no weight decay** (the control, l2 = 0) and at five factors
from 1e-6 to 1e-3, **{SWEEPS[0].replicates} seeds each**: once on the **plain digits**,
as Hinton trained for his **{HINTON_ACCURACY:.2%}** (LeCun's MNIST table), and once on
randomly **distorted digits** (shifted, rotated, scaled, slanted, thinned and thickened,
new for every batch). Recipe: {base.optimizer.upper()}, peak learning rate
{base.learning_rate:g}, {base.lr_schedule} schedule, batch {base.batch_size},
{base.epochs} epochs; 55,000 training digits.

The factor is **chosen on the 5,000 validation digits**; the 10,000 test digits are
scored once per run, after training, and play no part in the choice.
"""
)

sweeps = {config.name: cache.load_experiment("sweep", config.key()) for config in SWEEPS}
missing = [name for name, results in sweeps.items() if results is None]
if missing:
    st.warning(f"The sweep on {' and '.join(missing)} digits is not in models_cache/: build it with "
               "`python -m core train sweep`.")
sweeps = {name: results for name, results in sweeps.items() if results is not None}
if not sweeps:
    st.stop()

CONTROL_X = 3e-7  # where the l2 = 0 control sits on the log axis, left of the smallest factor


fig = make_subplots(rows=1, cols=len(sweeps), shared_yaxes=True,
                    subplot_titles=[f"{name} digits" for name in sweeps])
for col, (name, results) in enumerate(sweeps.items(), start=1):
    summary = pd.DataFrame(results["summary"])
    decayed, control = summary[summary["l2"] > 0], summary[summary["l2"] == 0]
    for column, label, color, dash in (("final_val_accuracy", "validation", "#1f77b4", "solid"),
                                       ("test_accuracy", "test", "#ff7f0e", "dot")):
        fig.add_trace(go.Scatter(
            x=decayed["l2"], y=decayed[f"{column}_mean"] * 100, mode="lines+markers", line={"color": color,
                                                                                          "dash": dash},
            name=f"{label} accuracy (mean ± sd)", legendgroup=label, showlegend=col == 1,
            error_y={"type": "data", "array": decayed[f"{column}_std"] * 100, "visible": True}), row=1, col=col)
        fig.add_trace(go.Scatter(
            x=[CONTROL_X] * len(control), y=control[f"{column}_mean"] * 100, mode="markers",
            marker={"symbol": "diamond", "size": 12, "color": color}, name=f"l2 = 0 control, {label}",
            legendgroup=label, showlegend=col == 1,
            error_y={"type": "data", "array": control[f"{column}_std"] * 100, "visible": True}), row=1, col=col)
    chosen = sweep_best(results)
    fig.add_vline(x=chosen["l2"] if chosen["l2"] > 0 else CONTROL_X, line_dash="dot", line_color="green",
                  row=1, col=col)
    fig.update_xaxes(type="log", title_text="L2 factor (log scale)", row=1, col=col,
                     tickvals=[CONTROL_X, *decayed["l2"]], ticktext=["0", *[f"{f:.2g}" for f in decayed["l2"]]])
fig.add_hline(y=HINTON_ACCURACY * 100, line_dash="dash", line_color="gray",
              annotation_text=f"Hinton {HINTON_ACCURACY:.2%}", annotation_position="bottom right")
fig.update_yaxes(title_text="accuracy (%), axis zoomed", row=1, col=1)
fig.update_layout(height=480, legend={"orientation": "h", "y": 1.3, "x": 0}, margin={"t": 110})
st.plotly_chart(fig)
st.caption("Diamonds: the l2 = 0 control. Green dotted line: the factor chosen on validation. "
           "Error bars: standard deviation over the seeds. The y axis does not start at 0: the "
           "differences are fractions of a percentage point (one validation digit is 0.02 points).")

for name, results in sweeps.items():
    summary = pd.DataFrame(results["summary"])
    chosen, verdict = sweep_best(results), sweep_verdict(results)
    best = verdict["best"]
    difference, spread = 100 * verdict["difference"], 100 * verdict["spread"]
    if verdict["clear"]:
        says = (f"more than the spread between seeds (up to {spread:.2f} points): on these digits weight "
                   "decay helps")
    else:
        says = (f"within the spread between seeds (up to {spread:.2f} points): this sweep cannot tell "
                   "weight decay from no weight decay")
    chosen_text = "no weight decay" if chosen["l2"] == 0 else f"l2 = {chosen['l2']:.2g}"
    versus = "beats" if chosen["test_accuracy_mean"] > HINTON_ACCURACY else "does not beat"
    st.subheader(f"{name.capitalize()} digits")
    st.markdown(
        f"The best factor, {best['l2']:.2g}, changes the mean validation accuracy by **{difference:+.2f} "
        f"points** against no weight decay: {says}. Chosen on validation: **{chosen_text}**, whose "
        f"{int(chosen['replicates'])} seeds score **{chosen['test_accuracy_mean']:.2%} ± "
        f"{chosen['test_accuracy_std']:.2%}** on the test digits: it {versus} Hinton's {HINTON_ACCURACY:.2%}"
        + (" on his own terms (plain digits)." if name == "plain" else
           " (not on his terms: he trained on plain digits)."))

    percent = st.column_config.NumberColumn(format="%.2f%%")
    table = pd.DataFrame({"L2 factor": summary["l2"].map(lambda f: f"{f:.2g}" if f else "0 (control)"),
                          "seeds": summary["replicates"]})
    for column, label in (("final_val_accuracy", "validation"), ("test_accuracy", "test")):
        table[f"{label} mean"] = summary[f"{column}_mean"] * 100
        table[f"{label} sd"] = summary[f"{column}_std"] * 100
    st.dataframe(table, hide_index=True, column_config={c: percent for c in table.columns[2:]})
    with st.expander(f"Every run of the {name} sweep ({len(results['rows'])} runs, "
                     f"{results['seconds'] / 60:.0f} minutes of training)"):
        runs = pd.DataFrame(results["rows"])[["l2", "seed", "final_val_accuracy", "best_val_accuracy",
                                             "test_accuracy", "training_seconds"]]
        for column in ("final_val_accuracy", "best_val_accuracy", "test_accuracy"):
            runs[column] *= 100
        st.dataframe(runs.rename(columns=lambda c: c.replace("_", " ")), hide_index=True,
                     column_config={"l2": st.column_config.NumberColumn("L2 factor", format="%.2g"),
                                    "final val accuracy": percent, "best val accuracy": percent,
                                    "test accuracy": percent,
                                    "training seconds": st.column_config.NumberColumn(format="%.0f s")})
