"""Reverse-mode differentiation: walk the recorded graph from the output back.

1. Collect every node reachable from the outputs in topological order with an
   explicit stack (no recursion, so a chain of 100,000 operations is fine).
2. Visit nodes from the outputs backwards. A node runs its ``backward`` once
   all gradients flowing into it have been summed, then hands one gradient to
   each input that wants one: inner tensors pass it on to their own node,
   leaves collect it.
3. When the walk is over, each leaf's total gradient goes through the leaf's
   hooks (once, on the sum, as in PyTorch) and is added to its ``.grad``. A leaf
   with post-accumulate-grad hooks (``accumulate_hooks.py``) is finished earlier,
   right after the last node that feeds it, and its hooks then run.
4. Unless ``retain_graph`` is set, each node frees its saved arrays once used;
   a second backward through it is an error that says so.

Gradients flowing through the graph are always summed out of place
(``a + b``), because a node may hand the same array to several inputs.

This loop runs once per node of every training step, so it is written for a
small constant cost per node (a tiny network's step is mostly this overhead):
the rare cases (hooks, retained gradients, captured inputs, anomaly mode) are
each one cheap test on the common path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.accumulate_hooks import finishing_nodes, hooks_by_leaf, run_post_accumulate_grad_hooks
from dendrite.autograd.grad_mode import state
from dendrite.autograd.versions import clock, edge_of, stale_after_writes
from dendrite.backend import as_result, ndarray, on_device, xp
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


# Functions called as ``observer(outputs)`` when a backward that fills ``.grad`` starts: the doctor's
# ``watch`` counts backward passes and reads the loss there. Usually empty: one test per backward call.
backward_observers: list = []


def add_backward_observer(observer) -> Callable[[], None]:
    """Call ``observer(outputs)`` (a tuple of tensors) at the start of every ``.grad``-filling backward.

    Returns a function that removes it. ``autograd.grad`` (which fills no
    ``.grad``) does not notify observers.

    Example:
        >>> import dendrite
        >>> seen = []
        >>> remove = add_backward_observer(lambda outputs: seen.append(outputs[0].item()))
        >>> x = dendrite.tensor([2.0], requires_grad=True)
        >>> (x * x).sum().backward(); remove()
        >>> seen
        [4.0]
    """
    backward_observers.append(observer)

    def remove() -> None:
        if observer in backward_observers:
            backward_observers.remove(observer)

    return remove


def _topological_order(roots):
    """Nodes reachable from ``roots`` with every node after all nodes that use it.

    An iterative depth-first search: a node is pushed back (marked as expanded)
    before its parents, and output once all of them have been output; the
    reversed output order has every consumer before what it consumes.
    """
    order, visited = [], set()
    stack = [(node, False) for node in roots]
    pop, push, visit = stack.pop, stack.append, visited.add
    while stack:
        node, expanded = pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visit(node)
        push((node, True))
        stale = node.stamp < clock.rebased  # an input got a new grad_fn in place since: use the old one
        for item, need in zip(node.inputs, node.needs_input_grad):
            if need:
                parent = edge_of(item, node.stamp)[0] if stale else item._ctx
                if parent is not None and parent not in visited:
                    push((parent, False))
    order.reverse()
    return order


def _run_hooks(hooks, grad):
    """Call each hook with the gradient as a tensor; a hook may return a replacement."""
    for hook in tuple(hooks):
        replaced = hook(wrap(grad))
        if replaced is not None:
            replaced = replaced._data if isinstance(replaced, TensorBase) else as_result(replaced)
            if replaced.shape != grad.shape:
                raise RuntimeError(
                    f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape "
                    f"{replaced.shape}; expected the shape of the gradient it was given, {grad.shape}"
                )
            grad = replaced.astype(grad.dtype, copy=True)  # a copy: the hook's caller may keep its tensor
    return grad


def _owned(grad, handed_out: set):
    """``grad`` as an array that no other tensor's ``.grad`` shares (copied when in doubt)."""
    if type(grad) is not ndarray:
        if not on_device(grad):
            return backend.asarray(grad)
        if id(grad) in handed_out or not grad.flags.owndata:  # CuPy arrays are always writeable
            grad = grad.copy()
        handed_out.add(id(grad))
        return grad
    flags = grad.flags
    if id(grad) in handed_out or not flags.owndata or not flags.writeable:
        grad = grad.copy()
    handed_out.add(id(grad))
    return grad


