"""Reductions: sum, mean, prod, var/std, norm; max/min, arg-max/min and all/any in files of their own.

The backward of a reduction spreads the gradient back over the elements that
were reduced: evenly for ``sum`` (divided by ``n`` for ``mean``), times the product
of the others for ``prod``, ``2 (x - mean) / (n - correction)`` for ``var``.
Softmax and logsumexp are in :mod:`dendrite.ops.softmax`.

Files: this one holds sums, means, products, moments (var, std) and norms, and re-exports the
others: :mod:`dendrite.ops.reduce_extremes` (max, min, amax, amin, argmax, argmin) and
:mod:`dendrite.ops.reduce_logical` (all, any, count_nonzero).
"""

from __future__ import annotations

import builtins
import math
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import composed_gradients, constant
from dendrite.ops.operands import float_input, kept_shape, reduction_dims
from dendrite.ops.piecewise import abs as absolute
from dendrite.ops.piecewise import where

# Extremes and truth tests live in files of their own; importable from here.
from dendrite.ops.reduce_extremes import (  # noqa: F401
    Extreme,
    ExtremeDim,
    ValuesIndices,
    _arg,
    _check_not_empty,
    _extreme,
    amax,
    amin,
    argmax,
    argmin,
    max,
    min,
)
from dendrite.ops.reduce_logical import _no_dims, all, any, count_nonzero  # noqa: F401
from dendrite.tensor_base import wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


def _numpy_axes(axes: tuple, ndim: int):
    """None for a full reduction: NumPy's fast path."""
    return None if len(axes) == ndim else axes


def _count(shape, axes) -> int:
    return math.prod(shape[a] for a in axes)


def _accumulator(dtype):
    """float16 sums and moments accumulate in float32 and are cast back (PyTorch's rule), so a mean
    of large halves does not overflow; ``None`` (NumPy's own accumulator) for every other dtype."""
    return xp.float32 if dtype == xp.float16 else None


def _cast_back(array, dtype):
    """The float32 accumulation back in float16: beyond its range it is +-inf, quietly (as PyTorch)."""
    if array.dtype == dtype:
        return array
    with xp.errstate(over="ignore"):
        return array.astype(dtype)


class Sum(Function):
    """``x.sum(axes)``; backward: the gradient broadcast back over the summed axes."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, x, axes, keepdim):
        self.shape, self.kept = x.shape, kept_shape(x.shape, axes)
        total = x.sum(axis=_numpy_axes(axes, x.ndim), keepdims=keepdim, dtype=_accumulator(x.dtype))
        return _cast_back(total, x.dtype)

    def backward(self, grad):
        return xp.broadcast_to(grad.reshape(self.kept), self.shape)

    def backward_graph(self, grad):
        return grad.reshape(self.kept).broadcast_to(self.shape)


class Mean(Function):
    """``x.sum(axes) / n``; backward: ``g / n`` broadcast back over the reduced axes."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, x, axes, keepdim):
        self.shape, self.kept = x.shape, kept_shape(x.shape, axes)
        self.count = _count(x.shape, axes)
        # sum / n, as PyTorch computes a mean (and faster than NumPy's mean for small arrays)
        accumulator = _accumulator(x.dtype)
        if accumulator is None:
            return x.sum(axis=_numpy_axes(axes, x.ndim), keepdims=keepdim) / self.count
        total = x.sum(axis=_numpy_axes(axes, x.ndim), keepdims=keepdim, dtype=accumulator)
        return _cast_back(total / self.count, x.dtype)

    def backward(self, grad):
        return xp.broadcast_to((grad / self.count).reshape(self.kept), self.shape)

    def backward_graph(self, grad):
        return (grad / self.count).reshape(self.kept).broadcast_to(self.shape)


class Moments(Function):
    """Variance (``root=False``) or standard deviation (``root=True``) over ``axes``."""

    def forward(self, x, axes, correction, keepdim, root):
        self.axes, self.root, self.dtype = axes, root, x.dtype
        # PyTorch's CPU moments accumulate one precision up (float16 in float32, float32 in float64;
        # sqrt too) and cast back: a float32 std of 1e30 is 8e29, not inf from squares beyond float32
        accumulator = _accumulator(x.dtype) or (xp.float64 if x.dtype == xp.float32 else None)
        if accumulator is not None:
            x = x.astype(accumulator)
        self.centered = x - x.mean(axis=axes, keepdims=True)
        self.divisor = builtins.max(_count(x.shape, axes) - correction, 0)
        squares = (self.centered * self.centered).sum(axis=axes, keepdims=True)
        with xp.errstate(divide="ignore", invalid="ignore"):
            result = backend.asarray(squares / self.divisor, dtype=x.dtype)
            if root:
                result = xp.sqrt(result)
        self.result = result
        result = _cast_back(result, self.dtype)
        return result if keepdim else result.squeeze(axes)

    def backward(self, grad):
        grad = grad.reshape(self.result.shape).astype(self.result.dtype, copy=False)
        with xp.errstate(divide="ignore", invalid="ignore"):
            if self.root:
                # d std = d var / (2 std); PyTorch makes it 0 where std is 0 (all values equal).
                grad = xp.where(self.result == 0, 0, grad / (2 * self.result))
            scale = 2 / xp.float64(self.divisor)  # inf (then NaN, as PyTorch) when n - correction <= 0
            return _cast_back(grad * scale * self.centered, self.dtype)

    def backward_graph(self, grad):
        # d var = 2 (x - mean) g / divisor; d std = d var / (2 std), 0 where std is 0.
        x = self.inputs[0]
        centered = x - Mean.apply(x, axes=self.axes, keepdim=True)
        grad = grad.reshape(self.result.shape)
        if self.root:
            zero = constant(self.result == 0, grad) > 0
            variance = Sum.apply(centered * centered, axes=self.axes, keepdim=True) / self.divisor
            # sqrt of 1, not 0, where std is 0: no 0 * inf from the unused branch in the next derivative
            grad = where(zero, 0.0, grad / (2 * where(zero, 1.0, variance).sqrt()))
        with xp.errstate(divide="ignore"):
            scale = float(2 / xp.float64(self.divisor))
        return grad * scale * centered


