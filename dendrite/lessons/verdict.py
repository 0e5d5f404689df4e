"""What a lesson's exercise checker says: correct, wrong (with a hint) or not answered yet.

Every exercise in ``lessons/`` ends with a checker call, ``check.something(answer)``, whose
:class:`Verdict` shows in the notebook as a coloured box. A checker is a plain function decorated
with :func:`exercise`, which does the plumbing the same way for every lesson:

- the placeholder the notebook ships with (``...`` or ``None``) is *unanswered*, not wrong;
- a function the learner wrote is wrapped, so that a body still reading ``...`` (it returns
  ``None``/``Ellipsis``) is *unanswered*, and an exception raised by the learner's code is a *wrong*
  verdict that names it (the checker's own bugs still raise: they are ours, not the learner's).

Every verdict shown in this Python process is kept in :data:`RECORD`; :func:`summary` counts them.
"""

from __future__ import annotations

import functools
import html
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["MIME_TYPE", "RECORD", "Verdict", "correct", "exercise", "summary", "unanswered", "wrong"]

Status = Literal["correct", "wrong", "unanswered"]

# the output the tests read: one JSON object per verdict shown in a notebook cell
MIME_TYPE = "application/vnd.dendrite.verdict+json"

RECORD: list[Verdict] = []

_MARKS = {"correct": "✓ Correct", "wrong": "✗ Not yet", "unanswered": "… Not answered yet"}
_COLOURS = {"correct": ("#e7f6ea", "#1b7a34"), "wrong": ("#fdecea", "#b3261e"),
            "unanswered": ("#f1f3f4", "#5f6368")}


@dataclass(frozen=True)
class Verdict:
    """One checker's answer about one exercise.

    Attributes:
        status: ``"correct"``, ``"wrong"`` or ``"unanswered"``.
        message: what was right, or what is wrong and a hint (never the answer itself).
        exercise: the exercise's title, e.g. ``"Lesson 3, exercise 1: the derivative of tanh"``.

    Example:
        >>> Verdict("wrong", "the shape is (3,); expected (3, 1)", "Lesson 2, exercise 1")
        ✗ Not yet — Lesson 2, exercise 1: the shape is (3,); expected (3, 1)
        >>> Verdict("correct", "well done", "Ex 1").passed
        True
    """

    status: Status
    message: str
    exercise: str = ""

    def __post_init__(self) -> None:
        if self.status not in _MARKS:
            raise ValueError(f"Verdict status {self.status!r}; expected one of {', '.join(_MARKS)}")

    @property
    def passed(self) -> bool:
        """True when the answer is correct."""
        return self.status == "correct"

    def __repr__(self) -> str:
        title = f" — {self.exercise}" if self.exercise else ""
        return f"{_MARKS[self.status]}{title}: {self.message}"

    def _repr_html_(self) -> str:
        background, ink = _COLOURS[self.status]
        title = f" — {html.escape(self.exercise)}" if self.exercise else ""
        return (f'<div style="background:{background};border-left:4px solid {ink};padding:6px 10px;'
                f'margin:4px 0"><b style="color:{ink}">{_MARKS[self.status]}</b>{title}<br>'
                f"{html.escape(self.message)}</div>")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        # Jupyter shows text/html; the lesson tests read the JSON.
        return {"text/plain": repr(self), "text/html": self._repr_html_(),
                MIME_TYPE: {"status": self.status, "exercise": self.exercise, "message": self.message}}


def correct(message: str) -> Verdict:
    """A correct verdict; ``message`` says what the right answer means.

    Example:
        >>> correct("tanh' = 1 - tanh^2").status
        'correct'
    """
    return Verdict("correct", message)


def wrong(message: str) -> Verdict:
    """A wrong verdict; ``message`` names what is wrong and gives a hint, not the answer.

    Example:
        >>> wrong("expected 10 outputs, got 9").status
        'wrong'
    """
    return Verdict("wrong", message)


def unanswered(message: str = "replace the ... with your answer, then run the cell again") -> Verdict:
    """The verdict for an answer still reading ``...``.

    Example:
        >>> unanswered().status
        'unanswered'
    """
    return Verdict("unanswered", message)


