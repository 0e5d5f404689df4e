"""Indexing ``x[...]`` with PyTorch/NumPy semantics, and gather/scatter.

Basic indices (integers, slices, ``None``, ``...``) select a view; its
gradient is written back into a zero tensor at the same place. Advanced
indices (integer or boolean tensors, lists) may pick an element more than
once, so the backward *adds* into place with ``xp.add.at``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import ndarray, xp
from dendrite.ops.graph_operands import constant, linear_map
from dendrite.ops.operands import normalize_dims
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


def plain_index(index):
    """Translate an index that may contain tensors or lists into a NumPy index (same structure).

    Example:
        >>> import dendrite
        >>> from dendrite.ops.indexing import plain_index
        >>> plain_index((slice(None), dendrite.tensor([0, 2])))
        (slice(None, None, None), array([0, 2]))
    """
    if isinstance(index, tuple):
        return tuple([_plain_item(item) for item in index])
    return _plain_item(index)


def _plain_item(item):
    if isinstance(item, TensorBase):
        item = item._data
        if item.dtype.kind == "f":
            raise IndexError(
                "tensors used as indices must be long, int or bool tensors, got a float tensor"
            )
        return item
    if isinstance(item, list):
        array = backend.asarray(item)
        if array.dtype.kind == "f":
            raise IndexError("lists used as indices must hold integers or bools")
        return array
    return item


def _kind(index) -> str:
    """'basic' (a view), 'mask' (bool arrays only: no repeats) or 'advanced' (may repeat)."""
    items = index if isinstance(index, tuple) else (index,)
    arrays = [item for item in items if backend.is_array(item)]
    if not arrays:
        return "basic"
    if all(array.dtype.kind == "b" for array in arrays) and len(arrays) == 1:
        return "mask"
    return "advanced"


class GetItem(Function):
    """``x[index]``; backward: the gradient written (advanced index: added) into zeros at ``index``."""
    def forward(self, x, index, kind):
        index = backend.index_on_device_of(x, index)  # a list indexing a CUDA tensor goes to the GPU
        self.shape, self.index, self.kind = x.shape, index, kind
        result = x[index]
        if type(result) is not ndarray and kind != "advanced" and not backend.on_device(result):
            # NumPy answers a number for x[0] of a vector; PyTorch a 0-d view (x[0] += 1 changes x).
            result = x[(index if type(index) is tuple else (index,)) + (Ellipsis,)]
        return result

    def backward(self, grad):
        result = backend.namespace(grad).zeros(self.shape, grad.dtype)
        if self.kind == "advanced":
            xp.add.at(result, self.index, grad)
        else:
            result[self.index] = grad
        return result

    def backward_graph(self, grad):
        # Linear in x: the transpose (write/add into zeros) and its own transpose (index again).
        shape, index, kind = self.shape, self.index, self.kind

        def put(g):
            result = backend.namespace(g).zeros(shape, g.dtype)
            if kind == "advanced":
                xp.add.at(result, index, g)
            else:
                result[index] = g
            return result
        return linear_map(grad, to=put, back=lambda h: h[index])


def getitem(input: Tensor, index) -> Tensor:
    """``input[index]``: integers, slices, None, Ellipsis, integer/bool tensors or lists.

    Shapes as NumPy: an integer drops its dim, a slice keeps it, ``None`` adds one, a bool
    mask of the input's shape gives 1-D. Repeated indices add up in backward.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1, 2, 3], [4, 5, 6]])
        >>> x[:, 0], x[x > 4], x[1, None].shape
        (tensor([1, 4]), tensor([5, 6]), (1, 3))
        >>> w = dendrite.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> w[dendrite.tensor([0, 0, 2])].sum().backward(); w.grad
        tensor([2., 0., 1.])
    """
    index = plain_index(index)
    try:
        return GetItem.apply(input, index=index, kind=_kind(index))
    except IndexError as error:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape {tuple(input.shape)}: {error}") \
            from None


class Gather(Function):
    """``take_along_axis(x, index, axis)``; backward: the gradient added into zeros at ``index``."""
    def forward(self, x, index, axis):
        self.shape, self.index, self.axis = x.shape, index, axis
        # PyTorch lets the index be smaller than the input in the other dims: cut the input to fit.
        window = tuple(slice(None) if d == axis else slice(0, size) for d, size in enumerate(index.shape))
        return xp.take_along_axis(x[window], index, axis)

    def backward(self, grad):
        result = backend.namespace(grad).zeros(self.shape, grad.dtype)
        xp.add.at(result, _scatter_index(self.index, self.axis), grad)
        return result

    def backward_graph(self, grad):
        shape, index, axis = self.shape, self.index, self.axis
        window = tuple(slice(None) if d == axis else slice(0, size) for d, size in enumerate(index.shape))

        def put(g):
            result = backend.namespace(g).zeros(shape, g.dtype)
            xp.add.at(result, _scatter_index(index, axis), g)
            return result
        return linear_map(grad, to=put, back=lambda h: xp.take_along_axis(h[window], index, axis))


def _scatter_index(index, axis: int) -> tuple:
    # xp.indices(index.shape, sparse=True), made on the index's own device
    module, ndim = backend.namespace(index), index.ndim
    grids = [index if d == axis else module.arange(size).reshape((1,) * d + (size,) + (1,) * (ndim - d - 1))
             for d, size in enumerate(index.shape)]
    return tuple(grids)


def _index_array(index, name: str) -> ndarray:
    array = index._data if isinstance(index, TensorBase) else backend.asarray(index)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer (long) tensor, got dtype {array.dtype}")
    return array


class IndexOutOfBoundsError(IndexError, RuntimeError):
    """An index outside ``[0, size)``: PyTorch raises RuntimeError or IndexError depending on the op and
    the dim, so this is both, and either ``except`` catches it.

    Example:
        >>> import dendrite
        >>> try:
        ...     dendrite.zeros(3).gather(0, dendrite.tensor([-1]))
        ... except RuntimeError as error:
        ...     print(str(error).split(" (")[0])
        gather: index -1 is out of bounds for dimension 0 with size 3
    """


def check_index_bounds(name: str, index: ndarray, size: int, axis: int) -> None:
    """Raise as PyTorch does where an index is negative or ``>= size`` (NumPy would wrap a negative one).

    gather, scatter, scatter_add, index_add and index_select take no negative indices in PyTorch
    (take and take_along_dim do, and wrap them). Two reductions over the index, no copy.

    Example:
        >>> import numpy as np
        >>> from dendrite.ops.indexing import check_index_bounds
        >>> check_index_bounds("index_select", np.array([0, 2]), 3, 0)  # fine: nothing happens
        >>> try:
        ...     check_index_bounds("index_select", np.array([3]), 3, 0)
        ... except IndexError as error:
        ...     print(type(error).__name__)
        IndexOutOfBoundsError
    """
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = int(index.min()) if index.min() < 0 else int(index.max())
        raise IndexOutOfBoundsError(f"{name}: index {bad} is out of bounds for dimension {axis} with size "
                                    f"{size} (expected 0 <= index < {size}; negative indices do not wrap)")


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = input[i][index[i][j]]`` for ``dim=1`` (and likewise for other dims).

    Shapes: ``index`` has input's ndim; the output has ``index``'s shape. Picking each
    row's class score: ``scores.gather(1, labels.unsqueeze(1))``.

    Example:
        >>> import dendrite
        >>> scores = dendrite.tensor([[0.1, 0.9], [0.8, 0.2]])
        >>> scores.gather(1, dendrite.tensor([[1], [0]]))
        tensor([[0.9000],
                [0.8000]])
    """
    (axis,) = normalize_dims(dim, max(input._data.ndim, 1))  # a 0-d input reads as one element
    array = _index_array(index, "gather")
    if array.size == 0:  # PyTorch: an empty index gives an empty result of its shape, whatever its rank
        return input.reshape(-1)[0:0].reshape(array.shape)
    if input._data.ndim <= 1 and array.ndim <= 1:  # PyTorch reads 0-d input and index as 1-D
        check_index_bounds("gather", array, input._data.size, 0)
        return Gather.apply(input.reshape(-1), index=array.reshape(-1), axis=0).reshape(array.shape)
    if array.ndim != input._data.ndim:
        raise RuntimeError(
            f"gather: index {array.shape} must have the same number of dimensions as the input "
            f"{tuple(input.shape)}"
        )
    if any(i > n for d, (i, n) in enumerate(zip(array.shape, input._data.shape)) if d != axis):
        raise RuntimeError(f"gather: index {array.shape} must be no larger than the input "
                           f"{tuple(input.shape)} in every dimension but dim={dim}")
    check_index_bounds("gather", array, input._data.shape[axis], axis)
    return Gather.apply(input, index=array, axis=axis)


