"""In-place fills: ``copy_``, ``fill_``, ``zero_``, ``masked_fill_``, random fills and ``x[i] = v``.

They follow the rules of :mod:`dendrite.ops.inplace` (views see the change,
the version counter goes up, recorded in the graph where PyTorch records them,
refused on a leaf that requires grad in grad mode), with PyTorch's casting:
a fill may truncate into an integer tensor (``int_tensor.fill_(1.5)`` gives 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.autograd.grad_mode import state
from dendrite.autograd.versions import bump
from dendrite.backend import xp
from dendrite.ops.graph_operands import linear_map, sum_to
from dendrite.ops.indexing import plain_index
from dendrite.ops.inplace_graph import CopySlices, write_inplace
from dendrite.ops.operands import shape_of, unbroadcast
from dendrite.ops.piecewise import masked_fill
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


class Fill(Function):
    """``value`` in the shape and dtype of ``old``; backward: zero for ``old``, the sum for ``value``."""
    def forward(self, old, value):
        self.value_shape = shape_of(value)
        try:
            value = backend.move_like(old, backend.asarray(value))  # a number: onto old's device
            return xp.broadcast_to(value, old.shape).astype(old.dtype)
        except ValueError:
            raise RuntimeError(
                f"a value of shape {self.value_shape} cannot be written into a tensor of shape {old.shape} "
                "(it must broadcast to that shape)"
            ) from None

    def backward(self, grad):
        return xp.zeros_like(grad), unbroadcast(grad, self.value_shape)

    def backward_graph(self, grad):
        # The old value is overwritten (a zero map, its own transpose); the value's gradient is the
        # broadcast undone, summed with graph.
        zero = linear_map(grad, to=xp.zeros_like, back=xp.zeros_like)
        value_grad = sum_to(grad, self.value_shape) if self.needs_input_grad[1] else None
        return zero, value_grad


def _value(value):
    return value if isinstance(value, TensorBase) else wrap(backend.asarray(value))


def _fill(x: Tensor, name: str, value) -> Tensor:
    try:
        return write_inplace(x, name, Fill.apply, value, casting="unsafe")
    except RuntimeError as error:
        if str(error).startswith("a value of shape"):
            raise RuntimeError(f"{name}: {error}") from None
        raise


def copy_(x: Tensor, source) -> Tensor:
    """Copy ``source``'s values into ``x`` (broadcast to its shape, cast to its dtype); returns ``x``.

    The gradient flows to ``source`` when it requires grad (x's old value gets none).

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2, 2).copy_(dendrite.tensor([1, 2]))
        tensor([[1., 2.],
                [1., 2.]])
    """
    return _fill(x, "copy_", _value(source))


def fill_(x: Tensor, value) -> Tensor:
    """Set every element to ``value`` (a number or 0-d tensor, cast to x's dtype); returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(3, dtype=dendrite.int64).fill_(7)
        tensor([7, 7, 7])
    """
    return _fill(x, "fill_", value)


def zero_(x: Tensor) -> Tensor:
    """Set every element to zero (e.g. ``w.grad.zero_()``); returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([1.0, 2.0]).zero_()
        tensor([0., 0.])
    """
    return _fill(x, "zero_", 0)


def masked_fill_(x: Tensor, mask, value) -> Tensor:
    """Set the elements where ``mask`` (broadcast to x's shape) is true to ``value``; returns ``x``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0, 2.0, 3.0])
        >>> x.masked_fill_(x > 1, 0.0)
        tensor([1., 0., 0.])
    """
    return write_inplace(x, "masked_fill_", masked_fill, mask, value, casting="unsafe")


def uniform_(x: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with uniform random values in ``[a, b)`` from dendrite's generator; returns ``x``.

    Example:
        >>> import dendrite
        >>> x = dendrite.empty(2, 3).uniform_(-1, 1)
        >>> x.shape, bool(((x >= -1) & (x < 1)).all())
        ((2, 3), True)
    """
    return _fill(x, "uniform_", backend.move_like(x._data, backend.generator().uniform(a, b, x.shape)))


def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with normal random values (``mean``, ``std``) from dendrite's generator; returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.empty(2, 3).normal_(0.0, 0.02).shape
        (2, 3)
    """
    return _fill(x, "normal_", backend.move_like(x._data, backend.generator().normal(mean, std, x.shape)))


def _put(positions):
    """``compute`` for :func:`write_inplace`: ``old`` with the elements at ``positions`` set to ``value``."""
    def put(old, value):
        values = Fill.apply(wrap(backend.namespace(old._data).empty(
            positions.shape, old._data.dtype)), _value(value))
        return CopySlices.apply(old, values, positions)
    return put


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value`` in place (the same indices as reading; ``value`` broadcasts to the selection).

    Recorded in the graph when ``x`` is in it or ``value`` requires grad (``out[i] = f(w)`` in a loop
    trains ``w``), as PyTorch's CopySlices.

    Example:
        >>> import dendrite
        >>> x = dendrite.zeros(2, 3)
        >>> x[:, 1] = 5.0; x[0, 0] = 1.0
        >>> x
        tensor([[1., 5., 0.],
                [0., 5., 0.]])
    """
    index = backend.index_on_device_of(x._data, plain_index(index))  # lists index a CUDA tensor from the GPU
    view = getattr(x, "_view", None)
    recording = state.grad_enabled and (
        x.requires_grad or (isinstance(value, TensorBase) and value.requires_grad)
        or (view is not None and view[0].requires_grad))
    if recording:
        positions = backend.namespace(x._data).arange(x._data.size).reshape(x._data.shape)[index]
        try:
            write_inplace(x, "__setitem__", _put(positions), value, casting="unsafe")
        except RuntimeError as error:
            if str(error).startswith("a value of shape"):
                raise RuntimeError(f"__setitem__: {error} (the selection's shape)") from None
            raise
        return
    data = x._data
    if not backend.writeable(data):
        raise RuntimeError("__setitem__: this tensor's memory is read-only (an expand()ed or broadcast "
                           "view); clone() it first")
    array = value._data if isinstance(value, TensorBase) else value
    try:
        data[index] = array
    except ValueError:
        raise RuntimeError(
            f"__setitem__: a value of shape {xp.shape(array)} cannot be broadcast to the selection of shape "
            f"{xp.shape(data[index])}"
        ) from None
    bump(data)
