"""``dendrite.summary(model, input_shape)``: a Keras-style table of layers, output shapes and parameters.

It runs one forward pass on zeros (in eval mode, without recording a graph,
so no running statistics change) with a forward hook on every sub-module to
record what each layer outputs.
"""

from __future__ import annotations

from collections.abc import Callable

from dendrite import backend
from dendrite.autograd.grad_mode import no_grad
from dendrite.backend import xp
from dendrite.nn.modules.module import Module
from dendrite.tensor import Tensor, wrap

__all__ = ["summary"]


def _format_shape(output) -> str:
    if isinstance(output, Tensor):
        return str(tuple(output.shape))
    if isinstance(output, (tuple, list)):
        return "[" + ", ".join(_format_shape(item) for item in output) + "]"
    if isinstance(output, dict):
        return "{" + ", ".join(f"{key}: {_format_shape(value)}" for key, value in output.items()) + "}"
    return type(output).__name__


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
            print_fn: Callable[[str], None] | None = print) -> str:
    """Print and return a table of every layer's type, output shape and parameter count.

    ``input_shape`` excludes the batch dimension (as Keras's ``input_shape``): pass
    ``(1, 28, 28)`` for MNIST images; the forward pass uses a batch of ``batch_size``
    zeros, so the shapes shown start with ``batch_size``. For several inputs pass a list
    of shapes (and optionally a list of dtypes, e.g. ``dendrite.int64`` for token ids).
    Totals count each shared parameter once, exactly like
    ``sum(p.numel() for p in model.parameters())``; "Frozen" means ``requires_grad=False``.

    Example:
        >>> import dendrite
        >>> from dendrite import nn
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
        >>> table = dendrite.summary(model, (1, 28, 28), print_fn=None)
        >>> "Total params: 7,850" in table
        True
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary expects a dendrite.nn.Module, got {type(model).__name__}")
    inputs = _make_inputs(tuple(input_shape), dtype, batch_size)
    outputs: dict[int, object] = {}

    def record(layer, args, output) -> None:
        outputs[id(layer)] = output

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
    for name, module in named:
        own = sum(param.numel() for param in module.parameters(recurse=False))
        is_leaf = not any(True for _ in module.children())
        if is_leaf or own:
            shape = _format_shape(outputs[id(module)]) if id(module) in outputs else "--"
            rows.append((f"{name} ({type(module).__name__})", shape, f"{own:,}"))
    if not rows:
        rows.append((f"({type(model).__name__})", _format_shape(final),
                     f"{sum(p.numel() for p in model.parameters()):,}"))

    params = list(model.parameters())
    total = sum(param.numel() for param in params)
    trainable = sum(param.numel() for param in params if param.requires_grad)
    size_bytes = sum(param.numel() * param.element_size() for param in params)
    header = ("Layer (type)", "Output Shape", "Param #")
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) + 2 for i in range(3)]
    width = sum(widths)

    def line(cells) -> str:
        text = cells[0].ljust(widths[0]) + cells[1].ljust(widths[1]) + cells[2].rjust(widths[2] - 2)
        return text.rstrip()

    lines = [f'Model: "{type(model).__name__}"', "=" * width, line(header), "=" * width]
    lines += [line(row) for row in rows]
    lines += [
        "=" * width,
        f"Input shape: {', '.join(str(tuple(t.shape)) for t in inputs)}",
        f"Output shape: {_format_shape(final)}",
        f"Total params: {total:,} ({_human_bytes(size_bytes)})",
        f"Trainable params: {trainable:,}",
        f"Frozen params: {total - trainable:,}",
        "=" * width,
    ]
    table = "\n".join(lines)
    if print_fn is not None:
        print_fn(table)
    return table


def _human_bytes(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.2f} {unit}" if unit != "B" else f"{count} B"
        count /= 1024
    return f"{count} B"
