"""ONNX export by tracing (the machinery behind :func:`dendrite.onnx.export`).

1. Trace: run the model (in eval mode) on the example with every operation
   recorded (``trace.py``), then once more on a second input to learn which
   dimensions follow the batch size.
2. Walk the recorded graph back from the outputs to the inputs and the
   parameters; keep only what the outputs need, in call order.
3. Emit ONNX nodes for each dendrite ``Function`` (``ops_*.py``, one handler per
   class); parameters and buffers become initializers named by their
   ``state_dict`` keys.
4. Check the model with ``onnx.checker`` and write it atomically.

Needs the ``onnx`` package, imported only here: ``pip install "dendrite[onnx]"``.
"""

from __future__ import annotations

import os

import numpy as np
import onnx
from onnx import helper

from dendrite.interop._modes import evaluating
from dendrite.interop.onnx_export import ops_attention, ops_layers, ops_math, ops_recurrent, ops_shape  # noqa: F401
from dendrite.interop.onnx_export.builder import HANDLERS, Builder, OnnxExportError
from dendrite.interop.onnx_export.inputs import flatten_example, infer_batch_axes, resolve_batch_axes
from dendrite.interop.onnx_export.trace import run_trace, second_example
from dendrite.interop.onnx_export.unsupported import UNSUPPORTED
from dendrite.tensor import Tensor
from dendrite.utils.atomic import atomic_write_bytes
from dendrite.version import __version__

__all__ = ["OnnxExportError", "export", "supported_operations"]

MIN_OPSET = 13


def supported_operations() -> list[str]:
    """The names of the dendrite operations (``Function`` classes) the exporter can translate.

    Example:
        >>> [name for name in supported_operations() if name.startswith("conv.")]
        ['conv.Convolution', 'conv.TransposedConvolution']
    """
    return sorted({f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}" for cls in HANDLERS})


def _names(given, count: int, stem: str, what: str) -> list:
    if given is None:
        return [stem] if count == 1 else [f"{stem}_{i}" for i in range(count)]
    names = [given] if isinstance(given, str) else list(given)
    if len(names) != count or len(set(names)) != count or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"onnx.export: {what} must be {count} distinct non-empty strings, got {given!r}")
    return names


def _links(trace, node) -> list:
    """Where each input of ``node`` comes from: (producer position, output index), or its kind."""
    links = []
    for item in node.inputs:
        producer = item._ctx if isinstance(item, Tensor) else None
        if producer is not None and id(producer) in trace.position:
            links.append((trace.position[id(producer)], item._out_index))
        else:
            links.append(type(item).__name__)
    return links


def _check_same_graph(first, second) -> None:
    kinds = [type(node) for node in first.nodes]
    same = kinds == [type(node) for node in second.nodes] and len(first.outputs) == len(second.outputs)
    if same:
        same = all(_links(first, a) == _links(second, b) for a, b in zip(first.nodes, second.nodes))
    if not same:
        raise OnnxExportError(
            "onnx.export: the model ran different operations for a second example input (one more sample, "
            "other values): its forward depends on the values or the batch size (Python control flow on "
            "tensor values), which a traced graph cannot capture"
        )


def _reachable(trace) -> list:
    """The recorded nodes the outputs depend on, in call order."""
    seen, stack = set(), list(trace.outputs)
    nodes = []
    while stack:
        item = stack.pop()
        node = item._ctx if isinstance(item, Tensor) else None
        if node is None or id(node) not in trace.position or id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(value for value in node.inputs if isinstance(value, Tensor))
        # Arrays handed over as raw arrays (where's condition) or options (embedding indices).
        for value in _arrays_in((node.inputs, node.trace_options)):
            producer = trace.producers.get(id(value))
            if producer is not None:
                stack.append(producer)
    return sorted(nodes, key=lambda node: trace.position[id(node)])