def store_grad(tensor: Tensor, grad, handed_out: set) -> None:
    """Add ``grad`` (an array of the same shape) to ``tensor.grad``, in place if possible (AccumulateGrad).

    Example:
        >>> import numpy as np, dendrite
        >>> from dendrite.autograd.engine import store_grad
        >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> store_grad(x, np.ones(2, np.float32), set()); store_grad(x, np.ones(2, np.float32), set())
        >>> x.grad
        tensor([2., 2.])
    """
    current = tensor.grad
    if current is None:
        if type(grad) is ndarray and id(grad) not in handed_out:  # _owned's common case, inline
            flags = grad.flags
            if flags.owndata and flags.writeable:
                handed_out.add(id(grad))
                tensor.grad = wrap(grad)
                return
        tensor.grad = wrap(_owned(grad, handed_out))
        return
    data = current._data
    if data.shape == grad.shape and data.dtype == grad.dtype and (type(data) is not ndarray
                                                                   or data.flags.writeable):
        xp.add(data, grad, out=data)
    else:
        current._data = data + grad


def _output_nodes(outputs, output_grads, leaf_grads, captured, capture_ids):
    """Seed the walk: the gradient of each output goes to its node (or straight to a leaf)."""
    pending, roots = {}, []
    for output, grad in zip(outputs, output_grads):
        if grad.shape != output._data.shape:
            raise RuntimeError(
                f"backward: gradient of shape {grad.shape} does not match the output's shape "
                f"{output._data.shape}"
            )
        if id(output) in capture_ids:
            position = capture_ids[id(output)]
            captured[position] = captured[position] + grad if position in captured else grad
            continue
        node = output._ctx
        if node is None:
            _add_leaf_grad(leaf_grads, output, grad)
            continue
        slot = pending.get(node)
        if slot is None:
            slot = pending[node] = [None] * node.n_outputs
            roots.append(node)
        index = output._out_index
        slot[index] = grad if slot[index] is None else slot[index] + grad
    return pending, roots


def _add_leaf_grad(leaf_grads: dict, leaf: Tensor, grad) -> None:
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, grad]
    else:
        entry[1] = entry[1] + grad


def _node_hooks(node, grads, handed_out: set) -> None:
    """Run the hooks registered on the node's outputs, then keep retained gradients."""
    if node.output_hooks:
        for index, hooks in node.output_hooks.items():
            if grads[index] is not None and hooks:
                grads[index] = _run_hooks(hooks, grads[index])
    if node.retained_outputs:
        for index, tensor_ref in node.retained_outputs.items():
            tensor = tensor_ref()
            if tensor is not None and grads[index] is not None:
                store_grad(tensor, grads[index], handed_out)


def _finish_leaves(leaves, leaf_grads: dict, handed_out: set) -> None:
    """Store the complete gradient of each of ``leaves`` now, then run its post-accumulate-grad hooks."""
    for leaf in leaves:
        entry = leaf_grads.pop(id(leaf), None)
        if entry is None:  # no gradient reached it in this pass
            continue
        grad = entry[1]
        if leaf._hooks:
            grad = _run_hooks(leaf._hooks, grad)
        store_grad(leaf, grad, handed_out)
        run_post_accumulate_grad_hooks(leaf)


def _second_backward_error(node) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time: {node.name} has already "
        "freed the values it saved for backward. Pass retain_graph=True to the first "
        "backward() if you need to backward twice (or detach what you reuse)."
    )


def _one_node_to_leaves(output, grad) -> bool:
    """Whether ``output``'s backward is the fast path's: one node whose inputs are leaves, nothing unusual.

    That is a compiled step's graph (autograd/replay.py: the whole loss is one node over the parameters).
    Anything else -- several outputs, hooks or retained gradients on the node, hooks on a leaf, an
    in-place write since it was made (saved values to check), anomaly mode, post-accumulate-grad hooks,
    a wrong seed shape, a second backward -- takes the general walk, which handles (or reports) it.
    """
    node = output._ctx
    if node is None or node.n_outputs != 1 or node.released or node.stamp < clock.now or node.output_hooks \
            or node.retained_outputs or hooks_by_leaf or state.anomaly_enabled \
            or grad.shape != output._data.shape:
        return False
    for item, need in zip(node.inputs, node.needs_input_grad):
        if need and (item._ctx is not None or item._hooks):
            return False
    return True


def _backward_to_leaves(node, grad, retain_graph: bool) -> None:
    """The general walk (below) for one node whose inputs are hook-free leaves: the same steps in the
    same order (a leaf's gradients summed first, then added to its ``.grad``; ``retain_graph`` keeps
    the node's saved values), without the walk's bookkeeping."""
    input_grads = node.backward(grad)
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    inputs, needs = node.inputs, node.needs_input_grad
    if not retain_graph:
        node.release()
    leaves, grads = [], []
    for item, need, grad in zip(inputs, needs, input_grads):
        if not need or grad is None:
            continue
        data = item._data
        if grad.shape != data.shape:
            raise _wrong_shape_error(node, grad, data)
        if grad.dtype is not data.dtype and grad.dtype != data.dtype:  # (`is`: the cheap common test)
            grad = grad.astype(data.dtype)
        leaves.append(item)
        grads.append(grad)
    if len(leaves) > 1 and len(set(map(id, leaves))) < len(leaves):  # a leaf twice: summed first
        leaf_grads: dict = {}
        for leaf, grad in zip(leaves, grads):
            _add_leaf_grad(leaf_grads, leaf, grad)
        leaves = [leaf for leaf, _ in leaf_grads.values()]
        grads = [grad for _, grad in leaf_grads.values()]
    handed_out: set = set()
    for leaf, grad in zip(leaves, grads):
        store_grad(leaf, grad, handed_out)


