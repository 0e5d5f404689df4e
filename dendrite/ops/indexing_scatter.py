"""Writing into a copy at indices: ``scatter``, ``scatter_add`` and ``index_add``, the inverses of gather.

``scatter_add`` and ``index_add`` add ``src`` in (repeated indices add up, ``xp.add.at``); their
backward passes the gradient through to the input and reads the source's gradient back at the
indices. ``scatter`` overwrites: the overwritten input elements get no gradient, the source gets
the gradient at the places it was written. Reading at indices (``x[...]``, gather, index_select)
is in :mod:`dendrite.ops.indexing`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import constant, linear_map
from dendrite.ops.indexing_arrays import _index_array, _scatter_index, check_index_bounds
from dendrite.ops.operands import normalize_dims
from dendrite.tensor_base import TensorBase

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


class ScatterAdd(Function):
    """``out = input`` with ``src`` added at ``index`` along ``axis`` (repeats add up)."""

    def forward(self, x, src, index, axis):
        self.index, self.axis = index, axis
        result = x.copy()
        xp.add.at(result, _scatter_index(index, axis), src[tuple(slice(0, s) for s in index.shape)])
        self.src_shape = src.shape
        return result

    def backward(self, grad):
        grad_src = None
        if self.needs_input_grad[1]:
            grad_src = backend.namespace(grad).zeros(self.src_shape, grad.dtype)
            window = tuple(slice(0, s) for s in self.index.shape)
            grad_src[window] = grad[_scatter_index(self.index, self.axis)]
        return grad, grad_src

    def backward_graph(self, grad):
        grad_src = None
        if self.needs_input_grad[1]:
            grad_src = linear_map(grad, *_window_maps(self.index, self.axis, self.src_shape, grad.shape))
        return grad, grad_src


def _window_maps(index, axis: int, src_shape: tuple, out_shape: tuple):
    """The linear map g -> src's gradient (g at ``index``, in src's shape) and its transpose (scatter)."""
    where = _scatter_index(index, axis)
    window = tuple(slice(0, s) for s in index.shape)

    def take(g):
        result = backend.namespace(g).zeros(src_shape, g.dtype)
        result[window] = g[where]
        return result

    def put(h):
        result = backend.namespace(h).zeros(out_shape, h.dtype)
        xp.add.at(result, where, h[window])
        return result
    return take, put


class Scatter(Function):
    """``out = input`` with ``src`` written at ``index`` (the overwritten inputs get no gradient)."""

    def forward(self, x, src, index, axis):
        self.index, self.axis = index, axis
        self.src_is_array = backend.is_array(src)
        self.src_shape = src.shape if self.src_is_array else ()
        result = x.copy()
        where = _scatter_index(index, axis)
        result[where] = src[tuple(slice(0, s) for s in index.shape)] if self.src_is_array else src
        return result

    def backward(self, grad):
        where = _scatter_index(self.index, self.axis)
        grad_x = grad.copy()
        grad_x[where] = 0
        grad_src = None
        if self.needs_input_grad[1] and self.src_is_array:
            grad_src = backend.namespace(grad).zeros(self.src_shape, grad.dtype)
            grad_src[tuple(slice(0, s) for s in self.index.shape)] = grad[where]
        return grad_x, grad_src

    def backward_graph(self, grad):
        where = _scatter_index(self.index, self.axis)
        kept = backend.namespace(grad).ones(grad.shape, bool)
        kept[where] = False
        grad_x = grad * constant(kept, grad)
        grad_src = None
        if self.needs_input_grad[1] and self.src_is_array:
            grad_src = linear_map(grad, *_window_maps(self.index, self.axis, self.src_shape, grad.shape))
        return grad_x, grad_src


def _scatter_call(op: str, function, input, dim, index, source):
    """PyTorch's scatter checks: an empty index gives a copy of the input; a 0-d or 1-D input, index
    and src read as 1-D; otherwise index has input's rank and is no larger than src, nor than input
    outside ``dim``."""
    (axis,) = normalize_dims(dim, max(input._data.ndim, 1))  # a 0-d input reads as one element
    array = _index_array(index, op)
    is_tensor = isinstance(source, TensorBase)
    if array.size == 0:
        return input.clone()
    if input._data.ndim <= 1 and array.ndim <= 1 and (not is_tensor or source._data.ndim <= 1):
        check_index_bounds(op, array, input._data.size, 0)
        flat = source.reshape(-1) if is_tensor else source
        if is_tensor and flat._data.size < array.size:
            raise RuntimeError(f"{op}: index {array.shape} must be no larger than src {tuple(source.shape)}")
        out = function.apply(input.reshape(-1), flat, index=array.reshape(-1), axis=0)
        return out.reshape(tuple(input.shape))
    if array.ndim != input._data.ndim or (is_tensor and source._data.ndim != array.ndim):
        raise RuntimeError(f"{op}: index {array.shape} must have the same number of dimensions as the input "
                           f"{tuple(input.shape)}" + (f" and src {tuple(source.shape)}" if is_tensor else ""))
    if any(i > n for d, (i, n) in enumerate(zip(array.shape, input._data.shape)) if d != axis) or (
            is_tensor and any(i > n for i, n in zip(array.shape, source._data.shape))):
        raise RuntimeError(f"{op}: index {array.shape} must be no larger than src"
                           + (f" {tuple(source.shape)}" if is_tensor else "")
                           + f" and than the input {tuple(input.shape)} in every dimension but dim={dim}")
    check_index_bounds(op, array, input._data.shape[axis], axis)
    return function.apply(input, source, index=array, axis=axis)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Add ``src`` into a copy of ``input`` at ``index`` along ``dim`` (the inverse of gather).

    ``out[index[i][j]][j] += src[i][j]`` for ``dim=0``; repeats add up. Shapes: ``index``
    and ``src`` have input's ndim; the output has input's shape.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(3).scatter_add(0, dendrite.tensor([0, 0, 2]), dendrite.tensor([1.0, 2.0, 5.0]))
        tensor([3., 0., 5.])
    """
    return _scatter_call("scatter_add", ScatterAdd, input, dim, index, src)


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None) -> Tensor:
    """Write ``src`` (a tensor) or ``value`` (a number) into a copy of ``input`` at ``index`` along ``dim``.

    ``out[i][index[i][j]] = src[i][j]`` for ``dim=1``; the output has input's shape.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2, 3).scatter(1, dendrite.tensor([[2], [0]]), value=1.0)  # one-hot rows
        tensor([[0., 0., 1.],
                [1., 0., 0.]])
    """
    source = value if src is None else src
    if source is None:
        raise TypeError("scatter: give src (a tensor) or value (a number)")
    return _scatter_call("scatter", Scatter, input, dim, index, source)


