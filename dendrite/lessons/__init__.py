"""Runnable lessons: the guide's path as Jupyter notebooks with checked exercises.

``LESSONS`` lists them in order; ``lesson(ref)`` finds one by number or slug; each notebook's exercises
are checked by :mod:`dendrite.lessons.exercises`; :func:`dendrite.lessons.execute.run_notebook` runs one
headless (extra ``dendrite[lessons]``). From the command line: ``dendrite lessons`` (list),
``dendrite lessons open N``, ``dendrite lessons export N DIR``, ``dendrite lessons run N``.
"""

from dendrite.lessons.catalog import LESSONS, NOTEBOOKS, Lesson, lesson
from dendrite.lessons.verdict import Verdict

__all__ = ["LESSONS", "NOTEBOOKS", "Lesson", "Verdict", "lesson"]
