"""PyTorch's legacy typed constructors: ``FloatTensor``, ``LongTensor``, ``BoolTensor``...

Old PyTorch code (and many tutorials) make tensors with a constructor named after
the dtype, in two forms:

* ``LongTensor([1, 2])`` — from data (a sequence, a NumPy array, a tensor of that dtype);
* ``FloatTensor(2, 3)`` — *uninitialised* memory of that shape (``dendrite.empty``).

and check dtypes with ``isinstance(x, FloatTensor)``. Both work here as in
PyTorch: each name is a class whose call returns a plain :class:`dendrite.Tensor`
(``type(FloatTensor([1])) is dendrite.Tensor``, as in PyTorch), and whose
``isinstance`` check asks the tensor's dtype (the metaclass's ``__instancecheck__``,
PyTorch's own mechanism for these names).

Example:
    >>> import dendrite
    >>> dendrite.LongTensor([1, 2])
    tensor([1, 2])
    >>> dendrite.FloatTensor(2, 3).shape, dendrite.BoolTensor([1, 0])
    ((2, 3), tensor([ True, False]))
    >>> x = dendrite.zeros(2)
    >>> isinstance(x, dendrite.FloatTensor), isinstance(x, dendrite.LongTensor)
    (True, False)
"""

from __future__ import annotations

import numbers

from dendrite import backend
from dendrite.backend import xp
from dendrite.creation import as_array, empty
from dendrite.devices import check_device
from dendrite.tensor_base import TensorBase, wrap

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
           "CharTensor", "ByteTensor", "BoolTensor"]


class LegacyTensorType(type):
    """The metaclass of the legacy constructors: calling makes a tensor, ``isinstance`` checks the dtype.

    Example:
        >>> import dendrite
        >>> type(dendrite.DoubleTensor).__name__, dendrite.DoubleTensor.dtype
        ('LegacyTensorType', dtype('float64'))
    """

    dtype: object

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, TensorBase) and instance.dtype == cls.dtype

    def __call__(cls, *args, device=None):
        check_device(device, cls.__name__)
        if not args:
            return wrap(xp.empty((0,), cls.dtype))
        if all(isinstance(arg, numbers.Integral) and not isinstance(arg, bool) for arg in args):
            if any(arg < 0 for arg in args):
                raise RuntimeError(f"{cls.__name__}{args}: trying to create a tensor with a negative "
                                   f"dimension; the ints are a shape (use {cls.__name__}([...]) for values)")
            return empty(*args, dtype=cls.dtype)
        if len(args) > 1:
            raise TypeError(f"{cls.__name__}() takes either sizes (ints) or one sequence of values, "
                            f"got {', '.join(type(arg).__name__ for arg in args)}")
        return _from_data(cls, args[0])


def _from_data(cls, data):
    name, dtype = cls.__name__, cls.dtype
    if isinstance(data, TensorBase):
        if data.dtype != dtype:  # PyTorch refuses to convert here; .to(dtype) does that
            raise TypeError(f"{name}(tensor): expected a tensor of dtype {dtype}, got {data.dtype}; "
                            f"use tensor.to(dendrite.{dtype}) to convert")
        return data
    if isinstance(data, (str, bytes)) or not isinstance(data, (list, tuple, xp.ndarray)):
        raise TypeError(f"{name}(): data must be a sequence (a list, tuple or array), got "
                        f"{type(data).__name__}")
    if dtype.kind not in "iu":
        return wrap(as_array(data, dtype))  # straight to the float/bool dtype: no float32 detour
    values = as_array(data)
    if values.size:
        info = xp.iinfo(dtype)
        if values.min() < info.min or values.max() > info.max:
            raise RuntimeError(f"{name}: value cannot be converted to type {dtype} without overflow "
                               f"(values from {values.min()} to {values.max()}; {dtype} holds {info.min} "
                               f"to {info.max})")
    return wrap(values.astype(dtype))


def _legacy(name: str, dtype) -> LegacyTensorType:
    doc = (f"``{name}(*sizes)`` (uninitialised) or ``{name}(data)``: a tensor of dtype {dtype}; "
           f"``isinstance(x, {name})`` is true for {dtype} tensors.")
    return LegacyTensorType(name, (), {"dtype": dtype, "__doc__": doc, "__module__": "dendrite"})


FloatTensor = _legacy("FloatTensor", backend.float32)
DoubleTensor = _legacy("DoubleTensor", backend.float64)
HalfTensor = _legacy("HalfTensor", backend.float16)
LongTensor = _legacy("LongTensor", backend.int64)
IntTensor = _legacy("IntTensor", backend.int32)
ShortTensor = _legacy("ShortTensor", backend.int16)
CharTensor = _legacy("CharTensor", backend.int8)
ByteTensor = _legacy("ByteTensor", backend.uint8)
BoolTensor = _legacy("BoolTensor", backend.bool_)
