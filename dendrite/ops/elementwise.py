"""Element-wise arithmetic: + - * / ** %, negation, dtype casts and copies.

Each ``Function`` below is one line of a table of derivatives: ``forward``
computes the value, ``backward`` multiplies the incoming gradient by the local
derivative. Binary operations broadcast like NumPy/PyTorch; ``unbroadcast``
sums the gradient back to each input's own shape.

Type promotion follows PyTorch (see :func:`operands`): int64 tensor * 2.5 is
float32, float32 + float64 is float64, int / int is float32, and a 0-d tensor
does not widen a tensor with dimensions of the same kind.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import ndarray, xp
from dendrite.tensor import Tensor, wrap

# PyTorch's dtype categories: a higher category wins a promotion regardless of width.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def unbroadcast(grad: xp.ndarray, shape: tuple) -> xp.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _shape(value) -> tuple:
    return value.shape if isinstance(value, ndarray) else ()


def _check_broadcast(name: str, a, b) -> None:
    try:
        xp.broadcast_shapes(_shape(a), _shape(b))
    except ValueError:
        raise RuntimeError(
            f"{name}: shapes {tuple(_shape(a))} and {tuple(_shape(b))} cannot be broadcast together "
            "(sizes must match or be 1, aligned from the right)"
        ) from None


def promote_arrays(a: xp.ndarray, b: xp.ndarray):
    """The dtype PyTorch gives ``a op b`` for two tensors' arrays.

    A 0-d tensor only decides the result when it is of a higher category
    (bool < integer < float) than the tensor with dimensions.
    """
    if (a.ndim == 0) != (b.ndim == 0):
        dimmed, zero = (a.dtype, b.dtype) if b.ndim == 0 else (b.dtype, a.dtype)
        if _CATEGORY[zero.kind] <= _CATEGORY[dimmed.kind]:
            return dimmed
        return zero
    return backend.result_dtype(a.dtype, b.dtype)


def operands(a, b):
    """Make ``a`` and ``b`` ready for a binary op with PyTorch's type promotion.

    Tensors of the same dtype pass straight through (the hot path). A Python
    number stays a number (NumPy then keeps the tensor's dtype), but a float
    number turns an integer or bool tensor into the default float dtype, and
    an int number turns a bool tensor into int64. NumPy scalars count as
    Python numbers, NumPy arrays as tensors.
    """
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            a_dtype, b_dtype = a._data.dtype, b._data.dtype
            if a_dtype is b_dtype or a_dtype == b_dtype:
                return a, b
            common = promote_arrays(a._data, b._data)
            return cast(a, common), cast(b, common)
        return _with_scalar(a, b, tensor_first=True)
    if isinstance(b, Tensor):
        return _with_scalar(b, a, tensor_first=False)
    raise TypeError(
        f"expected at least one tensor operand, got {type(a).__name__} and {type(b).__name__}"
    )


def _with_scalar(tensor: Tensor, value, tensor_first: bool):
    if isinstance(value, ndarray):
        value = wrap(value)
        return operands(tensor, value) if tensor_first else operands(value, tensor)
    if isinstance(value, xp.generic):
        value = value.item()
    kind = tensor._data.dtype.kind
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if kind == "b":
            tensor = cast(tensor, backend.int64)
    elif isinstance(value, float):
        if kind != "f":
            tensor = cast(tensor, backend.get_default_dtype())
    else:
        raise TypeError(
            f"unsupported operand type {type(value).__name__} for a tensor operation; "
            "expected a Tensor, a Python number or a NumPy array"
        )
    return (tensor, value) if tensor_first else (value, tensor)


def _to_float(value):
    """Integer and bool tensors become the default float dtype (for true division, exp, ...)."""
    if isinstance(value, Tensor) and value._data.dtype.kind != "f":
        return cast(value, backend.get_default_dtype())
    return value


def _apply(function, name: str, a, b) -> Tensor:
    """Run a broadcasting binary ``function``; explain NumPy's shape error in PyTorch's terms."""
    try:
        return function.apply(a, b)
    except ValueError:
        _check_broadcast(name, _data(a), _data(b))
        raise


# ----------------------------------------------------------------------------- dtype cast and copy
class Cast(Function):
    def forward(self, x, dtype):
        self.input_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.input_dtype) if self.input_dtype.kind == "f" else None


def cast(x: Tensor, dtype) -> Tensor:
    """``x`` converted to ``dtype`` (differentiable between float dtypes)."""
    dtype = backend.as_dtype(dtype)
    if x._data.dtype == dtype:
        return x
    return Cast.apply(x, dtype=dtype)


class Clone(Function):
    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return grad


def clone(x: Tensor) -> Tensor:
    """A copy with its own memory; the gradient flows back unchanged.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> x.clone()
        tensor([1., 2.], grad_fn=<CloneBackward>)
    """
    return Clone.apply(x)


# ----------------------------------------------------------------------------- arithmetic
class Add(Function):
    def forward(self, a, b):
        self.shapes = (_shape(a), _shape(b))
        return a + b

    def backward(self, grad):
        needs = self.needs_input_grad
        return (unbroadcast(grad, self.shapes[0]) if needs[0] else None,
                unbroadcast(grad, self.shapes[1]) if needs[1] else None)


class Sub(Function):
    def forward(self, a, b):
        self.shapes = (_shape(a), _shape(b))
        return a - b

    def backward(self, grad):
        needs = self.needs_input_grad
        return (unbroadcast(grad, self.shapes[0]) if needs[0] else None,
                unbroadcast(-grad, self.shapes[1]) if needs[1] else None)


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        a, b = self.a, self.b
        needs = self.needs_input_grad
        return (unbroadcast(grad * b, _shape(a)) if needs[0] else None,
                unbroadcast(grad * a, _shape(b)) if needs[1] else None)


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, grad):
        a, b = self.a, self.b
        needs = self.needs_input_grad
        grad_a = unbroadcast(grad / b, _shape(a)) if needs[0] else None
        grad_b = unbroadcast(-grad * a / (b * b), _shape(b)) if needs[1] else None
        return grad_a, grad_b


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class Pow(Function):
    """``base ** exponent``; either side may be a plain number."""

    def forward(self, base, exponent):
        self.base, self.exponent = base, exponent
        self.result = xp.power(base, exponent)
        return self.result

    def backward(self, grad):
        base, exponent, result = self.base, self.exponent, self.result
        grad_base = grad_exponent = None
        if self.needs_input_grad[0]:
            if not isinstance(exponent, ndarray):
                # A number: d/dx x**0 is 0 everywhere, even at x = 0 (PyTorch's convention).
                if exponent == 0:
                    local = xp.zeros_like(base)
                else:
                    local = exponent * base if exponent == 2 else exponent * xp.power(base, exponent - 1)
            else:
                with xp.errstate(divide="ignore", invalid="ignore"):
                    local = xp.where(exponent == 0, 0, exponent * xp.power(base, exponent - 1))
            grad_base = unbroadcast(grad * local.astype(grad.dtype, copy=False), _shape(base))
        if self.needs_input_grad[1]:
            with xp.errstate(divide="ignore", invalid="ignore"):
                local = result * xp.log(base)
            # 0 ** y with y >= 0 has gradient 0 w.r.t. y (again PyTorch's convention).
            local = xp.where((base == 0) & (exponent >= 0), 0, local).astype(grad.dtype, copy=False)
            grad_exponent = unbroadcast(grad * local, _shape(exponent))
        return grad_base, grad_exponent


class Remainder(Function):
    """``a % b`` with the sign of ``b`` (Python's and PyTorch's ``remainder``)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.remainder(a, b)

    def backward(self, grad):
        a, b = self.a, self.b
        needs = self.needs_input_grad
        grad_a = unbroadcast(grad, _shape(a)) if needs[0] else None
        grad_b = unbroadcast(-grad * xp.floor_divide(a, b), _shape(b)) if needs[1] else None
        return grad_a, grad_b


class Fmod(Function):
    """C's ``fmod``: the remainder with the sign of ``a``."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.fmod(a, b)

    def backward(self, grad):
        a, b = self.a, self.b
        needs = self.needs_input_grad
        grad_a = unbroadcast(grad, _shape(a)) if needs[0] else None
        grad_b = unbroadcast(-grad * xp.trunc(a / b), _shape(b)) if needs[1] else None
        return grad_a, grad_b


class FloorDivide(Function):
    """``a // b``: piecewise constant, so its gradient is zero."""

    def forward(self, a, b):
        self.shapes = (_shape(a), _shape(b))
        return xp.floor_divide(a, b)

    def backward(self, grad):
        return tuple(xp.zeros(shape, grad.dtype) for shape in self.shapes)


def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other`` with broadcasting.

    Example: ``dendrite.add(x, 1.0)``; shapes (N, C) and (C,) give (N, C).
    """
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    a, b = operands(input, other)
    try:
        return Add.apply(a, b)
    except ValueError:
        _check_broadcast("add", _data(a), _data(b))
        raise


def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other`` with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    a, b = operands(input, other)  # bool - bool: NumPy's TypeError says to use logical_xor
    return _apply(Sub, "sub", a, b)


def mul(input, other) -> Tensor:
    """``input * other`` with broadcasting."""
    a, b = operands(input, other)
    try:
        return Mul.apply(a, b)
    except ValueError:
        _check_broadcast("mul", _data(a), _data(b))
        raise


def _integer_operands(a, b) -> bool:
    return all(
        value._data.dtype.kind != "f" if isinstance(value, Tensor) else not isinstance(value, float)
        for value in (a, b)
    )


def div(input, other, *, rounding_mode=None) -> Tensor:
    """True division (integers give floats); ``rounding_mode='floor'`` or ``'trunc'`` rounds.

    Example: ``dendrite.tensor([3]) / 2`` is ``tensor([1.5000])`` (float32).
    """
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        a, b = operands(input, other)
        if _integer_operands(a, b):  # integers stay integers, computed exactly
            dtype = (a if isinstance(a, Tensor) else b)._data.dtype
            return wrap(xp.asarray(xp.trunc(xp.true_divide(_data(a), _data(b)))).astype(dtype))
        from dendrite.ops.piecewise import trunc

        return trunc(div(a, b))
    if rounding_mode is not None:
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    a, b = operands(_to_float(input), _to_float(other))
    return _apply(Div, "div", a, b)


def true_divide(input, other) -> Tensor:
    """Alias of :func:`div`."""
    return div(input, other)


def neg(input: Tensor) -> Tensor:
    """``-input``."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("neg: negating a bool tensor is not supported; use ~ or logical_not()")
    return Neg.apply(input)


def pow(input, exponent) -> Tensor:
    """``input ** exponent``; either may be a plain number. Example: ``x ** 2``, ``2 ** x``."""
    base, exponent = operands(input, exponent)
    if isinstance(base, Tensor) and base._data.dtype.kind in "iub" and isinstance(exponent, int) \
            and exponent < 0:
        raise RuntimeError("pow: integers to negative integer powers are not allowed")
    return _apply(Pow, "pow", base, exponent)


def remainder(input, other) -> Tensor:
    """``input % other``, with the sign of ``other`` (differentiable)."""
    a, b = operands(input, other)
    return _apply(Remainder, "remainder", a, b)


def fmod(input, other) -> Tensor:
    """Remainder with the sign of ``input`` (C's fmod)."""
    a, b = operands(input, other)
    return _apply(Fmod, "fmod", a, b)


def floor_divide(input, other) -> Tensor:
    """``input // other``, rounded towards minus infinity (zero gradient)."""
    a, b = operands(input, other)
    return _apply(FloorDivide, "floor_divide", a, b)


def _data(value):
    return value._data if isinstance(value, Tensor) else value
