"""``ctx``: what the forward of a PyTorch-style ``Function`` hands to its backward.

In PyTorch's contract (``@staticmethod forward(ctx, ...)``, see
:mod:`dendrite.autograd.ctx_function`) forward and backward are two separate
static functions; the only thing they share is this object. Forward (or
``setup_context``) puts on it:

* the tensors backward needs, with ``ctx.save_for_backward(*tensors)``
  (read back as ``ctx.saved_tensors``): they are freed after the backward
  pass, and a saved output comes back linked to the graph, so a backward
  written with tensor operations is itself differentiable;
* anything else as a plain attribute (``ctx.constant = 3``);
* flags: which outputs are not differentiable (``mark_non_differentiable``),
  which inputs it changed in place (``mark_dirty``), and whether missing
  output gradients arrive as zeros or ``None`` (``set_materialize_grads``).

``ctx.needs_input_grad`` (one bool per positional argument of forward) says
which inputs want a gradient, so backward can skip the work for the others.
"""

from __future__ import annotations

from dendrite.tensor_base import TensorBase, wrap

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second "
    "time or if you need to access saved tensors after calling backward."
)


class SavedOutput:
    """A saved output of forward, kept as its array and position (not the tensor: that would be a cycle).

    The output tensor points at the graph node, the node at this ctx; holding
    the output here would keep the three alive until the garbage collector
    runs. ``FunctionCtx.saved_tensors`` rebuilds the tensor, linked to the node.

    Example:
        >>> import numpy as np
        >>> SavedOutput(np.zeros(2), 0, linked=True).index
        0
    """

    __slots__ = ("array", "index", "linked")

    def __init__(self, array, index: int, linked: bool) -> None:
        self.array, self.index, self.linked = array, index, linked


