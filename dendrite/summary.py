"""``dendrite.summary(model, input_shape)``: a Keras-style table of layers, shapes, parameters, FLOPs, memory.

It runs one forward pass on zeros (in eval mode, without recording a graph,
so no running statistics change) with a forward hook on every sub-module to
record what each layer takes and outputs.

``summary`` *returns* a :class:`ModelSummary` and prints nothing: its ``str`` and ``repr`` are the
table, so ``summary(model)`` at a prompt or in a notebook cell shows the table once, and
``print(summary(model))`` shows it once too (a function that printed *and* returned the table
showed it twice there). Its fields hold the numbers (``total_params``, ``total_flops``...) for
code that wants them rather than text.

**FLOPs** count the multiply-adds of each layer's matrix products, at 1 multiply-add = 2 FLOPs
(the convention Keras and fvcore report), for the batch that was run:

============================  ===============================================================
layer                         multiply-adds
============================  ===============================================================
Linear                        ``output elements x in_features``
Bilinear                      ``output elements x in1_features x in2_features``
Conv1d/2d                     ``output elements x (in_channels / groups) x kernel elements``
ConvTranspose1d/2d            ``input elements x (out_channels / groups) x kernel elements``
RNN/LSTM/GRU, and cells       ``time steps x batch x`` all ``weight_ih`` and ``weight_hh`` elements
============================  ===============================================================

Bias additions, activations, normalisation, pooling, dropout and embedding lookups do no
matrix product and count 0. A layer of another kind that holds parameters shows ``?`` and is
left out of the total (the table says how many are).

**Activation memory** is the bytes of each layer's output tensors for that batch; the total sums
the memory the table's layers allocate for their outputs, each buffer once: an output that is a
view of an earlier one (``Flatten``, a reshape) or the layer's input handed back (``Identity``)
adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dendrite import backend
from dendrite.autograd.grad_mode import no_grad
from dendrite.backend import xp
from dendrite.nn.modules.activation import PReLU
from dendrite.nn.modules.conv import _Conv, _ConvTranspose
from dendrite.nn.modules.linear import Bilinear, Linear
from dendrite.nn.modules.module import Module
from dendrite.nn.modules.normalization import GroupNorm, LayerNorm, RMSNorm, _NormBase
from dendrite.nn.modules.rnn import RNNBase
from dendrite.nn.modules.rnn_cell import RNNCellBase
from dendrite.nn.modules.sparse import Embedding
from dendrite.tensor import Tensor, wrap

__all__ = ["summary", "ModelSummary", "LayerSummary"]

_NO_MATRIX_PRODUCT = (_NormBase, LayerNorm, GroupNorm, RMSNorm, PReLU, Embedding)


@dataclass
class LayerSummary:
    """One row of the table: a layer, its output shape, parameters, FLOPs and output bytes.

    ``flops`` is ``None`` for a layer whose computation :func:`summary` does not count.

    Example:
        >>> row = LayerSummary("0", "Linear", "(1, 10)", 7850, 15680, 40)
        >>> row.flops // 2   # multiply-adds
        7840
    """

    name: str
    type: str
    output_shape: str
    params: int
    flops: int | None
    activation_bytes: int


@dataclass
class ModelSummary:
    """What :func:`summary` found; ``str()`` and ``repr()`` are the table.

    Example:
        >>> import dendrite
        >>> result = dendrite.summary(dendrite.nn.Linear(3, 2), (3,))
        >>> result.total_params, result.total_flops, result.activation_bytes
        (8, 12, 8)
    """

    model_name: str
    layers: list[LayerSummary]
    input_shapes: list[tuple]
    output_shape: str
    total_params: int
    trainable_params: int
    param_bytes: int
    total_flops: int
    activation_bytes: int
    uncounted_layers: list[str] = field(default_factory=list)

    @property
    def frozen_params(self) -> int:
        """Parameters with ``requires_grad=False``."""
        return self.total_params - self.trainable_params

    def __str__(self) -> str:
        header = ("Layer (type)", "Output Shape", "Param #", "FLOPs", "Output size")
        rows = [(f"{row.name} ({row.type})", row.output_shape, f"{row.params:,}",
                 "?" if row.flops is None else f"{row.flops:,}", _human_bytes(row.activation_bytes))
                for row in self.layers]
        widths = [max(len(header[i]), *(len(row[i]) for row in rows)) + 2 for i in range(len(header))]
        width = sum(widths)

        def line(cells) -> str:
            text = cells[0].ljust(widths[0]) + cells[1].ljust(widths[1])
            text += "".join(cell.rjust(size) for cell, size in zip(cells[2:], widths[2:]))
            return text.rstrip()

        uncounted = (f" (not counted: {', '.join(self.uncounted_layers)})" if self.uncounted_layers else "")
        lines = [f'Model: "{self.model_name}"', "=" * width, line(header), "=" * width]
        lines += [line(row) for row in rows]
        lines += [
            "=" * width,
            f"Input shape: {', '.join(str(shape) for shape in self.input_shapes)}",
            f"Output shape: {self.output_shape}",
            f"Total params: {self.total_params:,} ({_human_bytes(self.param_bytes)})",
            f"Trainable params: {self.trainable_params:,}",
            f"Frozen params: {self.frozen_params:,}",
            f"Total FLOPs: {self.total_flops:,} (1 multiply-add = 2 FLOPs){uncounted}",
            f"Activation memory: {self.activation_bytes:,} bytes ({_human_bytes(self.activation_bytes)})",
            "=" * width,
        ]
        return "\n".join(lines)

    __repr__ = __str__


def _format_shape(output) -> str:
    if isinstance(output, Tensor):
        return str(tuple(output.shape))
    if isinstance(output, (tuple, list)):
        return "[" + ", ".join(_format_shape(item) for item in output) + "]"
    if isinstance(output, dict):
        return "{" + ", ".join(f"{key}: {_format_shape(value)}" for key, value in output.items()) + "}"
    return type(output).__name__


def _tensors(value) -> list[Tensor]:
    """Every tensor in a layer's output (an LSTM returns ``(output, (h, c))``)."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [tensor for item in value for tensor in _tensors(item)]
    if isinstance(value, dict):
        return [tensor for item in value.values() for tensor in _tensors(item)]
    return []


