"""Reductions: sum, mean, max/min, var/std, arg-max/min, logsumexp, softmax.

The backward of a reduction spreads the gradient back over the elements that
were reduced: evenly for ``sum`` (and divided by ``n`` for ``mean``), to the
winning element for ``max(dim)``, and through the softmax Jacobian
``s * (g - sum(g * s))`` for softmax.
"""

from __future__ import annotations

import builtins
from collections import namedtuple

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.tensor import Tensor, _new_tensor

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def normalize_dims(dim, ndim: int, name: str = "dim") -> tuple:
    """``dim`` (None, int or sequence) as a tuple of non-negative axes, checked."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, xp.integer)) else tuple(dim)
    span = builtins.max(ndim, 1)
    low, high = -span, span - 1
    result = []
    for d in dims:
        if not low <= d <= high:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{low}, {high}], but got {d})"
            )
        result.append(int(d) % span if ndim else 0)
    if len(set(result)) != len(result):
        raise RuntimeError(f"{name} {dim} appears multiple times in the list of dims")
    return tuple(result)


def _expand_back(grad, axes, keepdim, shape):
    """Undo a reduction's shape change: re-insert the reduced axes, then broadcast."""
    if not keepdim and shape:
        grad = xp.expand_dims(grad, axes)
    return xp.broadcast_to(grad, shape)


class Sum(Function):
    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        return xp.asarray(x.sum(axis=axes, keepdims=keepdim))

    def backward(self, grad):
        return _expand_back(grad, self.axes, self.keepdim, self.shape)


class Mean(Function):
    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        self.count = int(xp.prod([x.shape[a] for a in axes])) if x.ndim else 1
        return xp.asarray(x.mean(axis=axes, keepdims=keepdim))

    def backward(self, grad):
        return _expand_back(grad / self.count, self.axes, self.keepdim, self.shape)


class ExtremeAll(Function):
    """max()/min() over everything: ties share the gradient evenly (as in PyTorch)."""

    def forward(self, x, use_max):
        self.x = x
        self.result = xp.asarray(x.max() if use_max else x.min())
        return self.result

    def backward(self, grad):
        winners = self.x == self.result
        return grad * winners / winners.sum()


class ExtremeDim(Function):
    """max(dim)/min(dim): the gradient goes to the element at the returned index."""

    def forward(self, x, indices, axis, keepdim):
        self.shape, self.axis, self.keepdim = x.shape, axis, keepdim
        self.indices = indices
        values = xp.take_along_axis(x, indices, axis)
        return values if keepdim else values.squeeze(axis)

    def backward(self, grad):
        if not self.keepdim:
            grad = xp.expand_dims(grad, self.axis)
        result = xp.zeros(self.shape, grad.dtype)
        xp.put_along_axis(result, self.indices, grad, self.axis)
        return result


class Var(Function):
    def forward(self, x, axes, correction, keepdim):
        self.axes, self.keepdim, self.shape = axes, keepdim, x.shape
        count = int(xp.prod([x.shape[a] for a in axes])) if x.ndim else 1
        self.centered = x - x.mean(axis=axes, keepdims=True)
        self.divisor = builtins.max(count - correction, 0)
        squares = (self.centered * self.centered).sum(axis=axes, keepdims=keepdim)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.asarray(squares / self.divisor, dtype=x.dtype)

    def backward(self, grad):
        if not self.keepdim and self.shape:
            grad = xp.expand_dims(grad, self.axes)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return (grad * (2 / self.divisor) * self.centered).astype(self.centered.dtype, copy=False)


