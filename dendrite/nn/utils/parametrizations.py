"""Ready parametrizations (PyTorch's ``torch.nn.utils.parametrizations``): ``weight_norm``, ``orthogonal``
(in parametrizations_orthogonal.py), ``spectral_norm`` (parametrizations_spectral.py).

Each one is a small module registered with
:func:`~dendrite.nn.utils.parametrize.register_parametrization`, so the state_dict
keys, the originals and ``remove_parametrizations`` behave as in PyTorch.
"""

from __future__ import annotations

from dendrite.nn.modules.module import Module
from dendrite.nn.utils import parametrize
from dendrite.nn.utils.parametrizations_orthogonal import orthogonal
from dendrite.nn.utils.parametrizations_spectral import spectral_norm
from dendrite.tensor import Tensor

__all__ = ["norm_except_dim", "orthogonal", "spectral_norm", "weight_norm"]


def norm_except_dim(weight: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``weight`` over every axis but ``dim``, kept as size 1 (PyTorch's ``norm_except_dim``).

    ``dim=-1`` means the norm of the whole tensor, a 0-d tensor (PyTorch's rule, also for the
    legacy ``weight_norm(dim=None)``); another negative ``dim`` counts from the end.
    Shapes: ``(out, in)`` with ``dim=0`` gives ``(out, 1)``.

    Example:
        >>> import dendrite
        >>> norm_except_dim(dendrite.tensor([[3.0, 4.0], [0.0, 1.0]]), 0).tolist()
        [[5.0], [1.0]]
    """
    if dim == -1:
        return (weight * weight).sum().sqrt()
    if not -weight.ndim <= dim < weight.ndim:
        raise IndexError(f"weight_norm: dim {dim} is out of range for a weight of shape "
                         f"{tuple(weight.shape)} (expected -1 for the whole tensor, or a dim in "
                         f"[{-weight.ndim}, {weight.ndim - 1}])")
    dim %= weight.ndim
    axes = tuple(axis for axis in range(weight.ndim) if axis != dim)
    return (weight * weight).sum(dim=axes, keepdim=True).sqrt() if axes else (weight * weight).sqrt()


def weight_from_g_v(weight_g: Tensor, weight_v: Tensor, dim: int) -> Tensor:
    """``v * g / ||v||`` with the norm taken over every axis but ``dim`` (PyTorch's ``_weight_norm``)."""
    return weight_v * (weight_g / norm_except_dim(weight_v, dim))


class _WeightNorm(Module):
    """``forward(g, v) = v * g / ||v||``; ``right_inverse(w) = (||w||, w)``."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_from_g_v(weight_g, weight_v, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as magnitude times direction, ``w = g * v / ||v||``.

    The norm is over every axis but ``dim`` (``dim=None``: the whole tensor). ``g``
    (shape of ``w`` with 1 on every other axis) and ``v`` (shape of ``w``) are stored
    as ``parametrizations.<name>.original0`` and ``original1``, PyTorch's keys. Undo
    it with ``parametrize.remove_parametrizations(module, name)``. Returns ``module``.

    Example:
        >>> from dendrite import nn
        >>> from dendrite.nn.utils.parametrizations import weight_norm
        >>> layer = weight_norm(nn.Linear(3, 2))
        >>> for key, value in layer.state_dict().items():
        ...     print(key, value.shape)
        bias (2,)
        parametrizations.weight.original0 (2, 1)
        parametrizations.weight.original1 (2, 3)
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module
