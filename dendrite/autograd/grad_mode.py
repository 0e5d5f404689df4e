"""Switches that decide whether operations record a graph.

``no_grad`` / ``enable_grad`` / ``set_grad_enabled`` / ``inference_mode`` work
as context managers and as decorators, exactly as in PyTorch (``@no_grad`` and
``@no_grad()`` both work).
"""

from __future__ import annotations

import functools


class _State:
    """Module-level switches read on every operation (one attribute lookup)."""

    grad_enabled = True
    anomaly_enabled = False


state = _State()


def is_grad_enabled() -> bool:
    """True when operations record the graph for backward.

    Example:
        >>> import dendrite
        >>> with dendrite.no_grad():
        ...     dendrite.is_grad_enabled()
        False
    """
    return state.grad_enabled


class _GradModeContext:
    """Base for the grad-mode switches: a context manager and a decorator."""

    _mode = True

    def __new__(cls, function=None):
        # ``@no_grad`` without parentheses hands the function straight to the class.
        if callable(function):
            return cls()(function)
        return super().__new__(cls)

    def __init__(self, function=None) -> None:
        self._previous = []  # a stack: the same object may be entered again while active

    def __enter__(self) -> None:
        self._previous.append(state.grad_enabled)
        state.grad_enabled = self._mode

    def __exit__(self, *exc_info) -> None:
        state.grad_enabled = self._previous.pop()

    def clone(self):
        return self.__class__()

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.clone():
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
    """Record operations again inside a ``no_grad`` block.

    Example:
        >>> import dendrite
        >>> w = dendrite.ones(2, requires_grad=True)
        >>> with dendrite.no_grad(), dendrite.enable_grad():
        ...     y = w * 2
        >>> y.requires_grad
        True
    """

    _mode = True


class inference_mode(_GradModeContext):
    """``inference_mode()`` / ``inference_mode(False)``: like ``no_grad`` (PyTorch's name).

    Example:
        >>> import dendrite
        >>> with dendrite.inference_mode():
        ...     y = dendrite.ones(2, requires_grad=True) * 2
        >>> y.requires_grad
        False
    """

    def __new__(cls, mode=True):
        if callable(mode):
            return cls()(mode)
        return object.__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        super().__init__()
        self._mode = not mode

    def clone(self):
        """A fresh switch with the same mode (each decorated call enters its own).

        Example:
            >>> import dendrite
            >>> dendrite.inference_mode().clone()._mode
            False
        """
        return self.__class__(not self._mode)


class set_grad_enabled(_GradModeContext):
    """Turn recording on or off; usable as a call, a context manager or a decorator.

    ``set_grad_enabled(False)`` takes effect at once (as a plain call); used in
    a ``with`` block the previous mode comes back at the end of the block.

    Example:
        >>> import dendrite
        >>> with dendrite.set_grad_enabled(False):
        ...     dendrite.is_grad_enabled()
        False
    """

    def __new__(cls, mode: bool):
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._previous = [state.grad_enabled]
        state.grad_enabled = self._mode

    def __enter__(self) -> None:
        pass  # the switch already happened in __init__; __exit__ restores what was there before

    def clone(self):
        """A fresh switch with the same mode (the call switches grad mode, as ``set_grad_enabled`` does).

        Example:
            >>> import dendrite
            >>> with dendrite.set_grad_enabled(True).clone():
            ...     dendrite.is_grad_enabled()
            True
        """
        return self.__class__(self._mode)

    def __call__(self, function):
        # Used as a decorator: undo the immediate switch made by __init__.
        state.grad_enabled = self._previous[-1]
        mode = self._mode

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return function(*args, **kwargs)

        return wrapper
