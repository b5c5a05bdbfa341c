"""The plotly figures the pages draw on every interaction, built here so the benchmark
times exactly what a page builds (``python -m core bench``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.training.sweeps import sweep_best

# The Denoising page's versions of a digit, in display order, with their labels.
VERSIONS = {"seasoned": "seasoned", "dense": "dense autoencoder", "conv": "conv denoiser",
            "median": "3×3 median filter"}
VERSION_COLORS = {"seasoned": "#7f7f7f", "dense": "#1f77b4", "conv": "#d62728", "median": "#2ca02c"}


def history_figure(history: dict, images: str = "digits") -> go.Figure:
    """Accuracy in percent (classifiers) and loss per epoch, training and validation; the
    legend sits below the panels, where it cannot cover their titles on a phone.

    ``history``: {metric: [one float per epoch]} as ``core.training.run.train`` records it;
    ``images``: what the legend calls the data ("digits"; "images" for clothes or photos).
    """
    panels = [name for name in ("accuracy", "loss") if name in history]
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=panels)
    for col, name in enumerate(panels, start=1):
        # Percent, like the page's metrics above the figure.
        scale = 100 if name == "accuracy" else 1
        for prefix, label, color, dash in (("", f"training {images}", "#1f77b4", "solid"),
                                           ("val_", f"validation {images}", "#ff7f0e", "dash")):
            values = [scale * v for v in history.get(prefix + name, [])]
            fig.add_trace(go.Scatter(x=list(range(1, len(values) + 1)), y=values, name=label,
                                     mode="lines+markers", line={"dash": dash, "color": color},
                                     legendgroup=label, showlegend=col == 1,
                                     hovertemplate=f"epoch %{{x}}: %{{y:.4g}}{'%' if scale == 100 else ''}"),
                          row=1, col=col)
        if name == "accuracy":
            fig.update_yaxes(ticksuffix="%", row=1, col=col)
        epochs = len(history.get(name, []))
        # Whole epochs only, from 1: a one-epoch curve would otherwise get ticks at 0.5 and 1.5.
        fig.update_xaxes(title_text="epoch", tick0=1, dtick=max(1, epochs // 10), range=[0.5, max(1, epochs) + 0.5],
                         row=1, col=col)
    # The legend at the foot of the whole figure: it pushes the plot up as far as it needs,
    # however many rows it wraps into and however tall the tick labels are.
    fig.update_layout(height=400, margin={"t": 30, "b": 10, "l": 50, "r": 20},
                      legend={"orientation": "h", "x": 0, "y": 0, "yref": "container", "yanchor": "bottom"})
    return fig


# Where the l2 = 0 control sits on the log axis, left of the smallest factor.
CONTROL_X = 3e-7


def sweep_figure(sweeps: dict, hinton_accuracy: float) -> go.Figure:
    """Validation and test accuracy (mean ± sd over seeds) against the L2 factor, one panel
    per sweep (``{"plain": results, ...}``, results as ``core.training.experiments.run_sweep``
    returns), the l2 = 0 control as a diamond, the factor chosen on validation as a green
    dotted line and Hinton's accuracy (fraction) as a dashed line; y in percent, zoomed to
    the data, with a note on the figure saying where the axis starts."""
    fig = make_subplots(rows=1, cols=len(sweeps), shared_yaxes=True,
                        subplot_titles=[f"{name} digits" for name in sweeps])
    low, high = [hinton_accuracy * 100], [hinton_accuracy * 100]
    for col, (name, results) in enumerate(sweeps.items(), start=1):
        summary = pd.DataFrame(results["summary"])
        decayed, control = summary[summary["l2"] > 0], summary[summary["l2"] == 0]
        for column, label, color, dash in (("final_val_accuracy", "validation", "#1f77b4", "solid"),
                                           ("test_accuracy", "test", "#ff7f0e", "dot")):
            mean, sd = summary[f"{column}_mean"] * 100, summary[f"{column}_std"].fillna(0) * 100
            low.append((mean - sd).min())
            high.append((mean + sd).max())
            fig.add_trace(go.Scatter(
                x=decayed["l2"], y=decayed[f"{column}_mean"] * 100, mode="lines+markers", line={"color": color,
                                                                                              "dash": dash},
                name=f"{label} accuracy, mean ± sd", legendgroup=label, showlegend=col == 1,
                error_y={"type": "data", "array": decayed[f"{column}_std"] * 100, "visible": True}), row=1, col=col)
            fig.add_trace(go.Scatter(
                x=[CONTROL_X] * len(control), y=control[f"{column}_mean"] * 100, mode="markers",
                marker={"symbol": "diamond", "size": 12, "color": color}, name=f"no weight decay, {label}",
                legendgroup=label, showlegend=False,
                error_y={"type": "data", "array": control[f"{column}_std"] * 100, "visible": True}), row=1, col=col)
        chosen = sweep_best(results)
        fig.add_vline(x=chosen["l2"] if chosen["l2"] > 0 else CONTROL_X, line_dash="dot", line_color="green",
                      row=1, col=col)
        # Half a decade of room at each end, so the end points' markers and error bars are
        # whole on a phone's narrow panel.
        fig.update_xaxes(type="log", title_text="L2 factor (log scale)", row=1, col=col,
                         range=[np.log10(CONTROL_X) - 0.5, np.log10(max(decayed["l2"], default=CONTROL_X)) + 0.5],
                         tickvals=[CONTROL_X, *decayed["l2"]], ticktext=["0", *[f"{f:.2g}" for f in decayed["l2"]]])
    # One legend entry for both diamonds: they differ only in colour, like the lines.
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="no weight decay (l2 = 0)",
                             marker={"symbol": "diamond", "size": 12, "color": "#7f7f7f"}, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="factor chosen on validation",
                             line={"color": "green", "dash": "dot"}, hoverinfo="skip"))
    # Named in the legend, not on the line, where its label lay over the error bars.
    fig.add_hline(y=hinton_accuracy * 100, line_dash="dash", line_color="gray")
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=f"Hinton {hinton_accuracy:.2%}",
                             line={"color": "gray", "dash": "dash"}, hoverinfo="skip"))
    # The differences are tenths of a point: a zoomed axis shows them, and says so, since a
    # reader expects accuracy to start at 0.
    pad = max(0.05, 0.1 * (max(high) - min(low)))
    bottom = np.floor((min(low) - pad) * 10) / 10
    fig.update_yaxes(range=[bottom, max(high) + pad], ticksuffix="%")
    fig.update_yaxes(title_text="accuracy, axis zoomed", row=1, col=1)
    fig.add_annotation(text=f"<b>axis zoomed: starts at {bottom:.1f}%, not 0</b>", xref="paper", yref="paper",
                       x=0, y=1, xanchor="left", yanchor="bottom", yshift=24, showarrow=False,
                       font={"color": "#b35900"}, bgcolor="#fff3e0")
    # The legend at the foot of the whole figure, below the rotated ticks of a phone (see
    # history_figure).
    fig.update_layout(height=520, margin={"t": 70, "b": 10},
                      legend={"orientation": "h", "x": 0, "y": 0, "yref": "container", "yanchor": "bottom"})
    return fig


# One colour per compared run: Okabe and Ito's palette, told apart by colour-blind
# readers too (yellow last: it is the faintest on white).
COMPARE_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]


def comparison_figure(curves: list[tuple[str, dict]], loss: bool = False, zoom: bool = False,
                      images: str = "digits") -> go.Figure:
    """Training (dashed) and validation (solid) accuracy per epoch of several runs overlaid,
    one colour per run (``COMPARE_COLORS``, at most 8 runs); with ``loss``, a second panel
    with the loss the same way. The legend names each run once, plus what dashed and
    solid mean.

    Args:
        curves: (label, history) per run; history as ``core.training.run.train`` records it
            ({"accuracy", "val_accuracy", "loss", "val_loss": one float per epoch}).
        zoom: start the accuracy axis at the lowest value of the runs' second halves
            instead of the lowest of all, with a note on the figure saying so.
        images: what the legend calls the data ("digits"; "images" when a run is not on MNIST).

    Raises:
        ValueError: for no runs or more than ``len(COMPARE_COLORS)``.
    """
    if not curves or len(curves) > len(COMPARE_COLORS):
        raise ValueError(f"Pick between 1 and {len(COMPARE_COLORS)} runs to compare.")
    panels = ["accuracy", "loss"] if loss else ["accuracy"]
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=panels if loss else None)
    longest = max(len(history.get("val_accuracy", [])) for _, history in curves)
    for (label, history), color in zip(curves, COMPARE_COLORS):
        for col, name in enumerate(panels, start=1):
            scale = 100 if name == "accuracy" else 1
            unit = "%" if scale == 100 else ""
            for prefix, what, dash in (("val_", "validation", "solid"), ("", "training", "dash")):
                values = [scale * v for v in history.get(prefix + name, [])]
                fig.add_trace(go.Scatter(
                    x=list(range(1, len(values) + 1)), y=values, mode="lines+markers", name=label,
                    line={"color": color, "dash": dash}, marker={"size": 5}, legendgroup=label,
                    # The run's name once in the legend: its validation line in the first panel.
                    showlegend=col == 1 and prefix == "val_",
                    hovertemplate=f"{label}<br>{what}, epoch %{{x}}: %{{y:.4g}}{unit}<extra></extra>"),
                    row=1, col=col)
    for what, dash in ((f"validation {images} (solid)", "solid"), (f"training {images} (dashed)", "dash")):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=what, hoverinfo="skip",
                                 line={"color": "#7f7f7f", "dash": dash}))
    fig.update_yaxes(ticksuffix="%", title_text="accuracy", row=1, col=1)
    if zoom:
        # The last epochs' differences are tenths of a point; the first epochs are cut off,
        # and the figure says so, since a reader expects to see every point.
        tails = [100 * v for _, h in curves for key in ("accuracy", "val_accuracy")
                 for v in h.get(key, [])[len(h.get(key, [])) // 2:]]
        bottom = np.floor((min(tails) - 0.1) * 10) / 10
        fig.update_yaxes(range=[bottom, max(tails) + 0.1], row=1, col=1)
        fig.add_annotation(text=f"<b>axis zoomed: starts at {bottom:.1f}%, earlier epochs below it</b>",
                           xref="paper", yref="paper", x=0, y=1, xanchor="left", yanchor="bottom",
                           # Above the panels' titles when the loss panel gives them titles.
                           yshift=26 if loss else 6, showarrow=False, font={"color": "#b35900"},
                           bgcolor="#fff3e0")
    # Whole epochs only, from 1 (see history_figure).
    fig.update_xaxes(title_text="epoch", tick0=1, dtick=max(1, longest // 10), range=[0.5, max(1, longest) + 0.5])
    # The legend at the foot of the whole figure (see history_figure): long run names wrap
    # into more rows on a phone and push the plot up instead of covering it.
    fig.update_layout(height=460, margin={"t": 70 if zoom and loss else 40, "b": 10, "l": 60, "r": 20},
                      legend={"orientation": "h", "x": 0, "y": 0, "yref": "container", "yanchor": "bottom"})
    return fig


def export_config(name: str) -> dict:
    """plotly.js's chart config for ``st.plotly_chart``: its own "Download plot as a PNG"
    button (the camera in the chart's toolbar) saves ``<name>.png`` at twice the shown
    size. It draws the PNG in the visitor's browser from the plotly.js that Streamlit
    serves, so it needs no network and costs the server nothing (checked in Chromium:
    tests/test_browser.py). Server-side export (kaleido 1.5 with Debian's Chromium) also
    works offline but took 2.0-2.8 s and a browser start per figure (README.md, "From the lab to code").
    """
    return {"toImageButtonOptions": {"format": "png", "filename": name, "scale": 2}, "displaylogo": False}


def larger_type(fig: go.Figure, size: int = 18) -> go.Figure:
    """``fig`` with its text at ``size`` px (plotly's default is 12), for projector mode:
    ticks, axis titles, legend, panel titles and notes."""
    # Each one set explicitly: Streamlit's chart theme sizes them itself, ignoring layout.font.
    fig.update_layout(font_size=size, legend_font_size=size)
    fig.update_xaxes(tickfont_size=size, title_font_size=size)
    fig.update_yaxes(tickfont_size=size, title_font_size=size)
    return fig.update_annotations(font_size=size)
