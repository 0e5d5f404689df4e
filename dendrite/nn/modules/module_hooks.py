"""Backward hooks of a :class:`Module`: ``register_full_backward_hook`` and its pre-hook.

A module's backward hooks see the gradients at the module's *boundary*:
``grad_output`` w.r.t. its tensor outputs and ``grad_input`` w.r.t. its tensor
positional inputs, however many operations ``forward`` uses inside. As
PyTorch's ``torch.utils.hooks.BackwardHook`` does, a call of a hooked module
wraps its tensor inputs and its tensor outputs in an identity
``autograd.Function`` each (:class:`_BackwardHookFunction`): the backward of the
output-side identity is the first thing backward reaches, so it records
``grad_output`` (and runs the pre-hooks, which may replace it); the backward of
the input-side identity is the last thing backward reaches in the module, so it
holds ``grad_input``, runs the hooks and hands on what they return.

This file imports nothing from ``module.py``: ``Module`` builds on the mixin.
"""

from __future__ import annotations

import itertools
import warnings
from collections import OrderedDict
from collections.abc import Callable

from dendrite.autograd.function import Function
from dendrite.autograd.grad_mode import state
from dendrite.tensor_base import TensorBase

__all__ = ["BackwardHooksMixin", "RemovableHandle"]

_hook_ids = itertools.count()


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``handle.remove()`` unregisters the hook.

    Example:
        >>> import dendrite
        >>> layer = dendrite.nn.Linear(2, 1)
        >>> handle = layer.register_forward_hook(lambda module, args, output: None)
        >>> len(layer._forward_hooks), handle.remove(), len(layer._forward_hooks)
        (1, None, 0)
    """

    def __init__(self, hooks: dict, key: int) -> None:
        self._hooks, self.id = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


def add_hook(hooks: dict, hook: Callable) -> RemovableHandle:
    """Store ``hook`` in the ordered table ``hooks`` under a fresh id; its handle."""
    key = next(_hook_ids)
    hooks[key] = hook
    return RemovableHandle(hooks, key)


class _BackwardHookFunction(Function):
    """Identity on tensors whose backward hands the gradients to ``on_backward`` (may replace them)."""

    @staticmethod
    def forward(ctx, on_backward, materialize, *tensors):
        ctx.on_backward = on_backward
        ctx.set_materialize_grads(materialize)
        ctx.mark_non_differentiable(*[tensor for tensor in tensors if not tensor.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, None) + tuple(ctx.on_backward(grads))


class _BackwardHook:
    """One call of a module with backward hooks: links grad_output (outputs) to grad_input (inputs)."""

    def __init__(self, module, hooks: list, pre_hooks: list) -> None:
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = 0
        self.input_index = self.output_index = None
        self.wrapped_inputs = ()

    @staticmethod
    def _wrap(values: tuple, on_backward, materialize: bool):
        """``values`` with its tensors passed through identity: (new values, tensor positions, wrapped)."""
        index = [position for position, value in enumerate(values) if isinstance(value, TensorBase)]
        if not (state.grad_enabled and any(values[position].requires_grad for position in index)):
            return values, None, ()
        wrapped = _BackwardHookFunction.apply(on_backward, materialize, *[values[p] for p in index])
        values = list(values)
        for position, tensor in zip(index, wrapped):
            values[position] = tensor
        return tuple(values), index, wrapped

    @staticmethod
    def _pack(index: list, values, size: int) -> tuple:
        packed = [None] * size
        for position, value in zip(index, values):
            packed[position] = value
        return tuple(packed)

    def setup_inputs(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        args, self.input_index, self.wrapped_inputs = self._wrap(args, self._on_input_grads, True)
        self.wrapped_nodes = tuple(tensor._ctx for tensor in self.wrapped_inputs)
        return args

    def check_inputs(self) -> None:
        """PyTorch refuses an in-place write to a hooked module's input inside forward (``x.mul_(2)``)."""
        for position, (tensor, node) in enumerate(zip(self.wrapped_inputs, self.wrapped_nodes)):
            if node is not None and tensor._ctx is not node:
                raise RuntimeError(
                    f"Output {position} of BackwardHookFunction is a view and is being modified inplace: "
                    f"{self.module._get_name()} has backward hooks, and its forward changed its input in "
                    "place. Modifying inputs or outputs in place is not allowed with backward hooks; clone "
                    "the input first (or use the layer's out-of-place form, e.g. inplace=False)"
                )

    def setup_outputs(self, result):
        is_tuple = isinstance(result, tuple)
        if not is_tuple and not isinstance(result, TensorBase):
            warnings.warn("For backward hooks to be called, module output should be a Tensor or a tuple of "
                          f"Tensors but received {type(result).__name__}", stacklevel=3)
            return result
        outputs = result if is_tuple else (result,)
        self.n_outputs = len(outputs)
        outputs, self.output_index, _ = self._wrap(outputs, self._on_output_grads, False)
        return outputs if is_tuple else outputs[0]

    def _on_output_grads(self, grads: tuple) -> tuple:
        self.grad_outputs = self._pack(self.output_index, grads, self.n_outputs)
        for hook in self.pre_hooks:
            result = hook(self.module, self.grad_outputs)
            if result is None:
                continue
            result = result if isinstance(result, tuple) else (result,)
            if len(result) != len(self.grad_outputs):
                raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                   f"got {len(result)}, but expected {len(self.grad_outputs)}")
            self.grad_outputs = result
        grad_outputs = self.grad_outputs
        if self.input_index is None:  # no input requires grad: the hooks run now, with grad_input all None
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module "
                          "outputs since no inputs require gradients.", stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                result = hook(self.module, grad_inputs, grad_outputs)
                if result is not None and not (isinstance(result, tuple) and all(g is None for g in result)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should "
                                       "always return None or None for all gradients.")
            self.grad_outputs = None
        return tuple(grad_outputs[position] for position in self.output_index)

    def _on_input_grads(self, grads: tuple) -> tuple:
        if self.grad_outputs is None:  # the gradient reached the inputs without passing the outputs
            return grads
        grad_inputs = self._pack(self.input_index, grads, self.n_inputs)
        for hook in self.hooks:
            result = hook(self.module, grad_inputs, self.grad_outputs)
            if result is None:
                continue
            result = result if isinstance(result, tuple) else (result,)
            if len(result) != len(grad_inputs):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                   f"got {len(result)}, but expected {len(grad_inputs)}")
            grad_inputs = result
        self.grad_outputs = None
        return tuple(grad_inputs[position] for position in self.input_index)


