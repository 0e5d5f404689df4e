"""Comparisons and logic: ==, <, &, isnan, allclose ... (bool results, no gradient).

The results are bool tensors outside the graph, as in PyTorch: a comparison
is piecewise constant, so nothing flows back through it.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.backend import xp
from dendrite.ops.operands import check_broadcast, promote_arrays
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


def _operand(value):
    if isinstance(value, TensorBase):
        return value._data
    if isinstance(value, (numbers.Number, xp.generic)) or backend.is_array(value):
        return value
    return None


def _operand_or_raise(name: str, value):
    """The array (or number) of an operand of a public comparison; anything else is a TypeError, as in
    PyTorch (never ``NotImplemented``, which is truthy: only the operators answer that)."""
    data = _operand(value)
    if data is None:
        raise TypeError(f"{name}: unsupported operand type {type(value).__name__}; expected a Tensor or a "
                        f"Python number (as in PyTorch, a list is not converted: wrap it in dendrite.tensor)")
    return data


def _compare(ufunc, name: str, a, b):
    a_data, b_data = _operand_or_raise(name, a), _operand_or_raise(name, b)
    if backend.is_array(a_data) and backend.is_array(b_data) and a_data.dtype != b_data.dtype:
        # compared in the promoted dtype, as PyTorch (a 0-d float64 beside float32 is rounded first)
        common = promote_arrays(a_data, b_data)
        a_data, b_data = a_data.astype(common, copy=False), b_data.astype(common, copy=False)
    elif isinstance(a_data, float) and backend.is_array(b_data) and b_data.dtype.kind != "f":
        b_data = b_data.astype(backend.get_default_dtype())  # int tensor == 0.5: compared in float32
    elif isinstance(b_data, float) and backend.is_array(a_data) and a_data.dtype.kind != "f":
        a_data = a_data.astype(backend.get_default_dtype())
    try:
        return wrap(backend.asarray(ufunc(a_data, b_data)))
    except TypeError:  # NumPy's ufunc message names neither the op nor the dtypes as PyTorch does
        kinds = [backend.asarray(v).dtype for v in (a_data, b_data)]
        raise NotImplementedError(
            f"{name}: not implemented for {kinds[0]} and {kinds[1]} (it takes integer or bool tensors)"
        ) from None
    except ValueError:
        check_broadcast(name, a_data, b_data)
        raise


def operator(ufunc, name: str, dunder: str, reflected: bool = False):
    """The Python operator ``dunder`` (``"ge"``, ``"rand"`` ...) for the comparison ``name``:
    ``NotImplemented`` for an operand it cannot take, so that Python raises its TypeError (or, for
    ``==``/``!=``, answers by identity: ``x == None`` is False), as PyTorch's operators do. The public
    functions raise instead. The work goes through ``_compare`` (which the ONNX tracer watches).

    Example:
        >>> import dendrite, numpy as np
        >>> from dendrite.ops.comparison import operator
        >>> ge = operator(np.greater_equal, "ge", "ge")
        >>> ge(dendrite.tensor([1, 2]), 2), ge(dendrite.tensor([1, 2]), [1, 3])
        (tensor([False,  True]), NotImplemented)
    """

    def method(self, other):
        if _operand(other) is None:
            return NotImplemented
        return _compare(ufunc, name, other, self) if reflected else _compare(ufunc, name, self, other)

    method.__name__ = f"__{dunder}__"
    return method


def eq(input: Tensor, other) -> Tensor:
    """``input == other`` element-wise (bool, outside the graph); ``(x == 0).sum()`` counts zeros.

    Shapes: ``input`` and ``other`` (tensor or number) broadcast -> bool, of the broadcast shape.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 2], [3, 1]]) == dendrite.tensor([1, 2])
        tensor([[ True,  True],
                [False, False]])
    """
    return _compare(xp.equal, "eq", input, other)


def ne(input: Tensor, other) -> Tensor:
    """``input != other`` element-wise (bool, outside the graph).

    Shapes: ``input`` and ``other`` (tensor or number) broadcast -> bool, of the broadcast shape.

    Example:
        >>> import dendrite
        >>> dendrite.ne(dendrite.tensor([1, 2, 3]), 2)
        tensor([ True, False,  True])
    """
    return _compare(xp.not_equal, "ne", input, other)


def lt(input: Tensor, other) -> Tensor:
    """``input < other`` element-wise (bool, outside the graph).

    Shapes: ``input`` and ``other`` (tensor or number) broadcast -> bool, of the broadcast shape.

    Example:
        >>> import dendrite
        >>> dendrite.lt(dendrite.tensor([1, 2, 3]), 2)
        tensor([ True, False, False])
    """
    return _compare(xp.less, "lt", input, other)


def le(input: Tensor, other) -> Tensor:
    """``input <= other`` element-wise (bool, outside the graph).

    Shapes: ``input`` and ``other`` (tensor or number) broadcast -> bool, of the broadcast shape.

    Example:
        >>> import dendrite
        >>> dendrite.le(dendrite.tensor([1, 2, 3]), 2)
        tensor([ True,  True, False])
    """
    return _compare(xp.less_equal, "le", input, other)


def gt(input: Tensor, other) -> Tensor:
    """``input > other`` element-wise (bool, outside the graph).

    Shapes: ``input`` and ``other`` (tensor or number) broadcast -> bool, of the broadcast shape.

    Example:
        >>> import dendrite
        >>> dendrite.gt(dendrite.tensor([1, 2, 3]), 2)
        tensor([False, False,  True])
    """
    return _compare(xp.greater, "gt", input, other)


def ge(input: Tensor, other) -> Tensor:
    """``input >= other`` element-wise (bool, outside the graph).

    Shapes: ``input`` and ``other`` (tensor or number) broadcast -> bool, of the broadcast shape.

    Example:
        >>> import dendrite
        >>> dendrite.ge(dendrite.tensor([1, 2, 3]), 2)
        tensor([False,  True,  True])
    """
    return _compare(xp.greater_equal, "ge", input, other)


def logical_and(input: Tensor, other: Tensor) -> Tensor:
    """True where both are non-zero.

    Shapes: ``input`` and ``other`` (tensor or number) broadcast -> bool, of the broadcast shape.

    Example:
        >>> import dendrite
        >>> dendrite.logical_and(dendrite.tensor([0, 1, 2]), dendrite.tensor([1, 1, 0]))
        tensor([False,  True, False])
    """
    return _compare(xp.logical_and, "logical_and", input, other)


def logical_or(input: Tensor, other: Tensor) -> Tensor:
    """True where either is non-zero.

    Shapes: ``input`` and ``other`` (tensor or number) broadcast -> bool, of the broadcast shape.

    Example:
        >>> import dendrite
        >>> dendrite.logical_or(dendrite.tensor([0, 1, 0]), dendrite.tensor([0, 0, 3]))
        tensor([False,  True,  True])
    """
    return _compare(xp.logical_or, "logical_or", input, other)


def logical_xor(input: Tensor, other: Tensor) -> Tensor:
    """True where exactly one is non-zero.

    Shapes: ``input`` and ``other`` (tensor or number) broadcast -> bool, of the broadcast shape.

    Example:
        >>> import dendrite
        >>> dendrite.logical_xor(dendrite.tensor([0, 1, 1]), dendrite.tensor([0, 0, 3]))
        tensor([False,  True, False])
    """
    return _compare(xp.logical_xor, "logical_xor", input, other)


def logical_not(input: Tensor) -> Tensor:
    """True where ``input`` is zero (bool, same shape).

    Example:
        >>> import dendrite
        >>> dendrite.logical_not(dendrite.tensor([0.0, 2.0]))
        tensor([ True, False])
    """
    return wrap(xp.logical_not(input._data))


def bitwise_not(input: Tensor) -> Tensor:
    """``~input``: logical not for bool tensors, bit flip for integer tensors (same shape and dtype).

    Example:
        >>> import dendrite
        >>> ~dendrite.tensor([True, False]), ~dendrite.tensor([0, 5])
        (tensor([False,  True]), tensor([-1, -6]))
    """
    if input._data.dtype.kind == "f":
        raise TypeError("bitwise_not (~) is only defined for bool and integer tensors, got a float tensor")
    return wrap(backend.asarray(xp.invert(input._data)))


def bitwise_and(input, other) -> Tensor:
    """``input & other``: logical and for bool tensors, bitwise for integer tensors.

    Shapes: ``input`` and ``other`` broadcast; the dtype is the promoted one.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([True, True]) & dendrite.tensor([True, False]), dendrite.tensor([6]) & 3
        (tensor([ True, False]), tensor([2]))
    """
    return _compare(xp.bitwise_and, "bitwise_and", input, other)


def bitwise_or(input, other) -> Tensor:
    """``input | other``: logical or for bool tensors, bitwise for integer tensors.

    Shapes: ``input`` and ``other`` broadcast; the dtype is the promoted one.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([True, False]) | dendrite.tensor([False, False]), dendrite.tensor([4]) | 1
        (tensor([ True, False]), tensor([5]))
    """
    return _compare(xp.bitwise_or, "bitwise_or", input, other)


def bitwise_xor(input, other) -> Tensor:
    """``input ^ other``: logical xor for bool tensors, bitwise for integer tensors.

    Shapes: ``input`` and ``other`` broadcast; the dtype is the promoted one.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([True, True]) ^ dendrite.tensor([True, False]), dendrite.tensor([6]) ^ 3
        (tensor([False,  True]), tensor([5]))
    """
    return _compare(xp.bitwise_xor, "bitwise_xor", input, other)


def isnan(input: Tensor) -> Tensor:
    """True where the value is NaN (bool, same shape).

    Example:
        >>> import dendrite
        >>> dendrite.isnan(dendrite.tensor([1.0, float("nan")]))
        tensor([False,  True])
    """
    return wrap(backend.asarray(xp.isnan(input._data)))


def isinf(input: Tensor) -> Tensor:
    """True where the value is +-Inf (bool, same shape).

    Example:
        >>> import dendrite
        >>> dendrite.isinf(dendrite.tensor([1.0, float("-inf")]))
        tensor([False,  True])
    """
    return wrap(backend.asarray(xp.isinf(input._data)))


def isfinite(input: Tensor) -> Tensor:
    """True where the value is neither NaN nor Inf (bool, same shape).

    Example:
        >>> import dendrite
        >>> dendrite.isfinite(dendrite.tensor([1.0, float("inf"), float("nan")]))
        tensor([ True, False, False])
    """
    return wrap(backend.asarray(xp.isfinite(input._data)))


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> Tensor:
    """``|input - other| <= atol + rtol * |other|`` element-wise (bool, of the broadcast shape).

    Example:
        >>> import dendrite
        >>> dendrite.isclose(dendrite.tensor([1.0, 1.1]), dendrite.tensor([1.0, 1.0]))
        tensor([ True, False])
    """
    a, b = _operand_or_raise("isclose", input), _operand_or_raise("isclose", other)
    return wrap(backend.asarray(xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and values (a Python bool; no broadcasting).

    Example:
        >>> import dendrite
        >>> a = dendrite.tensor([1, 2])
        >>> dendrite.equal(a, dendrite.tensor([1, 2])), dendrite.equal(a, dendrite.tensor([1, 2, 3]))
        (True, False)
    """
    a, b = _operand_or_raise("equal", input), _operand_or_raise("equal", other)
    return xp.shape(a) == xp.shape(b) and bool(xp.array_equal(a, b))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> bool:
    """True when every element is close (see :func:`isclose`; shapes broadcast); a Python bool.

    Example:
        >>> import dendrite
        >>> dendrite.allclose(dendrite.tensor([1.0, 2.0]), dendrite.tensor([1.0, 2.0 + 1e-6]))
        True
    """
    return bool(xp.allclose(_operand_or_raise("allclose", input), _operand_or_raise("allclose", other),
                            rtol=rtol, atol=atol, equal_nan=equal_nan))