class Norm2(Function):
    """The Euclidean norm over ``axes``; its gradient at the zero vector is 0 (PyTorch)."""

    def forward(self, x, axes, keepdim):
        self.x, self.axes = x, axes
        # not scaled: PyTorch's CPU 2-norm is sqrt(sum(x²)) too (1e30 in float32 gives inf, 1e-30 gives 0)
        self.result = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        return self.result if keepdim else self.result.squeeze(axes)

    def backward(self, grad):
        grad = grad.reshape(self.result.shape)
        with xp.errstate(divide="ignore", invalid="ignore"):
            scale = xp.where(self.result == 0, 0, grad / self.result)
        return (self.x * scale).astype(self.x.dtype, copy=False)

    def backward_graph(self, grad):
        # d ||x|| = x g / ||x||, 0 at the zero vector.
        x = self.inputs[0]
        zero = constant(self.result == 0, grad) > 0
        norm = where(zero, 1.0, Sum.apply(x * x, axes=self.axes, keepdim=True)).sqrt()  # 1: no 0 * inf
        return x * where(zero, 0.0, grad.reshape(self.result.shape) / norm)


class Prod(Function):
    """``x.prod(axes)``; backward: ``g`` times the product of the other elements (exact with zeros)."""
    def forward(self, x, axes, keepdim):
        self.x, self.axes = x, axes
        result = x.prod(axis=axes, keepdims=True)
        self.kept = result.shape
        return result if keepdim else result.squeeze(axes)

    def backward(self, grad):
        grad = grad.reshape(self.kept)
        x, axes = self.x, self.axes
        if not axes:
            return grad * xp.ones_like(x)
        # Product of all the *other* elements, from prefix and suffix products: exact with zeros.
        ends = tuple(range(-len(axes), 0))
        moved = xp.moveaxis(x, axes, ends)
        kept = moved.shape[: moved.ndim - len(axes)]  # math.prod, not -1: an empty x cannot infer -1
        flat = moved.reshape(kept + (math.prod(moved.shape[moved.ndim - len(axes):]),))
        ones = xp.ones_like(flat[..., :1])
        left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], -1), -1)
        right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(flat, -1)[..., :-1]], -1), -1), -1)
        others = xp.moveaxis((left * right).reshape(moved.shape), ends, axes)
        return grad * others

    def backward_graph(self, grad):
        # Recomputed as a chain of products (exact with zeros, differentiable to any order)
        axes, shape = self.axes, tuple(grad.shape)

        def composed(x):
            ends = tuple(range(-len(axes), 0))
            moved = x.movedim(axes, ends) if axes else x.unsqueeze(-1)
            flat = moved.reshape(tuple(moved.shape[:moved.ndim - len(axes or (0,))]) + (-1,))
            product = flat[..., 0]
            for i in range(1, flat.shape[-1]):
                product = product * flat[..., i]
            return product.reshape(shape)
        return composed_gradients(self, grad, composed)[0]


