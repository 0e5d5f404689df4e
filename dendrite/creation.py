"""Making tensors: from data, filled with a constant, ranges, random values.

Dtype rules follow PyTorch: Python floats give the default float dtype
(float32), Python ints give int64, bools give bool, and a NumPy array keeps
its own dtype.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.backend import xp
from dendrite.devices import resolve_device
from dendrite.random_generator import numpy_generator
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


def as_array(data, dtype=None) -> xp.ndarray:
    """A fresh backend array for ``data`` with PyTorch's dtype inference (floats -> float32, ints -> int64).

    Shapes: nested lists of equal lengths -> an array of that shape; ragged data is refused.

    Example:
        >>> from dendrite.creation import as_array
        >>> as_array([[1, 2], [3, 4]]).dtype, as_array([0.5]).dtype
        (dtype('int64'), dtype('float32'))
    """
    if isinstance(data, TensorBase):
        array = data._data.copy()
    elif isinstance(data, (xp.ndarray, xp.generic)):
        array = xp.array(data)  # NumPy arrays and scalars keep their dtype (as in PyTorch)
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(item, TensorBase) for item in _flat(data)):
            data = _tensors_to_values(data)
        try:
            array = xp.array(data)
        except ValueError as error:
            raise ValueError(f"could not make a tensor from this {type(data).__name__}: {error}") from None
        if array.dtype == object or array.dtype == xp.uint64 or (
                array.dtype.kind == "f" and array.size and abs(array).max() >= 2.0 ** 63):
            array = _big_python_ints(data, array, dtype)
        if array.dtype == object:
            raise TypeError(f"could not make a tensor from {type(data).__name__}: ragged or mixed data")
        if array.dtype.kind == "f" and dtype is None:
            array = array.astype(backend.get_default_dtype())
        elif array.dtype.kind in "iu" and dtype is None:
            array = array.astype(backend.int64)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"unsupported dtype {array.dtype} for a tensor; expected a number or bool type")
    if dtype is not None:
        array = array.astype(backend.as_dtype(dtype), copy=False)
    return array


def _big_python_ints(data, array, dtype):
    """Python ints outside int64 (NumPy makes them uint64, float64 or objects): refused as in PyTorch
    (``ValueError: Overflow when unpacking long``) unless the tensor is a float one (a float in the data,
    or a float ``dtype``), where they become floats. Only reached when the array looks out of range."""
    items = list(_flat(data)) if isinstance(data, (list, tuple)) else [data]
    if dtype is not None:
        to_float = backend.as_dtype(dtype).kind == "f"
    else:
        to_float = any(isinstance(item, float) for item in items)
    if to_float:
        return xp.array(data, dtype=xp.float64) if array.dtype == object else array
    for item in items:
        if isinstance(item, int) and not -2 ** 63 <= item < 2 ** 63:
            raise ValueError(f"tensor: Overflow when unpacking long: the Python int {item} does not fit in "
                             f"int64 (expected -2**63 <= value < 2**63; give dtype=float32 or float64 to "
                             f"store it as a float)")
    return array


def _flat(items):
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flat(item)
        else:
            yield item


def _tensors_to_values(items):
    if isinstance(items, TensorBase):
        return items._data
    if isinstance(items, (list, tuple)):
        return [_tensors_to_values(item) for item in items]
    return items


def _leaf(array, requires_grad: bool, device=None) -> Tensor:
    if device is not None and device.type != "cpu":
        array = backend.to_device(array, device.type)  # made on the host (parsing, random draws), then moved
    tensor = wrap(array)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _check_device(device, name: str):
    """The device asked for (the CPU or ``cuda:0``); raises for one that is not present."""
    return resolve_device(device, name)  # the one reader of device arguments (dendrite/devices.py)


def _module(device):
    """The array module that makes arrays on ``device``: numpy for the CPU, cupy for CUDA."""
    return xp if device.type == "cpu" else backend.device_module_or_none(device.type)


def _like_device(input, device, name: str):
    """``device`` when given, else ``input``'s own (``zeros_like(cuda_tensor)`` is on CUDA, as in PyTorch)."""
    return input.device if device is None else _check_device(device, name)


