"""``detect_anomaly``: stop at the first NaN or Inf and say which operation made it.

Inside the context every operation's output is checked as it is computed,
and every gradient as backward computes it. The error names the operation
and the line of *your* code that called it, which is where to start looking.
"""

from __future__ import annotations

import os
import traceback

from dendrite.autograd.grad_mode import state
from dendrite.backend import xp

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared in an operation's output or gradient."""


def _user_frame() -> str:
    """The innermost stack frame outside the dendrite package, as 'file:line in function'."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR + os.sep):
            line = f"\n    {frame.line}" if frame.line else ""
            return f"{frame.filename}:{frame.lineno} in {frame.name}{line}"
    return "<unknown>"


def _bad(array) -> str | None:
    if not isinstance(array, xp.ndarray) or array.dtype.kind != "f":
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
            raise AnomalyError(
                f"detect_anomaly: the backward of {node.name} returned {kind} in the gradient of "
                f"its input {position}.\n  The {node.name} was created at {node.created_at}"
            )


class detect_anomaly:
    """Context manager: raise at the first NaN/Inf, naming the operation and your source line.

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