def _arrays_in(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays_in(item)
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _arrays_in(item)


# Options that legitimately hold the batch size (the handlers turn it into symbolic sizes), and
# per-operation options that are internal (max(x, dim)'s argmax indices, which the handler recomputes).
_SHAPE_OPTIONS = frozenset({"shape", "shapes", "repeats"})
_INTERNAL_OPTIONS = {"ExtremeDim": frozenset({"indices"})}


def _same_option(value, other, producers: dict) -> bool:
    if isinstance(value, np.ndarray) or isinstance(other, np.ndarray):
        if isinstance(value, np.ndarray) and id(value) in producers:
            return True  # computed by a recorded operation: the graph computes it too
        value, other = np.asarray(value), np.asarray(other)
        return value.shape == other.shape and bool(np.array_equal(value, other))
    if isinstance(value, (tuple, list)) and isinstance(other, (tuple, list)):
        return len(value) == len(other) and all(_same_option(a, b, producers) for a, b in zip(value, other))
    try:
        return bool(value == other)
    except (TypeError, ValueError):
        return False


def _check_options(builder, node) -> None:
    """Refuse an operation whose options changed between the two traces (they would be frozen)."""
    twin = builder.twin(node).trace_options
    internal = _INTERNAL_OPTIONS.get(type(node).__name__, ())
    for key, value in node.trace_options.items():
        if key in _SHAPE_OPTIONS or key in internal:
            continue
        if not _same_option(value, twin.get(key), builder.first.producers):
            shown = value if not isinstance(value, np.ndarray) else f"an array of shape {value.shape}"
            builder.fail(f"its option {key}={shown!r} changes with the input (the batch size or the values), "
                         "so it cannot be stored in the graph as traced")


def _trace_twice(model, arrays: list, structure: list, batch_axes, input_names: list, dynamic_batch: bool):
    """The two traces, and the batch axis of each input (given, or inferred from the first trace)."""
    first = run_trace(model, arrays, structure)
    if not dynamic_batch:
        return first, run_trace(model, second_example(arrays, [None] * len(arrays)), structure), None
    inferred = batch_axes is None
    if inferred:
        batch_axes = infer_batch_axes(first.inputs, first.recurrent_calls)
    if all(axis is None for axis in batch_axes):
        raise ValueError("onnx.export: dynamic_batch=True needs an input with a batch dimension; "
                         "give batch_axes, or dynamic_batch=False")
    try:
        second = run_trace(model, second_example(arrays, batch_axes), structure)
    except Exception as error:
        axes = dict(zip(input_names, batch_axes))
        how = "inferred" if inferred else "given"
        raise OnnxExportError(
            f"onnx.export: the model failed on a second example with one more sample along the batch axes "
            f"{how} ({axes}; recurrent states and time-major sequences have the batch on axis 1): "
            f"{type(error).__name__}: {error}. Give the batch axis of each input with batch_axes=..., or "
            "export a fixed batch with dynamic_batch=False") from error
    return first, second, batch_axes


def export(model, example_input, path: str | os.PathLike | None, opset: int = 17, input_names=None,
           output_names=None, dynamic_batch: bool = True, batch_axes=None) -> onnx.ModelProto:
    """Trace ``model`` on ``example_input`` and write it as ONNX (see :func:`dendrite.onnx.export`).

    ``path=None`` only returns the ``onnx.ModelProto``. ``example_input`` may nest one level
    (``(x, (h0, c0))``); the graph has one input per tensor, in order.

    Example:
        >>> import dendrite
        >>> proto = export(dendrite.nn.Conv2d(1, 2, 3), dendrite.zeros(1, 1, 5, 5), None)
        >>> [node.op_type for node in proto.graph.node], [i.name for i in proto.graph.initializer]
        (['Conv'], ['weight', 'bias'])
    """
    if not isinstance(opset, int) or not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"onnx.export: opset must be an int from {MIN_OPSET} to "
                         f"{onnx.defs.onnx_opset_version()} (this onnx package's newest), got {opset!r}")
    arrays, structure = flatten_example(example_input)
    if dynamic_batch and not any(array.ndim for array in arrays):
        raise ValueError("onnx.export: dynamic_batch=True needs an input with a batch dimension (axis 0)")
    input_names = _names(input_names, len(arrays), "input", "input_names")
    if batch_axes is not None and not dynamic_batch:
        raise ValueError("onnx.export: batch_axes names the batch axes of a dynamic batch; it cannot be "
                         "combined with dynamic_batch=False")
    batch_axes = resolve_batch_axes(batch_axes, input_names, arrays)
    with evaluating(model):  # dropout off, batch norm on running statistics: what an exported model does
        first, second, batch_axes = _trace_twice(model, arrays, structure, batch_axes, input_names,
                                                 dynamic_batch)
    _check_same_graph(first, second)
    output_names = _names(output_names, len(first.outputs), "output", "output_names")
    if set(output_names) & set(input_names):
        overlap = sorted(set(output_names) & set(input_names))
        raise ValueError(f"onnx.export: input and output names overlap: {overlap}")
    builder = Builder(first, second, model, opset, dynamic_batch, input_names, output_names, batch_axes)
    identities = []
    for position, (tensor, name) in enumerate(zip(first.outputs, output_names)):
        key = ("out", id(tensor._ctx), tensor._out_index)
        if tensor._ctx is not None and id(tensor._ctx) in first.position and key not in builder.value_names:
            builder.value_names[key] = name
        else:  # an input, a parameter or a repeated output: copied by an Identity node
            identities.append((tensor, name, second.outputs[position]))
    for node in _reachable(first):
        builder.current = node
        handler = HANDLERS.get(type(node))
        if handler is None:
            operation = f"{type(node).__module__}.{type(node).__name__}"
            reason = UNSUPPORTED.get(type(node), "no handler has been written for it yet")
            builder.fail(f"the operation {operation} has no ONNX export: {reason} "
                         "(see dendrite.interop.onnx_export.supported_operations())")
        handler(builder, node)  # first: its own refusals (dropout in training...) explain more
        _check_options(builder, node)
    builder.current = None
    for tensor, name, twin in identities:
        builder.add("Identity", [builder.value(tensor, twin)], [name])
    inputs = [builder.value_info(name, tensor, builder.dims(tensor))
              for name, tensor in zip(input_names, first.inputs)]
    outputs = [builder.value_info(name, tensor, builder.dims(tensor))
               for name, tensor in zip(output_names, first.outputs)]
    graph = helper.make_graph(builder.nodes, type(model).__name__, inputs, outputs, builder.initializers)
    opset_id = helper.make_opsetid("", opset)
    proto = helper.make_model(graph, opset_imports=[opset_id], producer_name="dendrite",
                              producer_version=__version__)
    proto.ir_version = helper.find_min_ir_version_for([opset_id])
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as error:
        raise OnnxExportError(f"onnx.export: the exported graph is not valid ONNX (an exporter bug; please "
                              f"report it with the model): {error}") from error
    if path is not None:
        atomic_write_bytes(path, proto.SerializeToString())
    return proto
