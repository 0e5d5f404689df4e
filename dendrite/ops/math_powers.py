"""Square roots, reciprocals, squares and ``hypot``, with their derivatives.

    d sqrt(x)  = 1 / (2 sqrt(x))     d rsqrt(x)  = -1 / (2 x^(3/2))    d (1/x) = -1 / x^2
    d square(x) = 2 x                d hypot(a, b) = (a da + b db) / hypot(a, b)

Integer and bool inputs become the default float dtype first (``square`` keeps integers, as in
PyTorch). Exponentials and logarithms are in :mod:`dendrite.ops.math`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.elementwise import mul
from dendrite.ops.graph_operands import shape_of as input_shape
from dendrite.ops.graph_operands import sum_to
from dendrite.ops.operands import (
    apply_binary,
    cast,
    float_operands,
    shape_of,
    to_float,
    unbroadcast,
)
from dendrite.tensor_base import TensorBase

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


class Sqrt(Function):
    """``sqrt(x)``; backward: ``g / (2 sqrt(x))``."""
    def forward(self, x):
        self.result = xp.sqrt(x)
        return self.result

    def backward(self, grad):
        return grad / (2 * self.result)

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad / (2 * x.sqrt())


class Rsqrt(Function):
    """``1 / sqrt(x)``; backward: ``-g / (2 x^(3/2))``."""
    def forward(self, x):
        self.result = 1 / xp.sqrt(x)
        return self.result

    def backward(self, grad):
        return grad * -0.5 * self.result * self.result * self.result

    def backward_graph(self, grad):
        result = self.inputs[0].rsqrt()
        return grad * -0.5 * result * result * result


class Reciprocal(Function):
    """``1 / x``; backward: ``-g / x^2``."""
    def forward(self, x):
        self.result = 1 / x
        return self.result

    def backward(self, grad):
        return -grad * self.result * self.result

    def backward_graph(self, grad):
        result = self.inputs[0].reciprocal()
        return -grad * result * result


def sqrt(input: Tensor) -> Tensor:
    """Square root (its gradient at 0 is inf, as in PyTorch). Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.sqrt(dendrite.tensor([4, 9]))
        tensor([2., 3.])
        >>> x = dendrite.tensor([4.0], requires_grad=True)
        >>> x.sqrt().backward(); x.grad  # 1 / (2 sqrt(x))
        tensor([0.2500])
    """
    return Sqrt.apply(to_float(input))


def rsqrt(input: Tensor) -> Tensor:
    """``1 / sqrt(input)``. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.rsqrt(dendrite.tensor([4.0, 0.25]))
        tensor([0.5000, 2.0000])
    """
    return Rsqrt.apply(to_float(input))


def reciprocal(input: Tensor) -> Tensor:
    """``1 / input``. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.reciprocal(dendrite.tensor([2, 4]))
        tensor([0.5000, 0.2500])
    """
    return Reciprocal.apply(to_float(input))


def square(input: Tensor) -> Tensor:
    """``input * input`` element-wise (same shape; integers stay integers, bool becomes int64 as in PyTorch).

    Example:
        >>> import dendrite
        >>> dendrite.square(dendrite.tensor([-2, 3]))
        tensor([4, 9])
    """
    if isinstance(input, TensorBase) and input._data.dtype.kind == "b":
        input = cast(input, xp.int64)
    return mul(input, input)


class Hypot(Function):
    """``h = sqrt(a^2 + b^2)``; backward: ``g * a / h`` and ``g * b / h``."""
    def forward(self, a, b):
        self.a, self.b = a, b
        self.result = xp.hypot(a, b)
        return self.result

    def backward(self, grad):
        # h = sqrt(a² + b²)  =>  dh/da = a / h,  dh/db = b / h  (NaN at a = b = 0, as in PyTorch)
        scale = grad / self.result
        needs = self.needs_input_grad
        return (unbroadcast(scale * self.a, shape_of(self.a)) if needs[0] else None,
                unbroadcast(scale * self.b, shape_of(self.b)) if needs[1] else None)

    def backward_graph(self, grad):
        a, b = self.inputs
        scale = grad / Hypot.apply(a, b)
        needs = self.needs_input_grad
        return (sum_to(scale * a, input_shape(a)) if needs[0] else None,
                sum_to(scale * b, input_shape(b)) if needs[1] else None)


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """``sqrt(input² + other²)`` element-wise, without overflow for large values; broadcasts.

    Shapes: ``input`` and ``other`` broadcast together, e.g. (N, 1) and (M,) -> (N, M).

    Example:
        >>> import dendrite
        >>> dendrite.hypot(dendrite.tensor([3.0, 5.0]), dendrite.tensor([4.0, 12.0]))
        tensor([ 5., 13.])
    """
    if all(isinstance(v, TensorBase) and v._data.dtype.kind in "biu" for v in (input, other)):
        raise NotImplementedError(
            f"hypot: not implemented for {input._data.dtype} and {other._data.dtype} (as in PyTorch); "
            "convert to a floating dtype first, e.g. x.float()"
        )
    a, b = float_operands(input, other)
    return apply_binary(Hypot, "hypot", a, b)
