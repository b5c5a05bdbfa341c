"""Teacher: behind the password the operator sets ($DIGITLAB_TEACHER_PASSWORD). Every job
with its student and a Cancel for each, pause and resume the queue, the class's rules
(jobs per student, the cap on a job's worker time), clear the leaderboard or one
student's runs, the class's handwriting (every drawing with its student, delete one or a
student's, share them with the class or not, export them, accuracy per student), and
links that open any page in projector mode. Each action is checked
again on the server (core.queue.classroom), so a hidden button is not the permission."""

import uuid

import pandas as pd
import streamlit as st

from core.classset import db, evaluate, samples
from core.vocabulary import MODEL_NAMES
from core.queue import classroom, jobs
from core.store.leaderboard import leaderboard
from pages.identity import teacher_grant
from core.present.runs import epochs_text
from pages.shared import caption, class_grid, collect_runs, job_status_text, require_model, use_app_navigation

use_app_navigation()
st.title("Teacher")

# The pages a projector link can open (url paths as app.py names them).
PROJECTOR_PAGES = {"Overview": "", "Train": "train", "Regularization": "regularization", "Denoising": "denoising",
                   "Latent space": "latent", "Draw": "draw", "Collect": "collect", "Class models": "class_models",
                   "Inside the CNN": "inside", "Mistakes": "mistakes", "Compare runs": "compare"}
CAP_MINUTES = (1, 2, 3, 5, 10, 15, 20, 30, 60)


def unlock() -> None:
    """The password form's callback: at most 5 tries a minute in this session, no hint."""
    session = st.session_state.setdefault("teacher-session", uuid.uuid4().hex)
    password = st.session_state.pop("teacher-password", "")
    try:
        grant = classroom.unlock(password, session)
    except (classroom.NotTeacher, classroom.TooManyTries) as exc:
        st.session_state["teacher-message"] = str(exc)
        return
    except jobs.QUEUE_ERRORS as exc:
        st.session_state["teacher-message"] = jobs.problem(exc)  # teacher mode is kept there
        return
    if grant:
        st.session_state["teacher-grant"] = grant
    else:
        st.session_state["teacher-message"] = "That is not the teacher's password."


def act(action, *args, done: str = "") -> None:
    """Run a teacher action (a button's callback); its refusal, or ``done``, as one sentence."""
    try:
        action(teacher_grant(), *args)
        st.session_state["teacher-done"] = done
    except classroom.NotTeacher as exc:
        st.session_state.pop("teacher-grant", None)  # expired or locked elsewhere: ask again
        st.session_state["teacher-message"] = str(exc)
    except jobs.QUEUE_ERRORS as exc:  # first: a lock's LockError is a ValueError too
        st.session_state["teacher-message"] = jobs.problem(exc)
    except (ValueError, jobs.StoreUnwritable) as exc:
        st.session_state["teacher-message"] = f"That did not work: {exc}"
    except db.DB_ERRORS as exc:
        st.session_state["teacher-message"] = db.problem(exc)


def save_rules() -> None:
    act(classroom.set_rules, int(st.session_state["rule-limit"]), 60.0 * st.session_state["rule-cap"],
        done="The class's rules are saved; they apply to the next job each student queues.")


def lock() -> None:
    classroom.lock(st.session_state.pop("teacher-grant", None))


if st.session_state.get("teacher-message"):
    st.warning(st.session_state.pop("teacher-message"))
if st.session_state.get("teacher-done"):
    st.success(st.session_state.pop("teacher-done"))

if not teacher_grant():
    with st.form("teacher-unlock"):
        st.text_input("The teacher's password", type="password", key="teacher-password")
        st.form_submit_button("Unlock", on_click=unlock)
    caption("Teacher mode lasts for this browser tab only. Students never see this page's controls.")
    st.stop()

try:
    rules, paused, rows = classroom.rules(), jobs.paused(), jobs.active()
except jobs.QUEUE_ERRORS as exc:
    st.warning(jobs.problem(exc))
    st.stop()
# Finished results are written here too, so an unwritable runs store is said on this page.
collect_runs()

left, right = st.columns([3, 1], vertical_alignment="center")
left.markdown("**The queue is paused**: running jobs finish, queued ones wait." if paused
              else "**The queue is running.**")
right.button("Resume the queue" if paused else "Pause the queue", on_click=act,
             args=(classroom.set_paused, not paused),
             kwargs={"done": "The queue runs again." if paused else "The queue is paused."})

st.subheader("Every job")


@st.fragment(run_every=5.0)
def job_table():
    try:
        current = jobs.active()
    except jobs.QUEUE_ERRORS as exc:
        st.warning(jobs.problem(exc))
        return
    if not current:
        caption("No training is queued or running right now.")
    for state in current:
        line, button = st.columns([6, 1], vertical_alignment="center")
        line.markdown(job_line(state))
        button.button("Cancel", key=f"teacher-cancel-{state['id']}", on_click=act,
                      args=(classroom.cancel_any, state["id"]), kwargs={"done": "Cancelled."})
    try:
        failed = jobs.failed_lately()
    except jobs.QUEUE_ERRORS:
        failed = []  # said above
    if failed:
        # A job stopped by a fault (its worker killed, perhaps out of memory) leaves the list above.
        st.markdown("**Failed in the last hour**")
        for state in failed:
            st.markdown(job_line(state))


def job_line(state: dict) -> str:
    """A job in one line: who queued it, what it trains, its state in a sentence."""
    fields = state["config"] or {}
    who = "the teacher" if state.get("teacher") else (state["owner"] or "someone (no name)")
    what = state.get("title") or "a weight-decay sweep"
    if state["kind"] == "train":
        what = (f"{MODEL_NAMES.get(fields.get('kind'), fields.get('kind'))}, {epochs_text(fields.get('epochs'))}, "
                f"seed {fields.get('seed')}")
    return f"**{who}**: {what} · {job_status_text(state)}"


