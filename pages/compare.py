"""Compare runs: shipped runs and runs trained here side by side, their curves overlaid and
their numbers in one table with the differing settings shaded; the course's comparisons
one click away."""

import streamlit as st

from core.analysis import compare
from core.present.runs import run_label
from core.present.figures import comparison_figure, export_config, larger_type
from core.queue import classroom, jobs
from core.store import cache
from pages.identity import teacher_grant
from pages.run_code import code_body
from pages.shared import (caption, collect_runs, duration, explain, job_status_text, labelled_runs, projector,
                          read_link, session_owner, use_app_navigation, write_link)

use_app_navigation()
owner = session_owner()
DEFAULT_PRESET = "plain_distorted"


collect_runs()
runs = labelled_runs()
by_label = {run.label: run for run in runs}


def pick_preset(key: str, labels: list[str]) -> None:
    """Button callback: show a ready-made comparison with the runs of it that are stored."""
    st.session_state["compare-preset"] = key
    st.session_state["compare-runs"] = labels


def picked_by_hand() -> None:
    """A change of the run picker leaves the ready-made comparison."""
    st.session_state["compare-preset"] = None


# A link (core.present.links, "compare"): a ready-made comparison, or runs picked by hand by their entries.
by_entry = {}
for run in runs:
    by_entry.setdefault(run.entry, run)
link = read_link("compare", allowed={"runs": lambda entries: all(e in by_entry for e in entries)}) or {}
if "preset" in link:
    pick_preset(link["preset"], [r.label for r in compare.resolve(compare.preset(link["preset"]), runs)[0]])
elif "runs" in link:
    st.session_state["compare-preset"] = None
    st.session_state["compare-runs"] = [by_entry[e].label for e in link["runs"]]
if "compare-preset" not in st.session_state:
    found, _ = compare.resolve(compare.preset(DEFAULT_PRESET), runs)
    pick_preset(DEFAULT_PRESET, [r.label for r in found])
# Runs that left a store since the last visit (a damaged entry) leave the picker too.
st.session_state["compare-runs"] = [label for label in st.session_state.get("compare-runs", [])
                                    if label in by_label][:compare.MAX_RUNS]
active = st.session_state["compare-preset"]
# The address follows the view: the ready-made comparison, or the runs picked by hand.
picked_entries = tuple(by_label[label].entry for label in st.session_state["compare-runs"])
write_link("compare", {"preset": active, "runs": None if active else picked_entries or None})

st.title("Compare runs")
st.markdown("Put runs side by side: the lab's shipped classifiers and any trained on this server. "
            "Their accuracy curves are drawn over each other and their numbers sit in one table, with the "
            "settings that differ between them shaded. Start with one of the course's questions:")

with st.container(horizontal=True, key="presets"):
    for p in compare.PRESETS:
        found, _ = compare.resolve(p, runs)
        st.button(p.title, key=f"preset-{p.key}", type="primary" if p.key == active else "secondary",
                  on_click=pick_preset, args=(p.key, [r.label for r in found]))
explain("generalization_gap", "dropout")
# Projector mode: the curves right under the buttons, as the page's key figure.
first = st.container()


def training_panel(chosen: compare.Preset, missing: list) -> None:
    """The preset's runs that no store has: their jobs' state, or a button that queues them."""
    labels = {jobs.job_id(c): run_label(c) for c in missing}
    damaged = [jid for jid in labels if (cache.cache_dir() / jid).exists()]
    if damaged:
        # app.py's warning names the entry; the shipped cache is rebuilt by the CLI only (a damaged
        # entry of the runs store is simply trained again: collecting the result replaces it).
        st.warning(f"{chosen.title} needs {', '.join(labels[j] for j in damaged)}, whose entry is damaged "
                   "(named at the top of the page): rebuild it with `python -m core train`.")
        return
    try:
        states = {jid: jobs.status(jid) for jid in labels}
    except jobs.QUEUE_ERRORS as exc:
        st.info(f"{chosen.title} needs a run that is not trained yet: {', '.join(labels.values())}.")
        st.warning(jobs.problem(exc))
        return
    if any(s.get("state") in ("queued", "running") for s in states.values()):
        watch(labels)
        return
    for jid, state in states.items():
        if state.get("state") == "failed":
            st.error(f"The last run of {labels[jid]} failed: {state['reason']}.")
        elif state.get("state") == "done":
            st.info(f"{labels[jid]} has finished training: its result waits in the training queue and shows "
                    "here once it is written to the runs store.")
            return
    seconds = sum(jobs.job_seconds(c) for c in missing)
    st.info(f"Not trained yet: {', '.join(labels.values())}, about {duration(seconds)} of a worker's time "
            "here. It joins the server's training queue and shows here when it is done; the result is kept "
            "under \"trained here\" for everyone on this server.")
    if st.button("Train the missing run" if len(missing) == 1 else "Train the missing runs", type="primary",
                 key="compare-train"):
        if not owner and not teacher_grant():
            st.warning("Pick your name in the class (in the sidebar) to train: your jobs carry it.")
            return
        try:
            for config in missing:
                classroom.submit(config, owner or "Teacher", grant=teacher_grant())
        except (jobs.Refused, classroom.NotTeacher) as exc:
            st.warning(str(exc))
            return
        except jobs.QUEUE_ERRORS as exc:
            st.warning(jobs.problem(exc))
            return
        st.rerun()


