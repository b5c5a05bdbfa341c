"""What the pages share: models and test digits loaded once per server process, and
small display helpers. Not a page itself (app.py lists the pages)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core import cache
from core.data import load_mnist, to_float
from core.training import default_config


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist():
    """{"x_test": (10000, 28, 28) float32 in [0, 1], "y_test": (10000,) uint8}; read-only."""
    _, (x_test, y_test) = load_mnist()
    x_test = to_float(x_test)
    x_test.setflags(write=False)
    return {"x_test": x_test, "y_test": y_test}


@st.cache_resource(show_spinner="Loading the model…")
def cached_model(kind: str):
    """The default model of ``kind`` from models_cache/, or None when it is not cached."""
    config = default_config(kind)
    if not cache.is_cached(config):
        return None
    return cache.load(config)


def require_model(kind: str):
    """The default cached model, or stop the page with a message saying how to build it."""
    entry = cached_model(kind)
    if entry is None:
        st.warning(f"The {kind} model is not in models_cache/. Build it on the Train page "
                   f"or with `python -m core train {kind}`.")
        st.stop()
    return entry


def enlarge(image: np.ndarray, factor: int = 4) -> np.ndarray:
    """Nearest-neighbour upscale of a (28, 28) digit so the browser shows crisp pixels."""
    return np.clip(np.kron(np.asarray(image, np.float32), np.ones((factor, factor), np.float32)), 0, 1)


def digit_row(images, captions=None, factor: int = 3) -> None:
    """Show (28, 28) digits in one row, each with an optional caption."""
    st.image([enlarge(image, factor) for image in images], caption=captions, clamp=True)


def history_figure(history: dict):
    """Plotly figure: accuracy (if any) and loss per epoch, training and validation."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    panels = [name for name in ("accuracy", "loss") if name in history]
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=panels)
    for col, name in enumerate(panels, start=1):
        for prefix, label, dash in (("", "training", "solid"), ("val_", "validation", "dash")):
            values = history.get(prefix + name, [])
            fig.add_trace(
                go.Scatter(x=list(range(1, len(values) + 1)), y=values, name=f"{label} {name}",
                           mode="lines+markers", line={"dash": dash}),
                row=1, col=col,
            )
        fig.update_xaxes(title_text="epoch", row=1, col=col)
    fig.update_layout(height=360, margin={"t": 70, "b": 40, "l": 40, "r": 20},
                      legend={"orientation": "h", "y": 1.25, "x": 0})
    return fig
