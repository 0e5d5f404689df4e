"""The backward walk with ``create_graph=True``: gradients that are themselves differentiable.

The everyday walk (:mod:`dendrite.autograd.engine`) moves NumPy arrays: fast,
but the gradients it produces have no history, so they cannot be
differentiated again. With ``create_graph=True`` this walk runs instead. It
visits the same nodes in the same order, but every gradient is a dendrite
``Tensor`` and each node computes its input gradients with
``node.backward_graph(*grad_outputs)``: the same formula as its ``backward``,
written with differentiable dendrite operations. The gradients therefore carry
a graph back to the inputs (and to the seed gradients), so a Hessian-vector
product, a WGAN-GP gradient penalty or a MAML inner step can call backward on
them again; a third derivative works the same way.

A node without ``backward_graph`` stops the walk with an error naming it: a
gradient without its graph would be silently wrong (its second derivative
would read as zero).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite.autograd.accumulate_hooks import hooks_by_leaf, run_post_accumulate_grad_hooks
from dendrite.autograd.engine import _topological_order, backward_observers
from dendrite.autograd.grad_mode import enable_grad, state
from dendrite.autograd.versions import clock, edge_of, stale_after_writes
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor

DOCS = "docs/autograd.md (double backward)"


def _as_made(node) -> tuple:
    """``node.inputs`` as they were when ``node`` was made, for a node older than an in-place rebase.

    An input written in place since then has a new ``grad_fn``; ``backward_graph`` builds its
    graph from the input tensors, so it is handed a stand-in that shares the memory but carries
    the ``grad_fn`` the node saw (versions.edge_of), as the everyday walk routes its gradients.
    """
    inputs = []
    for item in node.inputs:
        if isinstance(item, TensorBase):
            parent, index = edge_of(item, node.stamp)
            if parent is not item._ctx or index != item._out_index:
                item = wrap(item._data, parent, index) if parent is not None else wrap(item._data)
        inputs.append(item)
    return tuple(inputs)


def unsupported_error(node) -> RuntimeError:
    """The error for a node that cannot compute its gradient with a graph (no ``backward_graph``).

    Example:
        >>> import dendrite
        >>> from dendrite.autograd.graph_backward import unsupported_error
        >>> node = (dendrite.tensor([1.0], requires_grad=True) * 2).grad_fn
        >>> str(unsupported_error(node)).split(" is ")[0]
        'double backward through Mul'
    """
    where = f" (created at {node.created_at})" if node.created_at else ""
    hint = "" if node.created_at else (" Run the forward pass under dendrite.autograd.detect_anomaly() to "
                                       "see the line that created it.")
    return RuntimeError(
        f"double backward through {node.name}{where} is not supported yet: {node.name} has no "
        f"backward_graph, so create_graph=True cannot give its gradient a graph. Ops that support it: "
        f"see {DOCS}; or compute this part without create_graph.{hint}"
    )


def _add(total, grad):
    return grad if total is None else total + grad


def _checked(node, input_grads, inputs) -> tuple:
    """``backward_graph``'s answer as one tensor (or None) per input, shapes checked, dtypes matched."""
    if not isinstance(input_grads, tuple):
        input_grads = (input_grads,)
    if len(input_grads) < len(inputs):  # as backward: trailing inputs (options) may get nothing
        input_grads = input_grads + (None,) * (len(inputs) - len(input_grads))
    elif len(input_grads) > len(inputs) and not any(input_grads[len(inputs):]):
        input_grads = input_grads[:len(inputs)]  # Nones for optional inputs that were not passed
    if len(input_grads) != len(inputs):
        raise RuntimeError(f"internal error in {node.name}.backward_graph: {len(input_grads)} gradients "
                           f"for {len(inputs)} inputs")
    result = []
    for item, grad in zip(inputs, input_grads):
        if grad is not None and isinstance(item, TensorBase):
            if not isinstance(grad, TensorBase):
                raise RuntimeError(f"internal error in {node.name}.backward_graph: returned a "
                                   f"{type(grad).__name__}, expected a Tensor")
            if grad.shape != item.shape:
                raise RuntimeError(f"internal error in {node.name}.backward_graph: gradient of shape "
                                   f"{tuple(grad.shape)} for an input of shape {tuple(item.shape)}")
            if grad.dtype != item.dtype:
                grad = grad.to(item.dtype)
        result.append(grad)
    return tuple(result)


def _run_hooks(hooks, grad):
    """Each hook sees the gradient tensor (with its graph); a hook may return a replacement."""
    for hook in tuple(hooks):
        replaced = hook(grad)
        if replaced is not None:
            if not isinstance(replaced, TensorBase) or replaced.shape != grad.shape:
                raise RuntimeError(
                    f"hook {getattr(hook, '__name__', hook)!r} returned {type(replaced).__name__} of shape "
                    f"{getattr(replaced, 'shape', None)}; expected a Tensor of shape {tuple(grad.shape)}"
                )
            grad = replaced
    return grad


