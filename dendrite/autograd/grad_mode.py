"""Switches that decide whether operations record a graph.

``no_grad`` / ``enable_grad`` / ``set_grad_enabled`` work as context managers
and as decorators, exactly as in PyTorch.
"""

from __future__ import annotations

import functools


class _State:
    """Module-level switches read on every operation (one attribute lookup)."""

    grad_enabled = True
    anomaly_enabled = False


state = _State()


def is_grad_enabled() -> bool:
    """True when operations record the graph for backward."""
    return state.grad_enabled


class _GradModeContext:
    """Base for the grad-mode switches: a context manager and a decorator."""

    _mode = True

    def __enter__(self) -> None:
        self._previous = state.grad_enabled
        state.grad_enabled = self._mode

    def __exit__(self, *exc_info) -> None:
        state.grad_enabled = self._previous

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return function(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Do not record operations (inference, optimizer steps).

    Example:
        >>> import dendrite
        >>> w = dendrite.ones(2, requires_grad=True)
        >>> with dendrite.no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """

    _mode = False


class enable_grad(_GradModeContext):
    """Record operations again inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Turn recording on or off; usable as a call, a context manager or a decorator.

    Example:
        >>> import dendrite
        >>> with dendrite.set_grad_enabled(False):
        ...     pass
    """

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._previous = state.grad_enabled
        state.grad_enabled = self._mode

    def __enter__(self) -> None:
        pass

    def __call__(self, function):
        state.grad_enabled = self._previous
        mode = self._mode

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return function(*args, **kwargs)

        return wrapper