job_table()

st.subheader("The class's rules")
st.session_state.setdefault("rule-limit", rules.limit)
st.session_state.setdefault("rule-cap", min(CAP_MINUTES, key=lambda m: abs(60 * m - rules.cap_seconds)))
c1, c2 = st.columns(2)
c1.select_slider("Jobs each student may have in the line", options=list(range(classroom.LIMIT_RANGE[0],
                                                                                classroom.LIMIT_RANGE[1] + 1)),
                 key="rule-limit", help="0 closes the queue to students; your own jobs are never limited.")
c2.select_slider("Cap on one job's worker time (minutes)", options=list(CAP_MINUTES), key="rule-cap",
                 help="A student's job estimated above this is refused with a sentence saying what to change.")
st.button("Save the rules", on_click=save_rules)
caption(f"Now: {rules.limit} job{'s' if rules.limit != 1 else ''} per student, each at most "
        f"{rules.cap_seconds / 60:g} min of a worker's time. Jobs estimated at {jobs.QUICK_SECONDS:.0f} s or less go to the quick queue, served first.")

st.subheader("The class leaderboard")
board = leaderboard()
students = sorted({r["student"] for r in board if r["student"]})
caption(f"{len(board)} classifiers trained here, by {len(students)} named students.")
c1, c2 = st.columns(2)
if c1.checkbox("Yes, clear the whole leaderboard", key="confirm-clear"):
    c1.button("Clear the class leaderboard", on_click=act, args=(classroom.clear_runs, None),
              kwargs={"done": "The leaderboard is cleared."})
who = c2.selectbox("One student's runs", students, index=None, placeholder="Choose a student")
if who:
    c2.button(f"Clear {who}'s runs", on_click=act, args=(classroom.clear_runs, who),
              kwargs={"done": f"{who}'s runs are cleared."})

damaged = classroom.damaged_runs()
if damaged:
    st.subheader("Damaged runs")
    caption("Entries of the runs store that cannot be read (a file cut short or edited by hand). A student can "
            "train the same settings again from the Train page, which replaces the damaged copy; or remove it here.")
    for name, sentence in damaged.items():
        line, button = st.columns([6, 1], vertical_alignment="center")
        line.markdown(sentence)
        button.button("Remove", key=f"teacher-remove-{name}", on_click=act, args=(classroom.remove_damaged, name),
                      kwargs={"done": f"The damaged entry {name} is removed."})

st.subheader("The class's handwriting")


def handwriting() -> None:
    try:
        data, shared, symbol_names = samples.load(), samples.sharing(), samples.symbol_names()
    except db.DB_ERRORS as exc:
        st.warning(db.problem(exc))
        return
    who = sorted(set(data.students.tolist()))
    caption(f"{len(data):,} drawings by {len(who)} students, kept in {db.where()}.")
    st.toggle("Students see each other's drawings", value=shared, key=f"share-{shared}",
              on_change=act, args=(samples.set_sharing, not shared),
              kwargs={"done": "Students now see the class's drawings." if not shared
                      else "Students now see only their own drawings."})
    if not len(data):
        caption("No drawing is saved yet: students add them on the Collect page.")
        return
    npz, text = samples.export(teacher_grant(), data)  # read just above
    c1, c2 = st.columns(2)
    c1.download_button("Download the set (.npz, like MNIST)", npz, file_name="class-digits.npz",
                       mime="application/octet-stream", icon=":material/download:")
    c2.download_button("Download the set (CSV)", text, file_name="class-digits.csv", mime="text/csv",
                       icon=":material/download:")
    digits = data.digits()
    if len(digits):
        cnn = require_model("cnn").model
        rows = evaluate.per_student(evaluate.probabilities(cnn, digits.images), digits.digit_labels(),
                                    digits.students)
        st.markdown("**The CNN on each student's digits**")
        st.dataframe(pd.DataFrame(rows).assign(accuracy=lambda t: 100 * t["accuracy"]), hide_index=True,
                     height="content", column_config={"accuracy": st.column_config.NumberColumn(format="%.1f%%")})
    c1, c2 = st.columns(2)
    chosen = c1.selectbox("One student's drawings", who, index=None, placeholder="Choose a student",
                          key="samples-student")
    if chosen:
        c1.button(f"Delete all of {chosen}'s drawings", on_click=act, args=(samples.delete_student, chosen),
                  kwargs={"done": f"{chosen}'s drawings are deleted."})
    if symbol_names:
        symbol = c2.selectbox("A symbol", symbol_names, index=None, placeholder="Choose a symbol", key="samples-symbol")
        if symbol:
            c2.button(f"Remove {symbol} and its drawings", on_click=act, args=(samples.remove_symbol, symbol),
                      kwargs={"done": f"The symbol {symbol} is removed."})
    label = st.selectbox("Drawings of", samples.class_order(data.labels), key="samples-label",
                         help="Newest first; Delete under a drawing removes that one (a wrong label, a scribble).")
    class_grid(data.where(data.labels == label), per_class=120,
               delete=lambda sample_id: act(samples.delete, sample_id, done=f"Sample #{sample_id} is deleted."))


handwriting()

st.subheader("Projector links")
caption("Each opens its page in projector mode (larger type, sidebar folded): open it on the projector's screen.")
st.markdown(" · ".join(f"[{title}](/{path}?mode=class)" for title, path in PROJECTOR_PAGES.items()))

st.divider()
st.button("Lock teacher mode", on_click=lock)
