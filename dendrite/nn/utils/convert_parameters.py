"""Flatten parameters into one vector and back (for second-order methods, weight averaging, analysis)."""

from __future__ import annotations

from collections.abc import Iterable

from dendrite.backend import xp
from dendrite.ops import cat
from dendrite.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (differentiable).

    Example:
        >>> from dendrite import nn
        >>> nn.utils.parameters_to_vector(nn.Linear(3, 2).parameters()).shape
        (8,)
    """
    return cat([param.reshape(-1) for param in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in order; in place.

    ``vec`` has shape ``(P,)``, ``P`` the total number of parameter elements.

    Example:
        >>> import dendrite
        >>> layer = dendrite.nn.Linear(2, 1)
        >>> dendrite.nn.utils.vector_to_parameters(dendrite.tensor([1.0, 2.0, 3.0]), layer.parameters())
        >>> layer.weight.tolist(), layer.bias.tolist()
        ([[1.0, 2.0]], [3.0])
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected dendrite.Tensor, but got: {type(vec).__name__}")
    parameters = list(parameters)
    needed = sum(param.numel() for param in parameters)
    if vec.ndim != 1 or vec.numel() != needed:
        raise ValueError(
            f"vector_to_parameters got a vector of shape {tuple(vec.shape)}; expected ({needed},), "
            "one entry per parameter element"
        )
    pointer = 0
    for param in parameters:
        count = param.numel()
        xp.copyto(param.array, vec.array[pointer:pointer + count].reshape(param.shape), casting="unsafe")
        pointer += count
