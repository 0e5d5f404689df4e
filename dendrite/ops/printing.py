"""``repr`` of a tensor in PyTorch's style: ``tensor([0.5000, 1.5000], requires_grad=True)``."""

from __future__ import annotations

from dendrite import backend
from dendrite.backend import xp

_DEFAULT_DTYPES = (backend.float32, backend.int64, backend.bool_)


def _float_formatter(array: xp.ndarray):
    finite = array[xp.isfinite(array)]
    if finite.size == 0 or xp.all(finite == xp.round(finite)) and xp.abs(finite).max() < 1e8:
        return lambda v: f"{v:.0f}." if xp.isfinite(v) else str(v)
    magnitude = xp.abs(finite).max()
    if magnitude >= 1e8 or (magnitude < 1e-4):
        return lambda v: f"{v:.4e}"
    return lambda v: f"{v:.4f}"


def tensor_repr(tensor) -> str:
    array = backend.to_host(tensor._data)
    prefix = "tensor("
    options = {"separator": ", ", "prefix": prefix, "threshold": 1000, "edgeitems": 3}
    if array.dtype.kind == "f":
        options["formatter"] = {"float_kind": _float_formatter(array)}
    body = xp.array2string(array, **options)
    extras = []
    if array.dtype not in _DEFAULT_DTYPES:
        extras.append(f"dtype=dendrite.{array.dtype}")
    if tensor._ctx is not None:
        extras.append(f"grad_fn=<{tensor._ctx.name}Backward>")
    elif tensor.requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + extra for extra in extras) + ")"