def _has_own_parameters(module: Module) -> bool:
    return any(True for _ in module.parameters(recurse=False))


def _multiply_adds(module: Module, inputs: tuple, output) -> int | None:
    """The multiply-adds of ``module``'s matrix products in this call (see the module docstring)."""
    first = inputs[0] if inputs and isinstance(inputs[0], Tensor) else None
    outputs = _tensors(output)
    if isinstance(module, Linear):
        return outputs[0].numel() * module.weight.shape[1]
    if isinstance(module, Bilinear):
        return outputs[0].numel() * module.weight.shape[1] * module.weight.shape[2]
    if isinstance(module, _Conv):  # weight (out, in / groups, *kernel)
        return outputs[0].numel() * (module.weight.numel() // module.weight.shape[0])
    if isinstance(module, _ConvTranspose) and first is not None:  # weight (in, out / groups, *kernel)
        return first.numel() * (module.weight.numel() // module.weight.shape[0])
    if isinstance(module, (RNNBase, RNNCellBase)) and first is not None:
        steps = first.numel() // module.input_size  # time steps x batch (or batch, for a cell)
        return steps * sum(param.numel() for name, param in module.named_parameters()
                           if name.startswith(("weight_ih", "weight_hh")))
    if isinstance(module, _NO_MATRIX_PRODUCT) or not _has_own_parameters(module):
        return 0
    return None


def _make_inputs(input_shape, dtype, batch_size: int) -> list:
    """One zero tensor per input; ``input_shape`` is one shape or a list of shapes (batch excluded)."""
    shapes = input_shape if input_shape and isinstance(input_shape[0], (tuple, list)) else [input_shape]
    dtypes = dtype if isinstance(dtype, (tuple, list)) else [dtype] * len(shapes)
    if len(dtypes) != len(shapes):
        raise ValueError(f"summary: got {len(shapes)} input shapes but {len(dtypes)} dtypes")
    inputs = []
    for shape, item_dtype in zip(shapes, dtypes):
        if not all(isinstance(size, int) and size >= 0 for size in shape):
            raise ValueError(f"summary: input_shape must be a tuple of non-negative ints, got {shape!r}")
        inputs.append(wrap(xp.zeros((batch_size, *shape), backend.as_dtype(item_dtype))))
    return inputs


def summary(model: Module, input_shape, dtype=backend.float32, batch_size: int = 1,
            print_fn: Callable[[str], None] | None = None) -> ModelSummary | None:
    """Every layer's type, output shape, parameters, FLOPs and output bytes, with totals.

    Returns a :class:`ModelSummary` whose ``str``/``repr`` is the table (so a prompt or a
    notebook shows it once, and so does ``print``); prints nothing. With ``print_fn`` (Keras's
    argument) the table is passed to it instead and ``None`` is returned -- one or the other,
    never both.

    ``input_shape`` excludes the batch dimension (as Keras's ``input_shape``): pass
    ``(1, 28, 28)`` for MNIST images; the forward pass uses a batch of ``batch_size``
    zeros, so the shapes, FLOPs and bytes shown are for ``batch_size`` samples. For several
    inputs pass a list of shapes (and optionally a list of dtypes, e.g. ``dendrite.int64`` for
    token ids). Totals count each shared parameter once, exactly like
    ``sum(p.numel() for p in model.parameters())``; "Frozen" means ``requires_grad=False``.
    FLOPs count 2 per multiply-add of Linear, Conv and RNN layers (module docstring).

    Example:
        >>> import dendrite
        >>> from dendrite import nn
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
        >>> result = dendrite.summary(model, (1, 28, 28))
        >>> result.total_params, result.total_flops   # 784 x 10 multiply-adds = 15,680 FLOPs
        (7850, 15680)
        >>> "Total params: 7,850" in str(result)
        True
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary expects a dendrite.nn.Module, got {type(model).__name__}")
    inputs = _make_inputs(tuple(input_shape), dtype, batch_size)
    calls: dict[int, tuple] = {}

    def record(layer, args, output) -> None:
        calls[id(layer)] = (args, output)  # a layer called twice: its last call is shown

    named = [(name, module) for name, module in model.named_modules() if name]
    handles = [module.register_forward_hook(record) for _, module in named]
    # Eval mode: batch norm works on a batch of one and its running statistics stay untouched.
    modes = {id(module): module.training for module in model.modules()}
    model.eval()
    try:
        with no_grad():
            final = model(*inputs)
    except Exception as error:
        shapes = ", ".join(str(tuple(t.shape)) for t in inputs)
        raise RuntimeError(
            f"summary: the forward pass of {type(model).__name__} on input of shape {shapes} failed: {error}"
        ) from error
    finally:
        for handle in handles:
            handle.remove()
        for module in model.modules():
            object.__setattr__(module, "training", modes[id(module)])

    rows = []
    # Activation memory counts each buffer once: a view (Flatten, a reshape) or a layer that hands its
    # input back allocates nothing new.
    buffers: dict[int, int] = {id(_buffer(t.array)): 0 for t in inputs}
    # The rows: the leaves, and containers with parameters of their own.
    shown = [(name, module) for name, module in named
             if not any(True for _ in module.children()) or _has_own_parameters(module)]
    if not shown:
        shown = [(type(model).__name__, model)]
        calls[id(model)] = (tuple(inputs), final)
    for name, module in shown:
        own = sum(param.numel() for param in module.parameters(recurse=False)) if module is not model \
            else sum(p.numel() for p in model.parameters())
        if id(module) not in calls:  # defined but never called in forward
            rows.append(LayerSummary(name, type(module).__name__, "--", own, 0, 0))
            continue
        args, output = calls[id(module)]
        tensors = _tensors(output)
        macs = _multiply_adds(module, args, output)
        rows.append(LayerSummary(name, type(module).__name__, _format_shape(output), own,
                                 None if macs is None else 2 * macs,
                                 sum(tensor.array.nbytes for tensor in tensors)))
        for tensor in tensors:
            buffers.setdefault(id(_buffer(tensor.array)), tensor.array.nbytes)

    params = list(model.parameters())
    total = sum(param.numel() for param in params)
    return _deliver(ModelSummary(
        model_name=type(model).__name__,
        layers=rows,
        input_shapes=[tuple(t.shape) for t in inputs],
        output_shape=_format_shape(final),
        total_params=total,
        trainable_params=sum(param.numel() for param in params if param.requires_grad),
        param_bytes=sum(param.numel() * param.element_size() for param in params),
        total_flops=sum(row.flops for row in rows if row.flops is not None),
        activation_bytes=sum(buffers.values()),
        uncounted_layers=[row.name for row in rows if row.flops is None],
    ), print_fn)


def _buffer(array):
    """The array that owns ``array``'s memory (itself, unless it is a view)."""
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


def _deliver(result: ModelSummary, print_fn) -> ModelSummary | None:
    if print_fn is None:
        return result
    print_fn(str(result))
    return None


def _human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.2f} {unit}" if unit != "B" else f"{int(count)} B"
        count /= 1024
    return f"{count} B"
