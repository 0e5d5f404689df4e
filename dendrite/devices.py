"""Devices, honestly: ``dendrite.device`` names where a tensor lives: the CPU, or one GPU through CuPy.

PyTorch scripts are written device-agnostic::

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device); x = x.to(device)

With ``import dendrite as torch`` such a script runs unchanged: without CuPy
and a GPU ``dendrite.cuda.is_available()`` is False, so it picks ``"cpu"``; with
them (``pip install 'dendrite[cuda]'``, docs/cuda.md) tensors on ``"cuda"`` hold
CuPy arrays. Every place that takes a device reads it with
:func:`resolve_device` (creation functions, ``Tensor.to``, layers,
``Module.to``) or :func:`check_device` (where only the CPU is possible). Asking
for a device dendrite does not have (``"cuda"`` without a GPU, ``"mps"``) fails
at once with a message saying so, never later and never silently on the CPU.

A ``device`` object follows ``torch.device``: ``device("cuda:1")`` and
``device("cuda", 1)`` are equal, ``.type`` and ``.index`` are read-only, it is
hashable, and — as in PyTorch — it does not compare equal to a string
(``device("cpu") == "cpu"`` is False; compare ``.type`` instead).
"""

from __future__ import annotations

import numbers
import re

from dendrite import backend

__all__ = ["device", "as_device", "check_device", "resolve_device", "device_of", "cuda_unavailable_message",
           "same_device_message"]

# PyTorch's device types (the names torch.device accepts); only "cpu" has tensors in dendrite.
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
                "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
# "type" or "type:index" with a decimal index without leading zeros (torch refuses "cuda:01", "cuda: 1").
_DEVICE_STRING = re.compile(r"([a-z]+)(?::(0|[1-9][0-9]*))?")


def cuda_unavailable_message(who: str = "") -> str:
    """The error text for asking for a CUDA device (``who`` names the caller).

    Example:
        >>> from dendrite.devices import cuda_unavailable_message
        >>> cuda_unavailable_message("zeros").startswith("zeros: CUDA is not available")
        True
    """
    prefix = f"{who}: " if who else ""
    return (f"{prefix}CUDA is not available: dendrite's GPU backend is not installed/present (it needs "
            f"CuPy and a GPU: pip install 'dendrite[cuda]'; without them dendrite runs on the CPU). "
            f"Use device='cpu', or choose with "
            f"dendrite.cuda.is_available()")