def store_grad_graph(tensor: Tensor, grad: Tensor) -> None:
    """Add ``grad`` (a tensor that may have a graph) to ``tensor.grad``, out of place (as PyTorch does).

    Example:
        >>> import dendrite
        >>> from dendrite.autograd.graph_backward import store_grad_graph
        >>> x = dendrite.tensor([1.0], requires_grad=True)
        >>> store_grad_graph(x, x * 3); x.grad
        tensor([3.], grad_fn=<MulBackward>)
    """
    tensor.grad = grad if tensor.grad is None else tensor.grad + grad


def run_backward_graph(outputs, output_grads, retain_graph: bool = True, capture=None):
    """Back-propagate ``output_grads`` (tensors, each of its output's shape) from ``outputs``, with a graph.

    Without ``capture`` the gradients (tensors with ``grad_fn``) are added to
    the ``.grad`` of every leaf that requires grad. With ``capture`` (a list of
    tensors) no ``.grad`` changes: ``{position in capture: gradient tensor}``
    comes back.

    Example:
        >>> import dendrite
        >>> from dendrite.autograd.graph_backward import run_backward_graph
        >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> run_backward_graph((x * x,), (dendrite.ones(2),), capture=[x])
        {0: tensor([2., 4.], grad_fn=<AddBackward>)}
    """
    if backward_observers and capture is None:
        for observer in tuple(backward_observers):
            observer(tuple(outputs))
    with enable_grad():  # the gradient formulas must be recorded, even when called under no_grad
        return _walk(outputs, output_grads, retain_graph, capture)


def _walk(outputs, output_grads, retain_graph, capture):
    captured: dict = {}
    leaf_grads: dict = {}  # id(leaf) -> [leaf, summed gradient tensor]
    capture_ids, capture_nodes = {}, {}
    for position, wanted in enumerate(capture or ()):
        if wanted._ctx is None:
            capture_ids[id(wanted)] = position
        else:
            capture_nodes.setdefault(wanted._ctx, {})[wanted._out_index] = position

    pending, roots = {}, []
    for output, grad in zip(outputs, output_grads):
        node = output._ctx
        if id(output) in capture_ids:
            position = capture_ids[id(output)]
            captured[position] = _add(captured.get(position), grad)
        elif node is None:
            entry = leaf_grads.setdefault(id(output), [output, None])
            entry[1] = _add(entry[1], grad)
        else:
            if node not in pending:
                pending[node] = [None] * node.n_outputs
                roots.append(node)
            pending[node][output._out_index] = _add(pending[node][output._out_index], grad)

    anomaly = state.anomaly_enabled
    for node in _topological_order(roots):
        grads = pending.pop(node, None)
        if grads is None:
            continue
        if node.released:
            from dendrite.autograd.engine import _second_backward_error

            raise _second_backward_error(node)
        backward_graph = getattr(node, "backward_graph", None)
        if backward_graph is None:
            raise unsupported_error(node)
        if node.output_hooks:
            for index, hooks in node.output_hooks.items():
                if grads[index] is not None and hooks:
                    grads[index] = _run_hooks(hooks, grads[index])
        if node.retained_outputs:
            for index, tensor_ref in node.retained_outputs.items():
                tensor = tensor_ref()
                if tensor is not None and grads[index] is not None:
                    store_grad_graph(tensor, grads[index])
        for index, position in capture_nodes.get(node, {}).items():
            if grads[index] is not None:
                captured[position] = grads[index]
        inputs, needs = node.inputs, node.needs_input_grad
        stamp = node.stamp
        stale = stamp < clock.now and stale_after_writes(node)  # as the everyday walk
        if stale:
            node.inputs = _as_made(node)
            try:
                input_grads = _checked(node, backward_graph(*grads), inputs)
            finally:
                node.inputs = inputs
        else:
            input_grads = _checked(node, backward_graph(*grads), inputs)
        if anomaly:
            from dendrite.autograd.anomaly import check_backward

            check_backward(node, [None if g is None else g._data for g in input_grads],
                           [None if g is None else g._data for g in grads])
        if not retain_graph:
            node.release()
        for item, need, grad in zip(inputs, needs, input_grads):
            if not need or grad is None:
                continue
            parent, index = edge_of(item, stamp) if stale else (item._ctx, item._out_index)
            if parent is None:
                entry = leaf_grads.setdefault(id(item), [item, None])
                entry[1] = _add(entry[1], grad)
                continue
            slot = pending.get(parent)
            if slot is None:
                slot = pending[parent] = [None] * parent.n_outputs
            slot[index] = _add(slot[index], grad)

    for leaf, grad in leaf_grads.values():
        if leaf._hooks:
            grad = _run_hooks(leaf._hooks, grad)
        if capture is None:
            store_grad_graph(leaf, grad)
            if hooks_by_leaf and id(leaf) in hooks_by_leaf:  # after the walk, under grad mode (create_graph)
                run_post_accumulate_grad_hooks(leaf, True)
        elif id(leaf) in capture_ids:
            captured[capture_ids[id(leaf)]] = grad
    return captured
