"""In-place shape changes: ``unsqueeze_``, ``squeeze_``, ``t_``, ``transpose_``, ``swapdims_``.

They change how the tensor looks at its memory (shape and strides), not the values: the tensor keeps its
memory and every view of it, as in PyTorch (``target.unsqueeze_(-1)`` in the char-RNN tutorial). On a
tensor that takes part in autograd (requires grad) dendrite refuses them with a message naming the
out-of-place form, rather than record a graph it would get wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite.ops.movement import squeeze, t, transpose, unsqueeze

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor

__all__ = ["squeeze_", "swapdims_", "t_", "transpose_", "unsqueeze_"]


def _restride(x: Tensor, name: str, reshaped: Tensor) -> Tensor:
    if x.requires_grad:
        raise RuntimeError(f"{name}_: dendrite does not change the shape in place of a tensor that requires "
                           f"grad (shape {tuple(x.shape)}); use the out-of-place x = x.{name}(...)")
    x._data = reshaped._data  # a view of the same memory: writes still reach x's views and base
    return x


def unsqueeze_(x: Tensor, dim: int) -> Tensor:
    """``x.unsqueeze(dim)`` in place: a dimension of size 1 inserted at ``dim``. Returns ``x``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1, 2, 3])
        >>> x.unsqueeze_(-1).shape, x.shape
        ((3, 1), (3, 1))
    """
    return _restride(x, "unsqueeze", unsqueeze(x.detach(), dim))


def squeeze_(x: Tensor, dim=None) -> Tensor:
    """``x.squeeze(dim)`` in place (every size-1 dimension when ``dim`` is None). Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(1, 3, 1).squeeze_().shape
        (3,)
    """
    return _restride(x, "squeeze", squeeze(x.detach()) if dim is None else squeeze(x.detach(), dim))


def t_(x: Tensor) -> Tensor:
    """``x.t()`` in place (a 0-, 1- or 2-D tensor). Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2, 3).t_().shape
        (3, 2)
    """
    return _restride(x, "t", t(x.detach()))


def transpose_(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """``x.transpose(dim0, dim1)`` in place. Returns ``x``.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2, 3, 4).transpose_(0, 2).shape
        (4, 3, 2)
    """
    return _restride(x, "transpose", transpose(x.detach(), dim0, dim1))


swapdims_ = swapaxes_ = transpose_
