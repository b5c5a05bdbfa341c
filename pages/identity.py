"""Who is at this browser: the student's name in the class (kept in a cookie, so it
survives reloads and new tabs) and, for the teacher, this session's unlock. Not a page
itself: app.py puts the name in every page's sidebar (``name_sidebar``)."""

from __future__ import annotations

import streamlit as st

from core.queue import classroom, jobs

COOKIE = "digitlab_student"
COOKIE_DAYS = 30
# Sets the cookie in the page (Streamlit cannot set one from Python). SameSite=Strict: no
# other site's page sends it along; the token is random, so a copied link carries no name.
_COOKIE_JS = """export default function ({ data }) {
  if (data && data.token && !document.cookie.includes(`${data.name}=${data.token}`)) {
    document.cookie = `${data.name}=${data.token}; path=/; max-age=${data.seconds}; SameSite=Strict`;
  }
}"""


def _token() -> str:
    """This browser's random token: from its cookie, else a new one (the cookie is set once
    the student picks a name)."""
    if "student-token" not in st.session_state:
        cookie = st.context.cookies.get(COOKIE, "")
        st.session_state["student-token"] = cookie if len(cookie) == 32 and cookie.isalnum() else classroom.new_token()
    return st.session_state["student-token"]


def student() -> str | None:
    """This browser's name in the class, or None before one is picked (or while the
    queue's Redis, which keeps the names, does not answer). Read from Redis once per
    browser session."""
    if "student" not in st.session_state:
        try:
            st.session_state["student"] = classroom.student_for(_token())
        except jobs.QUEUE_ERRORS:
            return None
    return st.session_state["student"]


def _write_cookie() -> None:
    cookie = st.components.v2.component("digitlab_cookie", html="<span hidden></span>", js=_COOKIE_JS)
    cookie(key="student-cookie", data={"name": COOKIE, "token": _token(), "seconds": COOKIE_DAYS * 86400},
           height=0)


def _join() -> None:
    """The name form's callback: claim the typed name for this browser."""
    st.session_state.pop("name-error", None)
    try:
        st.session_state["student"] = classroom.claim(st.session_state.get("name-input", ""), _token())
    except (ValueError, classroom.NameTaken) as exc:
        st.session_state["name-error"] = str(exc)
    except jobs.QUEUE_ERRORS as exc:
        st.session_state["name-error"] = jobs.problem(exc)  # names are kept there


def _leave() -> None:
    name = st.session_state.pop("student", None)
    if name:
        try:
            classroom.release_name(name, _token())
        except jobs.QUEUE_ERRORS:
            pass
    st.session_state["student"] = None


def name_sidebar() -> None:
    """The sidebar's "Your name in the class": the name, or a short form to pick one."""
    name = student()
    box = st.sidebar.container()
    if name:
        if st.context.cookies.get(COOKIE) != _token():
            _write_cookie()
        left, right = box.columns([3, 2], vertical_alignment="center")
        left.markdown(f"You are **{name}** in this class.")
        right.button("Change", key="name-change", on_click=_leave, help="Pick another name (frees this one).")
        return
    with box.form("name-form", border=False):
        st.text_input("Your name in this class", key="name-input", max_chars=20, placeholder="e.g. Ada or Team 3",
                      help="A short name your teacher will know; no password and no personal details. This browser "
                           "keeps it, and your training jobs and leaderboard rows carry it.")
        st.form_submit_button("Join", on_click=_join)
    if st.session_state.get("name-error"):
        box.error(st.session_state["name-error"])


def teacher_grant() -> str | None:
    """This session's teacher grant (from the Teacher page's password), or None. Every
    teacher action checks it again on the server (``core.queue.classroom.require_teacher``)."""
    return st.session_state.get("teacher-grant")


def is_teacher() -> bool:
    """Whether this session holds a teacher's grant that the server accepts now
    (``core.queue.classroom.require_teacher``): what decides who sees every drawing."""
    try:
        classroom.require_teacher(teacher_grant())
        return True
    except (classroom.NotTeacher, *jobs.QUEUE_ERRORS):
        return False

