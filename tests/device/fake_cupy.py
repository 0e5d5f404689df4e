"""A stand-in for CuPy that runs on the CPU, so the CUDA code paths are tested on machines without a GPU.

``fake_cupy.ndarray`` wraps a NumPy array and behaves towards dendrite the way a
``cupy.ndarray`` does:

* NumPy functions and ufuncs called on it dispatch to "the device" through the same
  protocols CuPy implements (NEP 13 ``__array_ufunc__``, NEP 18 ``__array_function__``)
  and give device arrays back; reductions give 0-d device arrays, not NumPy scalars.
* Implicit conversion to the host is refused exactly as CuPy refuses it: ``np.asarray(a)``,
  ``np.array(a)``, a NumPy function that is not dispatched (``np.lib.stride_tricks.as_strided``),
  writing a device array into a host array — all raise ``TypeError``. So a test that passes
  here proves no operation silently fell back to the host.
* Mixing a host ``numpy.ndarray`` into a device ufunc or function raises ``TypeError``, as
  CuPy does ("Unsupported type <class 'numpy.ndarray'>"); Python and NumPy scalars are fine.
* The array's attributes are CuPy's (``a.get()``, ``a.flags`` with only ``c_contiguous``,
  ``f_contiguous`` and ``owndata``); NumPy-only ones (``a.flags.writeable``, ``a.ctypes``)
  raise ``AttributeError``.
* ``ufunc.at`` exists only for the ufuncs CuPy implements it for (add, subtract, maximum,
  minimum, bitwise and/or/xor).

What it cannot show: speed, CuPy's numerical differences (its own kernels and cuBLAS), and
the functions CuPy lacks beyond the few listed in ``MISSING``.
"""

from __future__ import annotations

import types
import weakref

import numpy as np

# NumPy functions CuPy does not implement (its __array_function__ answers NotImplemented).
MISSING = {np.longdouble, np.lib.stride_tricks.sliding_window_view}
# ufuncs with ``.at`` in CuPy (v12+).
UFUNC_AT = {np.add, np.subtract, np.maximum, np.minimum, np.bitwise_and, np.bitwise_or, np.bitwise_xor}

_ATTRIBUTES = {
    "T", "mT", "all", "any", "argmax", "argmin", "argpartition", "argsort", "astype", "base", "choose",
    "clip", "compress", "conj", "conjugate", "copy", "cumprod", "cumsum", "diagonal", "dot", "dtype", "fill",
    "flatten", "imag", "item", "itemsize", "max", "mean", "min", "nbytes", "ndim", "nonzero", "partition",
    "prod", "ptp", "put", "ravel", "real", "repeat", "reshape", "round", "searchsorted", "shape", "size",
    "sort", "squeeze", "std", "strides", "sum", "swapaxes", "take", "tobytes", "tolist", "trace",
    "transpose", "var", "view",
}
HOST_MESSAGE = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a "
                "NumPy array explicitly.")

_wrappers: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
transfers = {"to_device": 0, "to_host": 0}  # explicit copies, counted for the tests


class Flags:
    """CuPy's ``ndarray.flags``: three read-only booleans."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, flags) -> None:
        self.c_contiguous, self.f_contiguous, self.owndata = flags.c_contiguous, flags.f_contiguous, \
            flags.owndata

    def __getitem__(self, name):
        return getattr(self, {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
                              "OWNDATA": "owndata"}[name])


class ndarray:  # noqa: N801  (cupy's name)
    """A "device" array: a NumPy array that only NumPy's dispatch protocols may look into."""

    __slots__ = ("_a", "__weakref__")

    def __init__(self, *args, **kwargs) -> None:
        raise TypeError("make fake_cupy arrays with fake_cupy.asarray / zeros / ...")

    # -------------------------------------------------------------- host conversions: refused
    def __array__(self, dtype=None, copy=None):
        raise TypeError(HOST_MESSAGE)

    @property
    def __array_interface__(self):
        raise AttributeError("cupy.ndarray has no __array_interface__ (use .get())")

    def get(self, stream=None, order="C", out=None):
        transfers["to_host"] += 1
        return np.array(self._a, order=order)

    def __getattr__(self, name):
        if name not in _ATTRIBUTES:
            raise AttributeError(f"fake_cupy.ndarray (as cupy.ndarray) has no attribute {name!r}")
        value = getattr(self._a, name)
        if callable(value):
            def method(*args, **kwargs):
                return _wrap_result(value(*_unwrap(args), **_unwrap(kwargs)))
            return method
        return _wrap_result(value)

    @property
    def data(self):
        """CuPy's MemoryPointer, reduced to its address."""
        return types.SimpleNamespace(ptr=self._a.__array_interface__["data"][0])

    @property
    def flags(self) -> Flags:
        return Flags(self._a.flags)

    # -------------------------------------------------------------- dispatch protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "at" and ufunc not in UFUNC_AT:
            return NotImplemented
        out = kwargs.get("out")
        kwargs = _unwrap(kwargs, strict=True)
        result = getattr(ufunc, method)(*_unwrap(inputs, strict=True), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return None if method == "at" else _wrap_result(result)

    def __array_function__(self, func, types_, args, kwargs):
        if func in MISSING:
            return NotImplemented
        return _wrap_result(func(*_unwrap(args, strict=True), **_unwrap(kwargs, strict=True)))

    # -------------------------------------------------------------- Python protocol
    def __getitem__(self, key):
        return _wrap_result(self._a[_unwrap(key, strict=True)])

    def __setitem__(self, key, value):
        self._a[_unwrap(key, strict=True)] = _unwrap(value, strict=True)

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        return (_wrap_result(row) for row in self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __complex__(self) -> complex:
        return complex(self._a)

    def __index__(self) -> int:
        return self._a.__index__()

    def __repr__(self) -> str:
        return repr(self._a)

    __str__ = __repr__

    def __copy__(self):
        return _wrap(self._a.copy())

    def __deepcopy__(self, memo):
        return _wrap(self._a.copy())

    def __reduce__(self):
        raise TypeError("fake_cupy arrays are not pickled (as dendrite saves them: to the host first)")


def _binary(name):
    def operator(self, other):
        return _wrap_result(getattr(self._a, name)(_unwrap(other, strict=True)))
    operator.__name__ = name
    return operator


def _inplace(name):
    def operator(self, other):
        getattr(self._a, name)(_unwrap(other, strict=True))
        return self
    operator.__name__ = name
    return operator


def _unary(name):
    def operator(self):
        return _wrap_result(getattr(self._a, name)())
    operator.__name__ = name
    return operator


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
              "lshift", "rshift"):
    setattr(ndarray, f"__{_name}__", _binary(f"__{_name}__"))
    setattr(ndarray, f"__r{_name}__", _binary(f"__r{_name}__"))
    setattr(ndarray, f"__i{_name}__", _inplace(f"__i{_name}__"))
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(ndarray, f"__{_name}__", _binary(f"__{_name}__"))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_name}__", _unary(f"__{_name}__"))
ndarray.__hash__ = None


