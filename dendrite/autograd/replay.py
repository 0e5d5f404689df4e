"""Replaying a recorded tape: the same ``forward`` and ``backward`` calls, without the Python around them.

A :class:`Plan` is built from a recording (autograd/capture.py). Every value the
tape uses gets a slot in one flat list, ``values``::

    [constants ...][the call's tensor inputs ...][leaves (parameters) ...][outputs of the operations ...]

and each operation becomes ``(Function class, slots of its arguments, options,
needs_input_grad, several outputs?)``. :func:`run` fills the list from the new
inputs and calls each operation's own ``forward`` on fresh node objects, in the
recorded order: the NumPy calls are the ones eager mode makes, in the same
order, with the same dtypes, so the results are the same bits. What it skips is
the Python in front of each ``apply`` (modules, argument checks, type promotion:
all decided once, and guarded) and the graph bookkeeping (one ``Tensor`` per
intermediate value, links, version stamps).

The whole replayed call is one node of the autograd graph, :class:`Compiled`.
Its ``backward`` calls the recorded nodes' ``backward`` in the order the engine
would visit them (``engine._topological_order`` on the recorded graph, computed
once), summing gradients into the slots exactly as the engine sums them
(``earlier + later``), casting to each input's dtype as the engine does. The
engine then hands the gradients of the inputs and parameters on as usual
(hooks on them, ``.grad`` accumulation).
"""

from __future__ import annotations

from operator import itemgetter

from dendrite.autograd.engine import _topological_order
from dendrite.autograd.function import Function
from dendrite.autograd.versions import clock
from dendrite.backend import as_result, ndarray
from dendrite.tensor_base import wrap

__all__ = ["Compiled", "Plan", "difference", "run"]


def _same(a, b) -> bool:
    """Equal values of the same type (``1`` and ``1.0`` promote differently, so they differ here)."""
    if type(a) is not type(b):
        return False
    if type(a) is tuple:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def difference(first, second) -> str | None:
    """Why two recordings of the same call differ (so neither can stand for every call), or None.

    Example:
        >>> import dendrite
        >>> from dendrite.autograd.capture import Recorder, recording
        >>> tapes = []
        >>> for _ in range(2):
        ...     with recording(Recorder([])) as recorder:
        ...         _ = dendrite.ones(2).exp() * dendrite.ones(2)   # a fresh tensor on each call
        ...     tapes.append(recorder)
        >>> difference(*tapes)
        'the function uses a tensor made on each call by something not recorded (a new tensor, a comparison)'
    """
    if len(first.entries) != len(second.entries):
        return "the two calls ran a different number of operations (Python control flow on values?)"
    if len(first.leaves) != len(second.leaves) or any(
            a is not b for a, b in zip(first.leaves, second.leaves)):
        return ("the function uses a tensor made on each call by something not recorded (a new tensor, a "
                "comparison)")
    for one, other in zip(first.entries, second.entries):
        if one[0] is not other[0] or not _same(one[1], other[1]) or one[3:] != other[3:] \
                or not _same(tuple(sorted(one[2].items())), tuple(sorted(other[2].items()))):
            return (f"the two calls ran {one[0].__name__} differently (different arguments or options: "
                    "Python values that change between calls)")
    return None


def _getter(slots: tuple):
    """``values -> the arguments at slots``: one C call (a tuple, or the one value for one slot)."""
    return itemgetter(*slots) if slots else (lambda values: ())


class Plan:
    """What :func:`run` needs, built once from a recording whose result is ``outputs`` (tensors).

    ``output_kind`` is ``"tensor"``, ``tuple`` or ``list``: how the result is rebuilt.

    Example:
        >>> import dendrite
        >>> from dendrite.autograd.capture import Recorder, recording
        >>> x, w = dendrite.ones(2), dendrite.ones(2, requires_grad=True)
        >>> with recording(Recorder([x])) as recorder:
        ...     y = (x * w).exp()
        >>> plan = Plan(recorder, [y], "tensor")
        >>> [(cls.__name__, slots) for cls, slots, *_ in plan.forward]   # slots: [x, w, x * w, exp]
        [('Mul', (0, 1)), ('Exp', (2,))]
    """

    def __init__(self, recorder, outputs: list, output_kind) -> None:
        constants, constant_slot = [], {}
        for entry in recorder.entries:
            for kind, value in entry[1]:
                if kind == "c" and (type(value), repr(value)) not in constant_slot:
                    constant_slot[(type(value), repr(value))] = len(constants)
                    constants.append(value)
        n_inputs, n_leaves = len(recorder.inputs), len(recorder.leaves)
        first = {"c": 0, "i": len(constants), "l": len(constants) + n_inputs,
                 "o": len(constants) + n_inputs + n_leaves}

        def slot(ref):
            kind, value = ref
            if kind == "c":
                return constant_slot[(type(value), repr(value))]
            return first[kind] + value

        self.constants = constants
        self.leaves = list(recorder.leaves)
        self.leaf_key = [(t._data.shape, t._data.dtype, t.requires_grad) for t in self.leaves]
        self.forward = [(cls, tuple(slot(ref) for ref in refs), options or None, needs, len(out_refs) > 1)
                        for cls, refs, options, needs, out_refs in recorder.entries]
        # what run() loops over: each operation's arguments taken from the values by one itemgetter
        self.calls = [(cls, _getter(slots), len(slots) == 1, options, needs, several)
                      for cls, slots, options, needs, several in self.forward]
        self.output_slots = [slot(recorder.refs[id(tensor)]) for tensor in outputs]
        self.linked = [tensor._ctx is not None for tensor in outputs]
        self.output_kind = output_kind
        region_inputs = recorder.inputs + recorder.leaves
        self.region_first, self.region_end = first["i"], first["i"] + len(region_inputs)  # their slots
        self.region_needs = tuple(bool(t.requires_grad) for t in region_inputs)
        self.backward = self._backward_steps(recorder, outputs, slot) if any(self.linked) else None
        self.n_slots = first["o"] + sum(len(entry[4]) for entry in recorder.entries)

    @staticmethod
    def _backward_steps(recorder, outputs, slot) -> list:
        """The recorded nodes in the engine's order: ``(node position, slots of its outputs (one slot: an
        int), edges)``, each edge ``(input position, slot its gradient goes to, the input's dtype)`` for
        the inputs that want a gradient."""
        entry_of = {id(node): position for position, node in enumerate(recorder.nodes) if node is not None}
        roots = []
        for tensor in outputs:
            if tensor._ctx is not None and tensor._ctx not in roots:
                roots.append(tensor._ctx)
        steps = []
        for node in _topological_order(roots):
            position = entry_of.get(id(node))
            if position is None:  # a node before the call (it made one of the inputs): the engine's part
                continue
            _, refs, _, needs, out_refs = recorder.entries[position]
            edges = tuple((k, slot(ref), item._data.dtype)
                          for k, (ref, need, item) in enumerate(zip(refs, needs, node.inputs))
                          if need and ref[0] != "c")
            out_slots = tuple(slot(ref) for ref in out_refs)
            steps.append((position, out_slots if len(out_slots) > 1 else out_slots[0], edges))
        return steps