def _integer_sum_input(x: Tensor, dtype) -> Tensor:
    """PyTorch sums and products of bool/integer tensors in int64 unless a dtype is given."""
    if dtype is not None:
        return float_input(x, dtype)
    if x._data.dtype.kind in "biu" and x._data.dtype != backend.int64:
        return wrap(x._data.astype(backend.int64))
    return x


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over ``dim``: ``x.sum(dim=1)`` of (N, C) is (N,). Bool and integer inputs sum in int64.

    Shapes: ``dim`` (int, tuple, or None for all) is removed, or kept as size 1 with ``keepdim=True``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1, 2, 3], [4, 5, 6]])
        >>> x.sum(), x.sum(dim=0), x.sum(dim=1, keepdim=True).shape
        (tensor(21), tensor([5, 7, 9]), (2, 1))
    """
    input = _integer_sum_input(input, dtype)
    return Sum.apply(input, axes=reduction_dims(dim, input._data.ndim), keepdim=keepdim)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over ``dim``, ``sum / n``; the input must be floating point (or give ``dtype``).

    Shapes: ``dim`` (int, tuple, or None for all) is removed, or kept as size 1 with ``keepdim=True``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> x.mean(dim=0)
        tensor([2., 3.], grad_fn=<MeanBackward>)
        >>> x.mean().backward(); x.grad  # 1 / n each
        tensor([[0.2500, 0.2500],
                [0.2500, 0.2500]])
    """
    if input._data.dtype.kind != "f" and dtype is None:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating point, got {input.dtype}"
        )
    input = float_input(input, dtype)
    return Mean.apply(input, axes=reduction_dims(dim, input._data.ndim), keepdim=keepdim)


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over ``dim`` (one int, or all); gradients are exact even where elements are zero.

    Shapes: ``dim`` (int, tuple, or None for all) is removed, or kept as size 1 with ``keepdim=True``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([2.0, 0.0, 3.0], requires_grad=True)
        >>> x.prod().backward(); x.grad  # the product of the others
        tensor([0., 6., 0.])
    """
    input = _integer_sum_input(input, dtype)
    return Prod.apply(input, axes=reduction_dims(dim, input._data.ndim), keepdim=keepdim)


def _moments(input: Tensor, dim, unbiased, keepdim, correction, root: bool) -> Tensor:
    if isinstance(dim, bool):  # var(x, False): the old positional ``unbiased``
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased in (None, True) else 0
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{'std' if root else 'var'}: only floating point dtypes are supported (as in "
                           f"PyTorch), got {input._data.dtype}; convert first, e.g. x.float()")
    input = float_input(input)
    axes = reduction_dims(dim, input._data.ndim)
    return Moments.apply(input, axes=axes, correction=correction, keepdim=keepdim, root=root)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over ``dim``: ``sum((x - mean)^2) / (n - correction)`` (``unbiased=False``: correction 0).

    Shapes: ``dim`` (int, tuple, or None for all) is removed, or kept as size 1 with ``keepdim=True``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0, 2.0, 3.0, 4.0])
        >>> x.var(), x.var(correction=0)
        (tensor(1.6667), tensor(1.2500))
    """
    return _moments(input, dim, unbiased, keepdim, correction, root=False)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation: the square root of :func:`var` with the same arguments.

    Shapes: ``dim`` (int, tuple, or None for all) is removed, or kept as size 1 with ``keepdim=True``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1.0, 3.0], [5.0, 7.0]]).std(dim=1, correction=0)
        tensor([1., 1.])
    """
    return _moments(input, dim, unbiased, keepdim, correction, root=True)


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(var, mean)`` over the same dims (each of the reduced shape).

    Example:
        >>> import dendrite
        >>> dendrite.var_mean(dendrite.tensor([1.0, 3.0]))
        (tensor(2.), tensor(2.))
    """
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim if not isinstance(dim, bool) else None, keepdim))


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(std, mean)`` over the same dims (each of the reduced shape).

    Example:
        >>> import dendrite
        >>> dendrite.std_mean(dendrite.tensor([1.0, 3.0]), correction=0)
        (tensor(1.), tensor(2.))
    """
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim if not isinstance(dim, bool) else None, keepdim))


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The p-norm over ``dim``, ``(sum |x|^p)^(1/p)``: ``p=2``/``'fro'`` Euclidean, ``1``, ``inf`` largest.

    Shapes: ``dim`` (int, tuple, or None for all) is removed, or kept as size 1 with ``keepdim=True``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([3.0, -4.0])
        >>> x.norm(), x.norm(p=1), x.norm(p=float("inf"))
        (tensor(5.), tensor(7.), tensor(4.))
    """
    if dtype is None and input._data.dtype.kind != "f":
        raise RuntimeError(f"norm: Expected a floating point or complex tensor as input. Got "
                           f"{input._data.dtype} (as in PyTorch); convert first, e.g. x.float()")
    if p == "fro" and isinstance(dim, (tuple, list)) and len(dim) > 2:  # PyTorch: a matrix norm's dims
        raise RuntimeError(f"norm: p='fro' over dims {tuple(dim)} is a matrix norm and needs exactly 2 dims "
                           "(as in PyTorch); pass p=2 for the Euclidean norm over more dims")
    input = float_input(input, dtype)
    axes = reduction_dims(dim, input._data.ndim)
    if p in (2, "fro"):
        return Norm2.apply(input, axes=axes, keepdim=keepdim)
    if p == 1:
        return sum(absolute(input), axes, keepdim)
    if p == math.inf:
        return amax(absolute(input), axes, keepdim)
    if p == -math.inf:
        return amin(absolute(input), axes, keepdim)
    if p == 0:
        return sum(wrap((input._data != 0).astype(input._data.dtype)), axes, keepdim)
    if not isinstance(p, (int, float)):
        raise ValueError(f"norm: unsupported p={p!r}; expected a number, 'fro' or inf")
    return sum(absolute(input) ** p, axes, keepdim) ** (1.0 / p)
