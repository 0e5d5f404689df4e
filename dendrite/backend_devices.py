"""Where an array lives: the host (NumPy) or a device (CuPy), and the few helpers that keep it there.

:mod:`dendrite.backend` re-exports every public name here, so the rest of dendrite asks
``backend.namespace(x)``, ``backend.to_device(...)`` and so on; this module holds the device
registry (which array type belongs to which device) on its own, apart from dtypes and randomness.
"""

from __future__ import annotations

import numpy as np

# The device of a tensor is the type of its array: ``numpy.ndarray`` lives on the host ("cpu"); an
# array of a registered device module (CuPy's ``cupy.ndarray``) lives on that device ("cuda").
# NumPy's dispatch protocols (NEP 13/18: __array_ufunc__, __array_function__) send ``np.exp(a)``,
# ``np.matmul(a, b)``, ``np.sum(a)``... to CuPy when ``a`` is a CuPy array, so operation code stays
# one code path; only what makes a *new* array from a shape asks :func:`namespace` for the module.
_device_modules: dict = {}  # "cuda" -> the array module (cupy, or a test stand-in)
_namespace_of_type: dict = {}  # the device array type -> its module
_kind_of_type: dict = {}  # the device array type -> "cuda"
_probed: set = set()  # device kinds whose real module (cupy) was looked for


def namespace(array):
    """The array module that made ``array``: ``numpy`` for host arrays, ``cupy`` for CUDA arrays.

    Use it where code makes a new array from a shape next to existing ones
    (``namespace(x).zeros(shape, x.dtype)``); functions that take arrays
    (``xp.exp(x)``) dispatch by themselves.

    Example:
        >>> import numpy as np
        >>> from dendrite.backend import namespace
        >>> namespace(np.zeros(2)) is np, namespace(3.0) is np
        (True, True)
    """
    return _namespace_of_type.get(type(array), np)


def device_kind(array) -> str:
    """``"cpu"`` for a host array (or a number), the device type (``"cuda"``) for a device array.

    Example:
        >>> import numpy as np
        >>> from dendrite.backend import device_kind
        >>> device_kind(np.zeros(2))
        'cpu'
    """
    return _kind_of_type.get(type(array), "cpu")


def on_device(array) -> bool:
    """True when ``array`` lives on a device (a CUDA array), False for host arrays and numbers.

    Example:
        >>> import numpy as np
        >>> from dendrite.backend import on_device
        >>> on_device(np.zeros(2))
        False
    """
    return type(array) in _kind_of_type


def use_device_module(kind: str, module) -> None:
    """Make ``module`` (CuPy-like: ``ndarray``, ``asarray``, ``asnumpy``, ``zeros``...) the ``kind`` device.

    dendrite finds CuPy by itself; tests plug a stand-in in here (``module=None`` removes it).

    Example:
        >>> from dendrite.backend import use_device_module, device_module_or_none
        >>> use_device_module("cuda", None)
        >>> device_module_or_none("cuda") is None or device_module_or_none("cuda").__name__ == "cupy"
        True
    """
    old = _device_modules.pop(kind, None)
    if old is not None:
        for array_type in [t for t, k in _kind_of_type.items() if k == kind]:
            _kind_of_type.pop(array_type)
            _namespace_of_type.pop(array_type)
    _probed.add(kind)  # an explicit choice (also "none") is not overridden by probing for cupy
    if module is not None:
        _device_modules[kind] = module
        _namespace_of_type[module.ndarray] = module
        _kind_of_type[module.ndarray] = kind


def _probe_cupy():
    """cupy when it imports *and* sees a GPU; None otherwise (any error of CuPy's counts as no GPU)."""
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
        cupy.zeros(1)  # the driver and runtime really work
        return cupy
    except Exception:  # noqa: BLE001  (ImportError, CUDARuntimeError, missing libraries...)
        return None


def device_module_or_none(kind: str = "cuda"):
    """The array module of device ``kind`` (``cupy`` for ``"cuda"``), or None when there is none.

    Example:
        >>> from dendrite.backend import device_module_or_none
        >>> device_module_or_none("mps") is None
        True
    """
    if kind not in _probed and kind == "cuda":
        _probed.add(kind)
        module = _probe_cupy()
        if module is not None:
            use_device_module("cuda", module)
    return _device_modules.get(kind)


def to_device(array, kind: str):
    """``array`` (host or device) moved to device ``kind`` (``"cpu"`` or ``"cuda"``); as is when it is there.

    The one host/device copy in dendrite, made only where the user asks (``.to``, ``.cuda()``,
    ``.cpu()``, ``device=`` arguments). Raises ``RuntimeError`` for a device that is not present.

    Example:
        >>> import numpy as np
        >>> from dendrite.backend import to_device
        >>> a = np.zeros(2)
        >>> to_device(a, "cpu") is a
        True
    """
    here = device_kind(array)
    if here == kind:
        return array
    if kind == "cpu":
        return _device_modules[here].asnumpy(array)
    module = device_module_or_none(kind)
    if module is None:
        raise RuntimeError(f"{kind} is not available")
    if here != "cpu":
        array = _device_modules[here].asnumpy(array)
    return module.asarray(array)


def as_result(value):
    """An operation's result as an array: device arrays as they are, NumPy scalars as 0-d arrays.

    Example:
        >>> import numpy as np
        >>> from dendrite.backend import as_result
        >>> as_result(np.float32(2.0)).shape
        ()
    """
    if type(value) in _kind_of_type:
        return value
    return np.asarray(value)


