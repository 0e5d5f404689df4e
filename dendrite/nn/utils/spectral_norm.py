"""The hook-based spectral normalization (PyTorch's ``torch.nn.utils.spectral_norm``).

``spectral_norm(layer)`` moves the parameter ``weight`` to ``weight_orig``, adds the buffers ``weight_u``
and ``weight_v`` (random unit vectors) and a forward pre-hook that sets, before each call,

    layer.weight = weight_orig / sigma,   sigma = u . (W v)   (W: weight_orig as a matrix, ``dim`` first)

after one step of power iteration (``v = normalize(W^T u)``, ``u = normalize(W v)``, no gradient) when the
layer is training. Same state_dict keys as PyTorch. New code can use
:func:`dendrite.nn.utils.parametrizations.spectral_norm`.
"""

from __future__ import annotations

from dendrite.autograd.grad_mode import no_grad
from dendrite.creation import randn
from dendrite.nn.functional import normalize
from dendrite.nn.modules.module import Module
from dendrite.nn.parameter import Parameter
from dendrite.nn.utils.weight_hooks import remove_weight_hook
from dendrite.tensor import Tensor

__all__ = ["SpectralNorm", "remove_spectral_norm", "spectral_norm"]


class SpectralNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_orig``, ``_u`` and ``_v``.

    Example:
        >>> import dendrite
        >>> layer = dendrite.nn.Linear(3, 2)
        >>> hook = SpectralNorm.apply(layer, "weight", n_power_iterations=1, dim=0, eps=1e-12)
        >>> hook.compute_weight(layer, do_power_iteration=False).shape
        (2, 3)
        >>> hook.reshape_weight_to_matrix(dendrite.zeros(4, 2, 3)).shape
        (4, 6)
        >>> hook.remove(layer); sorted(layer.state_dict())
        ['bias', 'weight']
    """

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """``weight`` as a matrix: ``dim`` first, everything else flattened into columns."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.ndim) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        """``<name>_orig / sigma``, after a power-iteration step when ``do_power_iteration``."""
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v = normalize(weight_mat.t().mv(u), dim=0, eps=self.eps)
                    u = normalize(weight_mat.mv(v), dim=0, eps=self.eps)
                setattr(module, self.name + "_u", u)  # the buffers hold the iteration (PyTorch: out=)
                setattr(module, self.name + "_v", v)
                u, v = u.clone(), v.clone()
        sigma = (u * weight_mat.mv(v)).sum()
        return weight / sigma

    def remove(self, module: Module) -> None:
        """Put back ``module.<name>`` as one Parameter holding the normalised weight; drop the rest."""
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        """Install the hook on ``module.<name>`` (what :func:`spectral_norm` does); returns it."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            u = normalize(randn(h, dtype=weight.dtype), dim=0, eps=fn.eps)
            v = normalize(randn(w, dtype=weight.dtype), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        # ``weight`` stays an attribute (plain tensor) for code that reads it before the first call
        setattr(module, fn.name, weight.detach())
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Spectrally normalise ``module.<name>`` by a forward pre-hook (see the module docstring).

    ``dim`` defaults to 1 for transposed convolutions, else 0. Returns ``module``.

    Example:
        >>> import dendrite
        >>> layer = dendrite.nn.utils.spectral_norm(dendrite.nn.Linear(4, 3))
        >>> list(layer.state_dict())
        ['bias', 'weight_orig', 'weight_u', 'weight_v']
        >>> _ = layer(dendrite.ones(1, 4))
        >>> layer.weight.shape
        (3, 4)
    """
    if dim is None:
        dim = 1 if type(module).__name__ in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d") else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`spectral_norm`: ``module.<name>`` becomes a Parameter holding the normalised weight.

    Example:
        >>> import dendrite
        >>> layer = dendrite.nn.utils.spectral_norm(dendrite.nn.Linear(4, 3))
        >>> list(dendrite.nn.utils.remove_spectral_norm(layer).state_dict())
        ['bias', 'weight']
    """
    if remove_weight_hook(module, SpectralNorm, name):
        return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
