"""Lessons: the course's questions as short guided paths through the lab's pages.

A lesson is one YAML file a teacher writes in ``lessons/`` (``files``: read and checked
into frozen dataclasses, a broken file named with its line in one sentence); an answer is
judged by ``checks`` (a number within a tolerance, one of a few choices, or free text the
teacher reads) and kept per student in the class's database by ``progress``, which also
holds the teacher's assignments and the per-step counts the teacher sees.

Plain Python: no Streamlit, no TensorFlow.
"""
