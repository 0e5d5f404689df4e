"""The graph's inputs: the example's tensors (possibly nested), and which axis of each is the batch.

A model may take nested inputs -- ``lstm(x, (h0, c0))`` -- so the example is
flattened into the graph's inputs (one per tensor, in order) and rebuilt into the
same nesting for every traced call.

With a dynamic batch, the second trace adds one sample along each input's *batch
axis*. That axis is 0 for most inputs, but not for recurrent ones: a hidden state
``h0`` / ``c0`` of ``nn.RNN``/``nn.LSTM``/``nn.GRU`` is ``(D*num_layers, N, H)``,
and a time-major sequence (``batch_first=False``) is ``(T, N, F)``: batch on axis 1.
The first trace records what each recurrent module was called with; an input
passed to one *directly* as its sequence or state gets axis 1. ``batch_axes=``
overrides the inference (``None`` for an input without a batch axis).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from dendrite.nn.modules.rnn import RNNBase
from dendrite.tensor import Tensor

__all__ = ["flatten_example", "infer_batch_axes", "resolve_batch_axes", "rebuild"]


def _array(item, where: str) -> np.ndarray:
    array = np.array(item.array if isinstance(item, Tensor) else item, copy=True)
    if array.dtype.kind == "O":
        raise TypeError(f"onnx.export: example input {where} is a {type(item).__name__}, "
                        "not a tensor or array")
    if array.dtype.kind in "iu":
        array = array.astype(np.int64)  # index inputs (token ids) are int64 in the graph, as in PyTorch
    return array


def flatten_example(example_input) -> tuple[list, list]:
    """The example's arrays in order, and its structure (for :func:`rebuild`).

    ``example_input`` is a tensor or a tuple/list of arguments; an argument may itself be a
    tuple/list of tensors (an LSTM's ``(h0, c0)``), one level deep.

    Example:
        >>> import dendrite
        >>> arrays, structure = flatten_example((dendrite.zeros(2, 3), (dendrite.zeros(1, 2, 4),) * 2))
        >>> [a.shape for a in arrays], structure == [None, (tuple, 2)]
        ([(2, 3), (1, 2, 4), (1, 2, 4)], True)
    """
    items = list(example_input) if isinstance(example_input, (tuple, list)) else [example_input]
    if not items:
        raise ValueError("onnx.export: example_input is empty; give a tensor or a tuple of tensors")
    arrays, structure = [], []
    for position, item in enumerate(items):
        if isinstance(item, (tuple, list)):
            if not item:
                raise ValueError(f"onnx.export: example input {position} is an empty {type(item).__name__}")
            for inner, part in enumerate(item):
                if isinstance(part, (tuple, list)):
                    raise TypeError(f"onnx.export: example input {position}[{inner}] is nested two levels "
                                    "deep; arguments may be tensors or tuples of tensors")
                arrays.append(_array(part, f"{position}[{inner}]"))
            structure.append((type(item), len(item)))
        else:
            arrays.append(_array(item, str(position)))
            structure.append(None)
    return arrays, structure


def rebuild(tensors: list, structure: list) -> list:
    """The call's arguments from the flat ``tensors``, nested as ``structure`` says.

    Example:
        >>> rebuild(["x", "h", "c"], [None, (tuple, 2)])
        ['x', ('h', 'c')]
    """
    arguments, start = [], 0
    for kind in structure:
        if kind is None:
            arguments.append(tensors[start])
            start += 1
        else:
            container, count = kind
            arguments.append(container(tensors[start:start + count]))
            start += count
    return arguments


def infer_batch_axes(inputs: list, recurrent_calls: list) -> list:
    """Per input tensor: 1 where a recurrent module read it as a state or a time-major sequence, else 0.

    ``recurrent_calls`` holds ``(module, args)`` for every ``RNNBase`` call of a trace;
    inputs without dimensions, and an unbatched sequence ``(T, F)`` and its state, get ``None``.

    Example:
        >>> import dendrite
        >>> lstm = dendrite.nn.LSTM(3, 4)
        >>> x, h, c = dendrite.zeros(5, 2, 3), dendrite.zeros(1, 2, 4), dendrite.zeros(1, 2, 4)
        >>> infer_batch_axes([x, h, c], [(lstm, (x, (h, c)))])
        [1, 1, 1]
    """
    axis_one, unbatched = set(), set()
    for module, args in recurrent_calls:
        if not isinstance(module, RNNBase) or not args or not isinstance(args[0], Tensor):
            continue
        sequence = args[0]
        states = args[1] if len(args) > 1 else None
        states = [state for state in (states if isinstance(states, (tuple, list)) else (states,))
                  if isinstance(state, Tensor)]
        if sequence.ndim == 2:  # unbatched (T, F), its states (D*num_layers, H): no batch axis at all
            unbatched.update(id(tensor) for tensor in [sequence, *states])
            continue
        if not module.batch_first:
            axis_one.add(id(sequence))
        axis_one.update(id(state) for state in states)  # (D*num_layers, N, H)
    return [None if tensor.ndim == 0 or id(tensor) in unbatched else (1 if id(tensor) in axis_one else 0)
            for tensor in inputs]


def resolve_batch_axes(given, names: list, arrays: list) -> list | None:
    """Check the user's ``batch_axes`` (a sequence, one per graph input, or a mapping by input name).

    Returns one entry per input (an axis or ``None``), or ``None`` when nothing was given.

    Example:
        >>> import numpy as np
        >>> resolve_batch_axes({"h": 1}, ["x", "h"], [np.zeros((2, 3)), np.zeros((1, 2, 4))])
        [0, 1]
    """
    if given is None:
        return None
    if isinstance(given, Mapping):
        unknown = sorted(set(given) - set(names), key=str)
        if unknown:
            raise ValueError(f"onnx.export: batch_axes names inputs {unknown} that the graph does not have; "
                             f"its inputs are {names}")
        axes = [given.get(name, 0 if array.ndim else None) for name, array in zip(names, arrays)]
    elif isinstance(given, (tuple, list)):
        if len(given) != len(names):
            raise ValueError(f"onnx.export: batch_axes must give one axis (or None) per graph input: "
                             f"{len(names)} inputs {names}, got {len(given)} entries {list(given)!r}")
        axes = list(given)
    else:
        raise TypeError("onnx.export: batch_axes must be a list (one axis or None per input) or a dict "
                        f"{{input name: axis}}, got {type(given).__name__}")
    for name, axis, array in zip(names, axes, arrays):
        if axis is None:
            continue
        if not isinstance(axis, int) or isinstance(axis, bool) or not -array.ndim <= axis < array.ndim:
            raise ValueError(f"onnx.export: batch_axes gives input {name!r} of shape {array.shape} the axis "
                             f"{axis!r}; expected an int in [{-array.ndim}, {array.ndim}) or None")
    return [None if axis is None else axis % array.ndim for axis, array in zip(axes, arrays)]
