"""The rarer activation functions: shrinkage, gating and learned or random slopes (``torch.nn.functional``).

``softsign``, ``tanhshrink``, ``softshrink``, ``hardshrink``, ``glu``, ``prelu`` and
``rrelu``: each is composed from :mod:`dendrite.ops` (or from a fused activation
of :mod:`dendrite.nn.functional.activation`) and gets its gradient for free.
"""

from __future__ import annotations

from dendrite import ops
from dendrite.backend import xp
from dendrite.nn.functional.activation import _finish, leaky_relu
from dendrite.tensor import Tensor, wrap

__all__ = ["glu", "hardshrink", "prelu", "rrelu", "softshrink", "softsign", "tanhshrink"]


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``. Any shape."""
    return input / (ops.abs(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``. Any shape."""
    return input - ops.tanh(input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0. Any shape."""
    zero = ops.mul(input, 0.0)
    return ops.where(input > lambd, input - lambd, ops.where(input < -lambd, input + lambd, zero))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0. Any shape."""
    return ops.where((input > lambd) | (input < -lambd), input, ops.mul(input, 0.0))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: halves ``a, b`` of ``dim``, ``a * sigmoid(b)``. (..., 2n, ...) -> (..., n, ...)."""
    if input.ndim == 0 or input.shape[dim] % 2:
        raise RuntimeError(
            f"glu: halving dimension {dim} must have an even size, got input of shape {tuple(input.shape)}"
        )
    first, second = ops.chunk(input, 2, dim)
    return first * ops.sigmoid(second)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` if ``x > 0`` else ``weight * x``, one slope per channel (dim 1) or a single slope."""
    if weight.numel() != 1:
        channels = input.shape[1] if input.ndim >= 2 else input.shape[0]
        if weight.ndim != 1 or weight.shape[0] != channels:
            raise RuntimeError(
                f"prelu: weight of shape {tuple(weight.shape)} must hold 1 or {channels} slopes "
                f"(the channels of an input of shape {tuple(input.shape)})"
            )
        if input.ndim >= 2:
            weight = weight.reshape((channels,) + (1,) * (input.ndim - 2))
    elif weight.ndim:
        weight = weight.reshape(())
    return ops.where(input > 0, input, weight * input)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Leaky ReLU with a random slope in ``[lower, upper]`` when training, else their mean."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    from dendrite import backend

    slopes = backend.generator().uniform(lower, upper, input.shape)
    slopes = xp.where(input.array > 0, 1.0, slopes).astype(input.dtype)  # x <= 0 gets a random slope
    return _finish(input, input * wrap(slopes), inplace, "rrelu")
