"""ONNX forms of shape and indexing operations, reductions, matrix products, padding, resizing.

Shapes that depend on the batch size are never frozen: a reshape puts ``-1`` at
its one batch-dependent dimension (or computes the target shape from the
input's batch size when there are several), and ``x[...]`` becomes Slice /
Gather / Unsqueeze with the slice bounds as written (``x[:, -1]`` stays
"the last step" for any length).
"""

from __future__ import annotations

import numbers

import numpy as np

from dendrite.interop.onnx_export.builder import INT64_MAX, INT64_MIN, Scaled, handles
from dendrite.interop.onnx_export.trace import ArgExtreme
from dendrite.nn.functional.padding import ConstantPad, IndexPad
from dendrite.nn.functional.upsampling import LinearResize, NearestResize
from dendrite.ops import (
    cumulative,
    indexing,
    joining,
    linalg,
    movement,
    movement_expand,
    movement_flip,
    reduce,
    reduce_extremes,
)


def _chain(b, node, x: str, steps: list) -> None:
    """Apply ``(op_type, extra_inputs, attributes)`` steps to ``x``; the last writes the node's output."""
    if not steps:
        b.add("Identity", [x], [b.output(node)])
        return
    for position, (op_type, extra, attributes) in enumerate(steps):
        last = position == len(steps) - 1
        x = b.add(op_type, [x, *extra], [b.output(node)] if last else 1, **attributes)


# ----------------------------------------------------------------------------- movement
@handles(movement.Reshape)
def _reshape(b, node):
    dims = b.out_dims(node)
    if None in dims:
        b.fail(f"the reshape to {node.trace_shapes[0]} depends on the input in a way other than the "
               "batch size")
    dynamic = [i for i, d in enumerate(dims) if isinstance(d, Scaled)]
    if len(dynamic) <= 1:  # the one batch-dependent size is whatever is left: -1
        shape = b.ints([-1 if i in dynamic else d for i, d in enumerate(dims)])
    else:
        shape = b.shape_tensor(dims)
    b.add("Reshape", [b.input(node, 0), shape], [b.output(node)])


@handles(movement.Permute)
def _permute(b, node):
    perm = [int(d) for d in node.trace_options["dims"]]
    b.add("Transpose", [b.input(node, 0)], [b.output(node)], perm=perm)


@handles(movement_expand.Expand)
def _expand(b, node):
    b.add("Expand", [b.input(node, 0), b.shape_tensor(b.out_dims(node))], [b.output(node)])


