"""Class models: every classifier of the lab tested on the class's own digits beside its
MNIST test accuracy (distribution shift); the CNN fine-tuned on them through the training
queue, split by student, with what it gains and forgets; and a new-symbols head trained on
the CNN's frozen features (transfer learning), which the Draw and Inside pages then offer."""

import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.classset import db, evaluate, finetune, samples, symbols
from core.present.figures import export_config
from core.queue import classroom, jobs
from pages.identity import student, teacher_grant
from pages.shared import (caption, collect_runs, explain, job_status_text, labelled_runs, stored_model,
                          use_app_navigation)

use_app_navigation()
st.title("Models on the class's handwriting")

try:
    data = samples.load()
except db.DB_ERRORS as exc:
    st.warning(db.problem(exc))
    st.stop()
digits = data.digits()
collect_runs()

# 1. Every model on the class's digits ---------------------------------------------------------
st.header("Every model on the class's digits")
explain("distribution_shift", "test_accuracy")
if not len(digits):
    st.info("The class has not saved any digits yet: draw some on the Collect page.")
else:
    runs = [run for run in labelled_runs() if run.config.dataset == "mnist"]

    @st.cache_data(show_spinner="Every model reads the class's digits…", max_entries=8)
    def class_accuracies(checksum: str, entries: tuple) -> tuple[pd.DataFrame, float]:
        """Each MNIST classifier's accuracy on the class's digits (computed once per set and
        list of runs, for every visitor); and the seconds the reading took."""
        start = time.perf_counter()
        models = {run.label: stored_model(run.store, run.entry).model for run in runs}
        loaded = time.perf_counter()
        probs = evaluate.every_model(models, digits.images, digits.digit_labels())
        rows = [{"model": run.label, "MNIST test accuracy": run.metrics.get("test_accuracy"),
                 "the class's digits": evaluate.accuracy(probs[run.label], digits.digit_labels())} for run in runs]
        table = pd.DataFrame(rows)
        table["gap"] = table["the class's digits"] - table["MNIST test accuracy"]
        return table, (loaded - start, time.perf_counter() - loaded)

    def as_percent(table: pd.DataFrame) -> pd.DataFrame:
        return table.assign(**{c: 100 * table[c] for c in ("MNIST test accuracy", "the class's digits", "gap")})

    table, (load_seconds, read_seconds) = class_accuracies(digits.sha256(), tuple(r.entry for r in runs))
    best = table.loc[table["the class's digits"].idxmax()]
    best_class = best["the class's digits"]
    lesson = ("The gap is the lesson: a test accuracy holds for digits like the ones the network learned from, "
              "and the class's digits are not." if best_class < best["MNIST test accuracy"] else
              "Here the class's digits are read as well as MNIST's: try digits written your own way, small, "
              "slanted or off-centre, and watch which models keep up.")
    st.markdown(f"On **{len(digits):,}** digits from **{len(set(digits.students.tolist()))}** students, the best "
                f"model reads **{best_class:.1%}** right ({best['model']}), against "
                f"**{best['MNIST test accuracy']:.2%}** on MNIST's test digits. {lesson}")
    percent = st.column_config.NumberColumn(format="%.2f%%")
    st.dataframe(as_percent(table), hide_index=True, height="content",
                 column_config={"MNIST test accuracy": percent, "the class's digits": percent,
                                "gap": st.column_config.NumberColumn(format="%+.1f points",
                                                                     help="The class's digits minus MNIST's.")})
    caption(f"Read by {len(runs)} classifiers in {read_seconds:.1f} s (their loading took {load_seconds:.1f} s, "
            "once per server). The Mistakes page shows any of them on the class's digits: its confusion matrix "
            "and the drawings it misread.")
    st.page_link("pages/mistakes.py", label="Mistakes on the class's digits", icon=":material/error:",
                 query_params={"data": "class"})


def queue_class_job(kind: str, config, blob: bytes, title: str, seconds: float) -> None:
    """A button's callback: queue the job for this student (the teacher's own when unlocked)."""
    name = student()
    if not name:
        st.session_state[f"{kind}-message"] = "Pick your name in the class (in the sidebar): jobs carry it."
        return
    try:
        classroom.submit_class_job(kind, config, blob, title, seconds, name, grant=teacher_grant())
        st.session_state[f"{kind}-entry"] = config.entry
    except (jobs.Refused, ValueError, classroom.NotTeacher) as exc:
        st.session_state[f"{kind}-message"] = str(exc)
    except jobs.QUEUE_ERRORS as exc:
        st.session_state[f"{kind}-message"] = jobs.problem(exc)


@st.fragment(run_every=3.0)
def job_line(kind: str) -> None:
    """The state of this session's last job of ``kind``, until it ends."""
    entry = st.session_state.get(f"{kind}-entry")
    if not entry:
        return
    try:
        state = jobs.status(entry)
    except jobs.QUEUE_ERRORS as exc:
        st.warning(jobs.problem(exc))
        return
    if not state or state["state"] == "done":
        collect_runs()
        st.session_state.pop(f"{kind}-entry", None)
        st.rerun()
    st.info(job_status_text(state).replace("Training", "Learning", 1))


