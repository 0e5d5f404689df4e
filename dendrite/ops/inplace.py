"""In-place updates: ``add_``, ``mul_``, ``copy_``, ``zero_``, ``x[i] = v`` ...

They write into the tensor's own array, so everything sharing that memory
(views, ``detach()``-ed copies, ``.data``) sees the change, as in PyTorch.
They are meant for values the graph does not track: parameters inside
``no_grad()`` (optimizer steps, initialisation) and tensors that do not
require grad. On a tensor that requires grad while the graph is being
recorded they raise, instead of silently corrupting saved values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.grad_mode import state
from dendrite.backend import xp
from dendrite.ops.indexing import plain_index
from dendrite.tensor_base import TensorBase

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


def _check_inplace(x: Tensor, name: str) -> None:
    if x.requires_grad and state.grad_enabled:
        kind = "a leaf tensor" if x._ctx is None else "a tensor in the graph"
        raise RuntimeError(
            f"{name}: in-place operation on {kind} that requires grad; do it inside "
            "dendrite.no_grad(), or use the out-of-place form (e.g. x = x + 1)"
        )


def _array(value):
    return value._data if isinstance(value, TensorBase) else value


def _write(x: Tensor, array, name: str) -> Tensor:
    """Write ``array`` into ``x`` (broadcast to x's shape, cast to x's dtype)."""
    _check_inplace(x, name)
    try:
        xp.copyto(x._data, array, casting="unsafe")
    except ValueError:
        raise RuntimeError(
            f"{name}: a value of shape {xp.shape(array)} cannot be written into a tensor of shape "
            f"{x.shape}"
        ) from None
    return x


def _update(ufunc, x: Tensor, other, name: str) -> Tensor:
    """``x = ufunc(x, other)`` written straight into x's memory (no temporary array)."""
    _check_inplace(x, name)
    try:
        ufunc(x._data, other, out=x._data, casting="unsafe")
    except ValueError:
        raise RuntimeError(
            f"{name}: a value of shape {xp.shape(other)} cannot be combined into a tensor of shape {x.shape}"
        ) from None
    return x


def add_(x: Tensor, other, alpha=1) -> Tensor:
    """``x += alpha * other`` in place (an SGD step: ``w.add_(w.grad, alpha=-0.1)``).

    Shapes: ``other`` broadcasts to x's shape; x keeps its shape and dtype. Returns ``x``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0, 2.0])
        >>> x.add_(dendrite.tensor([1.0, 1.0]), alpha=-0.5)
        tensor([0.5000, 1.5000])
    """
    other = _array(other)
    return _update(xp.add, x, other * alpha if alpha != 1 else other, "add_")


def sub_(x: Tensor, other, alpha=1) -> Tensor:
    """``x -= alpha * other`` in place.

    Shapes: ``other`` broadcasts to x's shape; x keeps its shape and dtype. Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1.0, 2.0], [3.0, 4.0]]).sub_(dendrite.tensor([1.0, 2.0]))
        tensor([[0., 0.],
                [2., 2.]])
    """
    other = _array(other)
    return _update(xp.subtract, x, other * alpha if alpha != 1 else other, "sub_")


def mul_(x: Tensor, other) -> Tensor:
    """``x *= other`` in place.

    Shapes: ``other`` broadcasts to x's shape; x keeps its shape and dtype. Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([1.0, 2.0]).mul_(3)
        tensor([3., 6.])
    """
    return _update(xp.multiply, x, _array(other), "mul_")


def div_(x: Tensor, other) -> Tensor:
    """``x /= other`` in place (an integer tensor keeps its dtype: the quotient is cast back).

    Shapes: ``other`` broadcasts to x's shape; x keeps its shape and dtype. Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([1.0, 2.0]).div_(4)
        tensor([0.2500, 0.5000])
    """
    return _update(xp.true_divide, x, _array(other), "div_")


def copy_(x: Tensor, source) -> Tensor:
    """Copy ``source``'s values into ``x`` (broadcast to its shape, cast to its dtype); returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2, 2).copy_(dendrite.tensor([1, 2]))
        tensor([[1., 2.],
                [1., 2.]])
    """
    return _write(x, xp.asarray(_array(source)), "copy_")


def fill_(x: Tensor, value) -> Tensor:
    """Set every element to ``value`` (cast to x's dtype); returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(3, dtype=dendrite.int64).fill_(7)
        tensor([7, 7, 7])
    """
    return _write(x, _array(value), "fill_")


def zero_(x: Tensor) -> Tensor:
    """Set every element to zero (e.g. ``w.grad.zero_()``); returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([1.0, 2.0]).zero_()
        tensor([0., 0.])
    """
    _check_inplace(x, "zero_")
    x._data.fill(0)
    return x


def clamp_(x: Tensor, min=None, max=None) -> Tensor:
    """Limit the values to ``[min, max]`` in place (either bound may be None); returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([-2.0, 0.5, 3.0]).clamp_(0, 1)
        tensor([0.0000, 0.5000, 1.0000])
    """
    return _write(x, xp.clip(x._data, _array(min), _array(max)), "clamp_")


def masked_fill_(x: Tensor, mask, value) -> Tensor:
    """Set the elements where ``mask`` (broadcast to x's shape) is true to ``value``; returns ``x``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0, 2.0, 3.0])
        >>> x.masked_fill_(x > 1, 0.0)
        tensor([1., 0., 0.])
    """
    return _write(x, xp.where(xp.asarray(_array(mask)), _array(value), x._data), "masked_fill_")


def uniform_(x: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with uniform random values in ``[a, b)`` from dendrite's generator; returns ``x``.

    Example:
        >>> import dendrite
        >>> x = dendrite.empty(2, 3).uniform_(-1, 1)
        >>> x.shape, bool(((x >= -1) & (x < 1)).all())
        ((2, 3), True)
    """
    return _write(x, backend.generator().uniform(a, b, x.shape), "uniform_")


def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with normal random values (``mean``, ``std``) from dendrite's generator; returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.empty(2, 3).normal_(0.0, 0.02).shape
        (2, 3)
    """
    return _write(x, backend.generator().normal(mean, std, x.shape), "normal_")


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value`` in place (the same indices as reading; ``value`` broadcasts to the selection).

    Example:
        >>> import dendrite
        >>> x = dendrite.zeros(2, 3)
        >>> x[:, 1] = 5.0; x[0, 0] = 1.0
        >>> x
        tensor([[1., 5., 0.],
                [0., 5., 0.]])
    """
    _check_inplace(x, "__setitem__")
    x._data[plain_index(index)] = _array(value)


