"""Reverse-mode differentiation: walk the recorded graph from the output back.

1. Collect every node reachable from the outputs in topological order with an
   explicit stack (no recursion, so a chain of 100,000 operations is fine).
2. Visit nodes from the outputs backwards. A node runs its ``backward`` once
   all gradients flowing into it have been summed, then hands one gradient to
   each input: leaves add it to ``.grad``, inner tensors to their own node.
3. Unless ``retain_graph`` is set, each node frees its saved arrays once used;
   a second backward through it is an error that says so.

Gradients are always summed out of place (``a + b``), because a node may hand
the same array to several inputs.
"""

from __future__ import annotations

from dendrite.autograd.grad_mode import state
from dendrite.backend import xp
from dendrite.tensor import Tensor, _new_tensor


def _topological_order(roots):
    """Nodes reachable from ``roots`` with every node after all nodes that use it."""
    order, visited = [], set()
    stack = [(node, False) for node in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for item in node.inputs:
            if isinstance(item, Tensor):
                parent = item._ctx
                if parent is not None and parent not in visited:
                    stack.append((parent, False))
    order.reverse()
    return order


def _run_hooks(hooks, grad):
    for hook in hooks:
        replaced = hook(_new_tensor(grad, None))
        if replaced is not None:
            grad = replaced._data if isinstance(replaced, Tensor) else xp.asarray(replaced)
    return grad


def _accumulate_leaf(leaf: Tensor, grad, handed_out: set) -> None:
    if leaf._hooks:
        grad = _run_hooks(leaf._hooks, grad)
    # Give each leaf its own array: several leaves may have received the same one.
    if id(grad) in handed_out or not grad.flags.owndata:
        grad = grad.copy()
    handed_out.add(id(grad))
    if leaf.grad is None:
        leaf.grad = _new_tensor(grad, None)
    else:
        leaf.grad._data = leaf.grad._data + grad


def run_backward(outputs, output_grads, retain_graph=False, capture=None):
    """Back-propagate ``output_grads`` (arrays) from ``outputs`` (tensors).

    With ``capture`` (a list of tensors) the gradients reaching those tensors
    are returned instead of being added to any ``.grad``.
    """
    pending = {}
    roots = []
    captured = {}
    capture_ids = {id(t): position for position, t in enumerate(capture or ())}
    for output, grad in zip(outputs, output_grads):
        if grad.shape != output._data.shape:
            raise RuntimeError(
                f"backward: gradient of shape {grad.shape} does not match the output's "
                f"shape {output._data.shape}"
            )
        if id(output) in capture_ids:
            position = capture_ids[id(output)]
            captured[position] = captured[position] + grad if position in captured else grad
            continue
        node = output._ctx
        if node is None:
            if capture is None:
                _accumulate_leaf(output, grad, set())
            continue
        slot = pending.setdefault(node, [None] * node.n_outputs)
        index = output._out_index
        slot[index] = grad if slot[index] is None else slot[index] + grad
        roots.append(node)

    # Inner tensors wanted by ``grad(...)``: node -> {output index: capture position}.
    capture_nodes = {}
    for position, wanted in enumerate(capture or ()):
        if wanted._ctx is not None:
            capture_nodes.setdefault(wanted._ctx, {})[wanted._out_index] = position

    handed_out: set = set()
    anomaly = state.anomaly_enabled
    for node in _topological_order(roots):
        grads = pending.pop(node, None)
        if grads is None:
            continue
        if node.released:
            raise RuntimeError(
                f"Trying to backward through the graph a second time ({node.name} has "
                "already freed the values it saved for backward). Pass retain_graph=True "
                "to the first backward() if you need to backward twice."
            )
        hooks = node.__dict__.get("output_hooks")
        if hooks:
            for index, index_hooks in hooks.items():
                if grads[index] is not None:
                    grads[index] = _run_hooks(index_hooks, grads[index])
        if node in capture_nodes:
            for index, position in capture_nodes[node].items():
                if grads[index] is not None:
                    captured[position] = grads[index]
        input_grads = node.backward(grads[0] if node.n_outputs == 1 else tuple(grads))
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        if anomaly:
            from dendrite.autograd.anomaly import check_backward

            check_backward(node, input_grads)
        if not retain_graph:
            node.release()
        for item, grad in zip(node.inputs, input_grads):
            if grad is None or not isinstance(item, Tensor) or not item.requires_grad:
                continue
            if grad.shape != item._data.shape:
                raise RuntimeError(
                    f"internal error in {node.name}.backward: gradient of shape {grad.shape} "
                    f"for an input of shape {item._data.shape}"
                )
            parent = item._ctx
            if parent is None:
                if capture is None:
                    _accumulate_leaf(item, grad, handed_out)
                elif id(item) in capture_ids:
                    position = capture_ids[id(item)]
                    captured[position] = captured[position] + grad if position in captured else grad
                continue
            slot = pending.get(parent)
            if slot is None:
                slot = pending[parent] = [None] * parent.n_outputs
            index = item._out_index
            slot[index] = grad if slot[index] is None else slot[index] + grad
    return captured
