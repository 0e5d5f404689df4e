"""``spectral_norm``: divide a weight by its largest singular value (PyTorch's
``parametrizations.spectral_norm``), as in spectral-normalised GANs.

    W_sn = W / sigma,   sigma = u^T W v   with u, v from power iteration on W (as a matrix: ``dim`` first)

``u`` and ``v`` are buffers of the parametrization, started from random normal vectors and 15 power
iterations at registration; in training mode every forward pass does ``n_power_iterations`` more (without
gradient), in eval mode they stay. The gradient flows through ``W`` in both ``W`` and ``sigma``.
"""

from __future__ import annotations

from dendrite.autograd.grad_mode import no_grad
from dendrite.creation import randn
from dendrite.nn.functional import normalize
from dendrite.nn.modules.module import Module
from dendrite.nn.utils import parametrize
from dendrite.tensor import Tensor

__all__ = ["spectral_norm"]


class _SpectralNorm(Module):
    """``forward(W) = W / sigma(W)`` (``W / ||W||`` for a vector)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight.detach())
            h, w = weight_mat.shape
            self.register_buffer("_u", normalize(randn(h, dtype=weight.dtype), dim=0, eps=self.eps))
            self.register_buffer("_v", normalize(randn(w, dtype=weight.dtype), dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    @no_grad()
    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        for _ in range(n_power_iterations):
            self._u = normalize(weight_mat.mv(self._v), dim=0, eps=self.eps)
            self._v = normalize(weight_mat.T.mv(self._u), dim=0, eps=self.eps)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat.detach(), self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * weight_mat.mv(v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Keep ``module.<name>`` at spectral norm 1: ``W / sigma`` with sigma from power iteration.

    ``dim`` (the output dimension) defaults to 1 for transposed convolutions, else 0. The buffers ``_u`` and
    ``_v`` live in ``module.parametrizations.<name>[0]``. Returns ``module``.

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils.parametrizations import spectral_norm
        >>> layer = spectral_norm(dendrite.nn.Linear(4, 3))
        >>> sigma = float(__import__("numpy").linalg.norm(layer.weight.detach().numpy(), 2))
        >>> round(sigma, 3)
        1.0
        >>> for key in layer.state_dict():
        ...     print(key)
        bias
        parametrizations.weight.original
        parametrizations.weight.0._u
        parametrizations.weight.0._v
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__ in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d") else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
