"""The "Keras code" view of a run, shown on the Train and Compare runs pages: the one Python
script that reproduces it (``core.present.keras_code``) with its download, and for a
stored run its trained model (``.keras``) and its history as CSV. Not a page itself
(app.py lists the pages)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import streamlit as st

from core.config import TrainConfig
from core.present.keras_code import script
from core.present.runs import history_csv
from core.store import cache
from pages.shared import caption

TITLE = "Keras code: this run as one Python script"


@st.cache_data(max_entries=64, show_spinner=False)
def keras_script(config_json: str) -> str:
    """``core.present.keras_code.script`` of a config (``TrainConfig`` fields as JSON)."""
    return script(TrainConfig.from_fields(json.loads(config_json)))


def stored_folder(config: TrainConfig) -> Path | None:
    """The entry folder of ``config`` when a store holds it whole (the shipped cache first,
    then the runs store), else None."""
    for root in (cache.cache_dir(), cache.runs_dir()):
        if cache.whole_entry(root, config.entry):
            return Path(root) / config.entry
    return None


def code_view(config: TrainConfig, folder: Path | None, key: str) -> None:
    """``code_body`` in an expander (closed: the page reads as before)."""
    with st.expander(TITLE):
        code_body(config, folder, key)


def code_body(config: TrainConfig, folder: Path | None, key: str) -> None:
    """The run's Keras script (``st.code`` has a copy button) and its download; for a stored
    run (``folder``, its entry) the trained model and the history downloads too.

    Args:
        key: the widgets' key prefix, unique on the page.
    """
    text = keras_script(json.dumps(asdict(config)))
    caption("It runs outside the lab with numpy and TensorFlow: the same data split, model, optimizer and "
               "training, generated from these settings; its first lines say how to run it.")
    # A window onto the script (it scrolls): a few hundred lines would push the rest of the page far down.
    st.code(text, language="python", height=480)
    cols = st.columns(3)
    cols[0].download_button("Download the script (.py)", text, file_name=f"{config.entry}.py",
                            mime="text/x-python", key=f"{key}-script", on_click="ignore",
                            icon=":material/download:")
    if folder is None:
        return
    model, history = folder / "model.keras", None
    try:
        history = cache.read_json(folder / "history.json")
    except (OSError, cache.CorruptEntryError):
        pass
    if model.is_file():
        # Read on the click only: a model is up to a few megabytes, and the page reruns often.
        cols[1].download_button("Download the trained model (.keras)", model.read_bytes,
                                file_name=f"{config.entry}.keras", mime="application/octet-stream",
                                key=f"{key}-model", on_click="ignore", icon=":material/download:")
    if isinstance(history, dict):
        cols[2].download_button("Download its history (.csv)", history_csv(history),
                                file_name=f"{config.entry}-history.csv", mime="text/csv",
                                key=f"{key}-history", on_click="ignore", icon=":material/download:")
    missing = [what for what, ok in (("trained model", model.is_file()), ("history", isinstance(history, dict)))
               if not ok]
    if missing:
        st.info(f"This run's {' and '.join(missing)} cannot be read now, so "
                   f"{'it' if len(missing) == 1 else 'they'} cannot be downloaded.")
