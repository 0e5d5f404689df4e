"""Fully connected layers: ``Identity``, ``Linear``, ``Bilinear``."""

from __future__ import annotations

import math

from dendrite import backend
from dendrite.backend import xp
from dendrite.devices import resolve_device
from dendrite.nn import functional as F
from dendrite.nn import init
from dendrite.nn.modules.module import Module
from dendrite.nn.parameter import Parameter
from dendrite.tensor import Tensor

__all__ = ["Identity", "Linear", "Bilinear"]


def _empty_parameter(shape: tuple, dtype=None) -> Parameter:
    dtype = backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)
    return Parameter(xp.empty(shape, dtype))


def _check_device(layer: str, device):
    return resolve_device(device, layer)


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a classifier head).

    Any constructor arguments are accepted and ignored, as in PyTorch. Input ``(*)``, output the same.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Identity()(dendrite.ones(2)).shape
        (2,)
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x W^T + b``.

    Shapes: input ``(..., in_features)`` -> output ``(..., out_features)``.
    ``weight`` is ``(out_features, in_features)``, ``bias`` is ``(out_features,)``; both start
    from ``U(-1/sqrt(in_features), 1/sqrt(in_features))`` as in PyTorch.

    Example:
        >>> import dendrite
        >>> layer = dendrite.nn.Linear(784, 10)
        >>> layer(dendrite.zeros(32, 784)).shape
        (32, 10)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        device = _check_device("Linear", device)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _empty_parameter((out_features, in_features), dtype)
        if bias:
            self.bias = _empty_parameter((out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device.type != "cpu":  # made on the CPU, then moved (PyTorch: made there)
            self.to(device)

    def reset_parameters(self) -> None:
        """Redraw ``weight`` and ``bias`` from ``U(-1/sqrt(in_features), 1/sqrt(in_features))``."""
        init.reset_affine_parameters(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        shape = input.array.shape
        if not shape or shape[-1] != self.in_features:
            hint = " Did you forget to flatten?" if len(shape) > 2 else ""
            raise ValueError(
                f"Linear(in_features={self.in_features}) got input of shape {tuple(shape)}; "
                f"expected (..., {self.in_features}).{hint}"
            )
        # Read from the table: ``self.weight`` reaches it only after a failed normal lookup and
        # Module.__getattr__ (~0.4 us each, a visible share of a tiny network's training step).
        parameters = self._parameters
        if "weight" in parameters and "bias" in parameters:
            return F.linear(input, parameters["weight"], parameters["bias"])
        # A weight computed by nn.utils.parametrize or weight_norm lives outside the table.
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        has_bias = self.bias is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={has_bias}"


class Bilinear(Module):
    """``y = x1^T A x2 + b``.

    Shapes: inputs ``(..., in1_features)`` and ``(..., in2_features)`` -> ``(..., out_features)``;
    ``weight`` is ``(out_features, in1_features, in2_features)``.

    Example:
        >>> import dendrite
        >>> layer = dendrite.nn.Bilinear(3, 4, 5)
        >>> layer(dendrite.ones(2, 3), dendrite.ones(2, 4)).shape
        (2, 5)
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        device = _check_device("Bilinear", device)
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = _empty_parameter((out_features, in1_features, in2_features), dtype)
        if bias:
            self.bias = _empty_parameter((out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device.type != "cpu":  # made on the CPU, then moved (PyTorch: made there)
            self.to(device)

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        if input1.shape[-1:] != (self.in1_features,) or input2.shape[-1:] != (self.in2_features,):
            raise ValueError(
                f"Bilinear(in1_features={self.in1_features}, in2_features={self.in2_features}) got inputs "
                f"of shapes {tuple(input1.shape)} and {tuple(input2.shape)}; "
                f"expected (..., {self.in1_features}) and (..., {self.in2_features})"
            )
        if hasattr(F, "bilinear"):
            return F.bilinear(input1, input2, self.weight, self.bias)
        # Composed form: y[..., o] = sum_ij x1[..., i] A[o, i, j] x2[..., j].
        left = input1.unsqueeze(-2).unsqueeze(-2)  # (..., 1, 1, in1)
        projected = (left @ self.weight).squeeze(-2)  # (..., out, in2)
        output = (projected * input2.unsqueeze(-2)).sum(-1)
        return output + self.bias if self.bias is not None else output

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