class LogSumExp(Function):
    def forward(self, x, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim
        peak = x.max(axis=axes, keepdims=True)
        peak = xp.where(xp.isfinite(peak), peak, 0)
        exps = xp.exp(x - peak)
        sums = exps.sum(axis=axes, keepdims=True)
        self.softmax = exps / sums
        result = xp.log(sums) + peak
        return result if keepdim else xp.asarray(result.squeeze(axes))

    def backward(self, grad):
        if not self.keepdim:
            grad = xp.expand_dims(grad, self.axes)
        return grad * self.softmax


class Softmax(Function):
    def forward(self, x, axis):
        self.axis = axis
        exps = xp.exp(x - x.max(axis=axis, keepdims=True))
        self.result = exps / exps.sum(axis=axis, keepdims=True)
        return self.result

    def backward(self, grad):
        s = self.result
        return s * (grad - (grad * s).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    def forward(self, x, axis):
        self.axis = axis
        shifted = x - x.max(axis=axis, keepdims=True)
        self.result = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        return self.result

    def backward(self, grad):
        return grad - xp.exp(self.result) * grad.sum(axis=self.axis, keepdims=True)


def _float_input(x: Tensor, dtype=None) -> Tensor:
    from dendrite.ops.elementwise import cast

    if dtype is not None:
        return cast(x, dtype)
    if x._data.dtype.kind != "f":
        return cast(x, backend.get_default_dtype())
    return x


def sum(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Sum over ``dim`` (int, tuple, or all). Example: ``x.sum(dim=1)`` of (N, C) is (N,)."""
    if dtype is not None:
        x = _float_input(x, dtype)
    elif x._data.dtype.kind in "biu":
        x = _new_tensor(x._data.astype(backend.int64))
    return Sum.apply(x, axes=normalize_dims(dim, x._data.ndim), keepdim=keepdim)


def mean(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Mean over ``dim`` (int, tuple, or all)."""
    if x._data.dtype.kind != "f" and dtype is None:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating point, got {x.dtype}"
        )
    x = _float_input(x, dtype)
    return Mean.apply(x, axes=normalize_dims(dim, x._data.ndim), keepdim=keepdim)


def _extreme(x: Tensor, dim, keepdim: bool, use_max: bool):
    from dendrite.ops.math import maximum, minimum

    if isinstance(dim, Tensor):
        return maximum(x, dim) if use_max else minimum(x, dim)
    if dim is None:
        if x._data.size == 0:
            raise RuntimeError("max(): cannot reduce an empty tensor without a dim")
        return ExtremeAll.apply(x, use_max=use_max)
    (axis,) = normalize_dims(dim, x._data.ndim)
    data = x._data if x._data.ndim else x._data.reshape(1)
    arg = xp.argmax if use_max else xp.argmin
    indices = xp.expand_dims(arg(data, axis=axis), axis)
    values = ExtremeDim.apply(x if x._data.ndim else x.reshape(1), indices=indices, axis=axis, keepdim=keepdim)
    if not x._data.ndim:
        values = values.reshape(())
        indices = indices.reshape(())
    elif not keepdim:
        indices = indices.squeeze(axis)
    return ValuesIndices(values, _new_tensor(indices.astype(backend.int64)))


def max(x: Tensor, dim=None, keepdim: bool = False):
    """The largest value; with ``dim`` a ``(values, indices)`` pair; with a tensor, ``maximum``."""
    return _extreme(x, dim, keepdim, use_max=True)


def min(x: Tensor, dim=None, keepdim: bool = False):
    """The smallest value; with ``dim`` a ``(values, indices)`` pair; with a tensor, ``minimum``."""
    return _extreme(x, dim, keepdim, use_max=False)


def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    result = max(x, dim, keepdim)
    return result if dim is None else result.values


def amin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    result = min(x, dim, keepdim)
    return result if dim is None else result.values


def _arg(x: Tensor, dim, keepdim: bool, function) -> Tensor:
    if dim is None:
        index = function(x._data.reshape(-1))
        shape = (1,) * x._data.ndim if keepdim else ()
        return _new_tensor(xp.asarray(index, backend.int64).reshape(shape))
    (axis,) = normalize_dims(dim, x._data.ndim)
    indices = function(x._data, axis=axis)
    if keepdim:
        indices = xp.expand_dims(indices, axis)
    return _new_tensor(xp.asarray(indices, backend.int64))


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (over the flattened tensor when ``dim`` is None)."""
    return _arg(x, dim, keepdim, xp.argmax)


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value (over the flattened tensor when ``dim`` is None)."""
    return _arg(x, dim, keepdim, xp.argmin)


def var(x: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over ``dim``; ``unbiased`` divides by ``n - 1`` (``correction`` overrides)."""
    if isinstance(dim, bool):  # var(x, False): the old positional ``unbiased``
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased else 0
    x = _float_input(x)
    return Var.apply(x, axes=normalize_dims(dim, x._data.ndim), correction=correction, keepdim=keepdim)


def std(x: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation: ``sqrt(var(...))`` with the same arguments."""
    from dendrite.ops.math import sqrt

    return sqrt(var(x, dim, unbiased, keepdim, correction=correction))


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x), dim))`` computed without overflow."""
    x = _float_input(x)
    return LogSumExp.apply(x, axes=normalize_dims(dim, x._data.ndim), keepdim=keepdim)


def softmax(x: Tensor, dim: int, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)``, stable for large inputs."""
    x = _float_input(x, dtype)
    (axis,) = normalize_dims(dim, x._data.ndim)
    return Softmax.apply(x, axis=axis)


