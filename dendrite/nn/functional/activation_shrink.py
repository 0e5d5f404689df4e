"""Shrinking and soft-sign activations: ``softshrink``, ``hardshrink``, ``tanhshrink``, ``softsign``.

Each pulls values towards zero (the shrink family zeroes a band ``|x| <= lambd``, used for
sparse codes; ``softsign`` squashes like ``tanh`` but with polynomial tails). Composed from
:mod:`dendrite.ops`, so gradients come for free. Input ``(*)`` -> output ``(*)``.
"""

from __future__ import annotations

from dendrite import ops
from dendrite.ops.boundary import input_kinds
from dendrite.tensor import Tensor

__all__ = ["hardshrink", "softshrink", "softsign", "tanhshrink"]


@input_kinds("iuf")
def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.softsign(dendrite.tensor([-1.0, 3.0])).tolist()
        [-0.5, 0.75]
    """
    return input / (ops.abs(input) + 1)


@input_kinds("iuf")
def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.tanhshrink(dendrite.zeros(2)).tolist()
        [0.0, 0.0]
    """
    return input - ops.tanh(input)


@input_kinds("f")
def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.softshrink(dendrite.tensor([-1.0, 0.25, 2.0])).tolist()
        [-0.5, 0.0, 1.5]
    """
    zero = ops.mul(input, 0.0)
    return ops.where(input > lambd, input - lambd, ops.where(input < -lambd, input + lambd, zero))


@input_kinds("f")
def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.hardshrink(dendrite.tensor([-1.0, 0.25, 2.0])).tolist()
        [-1.0, 0.0, 2.0]
    """
    return ops.where((input > lambd) | (input < -lambd), input, ops.mul(input, 0.0))
