"""Piecewise functions: kinks, selections and rounding.

Their derivatives are indicator functions, and the value *at* the kink is a
convention. dendrite follows PyTorch's everywhere, so gradients agree exactly:

    d |x|          = sign(x)                    (0 at x = 0)
    d relu(x)      = [x > 0]                    (0 at x = 0)
    d clamp(x)     = [min <= x <= max]          (passes at the boundaries)
    d maximum(a,b) = [a > b] + 0.5 [a == b]     (ties share the gradient)
    d where(c,a,b) = [c] for a, [not c] for b
    d floor(x), round, ceil, trunc, sign = 0;   d frac(x) = 1
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import ndarray, xp
from dendrite.ops.boundary import input_kinds
from dendrite.ops.graph_operands import constant, sum_to
from dendrite.ops.operands import (
    apply_binary,
    array_or_value,
    cast,
    check_broadcast,
    operands,
    shape_of,
    to_float,
    unbroadcast,
)
from dendrite.tensor_base import TensorBase, wrap

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


class Maximum(Function):
    """``max(a, b)``; backward: the larger input takes ``g``, ties share it."""
    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.maximum(a, b)

    def backward(self, grad):
        return _select_backward(grad, self.a, self.b, xp.greater, self.needs_input_grad)

    def backward_graph(self, grad):
        return _select_backward_graph(grad, self, xp.greater)


class Minimum(Function):
    """``min(a, b)``; backward: the smaller input takes ``g``, ties share it."""
    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.minimum(a, b)

    def backward(self, grad):
        return _select_backward(grad, self.a, self.b, xp.less, self.needs_input_grad)

    def backward_graph(self, grad):
        return _select_backward_graph(grad, self, xp.less)


def _select_backward(grad, a, b, wins, needs):
    """Gradient of max/min of two inputs: the winner takes it, ties share it."""
    a_share = xp.where(wins(a, b), 1.0, xp.where(a == b, 0.5, 0.0)).astype(grad.dtype, copy=False)
    return (unbroadcast(grad * a_share, shape_of(a)) if needs[0] else None,
            unbroadcast(grad * (1 - a_share), shape_of(b)) if needs[1] else None)


def _select_backward_graph(grad, node, wins):
    """``_select_backward`` with tensors: the winner's share is a constant mask."""
    a, b = node.a, node.b
    a_share = constant(xp.where(wins(a, b), 1.0, xp.where(a == b, 0.5, 0.0)), grad)
    needs = node.needs_input_grad
    return (sum_to(grad * a_share, shape_of(a)) if needs[0] else None,
            sum_to(grad * (1 - a_share), shape_of(b)) if needs[1] else None)


class Where(Function):
    """``where(c, a, b)``; backward: ``g`` to ``a`` where ``c``, to ``b`` elsewhere."""
    def forward(self, condition, a, b):
        self.condition = condition
        self.shapes = (shape_of(a), shape_of(b))
        return xp.where(condition, a, b)

    def backward(self, grad):
        zero = backend.namespace(grad).zeros((), grad.dtype)
        needs = self.needs_input_grad
        return (
            None,
            unbroadcast(xp.where(self.condition, grad, zero), self.shapes[0]) if needs[1] else None,
            unbroadcast(xp.where(self.condition, zero, grad), self.shapes[1]) if needs[2] else None,
        )

    def backward_graph(self, grad):
        condition, a, b = self.inputs
        zero = constant(xp.zeros(()), grad)
        needs = self.needs_input_grad
        return (None,
                sum_to(Where.apply(condition, grad, zero), self.shapes[0]) if needs[1] else None,
                sum_to(Where.apply(condition, zero, grad), self.shapes[1]) if needs[2] else None)


class _Rounding(Function):
    """Piecewise-constant functions: zero gradient (PyTorch still returns one, of zeros)."""

    def forward(self, x):
        self.shape = x.shape
        return self.compute(x)

    def backward(self, grad):
        return backend.namespace(grad).zeros(self.shape, grad.dtype)

    def backward_graph(self, grad):
        return (constant(xp.zeros(self.shape), grad),) + (None,) * (len(self.inputs) - 1)  # round's decimals


