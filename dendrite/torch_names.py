"""PyTorch names whose whole meaning here fits in a line: ``is_tensor``, ``numel``, ``finfo``, ``compile``...

Ported scripts call these in passing (``torch.is_tensor(x)`` in a Dataset,
``torch.finfo(torch.float32).eps`` in a loss, ``model = torch.compile(model)``
in a modern training loop). Each one here does what PyTorch's does on a CPU
without a compiler, and its docstring says so where that differs from
PyTorch's intent. ``compile`` is not a one-liner: it records and replays
(autograd/compiled.py, docs/compile.md), and is re-exported here under
PyTorch's name.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.autograd.compiled import compile  # noqa: A004  (PyTorch's name: torch.compile)
from dendrite.backend import xp
from dendrite.devices import check_device
from dendrite.tensor import Tensor

__all__ = ["is_tensor", "is_floating_point", "numel", "finfo", "iinfo", "compile", "set_default_device",
           "get_default_device"]


def is_tensor(obj) -> bool:
    """Whether ``obj`` is a dendrite tensor (``torch.is_tensor``); arrays and lists are not.

    Example:
        >>> import dendrite
        >>> dendrite.is_tensor(dendrite.ones(2)), dendrite.is_tensor([1.0])
        (True, False)
    """
    return isinstance(obj, Tensor)


def _tensor_argument(name: str, input) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be a dendrite tensor, not {type(input).__name__}")
    return input


def is_floating_point(input: Tensor) -> bool:
    """Whether ``input``'s dtype is a floating-point one (float16/32/64).

    Example:
        >>> import dendrite
        >>> dendrite.is_floating_point(dendrite.ones(2)), dendrite.is_floating_point(dendrite.arange(2))
        (True, False)
    """
    return _tensor_argument("is_floating_point", input).is_floating_point()


def numel(input: Tensor) -> int:
    """The number of elements of ``input`` (the product of its shape; 1 for a 0-d tensor).

    Example:
        >>> import dendrite
        >>> dendrite.numel(dendrite.zeros(2, 3)), dendrite.numel(dendrite.tensor(5.0))
        (6, 1)
    """
    return _tensor_argument("numel", input).numel()


def finfo(dtype=None) -> xp.finfo:
    """Limits of a floating dtype (``eps``, ``max``, ``min``, ``tiny``...); the default dtype if none.

    Example:
        >>> import dendrite
        >>> float(dendrite.finfo(dendrite.float32).eps), dendrite.finfo().bits
        (1.1920928955078125e-07, 32)
    """
    dtype = backend.get_default_dtype() if dtype is None else dtype
    if xp.dtype(dtype).kind != "f":
        raise TypeError(f"finfo: expected a floating dtype (float16, float32, float64), got "
                        f"{xp.dtype(dtype)}; use dendrite.iinfo for integer dtypes")
    return xp.finfo(dtype)


def iinfo(dtype) -> xp.iinfo:
    """Limits of an integer dtype (``max``, ``min``, ``bits``).

    Example:
        >>> import dendrite
        >>> dendrite.iinfo(dendrite.int8).max
        127
    """
    if xp.dtype(dtype).kind not in "iub":
        raise TypeError(f"iinfo: expected an integer dtype, got {xp.dtype(dtype)}; use dendrite.finfo for "
                        "floating dtypes")
    return xp.iinfo(xp.uint8 if xp.dtype(dtype).kind == "b" else dtype)


def set_default_device(device) -> None:
    """``torch.set_default_device``: dendrite's only device is the CPU, so ``"cpu"`` is accepted.

    Any other device gives the same clear error as ``device=`` anywhere else.

    Example:
        >>> import dendrite
        >>> dendrite.set_default_device("cpu"); dendrite.get_default_device()
        device(type='cpu')
    """
    if device is not None:
        check_device(device, "set_default_device")


def get_default_device():
    """The device new tensors are made on: always the CPU here.

    Example:
        >>> import dendrite
        >>> dendrite.get_default_device().type
        'cpu'
    """
    return check_device("cpu")
