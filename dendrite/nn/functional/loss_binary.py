"""Two-class and multi-label losses: binary cross-entropy (on probabilities or logits), soft margins.

``binary_cross_entropy`` and ``binary_cross_entropy_with_logits`` are fused ``Function``s
(the logits form is stable for any input); ``soft_margin_loss`` (targets in {1, -1}) and
``multilabel_soft_margin_loss`` are composed from :mod:`dendrite.ops`. Shapes: input and
target alike, ``(*)``; the multi-label form takes ``(N, C)``.
"""

from __future__ import annotations

from dendrite import ops
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.activation import logsigmoid
from dendrite.nn.functional.loss_reduction import reduce_array, reduce_loss, reduction_mode, scale_gradient
from dendrite.ops.graph_operands import sum_to
from dendrite.ops.operands import check_broadcast, operands, unbroadcast
from dendrite.tensor import Tensor

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "multilabel_soft_margin_loss",
    "soft_margin_loss",
]


# ----------------------------------------------------------------------------- binary cross-entropy
class BinaryCrossEntropy(Function):
    def forward(self, x, t, weight=None, *, reduction):
        self.x, self.t, self.weight, self.reduction = x, t, weight, reduction
        with xp.errstate(divide="ignore"):  # log(0) = -inf, clamped at -100 as in PyTorch
            loss = (t - 1) * xp.maximum(xp.log1p(-x), -100) - t * xp.maximum(xp.log(x), -100)
        if weight is not None:
            loss = loss * weight
        return reduce_array(loss, reduction)

    def backward(self, grad):
        # L = -w (t log x + (1 - t) log(1 - x)):  dx = w dL (x - t) / (x (1 - x));  dt = -w dL logit(x)
        x, t, weight = self.x, self.t, self.weight
        scale = scale_gradient(grad, self.reduction, x.size)
        if weight is not None:
            scale = scale * weight
        grad_x = grad_t = None
        if self.needs_input_grad[0]:
            grad_x = scale * (x - t) / xp.maximum((1 - x) * x, 1e-12)
        if self.needs_input_grad[1]:
            with xp.errstate(divide="ignore"):
                grad_t = -scale * xp.log(x / (1 - x))  # -logit(x)
        return grad_x, grad_t, None

    def backward_graph(self, grad):
        # The same formulas with tensors: dx = w dL (x - t) / (x (1 - x));  dt = -w dL logit(x)
        x, t, weight = (tuple(self.inputs) + (None,))[:3]
        scale = scale_gradient(grad, self.reduction, self.x.size)
        if weight is not None:
            scale = scale * weight
        grad_x = grad_t = None
        if self.needs_input_grad[0]:
            grad_x = scale * (x - t) / ((1 - x) * x).clamp_min(1e-12)
        if self.needs_input_grad[1]:
            grad_t = -scale * (x / (1 - x)).log()
        return grad_x, grad_t, None


