"""Regularization: two L2 weight-decay sweeps of the 500-300 dense net, with error bars."""

import pandas as pd
import streamlit as st

from core.config import SWEEPS, SWEEP_FACTORS, SweepConfig
from core.present.figures import export_config, larger_type, sweep_figure
from core.present.glossary import tip
from core.queue import classroom, jobs
from core.store import cache
from core.targets import HINTON_ACCURACY
from core.training.sweeps import sweep_best, sweep_verdict
from core.vocabulary import OPTIMIZER_NAMES
from pages.identity import teacher_grant
from pages.shared import caption, collect_runs, explain, job_status_text, projector, session_owner, use_app_navigation

use_app_navigation()

st.title("Weight decay on a 500-300 dense net")
# Projector mode: the sweep figure straight under the title, the text after it.
first = st.container()
base = SWEEPS[0].base()
st.markdown(
    f"""
A 784-500-300-10 dense network with L2 weight decay on both hidden layers: the loss gains
the factor times the sum of the squared weights, which pulls weights towards zero. Each
sweep trains the net with **no weight decay** (the control, l2 = 0) and at five factors
from 1e-6 to 1e-3, **{SWEEPS[0].replicates} seeds each**: once on the **plain digits**,
as Hinton trained for his **{HINTON_ACCURACY:.2%}** (LeCun's MNIST table), and once on
randomly **distorted digits** (shifted, rotated, scaled, slanted, thinned and thickened,
new for every batch). Recipe: {OPTIMIZER_NAMES[base.optimizer]}, peak learning rate
{base.learning_rate:g}, {base.lr_schedule} schedule, batch {base.batch_size},
{base.epochs} epochs; 55,000 training digits.

The factor is **chosen on the 5,000 validation digits**; the 10,000 test digits are
scored once per run, after training, and play no part in the choice.
"""
)
explain("l2", "hinton", "distorted_digits", "validation")

sweeps = {config.name: cache.load_experiment("sweep", config.key()) for config in SWEEPS}
missing = [name for name, results in sweeps.items() if results is None]
if missing:
    st.warning(f"The sweep on {' and '.join(missing)} digits is not in models_cache/: build it with "
               "`python -m core train sweep`.")
sweeps = {name: results for name, results in sweeps.items() if results is not None}
if not sweeps:
    st.stop()

with first if projector() else st.container():
    fig = sweep_figure(sweeps, HINTON_ACCURACY)
    st.plotly_chart(larger_type(fig) if projector() else fig, key="shipped-sweeps",
                    config=export_config("weight-decay-sweeps"))
    caption("Diamonds: no weight decay (l2 = 0), the control. Green dotted line: the factor chosen on "
            "validation. Error bars: one standard deviation over the seeds. The accuracy axis does not "
            "start at 0: the differences are fractions of a percentage point (one validation digit is "
            "0.02 points).")
    explain("error_bars", "seed")


def describe_sweep(name: str, results: dict) -> None:
    """A sweep's verdict in words, its summary table and every run."""
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
        names = {"l2": "L2 factor", "seed": "seed", "final_val_accuracy": "validation (last epoch)",
                 "best_val_accuracy": "validation (best epoch)", "test_accuracy": "test",
                 "training_seconds": "training time"}
        runs = pd.DataFrame(results["rows"])[list(names)]
        for column in ("final_val_accuracy", "best_val_accuracy", "test_accuracy"):
            runs[column] *= 100
        st.dataframe(runs.rename(columns=names), hide_index=True, height="content",
                     column_config={"L2 factor": st.column_config.NumberColumn(format="%.2g"),
                                    "validation (last epoch)": percent, "validation (best epoch)": percent,
                                    "test": percent,
                                    "training time": st.column_config.NumberColumn(format="%.0f s")})


for name, results in sweeps.items():
    describe_sweep(name, results)