def log_softmax(x: Tensor, dim: int, dtype=None) -> Tensor:
    """``x - logsumexp(x, dim)``, the stable log of softmax."""
    x = _float_input(x, dtype)
    (axis,) = normalize_dims(dim, x._data.ndim)
    return LogSoftmax.apply(x, axis=axis)


def prod(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Product over ``dim`` (gradients exact even where elements are zero)."""
    axes = normalize_dims(dim, x._data.ndim)
    return Prod.apply(x, axes=axes, keepdim=keepdim)


class Prod(Function):
    def forward(self, x, axes, keepdim):
        self.x, self.axes, self.keepdim = x, axes, keepdim
        self.result = xp.asarray(x.prod(axis=axes, keepdims=True))
        return self.result if keepdim else xp.asarray(self.result.squeeze(axes) if axes else self.result)

    def backward(self, grad):
        if not self.keepdim and self.axes:
            grad = xp.expand_dims(grad, self.axes)
        x = self.x
        # Product of all the *other* elements; computed directly so zeros are handled exactly.
        moved = xp.moveaxis(x, self.axes, tuple(range(-len(self.axes), 0))) if self.axes else x
        flat = moved.reshape(moved.shape[: moved.ndim - len(self.axes)] + (-1,))
        left = xp.cumprod(xp.concatenate([xp.ones_like(flat[..., :1]), flat[..., :-1]], -1), -1)
        right = xp.flip(xp.cumprod(xp.concatenate(
            [xp.ones_like(flat[..., :1]), xp.flip(flat, -1)[..., :-1]], -1), -1), -1)
        others = (left * right).reshape(moved.shape)
        if self.axes:
            others = xp.moveaxis(others, tuple(range(-len(self.axes), 0)), self.axes)
        return grad * others


def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    axes = normalize_dims(dim, x._data.ndim)
    return _new_tensor(xp.asarray(xp.all(x._data, axis=axes, keepdims=keepdim)))


def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    axes = normalize_dims(dim, x._data.ndim)
    return _new_tensor(xp.asarray(xp.any(x._data, axis=axes, keepdims=keepdim)))


def norm(x: Tensor, p=2, dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm (``p=2`` Euclidean, ``p=1`` sum of magnitudes) over ``dim``."""
    from dendrite.ops.math import abs as absolute
    from dendrite.ops.math import sqrt

    if p == 2 or p == "fro":
        return sqrt(sum(x * x, dim, keepdim))
    if p == 1:
        return sum(absolute(x), dim, keepdim)
    return sum(absolute(x) ** p, dim, keepdim) ** (1.0 / p)