# 2. Fine-tune ------------------------------------------------------------------------------------
st.header("Fine-tune the CNN on the class's digits")
st.markdown("The lab's CNN goes on learning from the class's digits for a few epochs, with some MNIST digits mixed "
            "in. A quarter of the students are **held out**: the CNN never sees their digits, and reads them before "
            "and after. It also reads MNIST's test digits before and after, to show what it forgets.")
explain("fine_tuning", "held_out_students")
if st.session_state.get("finetune-message"):
    st.warning(st.session_state.pop("finetune-message"))
try:
    plan, blob = finetune.plan(data)
except ValueError as exc:
    st.info(str(exc))
else:
    st.button(f"Fine-tune on {int((~np.isin(digits.students, plan.held_out)).sum())} digits, holding out "
              f"{', '.join(plan.held_out)}", on_click=queue_class_job, type="primary", key="finetune-go",
              args=("finetune", plan, blob, "Fine-tune the CNN on the class's digits", finetune.ESTIMATE_SECONDS))
job_line("finetune")
runs = finetune.stored()
if runs:
    rows = [{"when": r.get("created", "")[:16].replace("T", " "), "by": r.get("student") or "–",
             "held out": ", ".join(r["config"]["held_out"]),
             "held-out students before": 100 * r["before"]["held_out_accuracy"],
             "held-out students after": 100 * r["after"]["held_out_accuracy"],
             "MNIST test before": 100 * r["before"]["mnist_test_accuracy"],
             "MNIST test after": 100 * r["after"]["mnist_test_accuracy"],
             "digits learned": r["class_digits_fitted"]} for r in runs]
    percent = st.column_config.NumberColumn(format="%.2f%%")
    st.dataframe(pd.DataFrame(rows), hide_index=True, height="content",
                 column_config={c: percent for c in rows[0] if "before" in c or "after" in c})
    newest = runs[0]
    st.markdown(f"**The newest fine-tuning** ({', '.join(newest['config']['held_out'])} held out): the held-out "
                f"students' digits {newest['before']['held_out_accuracy']:.1%} → "
                f"**{newest['after']['held_out_accuracy']:.1%}**, MNIST's test digits "
                f"{newest['before']['mnist_test_accuracy']:.2%} → **{newest['after']['mnist_test_accuracy']:.2%}**, "
                f"after {newest['training_seconds']:.0f} s of training.")
    figure = go.Figure()
    epochs = list(range(1, len(newest["history"]["val_accuracy"]) + 1))
    figure.add_scatter(x=epochs, y=newest["history"]["accuracy"], name="training (class + MNIST digits)")
    figure.add_scatter(x=epochs, y=newest["history"]["val_accuracy"], name="validation (MNIST's last 5,000)")
    figure.update_layout(height=280, margin=dict(l=10, r=10, t=30, b=10), title="The newest fine-tuning, per epoch",
                         xaxis_title="epoch", yaxis_title="accuracy", yaxis_tickformat=".1%", xaxis_dtick=1)
    st.plotly_chart(figure, key="finetune-curves", config=export_config("fine-tuning-curves"))

# 3. New symbols ----------------------------------------------------------------------------------
st.header("Teach the network new symbols")
st.markdown(f"The class's symbols are new classes the CNN has never seen. Its convolutional layers stay as they "
            f"are (frozen) and only a new last layer learns, from at least {symbols.MIN_PER_SYMBOL} drawings of "
            f"each symbol; a fifth of them are held out to test it.")
explain("transfer_learning")
if st.session_state.get("symbols-message"):
    st.warning(st.session_state.pop("symbols-message"))
try:
    names = samples.symbol_names()
except db.DB_ERRORS as exc:
    st.warning(db.problem(exc))
    st.stop()
counts = {n: int((data.labels == n).sum()) for n in names}
if names:
    st.markdown("Drawings so far: " + " · ".join(f"`{n}` {counts[n]}" for n in names))
try:
    symbol_plan, symbol_blob = symbols.plan(data, names)
except ValueError as exc:
    st.info(str(exc))
else:
    st.button(f"Learn {', '.join(names)} from {sum(counts.values())} drawings", type="primary", key="symbols-go",
              on_click=queue_class_job, args=("symbols", symbol_plan, symbol_blob,
                                              "Learn the class's symbols", symbols.ESTIMATE_SECONDS))
job_line("symbols")
heads = symbols.stored()
if heads:
    head = heads[0]
    per_class = " · ".join(f"`{n}` {a:.0%}" for n, a in head["held_out_per_class"].items())
    st.markdown(f"The newest head knows **{', '.join(head['names'])}**: it reads **{head['held_out_accuracy']:.0%}** "
                f"of {head['held_out_count']} held-out drawings right ({per_class}), after "
                f"{head['training_seconds']:.1f} s of training ({head['trainable_params']:,} weights learned; the "
                f"{head['param_count'] - head['trainable_params']:,} of the CNN's base stayed frozen).")
    st.page_link("pages/draw.py", label="Draw a symbol", icon=":material/draw:")
    st.page_link("pages/inside.py", label="See its feature maps", icon=":material/visibility:")
