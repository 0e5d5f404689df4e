"""Softmax, log-softmax and logsumexp: fused for numerical stability.

All three subtract the maximum before exponentiating, so large inputs never
overflow. Their backwards are the closed forms

    d logsumexp(x)    = softmax(x) * g
    d softmax(x)      = s * (g - sum(g * s))
    d log_softmax(x)  = g - softmax(x) * sum(g)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.operands import float_input, kept_shape, normalize_dims, reduction_dims

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


def _peak(x, axes):
    """``max(x)`` along ``axes``, kept as size 1; 0 for an empty tensor (nothing to shift, as PyTorch)."""
    if x.size:
        return x.max(axis=axes, keepdims=True)
    return backend.namespace(x).zeros(
        kept_shape(x.shape, axes if isinstance(axes, tuple) else (axes,)), x.dtype)


def _shifted(x, axes):
    """``x - max(x)`` along ``axes`` for logsumexp (an all -inf slice is shifted by 0, not by -inf)."""
    peak = _peak(x, axes)
    peak = xp.where(xp.isfinite(peak), peak, 0)
    return x - peak, peak


class LogSumExp(Function):
    """``log(sum(exp(x), axes))``, shifted by the max; backward: ``g * softmax(x)``."""
    def forward(self, x, axes, keepdim):
        self.axes = axes
        shifted, peak = _shifted(x, axes)
        exps = xp.exp(shifted)
        sums = exps.sum(axis=axes, keepdims=True)
        self.kept = sums.shape
        with xp.errstate(divide="ignore", invalid="ignore"):
            self.softmax = exps / sums
            result = xp.log(sums) + peak
        return result if keepdim else result.squeeze(axes)

    def backward(self, grad):
        return grad.reshape(self.kept) * self.softmax

    def backward_graph(self, grad):
        return grad.reshape(self.kept) * Softmax.apply(self.inputs[0], axis=self.axes)


class Softmax(Function):
    """``s = exp(x) / sum(exp(x), axis)``; backward: ``s * (g - sum(g * s, axis))``."""
    def forward(self, x, axis):
        self.axis = axis
        # x - max(x): NaN where a slice's max is +-inf, exactly as PyTorch's kernel gives.
        exps = xp.exp(x - _peak(x, axis))
        self.result = exps / exps.sum(axis=axis, keepdims=True)
        return self.result

    def backward(self, grad):
        s = self.result
        return s * (grad - (grad * s).sum(axis=self.axis, keepdims=True))

    def backward_graph(self, grad):
        s = Softmax.apply(self.inputs[0], axis=self.axis)  # recomputed: the output would make a cycle
        return s * (grad - (grad * s).sum(dim=self.axis, keepdim=True))


class LogSoftmax(Function):
    """``x - logsumexp(x, axis)``; backward: ``g - softmax(x) * sum(g, axis)``."""
    def forward(self, x, axis):
        self.axis = axis
        if not x.size:  # nothing to normalise: the empty tensor itself, as PyTorch
            self.result = x.copy()
            return self.result
        shifted = x - _peak(x, axis)
        self.result = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        return self.result

    def backward(self, grad):
        return grad - xp.exp(self.result) * grad.sum(axis=self.axis, keepdims=True)

    def backward_graph(self, grad):
        return grad - Softmax.apply(self.inputs[0], axis=self.axis) * grad.sum(dim=self.axis, keepdim=True)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(input), dim))`` computed without overflow (shifted by the max).

    Shapes: ``dim`` (int or tuple) is removed, or kept as size 1 with ``keepdim=True``.

    Example:
        >>> import dendrite
        >>> dendrite.logsumexp(dendrite.tensor([[100.0, 100.0], [0.0, 0.0]]), dim=1).round(decimals=4)
        tensor([100.6931,   0.6931])
    """
    if not keepdim and input.ndim and input.numel() and dim is not None and not isinstance(dim, int) \
            and len(dim) == 0:
        # PyTorch reduces every dim over dim=() but then fails to write the result without keepdim
        raise RuntimeError("logsumexp: output with shape [] doesn't match the broadcast shape "
                           f"{list(kept_shape(input.shape, tuple(range(input.ndim))))} (as in PyTorch, "
                           "dim=() needs keepdim=True)")
    input = float_input(input)
    return LogSumExp.apply(input, axes=reduction_dims(dim, input._data.ndim), keepdim=keepdim)


def _axis(input: Tensor, dim, name: str) -> int:
    if dim is None:
        raise TypeError(f"{name}() needs an explicit dim, e.g. {name}(x, dim=-1)")
    (axis,) = normalize_dims(dim, input._data.ndim)  # a 0-d tensor takes dim in [-1, 0]
    if input._data.ndim == 0:
        return ()
    return axis


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """``exp(input) / sum(exp(input), dim)``: each slice along ``dim`` sums to 1.

    Shapes: same as ``input``, e.g. logits (N, classes) with ``dim=-1``.

    Example:
        >>> import dendrite
        >>> dendrite.softmax(dendrite.tensor([[0.0, 0.0], [0.0, 1.0]]), dim=-1).round(decimals=4)
        tensor([[0.5000, 0.5000],
                [0.2689, 0.7311]])
    """
    input = float_input(input, dtype)
    return Softmax.apply(input, axis=_axis(input, dim, "softmax"))


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """``input - logsumexp(input, dim)``, the stable log of softmax; same shape as ``input``.

    Example:
        >>> import dendrite
        >>> dendrite.log_softmax(dendrite.tensor([0.0, 0.0]), dim=0).round(decimals=4)
        tensor([-0.6931, -0.6931])
    """
    input = float_input(input, dtype)
    return LogSoftmax.apply(input, axis=_axis(input, dim, "log_softmax"))