@st.fragment(run_every=3.0)
def watch(labels: dict) -> None:
    """Queued or running jobs of a preset, polled while they last; the whole page again
    once none is left, to show the new runs."""
    try:
        states = {jid: jobs.status(jid) for jid in labels}
    except jobs.QUEUE_ERRORS as exc:
        st.warning(jobs.problem(exc))
        return
    if not any(s.get("state") in ("queued", "running") for s in states.values()):
        collect_runs()
        st.rerun(scope="app")
    for jid, state in states.items():
        if state.get("state") in ("queued", "running"):
            mine = (" Queued by you." if owner and state.get("owner") == owner
                    else f" Queued by {state.get('owner') or 'someone in the class'}.")
            st.info(f"{labels[jid]}: {job_status_text(state)}{mine}")
            if state["state"] == "running" and state["epochs"]:
                st.progress(min(1.0, state["progress"] / state["epochs"]))


if active:
    chosen = compare.preset(active)
    found, missing = compare.resolve(chosen, runs)
    st.subheader(chosen.title)
    st.markdown(chosen.question)
    if found and not missing:
        st.markdown(compare.findings(chosen, found))
    if chosen.key == "sgd_adam":
        explain("optimizer")
    elif chosen.key == "plain_distorted":
        explain("distorted_digits")
    elif chosen.key == "mnist_fashion":
        explain("fashion_mnist")
    elif chosen.key == "weight_decay":
        explain("l2")
        caption("One seed each: the Regularization page shows how far three seeds of the same settings "
                "spread.")
    if missing:
        training_panel(chosen, missing)

st.subheader("Runs")
st.multiselect("Runs to compare", list(by_label), key="compare-runs", max_selections=compare.MAX_RUNS,
               on_change=picked_by_hand, placeholder=f"Pick up to {compare.MAX_RUNS} runs",
               help="The classifiers shipped with the lab, then those trained on this server (Train page).")
picked = [by_label[label] for label in st.session_state["compare-runs"]]
if not picked:
    st.info("Pick runs above, or click a ready-made comparison.")
    st.stop()

c1, c2 = st.columns(2)
loss = c1.toggle("Show the loss too", key="compare-loss")
zoom = c2.toggle("Zoom in on the last epochs", key="compare-zoom")
# Digits, or images when a run read clothes or photos.
images = "digits" if all(r.config.dataset == "mnist" for r in picked) else "images"
# Long names on more lines: plotly cuts a legend entry off at a phone's edge.
fig = comparison_figure([(compare.wrapped(r.label), r.history) for r in picked], loss=loss, zoom=zoom,
                        images=images)
with first if projector() else st.container():
    st.plotly_chart(larger_type(fig) if projector() else fig, key="compare-curves",
                    config=export_config("compare-runs-curves"))
caption(f"Solid: accuracy on the 5,000 validation {images} after each epoch. Dashed: accuracy on the training "
        f"{images}, averaged over each epoch while the network still learns (on distorted digits, or mirrored and "
        "shifted images, for runs trained on them).")

table, shaded = compare.comparison_table(picked)
# The settings that differ first, beside the run's name, where a laptop and a phone show
# them: at the table's right end they were cut off at 1400 px.
table = table[["run", *shaded, *(c for c in table.columns if c != "run" and c not in shaded)]]
if len(picked) > 1:
    st.markdown(f"These runs differ in **{', '.join(shaded)}** (shaded in the table)." if shaded
                else "These runs have the same settings.")
styled = table.style.format({
    "test accuracy": "{:.2f}%", "validation accuracy": "{:.2f}%", "training accuracy": "{:.2f}%",
    "gap (points)": "{:+.2f}", "parameters": "{:,}", "training time (s)": "{:.0f}"}, na_rep="–")
if shaded:
    styled = styled.set_properties(subset=shaded, **{"background-color": "#ffe8a3", "color": "#000000"})
# The run's name pinned and at most 200 px wide (its whole name on hover): your own
# network's long names pushed the numbers out of a laptop's view, and on a phone the name
# alone filled the screen.
st.dataframe(styled, hide_index=True, height="content",
             column_config={"run": st.column_config.TextColumn(width="medium", pinned=True)})
caption(f"Shared by all: {compare.shared_settings(picked)}. Validation and training accuracy are the last "
        "epoch's, and the gap is training minus validation accuracy, in percentage points; test accuracy was "
        "measured once, after training.")

with st.expander("Keras code: a run as one Python script"):
    code_run = by_label[st.selectbox("Run", [run.label for run in picked], key="compare-code-run")]
    code_body(code_run.config, cache.store_dir(code_run.store) / code_run.entry, key="compare-code")

with st.expander("Where this came from"):
    for run in picked:
        where = "models_cache/" if run.store == "shipped" else "the runs store (trained on this server)"
        machine = run.metrics.get("machine", {})
        st.markdown(f"- {run.label}: entry `{run.entry}` in {where}, trained {run.metrics.get('created', '?')} "
                    f"on {machine.get('cpu', 'an unrecorded machine')}"
                    f"{', %s cores' % machine['cores'] if machine.get('cores') else ''}.")
    st.markdown("Curves from each entry's `history.json`, test accuracy, parameters and training time from its "
                "`metrics.json`. Training times come from the machine that trained each run, so runs trained "
                "on different machines do not compare on time.")
