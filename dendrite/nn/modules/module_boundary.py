"""The op boundary for layers: a module's ``forward`` checks its tensor arguments before it runs.

``dendrite.ops`` and ``dendrite.nn.functional`` check their tensor arguments at the op boundary
(:mod:`dendrite.ops.boundary`). A layer's ``forward`` often reads its input before it calls the
functional form (``Linear`` its shape, ``Embedding`` its dtype), so a list given to a layer failed
inside the layer with ``AttributeError: 'list' object has no attribute 'ndim'``. Every ``Module``
subclass's ``forward`` goes through :func:`checked_forward` (``Module.__init_subclass__``): the
parameters annotated ``Tensor`` (or ``Tensor | None``) must receive one, else PyTorch's TypeError
naming the layer and the argument. Unannotated parameters, and ``Tensor | float`` ones, are not checked.
"""

from __future__ import annotations

import functools

from dendrite.ops.boundary import _tensor_params, tensor_arg
from dendrite.tensor_base import TensorBase

__all__ = ["checked_forward"]


def checked_forward(forward):
    """``forward`` with its ``Tensor``-annotated arguments checked (errors name the layer's class, read
    at call time: a forward inherited from ``_ConvNd`` names ``Conv1d``); ``forward`` itself without any.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Linear(3, 2)([1.0, 2.0, 3.0])
        Traceback (most recent call last):
        TypeError: Linear(): argument 'input' must be a Tensor, not list (make one with dendrite.tensor(...))
    """
    params = _tensor_params(forward)
    if not params or getattr(forward, "__checked_forward__", False):
        return forward
    # positions in the signature count ``self``: the wrapper's args start after it
    positional = tuple((position - 1, name, optional) for position, name, optional in params
                       if position is not None)
    by_name = {name: optional for _, name, optional in params}

    tensor = TensorBase

    @functools.wraps(forward)
    def checked(self, *args, **kwargs):
        # A tensor where one is expected passes with one isinstance test (a tiny network calls this
        # once per layer per step); anything else goes to tensor_arg, which names the layer.
        for position, name, optional in positional:
            if position < len(args):
                value = args[position]
                if not isinstance(value, tensor) and not (optional and value is None):
                    tensor_arg(value, type(self).__name__, name, optional=optional)
        if kwargs:
            for name, value in kwargs.items():
                if name in by_name:
                    tensor_arg(value, type(self).__name__, name, optional=by_name[name])
        return forward(self, *args, **kwargs)

    checked.__checked_forward__ = True
    return checked
