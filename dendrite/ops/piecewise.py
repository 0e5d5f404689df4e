"""Piecewise functions: kinks (abs, relu, clamp); selections and rounding in files of their own.

Their derivatives are indicator functions, and the value *at* the kink is a
convention. dendrite follows PyTorch's everywhere, so gradients agree exactly:

    d |x|          = sign(x)                    (0 at x = 0)
    d relu(x)      = [x > 0]                    (0 at x = 0)
    d clamp(x)     = [min <= x <= max]          (passes at the boundaries)
    d maximum(a,b) = [a > b] + 0.5 [a == b]     (ties share the gradient)
    d where(c,a,b) = [c] for a, [not c] for b
    d floor(x), round, ceil, trunc, sign = 0;   d frac(x) = 1

Files: this one holds the kinks (abs, relu, clamp, clip, clamp_min, clamp_max), and re-exports the
others: :mod:`dendrite.ops.piecewise_select` (maximum, minimum, where, masked_fill) and
:mod:`dendrite.ops.piecewise_rounding` (floor, ceil, trunc, round, sign, sgn, frac).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import ndarray, xp
from dendrite.ops.boundary import input_kinds
from dendrite.ops.graph_operands import constant, sum_to
from dendrite.ops.operands import array_or_value, check_broadcast, operands, shape_of, unbroadcast

# Rounding and selections live in files of their own; importable from here.
from dendrite.ops.piecewise_rounding import (  # noqa: F401
    Ceil,
    Floor,
    Frac,
    Round,
    Sign,
    Trunc,
    _Rounding,
    _rounding,
    _sign,
    ceil,
    floor,
    frac,
    round,
    sgn,
    sign,
    trunc,
)
from dendrite.ops.piecewise_select import (  # noqa: F401
    Maximum,
    Minimum,
    Where,
    _scalar_tensor,
    _select_backward,
    _select_backward_graph,
    masked_fill,
    maximum,
    minimum,
    where,
)

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


class Abs(Function):
    """``|x|``; backward: ``g * sign(x)``."""
    def forward(self, x):
        self.x = x
        return xp.abs(x)

    def backward(self, grad):
        return grad * xp.sign(self.x)

    def backward_graph(self, grad):
        return grad * constant(_sign(self.x), grad)  # sign(x) is constant almost everywhere


class ReLU(Function):
    """``max(x, 0)``; backward: ``g * [x > 0]``."""
    keeps_inputs = False  # backward reads the saved result only
    replayable = True  # dendrite.compile may replay it (autograd/function.py)

    def forward(self, x):
        self.result = _maximum_zero(x)  # keeps NaN (x * mask would turn -inf into NaN)
        return self.result

    def backward(self, grad):
        # g * [x > 0]: result > 0 exactly where x > 0 (PyTorch uses the result too)
        result = self.result
        zero = _zero_of(result)
        if zero is None or type(grad) is not ndarray:
            return grad * (result > 0)
        # The mask cast to floats first: NumPy's bool-to-float cast inside the product is the slower
        # loop (True/False become 1/0 either way: the same bits).
        return grad * (result > zero).astype(grad.dtype)

    def backward_graph(self, grad):
        return grad * constant(self.result > 0, grad)


# NumPy's maximum against a scalar takes a slow loop (several times slower than against an array);
# against a row of zeros broadcast over rows of the same length it takes the fast one: same values.
_ZERO_ROW = 1024
_zero_rows: dict = {}
_zeros: dict = {}  # dtype -> a 0-d zero of it


def _zero_of(x):
    """A 0-d NumPy zero of ``x``'s floating dtype (None for another array or dtype).

    Against it NumPy's ``maximum`` and comparisons take a faster loop than against the Python ``0``
    (which they first convert): the same values.
    """
    if type(x) is not ndarray or x.dtype.kind != "f":
        return None
    zero = _zeros.get(x.dtype)
    if zero is None:
        zero = _zeros[x.dtype] = xp.zeros((), x.dtype)
        zero.flags.writeable = False
    return zero


def _maximum_zero(x):
    """``max(x, 0)`` element-wise, of ``x``'s dtype (a new array)."""
    # a NumPy-only trick: a device array (CuPy) takes its own maximum against the scalar
    if x.size < 2 * _ZERO_ROW or x.dtype.kind != "f" or backend.on_device(x) or not x.flags.c_contiguous:
        zero = _zero_of(x)
        return xp.maximum(x, 0 if zero is None else zero)
    zeros = _zero_rows.get(x.dtype)
    if zeros is None:
        zeros = _zero_rows[x.dtype] = xp.zeros(_ZERO_ROW, x.dtype)
    result = xp.empty_like(x)
    flat, out = x.reshape(-1), result.reshape(-1)
    rows = x.size // _ZERO_ROW
    whole = rows * _ZERO_ROW
    xp.maximum(flat[:whole].reshape(rows, _ZERO_ROW), zeros, out=out[:whole].reshape(rows, _ZERO_ROW))
    if whole < x.size:
        xp.maximum(flat[whole:], 0, out=out[whole:])
    return result


