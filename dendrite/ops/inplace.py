"""In-place arithmetic: ``add_``, ``mul_``, ``exp_`` ... and the ``x += y`` operators.

Each one is its out-of-place operation written back into the tensor's own
memory (:func:`dendrite.ops.inplace_graph.write_inplace`), so views and
``detach()``-ed copies see the change and the version counter goes up. The
rules are PyTorch's:

* the result keeps the tensor's shape and dtype: ``int_tensor += 1.5`` and
  ``x(3,) += y(2, 3)`` raise, a float64 operand is rounded into a float32 tensor;
* under ``no_grad()`` they just write (``w -= lr * w.grad``, an optimizer step);
* on a leaf that requires grad in grad mode they raise (use ``no_grad()``);
* on a tensor in the graph (or with an operand that requires grad) they are
  recorded: ``y.mul_(2)`` makes ``y.grad_fn`` a ``MulBackward`` whose input is
  the old ``y``, and ``y[0].mul_(2)`` updates ``y``'s graph (CopySlices);
* if the op overwrote a value some node saved for backward (``y = x.exp();
  y += 1``), ``backward()`` raises PyTorch's "modified by an inplace operation".

Filling (``copy_``, ``fill_``, ``zero_``, ``x[i] = v``, random fills) lives in
:mod:`dendrite.ops.inplace_fill`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite.ops.comparison import bitwise_and, bitwise_or, bitwise_xor
from dendrite.ops.elementwise import add, div, floor_divide, mul, neg, pow, remainder, sub
from dendrite.ops.inplace_graph import write_inplace
from dendrite.ops.math import exp, lerp, log, sigmoid, sqrt, tanh
from dendrite.ops.piecewise import abs, clamp, clamp_max, clamp_min, relu

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


# ----------------------------------------------------------------------------- arithmetic
def add_(x: Tensor, other, alpha=1) -> Tensor:
    """``x += alpha * other`` in place (an SGD step: ``w.add_(w.grad, alpha=-0.1)``).

    Shapes: ``other`` broadcasts to x's shape; x keeps its shape and dtype. Returns ``x``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0, 2.0])
        >>> x.add_(dendrite.tensor([1.0, 1.0]), alpha=-0.5)
        tensor([0.5000, 1.5000])
    """
    return write_inplace(x, "add_", lambda old, value: add(old, value, alpha=alpha), other)


def sub_(x: Tensor, other, alpha=1) -> Tensor:
    """``x -= alpha * other`` in place.

    Shapes: ``other`` broadcasts to x's shape; x keeps its shape and dtype. Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1.0, 2.0], [3.0, 4.0]]).sub_(dendrite.tensor([1.0, 2.0]))
        tensor([[0., 0.],
                [2., 2.]])
    """
    return write_inplace(x, "sub_", lambda old, value: sub(old, value, alpha=alpha), other)


def mul_(x: Tensor, other) -> Tensor:
    """``x *= other`` in place.

    Shapes: ``other`` broadcasts to x's shape; x keeps its shape and dtype. Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([1.0, 2.0]).mul_(3)
        tensor([3., 6.])
    """
    return write_inplace(x, "mul_", mul, other)


def div_(x: Tensor, other, *, rounding_mode=None) -> Tensor:
    """``x /= other`` in place; an integer tensor needs ``rounding_mode`` ("floor"/"trunc"), as in PyTorch.

    Shapes: ``other`` broadcasts to x's shape; x keeps its shape and dtype. Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([1.0, 2.0]).div_(4)
        tensor([0.2500, 0.5000])
        >>> dendrite.tensor([7, -7]).div_(2, rounding_mode="floor")
        tensor([ 3, -4])
    """
    return write_inplace(x, "div_", lambda old, value: div(old, value, rounding_mode=rounding_mode), other)


def floor_divide_(x: Tensor, other) -> Tensor:
    """``x //= other`` in place (rounded down). Returns ``x``, same shape and dtype.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([7, -7]).floor_divide_(2)
        tensor([ 3, -4])
    """
    return write_inplace(x, "floor_divide_", floor_divide, other)


def remainder_(x: Tensor, other) -> Tensor:
    """``x %= other`` in place (the sign of the divisor, as Python's ``%``). Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([5, -5]).remainder_(3)
        tensor([2, 1])
    """
    return write_inplace(x, "remainder_", remainder, other)


def pow_(x: Tensor, exponent) -> Tensor:
    """``x **= exponent`` in place (a float exponent on an integer tensor raises, as PyTorch). Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([2.0, 3.0]).pow_(2)
        tensor([4., 9.])
    """
    return write_inplace(x, "pow_", pow, exponent)


def bitwise_and_(x: Tensor, other) -> Tensor:
    """``x &= other`` in place (bool and integer tensors). Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([6, 3]).bitwise_and_(5)
        tensor([4, 1])
    """
    return write_inplace(x, "bitwise_and_", bitwise_and, other)


def bitwise_or_(x: Tensor, other) -> Tensor:
    """``x |= other`` in place (bool and integer tensors). Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([True, False]).bitwise_or_(dendrite.tensor([False, False]))
        tensor([ True, False])
    """
    return write_inplace(x, "bitwise_or_", bitwise_or, other)


def bitwise_xor_(x: Tensor, other) -> Tensor:
    """``x ^= other`` in place (bool and integer tensors). Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([6, 3]).bitwise_xor_(5)
        tensor([3, 6])
    """
    return write_inplace(x, "bitwise_xor_", bitwise_xor, other)


def addcmul_(x: Tensor, tensor1, tensor2, *, value=1) -> Tensor:
    """``x += value * tensor1 * tensor2`` in place (Adam's second moment). Returns ``x``.

    Shapes: ``tensor1`` and ``tensor2`` broadcast to x's shape.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2).addcmul_(dendrite.tensor([1.0, 2.0]), dendrite.tensor([3.0, 4.0]), value=0.5)
        tensor([1.5000, 4.0000])
    """
    return write_inplace(x, "addcmul_", lambda old, a, b: add(old, mul(mul(a, b), value)), tensor1, tensor2)


def addcdiv_(x: Tensor, tensor1, tensor2, *, value=1) -> Tensor:
    """``x += value * tensor1 / tensor2`` in place (Adam's update). Returns ``x``.

    Shapes: ``tensor1`` and ``tensor2`` broadcast to x's shape.

    Example:
        >>> import dendrite
        >>> dendrite.ones(2).addcdiv_(dendrite.tensor([1.0, 2.0]), dendrite.tensor([2.0, 4.0]), value=-1)
        tensor([0.5000, 0.5000])
    """
    return write_inplace(x, "addcdiv_", lambda old, a, b: add(old, mul(div(a, b), value)), tensor1, tensor2)


def lerp_(x: Tensor, end, weight) -> Tensor:
    """``x += weight * (end - x)`` in place (an exponential moving average). Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2).lerp_(dendrite.tensor([10.0, 20.0]), 0.1)
        tensor([1., 2.])
    """
    return write_inplace(x, "lerp_", lerp, end, weight)


# ----------------------------------------------------------------------------- functions of x alone
def neg_(x: Tensor) -> Tensor:
    """``x = -x`` in place. Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([1.0, -2.0]).neg_()
        tensor([-1.,  2.])
    """
    return write_inplace(x, "neg_", neg)


def abs_(x: Tensor) -> Tensor:
    """``x = |x|`` in place. Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([1.0, -2.0]).abs_()
        tensor([1., 2.])
    """
    return write_inplace(x, "abs_", abs)


def exp_(x: Tensor) -> Tensor:
    """``x = e**x`` in place (floating tensors only: an integer result would be a float). Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2).exp_()
        tensor([1., 1.])
    """
    return write_inplace(x, "exp_", exp)


def log_(x: Tensor) -> Tensor:
    """``x = ln(x)`` in place (floating tensors only). Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.ones(2).log_()
        tensor([0., 0.])
    """
    return write_inplace(x, "log_", log)


def sqrt_(x: Tensor) -> Tensor:
    """``x = sqrt(x)`` in place (floating tensors only). Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([4.0, 9.0]).sqrt_()
        tensor([2., 3.])
    """
    return write_inplace(x, "sqrt_", sqrt)


def sigmoid_(x: Tensor) -> Tensor:
    """``x = 1 / (1 + e**-x)`` in place. Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2).sigmoid_()
        tensor([0.5000, 0.5000])
    """
    return write_inplace(x, "sigmoid_", sigmoid)


def tanh_(x: Tensor) -> Tensor:
    """``x = tanh(x)`` in place. Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2).tanh_()
        tensor([0., 0.])
    """
    return write_inplace(x, "tanh_", tanh)


def relu_(x: Tensor) -> Tensor:
    """``x = max(x, 0)`` in place. Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([-1.0, 2.0]).relu_()
        tensor([0., 2.])
    """
    return write_inplace(x, "relu_", relu)


def clamp_(x: Tensor, min=None, max=None) -> Tensor:
    """Limit the values to ``[min, max]`` in place (either bound may be None); returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([-2.0, 0.5, 3.0]).clamp_(0, 1)
        tensor([0.0000, 0.5000, 1.0000])
    """
    return write_inplace(x, "clamp_", lambda old, low, high: clamp(old, low, high), min, max)


def clamp_min_(x: Tensor, min) -> Tensor:
    """Raise the values below ``min`` to ``min`` in place; returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([-2.0, 3.0]).clamp_min_(0)
        tensor([0., 3.])
    """
    return write_inplace(x, "clamp_min_", clamp_min, min)


def clamp_max_(x: Tensor, max) -> Tensor:
    """Lower the values above ``max`` to ``max`` in place; returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([-2.0, 3.0]).clamp_max_(1)
        tensor([-2.,  1.])
    """
    return write_inplace(x, "clamp_max_", clamp_max, max)