class _Unanswered(Exception):
    """The learner's function still returns the placeholder."""


# Code under these folders is the library's or Python's; any other frame is the learner's (a notebook
# cell, a script, a test). An exception that passed through the learner's code is theirs to see.
_LIBRARY_FOLDERS = tuple({str(Path(__file__).resolve().parents[1]), *map(str, {
    Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.exec_prefix).resolve()})})


def _learner_frame(error: BaseException, checker: Callable) -> traceback.FrameSummary | None:
    """The innermost frame of ``error``'s traceback that runs the learner's code, if any.

    Not the learner's: the library, Python and its packages, and the checker's own body.
    """
    found = None
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        filename = code.co_filename
        python_internal = filename.startswith("<") and not filename.startswith("<doctest")
        if not (code is checker.__code__ or python_internal
                or str(Path(filename).resolve()).startswith(_LIBRARY_FOLDERS)):
            found = traceback.FrameSummary(filename, tb.tb_lineno, code.co_name)
        tb = tb.tb_next
    return found


def _is_placeholder(value: Any, none_is_answer: bool) -> bool:
    return value is Ellipsis or (value is None and not none_is_answer)


def _guarded(function: Callable, none_is_answer: bool) -> Callable:
    """The learner's ``function``, reporting a placeholder return to :func:`exercise`."""

    @functools.wraps(function)
    def call(*args, **kwargs):
        result = function(*args, **kwargs)
        if _is_placeholder(result, none_is_answer):
            raise _Unanswered
        return result

    return call


def exercise(title: str, *, none_is_answer: bool = False) -> Callable[[Callable[..., Verdict]], Callable]:
    """Make ``checker(answer, ...) -> Verdict`` an exercise checker titled ``title``.

    The returned function takes the same arguments. An ``answer`` that is ``...`` or ``None`` is
    unanswered; a callable ``answer`` is wrapped so that a placeholder return is unanswered and an
    exception in it is a wrong verdict naming the exception. ``none_is_answer=True`` treats ``None``
    (returned or given) as a real answer. Every verdict is appended to :data:`RECORD`.

    Example:
        >>> @exercise("Example: the square")
        ... def square(answer):
        ...     return correct("4 is 2 squared") if answer(2) == 4 else wrong("square 2 again")
        >>> square(lambda x: x * x)
        ✓ Correct — Example: the square: 4 is 2 squared
        >>> square(lambda x: ...).status, square(...).status
        ('unanswered', 'unanswered')
        >>> print(square(lambda x: 1 / 0).message)
        your code raised ZeroDivisionError: division by zero (in <lambda>, line 1)
    """

    def decorate(checker: Callable[..., Verdict]) -> Callable:
        @functools.wraps(checker)
        def check(answer: Any = ..., *args, **kwargs) -> Verdict:
            if _is_placeholder(answer, none_is_answer):
                verdict = unanswered()
            else:
                if callable(answer) and not isinstance(answer, type):
                    answer = _guarded(answer, none_is_answer)
                try:
                    verdict = checker(answer, *args, **kwargs)
                except _Unanswered:
                    verdict = unanswered("your function still returns ...: write its body, "
                                         "then run the cell again")
                except Exception as error:
                    frame = _learner_frame(error, checker)
                    if frame is None:
                        raise  # the checker's own bug
                    verdict = wrong(f"your code raised {type(error).__name__}: {error} "
                                    f"(in {frame.name}, line {frame.lineno})")
                if not isinstance(verdict, Verdict):
                    raise TypeError(f"checker {checker.__name__} returned {type(verdict).__name__}; "
                                    "expected a Verdict (use correct(...) or wrong(...))")
            verdict = Verdict(verdict.status, verdict.message, title)
            RECORD.append(verdict)
            return verdict

        check.title = title
        return check

    return decorate


def summary() -> dict[str, int]:
    """How many verdicts of each status this process has shown.

    Example:
        >>> sorted(summary())
        ['correct', 'unanswered', 'wrong']
    """
    counts = {"correct": 0, "wrong": 0, "unanswered": 0}
    for verdict in RECORD:
        counts[verdict.status] += 1
    return counts
