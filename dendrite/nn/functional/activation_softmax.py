"""Activations along a dimension: ``softmax``, ``log_softmax``, ``softmin`` and ``normalize``.

The softmax family is :mod:`dendrite.ops.softmax`'s, with PyTorch's functional signature (and
its deprecated implicit ``dim``). ``normalize`` divides by the ``p``-norm along ``dim`` (at least
``eps``), a fused ``Function``. Any shape; the output has the input's shape. Re-exported by
:mod:`dendrite.nn.functional.activation`.
"""

from __future__ import annotations

import math
import warnings

from dendrite import ops
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import composed_gradients
from dendrite.ops.operands import normalize_dims, to_float
from dendrite.tensor import Tensor

__all__ = ["log_softmax", "normalize", "softmax", "softmin"]


# ----------------------------------------------------------------------------- softmax family
def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.softmax(dendrite.zeros(2, 4), dim=1).tolist()[0]
        [0.25, 0.25, 0.25, 0.25]
    """
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    return ops.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``x - logsumexp(x, dim)``: stable log-probabilities. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.log_softmax(dendrite.zeros(8, 10), dim=1).shape
        (8, 10)
    """
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    return ops.log_softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x, dim)``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.softmin(dendrite.zeros(2, 4), dim=1).tolist()[0]
        [0.25, 0.25, 0.25, 0.25]
    """
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim, _stacklevel)
    return ops.softmax(-input, dim, dtype=dtype)


# ----------------------------------------------------------------------------- normalize
class Normalize(Function):
    """``x / max(||x||_p, eps)`` along one axis; a zero norm gets a zero norm-gradient (as in PyTorch)."""

    def forward(self, x, p, axis, eps):
        magnitude = xp.abs(x)
        if p == 2:
            norm = xp.sqrt((x * x).sum(axis=axis, keepdims=True))
        elif p == 1:
            norm = magnitude.sum(axis=axis, keepdims=True)
        elif p == math.inf:
            norm = magnitude.max(axis=axis, keepdims=True)
        elif p == -math.inf:
            norm = magnitude.min(axis=axis, keepdims=True)
        elif p == 0:
            norm = (x != 0).sum(axis=axis, keepdims=True).astype(x.dtype)
        else:
            norm = (magnitude ** p).sum(axis=axis, keepdims=True) ** (1.0 / p)
        self.x, self.p, self.axis, self.norm, self.eps = x, p, axis, norm, eps
        self.denominator = xp.maximum(norm, eps)
        self.passes = norm >= eps  # clamp_min passes the gradient where norm >= eps
        return x / self.denominator

    def backward(self, grad):
        # Y = x / d, d = max(‖x‖_p, eps):  dX = dY / d - (Σ dY · x) / d² · ∂‖x‖/∂x  (the second term only
        # where ‖x‖ >= eps;  ∂‖x‖₂/∂x = x / ‖x‖,  ∂‖x‖₁/∂x = sign x)
        x, p, norm, denominator = self.x, self.p, self.norm, self.denominator
        result = grad / denominator
        if p == 0:
            return result
        through_norm = (grad * x).sum(axis=self.axis, keepdims=True) / (denominator * denominator)
        through_norm = xp.where(self.passes, through_norm, 0)
        with xp.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                d_norm = xp.where(norm == 0, 0, x / norm)
            elif p == 1:
                d_norm = xp.sign(x)
            elif p in (math.inf, -math.inf):  # ties share the gradient evenly
                winners = xp.abs(x) == norm
                d_norm = xp.sign(x) * winners / winners.sum(axis=self.axis, keepdims=True)
            else:
                scaled = xp.sign(x) * xp.abs(x) ** (p - 1) / norm ** (p - 1)
                d_norm = xp.where((norm == 0) | (x == 0), 0, scaled)
        return (result - through_norm * d_norm).astype(x.dtype, copy=False)

    def backward_graph(self, grad):
        # Recomputed with differentiable ops: x / max(‖x‖_p, eps), then differentiated (create_graph)
        p, axis, eps = self.p, self.axis, self.eps
        return composed_gradients(self, grad,
                                  lambda x: x / ops.norm(x, p, dim=axis, keepdim=True).clamp_min(eps))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """Divide by the ``p``-norm along ``dim`` (at least ``eps``). Any shape (a 0-d tensor is its own row).

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.normalize(dendrite.tensor([[3.0, 4.0]]), dim=1).tolist()
        [[0.6000000238418579, 0.800000011920929]]
    """
    axes = normalize_dims(dim, input.ndim)  # an int or a tuple of dims, as in PyTorch
    if input.ndim == 0:  # x / max(|x|, eps), computed as a row of one
        result = Normalize.apply(to_float(input).reshape(1), p=float(p), axis=(0,), eps=eps).reshape(())
    else:
        result = Normalize.apply(to_float(input), p=float(p), axis=axes, eps=eps)
    if out is not None:
        out.array[...] = result.array
        return out
    return result
