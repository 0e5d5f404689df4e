"""``repr`` of a tensor in PyTorch's style: ``tensor([0.5000, 1.5000], requires_grad=True)``.

The number format follows PyTorch's ``_Formatter``: whole floats print as
``2.``, others with 4 decimals, switching to scientific notation when the
magnitudes span more than 1000x or leave [1e-4, 1e8]; every element is padded
to the widest one. NumPy's ``array2string`` does the layout and summarising.
"""

from __future__ import annotations

import math

from dendrite import backend
from dendrite.backend import xp

_DEFAULT_DTYPES = (backend.float32, backend.int64, backend.bool_)


def _float_format(array):
    """A function formatting one float the way PyTorch would inside this tensor."""
    values = array[xp.isfinite(array) & (array != 0)].astype(xp.float64)
    if values.size == 0:
        return lambda v: f"{v:.0f}." if math.isfinite(v) else f"{v:.0f}", 0
    magnitudes = xp.abs(values)
    low, high = magnitudes.min(), magnitudes.max()
    whole = bool(xp.all(values == xp.ceil(values)))
    if whole and not (high / low > 1000 or high > 1e8):
        width = max(len(f"{v:.0f}") + 1 for v in values)
        return (lambda v: f"{v:.0f}." if math.isfinite(v) else f"{v:.0f}"), width
    if whole or high / low > 1000 or high > 1e8 or low < 1e-4:
        width = max(len(f"{v:.4e}") for v in values)
        return (lambda v: f"{v:{width}.4e}"), width
    width = max(len(f"{v:.4f}") for v in values)
    return (lambda v: f"{v:.4f}"), width


def _formatter(array):
    if array.dtype.kind == "f":
        format_one, width = _float_format(array)
    elif array.dtype.kind == "b":
        format_one, width = (lambda v: str(bool(v))), (5 if not array.all() else 4)
    else:
        format_one = str
        width = max((len(str(v)) for v in array.reshape(-1)[:1000].tolist()), default=1)
    return lambda v: format_one(v).rjust(width)


def tensor_repr(tensor) -> str:
    """``tensor(...)`` with the values, then dtype (if not a default one) and autograd state.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.printing import tensor_repr
        >>> tensor_repr(dendrite.tensor([1, 2], dtype=dendrite.int32))
        'tensor([1, 2], dtype=dendrite.int32)'
    """
    array = backend.to_host(tensor._data)  # a CUDA tensor's values are read back to print them
    prefix = "tensor("
    if array.size == 0:
        body = "[]" if array.ndim == 1 else f"[], size={tuple(array.shape)}"
    else:
        body = xp.array2string(array, separator=", ", prefix=prefix, threshold=1000, edgeitems=3,
                               max_line_width=80, formatter={"all": _formatter(array)})
    extras = []
    if backend.on_device(tensor._data):
        extras.append(f"device='{backend.device_kind(tensor._data)}:0'")  # as PyTorch: before the dtype
    if array.dtype not in _DEFAULT_DTYPES:
        extras.append(f"dtype=dendrite.{array.dtype}")
    if tensor._ctx is not None:
        extras.append(f"grad_fn=<{tensor._ctx.name}Backward>")
    elif tensor.requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + extra for extra in extras) + ")"
