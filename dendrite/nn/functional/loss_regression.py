"""Regression losses: ``mse_loss``, ``l1_loss``, ``smooth_l1_loss``, ``huber_loss``.

Each compares ``input`` and ``target`` element by element (same shape, or broadcastable
with a warning) through one fused ``PointwiseLoss`` whose backward scales the local slope
by the reduction's factor, so a reduced loss needs no extra graph nodes. Gradients flow to
the target too.
"""

from __future__ import annotations

import warnings

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.loss_reduction import reduce_array, reduce_loss, reduction_mode, scale_gradient
from dendrite.ops.graph_operands import constant, sum_to
from dendrite.ops.operands import check_broadcast, operands, unbroadcast
from dendrite.tensor import Tensor

__all__ = ["huber_loss", "l1_loss", "mse_loss", "smooth_l1_loss"]


# ----------------------------------------------------------------------------- regression losses
class PointwiseLoss(Function):
    """A loss of ``d = input - target`` (broadcast) per element; ``slope`` is its derivative in d."""

    replayable = True  # dendrite.compile may replay it (autograd/function.py)

    def forward(self, x, t, *, kind, parameter, reduction):
        d = x - t
        self.shapes, self.reduction, self.count = (x.shape, t.shape), reduction, d.size
        self.kind, self.parameter = kind, parameter
        if kind == "squared":
            loss, self.slope = d * d, 2 * d
        elif kind == "absolute":
            loss, self.slope = xp.abs(d), xp.sign(d)
        elif kind == "smooth_l1":  # parameter: beta
            small = xp.abs(d) < parameter
            loss = xp.where(small, 0.5 * d * d / parameter, xp.abs(d) - 0.5 * parameter)
            self.slope = xp.where(d <= -parameter, -1, xp.where(d >= parameter, 1, d / parameter))
        else:  # huber, parameter: delta
            small = xp.abs(d) < parameter
            loss = xp.where(small, 0.5 * d * d, parameter * (xp.abs(d) - 0.5 * parameter))
            self.slope = xp.where(d <= -parameter, -parameter, xp.where(d >= parameter, parameter, d))
        return reduce_array(loss.astype(d.dtype, copy=False), reduction)

    def backward(self, grad):
        # L = ℓ(x - t):  dx = ℓ'(x - t) · dL;  dt = -dx  (ℓ' = 2d, sign d, or the clipped slope of
        # smooth-L1 / Huber; dL divided by the count for a mean)
        local = self.slope * scale_gradient(grad, self.reduction, self.count)
        grad_x = unbroadcast(local, self.shapes[0]) if self.needs_input_grad[0] else None
        grad_t = unbroadcast(-local, self.shapes[1]) if self.needs_input_grad[1] else None
        return grad_x, grad_t

    def backward_graph(self, grad):
        # The same formula with tensors; ℓ' is linear in d (squared) or piecewise: constant masks outside.
        x, t = self.inputs
        d = x - t
        beta, kind = self.parameter, self.kind
        if kind == "squared":
            slope = 2 * d
        elif kind == "absolute":
            slope = constant(self.slope, grad)
        else:  # smooth L1 (d / beta inside) or Huber (d inside); ±1 or ±delta outside
            inside = constant(xp.abs(self.slope) < (1 if kind == "smooth_l1" else beta), grad)
            outside = constant(self.slope, grad) * (1 - inside)
            slope = (d / beta if kind == "smooth_l1" else d) * inside + outside
        local = slope * scale_gradient(grad, self.reduction, self.count)
        return (sum_to(local, self.shapes[0]) if self.needs_input_grad[0] else None,
                sum_to(-local, self.shapes[1]) if self.needs_input_grad[1] else None)


def _pointwise(name, input, target, kind, parameter, reduction, weight=None, weighted_mean="sum"):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"{name}: using a target size ({tuple(target.shape)}) that is different to the input size "
            f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )
        check_broadcast(name, input, target, names=("input", "target"))
    input, target = operands(input, target)
    if weight is None:
        return PointwiseLoss.apply(input, target, kind=kind, parameter=parameter, reduction=reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{name}: weights and input must have the same size, got weight of shape "
                         f"{tuple(weight.shape)} and input of shape {tuple(input.shape)}")
    loss = PointwiseLoss.apply(input, target, kind=kind, parameter=parameter, reduction="none") * weight
    if reduction == "mean":  # PyTorch: mse/l1 divide by the summed weights, huber by the count
        return loss.sum() / weight.sum() if weighted_mean == "sum" else loss.mean()
    return reduce_loss(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target)^2``; ``weight`` (input's shape) makes it a weighted mean.

    Shapes: input ``(*)``, target ``(*)`` (same) -> scalar, or ``(*)`` with ``reduction='none'``.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x, y = dendrite.tensor([1.0, 2.0, 3.0]), dendrite.tensor([1.0, 0.0, 5.0])
        >>> F.mse_loss(x, y).item()
        2.6666667461395264
    """
    reduction = reduction_mode("mse_loss", reduction, size_average, reduce)
    return _pointwise("mse_loss", input, target, "squared", None, reduction, weight)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|input - target|``.

    Shapes: input ``(*)``, target ``(*)`` (same) -> scalar, or ``(*)`` with ``reduction='none'``.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x, y = dendrite.tensor([1.0, 2.0, 3.0]), dendrite.tensor([1.0, 0.0, 5.0])
        >>> F.l1_loss(x, y).item()
        1.3333333730697632
    """
    reduction = reduction_mode("l1_loss", reduction, size_average, reduce)
    if any(isinstance(v, Tensor) and v.dtype == bool for v in (input, target)):  # PyTorch: bool subtraction
        raise RuntimeError("l1_loss: a bool input or target is not supported (as in PyTorch); convert first, "
                           "e.g. x.float()")
    return _pointwise("l1_loss", input, target, "absolute", None, reduction, weight)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``).

    Shapes: input ``(*)``, target ``(*)`` (same) -> scalar, or ``(*)`` with ``reduction='none'``.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x, y = dendrite.tensor([1.0, 2.0, 3.0]), dendrite.tensor([1.0, 0.0, 5.0])
        >>> F.smooth_l1_loss(x, y, reduction='none').tolist()
        [0.0, 1.5, 1.5]
    """
    reduction = reduction_mode("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:  # PyTorch switches to l1_loss
        return _pointwise("smooth_l1_loss", input, target, "absolute", None, reduction)
    return _pointwise("smooth_l1_loss", input, target, "smooth_l1", float(beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)`` (``d = input - target``).

    Shapes: input ``(*)``, target ``(*)`` (same) -> scalar, or ``(*)`` with ``reduction='none'``.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x, y = dendrite.tensor([1.0, 2.0, 3.0]), dendrite.tensor([1.0, 0.0, 5.0])
        >>> F.huber_loss(x, y, reduction='none').tolist()
        [0.0, 1.5, 1.5]
    """
    reduction = reduction_mode("huber_loss", reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be positive, got {delta}")
    # PyTorch writes huber_loss into a result of the input's dtype: a floating input; the target read in it
    if isinstance(input, Tensor) and input.dtype.kind != "f":
        raise RuntimeError(f"huber_loss: expected a floating point input, got {input.dtype}; convert first, "
                           "e.g. x.float()")
    if isinstance(input, Tensor) and isinstance(target, Tensor) and target.dtype != input.dtype:
        target = target.to(input.dtype)
    return _pointwise("huber_loss", input, target, "huber", float(delta), reduction, weight, "count")
