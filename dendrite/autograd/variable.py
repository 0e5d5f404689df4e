"""``Variable``: the pre-2018 PyTorch wrapper, kept for old scripts; today it is a tensor.

Since PyTorch 0.4 a tensor carries its own gradient, and ``Variable(t)`` just
returns a tensor sharing ``t``'s memory, detached from its graph, with
``requires_grad`` as asked. dendrite does the same, so tutorials written
with ``Variable(...)`` (WGAN-GP, older seq2seq code) run unchanged.
"""

from __future__ import annotations

from dendrite.tensor_base import TensorBase


def Variable(data, requires_grad: bool = False, volatile: bool = False):  # noqa: N802 (PyTorch's name)
    """A tensor sharing ``data``'s memory, with no history and ``requires_grad`` as given.

    Shapes: as ``data``. ``volatile`` is accepted and ignored, as in PyTorch
    (``no_grad()`` replaced it).

    Example:
        >>> import dendrite
        >>> from dendrite.autograd import Variable
        >>> x = Variable(dendrite.ones(2), requires_grad=True)
        >>> x.requires_grad, x.grad_fn is None
        (True, True)
    """
    if not isinstance(data, TensorBase):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    variable = data.detach()
    if requires_grad:
        variable.requires_grad_(True)
    return variable
