"""What the ``backward_graph`` formulas share (double backward, ``create_graph=True``).

``backward`` works on arrays; ``backward_graph`` writes the same formula with
differentiable tensor operations so that the gradient keeps a graph (see
:mod:`dendrite.autograd.graph_backward`). These helpers are the tensor
versions of :func:`dendrite.ops.operands.unbroadcast` and friends. They call
the operations as tensor methods (``grad.sum(...)``), so this module imports
no operation family and every family can import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.autograd.functional import grad as autograd_grad
from dendrite.autograd.grad_mode import enable_grad
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


def sum_to(grad: Tensor, shape: tuple) -> Tensor:
    """Sum ``grad`` over the axes broadcasting added or stretched to reach ``shape`` (differentiably).

    Shapes: ``grad`` of the broadcast shape -> ``shape``, e.g. (4, 2, 3) -> (2, 1).

    Example:
        >>> import dendrite
        >>> from dendrite.ops.graph_operands import sum_to
        >>> sum_to(dendrite.ones(4, 2, 3), (2, 1))
        tensor([[12.],
                [12.]])
    """
    shape = tuple(shape)
    if tuple(grad.shape) == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(dim=tuple(range(extra)))
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    if stretched:
        grad = grad.sum(dim=stretched, keepdim=True)
    return grad


def shape_of(value) -> tuple:
    """The shape of a tensor input, ``()`` for a plain number.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.graph_operands import shape_of
        >>> shape_of(dendrite.zeros(2, 3)), shape_of(2.5)
        ((2, 3), ())
    """
    return tuple(value.shape) if isinstance(value, TensorBase) else ()


def constant(array, like: Tensor) -> Tensor:
    """``array`` (a mask, an index result...) as a tensor without a graph, in ``like``'s float dtype.

    Example:
        >>> import numpy as np, dendrite
        >>> from dendrite.ops.graph_operands import constant
        >>> constant(np.array([True, False]), dendrite.zeros(2, dtype=dendrite.float64))
        tensor([1., 0.], dtype=dendrite.float64)
    """
    return wrap(backend.move_like(like._data, backend.asarray(array, dtype=like.dtype)))  # on like's device


class LinearMap(Function):
    """``y = to(x)`` for a linear ``to`` on arrays; backward: its transpose ``back(g)``.

    The gradient of a linear operation (indexing, slicing, a diagonal, a running
    sum) is the transposed map, which is linear too: its graph-keeping gradient
    is a ``LinearMap`` with ``to`` and ``back`` swapped, to any order.
    """
    def forward(self, x, to, back):
        self.to, self.back = to, back
        return to(x)

    def backward(self, grad):
        return self.back(grad)

    def backward_graph(self, grad):
        return LinearMap.apply(grad, to=self.back, back=self.to)


def linear_map(x: Tensor, to, back) -> Tensor:
    """Apply the linear array function ``to`` to ``x``, with ``back`` (its transpose) as the gradient.

    Shapes: whatever ``to`` makes of ``x``; ``back`` must map that shape back to ``x``'s.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.graph_operands import linear_map
        >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> y = linear_map(x, to=lambda a: a[::-1].copy(), back=lambda g: g[::-1].copy())
        >>> (y * dendrite.tensor([1.0, 10.0])).sum().backward(); x.grad
        tensor([10.,  1.])
    """
    return LinearMap.apply(x, to=to, back=back)


def composed_gradients(node, grad: Tensor, composed) -> tuple:
    """``backward_graph`` of a fused op from its composed form: differentiate ``composed(*node.inputs)``.

    ``composed`` recomputes the op's output from the node's input tensors with
    differentiable operations (the form the fused op is tested equal to); its
    gradient, taken with ``create_graph=True``, keeps a graph to every order.
    For a node with several outputs ``grad`` is the tuple of their gradients
    (None for an output that got none) and ``composed`` returns the outputs.
    Returns one gradient tensor (or None) per input of the node.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.graph_operands import composed_gradients
        >>> x, y = dendrite.tensor([1.0, 2.0], requires_grad=True), dendrite.tensor([3.0, 5.0])
        >>> node = (x * y).grad_fn
        >>> composed_gradients(node, dendrite.ones(2), lambda a, b: a * b)
        (tensor([3., 5.]), None)
    """
    inputs = node.inputs
    wanted = [i for i, need in enumerate(node.needs_input_grad) if need]
    result = [None] * len(inputs)
    with enable_grad():
        outputs = composed(*inputs)
        if isinstance(grad, tuple):  # several outputs: the ones that received a gradient
            pairs = [(output, g) for output, g in zip(outputs, grad) if g is not None]
            outputs, grad = [output for output, _ in pairs], [g for _, g in pairs]
        found = autograd_grad(outputs, [inputs[i] for i in wanted], grad, create_graph=True,
                              allow_unused=True)
    for position, gradient in zip(wanted, found):
        result[position] = gradient
    return tuple(result)
