"""Dropout layers: ``Dropout``, ``Dropout1d``, ``Dropout2d``, ``AlphaDropout``.

In training mode each element (or whole channel) is zeroed with probability
``p`` and the survivors are scaled by ``1 / (1 - p)``, so the expected value is
unchanged and evaluation (``model.eval()``) is simply the identity.
"""

from __future__ import annotations

from dendrite.nn import functional as F
from dendrite.nn.modules.module import Module
from dendrite.tensor import Tensor

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "AlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            name = type(self).__name__
            raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` during training (identity in eval mode).

    Input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> drop = dendrite.nn.Dropout(0.5)
        >>> drop.eval()(dendrite.ones(4)).tolist()
        [1.0, 1.0, 1.0, 1.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``) with probability ``p`` during training.

    Output the input's shape.

    Example:
        >>> import dendrite
        >>> y = dendrite.nn.Dropout1d(0.5)(dendrite.ones(2, 3, 4))
        >>> all(len(set(channel)) == 1 for sample in y.tolist() for channel in sample)   # all 0. or all 2.
        True
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (2, 3):
            shape = tuple(input.shape)
            raise ValueError(f"Dropout1d got input of shape {shape}; expected (N, C, L) or (C, L)")
        if hasattr(F, "dropout1d"):
            return F.dropout1d(input, self.p, self.training, self.inplace)
        # Dropping channels of (N, C, L) is dropping channels of the image (N, C, L, 1).
        return F.dropout2d(input.unsqueeze(-1), self.p, self.training, self.inplace).squeeze(-1)


class Dropout2d(_DropoutNd):
    """Zero whole feature maps of ``(N, C, H, W)`` with probability ``p`` during training.

    Neighbouring pixels are strongly correlated, so dropping single pixels barely
    regularises a conv net; dropping whole channels does. Output the input's shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Dropout2d(0.2)(dendrite.ones(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps SELU's zero mean and unit variance (for self-normalising networks).

    Input ``(*)``, output the same shape; the identity in eval mode.

    Example:
        >>> import dendrite
        >>> dendrite.nn.AlphaDropout(0.2)(dendrite.zeros(2, 3)).shape
        (2, 3)
    """

    def forward(self, input: Tensor) -> Tensor:
        if not hasattr(F, "alpha_dropout"):
            raise NotImplementedError("AlphaDropout needs F.alpha_dropout, which is not available")
        return F.alpha_dropout(input, self.p, self.training)