class Clamp(Function):
    """``min(max(x, low), high)``; ``low``/``high`` are arrays, numbers or None."""

    def forward(self, x, low, high):
        self.x, self.low, self.high = x, low, high
        result = x
        if low is not None:
            result = xp.maximum(result, low)
        if high is not None:
            result = xp.minimum(result, high)
        return backend.asarray(result, dtype=x.dtype)  # NumPy may widen for a number bound

    def backward(self, grad):
        # PyTorch's clamp_backward_min_max, condition for condition.
        x, low, high = self.x, self.low, self.high
        zero = backend.namespace(grad).zeros((), grad.dtype)
        needs = self.needs_input_grad
        grad_x = grad_low = grad_high = None
        if needs[0]:
            keep = True
            if low is not None:
                keep = x >= low
            if high is not None:
                keep = keep & (x <= high)
            grad_x = unbroadcast(xp.where(keep, grad, zero), x.shape)
        if needs[1]:
            below = x < low if high is None else (x < low) & (low < high)
            grad_low = unbroadcast(xp.where(below, grad, zero), shape_of(low))
        if needs[2]:
            above = x > high if low is None else (x > high) | (high < low)
            grad_high = unbroadcast(xp.where(above, grad, zero), shape_of(high))
        return grad_x, grad_low, grad_high

    def backward_graph(self, grad):
        # The masks of backward are constant: each input gets the gradient where it decides the output.
        x, low, high = self.x, self.low, self.high
        zero = constant(xp.zeros(()), grad)
        needs = self.needs_input_grad
        grad_x = grad_low = grad_high = None
        if needs[0]:
            keep = backend.namespace(x).ones(x.shape, bool)
            if low is not None:
                keep = keep & (x >= low)
            if high is not None:
                keep = keep & (x <= high)
            grad_x = sum_to(Where.apply(keep, grad, zero), x.shape)
        if needs[1]:
            below = x < low if high is None else (x < low) & (low < high)
            grad_low = sum_to(Where.apply(below, grad, zero), shape_of(low))
        if needs[2]:
            above = x > high if low is None else (x > high) | (high < low)
            grad_high = sum_to(Where.apply(above, grad, zero), shape_of(high))
        return grad_x, grad_low, grad_high


@input_kinds("iuf")
def abs(input: Tensor) -> Tensor:
    """``|input|`` element-wise; its gradient ``sign(input)`` is 0 at 0.

    Shapes: same as ``input`` (and dtype).

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([-2.0, 0.0, 3.0], requires_grad=True)
        >>> x.abs().sum().backward(); x.grad
        tensor([-1.,  0.,  1.])
    """
    return Abs.apply(input)


@input_kinds("iuf")
def relu(input: Tensor) -> Tensor:
    """``max(input, 0)`` element-wise; its gradient ``[input > 0]`` is 0 at 0.

    Shapes: same as ``input`` (and dtype).

    Example:
        >>> import dendrite
        >>> dendrite.relu(dendrite.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """
    return ReLU.apply(input)


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    """Limit values to ``[min, max]`` (numbers or tensors; either may be omitted). Alias: ``clip``.

    Shapes: tensor bounds broadcast with ``input``. The gradient passes where
    ``min <= input <= max``, boundaries included: ``x.clamp(min=0)`` is relu with gradient 1 at 0.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([-2.0, 0.0, 0.5, 3.0], requires_grad=True)
        >>> y = x.clamp(0, 1); y
        tensor([0.0000, 0.0000, 0.5000, 1.0000], grad_fn=<ClampBackward>)
        >>> y.sum().backward(); x.grad
        tensor([0., 1., 1., 0.])
    """
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    # Promote like PyTorch: an integer tensor clamped to float bounds becomes a float tensor.
    if min is not None:
        input, min = operands(input, min)
    if max is not None:
        input, max = operands(input, max)
    try:
        return Clamp.apply(input, min, max)
    except ValueError:
        for bound in (min, max):
            check_broadcast("clamp", input._data, array_or_value(bound))
        raise


clip = clamp


def clamp_min(input: Tensor, min) -> Tensor:
    """``clamp(input, min=min)``: ``max(input, min)``.

    Example:
        >>> import dendrite
        >>> dendrite.clamp_min(dendrite.tensor([-1, 2]), 0)
        tensor([0, 2])
    """
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:
    """``clamp(input, max=max)``: ``min(input, max)``.

    Example:
        >>> import dendrite
        >>> dendrite.clamp_max(dendrite.tensor([-1, 2]), 0)
        tensor([-1,  0])
    """
    return clamp(input, max=max)