class Floor(_Rounding):
    """``floor(x)``; backward: zeros."""
    compute = staticmethod(xp.floor)


class Ceil(_Rounding):
    """``ceil(x)``; backward: zeros."""
    compute = staticmethod(xp.ceil)


class Trunc(_Rounding):
    """``trunc(x)``; backward: zeros."""
    compute = staticmethod(xp.trunc)


def _sign(x):
    # PyTorch's sign is (0 < x) - (x < 0): sign(nan) = 0 (NumPy's is nan)
    result = xp.sign(x)
    if result.dtype.kind == "f":
        nan = xp.isnan(result)
        if nan.any():
            return xp.where(nan, 0, result).astype(result.dtype, copy=False)
    return result


class Sign(_Rounding):
    """``sign(x)`` (0 at NaN, as PyTorch); backward: zeros."""
    compute = staticmethod(_sign)


class Round(_Rounding):
    """``round(x, decimals)``, halves to even; backward: zeros."""
    def forward(self, x, decimals):
        self.shape = x.shape
        return xp.round(x, decimals)  # halves go to the even neighbour, as in PyTorch


class Frac(Function):
    """``x - trunc(x)``; backward: the gradient unchanged."""
    def forward(self, x):
        return x - xp.trunc(x)

    def backward(self, grad):
        return grad

    def backward_graph(self, grad):
        return grad


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


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Element-wise maximum; ties share the gradient (half each).

    Shapes: ``input`` and ``other`` broadcast.

    Example:
        >>> import dendrite
        >>> a = dendrite.tensor([1.0, 5.0, 2.0], requires_grad=True)
        >>> dendrite.maximum(a, dendrite.tensor([3.0, 4.0, 2.0])).sum().backward(); a.grad
        tensor([0.0000, 1.0000, 0.5000])
    """
    a, b = operands(input, other)
    return apply_binary(Maximum, "maximum", a, b)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Element-wise minimum; ties share the gradient (half each).

    Shapes: ``input`` and ``other`` broadcast.

    Example:
        >>> import dendrite
        >>> dendrite.minimum(dendrite.tensor([[1, 5]]), dendrite.tensor([[3], [0]]))
        tensor([[1, 3],
                [0, 0]])
    """
    a, b = operands(input, other)
    return apply_binary(Minimum, "minimum", a, b)


def _scalar_tensor(value) -> Tensor:
    if isinstance(value, bool):
        dtype = backend.bool_
    elif isinstance(value, numbers.Integral):
        dtype = backend.int64
    else:
        dtype = backend.get_default_dtype()
    return wrap(backend.asarray(value, dtype))


def where(condition, input, other) -> Tensor:
    """``input`` where ``condition`` is true, else ``other``: ``where(x > 0, x, 0.0)`` is relu.

    Shapes: ``condition`` (bool), ``input`` and ``other`` (tensors or numbers) broadcast together.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([-1.0, 2.0])
        >>> dendrite.where(x > 0, x, 0.0)
        tensor([0., 2.])
    """
    if not isinstance(input, TensorBase) and not isinstance(other, TensorBase):
        input = _scalar_tensor(input) if not backend.is_array(input) else wrap(input)
    a, b = operands(input, other)
    if not (isinstance(condition, TensorBase) or backend.is_array(condition)):  # no list, tuple, number
        raise TypeError(f"where: condition must be a bool tensor, got {type(condition).__name__}")
    condition = condition._data if isinstance(condition, TensorBase) else backend.asarray(condition)
    if condition.dtype.kind != "b":
        raise TypeError(f"where: condition must be a bool tensor, got dtype {condition.dtype}")
    try:
        xp.broadcast_shapes(condition.shape, shape_of(array_or_value(a)), shape_of(array_or_value(b)))
    except ValueError:
        raise RuntimeError(
            f"where: condition {condition.shape}, input {shape_of(array_or_value(a))} and other "
            f"{shape_of(array_or_value(b))} cannot be broadcast together"
        ) from None
    return Where.apply(condition, a, b)


