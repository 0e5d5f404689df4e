"""Sliding-window machinery shared by convolution, pooling, padding and upsampling.

Two kinds of helper live here:

* **Arguments.** ``as_tuple`` turns ``kernel_size=3`` or ``(3, 2)`` into one int per spatial
  axis, ``check_at_least`` rejects negative sizes, ``format_shape`` prints shapes for error
  messages, and ``owned_array`` hands a gradient back in the input's shape without a second copy.
* **1-D window passes.** A ``k``-wide window along one axis is a loop over the ``k`` kernel
  offsets, each a vectorised strided slice (``window_slice``): ``max_along`` and ``sum_along``
  reduce over the window, ``spread_along`` is their adjoint (the backward pass). A 2-D window is
  one pass along W and one along H (see :mod:`dendrite.nn.functional.pooling`).
"""

from __future__ import annotations

import numbers

from dendrite import backend
from dendrite.backend import xp

__all__ = ["is_int", "as_tuple", "check_at_least", "format_shape", "owned_array",
           "window_slice", "max_along", "sum_along", "spread_along"]


# ----------------------------------------------------------------------------- arguments
def is_int(value) -> bool:
    """True for a Python or NumPy integer (``bool`` excluded)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def as_tuple(value, count: int, what: str, op: str) -> tuple:
    """An int, or a sequence of ``count`` ints, as a tuple: ``as_tuple(2, 2, ...) == (2, 2)``."""
    if isinstance(value, (list, tuple)):
        value = tuple(value) * count if len(value) == 1 else tuple(value)
        if len(value) == count and all(is_int(v) for v in value):
            return tuple(int(v) for v in value)
    elif is_int(value):
        return (int(value),) * count
    raise TypeError(f"{op}: {what} must be an int or a tuple of {count} ints, got {value!r}")


def check_at_least(values: tuple, minimum: int, what: str, op: str) -> tuple:
    """``values`` unchanged, or a ``ValueError`` naming ``op`` and ``what`` if one is below ``minimum``."""
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: {what} must be {'positive' if minimum else 'non-negative'}, got {values}")
    return values


def format_shape(shape) -> str:
    """``(2, 3)`` for error messages (a 1-tuple prints as ``(2)``, no trailing comma)."""
    return "(" + ", ".join(str(s) for s in shape) + ")"


def owned_array(array, shape):
    """``array``'s values in ``shape``, as an array that owns its memory (one copy at most).

    Gradients returned as views would be copied again by the engine before they become a
    leaf's ``.grad``; copying once here, into the final shape, saves that pass.
    """
    if array.shape == tuple(shape) and array.flags.owndata and array.flags.c_contiguous:
        return array
    out = backend.namespace(array).empty(shape, dtype=array.dtype)
    out.reshape(array.shape)[...] = array
    return out


# ----------------------------------------------------------------------------- 1-D passes
def window_slice(axis: int, start: int, step: int, count: int) -> tuple:
    """Index selecting ``count`` positions ``start, start + step, ...`` along ``axis``."""
    return (slice(None),) * axis + (slice(start, start + step * (count - 1) + 1, step),)


def max_along(a, axis: int, kernel: int, stride: int, dilation: int, count: int, want_arg: bool):
    """Running maximum over the kernel offsets along ``axis``: (values, winning offset or None)."""
    best, arg = a[window_slice(axis, 0, stride, count)], None
    arg_dtype = xp.dtype(xp.uint8 if kernel < 256 else xp.int32)
    for q in range(1, kernel):
        candidate = a[window_slice(axis, q * dilation, stride, count)]
        if want_arg:
            # Strictly greater: an earlier maximum keeps the win (PyTorch's rule for ties). q
            # exceeds every earlier offset, so a running max records the newest winner; this is
            # 100x faster than copyto(..., where=).
            wins = (candidate > best).view(xp.uint8)
            wins = wins * arg_dtype.type(q) if q > 1 or arg_dtype != xp.uint8 else wins
            arg = wins if arg is None else xp.maximum(arg, wins, out=arg)
        best = xp.maximum(best, candidate) if q == 1 else xp.maximum(best, candidate, out=best)
    if want_arg and arg is None:
        arg = backend.namespace(best).zeros(best.shape, arg_dtype)
    return best, arg


def sum_along(a, axis: int, kernel: int, stride: int, dilation: int, count: int):
    """Sum over the kernel offsets along ``axis``: ``count`` window sums."""
    total = a[window_slice(axis, 0, stride, count)]
    for q in range(1, kernel):
        candidate = a[window_slice(axis, q * dilation, stride, count)]
        total = total + candidate if q == 1 else xp.add(total, candidate, out=total)
    return total


def spread_along(grad, arg, axis: int, kernel: int, stride: int, dilation: int, size: int):
    """Adjoint of the passes above: send ``grad`` back to the window offsets along ``axis``.

    With ``arg`` (max pooling) only the winning offset receives it; without (average) all do.
    """
    shape = list(grad.shape)
    count, shape[axis] = shape[axis], size
    if kernel == 1 and stride == 1 and size == count:
        return grad
    tiling = dilation == 1 and stride == kernel and size == kernel * count  # each position once
    out = backend.namespace(grad).empty(
        shape, grad.dtype) if tiling else backend.namespace(grad).zeros(shape, grad.dtype)
    for q in range(kernel):
        target = out[window_slice(axis, q * dilation, stride, count)]
        if arg is None and tiling:
            target[...] = grad
        elif arg is None:
            target += grad
        elif tiling:
            xp.multiply(grad, arg == q, out=target)
        else:
            target += grad * (arg == q)
    return out
