"""The graph node of a PyTorch-style ``Function``: the user's backward, seen from the engine.

The engine speaks arrays: it calls ``node.backward(grad)`` with the output's
gradient array (a tuple of them, ``None`` where an output got none, for
several outputs) and wants one array per input back. A ctx-contract
Function's backward speaks tensors. :class:`CtxNode` translates:

1. output gradients become tensors; a missing one becomes zeros of the
   output's shape and dtype unless ``ctx.set_materialize_grads(False)``;
2. the user's ``backward(ctx, *grad_outputs)`` runs with grad recording off
   (as in PyTorch: a first-order backward records nothing);
3. what it returns is checked, one gradient per positional argument of
   forward, and given back as arrays.

``backward_graph(*grad_outputs)`` is the same with tensors in and out and
recording *on*, for the engine's ``create_graph=True``: the user's backward,
written with tensor operations, then builds the graph of the gradient itself
and so is differentiable again, as in PyTorch.

A gradient may have a broadcast shape of its input's (``(4, 3)`` for an input
of ``(3,)``): it is summed back to the input's shape, as PyTorch does.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.autograd.function_ctx import FunctionCtx
from dendrite.autograd.grad_mode import enable_grad, no_grad
from dendrite.backend import ndarray
from dendrite.tensor_base import TensorBase, wrap


def _broadcast_axes(shape: tuple, grad_shape: tuple) -> tuple | None:
    """The axes to sum ``grad_shape`` over to get ``shape`` (kept as size 1), or None if impossible."""
    lead = len(grad_shape) - len(shape)
    if lead < 0:
        return None
    axes = list(range(lead))
    for position, size in enumerate(shape):
        if size == grad_shape[lead + position]:
            continue
        if size != 1:
            return None
        axes.append(lead + position)
    return tuple(axes)


class CtxNode:
    """One call of a ctx-contract Function in the graph (PyTorch's ``BackwardCFunction``).

    ``y.grad_fn`` of ``y = MyFunction.apply(x)`` is one of these, shown as
    ``<MyFunctionBackward>``; attributes it lacks are read from the call's
    ``ctx`` (``y.grad_fn.saved_tensors``, ``y.grad_fn.needs_input_grad``).

    Example:
        >>> import dendrite
        >>> class Cube(dendrite.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x ** 3
        ...     @staticmethod
        ...     def backward(ctx, grad_output):
        ...         (x,) = ctx.saved_tensors
        ...         return 3 * x ** 2 * grad_output
        >>> y = Cube.apply(dendrite.tensor([2.0], requires_grad=True))
        >>> y.grad_fn, isinstance(y.grad_fn, CtxNode)
        (<CubeBackward>, True)
    """

    # The engine's view of a node (the same fields as the array contract's Function).
    n_outputs = 1
    inputs: tuple = ()
    needs_input_grad: tuple = ()
    released = False
    created_at = None
    output_hooks = None
    retained_outputs = None
    stamp = float("inf")  # for in-place version checks: never counted as older than a write
    # Set on the per-class subclass (``MyFunctionBackward``) by ctx_function.check_contract.
    function: type = type(None)
    user_backward = None  # the staticmethod's function (or vjp), None when the class defines neither
    # Set per call by ctx_function.apply.
    ctx: FunctionCtx | None = None
    output_meta: tuple = ()  # per output: (shape, dtype, array module) of a tensor, None for another value
    saved_arrays: tuple = ()  # the arrays of ctx.saved_tensors (what in-place checks look at)

    def __getattr__(self, attribute: str):
        # Only reached for attributes the node lacks: the ctx API and the user's own attributes.
        ctx = self.__dict__.get("ctx")
        if ctx is None or attribute.startswith("__"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attribute!r}")
        return getattr(ctx, attribute)

    @property
    def name(self) -> str:
        """The user's Function class name, as shown in ``grad_fn`` and error messages.

        Example:
            >>> import dendrite
            >>> class Neg(dendrite.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x): return -x
            ...     @staticmethod
            ...     def backward(ctx, grad_output): return -grad_output
            >>> Neg.apply(dendrite.tensor([1.0], requires_grad=True)).grad_fn.name
            'Neg'
        """
        return self.function.__name__

    @property
    def next_functions(self) -> tuple:
        """The nodes that produced this node's inputs, as ``(node, output index)``: ``(None, 0)`` otherwise.

        Example:
            >>> import dendrite
            >>> class Neg(dendrite.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x): return -x
            ...     @staticmethod
            ...     def backward(ctx, grad_output): return -grad_output
            >>> Neg.apply(dendrite.tensor([1.0], requires_grad=True).exp()).grad_fn.next_functions
            ((<ExpBackward>, 0),)
        """
        return tuple(
            (item._ctx, item._out_index) if isinstance(item, TensorBase) else (None, 0)
            for item in self.inputs
        )

    def backward(self, grad_output):
        """The engine's call: output gradient array(s) in, one array (or None) per input out.

        Example:
            >>> import numpy as np, dendrite
            >>> class Neg(dendrite.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x): return -x
            ...     @staticmethod
            ...     def backward(ctx, grad_output): return -grad_output
            >>> y = Neg.apply(dendrite.tensor([1.0], requires_grad=True))
            >>> y.grad_fn.backward(np.array([2.0], np.float32))
            (array([-2.], dtype=float32),)
        """
        arrays = (grad_output,) if self.n_outputs == 1 else grad_output
        grads = tuple(None if array is None else wrap(array) for array in arrays)
        with no_grad():
            result = self._run_user_backward(grads)
        protected = {id(item._data) for item in self.inputs if isinstance(item, TensorBase)}
        out = []
        for position, grad in enumerate(self._checked(result)):
            if grad is None:
                out.append(None)
                continue
            array = grad._data
            if array.shape != self.inputs[position]._data.shape:
                axes = _broadcast_axes(self.inputs[position]._data.shape, array.shape)
                array = array.sum(axis=axes, keepdims=True).reshape(self.inputs[position]._data.shape)
            elif id(array) in protected or any(array is entry for entry in self.saved_arrays):
                # backward returned an input or a saved tensor itself: the engine may store it as a
                # leaf's .grad and accumulate into it in place, which must not change the tensor
                array = array.copy()
            out.append(array if type(array) is ndarray else backend.as_result(array))
        return tuple(out)

    def backward_graph(self, *grad_outputs) -> tuple:
        """``create_graph=True``: tensors in (None for no gradient), one tensor (or None) per input out.

        The user's backward runs with grad recording on, so its result is
        part of the graph and can be differentiated again.

        Example:
            >>> import dendrite
            >>> class Cube(dendrite.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x):
            ...         ctx.save_for_backward(x)
            ...         return x ** 3
            ...     @staticmethod
            ...     def backward(ctx, grad_output):
            ...         (x,) = ctx.saved_tensors
            ...         return 3 * x ** 2 * grad_output
            >>> x = dendrite.tensor([2.0], requires_grad=True)
            >>> y = Cube.apply(x)
            >>> (dx,) = y.grad_fn.backward_graph(dendrite.ones(1))
            >>> dx.backward(); dx, x.grad   # d/dx 3x² = 6x
            (tensor([12.], grad_fn=<MulBackward>), tensor([12.]))
        """
        with enable_grad():
            result = self._run_user_backward(grad_outputs)
            out = []
            for position, grad in enumerate(self._checked(result)):
                if grad is not None:
                    item = self.inputs[position]
                    if grad.shape != item.shape:
                        axes = _broadcast_axes(item.shape, grad.shape)
                        grad = grad.sum(dim=axes, keepdim=True).reshape(item.shape)
                    if grad.dtype != item.dtype:
                        grad = grad.to(item.dtype)
                out.append(grad)
        return tuple(out)

    def release(self) -> None:
        """Free the saved tensors and the links to the inputs (after a backward pass).

        Example:
            >>> import dendrite
            >>> class Neg(dendrite.autograd.Function):
            ...     @staticmethod
            ...     def forward(ctx, x): return -x
            ...     @staticmethod
            ...     def backward(ctx, grad_output): return -grad_output
            >>> y = Neg.apply(dendrite.tensor([1.0], requires_grad=True))
            >>> y.grad_fn.release(); y.grad_fn.released, y.grad_fn.inputs
            (True, ())
        """
        if self.ctx is not None:
            self.ctx._release()
        self.inputs = self.saved_arrays = ()
        self.released = True

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"

    # ------------------------------------------------------------------ the user's backward
    def _run_user_backward(self, grad_outputs: tuple):
        if self.user_backward is None:
            raise NotImplementedError(
                f"{self.name}: you must implement either the backward or vjp method for your custom "
                "autograd.Function to use it with backward mode AD (@staticmethod "
                "def backward(ctx, *grad_outputs))."
            )
        if self.ctx.materialize_grads:
            grad_outputs = tuple(
                wrap(meta[2].zeros(meta[0], meta[1])) if grad is None and meta is not None else grad
                for grad, meta in zip(grad_outputs, self.output_meta)
            )
        return self.user_backward(self.ctx, *grad_outputs)

    def _checked(self, result) -> tuple:
        """``result`` as one tensor or None per input; None where the input wants no gradient."""
        name = self.name
        if type(result) is not tuple:
            result = tuple(result) if type(result) is list else (result,)
        expected = len(self.inputs)
        if len(result) > expected and all(grad is None for grad in result[expected:]):
            result = result[:expected]  # extra trailing Nones are allowed, as in PyTorch
        if len(result) != expected:
            raise RuntimeError(
                f"function {name}Backward returned an incorrect number of gradients (expected {expected}, "
                f"got {len(result)}): {name}.backward must return one gradient (or None) per positional "
                "argument of forward, in order"
            )
        checked = []
        for position, (grad, item, need) in enumerate(zip(result, self.inputs, self.needs_input_grad)):
            if grad is None:
                checked.append(None)
                continue
            if not isinstance(grad, TensorBase):
                hint = (" (an array: wrap it with dendrite.tensor(...), or write the array contract)"
                        if backend.is_array(grad) else "")
                raise TypeError(
                    f"function {name}Backward returned a {type(grad).__name__} as gradient {position}{hint}; "
                    "expected a Tensor or None"
                )
            if not isinstance(item, TensorBase):
                raise RuntimeError(
                    f"function {name}Backward returned a gradient different than None at position "
                    f"{position + 1}, but the corresponding forward input was not a Tensor (it is a "
                    f"{type(item).__name__}); return None for it"
                )
            if not need:  # PyTorch ignores a gradient for an input that wants none
                checked.append(None)
                continue
            if grad.shape != item.shape and _broadcast_axes(item.shape, grad.shape) is None:
                raise RuntimeError(
                    f"Function {name}Backward returned an invalid gradient at index {position} - got "
                    f"{list(grad.shape)} but expected shape compatible with {list(item.shape)}"
                )
            checked.append(grad)
        return tuple(checked)