def _size(size) -> tuple:
    """Accept ``zeros(2, 3)``, ``zeros((2, 3))`` and ``zeros([2, 3])``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for dim in size:
        if not isinstance(dim, numbers.Integral) or dim < 0:
            raise ValueError(f"sizes must be non-negative integers, got {size}")
    return tuple(int(dim) for dim in size)


def _float_dtype(dtype):
    return backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, NumPy arrays, tensors).

    Shapes: nested lists -> their nesting (``[[1, 2]]`` -> (1, 2)), a number -> ``()``.
    Python floats give float32, ints int64, bools bool; NumPy arrays keep their dtype.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 2], [3, 4]]).dtype
        dtype('int64')
        >>> dendrite.tensor([0.5, 1.5], requires_grad=True)
        tensor([0.5000, 1.5000], requires_grad=True)
    """
    device = _check_device(device, "tensor")
    if isinstance(data, TensorBase) and backend.on_device(data._data):
        array = data._data.astype(data.dtype if dtype is None else backend.as_dtype(dtype), copy=True)
        return _leaf(backend.to_device(array, device.type), requires_grad)
    if backend.on_device(data):
        return _leaf(backend.to_device(data.astype(data.dtype if dtype is None else backend.as_dtype(dtype),
                                                   copy=True), device.type), requires_grad)
    return _leaf(as_array(data, dtype), requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor` but reuses ``data`` (no copy) when it already is a matching tensor or array.

    Shapes: the tensor has ``data``'s shape; the dtype is ``data``'s unless ``dtype`` is given.

    Example:
        >>> import numpy as np, dendrite
        >>> a = np.array([1.0, 2.0])
        >>> dendrite.as_tensor(a).array is a
        True
    """
    device = None if device is None else _check_device(device, "as_tensor")
    if isinstance(data, TensorBase) and (dtype is None or data.dtype == backend.as_dtype(dtype)):
        if device is None or data.device == device:
            return data
        return wrap(backend.to_device(data._data, device.type))
    if (isinstance(data, xp.ndarray) or backend.on_device(data)) and (
            dtype is None or data.dtype == backend.as_dtype(dtype)):
        return wrap(data if device is None else backend.to_device(data, device.type))
    return tensor(data, dtype, device)


def from_numpy(array: xp.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (same dtype, same strides).

    Example:
        >>> import numpy as np, dendrite
        >>> a = np.zeros(2); t = dendrite.from_numpy(a); a[0] = 5.0
        >>> t
        tensor([5., 0.], dtype=dendrite.float64)
    """
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"from_numpy: unsupported dtype {array.dtype}; expected a number or bool type")
    return wrap(array)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of shape ``size``: ``zeros(2, 3)`` or ``zeros((2, 3))``; float32 unless ``dtype``.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2, dtype=dendrite.int64)
        tensor([0, 0])
    """
    device = _check_device(device, "zeros")
    return _leaf(_module(device).zeros(_size(size), _float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of shape ``size`` (``ones(2, 3)`` or ``ones((2, 3))``); float32 unless ``dtype``.

    Example:
        >>> import dendrite
        >>> dendrite.ones(2)
        tensor([1., 1.])
    """
    device = _check_device(device, "ones")
    return _leaf(_module(device).ones(_size(size), _float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of shape ``size`` (values: whatever memory held); float32 unless ``dtype``.

    Example:
        >>> import dendrite
        >>> dendrite.empty(2, 3).shape
        (2, 3)
    """
    device = _check_device(device, "empty")
    return _leaf(_module(device).empty(_size(size), _float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value`` (dtype from the value: 7 int64, 0.5 float32).

    Example:
        >>> import dendrite
        >>> dendrite.full((2, 2), 7)
        tensor([[7, 7],
                [7, 7]])
    """
    device = _check_device(device, "full")
    if dtype is None:
        dtype = as_array(fill_value).dtype
    size = (size,) if isinstance(size, numbers.Integral) else size
    return _leaf(_module(device).full(_size((size,)), fill_value, backend.as_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """From ``start`` up to ``end`` (excluded) by ``step``: shape ``(ceil((end-start)/step),)``.

    Integers give int64, any float argument gives float32, as in PyTorch.

    Example:
        >>> import dendrite
        >>> dendrite.arange(3), dendrite.arange(1, 10, 3)
        (tensor([0, 1, 2]), tensor([1, 4, 7]))
        >>> dendrite.arange(0, 1, 0.25)
        tensor([0.0000, 0.2500, 0.5000, 0.7500])
    """
    device = _check_device(device, "arange")
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = backend.int64 if is_int else backend.get_default_dtype()
    return _leaf(xp.arange(start, end, step).astype(backend.as_dtype(dtype)), requires_grad, device)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive: shape ``(steps,)``, float32.

    Example:
        >>> import dendrite
        >>> dendrite.linspace(0, 1, 5)
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    device = _check_device(device, "linspace")
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    # PyTorch's formula: from the start for the first half, from the end for the second, each a
    # fused multiply-add (emulated by extended precision), so we match it to the last bit.
    dtype = _float_dtype(dtype)
    work = dtype if dtype.kind == "f" else xp.dtype(xp.float64)  # PyTorch steps in the output's float type
    start, end = work.type(start), work.type(end)
    step = (end - start) / work.type(max(steps - 1, 1))
    position = xp.arange(steps, dtype=xp.longdouble)
    start, end, step = xp.longdouble(start), xp.longdouble(end), xp.longdouble(step)
    values = xp.where(position < steps // 2, start + step * position, end - step * (steps - 1 - position))
    if steps == 1:
        values = xp.asarray([start])
    return _leaf(values.astype(dtype), requires_grad, device)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``: shape ``(steps,)``, float32.

    Example:
        >>> import dendrite
        >>> dendrite.logspace(0, 2, 3)
        tensor([  1.,  10., 100.])
    """
    device = _check_device(device, "logspace")
    return _leaf(xp.logspace(start, end, steps, base=base).astype(_float_dtype(dtype)), requires_grad, device)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """The identity matrix: shape ``(n, m)`` (``(n, n)`` when ``m`` is omitted), ones on the diagonal.

    Example:
        >>> import dendrite
        >>> dendrite.eye(2, 3)
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    device = _check_device(device, "eye")
    for name, value in (("n", n), ("m", m)):
        if value is None and name == "m":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, xp.integer)):
            raise TypeError(f"eye(): argument '{name}' must be an int, not {type(value).__name__}")
        if value < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {value}")
    return _leaf(_module(device).eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform random values in [0, 1) of shape ``size``, from ``generator`` or dendrite's global one.

    Example:
        >>> import dendrite
        >>> x = dendrite.rand(2, 3)
        >>> x.shape, x.dtype, bool(((x >= 0) & (x < 1)).all())
        ((2, 3), dtype('float32'), True)
    """
    device = _check_device(device, "rand")
    array = numpy_generator(generator, "rand").random(_size(size)).astype(_float_dtype(dtype))
    return _leaf(array, requires_grad, device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal random values (mean 0, std 1) of shape ``size``, from dendrite's generator.

    Example:
        >>> import dendrite
        >>> dendrite.randn(2, 3).shape
        (2, 3)
    """
    device = _check_device(device, "randn")
    array = numpy_generator(generator, "randn").standard_normal(_size(size)).astype(_float_dtype(dtype))
    return _leaf(array, requires_grad, device)


def randint(low, high=None, size=(), *, generator=None, dtype=None, device=None) -> Tensor:
    """Random integers in [low, high) of shape ``size``, int64; ``randint(10, (3,))`` means low=0, high=10.

    Example:
        >>> import dendrite
        >>> x = dendrite.randint(0, 5, (2, 2))
        >>> x.shape, x.dtype, bool(((x >= 0) & (x < 5)).all())
        ((2, 2), dtype('int64'), True)
    """
    device = _check_device(device, "randint")
    if high is None or (isinstance(high, (tuple, list)) and size == ()):
        if isinstance(high, (tuple, list)):
            size = high
        low, high = 0, low
    if isinstance(size, numbers.Integral):
        size = (size,)
    if low >= high:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    array = numpy_generator(generator, "randint").integers(low, high, size=tuple(size))
    return _leaf(array.astype(backend.int64 if dtype is None else backend.as_dtype(dtype)), False, device)


def randperm(n: int, *, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of ``0 .. n-1``: shape ``(n,)``, int64.

    Example:
        >>> import dendrite
        >>> sorted(dendrite.randperm(4).tolist())
        [0, 1, 2, 3]
    """
    device = _check_device(device, "randperm")
    if isinstance(n, bool) or not isinstance(n, (int, xp.integer)):
        raise TypeError(f"randperm(): argument 'n' must be an int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    array = numpy_generator(generator, "randperm").permutation(n)
    return _leaf(array.astype(backend.int64 if dtype is None else backend.as_dtype(dtype)), False, device)


def normal(mean: float, std: float, size, *, generator=None, dtype=None, device=None) -> Tensor:
    """Normal random values with the given ``mean`` and standard deviation ``std``, of shape ``size``.

    Example:
        >>> import dendrite
        >>> dendrite.normal(0.0, 2.0, (2, 3)).shape
        (2, 3)
    """
    device = _check_device(device, "normal")
    size = (size,) if isinstance(size, numbers.Integral) else size
    array = numpy_generator(generator, "normal").normal(mean, std, _size((size,))).astype(_float_dtype(dtype))
    return _leaf(array, False, device)


def _like_dtype(other: Tensor, dtype):
    return other.dtype if dtype is None else backend.as_dtype(dtype)


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``input``'s shape and dtype (or ``dtype``).

    Example:
        >>> import dendrite
        >>> dendrite.zeros_like(dendrite.tensor([[1, 2]]))
        tensor([[0, 0]])
    """
    device = _like_device(input, device, "zeros_like")
    return _leaf(_module(device).zeros(input.shape, _like_dtype(input, dtype)), requires_grad)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones with ``input``'s shape and dtype (or ``dtype``).

    Example:
        >>> import dendrite
        >>> dendrite.ones_like(dendrite.tensor([[1, 2]]), dtype=dendrite.float32)
        tensor([[1., 1.]])
    """
    device = _like_device(input, device, "ones_like")
    return _leaf(_module(device).ones(input.shape, _like_dtype(input, dtype)), requires_grad)


def empty_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor with ``input``'s shape and dtype (or ``dtype``).

    Example:
        >>> import dendrite
        >>> dendrite.empty_like(dendrite.zeros(2, 3)).shape
        (2, 3)
    """
    device = _like_device(input, device, "empty_like")
    return _leaf(_module(device).empty(input.shape, _like_dtype(input, dtype)), requires_grad)


def full_like(input: Tensor, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with ``input``'s shape and dtype (or ``dtype``).

    Example:
        >>> import dendrite
        >>> dendrite.full_like(dendrite.tensor([1, 2]), 7)
        tensor([7, 7])
    """
    device = _like_device(input, device, "full_like")
    return _leaf(_module(device).full(input.shape, fill_value, _like_dtype(input, dtype)), requires_grad)


def rand_like(input: Tensor, *, generator=None, dtype=None, device=None,
              requires_grad: bool = False) -> Tensor:
    """Uniform random values in [0, 1) with ``input``'s shape and dtype (or ``dtype``).

    Example:
        >>> import dendrite
        >>> dendrite.rand_like(dendrite.zeros(2, 3)).shape
        (2, 3)
    """
    device = _like_device(input, device, "rand_like")
    array = numpy_generator(generator, "rand_like").random(input.shape).astype(_like_dtype(input, dtype))
    return _leaf(array, requires_grad, device)


def randn_like(input: Tensor, *, generator=None, dtype=None, device=None,
               requires_grad: bool = False) -> Tensor:
    """Standard normal random values with ``input``'s shape and dtype (or ``dtype``).

    Example:
        >>> import dendrite
        >>> dendrite.randn_like(dendrite.zeros(2, 3)).shape
        (2, 3)
    """
    device = _like_device(input, device, "randn_like")
    array = numpy_generator(generator, "randn_like").standard_normal(input.shape)
    array = array.astype(_like_dtype(input, dtype))
    return _leaf(array, requires_grad, device)


def randint_like(input: Tensor, low, high=None, *, generator=None, dtype=None, device=None) -> Tensor:
    """Random integers in [low, high) with ``input``'s shape (``input``'s dtype unless given).

    Example:
        >>> import dendrite
        >>> x = dendrite.randint_like(dendrite.tensor([[1, 2]]), 5)
        >>> x.shape, x.dtype
        ((1, 2), dtype('int64'))
    """
    device = _like_device(input, device, "randint_like")
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=_like_dtype(input, dtype),
                   device=device)
