"""``Parameter``: a tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

from dendrite import backend
from dendrite.backend import xp
from dendrite.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True`` that modules collect automatically.

    Assigning a Parameter to a Module attribute registers it, so it appears in
    ``module.parameters()`` and ``module.state_dict()``. Wrapping a tensor
    shares its memory, as in PyTorch.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.zeros(3, 2))
        >>> w.requires_grad, w.shape
        (True, (3, 2))
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        if data is None:
            array = xp.empty((0,), xp.float32)
        elif isinstance(data, Tensor):
            array = data.array
        else:
            array = backend.asarray(data)
        self._adopt(array, requires_grad)  # shares memory with ``data``, as PyTorch's Parameter does

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