@handles(movement_expand.Repeat)
def _repeat(b, node):
    repeats = list(node.trace_options["repeats"])
    x = b.input(node, 0)
    extra = len(repeats) - node.inputs[0].ndim
    steps = [("Unsqueeze", [b.ints(range(extra))], {})] if extra > 0 else []
    # A repeat count that follows the batch (weight.repeat(batch), as InstanceNorm does) is computed.
    twin_repeats = list(b.twin(node).trace_options["repeats"])
    sizes = [1] * extra + list(node.inputs[0].shape)
    counts = []
    for count, twin_count, out_dim, size in zip(repeats, twin_repeats, b.out_dims(node), sizes):
        if count == twin_count:
            counts.append(count)
        elif isinstance(out_dim, Scaled) and out_dim.factor % size == 0:
            counts.append(Scaled(out_dim.factor // size))
        else:
            b.fail(f"the repeat counts {repeats} change with the input in a way other than the batch size")
    _chain(b, node, x, steps + [("Tile", [b.shape_tensor(counts)], {})])


@handles(movement_flip.Flip)
def _flip(b, node):
    axes = node.trace_options["axes"]
    axes = [int(a) for a in (axes if isinstance(axes, (tuple, list)) else [axes])]
    count = len(axes)
    b.add("Slice", [b.input(node, 0), b.ints([-1] * count), b.ints([INT64_MIN] * count), b.ints(axes),
                    b.ints([-1] * count)], [b.output(node)])


@handles(movement_flip.Roll)
def _roll(b, node):
    options = node.trace_options
    if options["axes"] is None:
        b.fail("roll without dims is not supported; give dims")
    x = b.input(node, 0)
    dims = b.dims(node.inputs[0])
    pairs = list(zip(options["shifts"], options["axes"]))
    for position, (shift, axis) in enumerate(pairs):
        size = dims[axis]
        if not isinstance(size, int):
            b.fail(f"roll along dimension {axis}, whose size depends on the batch, is not supported")
        shift = shift % size if size else 0
        last = position == len(pairs) - 1
        out = [b.output(node)] if last else 1
        if shift == 0:
            x = b.add("Identity", [x], out)
            continue
        tail = b.add("Slice", [x, b.ints([size - shift]), b.ints([INT64_MAX]), b.ints([axis])])
        head = b.add("Slice", [x, b.ints([0]), b.ints([size - shift]), b.ints([axis])])
        x = b.add("Concat", [tail, head], out, axis=int(axis))


# ----------------------------------------------------------------------------- joining
@handles(joining.Cat)
def _cat(b, node):
    names = [b.input(node, i) for i in range(len(node.inputs))]
    b.add("Concat", names, [b.output(node)], axis=int(node.trace_options["axis"]))


@handles(joining.Stack)
def _stack(b, node):
    axis = int(node.trace_options["axis"])
    names = [b.unsqueeze(b.input(node, i), [axis]) for i in range(len(node.inputs))]
    b.add("Concat", names, [b.output(node)], axis=axis)


@handles(joining.Split)
def _split(b, node):
    sections = [int(s) for s in node.trace_options["sections"]]
    outputs = [b.output(node, i) for i in range(len(sections))]
    b.add("Split", [b.input(node, 0), b.ints(sections)], outputs, axis=int(node.trace_options["axis"]))


# ----------------------------------------------------------------------------- indexing
def _expand_ellipsis(items: tuple, ndim: int) -> list:
    used = sum(1 for item in items if item is not None and item is not Ellipsis)
    result = []
    for item in items:
        if item is Ellipsis:
            result += [slice(None)] * (ndim - used)
        else:
            result.append(item)
    return result


@handles(indexing.GetItem)
def _getitem(b, node):
    options = node.trace_options
    index, kind = options["index"], options["kind"]
    x = b.input(node, 0)
    items = index if isinstance(index, tuple) else (index,)
    if kind == "basic":
        _basic_index(b, node, x, _expand_ellipsis(items, node.inputs[0].ndim))
        return
    if kind == "mask":
        b.fail("indexing with a boolean mask gives a data-dependent shape; use where() instead")
    twin = b.twin(node).trace_options["index"]
    twin_items = twin if isinstance(twin, tuple) else (twin,)
    arrays = [position for position, item in enumerate(items) if isinstance(item, np.ndarray)]
    leading = items[:arrays[0]] if len(arrays) == 1 else ()
    trailing = items[arrays[0] + 1:] if len(arrays) == 1 else ()
    plain = all(isinstance(item, slice) and item == slice(None) for item in leading + trailing) \
        and all(item is not Ellipsis for item in leading)
    if len(arrays) != 1 or not plain or items[arrays[0]].dtype.kind not in "iu":
        b.fail(f"indexing with {index!r} is not supported; one integer index array is (x[idx], x[:, idx])")
    position = arrays[0]
    indices = b.array(items[position].astype(np.int64, copy=False), twin_items[position].astype(np.int64))
    b.add("Gather", [x, indices], [b.output(node)], axis=position)


def _basic_index(b, node, x: str, items: list) -> None:
    starts, ends, axes, steps, gathers, new_axes = [], [], [], [], [], []
    axis = out_position = 0
    for item in items:
        if item is None:
            new_axes.append(out_position)
            out_position += 1
        elif isinstance(item, slice):
            step = 1 if item.step is None else int(item.step)
            if item != slice(None) and item != slice(None, None, 1):
                starts.append((0 if step > 0 else INT64_MAX) if item.start is None else int(item.start))
                ends.append((INT64_MAX if step > 0 else INT64_MIN) if item.stop is None else int(item.stop))
                axes.append(axis)
                steps.append(step)
            axis += 1
            out_position += 1
        elif isinstance(item, numbers.Integral) and not isinstance(item, bool):
            gathers.append((axis, int(item)))
            axis += 1
        else:
            b.fail(f"index item {item!r} is not supported")
    chain = []
    if axes:
        chain.append(("Slice", [b.ints(starts), b.ints(ends), b.ints(axes), b.ints(steps)], {}))
    for gather_axis, position in sorted(gathers, reverse=True):  # later axes first: earlier ones stay put
        chain.append(("Gather", [b.const(np.int64(position))], {"axis": gather_axis}))
    if new_axes:
        chain.append(("Unsqueeze", [b.ints(new_axes)], {}))
    _chain(b, node, x, chain)


@handles(indexing.Gather)
def _gather(b, node):
    options = node.trace_options
    twin = b.twin(node).trace_options["index"]
    indices = b.array(options["index"].astype(np.int64, copy=False), twin.astype(np.int64, copy=False))
    b.add("GatherElements", [b.input(node, 0), indices], [b.output(node)], axis=int(options["axis"]))


# ----------------------------------------------------------------------------- reductions
_REDUCE = {reduce.Sum: "ReduceSum", reduce.Mean: "ReduceMean", reduce.Prod: "ReduceProd",
           reduce.Norm2: "ReduceL2"}


@handles(*_REDUCE)
def _reduce(b, node):
    axes, keepdim = node.trace_options["axes"], node.trace_options["keepdim"]
    if not axes:
        b.add("Identity", [b.input(node, 0)], [b.output(node)])
        return
    b.reduce(_REDUCE[type(node)], b.input(node, 0), axes, keepdim, [b.output(node)])


@handles(reduce_extremes.Extreme)
def _extreme(b, node):
    options = node.trace_options
    op_type = "ReduceMax" if options["use_max"] else "ReduceMin"
    b.reduce(op_type, b.input(node, 0), options["axes"], options["keepdim"], [b.output(node)])


@handles(reduce_extremes.ExtremeDim)
def _extreme_dim(b, node):
    # The values of max(x, dim) / min(x, dim); which of the two is told by the traced result.
    options = node.trace_options
    data, axis = node.inputs[0].array, options["axis"]
    values = np.take_along_axis(data, options["indices"], axis)
    op_type = "ReduceMax" if np.array_equal(values, data.max(axis=axis, keepdims=True)) else "ReduceMin"
    b.reduce(op_type, b.input(node, 0), [axis], options["keepdim"], [b.output(node)])


@handles(ArgExtreme)
def _arg_extreme(b, node):
    options = node.trace_options
    op_type = "ArgMax" if options["use_max"] else "ArgMin"
    x, ndim = b.input(node, 0), node.inputs[0].ndim
    if options["dim"] is None or ndim == 0:  # over the flattened tensor
        flat = b.add(op_type, [b.add("Reshape", [x, b.ints([-1])])], axis=0, keepdims=0)
        shape = [1] * ndim if options["keepdim"] else []
        b.add("Reshape", [flat, b.ints(shape)], [b.output(node)])
        return
    axis = int(options["dim"]) % ndim
    b.add(op_type, [x], [b.output(node)], axis=axis, keepdims=int(bool(options["keepdim"])))


@handles(reduce.Moments)
def _moments(b, node):
    options = node.trace_options
    axes, keepdim = options["axes"], options["keepdim"]
    dims = b.dims(node.inputs[0])
    if any(not isinstance(dims[a], int) for a in axes):
        b.fail("var/std over the batch dimension is not supported with dynamic_batch=True")
    count = int(np.prod([dims[a] for a in axes]))
    divisor = max(count - options["correction"], 0)
    dtype = node.trace_dtypes[0]
    x = b.input(node, 0)
    centered = b.add("Sub", [x, b.reduce("ReduceMean", x, axes, True)])
    total = b.reduce("ReduceSum", b.add("Mul", [centered, centered]), axes, keepdim)
    variance_out = 1 if options["root"] else [b.output(node)]
    variance = b.add("Div", [total, b.scalar_like(divisor, dtype)], variance_out)
    if options["root"]:
        b.add("Sqrt", [variance], [b.output(node)])


@handles(cumulative.CumSum)
def _cumsum(b, node):
    b.add("CumSum", [b.input(node, 0), b.const(np.int64(node.trace_options["axis"]))], [b.output(node)])


# ----------------------------------------------------------------------------- matrix products
@handles(linalg.MatMul)
def _matmul(b, node):
    b.add("MatMul", [b.input(node, 0), b.input(node, 1)], [b.output(node)])


@handles(linalg.Einsum)
def _einsum(b, node):
    equation = ",".join(node.trace_options["terms"]) + "->" + node.trace_options["output"]
    names = [b.input(node, i) for i in range(len(node.inputs))]
    b.add("Einsum", names, [b.output(node)], equation=equation)


@handles(linalg.Triangle)
def _triangle(b, node):
    options = node.trace_options
    b.add("Trilu", [b.input(node, 0), b.const(np.int64(options["diagonal"]))], [b.output(node)],
          upper=int(bool(options["upper"])))


# ----------------------------------------------------------------------------- padding and resizing
@handles(ConstantPad)
def _constant_pad(b, node):
    amounts = node.trace_options["amounts"]
    pads = [before for before, _ in amounts] + [after for _, after in amounts]
    value = b.scalar_like(node.trace_options["value"], node.trace_dtypes[0])
    b.add("Pad", [b.input(node, 0), b.ints(pads), value], [b.output(node)], mode="constant")


@handles(IndexPad)
def _index_pad(b, node):
    # reflect / replicate / circular padding is a gather with a fixed source index per axis.
    steps = [("Gather", [b.const(np.asarray(index, dtype=np.int64))], {"axis": int(axis)})
             for axis, index, _ in node.trace_options["maps"]]
    _chain(b, node, b.input(node, 0), steps)


@handles(NearestResize)
def _nearest_resize(b, node):
    indices = node.trace_options["indices"]
    steps = [("Gather", [b.const(np.asarray(index, dtype=np.int64))], {"axis": axis})
             for axis, index in zip(range(-len(indices), 0), indices)]
    _chain(b, node, b.input(node, 0), steps)


def along_axis(b, x: str, matrix, axis: int, ndim: int, dtype, outputs=1) -> str:
    """``x`` multiplied by an (out, in) ``matrix`` along ``axis`` (resizing, adaptive pooling)."""
    transposed = b.const(np.asarray(matrix).T.astype(dtype), base="matrix")
    axis = axis % ndim
    if axis == ndim - 1:
        return b.add("MatMul", [x, transposed], outputs)
    perm = list(range(ndim))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    moved = b.add("Transpose", [x], perm=perm)
    return b.add("Transpose", [b.add("MatMul", [moved, transposed])], outputs, perm=perm)


@handles(LinearResize)
def _linear_resize(b, node):
    matrices = node.trace_options["matrices"]
    ndim, dtype = node.inputs[0].ndim, node.trace_dtypes[0]
    x = b.input(node, 0)
    for position, (axis, matrix) in enumerate(zip(range(ndim - len(matrices), ndim), matrices)):
        last = position == len(matrices) - 1
        x = along_axis(b, x, matrix, axis, ndim, dtype, [b.output(node)] if last else 1)
