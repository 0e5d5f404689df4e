"""``Function``: one differentiable operation, forward and backward side by side.

A subclass implements::

    class Exp(Function):
        def forward(self, x):              # arrays in, array out
            self.result = np.exp(x)        # save what backward needs on self
            return self.result

        def backward(self, grad_output):   # dL/d(output) in
            return grad_output * self.result   # dL/d(input) out, one per input

``Exp.apply(tensor)`` runs ``forward`` on the tensors' arrays and, when a
graph is being recorded, links the output tensor to this node so that
``backward`` can later be called by the engine. Positional inputs may be
tensors or plain values (scalars, arrays); keyword arguments are options and
never receive gradients. ``backward`` returns one gradient per positional
input (``None`` where there is none); a single array is accepted for a
one-input function. ``self.needs_input_grad[i]`` tells whether input ``i``
wants a gradient, so expensive unneeded gradients can be skipped.

Functions with several outputs set ``n_outputs``; their ``forward`` returns a
tuple and their ``backward`` receives a tuple of output gradients in which
outputs that received no gradient are ``None``.
"""

from __future__ import annotations

from dendrite.autograd.grad_mode import state
from dendrite.tensor import Tensor, _new_tensor


class Function:
    """Base class of every differentiable operation (see the module docstring)."""

    n_outputs = 1
    # Set by ``apply`` on nodes that are part of a graph.
    inputs: tuple = ()
    needs_input_grad: tuple = ()
    released = False
    created_at = None  # "file:line in function", recorded in anomaly mode

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the operation on tensors (or plain values) and record it for backward."""
        node = cls.__new__(cls)
        arrays = [item._data if isinstance(item, Tensor) else item for item in inputs]
        requires_grad = False
        if state.grad_enabled:
            needs = tuple(isinstance(item, Tensor) and item.requires_grad for item in inputs)
            requires_grad = True in needs
            node.needs_input_grad = needs
        else:
            node.needs_input_grad = (False,) * len(inputs)
        result = node.forward(*arrays, **options)
        if state.anomaly_enabled:
            from dendrite.autograd.anomaly import check_forward

            check_forward(node, result)
        single = node.n_outputs == 1
        if requires_grad:
            node.inputs = inputs
        else:
            node = None
        if single:
            return _new_tensor(result, node)
        return tuple(_new_tensor(array, node, index) for index, array in enumerate(result))

    def forward(self, *arrays, **options):
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, grad_output):
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def release(self) -> None:
        """Free the arrays saved for backward (called after a backward pass)."""
        inputs, needs = self.inputs, self.needs_input_grad
        self.__dict__.clear()
        self.inputs, self.needs_input_grad, self.released = inputs, needs, True

    @property
    def name(self) -> str:
        """The operation's name as shown in ``grad_fn`` and error messages."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"