st.header("Run a sweep on this server")
st.markdown("Queue a smaller sweep for the class: each factor and seed is one training job, so several "
            "workers share it, and the summary appears when the last run ends. Runs and results are kept "
            "under \"trained here\"; the shipped sweeps above never change.")
# Enter in a number box must not queue a sweep of a class's worker time by accident: only
# the button does.
with st.form("sweep", enter_to_submit=False):
    c1, c2, c3, c4 = st.columns([1, 1, 1, 2])
    digits = c1.radio("Digits", ["plain", "distorted"], horizontal=True)
    epochs = c2.number_input("Epochs per run", 1, SWEEPS[0].base().epochs, 3, help=tip("epoch"))
    replicates = c3.number_input("Seeds per factor", 1, 3, 2, help=tip("seed"))
    factors = c4.multiselect("L2 factors", SWEEP_FACTORS, default=[0.0, SWEEP_FACTORS[3], SWEEP_FACTORS[-1]],
                             format_func=lambda f: f"{f:.2g}" if f else "0 (control)")
    queued = st.form_submit_button("Queue this sweep", type="primary")
sweep = SweepConfig(augment=digits == "distorted", l2_factors=tuple(sorted(factors)), replicates=int(replicates),
                    epochs=int(epochs))
owner = session_owner()
if queued:
    if 0.0 not in factors or len(factors) < 2:
        st.error("Choose the control (0) and at least one factor, so there is something to compare.")
    else:
        try:
            if not owner and not teacher_grant():
                raise jobs.Refused("Pick your name in the class (in the sidebar) to queue a sweep: your jobs carry it.")
            job = classroom.submit_sweep(sweep, owner or "Teacher", grant=teacher_grant())
            st.session_state.setdefault("my-sweeps", []).append(job.id)
        except (jobs.Refused, classroom.NotTeacher) as exc:
            st.warning(str(exc))
        except jobs.QUEUE_ERRORS as exc:
            st.warning(jobs.problem(exc))

collect_runs()
here = sorted(cache.runs_dir().glob("sweep-*/results.json"), key=lambda p: p.stat().st_mtime, reverse=True)


def queued_sweeps() -> list[dict]:
    try:
        return [state for state in jobs.active() if state["kind"] == "sweep"]
    except jobs.QUEUE_ERRORS:
        return []


def show_sweep_state(state: dict) -> None:
    config = state["sweep"]
    factors = ", ".join(f"{f:.2g}" for f in config["l2_factors"])
    st.info(f"Sweep on {'distorted' if config['augment'] else 'plain'} digits, factors {factors}, "
            f"{config['replicates']} seeds, {config['epochs']} epochs: {job_status_text(state)}")


waiting = queued_sweeps()


# Polled whether or not a sweep is queued: one queued from another session or app process
# (compose.yaml's replicas) shows within seconds; when one ends the page reruns to show its result.
@st.fragment(run_every=3.0)
def sweeps_in_queue() -> None:
    """Every queued or running sweep of the server, with its state, refreshed every 3 seconds."""
    now = queued_sweeps()
    if {s["id"] for s in now} != {s["id"] for s in waiting}:
        st.rerun(scope="app")
    for state in now:
        show_sweep_state(state)


sweeps_in_queue()
for jid in st.session_state.get("my-sweeps", []):
    try:
        state = jobs.status(jid)
    except jobs.QUEUE_ERRORS:
        break
    if state.get("state") == "failed":
        st.error(f"Your sweep did not finish: {state['reason']}.")
for path in here:
    try:
        results = cache.read_json(path)
    except cache.CorruptEntryError:
        continue
    config = results["config"]
    st.subheader(f"Trained here: {results['name']} digits, {config['epochs']} epochs, "
                 f"{config['replicates']} seeds")
    st.plotly_chart(sweep_figure({results["name"]: results}, HINTON_ACCURACY), key=f"fig-{path.parent.name}",
                    config=export_config(f"weight-decay-sweep-{path.parent.name}"))
    describe_sweep(results["name"], results)