class BackwardHooksMixin:
    """``register_full_backward_hook`` / ``register_full_backward_pre_hook`` for :class:`Module`.

    Uses the module's ``_backward_hooks`` and ``_backward_pre_hooks`` tables (made by
    ``Module.__init__``); ``_call_with_hooks`` is what ``Module.__call__`` runs when any hook is set.

    Example:
        >>> import dendrite
        >>> layer = dendrite.nn.Linear(3, 2)
        >>> handle = layer.register_full_backward_hook(
        ...     lambda module, grad_input, grad_output: print(grad_input[0].shape, grad_output[0].shape))
        >>> layer(dendrite.ones(4, 3, requires_grad=True)).sum().backward()
        (4, 3) (4, 2)
    """

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output) -> tuple | None`` runs with the inputs' gradients.

        ``grad_input``: one entry per positional argument of the call, the gradient w.r.t.
        it (same shape) or ``None`` for non-tensors; ``grad_output``: one entry per tensor
        output (``None`` for an output that got no gradient). A returned tuple (same length
        as ``grad_input``) replaces ``grad_input`` for the rest of backward. Do not change the
        arguments in place, nor the module's inputs or outputs (an error, as in PyTorch).

        Example:
            >>> import dendrite
            >>> layer = dendrite.nn.Linear(2, 1)
            >>> x = dendrite.ones(1, 2, requires_grad=True)
            >>> handle = layer.register_full_backward_hook(
            ...     lambda module, grad_input, grad_output: (dendrite.zeros(1, 2),))
            >>> layer(x).sum().backward()
            >>> x.grad.tolist()
            [[0.0, 0.0]]
            >>> handle.remove()
        """
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a single "
                               "Module. Please use only one of them.")
        self._is_full_backward_hook = True
        handle = add_hook(self._backward_hooks, hook)
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output) -> tuple | None`` runs when the outputs' gradients reach the module.

        ``grad_output`` has one entry per tensor output; a returned tuple of the same length
        replaces it (what the module's own backward then uses).

        Example:
            >>> import dendrite
            >>> layer = dendrite.nn.Identity()
            >>> x = dendrite.ones(2, requires_grad=True)
            >>> handle = layer.register_full_backward_pre_hook(lambda module, grad_out: (grad_out[0] * 3,))
            >>> layer(x).sum().backward()
            >>> x.grad.tolist()
            [3.0, 3.0]
        """
        handle = add_hook(self._backward_pre_hooks, hook)
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """Deprecated: PyTorch's old module backward hook; here it *is* ``register_full_backward_hook``.

        PyTorch's version hooks the grad_fn of the module's last operation, so its
        ``grad_input`` are that operation's inputs (for ``Linear``: bias, input and
        ``weight.T``), and it warns when forward has several operations. dendrite gives
        the documented behaviour instead: ``grad_input`` w.r.t. the module's inputs.

        Example:
            >>> import warnings, dendrite
            >>> layer = dendrite.nn.Linear(2, 1)
            >>> with warnings.catch_warnings():
            ...     warnings.simplefilter("ignore")
            ...     handle = layer.register_backward_hook(lambda module, grad_input, grad_output: None)
            >>> handle.remove()
        """
        if self._is_full_backward_hook is True:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a single "
                               "Module. Please use only one of them.")
        warnings.warn("register_backward_hook is deprecated; dendrite runs it as register_full_backward_hook "
                      "(grad_input w.r.t. the module's inputs), which is what to call instead",
                      FutureWarning, stacklevel=2)
        self._is_full_backward_hook = False
        return add_hook(self._backward_hooks, hook)

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        """``forward`` with the forward (pre-)hooks and backward (pre-)hooks around it."""
        for hook in tuple(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        backward_hook = None
        if self._backward_hooks or self._backward_pre_hooks:
            backward_hook = _BackwardHook(self, list(self._backward_hooks.values()),
                                          list(self._backward_pre_hooks.values()))
            args = backward_hook.setup_inputs(args)
        output = self.forward(*args, **kwargs)
        for hook in tuple(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        if backward_hook is not None:
            backward_hook.check_inputs()
            output = backward_hook.setup_outputs(output)
        return output


def new_hook_tables() -> dict:
    """The hook tables a new Module starts with (``Module.__init__`` sets them)."""
    return {"_forward_hooks": OrderedDict(), "_forward_pre_hooks": OrderedDict(),
            "_backward_hooks": OrderedDict(), "_backward_pre_hooks": OrderedDict(),
            "_is_full_backward_hook": None}