class device:  # noqa: N801  (PyTorch's name: torch.device)
    """Where a tensor lives: a type (``"cpu"``, ``"cuda"``...) and an optional index.

    ``device("cuda:1")``, ``device("cuda", 1)`` and ``device(device("cuda:1"))``
    are the same device. Making a device object never fails for a device type
    PyTorch knows; *using* one other than the CPU does (see :func:`check_device`).

    Example:
        >>> import dendrite
        >>> d = dendrite.device("cuda:1")
        >>> d.type, d.index, str(d), d
        ('cuda', 1, 'cuda:1', device(type='cuda', index=1))
        >>> d == dendrite.device("cuda", 1), dendrite.device("cpu") == "cpu"
        (True, False)
        >>> dendrite.zeros(2).device
        device(type='cpu')
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type: str | device, index: int | None = None) -> None:  # noqa: A002  (torch's name)
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): give a device alone, or a type string and an index")
            self._type, self._index = type.type, type.index
            return
        if isinstance(type, numbers.Integral) and not isinstance(type, bool) and index is None:
            # torch.device(0) means "accelerator 0": there is none here.
            raise RuntimeError(f"device({type}): an integer device means an accelerator (a GPU), and "
                               f"dendrite has none; use 'cpu'")
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a device type string such as 'cpu' or 'cuda:0', or a "
                            f"dendrite.device, got {builtin_type(type).__name__}")
        if index is not None and (isinstance(index, bool) or not isinstance(index, numbers.Integral)):
            raise TypeError(f"device(): argument 'index' must be int, not {builtin_type(index).__name__}")
        if not type:
            raise RuntimeError("Device string must not be empty")
        match = _DEVICE_STRING.fullmatch(type)
        name = re.match(r"[a-zA-Z]*", type).group(0)
        if name not in DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device "
                               f"string: {type}")
        if match is None:
            raise RuntimeError(f"Invalid device string: {type!r}; expected 'type' or 'type:index', "
                               f"e.g. 'cpu' or 'cuda:0'")
        if match.group(2) is not None:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed "
                                   f"explicitly: {type}")
            index = int(match.group(2))
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self._type, self._index = name, None if index is None else int(index)

    @property
    def type(self) -> str:
        """The device type: ``"cpu"``, ``"cuda"``, ``"mps"``...

        Example:
            >>> import dendrite
            >>> dendrite.device("cuda:0").type
            'cuda'
        """
        return self._type

    @property
    def index(self) -> int | None:
        """The device index (``1`` in ``"cuda:1"``), or ``None`` when none was given.

        Example:
            >>> import dendrite
            >>> dendrite.device("cuda:1").index, dendrite.device("cpu").index
            (1, None)
        """
        return self._index

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type={self._type!r})"
        return f"device(type={self._type!r}, index={self._index})"

    def __eq__(self, other) -> bool:
        # As torch.device: equal only to a device of the same type and index, never to a string.
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type, self._index))


builtin_type = type  # the class body above shadows ``type`` with torch's argument name
CPU = device("cpu")


def as_device(value, who: str = "device") -> device | None:
    """Read a ``device=`` argument: ``None`` stays ``None``; a string or device becomes a ``device``.

    Bad values (an unknown type, a float) raise with a message naming ``who``.

    Example:
        >>> from dendrite.devices import as_device
        >>> as_device("cuda:1"), as_device(None)
        (device(type='cuda', index=1), None)
    """
    if value is None or isinstance(value, device):
        return value
    if isinstance(value, (str, numbers.Integral)) and not isinstance(value, bool):
        return device(value)
    raise TypeError(f"{who}: argument 'device' must be a dendrite.device or a string such as 'cpu', "
                    f"not {builtin_type(value).__name__}")


def check_device(value, who: str = "") -> device:
    """The CPU device, after checking that ``value`` (``None``, ``"cpu"``, ``device``...) asks for it.

    Every ``device=`` argument in dendrite goes through here. Any other device
    type (``"cuda"``, ``"mps"``, ``"meta"``) raises ``RuntimeError`` naming
    ``who`` and what to use instead.

    Example:
        >>> from dendrite.devices import check_device
        >>> check_device("cpu:0"), check_device(None)
        (device(type='cpu'), device(type='cpu'))
        >>> check_device("cuda", "zeros")
        Traceback (most recent call last):
        ...
        RuntimeError: zeros: CUDA is not available: dendrite's GPU backend is not installed/present ...
    """
    if value is CPU or value is None or (isinstance(value, str) and value == "cpu"):  # common, no parsing
        return CPU
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        prefix = f"{who}: " if who else ""
        raise RuntimeError(f"{prefix}device={value} means accelerator {value} (a GPU), and dendrite has "
                           f"none: dendrite runs on the CPU. Use device='cpu'")
    parsed = as_device(value, who or "device")
    if parsed.type == "cpu":
        return CPU  # torch puts "cpu:0" and "cpu:1" tensors on device(type='cpu') too
    if parsed.type == "cuda":
        if backend.device_module_or_none("cuda") is not None:
            prefix = f"{who}: " if who else ""
            raise RuntimeError(f"{prefix}device={str(parsed)!r} is not supported here: make it on the CPU "
                               f"and move it with .to({str(parsed)!r}) (tensors: dendrite.zeros(..., "
                               f"device='cuda') and friends take the device directly)")
        raise RuntimeError(cuda_unavailable_message(who))
    prefix = f"{who}: " if who else ""
    raise RuntimeError(f"{prefix}device {str(parsed)!r} is not available: dendrite runs on the CPU only. "
                       f"Use device='cpu'")


CUDA = device("cuda", 0)


def resolve_device(value, who: str = "") -> device:
    """The device ``value`` asks for where dendrite can put tensors: the CPU, or ``cuda:0`` when present.

    ``None`` means the CPU. ``"cuda"`` and ``"cuda:0"`` need CuPy and a GPU
    (:func:`dendrite.cuda.is_available`); other indices and device types raise
    ``RuntimeError`` naming ``who``.

    Example:
        >>> from dendrite.devices import resolve_device
        >>> resolve_device("cpu"), resolve_device(None)
        (device(type='cpu'), device(type='cpu'))
    """
    if value is CPU or value is None or (isinstance(value, str) and value == "cpu"):
        return CPU
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if backend.device_module_or_none("cuda") is None:
            return check_device(value, who)  # raises, naming the accelerator asked for
        value = device("cuda", int(value))  # torch: an integer device is a CUDA index
    parsed = as_device(value, who or "device")
    if parsed.type != "cuda":
        return check_device(parsed, who)
    if backend.device_module_or_none("cuda") is None:
        raise RuntimeError(cuda_unavailable_message(who))
    if parsed.index not in (None, 0):
        prefix = f"{who}: " if who else ""
        raise RuntimeError(f"{prefix}CUDA error: invalid device ordinal: {str(parsed)!r}; dendrite uses one "
                           f"GPU, 'cuda' or 'cuda:0'")
    return CUDA


def device_of(array) -> device:
    """The device an array lives on: the CPU for NumPy arrays (and numbers), ``cuda:0`` for CuPy arrays.

    Example:
        >>> import numpy as np
        >>> from dendrite.devices import device_of
        >>> device_of(np.zeros(2))
        device(type='cpu')
    """
    return CPU if backend.device_kind(array) == "cpu" else CUDA


def same_device_message(who: str, first, second) -> str:
    """PyTorch's error for an operation on tensors of two devices (``first``/``second``: devices).

    Example:
        >>> from dendrite.devices import same_device_message, CPU, CUDA
        >>> same_device_message("add", CUDA, CPU)[:60]
        'Expected all tensors to be on the same device, but found at '
    """
    return (f"Expected all tensors to be on the same device, but found at least two devices, {first} and "
            f"{second}! (in {who}; move one with .to(), e.g. x.to({str(first)!r}))")
