"""``grad`` and ``backward`` as functions (PyTorch's ``torch.autograd.grad/backward``)."""

from __future__ import annotations

from dendrite.autograd.engine import run_backward
from dendrite.backend import xp
from dendrite.tensor import Tensor, _new_tensor


def _as_list(items):
    return [items] if isinstance(items, Tensor) else list(items)


def _output_grads(outputs, grad_outputs):
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = _as_list(grad_outputs) if not isinstance(grad_outputs, (list, tuple)) else list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    arrays = []
    for output, given in zip(outputs, grad_outputs):
        if not output.requires_grad:
            raise RuntimeError("grad: an output does not require grad and has no grad_fn")
        if given is None:
            if output._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, got shape {output.shape}"
                )
            arrays.append(xp.ones_like(output._data))
        else:
            array = given._data if isinstance(given, Tensor) else xp.asarray(given)
            arrays.append(array.astype(output._data.dtype, copy=True))
    return arrays


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, allow_unused: bool = False):
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([3.0], requires_grad=True)
        >>> (dx,) = dendrite.autograd.grad((x * x).sum(), x)
        >>> dx
        tensor([6.])
    """
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    arrays = _output_grads(outputs, grad_outputs)
    captured = run_backward(outputs, arrays, retain_graph=bool(retain_graph), capture=inputs)
    result = []
    for position, tensor in enumerate(inputs):
        if position not in captured:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {position} was not used to compute the outputs; "
                    "pass allow_unused=True if this is expected"
                )
            result.append(None)
        else:
            result.append(_new_tensor(xp.array(captured[position])))
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None) -> None:
    """Accumulate gradients of several outputs at once into the leaves' ``.grad``."""
    tensors = _as_list(tensors)
    run_backward(tensors, _output_grads(tensors, grad_tensors), retain_graph=bool(retain_graph))