def masked_fill(input: Tensor, mask, value) -> Tensor:
    """``input`` with ``value`` wherever ``mask`` is true (mask broadcasts to input's shape; dtype kept).

    Example:
        >>> import dendrite
        >>> scores = dendrite.zeros(2, 2)
        >>> scores.masked_fill(dendrite.ones(2, 2).triu(1).bool(), float("-inf"))  # a causal mask
        tensor([[0., -inf],
                [0., 0.]])
    """
    result = where(mask, value, input)
    if result._data.dtype != input._data.dtype:  # the fill value never changes the dtype
        result = cast(result, input._data.dtype)
    return result


def _rounding(function, input: Tensor, *args) -> Tensor:
    if input._data.dtype.kind != "f":
        return wrap(input._data.copy())  # integers are already whole
    return function.apply(input, *args)


@input_kinds("iuf")
def floor(input: Tensor) -> Tensor:
    """Largest whole number <= input (zero gradient; integer tensors are returned as a copy).

    Shapes: same as ``input`` (and dtype).

    Example:
        >>> import dendrite
        >>> dendrite.floor(dendrite.tensor([-1.5, 1.5]))
        tensor([-2.,  1.])
    """
    return _rounding(Floor, input)


@input_kinds("iuf")
def ceil(input: Tensor) -> Tensor:
    """Smallest whole number >= input (zero gradient).

    Shapes: same as ``input`` (and dtype).

    Example:
        >>> import dendrite
        >>> dendrite.ceil(dendrite.tensor([-1.5, 1.5]))
        tensor([-1.,  2.])
    """
    return _rounding(Ceil, input)


@input_kinds("iuf")
def trunc(input: Tensor) -> Tensor:
    """Round towards zero (zero gradient).

    Shapes: same as ``input`` (and dtype).

    Example:
        >>> import dendrite
        >>> dendrite.trunc(dendrite.tensor([-1.5, 1.5]))
        tensor([-1.,  1.])
    """
    return _rounding(Trunc, input)


@input_kinds("iuf")
def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Round to ``decimals`` places, halves to even (zero gradient).

    Shapes: same as ``input`` (and dtype).

    Example:
        >>> import dendrite
        >>> dendrite.round(dendrite.tensor([0.5, 1.5, 2.5]))
        tensor([0., 2., 2.])
        >>> dendrite.tensor([3.14159]).round(decimals=2)
        tensor([3.1400])
    """
    if input._data.dtype.kind != "f":
        return wrap(input._data.copy())
    return Round.apply(input, decimals)


def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 element-wise (zero gradient); NaN gives 0, as in PyTorch.

    Shapes: same as ``input`` (and dtype).

    Example:
        >>> import dendrite
        >>> dendrite.sign(dendrite.tensor([-2.0, 0.0, 3.0, float("nan")]))  # 0 at NaN, as PyTorch
        tensor([-1.,  0.,  1.,  0.])
    """
    if input._data.dtype.kind == "b":
        return wrap(input._data.copy())
    return Sign.apply(input)


def sgn(input: Tensor) -> Tensor:
    """PyTorch's sign for complex numbers; dendrite's tensors are real, so this is :func:`sign` (0 at NaN).

    Example:
        >>> import dendrite
        >>> dendrite.sgn(dendrite.tensor([-2.0, float("nan"), 3.0]))
        tensor([-1.,  0.,  1.])
    """
    return sign(input)


@input_kinds("f")
def frac(input: Tensor) -> Tensor:
    """The fractional part ``input - trunc(input)`` (gradient 1); same shape, float.

    Example:
        >>> import dendrite
        >>> dendrite.frac(dendrite.tensor([-1.25, 2.5]))
        tensor([-0.2500,  0.5000])
    """
    return Frac.apply(to_float(input))

