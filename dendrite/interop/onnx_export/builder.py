"""The ONNX graph under construction: names, initializers, constants, symbolic batch dimensions.

Handlers (one per dendrite ``Function`` class, registered with :func:`handles`)
read a traced node through the builder and append ONNX nodes to it:

    @handles(ReLU)
    def _relu(b, node):
        b.add("Relu", [b.value(node.inputs[0])], [b.output(node)])

``b.value(item)`` names any operand: a traced tensor, a graph input, a parameter
(an initializer named by its ``state_dict`` key), or a constant, which is checked
against the second trace first. ``b.dims(tensor)`` gives its shape with the
batch-dependent dimensions as :class:`Scaled` (``factor * batch``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from dendrite.tensor import Tensor

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min

HANDLERS: dict = {}


def handles(*classes):
    """Register the decorated function as the exporter of these ``Function`` classes."""
    def register(function):
        for cls in classes:
            HANDLERS[cls] = function
        return function
    return register


class OnnxExportError(RuntimeError):
    """The model cannot be written as ONNX (an unsupported operation or a batch-dependent constant)."""


@dataclass(frozen=True)
class Scaled:
    """A dimension that grows with the batch: ``factor * batch``."""

    factor: int


def onnx_dtype(dtype) -> int:
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


class Builder:
    def __init__(self, first, second, model, opset: int, dynamic_batch: bool, input_names: list,
                 output_names: list, batch_axes: list | None = None) -> None:
        self.first, self.second, self.opset, self.dynamic_batch = first, second, opset, dynamic_batch
        # Per input, the axis holding the batch (1 for recurrent states), or None.
        if batch_axes is None:
            batch_axes = [0 if tensor.ndim else None for tensor in first.inputs]
        self.batch_axes = batch_axes
        self.input_names, self.output_names = input_names, output_names
        self.nodes, self.initializers = [], []
        self.taken = set(input_names) | set(output_names)  # value names
        self.node_names: set = set()  # node names (a namespace of their own in ONNX)
        self.value_names: dict = {}  # ("out", id(node), index) or ("leaf", id(tensor)) -> name
        self.current = None  # the traced node being exported, for error messages
        self._consts: dict = {}
        self._batch_name = None
        for tensor, name in zip(first.inputs, input_names):
            self.value_names[("leaf", id(tensor))] = name
        # Parameters and buffers by identity, and by memory for arrays handed over as options
        # (BatchNorm's running statistics arrive as reshaped views of the buffers).
        self.named = {}
        self.by_memory = {}
        for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            self.named[id(tensor)] = (name, tensor)
            self.by_memory[_memory_key(tensor.array)] = (name, tensor)
            if name in self.taken:
                raise ValueError(f"onnx.export: the input/output name {name!r} is also the name of a "
                                 "parameter or buffer; choose another")
            self.taken.add(name)  # reserved, so that no constant takes a parameter's name
        self.batches = (_batch(first.inputs, batch_axes), _batch(second.inputs, batch_axes))

    # ------------------------------------------------------------------ names and nodes
    def unique(self, base: str) -> str:
        """A value name not used yet, made from ``base``."""
        return _fresh(self.taken, base.strip("/.") or "value")

    def _prefix(self) -> str:
        node = self.current
        if node is None:
            return ""
        scope = getattr(node, "trace_scope", "")
        return f"{scope}/{node.name}" if scope else node.name

    def add(self, op_type: str, inputs: list, outputs=1, **attributes):
        """Append an ONNX node; ``outputs`` is a list of names or how many fresh names to make."""
        if isinstance(outputs, int):
            outputs = [self.unique(f"{self._prefix()}/{op_type}") for _ in range(outputs)]
        node_name = _fresh(self.node_names, f"{self._prefix()}/{op_type}".strip("/"))
        node = helper.make_node(op_type, list(inputs), list(outputs), name=node_name, **attributes)
        self.nodes.append(node)
        return outputs[0] if len(outputs) == 1 else outputs

    def output(self, node, index: int = 0) -> str:
        """The name of output ``index`` of a traced node (a graph output name where it is one)."""
        key = ("out", id(node), index)
        if key not in self.value_names:
            self.value_names[key] = self.unique(f"{self._prefix()}/output{index}" if node.n_outputs > 1
                                                else f"{self._prefix()}/output")
        return self.value_names[key]

    def fail(self, message: str):
        node = self.current
        where = ""
        if node is not None:
            scope = getattr(node, "trace_scope", "")
            where = f"operation {node.name}" + (f" in module {scope!r}" if scope else "") + ": "
        raise OnnxExportError(f"onnx.export: {where}{message}")

    # ------------------------------------------------------------------ constants
    def const(self, value, dtype=None, base: str = "const") -> str:
        array = np.asarray(value, dtype=dtype)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key in self._consts and array.size <= 64:
            return self._consts[key]
        name = self.unique(base)
        self.initializers.append(numpy_helper.from_array(np.array(array, order="C"), name))
        if array.size <= 64:
            self._consts[key] = name
        return name

    def ints(self, values) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), base="ints")

    def scalar_like(self, value, dtype) -> str:
        """A 0-d constant of ``dtype`` (for operands given as Python numbers)."""
        return self.const(np.asarray(value).astype(dtype), base="scalar")

    # ------------------------------------------------------------------ operands
    def twin(self, node):
        """The same node in the second trace."""
        return self.second.nodes[self.first.position[id(node)]]

    def value(self, item, twin_item=None, dtype=None) -> str:
        """The graph name of a node operand (tensor or plain value), adding initializers as needed.

        ``twin_item`` is the same operand in the second trace (used to refuse constants that
        are not really constant); ``dtype`` converts plain numbers.
        """
        if isinstance(item, Tensor):
            node = item._ctx
            if node is not None and id(node) in self.first.position:
                return self.output(node, item._out_index)
            key = ("leaf", id(item))
            if key in self.value_names:
                return self.value_names[key]
            named = self.named.get(id(item)) or self.by_memory.get(_memory_key(item.array))
            if named is not None:
                name = self.value_names[key] = self._initializer(*named)
                return name
            twin_array = twin_item.array if isinstance(twin_item, Tensor) else twin_item
            name = self.value_names[key] = self._constant(item.array, twin_array)
            return name
        if isinstance(item, np.ndarray):
            return self.array(item, twin_item)
        if item is None:
            return ""
        return self.scalar_like(item, dtype if dtype is not None else np.asarray(item).dtype)

    def input(self, node, index: int, dtype=None) -> str:
        """The name of positional input ``index`` of a traced node."""
        item = node.inputs[index]
        twin = self.twin(node).inputs[index]
        if dtype is None and not isinstance(item, (Tensor, np.ndarray)):
            dtype = self._output_dtype(node)
        return self.value(item, twin, dtype)

    def option(self, node, key: str) -> str:
        """The graph name of an array passed to a node as the keyword option ``key``."""
        return self.array(node.trace_options[key], self.twin(node).trace_options[key])

    def array(self, array, twin_array=None) -> str:
        """A raw array from a node's options: a traced tensor, a parameter or buffer, or a constant."""
        array = np.asarray(array)
        producer = self.first.producers.get(id(array))
        if producer is not None:
            return self.value(producer)
        named = self.by_memory.get(_memory_key(array))
        if named is not None:
            return self._initializer(*named)
        return self._constant(array, twin_array)

    @staticmethod
    def _output_dtype(node):
        return node.trace_dtypes[0]

    def _initializer(self, name: str, tensor) -> str:
        key = ("init", name)
        if key not in self.value_names:
            array = np.array(tensor.array, order="C")  # a copy: later training must not change the file
            self.initializers.append(numpy_helper.from_array(array, name))
            self.value_names[key] = name
        return self.value_names[key]

    def _constant(self, array, twin_array) -> str:
        array = np.asarray(array)
        if twin_array is None or _same(array, np.asarray(twin_array)):
            return self.const(array, base="constant")
        twin_array = np.asarray(twin_array)
        flat, twin_flat = array.reshape(-1), twin_array.reshape(-1)
        uniform = (array.size and twin_array.size and np.all(flat == flat[0])
                   and np.all(twin_flat == flat[0]) and array.ndim == twin_array.ndim)
        if uniform:  # e.g. zeros(batch, hidden) made in forward: a fill of a batch-dependent shape
            dims = self.combine(array.shape, twin_array.shape)
            if None not in dims:
                return self.add("Expand", [self.const(flat[0]), self.shape_tensor(dims)])
        self.fail(
            f"an operand of shape {array.shape} was computed outside the recorded operations "
            f"(e.g. a comparison, argmax, indexing with a computed mask, or a tensor created or drawn at "
            f"random inside forward) and its value changes with the input (shape {twin_array.shape} for "
            "the second trace); it cannot be stored as a constant"
        )

    # ------------------------------------------------------------------ shapes
    def combine(self, first_shape, second_shape) -> list:
        """Dimensions of the two traces -> ints, ``Scaled(k)`` for k * batch, or None (unknown)."""
        if len(first_shape) != len(second_shape):
            self.fail(f"the rank changes with the input ({first_shape} vs {second_shape})")
        (batch_a, batch_b), dims = self.batches, []
        for a, b in zip(first_shape, second_shape):
            if a == b:
                dims.append(int(a))
            elif batch_a and batch_b and a % batch_a == 0 and b % batch_b == 0 \
                    and a // batch_a == b // batch_b:
                dims.append(Scaled(a // batch_a))
            else:
                dims.append(None)
        return dims

    def dims(self, tensor) -> list:
        """The shape of a tensor with batch-dependent dimensions as ``Scaled``."""
        node = tensor._ctx
        if node is not None and id(node) in self.first.position:
            return self.out_dims(node, tensor._out_index)
        for first, second in zip(self.first.inputs, self.second.inputs):
            if first is tensor:
                return self.combine(first.shape, second.shape)
        return list(tensor.shape)

    def out_dims(self, node, index: int = 0) -> list:
        return self.combine(node.trace_shapes[index], self.twin(node).trace_shapes[index])

    def batch_size(self) -> str:
        """A 1-D int64 tensor [N] holding the batch size of the first input."""
        if self._batch_name is None:
            first, axis = next((name, axis) for name, axis in zip(self.input_names, self.batch_axes)
                               if axis is not None)
            shape = self.add("Shape", [first], [self.unique("batch_shape")])
            self._batch_name = self.add("Gather", [shape, self.ints([axis])], [self.unique("batch_size")],
                                        axis=0)
        return self._batch_name

    def shape_tensor(self, dims: list) -> str:
        """A 1-D int64 shape tensor for ``dims`` (ints and ``Scaled``), computed from the batch size."""
        if None in dims:
            self.fail(f"a shape {dims} has a dimension that depends on the input in an unknown way")
        if not any(isinstance(d, Scaled) for d in dims):
            return self.ints(dims)
        pieces, run = [], []
        for dim in dims:
            if isinstance(dim, Scaled):
                if run:
                    pieces.append(self.ints(run))
                    run = []
                size = self.batch_size()
                pieces.append(size if dim.factor == 1 else self.add("Mul", [size, self.ints([dim.factor])]))
            else:
                run.append(dim)
        if run:
            pieces.append(self.ints(run))
        return self.add("Concat", pieces, axis=0)

    # ------------------------------------------------------------------ opset-dependent forms
    def reduce(self, op_type: str, x: str, axes, keepdims: bool, outputs=1):
        """ReduceX over ``axes``: axes became an input in opset 13 (ReduceSum) / 18 (the others)."""
        axes = [int(a) for a in axes]
        as_input = self.opset >= (13 if op_type == "ReduceSum" else 18)
        if as_input:
            return self.add(op_type, [x, self.ints(axes)], outputs, keepdims=int(keepdims))
        return self.add(op_type, [x], outputs, axes=axes, keepdims=int(keepdims))

    def unsqueeze(self, x: str, axes, outputs=1):
        return self.add("Unsqueeze", [x, self.ints(axes)], outputs)

    def squeeze(self, x: str, axes, outputs=1):
        return self.add("Squeeze", [x, self.ints(axes)], outputs)

    # ------------------------------------------------------------------ graph signature
    def value_info(self, name: str, tensor, dims) -> object:
        shape = []
        for dim in dims:
            if isinstance(dim, Scaled):
                shape.append("batch" if dim.factor == 1 else None)
            else:
                shape.append(dim)
        return helper.make_tensor_value_info(name, onnx_dtype(tensor.dtype), shape)


def _fresh(taken: set, base: str) -> str:
    name, count = base, 1
    while name in taken:
        count += 1
        name = f"{base}_{count}"
    taken.add(name)
    return name


def _memory_key(array) -> tuple:
    array = np.asarray(array)
    return (array.__array_interface__["data"][0], array.shape, array.strides, array.dtype.str)


def _batch(inputs, batch_axes: list) -> int:
    for tensor, axis in zip(inputs, batch_axes):
        if axis is not None:
            return int(tensor.shape[axis])
    return 0


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


__all__ = ["Builder", "HANDLERS", "INT64_MAX", "INT64_MIN", "OnnxExportError", "Scaled", "TensorProto",
           "handles", "onnx_dtype"]