# ----------------------------------------------------------------------------- wrapping
def _wrap(array: np.ndarray) -> ndarray:
    """The one device array for this NumPy array (the same wrapper each time: ``a.base is b`` holds)."""
    wrapper = _wrappers.get(id(array))
    if wrapper is not None and wrapper._a is array:
        return wrapper
    wrapper = object.__new__(ndarray)
    wrapper._a = array
    _wrappers[id(array)] = wrapper
    return wrapper


def _wrap_result(value):
    if isinstance(value, np.ndarray):
        return _wrap(value)
    if isinstance(value, np.generic):
        return _wrap(np.asarray(value))  # CuPy gives 0-d arrays, not NumPy scalars
    if isinstance(value, tuple):
        return tuple(_wrap_result(item) for item in value)
    if isinstance(value, list):
        return [_wrap_result(item) for item in value]
    return value


def _unwrap(value, strict: bool = False):
    """Device arrays to their NumPy arrays, recursively; a host ndarray refused when ``strict``."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, np.ndarray):
        if strict:
            raise TypeError(f"Unsupported type {type(value)}: a host numpy.ndarray given to a device "
                            f"(fake_cupy) operation; move it with cupy.asarray first")
        return value
    if isinstance(value, tuple):
        return tuple(_unwrap(item, strict) for item in value)
    if isinstance(value, list):
        return [_unwrap(item, strict) for item in value]
    if isinstance(value, dict):
        return {key: _unwrap(item, strict) for key, item in value.items()}
    return value


# ----------------------------------------------------------------------------- the module's functions
def asarray(value, dtype=None, order=None, *, blocking=False):
    """Host data to the device (an explicit transfer); a device array stays (cast if ``dtype``)."""
    if isinstance(value, ndarray):
        return value if dtype is None else value.astype(dtype, copy=False)
    if isinstance(value, np.ndarray) or not np.isscalar(value) and not isinstance(value, (list, tuple)):
        transfers["to_device"] += 1
    return _wrap(np.array(_unwrap(value), dtype=dtype, order=order or "K"))


def array(value, dtype=None, copy=True, order="K", ndmin=0):
    if isinstance(value, ndarray):
        return _wrap(np.array(value._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin))
    transfers["to_device"] += 1
    return _wrap(np.array(_unwrap(value), dtype=dtype, order=order, ndmin=ndmin))


def asnumpy(value, stream=None, order="C", out=None, *, blocking=True):
    if isinstance(value, ndarray):
        return value.get(order=order)
    return np.asarray(value, order=order)


def ascontiguousarray(value, dtype=None):
    return _wrap(np.ascontiguousarray(_unwrap(value, strict=True), dtype=dtype))


def _as_strided(x, shape=None, strides=None):
    return _wrap(np.lib.stride_tricks.as_strided(_unwrap(x, strict=True), shape, strides))


lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(as_strided=_as_strided))


def get_array_module(*arrays):
    return _module if any(isinstance(a, ndarray) for a in arrays) else np


class _Device:
    id = 0

    def synchronize(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


cuda = types.SimpleNamespace(
    Device=lambda index=0: _Device(),
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1,
                                  getDeviceProperties=lambda index: {"name": b"fake_cupy device"}),
)


class _MemoryPool:
    def used_bytes(self) -> int:
        return sum(wrapper._a.nbytes for wrapper in list(_wrappers.values()) if wrapper._a.base is None)

    def total_bytes(self) -> int:
        return self.used_bytes()

    def free_all_blocks(self) -> None:
        pass


_pool = _MemoryPool()


def get_default_memory_pool() -> _MemoryPool:
    return _pool

_module = None


def __getattr__(name):
    """Everything else: NumPy's function of that name, taking and giving device arrays."""
    value = getattr(np, name)
    if isinstance(value, type) or not callable(value) or isinstance(value, np.ufunc):
        return value  # dtypes, constants, ufuncs (they dispatch through __array_ufunc__)

    def function(*args, **kwargs):
        return _wrap_result(value(*_unwrap(args, strict=True), **_unwrap(kwargs, strict=True)))

    function.__name__ = name
    return function


def _set_module() -> None:
    import sys

    global _module
    _module = sys.modules[__spec__.name]


_set_module()
