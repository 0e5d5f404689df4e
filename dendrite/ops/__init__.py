"""Every differentiable operation, as functions; the same functions become Tensor methods.

``dendrite.ops`` is grouped by family: ``elementwise`` (arithmetic, casts),
``comparison`` (==, <, logic), ``math`` (exp, log, tanh...), ``piecewise``
(abs, relu, clamp, maximum, where, floor...), ``reduce`` (sum, max, var...),
``softmax``, ``cumulative``, ``sorting``, ``movement`` (reshape, permute...),
``joining`` (cat, stack, split...), ``indexing`` (x[...], gather, scatter),
``linalg`` (matmul, einsum, tril...), ``special`` (erf) and ``inplace`` (add_, zero_...).

The end of this file binds them to :class:`Tensor` as methods and operators.
"""

from __future__ import annotations

from dendrite.ops.comparison import (
    allclose,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    eq,
    equal,
    ge,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
)
from dendrite.ops.cumulative import cumprod, cumsum
from dendrite.ops.elementwise import (
    add,
    cast,
    clone,
    div,
    floor_divide,
    fmod,
    mul,
    neg,
    pow,
    remainder,
    sub,
    true_divide,
)
from dendrite.ops.indexing import (
    gather,
    getitem,
    index_add,
    index_select,
    masked_select,
    nonzero,
    plain_index,
    scatter,
    scatter_add,
    take,
    take_along_dim,
)
from dendrite.ops.inplace import INPLACE_METHODS
from dendrite.ops.joining import (
    broadcast_tensors,
    cat,
    chunk,
    concat,
    concatenate,
    hstack,
    meshgrid,
    split,
    stack,
    unbind,
    vstack,
)
from dendrite.ops.linalg import (
    addmm,
    bmm,
    diag,
    diagonal,
    dot,
    einsum,
    matmul,
    mm,
    mv,
    outer,
    tensordot,
    trace,
    tril,
    triu,
)
from dendrite.ops.math import (
    acos,
    asin,
    atan,
    atan2,
    cos,
    cosh,
    exp,
    exp2,
    expm1,
    lerp,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    reciprocal,
    rsqrt,
    sigmoid,
    sin,
    sinh,
    sqrt,
    square,
    tan,
    tanh,
)
from dendrite.ops.movement import (
    adjoint,
    broadcast_to,
    expand,
    expand_as,
    flatten,
    flip,
    fliplr,
    flipud,
    moveaxis,
    movedim,
    narrow,
    permute,
    repeat,
    reshape,
    reshape_as,
    roll,
    select,
    squeeze,
    swapaxes,
    swapdims,
    t,
    tile,
    transpose,
    unflatten,
    unsqueeze,
    view,
    view_as,
)
from dendrite.ops.piecewise import (
    abs,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    floor,
    frac,
    masked_fill,
    maximum,
    minimum,
    relu,
    round,
    sign,
    trunc,
    where,
)
from dendrite.ops.printing import tensor_repr
from dendrite.ops.reduce import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    count_nonzero,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from dendrite.ops.softmax import log_softmax, logsumexp, softmax
from dendrite.ops.sorting import argsort, kthvalue, median, sort, topk
from dendrite.ops.special import erf
from dendrite.tensor import Tensor

# The public operations: ``from dendrite.ops import *`` (in dendrite/__init__.py) exports exactly these.
__all__ = [
    # arithmetic
    "add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "neg", "pow", "clone",
    # comparison and logic
    "eq", "ne", "lt", "le", "gt", "ge", "equal", "allclose", "isclose", "isnan", "isinf", "isfinite",
    "logical_and", "logical_or", "logical_xor", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    # smooth functions
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal", "square",
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "sigmoid", "lerp",
    "logaddexp", "erf",
    # piecewise
    "abs", "relu", "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "where", "masked_fill",
    "floor", "ceil", "round", "trunc", "frac", "sign",
    # reductions
    "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "var_mean",
    "std_mean", "norm", "all", "any", "count_nonzero", "logsumexp", "softmax", "log_softmax",
    "cumsum", "cumprod", "sort", "argsort", "topk", "kthvalue", "median",
    # movement, joining, indexing
    "reshape", "view", "view_as", "reshape_as", "permute", "transpose", "swapaxes", "swapdims", "t",
    "adjoint", "unsqueeze", "squeeze", "flatten", "unflatten", "expand", "expand_as", "broadcast_to",
    "repeat", "tile", "flip", "fliplr", "flipud", "roll", "movedim", "moveaxis", "narrow", "select",
    "cat", "concat", "concatenate", "stack", "hstack", "vstack", "split", "chunk", "unbind",
    "broadcast_tensors", "meshgrid",
    "gather", "scatter", "scatter_add", "index_add", "index_select", "masked_select", "take",
    "take_along_dim", "nonzero",
    # linear algebra
    "matmul", "mm", "mv", "bmm", "dot", "outer", "addmm", "einsum", "tensordot", "tril", "triu", "diag",
    "diagonal", "trace",
]

