"""``grad`` and ``backward`` as functions (PyTorch's ``torch.autograd.grad/backward``).

Re-exported by :mod:`dendrite.autograd.functional`, the module PyTorch code imports them from.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.autograd.accumulate_hooks import run_post_accumulate_grad_hooks
from dendrite.autograd.engine import run_backward, store_grad
from dendrite.autograd.graph_backward import run_backward_graph, store_grad_graph
from dendrite.backend import xp
from dendrite.tensor_base import TensorBase, wrap


def _as_list(items) -> list:
    return [items] if isinstance(items, TensorBase) else list(items)


def _output_grads(outputs: list, grad_outputs, name: str, create_graph: bool = False) -> list:
    """The seed gradient of each output as an array of the output's shape and dtype.

    With ``create_graph`` the seeds are tensors instead, and a given seed is
    kept as it is (it may itself require grad: its graph joins the gradients').
    """
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    else:
        grad_outputs = _as_list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"{name}: got {len(grad_outputs)} gradients for {len(outputs)} outputs")
    arrays = []
    for position, (output, given) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(output, TensorBase):
            raise TypeError(f"{name}: output {position} is a {type(output).__name__}, expected a Tensor")
        if not output.requires_grad:
            raise RuntimeError(
                f"{name}: element {position} of tensors does not require grad and does not have a "
                "grad_fn: did you create the inputs with requires_grad=True, or run inside no_grad()?"
            )
        if given is None:
            if output._data.size != 1:
                raise RuntimeError(
                    f"{name}: grad can be implicitly created only for scalar outputs; output {position} "
                    f"has shape {output.shape}. Pass its gradient, or reduce it first, e.g. .sum()"
                )
            ones = xp.ones_like(output._data)
            arrays.append(wrap(ones) if create_graph else ones)
        else:
            array = given._data if isinstance(given, TensorBase) else backend.asarray(given)
            if array.shape != output._data.shape:
                raise RuntimeError(
                    f"{name}: gradient {position} has shape {array.shape} but output {position} has "
                    f"shape {output._data.shape}; they must match"
                )
            if not create_graph:
                arrays.append(array.astype(output._data.dtype, copy=True))
            elif not isinstance(given, TensorBase):
                arrays.append(wrap(array.astype(output._data.dtype, copy=True)))
            else:
                arrays.append(given if given.dtype == output.dtype else given.to(output.dtype))
    return arrays


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused=None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    Returns a tuple with one tensor per input, of that input's shape (``None``
    for an unused input when ``allow_unused=True``; zeros with
    ``materialize_grads=True``). ``grad_outputs`` have the outputs' shapes.
    With ``create_graph=True`` the gradients keep a graph (differentiate them
    again: Hessian-vector products, gradient penalties; see docs/autograd.md);
    ``retain_graph`` then defaults to True.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([3.0], requires_grad=True)
        >>> (dx,) = dendrite.autograd.grad((x * x).sum(), x)
        >>> dx
        tensor([6.])
        >>> (dx,) = dendrite.autograd.grad((x ** 3).sum(), x, create_graph=True); dx
        tensor([27.], grad_fn=<MulBackward>)
        >>> dendrite.autograd.grad(dx.sum(), x)  # d²(x³)/dx² = 6x
        (tensor([18.]),)
    """
    if is_grads_batched:
        raise NotImplementedError("grad(is_grads_batched=True) is not supported")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    for position, tensor in enumerate(inputs):
        if not isinstance(tensor, TensorBase) or not tensor.requires_grad:
            raise RuntimeError(f"grad: input {position} does not require grad (differentiate only "
                               "with respect to tensors created with requires_grad=True)")
    if retain_graph is None:
        retain_graph = create_graph  # as PyTorch: a graph of gradients usually goes on to a second backward
    arrays = _output_grads(outputs, grad_outputs, "grad", create_graph)
    walk = run_backward_graph if create_graph else run_backward
    unique = list({id(tensor): tensor for tensor in inputs}.values())  # asked for twice: answered twice
    slot = {id(tensor): position for position, tensor in enumerate(unique)}
    captured = walk(outputs, arrays, retain_graph=bool(retain_graph), capture=unique)
    result = []
    for position, tensor in enumerate(inputs):
        if slot[id(tensor)] in captured:
            found = captured[slot[id(tensor)]]
            result.append(found if create_graph else wrap(found.copy()))
        elif materialize_grads:
            result.append(wrap(xp.zeros_like(tensor._data)))
        elif allow_unused:
            result.append(None)
        else:
            raise RuntimeError(
                f"grad: input {position} was not used to compute the outputs; "
                "pass allow_unused=True if this is expected"
            )
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False,
             grad_variables=None, inputs=None) -> None:
    """Accumulate gradients of several outputs at once into the leaves' ``.grad``.

    ``grad_tensors`` have the shapes of ``tensors`` (omit them for one-element outputs).
    With ``inputs`` only those tensors' ``.grad`` change (they may be inner tensors).
    With ``create_graph=True`` each ``.grad`` is a tensor with a graph (docs/autograd.md).

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> dendrite.autograd.backward([(x * 2).sum(), (x * x).sum()])
        >>> x.grad
        tensor([4., 6.])
    """
    if grad_tensors is None:
        grad_tensors = grad_variables
    tensors = _as_list(tensors)
    arrays = _output_grads(tensors, grad_tensors, "backward", create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        captured = run_backward_graph(tensors, arrays, retain_graph=bool(retain_graph),
                                      capture=None if inputs is None else _as_list(inputs))
        for position, tensor in enumerate([] if inputs is None else _as_list(inputs)):
            if position in captured:
                store_grad_graph(tensor, captured[position])
                run_post_accumulate_grad_hooks(tensor, True)
        return
    if inputs is None:
        run_backward(tensors, arrays, retain_graph=bool(retain_graph))
        return
    inputs = _as_list(inputs)
    captured = run_backward(tensors, arrays, retain_graph=bool(retain_graph), capture=inputs)
    handed_out: set = set()
    for position, tensor in enumerate(inputs):
        if position in captured:
            store_grad(tensor, captured[position], handed_out)
            run_post_accumulate_grad_hooks(tensor)  # a leaf's hooks (an inner tensor has none)