def _wrong_shape_error(node, grad, data) -> RuntimeError:
    return RuntimeError(
        f"internal error in {node.name}.backward: gradient of shape {grad.shape} for an input of shape "
        f"{data.shape}"
    )


def run_backward(outputs, output_grads, retain_graph: bool = False, capture=None):
    """Back-propagate ``output_grads`` (arrays, each of its output's shape) from ``outputs`` (tensors).

    Without ``capture`` the gradients are added to the ``.grad`` of every leaf
    that requires grad. With ``capture`` (a list of tensors) nothing's
    ``.grad`` changes: the gradients reaching those tensors are returned as
    ``{position in capture: array}`` (each of its tensor's shape).

    Example:
        >>> import numpy as np, dendrite
        >>> from dendrite.autograd.engine import run_backward
        >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> run_backward((x * x,), (np.ones(2, np.float32),), capture=[x])
        {0: array([2., 4.], dtype=float32)}
    """
    if backward_observers and capture is None:
        for observer in tuple(backward_observers):
            observer(tuple(outputs))
    if capture is None and len(outputs) == 1 and _one_node_to_leaves(outputs[0], output_grads[0]):
        _backward_to_leaves(outputs[0]._ctx, output_grads[0], retain_graph)
        return {}
    captured: dict = {}
    leaf_grads: dict = {}  # id(leaf) -> [leaf, summed gradient]
    capture_ids = {}
    capture_nodes = {}  # node -> {output index: capture position}, for inner tensors
    for position, wanted in enumerate(capture or ()):
        if wanted._ctx is None:
            capture_ids[id(wanted)] = position
        else:
            capture_nodes.setdefault(wanted._ctx, {})[wanted._out_index] = position
    pending, roots = _output_nodes(outputs, output_grads, leaf_grads, captured, capture_ids)

    handed_out: set = set()  # ids of arrays already stored in some .grad
    anomaly = state.anomaly_enabled
    order = _topological_order(roots)
    finishing = finishing_nodes(order) if hooks_by_leaf and capture is None else None
    for node in order:
        grads = pending.pop(node, None)
        if grads is None:
            if finishing and node in finishing:
                _finish_leaves(finishing.pop(node), leaf_grads, handed_out)
            continue
        if node.released:
            raise _second_backward_error(node)
        stamp = node.stamp
        # something written in place since this node was made: check its saved values (versions.py)
        stale = stamp < clock.now and stale_after_writes(node)
        if node.output_hooks or node.retained_outputs:
            _node_hooks(node, grads, handed_out)
        if capture_nodes and node in capture_nodes:
            for index, position in capture_nodes[node].items():
                if grads[index] is not None:
                    captured[position] = grads[index]
        input_grads = node.backward(grads[0] if node.n_outputs == 1 else tuple(grads))
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        if anomaly:
            from dendrite.autograd.anomaly import check_backward

            check_backward(node, input_grads, grads)
        inputs, needs = node.inputs, node.needs_input_grad
        if not retain_graph:
            node.release()
        for item, need, grad in zip(inputs, needs, input_grads):
            if not need or grad is None:
                continue
            data = item._data
            if grad.shape != data.shape:
                raise _wrong_shape_error(node, grad, data)
            if grad.dtype != data.dtype:
                grad = grad.astype(data.dtype)
            parent, index = item._ctx, item._out_index
            if stale:
                parent, index = edge_of(item, stamp)
            if parent is None:  # a leaf: collect, hooks and .grad come at the end
                entry = leaf_grads.get(id(item))
                if entry is None:
                    leaf_grads[id(item)] = [item, grad]
                else:
                    entry[1] = entry[1] + grad
                continue
            slot = pending.get(parent)
            if slot is None:
                slot = pending[parent] = [None] * parent.n_outputs
            slot[index] = grad if slot[index] is None else slot[index] + grad
        if finishing and node in finishing:  # no more gradient will reach these leaves in this pass
            _finish_leaves(finishing.pop(node), leaf_grads, handed_out)
        # Let go of this node's inputs before the next node runs: an input that nothing else holds
        # (e.g. the output of a layer that a ReLU consumed) is freed now, not one node later.
        inputs = item = data = None

    for leaf, grad in leaf_grads.values():
        if leaf._hooks:
            grad = _run_hooks(leaf._hooks, grad)
        if capture is None:
            store_grad(leaf, grad, handed_out)
            if hooks_by_leaf and id(leaf) in hooks_by_leaf:
                run_post_accumulate_grad_hooks(leaf)
        elif id(leaf) in capture_ids:
            captured[capture_ids[id(leaf)]] = grad
    return captured
