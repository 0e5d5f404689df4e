"""The array module behind every tensor.

This is the only file in dendrite that names NumPy as *the* array library.
Everything else asks this module for ``xp`` (the array namespace), the dtypes
and the random generator; the device helpers (``namespace``, ``to_device``, ...,
written in :mod:`dendrite.backend_devices`) are asked for here too, so CuPy slots
in without a per-operation CPU/GPU branch elsewhere (docs/cuda.md).
"""

from __future__ import annotations

import builtins

import numpy as np

from dendrite.backend_devices import (  # noqa: F401  (re-exported: dendrite asks backend for these)
    as_result,
    as_strided,
    asarray,
    ascontiguousarray,
    data_address,
    device_kind,
    device_module_or_none,
    index_on_device_of,
    is_array,
    move_like,
    namespace,
    on_device,
    reset_device_modules,
    to_device,
    to_host,
    use_device_module,
    writeable,
)

xp = np
"""The array namespace (``numpy`` today)."""

ndarray = np.ndarray

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_default_float = float32

_DTYPE_NAMES = {
    "float16": float16, "half": float16,
    "float32": float32, "float": float32,
    "float64": float64, "double": float64,
    "int8": int8, "int16": int16, "int32": int32, "int": int32,
    "int64": int64, "long": int64,
    "uint8": uint8, "bool": bool_,
}


def get_default_dtype() -> np.dtype:
    """The floating dtype new tensors get from Python floats (float32 unless changed).

    Example:
        >>> import dendrite
        >>> dendrite.get_default_dtype()
        dtype('float32')
    """
    return _default_float


def set_default_dtype(dtype) -> None:
    """Set the floating dtype used for tensors made from Python floats.

    Example:
        >>> import dendrite
        >>> dendrite.set_default_dtype(dendrite.float64)
        >>> dendrite.tensor([1.0]).dtype
        dtype('float64')
        >>> dendrite.set_default_dtype(dendrite.float32)
    """
    global _default_float
    dtype = as_dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype expects a floating dtype, got {dtype}")
    _default_float = dtype


def as_dtype(dtype) -> np.dtype:
    """Normalise a dtype given as a dendrite/NumPy dtype, a Python type or a name.

    Example:
        >>> from dendrite.backend import as_dtype
        >>> as_dtype("torch.long"), as_dtype(int), as_dtype(float)
        (dtype('int64'), dtype('int64'), dtype('float32'))
    """
    if isinstance(dtype, np.dtype):
        return dtype
    if dtype is builtins.float:
        return _default_float
    if dtype is builtins.int:
        return int64
    if dtype is builtins.bool:
        return bool_
    if isinstance(dtype, str):
        name = dtype.removeprefix("dendrite.").removeprefix("torch.")
        if name in _DTYPE_NAMES:
            return _DTYPE_NAMES[name]
        raise TypeError(f"unknown dtype {dtype!r}; expected one of {sorted(_DTYPE_NAMES)}")
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}; expected e.g. dendrite.float32") from None


def is_floating(dtype: np.dtype) -> bool:
    """True for float16/32/64.

    Example:
        >>> import dendrite
        >>> from dendrite.backend import is_floating
        >>> is_floating(dendrite.float16), is_floating(dendrite.int64)
        (True, False)
    """
    return dtype.kind == "f"


def result_dtype(first: np.dtype, second: np.dtype) -> np.dtype:
    """PyTorch's promotion of two tensor dtypes.

    Floats beat integers *without* widening (int64 + float32 -> float32, unlike
    NumPy's float64); otherwise the wider type wins.

    Example:
        >>> import dendrite
        >>> from dendrite.backend import result_dtype
        >>> result_dtype(dendrite.int64, dendrite.float32), result_dtype(dendrite.int8, dendrite.int32)
        (dtype('float32'), dtype('int32'))
    """
    if first == second:
        return first
    first_float, second_float = first.kind == "f", second.kind == "f"
    if first_float and not second_float:
        return first
    if second_float and not first_float:
        return second
    return np.promote_types(first, second)


# ----------------------------------------------------------------------------- randomness
# Made on first use: importing numpy.random is a tenth of `import dendrite`'s time.
_generator: np.random.Generator | None = None
_initial_seed: int | None = None  # the seed _generator started from (drawn from the OS when not given)


def seed_value(seed, who: str = "manual_seed") -> int:
    """``seed`` as PyTorch reads it: an int in [-2**63, 2**64), negatives wrapped to 64 bits.

    Example:
        >>> from dendrite.backend import seed_value
        >>> seed_value(7), seed_value(-1) == 2**64 - 1
        (7, True)
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"{who} expects an int, got {type(seed).__name__}")
    seed = int(seed)
    if not -2**63 <= seed < 2**64:
        raise ValueError(f"{who}: seed {seed} is out of range; expected -2**63 <= seed < 2**64")
    return seed % 2**64


def new_generator(seed: int | None = None) -> tuple:
    """``(seed, numpy Generator seeded with it)``; a seed drawn from the OS when ``seed`` is None.

    Example:
        >>> from dendrite.backend import new_generator
        >>> seed, rng = new_generator(3)
        >>> seed, int(rng.integers(100)) == int(new_generator(3)[1].integers(100))
        (3, True)
    """
    if seed is None:
        import os

        seed = int.from_bytes(os.urandom(8), "little")
    seed = seed_value(seed)
    return seed, np.random.default_rng(seed)


def manual_seed(seed: int) -> None:
    """Seed dendrite's global random generator (parameter init, dropout, shuffling).

    ``dendrite.manual_seed`` (:mod:`dendrite.random_generator`) calls this and
    returns the default :class:`dendrite.Generator`, as PyTorch does.

    Example:
        >>> from dendrite import backend
        >>> import dendrite
        >>> backend.manual_seed(0); a = dendrite.rand(3)
        >>> backend.manual_seed(0); b = dendrite.rand(3)
        >>> bool((a == b).all())
        True
    """
    global _generator, _initial_seed
    _initial_seed, _generator = new_generator(seed_value(seed))


def initial_seed() -> int:
    """The seed the global generator started from (:func:`manual_seed`'s, or one drawn at first use).

    Example:
        >>> from dendrite import backend
        >>> backend.manual_seed(5); backend.initial_seed()
        5
    """
    generator()
    return _initial_seed


def generator() -> np.random.Generator:
    """The global random generator (replaced by :func:`manual_seed`).

    Example:
        >>> from dendrite.backend import generator
        >>> type(generator()).__name__
        'Generator'
    """
    global _generator, _initial_seed
    if _generator is None:
        _initial_seed, _generator = new_generator()
    return _generator


def get_rng_state() -> dict:
    """A JSON-friendly snapshot of the global generator, for exact resume.

    Example:
        >>> import dendrite
        >>> state = dendrite.get_rng_state(); a = dendrite.rand(2)
        >>> dendrite.set_rng_state(state); b = dendrite.rand(2)
        >>> a.tolist() == b.tolist()
        True
    """
    return generator().bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a snapshot taken with :func:`get_rng_state`: the same random values follow.

    Example:
        >>> import dendrite
        >>> state = dendrite.get_rng_state(); a = dendrite.randint(0, 100, (3,))
        >>> dendrite.set_rng_state(state)
        >>> dendrite.randint(0, 100, (3,)).tolist() == a.tolist()
        True
    """
    generator().bit_generator.state = state
