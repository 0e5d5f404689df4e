"""Selections: maximum, minimum, where and masked_fill.

Each output element is one of the inputs' elements, so the gradient goes to the input it came from:

    d maximum(a,b) = [a > b] + 0.5 [a == b]     (ties share the gradient; minimum alike)
    d where(c,a,b) = [c] for a, [not c] for b

The kinks (abs, relu, clamp) are in :mod:`dendrite.ops.piecewise`, rounding in
:mod:`dendrite.ops.piecewise_rounding`.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import constant, sum_to
from dendrite.ops.operands import apply_binary, array_or_value, cast, operands, shape_of, unbroadcast
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


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