class IndexAdd(Function):
    """``out = input`` with ``alpha * source`` added at rows ``index`` along ``axis``."""

    def forward(self, x, source, index, axis, alpha):
        self.selector = (slice(None),) * axis + (index,)
        self.alpha = alpha
        result = x.copy()
        xp.add.at(result, self.selector, source * alpha if alpha != 1 else source)
        return result

    def backward(self, grad):
        grad_source = grad[self.selector] if self.needs_input_grad[1] else None
        if grad_source is not None and self.alpha != 1:
            grad_source = grad_source * self.alpha
        return grad, grad_source

    def backward_graph(self, grad):
        grad_source = None
        if self.needs_input_grad[1]:
            # Tensor indexing makes the same GetItem node (GetItem lives in indexing.py, which imports this)
            grad_source = grad[self.selector]
            if self.alpha != 1:
                grad_source = grad_source * self.alpha
        return grad, grad_source


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source[i]`` added at position ``index[i]`` along ``dim``.

    Shapes: ``index`` 1-D of length k; ``source`` is input's shape with k along ``dim``.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(3, 2).index_add(0, dendrite.tensor([0, 0, 2]), dendrite.ones(3, 2))
        tensor([[2., 2.],
                [0., 0.],
                [1., 1.]])
    """
    (axis,) = normalize_dims(dim, max(input._data.ndim, 1))  # a 0-d input reads as one element
    array = _index_array(index, "index_add").reshape(-1)
    if input._data.ndim == 0:  # PyTorch: one index (0 or [0]) and a 0-d source
        if array.shape[0] != 1 or source.ndim != 0:
            raise RuntimeError(f"index_add: a 0-d input takes one index and a 0-d source, got an index of "
                               f"{array.shape[0]} values and a source of shape {tuple(source.shape)}")
        check_index_bounds("index_add", array, 1, 0)
        return index_add(input.reshape(1), 0, index.reshape(1), source.reshape(1), alpha=alpha).reshape(())
    expected = input.shape[:axis] + (array.shape[0],) + input.shape[axis + 1:]
    if tuple(source.shape) != expected:
        raise RuntimeError(
            f"index_add: source of shape {tuple(source.shape)} does not fit; expected {expected} "
            f"(the input {tuple(input.shape)} with dim {dim} of the index's length {array.shape[0]})"
        )
    check_index_bounds("index_add", array, input._data.shape[axis], axis)
    return IndexAdd.apply(input, source, index=array, axis=axis, alpha=alpha)