class Compiled(Function):
    """One replayed call in the autograd graph: its inputs are the call's tensors and the parameters.

    ``backward`` replays the recorded nodes' backward (the module docstring); each recorded node's
    formula is written beside its forward, in its own file.
    """

    def backward(self, grad_outputs):
        plan = self.plan
        pending = [None] * plan.n_slots  # the summed gradient of each value so far
        if self.n_outputs == 1:
            pending[plan.output_slots[0]] = grad_outputs
        else:
            for index, grad in zip(plan.output_slots, grad_outputs):
                if grad is not None:
                    current = pending[index]
                    pending[index] = grad if current is None else current + grad
        nodes = self.replayed_nodes
        for position, out_slots, edges in plan.backward:
            if type(out_slots) is int:
                grad = pending[out_slots]
                if grad is None:
                    continue
                pending[out_slots] = None  # let go of it as the engine does
            else:
                grad = tuple([pending[index] for index in out_slots])
                if not any(item is not None for item in grad):
                    continue
                for index in out_slots:
                    pending[index] = None
            input_grads = nodes[position].backward(grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            for k, target, dtype in edges:
                grad = input_grads[k]
                if grad is None:
                    continue
                if grad.dtype is not dtype and grad.dtype != dtype:  # as the engine: its input's dtype
                    grad = grad.astype(dtype)
                current = pending[target]
                pending[target] = grad if current is None else current + grad
        return tuple(pending[plan.region_first:plan.region_end])  # the inputs' and parameters' gradients


def run(plan: Plan, inputs: list):
    """Replay ``plan`` on new tensor ``inputs`` (guards already checked); the result as the call returns it.

    Example:
        >>> import dendrite
        >>> from dendrite.autograd.capture import Recorder, recording
        >>> x, w = dendrite.ones(2), dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> with recording(Recorder([x])) as recorder:
        ...     y = (x * w).sum()
        >>> plan = Plan(recorder, [y], "tensor")
        >>> z = run(plan, [dendrite.tensor([3.0, 4.0])]); z
        tensor(11., grad_fn=<CompiledBackward>)
        >>> z.backward(); w.grad
        tensor([3., 4.])
    """
    values = plan.constants + [tensor._data for tensor in inputs]
    values += [tensor._data for tensor in plan.leaves]
    nodes = []
    append, extend = values.append, values.extend
    for cls, arguments, one, options, needs, several in plan.calls:
        node = cls.__new__(cls)
        node.needs_input_grad = needs
        if one:
            result = node.forward(arguments(values)) if options is None else \
                node.forward(arguments(values), **options)
        elif options is None:  # no keyword options (most operations): the cheaper call
            result = node.forward(*arguments(values))
        else:
            result = node.forward(*arguments(values), **options)
        if several:
            extend([array if type(array) is ndarray else as_result(array) for array in result])
        else:
            append(result if type(result) is ndarray else as_result(result))  # as Function.apply
        nodes.append(node)
    region = None
    if plan.backward is not None:
        region = Compiled.__new__(Compiled)
        region.plan = plan
        region.replayed_nodes = nodes
        region.inputs = tuple(inputs) + tuple(plan.leaves)
        region.needs_input_grad = plan.region_needs
        region.n_outputs = len(plan.output_slots)
        region.stamp = clock.now
    outputs = [wrap(values[index], region, position) if linked else wrap(values[index])
               for position, (index, linked) in enumerate(zip(plan.output_slots, plan.linked))]
    if plan.output_kind == "tensor":
        return outputs[0]
    return plan.output_kind(outputs)