# ----------------------------------------------------------------------------- Tensor methods
# Methods that are exactly the functions above (the tensor is the first argument).
_METHODS = (
    "abs", "acos", "add", "addmm", "all", "allclose", "amax", "amin", "any", "argmax", "argmin",
    "argsort", "asin", "atan", "atan2", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "bmm",
    "ceil", "chunk", "clamp", "clamp_max", "clamp_min", "clip", "cos", "cosh", "count_nonzero", "cumprod",
    "cumsum", "diag", "diagonal", "div", "dot", "eq", "equal", "erf", "exp", "exp2", "expand", "expand_as",
    "expm1", "flatten", "flip", "fliplr", "flipud", "floor", "floor_divide", "fmod", "frac", "gather",
    "ge", "gt", "index_add", "index_select", "isclose", "isfinite", "isinf", "isnan", "kthvalue", "le",
    "lerp", "log", "log10", "log1p", "log2", "log_softmax", "logaddexp", "logical_and", "logical_not",
    "logical_or", "logical_xor", "logsumexp", "lt", "masked_fill", "masked_select", "matmul", "max",
    "maximum", "mean", "median", "min", "minimum", "mm", "moveaxis", "movedim", "mul", "mv", "narrow",
    "ne", "neg", "nonzero", "norm", "outer", "permute", "pow", "prod", "reciprocal", "relu", "remainder",
    "repeat", "reshape", "reshape_as", "roll", "round", "rsqrt", "scatter", "scatter_add", "select",
    "sigmoid", "sign", "sin", "sinh", "softmax", "sort", "split", "sqrt", "square", "squeeze", "std",
    "sub", "sum", "swapaxes", "swapdims", "t", "take", "take_along_dim", "tan", "tanh", "tile", "topk",
    "trace", "transpose", "tril", "triu", "true_divide", "trunc", "unbind", "unflatten", "unsqueeze",
    "var", "view", "view_as", "where",
)
for _name in _METHODS:
    setattr(Tensor, _name, globals()[_name])
for _name, _function in INPLACE_METHODS.items():
    setattr(Tensor, _name, _function)
Tensor.multiply = Tensor.mul
Tensor.divide = Tensor.div
Tensor.subtract = Tensor.sub
Tensor.negative = Tensor.neg
Tensor.greater = Tensor.gt
Tensor.greater_equal = Tensor.ge
Tensor.less = Tensor.lt
Tensor.less_equal = Tensor.le
Tensor.absolute = Tensor.abs
Tensor.arcsin, Tensor.arccos, Tensor.arctan = Tensor.asin, Tensor.acos, Tensor.atan


# ----------------------------------------------------------------------------- operators
# Bound straight to the functions (no extra Python call per ``x + y``); the reflected forms
# (``2 - x`` calls ``x.__rsub__(2)``) swap the operands back.
def _reflected(function):
    def operator(self, other):
        return function(other, self)

    operator.__name__ = f"__r{function.__name__}__"
    return operator


def _positive(self):
    return self


Tensor.__add__, Tensor.__radd__ = add, _reflected(add)
Tensor.__sub__, Tensor.__rsub__ = sub, _reflected(sub)
Tensor.__mul__, Tensor.__rmul__ = mul, _reflected(mul)
Tensor.__truediv__, Tensor.__rtruediv__ = div, _reflected(div)
Tensor.__floordiv__, Tensor.__rfloordiv__ = floor_divide, _reflected(floor_divide)
Tensor.__mod__, Tensor.__rmod__ = remainder, _reflected(remainder)
Tensor.__pow__, Tensor.__rpow__ = pow, _reflected(pow)
Tensor.__matmul__, Tensor.__rmatmul__ = matmul, _reflected(matmul)
Tensor.__and__, Tensor.__rand__ = bitwise_and, _reflected(bitwise_and)
Tensor.__or__, Tensor.__ror__ = bitwise_or, _reflected(bitwise_or)
Tensor.__xor__, Tensor.__rxor__ = bitwise_xor, _reflected(bitwise_xor)
Tensor.__neg__, Tensor.__pos__, Tensor.__abs__, Tensor.__invert__ = neg, _positive, abs, bitwise_not
Tensor.__eq__, Tensor.__ne__ = eq, ne
Tensor.__lt__, Tensor.__le__, Tensor.__gt__, Tensor.__ge__ = lt, le, gt, ge
Tensor.__getitem__ = getitem
del _name, _function