def take_along_dim(input: Tensor, indices: Tensor, dim: int) -> Tensor:
    """NumPy's take_along_axis: like :func:`gather`, with index and input broadcasting outside ``dim``.

    Shapes: output = the broadcast shape, with ``indices``' size along ``dim``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[10, 30, 20], [60, 40, 50]])
        >>> dendrite.take_along_dim(x, x.argmax(1, keepdim=True), dim=1)
        tensor([[30],
                [60]])
    """
    array = _index_array(indices, "take_along_dim")
    if array.ndim != input._data.ndim:
        raise RuntimeError(f"take_along_dim: input and indices should have the same number of dimensions, "
                           f"got input {tuple(input.shape)} and indices {tuple(array.shape)}")
    if input._data.ndim == 0:
        raise RuntimeError(f"take_along_dim: dim {dim} specified but the input is 0-d (no dimensions)")
    (axis,) = normalize_dims(dim, input._data.ndim)
    size = input._data.shape[axis]
    # PyTorch wraps a negative index once (-1 is the last); past that it wraps silently modulo the size
    # (and divides by zero over an empty dim): dendrite refuses those instead
    if array.size and ((array >= size) | (array < -size)).any():
        raise IndexError(f"take_along_dim: index out of range for dim {dim} of size {size} (expected "
                         f"{-size} <= index < {size}), got indices between {array.min()} and {array.max()}")
    array = xp.where(array < 0, array + size, array)
    outside = [shape[:axis] + (1,) + shape[axis + 1:] for shape in (input._data.shape, array.shape)]
    try:
        shape = list(xp.broadcast_shapes(*outside))
    except ValueError:
        raise RuntimeError(f"take_along_dim: input {tuple(input.shape)} and indices {tuple(array.shape)} "
                           f"cannot be broadcast together outside dim {dim}") from None
    shape[axis] = array.shape[axis]
    source = input.expand(*shape[:axis], input._data.shape[axis], *shape[axis + 1:])
    return Gather.apply(source, index=xp.broadcast_to(array, shape), axis=axis)


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
            grad_source = GetItem.apply(grad, index=self.selector, kind="advanced")
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


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of ``input`` along ``dim`` at positions ``index`` (1-D): embedding lookup with dim=0.

    Shapes: input's shape with ``len(index)`` along ``dim``.

    Example:
        >>> import dendrite
        >>> table = dendrite.tensor([[0, 0], [1, 1], [2, 2]])
        >>> table.index_select(0, dendrite.tensor([2, 0]))
        tensor([[2, 2],
                [0, 0]])
    """
    (axis,) = normalize_dims(dim, max(input._data.ndim, 1))  # a 0-d input reads as one element
    array = _index_array(index, "index_select")
    if array.ndim > 1:
        raise IndexError(f"index_select: index must be 0-D or 1-D, got shape {array.shape}")
    if input._data.ndim == 0:  # PyTorch: exactly one index, 0-d result
        if array.size != 1:
            raise RuntimeError(f"index_select: the index into a 0-d input must have exactly 1 value, "
                               f"got {array.size}")
        check_index_bounds("index_select", array, 1, 0)
        return GetItem.apply(input.reshape(1), index=(array.reshape(-1),), kind="advanced").reshape(())
    check_index_bounds("index_select", array, input._data.shape[axis], axis)
    selector = (slice(None),) * axis + (array.reshape(-1),)
    return GetItem.apply(input, index=selector, kind="advanced")


def masked_select(input: Tensor, mask) -> Tensor:
    """The elements where ``mask`` (broadcast with input's shape) is true, as a 1-D tensor.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1, 2], [3, 4]])
        >>> x.masked_select(dendrite.tensor([True, False]))
        tensor([1, 3])
    """
    mask = mask._data if isinstance(mask, TensorBase) else backend.asarray(mask)
    if mask.shape != input._data.shape:
        input = input.expand(*xp.broadcast_shapes(mask.shape, input._data.shape))
        mask = xp.broadcast_to(mask, input._data.shape)
    return GetItem.apply(input, index=mask, kind="mask")


def take(input: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened input at ``index`` (the result has index's shape).

    Example:
        >>> import dendrite
        >>> dendrite.take(dendrite.tensor([[1, 2], [3, 4]]), dendrite.tensor([[0, 3]]))
        tensor([[1, 4]])
    """
    flat, positions = input.reshape(-1), _index_array(index, "take")
    size = flat.shape[0]
    if getattr(positions, "size", 0):  # PyTorch: negative positions count from the end, others must exist
        if size == 0:
            raise IndexError("take(): tried to take from an empty tensor")
        low, high = int(positions.min()), int(positions.max())
        if low < -size or high >= size:
            bad = low if low < -size else high
            raise IndexError(f"take(): index {bad} is out of range for a tensor of {size} elements")
    return GetItem.apply(flat, index=positions, kind="advanced")


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the non-zero elements: int64 of shape (count, ndim), or one 1-D tensor per dim.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[0, 1], [2, 0]])
        >>> x.nonzero()
        tensor([[0, 1],
                [1, 0]])
        >>> x.nonzero(as_tuple=True)
        (tensor([0, 1]), tensor([1, 0]))
    """
    data = input._data
    if data.ndim == 0:  # PyTorch: a 0-d tensor is one element at no coordinates
        count = int(bool(data))
        if as_tuple:
            return (wrap(backend.namespace(data).zeros(count, dtype=xp.int64)),)
        return wrap(backend.namespace(data).zeros((count, 0), dtype=xp.int64))
    found = xp.nonzero(data)
    if as_tuple:
        return tuple(wrap(backend.asarray(axis_index, dtype=xp.int64)) for axis_index in found)
    return wrap(xp.stack(found, axis=-1).astype(xp.int64).reshape(-1, input._data.ndim))
