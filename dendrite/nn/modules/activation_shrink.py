"""The shrink activations, softplus and softsign as layers (``nn.Softshrink(0.5)``...).

Each maps an input of any shape ``(*)`` to an output of the same shape, calling the function
of the same name in ``dendrite.nn.functional``.
"""

from __future__ import annotations

from dendrite.nn import functional as F
from dendrite.nn.modules.module import Module
from dendrite.tensor import Tensor

__all__ = ["Hardshrink", "Softshrink", "Tanhshrink", "Softplus", "Softsign"]


class Hardshrink(Module):
    """``x if |x| > lambd else 0``, elementwise; input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Hardshrink(0.5)(dendrite.tensor([-1.0, 0.25, 2.0])).tolist()
        [-1.0, 0.0, 2.0]
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0, elementwise.

    Input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Softshrink(0.5)(dendrite.tensor([-1.0, 0.25, 2.0])).tolist()
        [-0.5, 0.0, 1.5]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softshrink(input, self.lambd)


class Tanhshrink(Module):
    """``x - tanh(x)``, elementwise; input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> [round(v, 4) for v in dendrite.nn.Tanhshrink()(dendrite.tensor([0.0, 1.0])).tolist()]
        [0.0, 0.2384]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanhshrink(input)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``; linear above ``threshold`` (for numerical stability).

    Input ``(*)``, output the same shape, positive.

    Example:
        >>> import dendrite
        >>> [round(v, 4) for v in dendrite.nn.Softplus()(dendrite.tensor([0.0, 30.0])).tolist()]
        [0.6931, 30.0]
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """``x / (1 + |x|)``, elementwise; input ``(*)``, output the same shape, in ``(-1, 1)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Softsign()(dendrite.tensor([-3.0, 0.0, 1.0])).tolist()
        [-0.75, 0.0, 0.5]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softsign(input)
