"""``detect_anomaly``: stop at the first NaN or Inf and say which operation made it.

Inside the context every operation's output is checked as it is computed,
and every gradient as backward computes it. The error names the operation
and the line of *your* code that called it, which is where to start looking.
Because every output is checked, the first operation to produce a NaN/Inf is
its *origin*: ``AnomalyError.origin`` (:class:`AnomalyOrigin`) says what kind
of accident it was (log of 0, exp overflow, 0/0, NaN already in the data...)
and how to fix it; the message ends with both.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys

from dendrite.autograd.anomaly_origin import AnomalyOrigin, classify_backward, classify_forward
from dendrite.autograd.grad_mode import state
from dendrite.backend import xp
from dendrite.tensor_base import TensorBase

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared in an operation's output or gradient.

    ``origin`` (an :class:`AnomalyOrigin`, or ``None``) names the operation, the
    kind of accident, your line, the evidence and the fix.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([0.0, 1.0])
        >>> try:
        ...     with dendrite.autograd.detect_anomaly():
        ...         y = x.log()
        ... except AnomalyError as error:
        ...     print(error.origin.op, error.origin.kind)
        Log log-of-zero
    """

    def __init__(self, message: str, origin: AnomalyOrigin | None = None) -> None:
        super().__init__(message)
        self.origin = origin


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


def user_frame() -> str:
    """The caller's innermost line outside dendrite, as ``'file:line in function'`` plus the source line.

    Example:
        >>> user_frame().startswith("<doctest")
        True
    """
    return _user_frame()


def _bad(array) -> str | None:
    if not hasattr(array, "dtype") or array.dtype.kind != "f":
        return None
    if xp.isnan(array).any():
        return "NaN"
    if xp.isinf(array).any():
        return "Inf"
    return None


def _source(item) -> str:
    """Where an input came from, for :mod:`anomaly_origin`: data, parameter, constant or an op's name."""
    if not isinstance(item, TensorBase):
        return "constant"
    node = item._ctx
    if node is None:
        return "parameter" if item.requires_grad else "data"
    return node.name


def _explained(message: str, origin: AnomalyOrigin) -> str:
    return f"{message}\n  Origin: {origin.title}. {origin.detail}\n  Fix: {origin.fix}"


def check_forward(node, result, inputs: tuple = ()) -> None:
    """Called by ``Function.apply`` in anomaly mode with the operation's positional ``inputs``.

    Records the user's line on ``node.created_at``; raises :class:`AnomalyError` (with its
    origin) when an output array holds NaN or Inf. Shapes: any arrays.

    Example:
        >>> import numpy as np
        >>> class Node: name = "Exp"
        >>> check_forward(Node(), np.array([1.0]), (np.array([0.0]),))  # finite: nothing happens
    """
    node.created_at = _user_frame()
    outputs = result if isinstance(result, tuple) else (result,)
    for array in outputs:
        kind = _bad(array)
        if kind:
            arrays = [item._data if isinstance(item, TensorBase) else item for item in inputs]
            origin = classify_forward(node.name, arrays, outputs, [_source(item) for item in inputs])
            origin = dataclasses.replace(origin, where=node.created_at)
            message = (f"detect_anomaly: {node.name} produced {kind} in its forward output.\n"
                       f"  It was called from {node.created_at}")
            raise AnomalyError(_explained(message, origin), origin)


def check_backward(node, input_grads, grad_outputs=()) -> None:
    """Called by the engine in anomaly mode after each node's backward (``grad_outputs``: what it got).

    Raises :class:`AnomalyError` when a gradient it returned holds NaN or Inf.
    Shapes: one gradient array per input of the node (``None`` for no gradient).

    Example:
        >>> import numpy as np
        >>> class Node: name, created_at = "Mul", "here"
        >>> check_backward(Node(), (np.array([2.0]), None))  # finite: nothing happens
    """
    for position, grad in enumerate(input_grads):
        kind = _bad(grad)
        if kind:
            where = node.created_at or "<unknown: the forward pass ran outside detect_anomaly>"
            inputs = node.inputs
            arrays = [item._data if isinstance(item, TensorBase) else item for item in inputs]
            grad_outputs = grad_outputs if isinstance(grad_outputs, (tuple, list)) else (grad_outputs,)
            origin = classify_backward(node.name, grad_outputs, arrays, input_grads,
                                       [_source(item) for item in inputs])
            origin = dataclasses.replace(origin, where=where)
            message = (f"detect_anomaly: the backward of {node.name} returned {kind} in the gradient of "
                       f"its input {position}.\n  The {node.name} was created at {where}")
            raise AnomalyError(_explained(message, origin), origin)


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly``.

    Example:
        >>> import dendrite
        >>> with dendrite.autograd.detect_anomaly():
        ...     print(is_anomaly_enabled())
        True
    """
    return state.anomaly_enabled


def set_detect_anomaly(mode: bool) -> None:
    """Switch anomaly detection on or off for the rest of the program.

    Example:
        >>> set_detect_anomaly(True); is_anomaly_enabled()
        True
        >>> set_detect_anomaly(False)
    """
    state.anomaly_enabled = bool(mode)


class detect_anomaly:
    """Context manager (or decorator): raise at the first NaN/Inf, naming the operation and your line.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([-1.0], requires_grad=True)
        >>> with dendrite.autograd.detect_anomaly():
        ...     y = x.log()
        Traceback (most recent call last):
        ...
        dendrite.autograd.anomaly.AnomalyError: detect_anomaly: Log produced NaN in its forward output...
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
