"""``detect_anomaly``: stop at the first NaN or Inf and say which operation made it.

Inside the context every operation's output is checked as it is computed,
and every gradient as backward computes it. The error names the operation
and the line of *your* code that called it, which is where to start looking.
"""

from __future__ import annotations

import functools
import os
import sys

from dendrite.autograd.grad_mode import state
from dendrite.backend import xp

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared in an operation's output or gradient."""


def _user_frame() -> str:
    """The innermost stack frame outside the dendrite package, as 'file:line in function'."""
    import linecache

    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR):
            source = linecache.getline(filename, frame.f_lineno).strip()
            line = f"\n    {source}" if source else ""
            return f"{filename}:{frame.f_lineno} in {frame.f_code.co_name}{line}"
        frame = frame.f_back
    return "<unknown>"


def _bad(array) -> str | None:
    if not hasattr(array, "dtype") or array.dtype.kind != "f":
        return None
    if xp.isnan(array).any():
        return "NaN"
    if xp.isinf(array).any():
        return "Inf"
    return None


def check_forward(node, result) -> None:
    """Called by ``Function.apply`` in anomaly mode."""
    node.created_at = _user_frame()
    for array in result if isinstance(result, tuple) else (result,):
        kind = _bad(array)
        if kind:
            raise AnomalyError(
                f"detect_anomaly: {node.name} produced {kind} in its forward output.\n"
                f"  It was called from {node.created_at}"
            )


def check_backward(node, input_grads) -> None:
    """Called by the engine in anomaly mode after each node's backward."""
    for position, grad in enumerate(input_grads):
        kind = _bad(grad)
        if kind:
            where = node.created_at or "<unknown: the forward pass ran outside detect_anomaly>"
            raise AnomalyError(
                f"detect_anomaly: the backward of {node.name} returned {kind} in the gradient of "
                f"its input {position}.\n  The {node.name} was created at {where}"
            )


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly``."""
    return state.anomaly_enabled


def set_detect_anomaly(mode: bool) -> None:
    """Switch anomaly detection on or off for the rest of the program."""
    state.anomaly_enabled = bool(mode)


class detect_anomaly:
    """Context manager (or decorator): raise at the first NaN/Inf, naming the operation and your line.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([-1.0], requires_grad=True)
        >>> with dendrite.autograd.detect_anomaly():
        ...     y = x.log()  # doctest: +SKIP
        Traceback (most recent call last):
        AnomalyError: detect_anomaly: Log produced NaN in its forward output. ...
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._previous = state.anomaly_enabled
        state.anomaly_enabled = self.check_nan

    def __exit__(self, *exc_info) -> None:
        state.anomaly_enabled = self._previous

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return function(*args, **kwargs)

        return wrapper
