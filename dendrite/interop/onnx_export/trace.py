"""Tracing: run a model once and keep every operation it performed, with its options.

While tracing, ``Function.apply`` is swapped for a recording version that
links *every* output to its node (whatever the grad mode and ``requires_grad``
say) and keeps the keyword options (``stride=...``, ``eps=...``) on the node as
``trace_options``, so that the exporter can read each operation exactly as it
was called. Comparisons and argmax/argmin, which dendrite computes outside the
graph, are recorded too (as ``Comparison`` / ``ArgExtreme`` nodes). The swaps
are undone when tracing ends, even on error.

The exporter traces twice -- once with the example and once with a second input
(one more sample along each input's batch axis when the batch is dynamic, and
different values) -- and
compares the two runs. Dimensions that change with the batch size become
symbolic; values that change although they are not computed by a recorded
operation (a comparison, an ``argmax``, random noise drawn in ``forward``) would
be silently frozen into the file, so they are refused.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

from dendrite.autograd.function import Function
from dendrite.autograd.grad_mode import enable_grad
from dendrite.backend import ndarray, xp
from dendrite.interop.onnx_export.inputs import rebuild
from dendrite.nn.modules.rnn import RNNBase
from dendrite.tensor import Tensor, wrap


@dataclass
class Trace:
    """One recorded run: the nodes in call order, the inputs, the outputs (flattened)."""

    nodes: list = field(default_factory=list)
    position: dict = field(default_factory=dict)  # id(node) -> index in nodes
    producers: dict = field(default_factory=dict)  # id(array) -> the traced tensor holding it
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    recurrent_calls: list = field(default_factory=list)  # (module, args) of each RNN/LSTM/GRU call
    keep: list = field(default_factory=list)  # keeps arrays alive so that ids stay unique

    def register(self, tensor: Tensor) -> None:
        self.producers[id(tensor.array)] = tensor
        self.keep.append(tensor)


class Comparison(Function):
    """Stands in the trace for a comparison or logical operation (``x > 0``, ``a & b``): dendrite
    computes those outside the graph (they have no gradient), but an exported graph needs them."""


class ArgExtreme(Function):
    """Stands in the trace for ``argmax`` / ``argmin`` (no gradient, so no Function of their own)."""


def _record(trace: Trace, scopes: list, node, inputs: tuple, options: dict, results: list) -> list:
    """Enter ``node`` in the trace and link its outputs (``results``, arrays) to it as tensors."""
    node.inputs = inputs
    node.trace_options = options
    node.trace_scope = scopes[-1] if scopes else ""
    node.trace_shapes = [tuple(array.shape) for array in results]
    node.trace_dtypes = [array.dtype for array in results]
    trace.position[id(node)] = len(trace.nodes)
    trace.nodes.append(node)
    tensors = []
    for index, array in enumerate(results):
        tensor = wrap(array, node, index)
        tensor.requires_grad = array.dtype.kind == "f"
        trace.register(tensor)
        tensors.append(tensor)
    return tensors


@contextlib.contextmanager
def _recording(trace: Trace, scopes: list):
    from dendrite.ops import comparison, reduce_extremes

    original_apply = Function.__dict__["apply"]
    original_compare, original_arg = comparison._compare, reduce_extremes._arg

    def traced_apply(cls, *inputs, **options):
        node = cls.__new__(cls)
        arrays = [item.array if isinstance(item, Tensor) else item for item in inputs]
        node.needs_input_grad = tuple(
            isinstance(item, Tensor) and item.array.dtype.kind == "f" for item in inputs)
        result = node.forward(*arrays, **options)
        results = [result] if node.n_outputs == 1 else list(result)
        results = [array if type(array) is ndarray else xp.asarray(array) for array in results]
        tensors = _record(trace, scopes, node, inputs, options, results)
        return tensors[0] if node.n_outputs == 1 else tuple(tensors)

    def traced_compare(ufunc, name, a, b):
        result = original_compare(ufunc, name, a, b)
        if isinstance(result, Tensor):
            node = Comparison.__new__(Comparison)
            (result,) = _record(trace, scopes, node, (a, b), {"op": name}, [result.array])
        return result

    def traced_arg(input, dim, keepdim, function):
        result = original_arg(input, dim, keepdim, function)
        node = ArgExtreme.__new__(ArgExtreme)
        options = {"dim": dim, "keepdim": keepdim, "use_max": function is xp.argmax}
        (result,) = _record(trace, scopes, node, (input,), options, [result.array])
        return result

    Function.apply = classmethod(traced_apply)
    comparison._compare, reduce_extremes._arg = traced_compare, traced_arg
    try:
        yield trace
    finally:
        Function.apply = original_apply
        comparison._compare, reduce_extremes._arg = original_compare, original_arg


def _scope_hooks(model, scopes: list, trace: Trace) -> list:
    """Forward hooks that keep the dotted name of the module being run on ``scopes``
    (and note the arguments of recurrent modules, to find the batch axis of their states)."""
    handles = []
    for name, module in model.named_modules():
        def enter(module, args, name=name):
            scopes.append(name)
            if isinstance(module, RNNBase):
                trace.recurrent_calls.append((module, args))

        def leave(module, args, output):
            if scopes:
                scopes.pop()

        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(leave))
    return handles


def flatten_outputs(output, where: str = "the model") -> list:
    """The tensors of a (nested) tuple / list output, in order."""
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, (tuple, list)):
        items = []
        for item in output:
            items += flatten_outputs(item, where)
        return items
    raise TypeError(f"onnx.export: {where} returned a {type(output).__name__}; only tensors "
                    "(or tuples and lists of them) can be graph outputs")


def run_trace(model, arrays: list, structure: list | None = None) -> Trace:
    """Run ``model`` on fresh tensors holding ``arrays`` (nested as ``structure``) and record what it did."""
    trace = Trace()
    scopes: list = []
    for array in arrays:
        tensor = wrap(np.array(array, copy=True))
        # A float input that requires grad makes in-place operations on it fail loudly
        # instead of dropping out of the recorded graph.
        tensor.requires_grad = tensor.array.dtype.kind == "f"
        trace.inputs.append(tensor)
        trace.register(tensor)
    handles = _scope_hooks(model, scopes, trace)
    arguments = trace.inputs if structure is None else rebuild(trace.inputs, structure)
    try:
        with enable_grad(), _recording(trace, scopes):
            output = model(*arguments)
    finally:
        for handle in handles:
            handle.remove()
    trace.outputs = flatten_outputs(output)
    return trace


def second_example(arrays: list, batch_axes: list) -> list:
    """An input for the second trace: one more sample along each batch axis, and other values.

    ``batch_axes`` has one entry per input: the axis that holds the batch, or ``None`` (a
    fixed batch, or an input without one). Integers (token ids, class indices) are rotated,
    so they stay valid indices; floats are rotated and rescaled.
    """
    result = []
    for array, axis in zip(arrays, batch_axes):
        if axis is not None and array.shape[axis] >= 1:
            last = np.take(array, [-1], axis=axis)
            array = np.concatenate([array, last], axis=axis)
        if array.size > 1:
            array = np.roll(array.reshape(-1), 1).reshape(array.shape)
        if array.dtype.kind == "f":
            array = (array * 0.75 + 0.125).astype(array.dtype)
        result.append(np.array(array, order="C"))
    return result
