"""``out=``: write an operation's result into a tensor the caller already has, as PyTorch's ``out=``.

``dendrite.add(x, y, out=z)`` computes ``x + y`` and writes it into ``z``'s
memory (views of ``z`` see it, its version goes up) and returns ``z``. The rules
are PyTorch's:

* ``z`` is resized when its shape differs from the result's (a fresh array; with
  PyTorch's warning when ``z`` was not empty);
* the result's dtype must be castable to ``z``'s (float into an int ``out``
  raises, int into a float ``out`` is fine);
* when grad mode is on and an input (or ``out``) requires grad, it raises:
  functions with ``out=`` are not differentiable. Inside ``no_grad()`` it writes.

The op boundary (:mod:`dendrite.ops.boundary`) routes a call with ``out=`` here
for the operations named in :data:`OUT_OPS`; the operations themselves know
nothing about it.
"""

from __future__ import annotations

import warnings

from dendrite import backend
from dendrite.autograd.grad_mode import state
from dendrite.autograd.versions import bump
from dendrite.backend import xp
from dendrite.tensor_base import TensorBase

__all__ = ["OUT_OPS", "call_with_out"]

# The public operations that take ``out=`` (PyTorch's common ones).
OUT_OPS = frozenset({
    "add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "neg", "pow",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal", "square",
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "sigmoid", "lerp",
    "logaddexp", "hypot", "erf", "abs", "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum",
    "where", "floor", "ceil", "round", "trunc", "frac", "sign", "sgn",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "sum", "mean", "prod", "amax", "amin", "cumsum", "cumprod", "logsumexp",
    "cat", "concat", "concatenate", "stack", "hstack", "vstack",
    "matmul", "mm", "mv", "bmm", "dot", "outer", "addmm",
})


def _requires_grad(values) -> bool:
    for value in values:
        if isinstance(value, TensorBase):
            if value.requires_grad:
                return True
        elif isinstance(value, (list, tuple)) and _requires_grad(value):
            return True
    return False


def call_with_out(function, op: str, args: tuple, kwargs: dict):
    """Run ``function(*args, **kwargs)`` and write the result into ``kwargs["out"]``; returns that tensor.

    Shapes: ``out`` takes the result's shape (resized if needed) and keeps its dtype.

    Example:
        >>> import dendrite
        >>> z = dendrite.empty(0)
        >>> dendrite.add(dendrite.tensor([1.0, 2.0]), 1, out=z) is z, z
        (True, tensor([2., 3.]))
    """
    out = kwargs.pop("out")
    if out is None:
        return function(*args, **kwargs)
    if not isinstance(out, TensorBase):
        raise TypeError(f"{op}(): argument 'out' must be a Tensor, not {type(out).__name__}")
    if state.grad_enabled and (out.requires_grad or _requires_grad(args) or _requires_grad(kwargs.values())):
        raise RuntimeError(
            f"{op}(): functions with out=... arguments don't support automatic differentiation, but one of "
            "the arguments requires grad. Call it inside dendrite.no_grad(), or drop out= and use the result."
        )
    result = function(*args, **kwargs)
    if not isinstance(result, TensorBase):
        raise TypeError(f"{op}(): out= takes one tensor, and {op} returns {type(result).__name__}")
    values, data = result._data, out._data
    if not xp.can_cast(values.dtype, data.dtype, "same_kind"):
        raise RuntimeError(
            f"{op}(): result type {values.dtype} can't be cast to the desired output type {data.dtype} "
            "(out= keeps its dtype; pass an out of the result's dtype)"
        )
    if data.shape != values.shape:
        if data.size:
            warnings.warn(
                f"{op}(): An output with one or more elements was resized since it had shape "
                f"{list(data.shape)}, which does not match the required output shape {list(values.shape)}. "
                "Resize it to zero elements first (or pass an out of the right shape).",
                UserWarning, stacklevel=3)
        out._data = values.astype(data.dtype, copy=True)  # new memory: no longer a view of anything
        out._view = None
    else:
        if not backend.writeable(data):
            raise RuntimeError(f"{op}(): out= is a read-only (expanded or broadcast) view; pass a tensor "
                               "with its own memory")
        xp.copyto(data, values, casting="unsafe")
    bump(out._data)
    return out
