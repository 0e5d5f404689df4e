"""Activations along one dimension as layers: GLU and the softmax family (``nn.Softmax(dim=1)``...)."""

from __future__ import annotations

import warnings

from dendrite.nn import functional as F
from dendrite.nn.modules.module import Module
from dendrite.tensor import Tensor

__all__ = ["GLU", "Softmax", "Softmin", "LogSoftmax", "Softmax2d"]


class GLU(Module):
    """Gated linear unit: split ``dim`` in halves ``a, b`` and return ``a * sigmoid(b)``.

    Input ``(*, 2k, *)`` (``dim`` of even size), output ``(*, k, *)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.GLU()(dendrite.tensor([[1.0, 2.0, 0.0, 100.0]])).tolist()
        [[0.5, 2.0]]
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


def _softmax_dim(layer: str, ndim: int) -> int:
    warnings.warn(f"Implicit dimension choice for {layer} has been deprecated. Change the call to include "
                  "dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """``exp(x) / sum(exp(x))`` along ``dim``: turns scores into probabilities that sum to 1.

    Input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> probabilities = dendrite.nn.Softmax(dim=1)(dendrite.zeros(2, 4))
        >>> probabilities[0].tolist()
        [0.25, 0.25, 0.25, 0.25]
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def _dim(self, input: Tensor) -> int:
        return self.dim if self.dim is not None else _softmax_dim(type(self).__name__.lower(), input.ndim)

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self._dim(input))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(Softmax):
    """``softmax(-x)`` along ``dim``: the smallest score gets the largest probability.

    Input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> [round(v, 4) for v in dendrite.nn.Softmin(dim=0)(dendrite.tensor([0.0, 2.0])).tolist()]
        [0.8808, 0.1192]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softmin(input, self._dim(input))


class LogSoftmax(Softmax):
    """``log(softmax(x))`` along ``dim``, computed stably (pair it with ``NLLLoss``).

    Input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> [round(v, 4) for v in dendrite.nn.LogSoftmax(dim=1)(dendrite.zeros(1, 4))[0].tolist()]
        [-1.3863, -1.3863, -1.3863, -1.3863]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self._dim(input))


class Softmax2d(Module):
    """Softmax over the channels at every pixel.

    Input ``(N, C, H, W)`` or ``(C, H, W)``, output the same shape.

    Example:
        >>> import dendrite
        >>> out = dendrite.nn.Softmax2d()(dendrite.zeros(1, 2, 3, 3))
        >>> out.shape, out[0, :, 0, 0].tolist()
        ((1, 2, 3, 3), [0.5, 0.5])
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            shape = tuple(input.shape)
            raise ValueError(f"Softmax2d got input of shape {shape}; expected (N, C, H, W) or (C, H, W)")
        return F.softmax(input, -3)