def reset_device_modules() -> None:
    """Forget the device modules (a test's stand-in, or CuPy): the next use looks for CuPy again.

    Example:
        >>> from dendrite.backend import reset_device_modules
        >>> reset_device_modules()
    """
    for kind in list(_device_modules):
        use_device_module(kind, None)
    _probed.clear()


def asarray(value, dtype=None):
    """``numpy.asarray`` that leaves a device array on its device (cast to ``dtype`` there when given).

    Host data (numbers, lists, NumPy arrays) becomes a NumPy array, as with ``numpy.asarray``; it
    never moves data between devices.

    Example:
        >>> from dendrite.backend import asarray
        >>> asarray(2.5).shape, asarray([1, 2], dtype="float32").dtype
        ((), dtype('float32'))
    """
    kind = type(value)
    if kind is np.ndarray and dtype is None:  # the common case, without a call
        return value
    if kind in _kind_of_type:
        return value if dtype is None else value.astype(dtype, copy=False)
    return np.asarray(value, dtype)


def is_array(value) -> bool:
    """True for an array of any device (NumPy's or CuPy's); False for numbers and NumPy scalars.

    Example:
        >>> import numpy as np
        >>> from dendrite.backend import is_array
        >>> is_array(np.zeros(2)), is_array(np.float32(1.0)), is_array(2.0)
        (True, False, False)
    """
    return isinstance(value, np.ndarray) or type(value) in _kind_of_type


def index_on_device_of(array, index):
    """``index`` (a NumPy-style index) with its host integer/bool arrays moved to ``array``'s device.

    A list or CPU tensor indexing a CUDA tensor is copied to the GPU, as PyTorch does; on the
    host nothing changes.

    Example:
        >>> import numpy as np
        >>> from dendrite.backend import index_on_device_of
        >>> index_on_device_of(np.zeros(3), (slice(None), np.array([0])))[1]
        array([0])
    """
    kind = _kind_of_type.get(type(array))
    if kind is None:
        return index
    module = _device_modules[kind]
    if isinstance(index, tuple):
        return tuple(module.asarray(item) if isinstance(item, np.ndarray) else item for item in index)
    return module.asarray(index) if isinstance(index, np.ndarray) else index


def ascontiguousarray(array):
    """``array`` in row-major order, on its own device (a copy only when it is not already).

    Example:
        >>> import numpy as np
        >>> from dendrite.backend import ascontiguousarray
        >>> ascontiguousarray(np.zeros((2, 3)).T).flags.c_contiguous
        True
    """
    return _namespace_of_type.get(type(array), np).ascontiguousarray(array)


def as_strided(array, shape: tuple, strides: tuple):
    """A read-only strided view of ``array`` (``numpy.lib.stride_tricks.as_strided`` or CuPy's).

    Example:
        >>> import numpy as np
        >>> from dendrite.backend import as_strided
        >>> as_strided(np.arange(4.0), (3, 2), (8, 8)).tolist()
        [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]
    """
    module = _namespace_of_type.get(type(array))
    if module is None:
        return np.lib.stride_tricks.as_strided(array, shape, strides, writeable=False)
    return module.lib.stride_tricks.as_strided(array, shape, strides)


def move_like(like, value):
    """``value`` (a host array of indices or weights that code built from shapes) on ``like``'s device.

    On the host it is ``value`` itself; for a CUDA ``like`` it is copied to the GPU (small
    arrays derived from shapes, e.g. the index map of a padding, not the user's data).

    Example:
        >>> import numpy as np
        >>> from dendrite.backend import move_like
        >>> index = np.arange(3)
        >>> move_like(np.zeros(2), index) is index
        True
    """
    kind = _kind_of_type.get(type(like))
    if kind is None or type(value) is not np.ndarray:
        return value
    return _device_modules[kind].asarray(value)


def data_address(array) -> int:
    """The address of ``array``'s first element (host memory, or GPU memory for a CuPy array).

    Example:
        >>> import numpy as np
        >>> from dendrite.backend import data_address
        >>> a = np.zeros(4)
        >>> data_address(a[1:]) - data_address(a)
        8
    """
    if type(array) in _kind_of_type:
        return int(array.data.ptr)
    return array.__array_interface__["data"][0]


def writeable(array) -> bool:
    """Whether in-place writes to ``array`` are allowed: NumPy's flag; for a CuPy array (which has no such
    flag) False for a broadcast view, whose elements share memory (a write would land several times).

    Example:
        >>> import numpy as np
        >>> from dendrite.backend import writeable
        >>> writeable(np.zeros(3)), writeable(np.broadcast_to(np.zeros(1), (3,)))
        (True, False)
    """
    if type(array) in _kind_of_type:
        return not (array.size > 1 and 0 in array.strides)
    return array.flags.writeable


def to_host(array) -> np.ndarray:
    """The array as a NumPy array on the host (a no-op for NumPy; a copy for a device array).

    Example:
        >>> import numpy as np
        >>> from dendrite.backend import to_host
        >>> to_host(np.arange(3))
        array([0, 1, 2])
    """
    kind = _kind_of_type.get(type(array))
    if kind is not None:
        return _device_modules[kind].asnumpy(array)
    return np.asarray(array)