class FunctionCtx:
    """The ``ctx`` argument of a ctx-contract Function: saved tensors, flags and your own attributes.

    Created by ``Function.apply`` for one call; ``y.grad_fn`` reads through to it
    (``y.grad_fn.saved_tensors``, ``y.grad_fn.constant``), as in PyTorch.

    Example:
        >>> import dendrite
        >>> class Scale(dendrite.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x, factor):
        ...         ctx.factor = factor                  # any value, as an attribute
        ...         return x * factor
        ...     @staticmethod
        ...     def backward(ctx, grad_output):
        ...         return grad_output * ctx.factor, None  # no gradient for the number
        >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> y = Scale.apply(x, 3.0)
        >>> y.sum().backward(); x.grad, y.grad_fn.factor
        (tensor([3., 3.]), 3.0)
    """

    def __init__(self, function: type, needs_input_grad: tuple) -> None:
        self._function = function  # the user's class, for messages
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._to_save: tuple = ()
        self._saved: tuple | None = None  # set by apply once forward has returned
        self._node = None  # a weak reference to the graph node, once there is one
        self._dirty: tuple = ()
        self._non_differentiable: tuple = ()
        self._released = False

    def save_for_backward(self, *tensors) -> None:
        """Keep ``tensors`` (inputs, outputs or intermediates of forward; ``None`` allowed) for backward.

        Call it in forward (or ``setup_context``); a second call replaces the
        first. Non-tensor values belong on ``ctx`` as attributes instead.

        Example:
            >>> import dendrite
            >>> class Square(dendrite.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x):
            ...         ctx.save_for_backward(x)
            ...         return x * x
            ...     @staticmethod
            ...     def backward(ctx, grad_output):
            ...         (x,) = ctx.saved_tensors
            ...         return 2 * x * grad_output
            >>> x = dendrite.tensor([3.0], requires_grad=True)
            >>> Square.apply(x).backward(); x.grad
            tensor([6.])
        """
        for position, tensor in enumerate(tensors):
            if tensor is not None and not isinstance(tensor, TensorBase):
                raise TypeError(
                    f"{self._function.__name__}: save_for_backward can only save tensors (or None), but "
                    f"argument {position} is of type {type(tensor).__name__}; keep other values as "
                    f"attributes of ctx instead (ctx.value = ...)"
                )
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, in the same order (an error once they are freed).

        A saved output comes back linked to this Function's node, a saved input
        with its own history: operations on them in backward are recorded when
        the engine differentiates the backward itself (``create_graph=True``).

        Example:
            >>> import dendrite
            >>> class Exp(dendrite.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x):
            ...         result = x.exp()
            ...         ctx.save_for_backward(result)
            ...         return result
            ...     @staticmethod
            ...     def backward(ctx, grad_output):
            ...         (result,) = ctx.saved_tensors
            ...         return grad_output * result
            >>> y = Exp.apply(dendrite.tensor([0.0], requires_grad=True))
            >>> y.grad_fn.saved_tensors
            (tensor([1.], grad_fn=<ExpBackward>),)
        """
        if self._released:
            raise RuntimeError(_FREED)
        if self._saved is None:  # still inside forward
            return self._to_save
        node = self._node() if self._node is not None else None
        return tuple(
            (wrap(entry.array, node, entry.index) if entry.linked and node is not None else wrap(entry.array))
            if isinstance(entry, SavedOutput) else entry
            for entry in self._saved
        )

    def mark_dirty(self, *tensors) -> None:
        """Declare that forward changed these inputs in place; forward must return them.

        The returned tensor is the input object itself, now produced by this
        Function (its old history becomes this Function's input). A leaf that
        requires grad cannot be changed in place.

        Example:
            >>> import dendrite
            >>> class Double_(dendrite.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x):
            ...         x.mul_(2)
            ...         ctx.mark_dirty(x)
            ...         return x
            ...     @staticmethod
            ...     def backward(ctx, grad_output):
            ...         return grad_output * 2
            >>> a = dendrite.tensor([1.0], requires_grad=True)
            >>> b = a * 1
            >>> c = Double_.apply(b)
            >>> c is b, b.grad_fn
            (True, <Double_Backward>)
            >>> b.backward(); a.grad
            tensor([2.])
        """
        self._check_tensors("mark_dirty", tensors)
        self._dirty = tensors

    def mark_non_differentiable(self, *outputs) -> None:
        """Declare outputs that get no gradient (indices, masks): they do not require grad.

        Backward still receives one gradient per output: zeros of the output's
        shape for these (or ``None`` with ``set_materialize_grads(False)``).

        Example:
            >>> import dendrite
            >>> class SortValues(dendrite.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x):
            ...         values, indices = x.sort()
            ...         ctx.mark_non_differentiable(indices)
            ...         ctx.save_for_backward(indices)
            ...         return values, indices
            ...     @staticmethod
            ...     def backward(ctx, grad_values, grad_indices):
            ...         (indices,) = ctx.saved_tensors
            ...         return dendrite.zeros_like(grad_values).scatter(0, indices, grad_values)
            >>> values, indices = SortValues.apply(dendrite.tensor([3.0, 1.0], requires_grad=True))
            >>> values.requires_grad, indices.requires_grad
            (True, False)
        """
        self._check_tensors("mark_non_differentiable", outputs)
        self._non_differentiable = outputs

    def set_materialize_grads(self, value: bool) -> None:
        """Whether backward gets zeros (``True``, the default) or ``None`` for outputs without a gradient.

        Example:
            >>> import dendrite
            >>> class Twice(dendrite.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x):
            ...         ctx.set_materialize_grads(False)
            ...         return x * 1, x * 2
            ...     @staticmethod
            ...     def backward(ctx, grad_first, grad_second):
            ...         print(grad_second)
            ...         return grad_first
            >>> first, second = Twice.apply(dendrite.tensor([1.0], requires_grad=True))
            >>> first.backward()
            None
        """
        self.materialize_grads = bool(value)

    def _check_tensors(self, method: str, items: tuple) -> None:
        for position, item in enumerate(items):
            if not isinstance(item, TensorBase):
                raise TypeError(
                    f"{self._function.__name__}: {method} takes tensors, but argument {position} is of "
                    f"type {type(item).__name__}"
                )

    def _release(self) -> None:
        """Free the saved tensors (after a backward pass without retain_graph); attributes stay."""
        self._to_save, self._saved, self._released = (), (), True
