"""Extremes: max, min, amax, amin (values, with gradients) and argmax, argmin (indices).

The backward sends the gradient to the winners: for ``max()``/``amax`` evenly among tied
winners, for ``max(dim)`` to the element at the returned index (PyTorch's conventions, both).
``max(a, b)`` with a tensor is the elementwise :func:`dendrite.ops.piecewise_select.maximum`. Sums, means,
moments and norms are in :mod:`dendrite.ops.reduce`.
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import constant
from dendrite.ops.operands import normalize_dims, reduction_dims
from dendrite.ops.piecewise import maximum, minimum
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


class Extreme(Function):
    """max()/min()/amax/amin over ``axes``: tied winners share the gradient evenly."""

    def forward(self, x, axes, keepdim, use_max):
        self.x, self.axes = x, axes
        self.result = x.max(axis=axes, keepdims=True) if use_max else x.min(axis=axes, keepdims=True)
        return self.result if keepdim else self.result.squeeze(axes)

    def backward(self, grad):
        winners = self.x == self.result
        counts = winners.sum(axis=self.axes, keepdims=True)
        grad = grad.reshape(self.result.shape)
        return xp.where(winners, grad / counts, 0).astype(grad.dtype, copy=False)

    def backward_graph(self, grad):
        # The winners' mask is constant (piecewise linear): g / count on each winner, 0 elsewhere.
        winners = self.x == self.result
        share = constant(winners / winners.sum(axis=self.axes, keepdims=True), grad)
        return grad.reshape(self.result.shape) * share


class ExtremeDim(Function):
    """max(dim)/min(dim): the gradient goes to the element at the returned index."""

    def forward(self, x, indices, axis, keepdim):
        self.shape, self.axis, self.keepdim = x.shape, axis, keepdim
        self.indices = indices
        values = xp.take_along_axis(x, indices, axis)
        return values if keepdim else values.squeeze(axis)

    def backward(self, grad):
        grad = grad.reshape(self.indices.shape)
        result = backend.namespace(grad).zeros(self.shape, grad.dtype)
        xp.put_along_axis(result, self.indices, grad, self.axis)
        return result

    def backward_graph(self, grad):
        # g broadcast along the axis, times the constant one-hot mask of the chosen elements.
        chosen = backend.namespace(self.indices).zeros(self.shape)
        xp.put_along_axis(chosen, self.indices, 1, self.axis)
        return grad.reshape(self.indices.shape) * constant(chosen, grad)


def _check_not_empty(input: Tensor, axes, name: str) -> None:
    if input._data.size == 0 and (not axes or builtins.any(input._data.shape[a] == 0 for a in axes)):
        raise IndexError(f"{name}(): cannot reduce over a zero-size dimension (input shape {input.shape})")


def _extreme(input: Tensor, dim, keepdim: bool, use_max: bool):
    name = "max" if use_max else "min"
    if isinstance(dim, TensorBase):  # max(a, b) is maximum(a, b)
        return maximum(input, dim) if use_max else minimum(input, dim)
    if dim is None:
        axes = tuple(range(input._data.ndim))
        _check_not_empty(input, axes, name)
        return Extreme.apply(input, axes=axes, keepdim=False, use_max=use_max)
    (axis,) = normalize_dims(dim, input._data.ndim)
    data = input._data if input._data.ndim else input._data.reshape(1)
    _check_not_empty(wrap(data), (axis,), name)
    arg = xp.argmax if use_max else xp.argmin
    indices = xp.expand_dims(arg(data, axis=axis), axis)
    source = input if input._data.ndim else input.reshape(1)
    values = ExtremeDim.apply(source, indices=indices, axis=axis, keepdim=keepdim)
    if not input._data.ndim:
        values, indices = values.reshape(()), indices.reshape(())
    elif not keepdim:
        indices = indices.squeeze(axis)
    return ValuesIndices(values, wrap(indices.astype(backend.int64)))


def max(input: Tensor, dim=None, keepdim: bool = False):
    """The largest value; with ``dim`` a ``(values, indices)`` pair; with a tensor, ``maximum``.

    Shapes: no ``dim`` -> (); with ``dim`` that dimension is removed (kept with ``keepdim=True``).
    The gradient of ``max()`` is shared by tied winners; of ``max(dim)`` it goes to ``indices``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1, 7, 3], [9, 2, 9]])
        >>> x.max()
        tensor(9)
        >>> values, indices = x.max(dim=1); values, indices
        (tensor([7, 9]), tensor([1, 0]))
    """
    return _extreme(input, dim, keepdim, use_max=True)


def min(input: Tensor, dim=None, keepdim: bool = False):
    """The smallest value; with ``dim`` a ``(values, indices)`` pair; with a tensor, ``minimum``.

    Shapes: no ``dim`` -> (); with ``dim`` that dimension is removed (kept with ``keepdim=True``).

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1, 7, 3], [9, 2, 9]])
        >>> x.min(), x.min(dim=0).values
        (tensor(1), tensor([1, 2, 3]))
    """
    return _extreme(input, dim, keepdim, use_max=False)


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The largest values over ``dim`` (int, tuple or all); ties share the gradient evenly.

    Shapes: ``dim`` (int, tuple, or None for all) is removed, or kept as size 1 with ``keepdim=True``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1.0, 3.0], [3.0, 2.0]], requires_grad=True)
        >>> x.amax(dim=1)
        tensor([3., 3.], grad_fn=<ExtremeBackward>)
        >>> x.amax().backward(); x.grad  # two tied winners
        tensor([[0.0000, 0.5000],
                [0.5000, 0.0000]])
    """
    axes = reduction_dims(dim, input._data.ndim)
    _check_not_empty(input, axes, "amax")
    return Extreme.apply(input, axes=axes, keepdim=keepdim, use_max=True)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The smallest values over ``dim`` (int, tuple or all); ties share the gradient evenly.

    Shapes: ``dim`` (int, tuple, or None for all) is removed, or kept as size 1 with ``keepdim=True``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 3], [0, 2]]).amin(dim=(0, 1))
        tensor(0)
    """
    axes = reduction_dims(dim, input._data.ndim)
    _check_not_empty(input, axes, "amin")
    return Extreme.apply(input, axes=axes, keepdim=keepdim, use_max=False)


def _arg(input: Tensor, dim, keepdim: bool, function) -> Tensor:
    if dim is None:
        index = function(input._data.reshape(-1))
        shape = (1,) * input._data.ndim if keepdim else ()
        return wrap(backend.asarray(index, backend.int64).reshape(shape))
    (axis,) = normalize_dims(dim, input._data.ndim)
    data = input._data if input._data.ndim else input._data.reshape(1)
    indices = function(data, axis=axis)
    if keepdim and input._data.ndim:
        indices = xp.expand_dims(indices, axis)
    return wrap(backend.asarray(indices, backend.int64))


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the (first) largest value, over the flattened tensor when ``dim`` is None.

    Shapes: ``dim`` (int, tuple, or None for all) is removed, or kept as size 1 with ``keepdim=True``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1, 7, 3], [9, 2, 9]])
        >>> x.argmax(), x.argmax(dim=1)
        (tensor(3), tensor([1, 0]))
    """
    return _arg(input, dim, keepdim, xp.argmax)


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the (first) smallest value, over the flattened tensor when ``dim`` is None.

    Shapes: ``dim`` (int, tuple, or None for all) is removed, or kept as size 1 with ``keepdim=True``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1, 7, 3], [9, 2, 9]])
        >>> x.argmin(), x.argmin(dim=1, keepdim=True).shape
        (tensor(0), (2, 1))
    """
    return _arg(input, dim, keepdim, xp.argmin)
