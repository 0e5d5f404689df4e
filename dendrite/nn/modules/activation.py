"""Elementwise activation functions as layers (``nn.ReLU()``, ``nn.GELU()``...).

Each layer stores its options and calls the function of the same name in
``dendrite.nn.functional``; only ``PReLU`` has a parameter (its learned slope).
Every layer here maps an input of any shape ``(*)`` to an output of the same shape.
The shrink family and softplus are in ``activation_shrink``; GLU and the softmax family,
which work along one dimension, in ``activation_dim``.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.backend import xp
from dendrite.devices import resolve_device
from dendrite.nn import functional as F
from dendrite.nn import init
from dendrite.nn.modules.module import Module
from dendrite.nn.parameter import Parameter
from dendrite.tensor import Tensor

__all__ = [
    "Threshold", "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish",
    "Sigmoid", "LogSigmoid", "Hardsigmoid", "Tanh", "Hardtanh", "Hardswish",
]


class _Inplace(Module):
    """An activation whose only option is ``inplace`` (accepted for API compatibility)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """``max(0, x)``, elementwise; input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.ReLU()(dendrite.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, inplace=self.inplace)


class Threshold(Module):
    """``x if x > threshold else value``, elementwise; input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Threshold(0.1, 20.0)(dendrite.tensor([-1.0, 0.5])).tolist()
        [20.0, 0.5]
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class Hardtanh(Module):
    """``clamp(x, min_val, max_val)``, elementwise; input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Hardtanh()(dendrite.tensor([-2.0, 0.5, 3.0])).tolist()
        [-1.0, 0.5, 1.0]
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """``min(max(0, x), 6)``, elementwise (MobileNet's activation); input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.ReLU6()(dendrite.tensor([-1.0, 3.0, 8.0])).tolist()
        [0.0, 3.0, 6.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """``x if x >= 0 else negative_slope * x``: a small gradient for negative inputs, so units never die.

    Input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.LeakyReLU(0.5)(dendrite.tensor([-2.0, 3.0])).tolist()
        [-1.0, 3.0]
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """Leaky ReLU with a learned slope: one shared (``num_parameters=1``) or one per channel (dim 1).

    ``weight`` has shape ``(num_parameters,)``, initialised to ``init``. Input ``(N, C, *)`` with
    ``C == num_parameters`` (any shape when ``num_parameters=1``), output the same shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.PReLU(3)(dendrite.zeros(2, 3, 4)).shape
        (2, 3, 4)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        device = resolve_device(device, "PReLU")
        self.num_parameters, self.init = num_parameters, init
        dtype = backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)
        self.weight = Parameter(xp.empty(num_parameters, dtype))
        self.reset_parameters()
        if device.type != "cpu":  # made on the CPU, then moved (PyTorch: made there)
            self.to(device)

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        if self.num_parameters != 1 and (input.ndim < 2 or input.shape[1] != self.num_parameters):
            raise ValueError(
                f"PReLU(num_parameters={self.num_parameters}) got input of shape {tuple(input.shape)}; "
                f"expected (N, {self.num_parameters}, *)"
            )
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """``x if x > 0 else alpha * (exp(x) - 1)``, elementwise; input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.ELU()(dendrite.tensor([-100.0, 0.0, 2.0])).tolist()
        [-1.0, 0.0, 2.0]
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``, elementwise.

    Input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.CELU(alpha=2.0)(dendrite.tensor([-100.0, 3.0])).tolist()
        [-2.0, 3.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.celu(input, self.alpha, self.inplace)


class SELU(_Inplace):
    """``scale * ELU(x, alpha)`` with the self-normalising constants (use with LeCun-normal init).

    ``alpha ~ 1.6733``, ``scale ~ 1.0507``. Input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> [round(v, 4) for v in dendrite.nn.SELU()(dendrite.tensor([-100.0, 0.0, 1.0])).tolist()]
        [-1.7581, 0.0, 1.0507]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.selu(input, self.inplace)


class GELU(Module):
    """``x * Phi(x)`` (Phi: the standard normal CDF); ``approximate='tanh'`` uses the tanh formula.

    Input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.GELU()(dendrite.zeros(3)).tolist()
        [0.0, 0.0, 0.0]
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(_Inplace):
    """``x * sigmoid(x)`` (also called swish), elementwise; input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> [round(v, 4) for v in dendrite.nn.SiLU()(dendrite.tensor([-1.0, 0.0, 1.0])).tolist()]
        [-0.2689, 0.0, 0.7311]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input, inplace=self.inplace)


class Mish(_Inplace):
    """``x * tanh(softplus(x))``, elementwise; input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> [round(v, 4) for v in dendrite.nn.Mish()(dendrite.tensor([-1.0, 0.0, 1.0])).tolist()]
        [-0.3034, 0.0, 0.8651]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.mish(input, inplace=self.inplace)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``, elementwise; input ``(*)``, output the same shape, in ``(0, 1)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Sigmoid()(dendrite.tensor([0.0, 100.0])).tolist()
        [0.5, 1.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class LogSigmoid(Module):
    """``log(sigmoid(x))``, computed stably; input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> [round(v, 4) for v in dendrite.nn.LogSigmoid()(dendrite.tensor([-100.0, 0.0])).tolist()]
        [-100.0, -0.6931]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.logsigmoid(input)


class Hardsigmoid(_Inplace):
    """``clamp(x / 6 + 1/2, 0, 1)``, elementwise; input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Hardsigmoid()(dendrite.tensor([-3.0, 0.0, 3.0])).tolist()
        [0.0, 0.5, 1.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.hardsigmoid(input, self.inplace)


class Tanh(Module):
    """``tanh(x)``, elementwise; input ``(*)``, output the same shape, in ``(-1, 1)``.

    Example:
        >>> import dendrite
        >>> [round(v, 4) for v in dendrite.nn.Tanh()(dendrite.tensor([-1.0, 0.0, 1.0])).tolist()]
        [-0.7616, 0.0, 0.7616]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Hardswish(_Inplace):
    """``x * hardsigmoid(x)``, elementwise (MobileNetV3); input ``(*)``, output the same shape.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Hardswish()(dendrite.tensor([0.0, 1.5, 3.0])).tolist()
        [0.0, 1.125, 3.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.hardswish(input, self.inplace)