def _check_weight(name: str, what: str, weight, input: Tensor):
    if weight is None:
        return None
    try:
        fits = xp.broadcast_shapes(tuple(weight.shape), tuple(input.shape)) == tuple(input.shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name}: {what} of shape {tuple(weight.shape)} cannot be broadcast to the input's shape "
            f"{tuple(input.shape)}"
        )
    return weight.to(input.dtype)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``-w (t log(x) + (1 - t) log(1 - x))`` for probabilities ``x`` in [0, 1]; logs clamped at -100.

    Shapes: input and target the same shape; weight broadcastable to it.

    Shapes: input ``(*)`` probabilities, target ``(*)`` in [0, 1] -> scalar
    (``(*)`` with ``reduction='none'``).

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> p, t = dendrite.tensor([0.5, 0.5]), dendrite.tensor([1.0, 0.0])
        >>> round(F.binary_cross_entropy(p, t).item(), 4)
        0.6931
    """
    reduction = reduction_mode("binary_cross_entropy", reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"binary_cross_entropy: using a target size ({tuple(target.shape)}) that is different to the "
            f"input size ({tuple(input.shape)}) is not supported; please ensure they have the same size"
        )
    data = input.array
    if data.size and not ((data >= 0) & (data <= 1)).all():
        raise RuntimeError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 (probabilities); "
            "for raw scores use binary_cross_entropy_with_logits"
        )
    weight = _check_weight("binary_cross_entropy", "weight", weight, input)
    input, target = operands(input, target)
    return BinaryCrossEntropy.apply(input, target, weight, reduction=reduction)


def _log_sigmoid(x):
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


class BinaryCrossEntropyWithLogits(Function):
    """``(1 - t) x - (1 + (pos_weight - 1) t) log sigmoid(x)``, weighted: stable for any ``x``."""

    def forward(self, x, t, weight=None, pos_weight=None, *, reduction):
        self.x, self.t, self.weight, self.pos_weight, self.reduction = x, t, weight, pos_weight, reduction
        self.log_sigmoid = _log_sigmoid(x)
        if pos_weight is None:
            loss = (1 - t) * x - self.log_sigmoid
        else:
            loss = (1 - t) * x - ((pos_weight - 1) * t + 1) * self.log_sigmoid
        if weight is not None:
            loss = loss * weight
        return reduce_array(loss, reduction)

    def backward(self, grad):
        # L = (1 - t) x - (1 + (p - 1) t) log σ(x):  dx = w dL ((p t + 1 - t) σ(x) - p t);
        # dt = w dL (log σ(-x) - p log σ(x))  (p = pos_weight; p = 1: dx = σ(x) - t, dt = -x)
        x, t, pos_weight = self.x, self.t, self.pos_weight
        scale = scale_gradient(grad, self.reduction, x.size)
        if self.weight is not None:
            scale = scale * self.weight
        grad_x = grad_t = None
        if self.needs_input_grad[0]:
            sigmoid = xp.exp(self.log_sigmoid)
            if pos_weight is None:
                grad_x = scale * (sigmoid - t)
            else:
                grad_x = scale * ((pos_weight * t + 1 - t) * sigmoid - pos_weight * t)
        if self.needs_input_grad[1]:
            if pos_weight is None:
                grad_t = -scale * x
            else:
                grad_t = scale * (_log_sigmoid(-x) - pos_weight * self.log_sigmoid)
        return (unbroadcast(grad_x, x.shape) if grad_x is not None else None,
                unbroadcast(grad_t, t.shape) if grad_t is not None else None, None, None)

    def backward_graph(self, grad):
        x, t, weight, pos_weight = (tuple(self.inputs) + (None, None))[:4]
        scale = scale_gradient(grad, self.reduction, self.x.size)
        if weight is not None:
            scale = scale * weight
        grad_x = grad_t = None
        if self.needs_input_grad[0]:
            sigmoid = x.sigmoid()
            if pos_weight is None:
                grad_x = scale * (sigmoid - t)
            else:
                grad_x = scale * ((pos_weight * t + 1 - t) * sigmoid - pos_weight * t)
        if self.needs_input_grad[1]:
            if pos_weight is None:
                grad_t = -scale * x
            else:
                grad_t = scale * (logsigmoid(-x) - pos_weight * logsigmoid(x))
        return (None if grad_x is None else sum_to(grad_x, self.x.shape),
                None if grad_t is None else sum_to(grad_t, self.t.shape), None, None)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step, on raw scores ``input``.

    Shapes: input and target the same shape; weight and pos_weight broadcastable to it
    (pos_weight usually (C,), weighting the positive examples of each class).
    Example: ``binary_cross_entropy_with_logits(tensor([0.]), tensor([1.]))`` is ``log 2``.

    Shapes: input ``(*)`` logits, target ``(*)`` in [0, 1] -> scalar (``(*)`` with ``reduction='none'``).

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> logits, t = dendrite.zeros(4, 3), dendrite.ones(4, 3)
        >>> round(F.binary_cross_entropy_with_logits(logits, t).item(), 4)
        0.6931
    """
    reduction = reduction_mode("binary_cross_entropy_with_logits", reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"binary_cross_entropy_with_logits: target size ({tuple(target.shape)}) must be the same as "
            f"input size ({tuple(input.shape)})"
        )
    weight = _check_weight("binary_cross_entropy_with_logits", "weight", weight, input)
    pos_weight = _check_weight("binary_cross_entropy_with_logits", "pos_weight", pos_weight, input)
    input, target = operands(input, target)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction=reduction)


# ----------------------------------------------------------------------------- soft margins (composed)
def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target * input))``, ``target`` in {1, -1}.

    Shapes: input ``(*)``, target ``(*)`` -> scalar.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.soft_margin_loss(dendrite.zeros(3), dendrite.ones(3)).item() > 0
        True
    """
    reduction = reduction_mode("soft_margin_loss", reduction, size_average, reduce)
    # PyTorch writes the loss into an input-shaped result: the target must broadcast to the input's shape
    check_broadcast("soft_margin_loss", input, target, names=("input", "target"), onto_first=True)
    return reduce_loss(ops.log1p(ops.exp(-target * input)), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-label one-vs-all logistic loss, averaged over the C classes: (N, C) -> (N,) before reduction.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.multilabel_soft_margin_loss(dendrite.zeros(2, 3), dendrite.ones(2, 3), reduction='none').shape
        (2,)
    """
    reduction = reduction_mode("multilabel_soft_margin_loss", reduction, size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    return reduce_loss(loss, reduction)
