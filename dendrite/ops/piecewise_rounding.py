"""Rounding: floor, ceil, trunc, round, sign, sgn and frac.

All but ``frac`` are piecewise constant: their gradient is zero (PyTorch still returns one, of
zeros), and integer inputs come back as a copy (they are already whole):

    d floor(x), round, ceil, trunc, sign = 0;   d frac(x) = 1

The kinks (abs, relu, clamp) are in :mod:`dendrite.ops.piecewise`, selections (maximum, where)
in :mod:`dendrite.ops.piecewise_select`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.boundary import input_kinds
from dendrite.ops.graph_operands import constant
from dendrite.ops.operands import to_float
from dendrite.tensor_base import wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


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
