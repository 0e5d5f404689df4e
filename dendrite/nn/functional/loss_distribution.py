"""Losses between distributions and likelihoods: ``kl_div``, ``poisson_nll_loss``, ``gaussian_nll_loss``.

``kl_div`` is a fused ``Function``; the negative log-likelihoods are composed from
:mod:`dendrite.ops` (their gradients come for free). Input and target share a shape ``(*)``.
"""

from __future__ import annotations

import math
import warnings

from dendrite import backend, ops
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.loss_reduction import reduce_loss, reduction_mode
from dendrite.ops.graph_operands import constant, sum_to
from dendrite.ops.operands import check_broadcast, operands, unbroadcast
from dendrite.tensor import Tensor, wrap

__all__ = ["gaussian_nll_loss", "kl_div", "poisson_nll_loss"]


# ----------------------------------------------------------------------------- KL divergence
class KLDivergence(Function):
    """Pointwise ``t (log t - x)``, or ``exp(t) (t - x)`` for a log-space target."""

    def forward(self, x, t, *, log_target):
        self.x, self.t, self.log_target = x, t, log_target
        if log_target:
            self.exp_t = xp.exp(t)
            return self.exp_t * (t - x)
        with xp.errstate(divide="ignore", invalid="ignore"):
            xlogy = xp.where(t == 0, 0, t * xp.log(t))  # 0 log 0 = 0
        return xlogy - t * x

    def backward(self, grad):
        # L = t (log t - x):  dx = -t dL;  dt = (log t + 1 - x) dL
        # log_target (L = eᵗ (t - x)):  dx = -eᵗ dL;  dt = eᵗ (t - x + 1) dL
        x, t = self.x, self.t
        grad_x = grad_t = None
        if self.log_target:
            if self.needs_input_grad[0]:
                grad_x = -grad * self.exp_t
            if self.needs_input_grad[1]:
                # as PyTorch's composition eᵗ · (t - x): eᵗ's factor summed to t's shape first (an
                # empty broadcast gives 0 · eᵗ, NaN where eᵗ = inf)
                grad_t = (unbroadcast(grad * (t - x), t.shape) * self.exp_t
                          + unbroadcast(grad * self.exp_t, t.shape))
        else:
            if self.needs_input_grad[0]:
                grad_x = -grad * t
            if self.needs_input_grad[1]:
                # PyTorch differentiates xlogy(t, t) as [t != 0] log t + t / t: NaN where t = 0.
                # xlogy(t, t) is taken at t's own shape, so its factor multiplies the gradient summed to
                # t's shape (an empty broadcast gives 0 · NaN = NaN where t = 0, as PyTorch)
                # The first factor is PyTorch's xlogy(g, t): 0 where g = 0 (an empty broadcast) even where
                # log t is NaN or inf (t < 0, t = inf), unless t is NaN; and 0 where t = 0
                summed = unbroadcast(grad, t.shape)
                with xp.errstate(divide="ignore", invalid="ignore"):
                    first = xp.where((summed == 0) & ~xp.isnan(t), 0, summed * xp.log(t))
                    first = xp.where(t == 0, 0, first)
                    grad_t = first + summed * (t / t) - unbroadcast(grad * x, t.shape)
        return (None if grad_x is None else unbroadcast(grad_x, x.shape),
                None if grad_t is None else grad_t.astype(t.dtype, copy=False))

    def backward_graph(self, grad):
        # The same formulas with tensors (xlogy's derivative at t = 0 is NaN, as in backward and PyTorch).
        x, t = self.inputs
        grad_x = grad_t = None
        if self.log_target:
            exp_t = t.exp()
            if self.needs_input_grad[0]:
                grad_x = -grad * exp_t
            if self.needs_input_grad[1]:
                grad_t = sum_to(grad * (t - x), self.t.shape) * exp_t + sum_to(grad * exp_t, self.t.shape)
        else:
            if self.needs_input_grad[0]:
                grad_x = -grad * t
            if self.needs_input_grad[1]:
                with xp.errstate(divide="ignore", invalid="ignore"):
                    nonzero = constant(self.t != 0, grad)
                    dxlogy = ops.where(nonzero > 0, t, 1.0).log() + constant(self.t / self.t, grad)
                grad_t = sum_to(grad, self.t.shape) * dxlogy - sum_to(grad * x, self.t.shape)
        return (None if grad_x is None else sum_to(grad_x, self.x.shape), grad_t)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL divergence ``target * (log target - input)`` with ``input`` in log space.

    ``reduction='batchmean'`` (sum / batch size) is the true KL divergence; ``'mean'``
    averages over all elements, as PyTorch does (and warns about).


    Shapes: input ``(*)`` log-probabilities, target ``(*)`` probabilities (log-probabilities with
    ``log_target``) -> scalar.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> log_q = F.log_softmax(dendrite.zeros(2, 4), dim=1)
        >>> F.kl_div(log_q, dendrite.full((2, 4), 0.25), reduction='batchmean').item()
        0.0
    """
    legacy = size_average is not None or reduce is not None
    reduction = reduction_mode("kl_div", reduction, size_average, reduce, extra=("batchmean",))
    if reduction == "mean" and not legacy:
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the support size; "
            "'batchmean' divides only by the batch size and matches the KL divergence's definition",
            stacklevel=2,
        )
    for value in (input, target):  # as PyTorch: log-probabilities and probabilities are floats
        if isinstance(value, Tensor) and value.dtype.kind != "f":
            raise RuntimeError(f"kl_div: integral inputs are not supported (as in PyTorch), got "
                               f"{value.dtype}; convert first, e.g. x.float()")
    input, target = operands(input, target)
    check_broadcast("kl_div", input, target, names=("input", "target"))
    loss = KLDivergence.apply(input, target, log_target=log_target)
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return reduce_loss(loss, reduction)


# ----------------------------------------------------------------------------- likelihoods (composed)
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """Poisson NLL: ``exp(input) - target * input`` (log_input) or ``input - target log(input + eps)``.

    Shapes: input ``(*)``, target ``(*)`` -> scalar.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.poisson_nll_loss(dendrite.zeros(3), dendrite.ones(3)).item()
        1.0
    """
    reduction = reduction_mode("poisson_nll_loss", reduction, size_average, reduce)
    loss = ops.exp(input) - target * input if log_input else input - target * ops.log(input + eps)
    if full:  # Stirling's approximation of log(target!), used only where target > 1
        # Computed on the raw target as PyTorch does, so the target gradient matches PyTorch's,
        # including the NaN it has where target == 0 (0 * log 0 in the backward).
        with xp.errstate(divide="ignore", invalid="ignore"):
            stirling = target * ops.log(target) - target + 0.5 * ops.log(2 * math.pi * target)
            loss = loss + ops.where(target > 1, stirling, 0.0)
    return reduce_loss(loss, reduction)


class _ClampedForward(Function):
    """``max(x, low)`` whose gradient passes through unchanged (PyTorch clamps var under no_grad)."""

    def forward(self, x, *, low):
        return xp.maximum(x, low)

    def backward(self, grad):
        # straight-through: d max(x, low) / dx taken as 1 (PyTorch clamps var without a gradient)
        return grad

    def backward_graph(self, grad):
        return grad


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Gaussian NLL ``0.5 (log var + (input - target)^2 / var)`` (+ ``0.5 log 2 pi`` if ``full``).

    Shapes: input ``(N, *)``, target ``(N, *)``, var ``(N, *)`` (or broadcastable, or a float) -> scalar.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.gaussian_nll_loss(dendrite.zeros(2, 3), dendrite.zeros(2, 3), dendrite.ones(2, 3)).item()
        0.0
    """
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        var = wrap(backend.namespace(input).full(input.shape, float(var), input.dtype))
    elif not isinstance(var, Tensor):
        raise TypeError(f"gaussian_nll_loss(): argument 'var' must be a Tensor or a number, not "
                        f"{type(var).__name__}")
    elif bool((var.array < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (var.ndim == input.ndim and sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(
                f"gaussian_nll_loss: var of shape {tuple(var.shape)} does not fit input of shape "
                f"{tuple(input.shape)}; expected the input's shape, its shape without the last dimension, "
                "or one dimension of size 1"
            )
    reduction = reduction_mode("gaussian_nll_loss", reduction)
    var = _ClampedForward.apply(var, low=eps)
    loss = 0.5 * (ops.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)
