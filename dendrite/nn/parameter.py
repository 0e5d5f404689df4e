"""``Parameter``: a tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

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
            array = data._data
        else:
            array = xp.asarray(data)
        self._data = array
        self.grad = None
        self._ctx = None
        self._out_index = 0
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
