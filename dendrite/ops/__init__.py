"""Every differentiable operation, as functions; the same functions become Tensor methods.

``dendrite.ops`` is grouped by family: ``elementwise`` (arithmetic, casts),
``comparison`` (==, <, logic), ``math`` (exp, log...), ``math_powers`` (sqrt, reciprocal...),
``math_trig`` (sin, tanh, sigmoid...), ``piecewise`` (abs, relu, clamp),
``piecewise_select`` (maximum, where...), ``piecewise_rounding`` (floor, round, sign...),
``reduce`` (sum, mean, var...), ``reduce_extremes`` (max, argmax...),
``reduce_logical`` (all, any), ``softmax``, ``cumulative``, ``sorting``, ``movement`` (reshape,
permute...), ``movement_expand`` (expand, repeat), ``movement_flip`` (flip, roll), ``joining``
(cat, stack, split...), ``indexing`` (x[...], gather), ``indexing_scatter`` (scatter, index_add),
``linalg`` (matmul, einsum, tril...), ``special`` (erf) and ``inplace`` (add_, zero_...).

The same functions are :class:`dendrite.Tensor`'s methods and operators, bound by name
in its class body (dendrite/tensor.py), which sits on top of this package.
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
    index_select,
    masked_select,
    nonzero,
    plain_index,
    take,
    take_along_dim,
)
from dendrite.ops.indexing_scatter import index_add, scatter, scatter_add
from dendrite.ops.inplace import (  # Tensor methods only (x.add_(y)); not dendrite.* functions
    abs_,
    add_,
    addcdiv_,
    addcmul_,
    bitwise_and_,
    bitwise_or_,
    bitwise_xor_,
    clamp_,
    clamp_max_,
    clamp_min_,
    div_,
    exp_,
    floor_divide_,
    lerp_,
    log_,
    mul_,
    neg_,
    pow_,
    relu_,
    remainder_,
    sigmoid_,
    sqrt_,
    sub_,
    tanh_,
)
from dendrite.ops.inplace_fill import copy_, fill_, masked_fill_, normal_, setitem, uniform_, zero_
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
from dendrite.ops.math import exp, exp2, expm1, lerp, log, log1p, log2, log10, logaddexp
from dendrite.ops.math_powers import hypot, reciprocal, rsqrt, sqrt, square
from dendrite.ops.math_trig import acos, asin, atan, atan2, cos, cosh, sigmoid, sin, sinh, tan, tanh
from dendrite.ops.movement import (
    adjoint,
    flatten,
    moveaxis,
    movedim,
    narrow,
    permute,
    reshape,
    reshape_as,
    select,
    squeeze,
    swapaxes,
    swapdims,
    t,
    transpose,
    unflatten,
    unsqueeze,
    view,
    view_as,
)
from dendrite.ops.movement_expand import broadcast_to, expand, expand_as, repeat, tile
from dendrite.ops.movement_flip import flip, fliplr, flipud, roll
from dendrite.ops.operands import cast
from dendrite.ops.piecewise import abs, clamp, clamp_max, clamp_min, clip, relu
from dendrite.ops.piecewise_rounding import ceil, floor, frac, round, sgn, sign, trunc
from dendrite.ops.piecewise_select import masked_fill, maximum, minimum, where
from dendrite.ops.printing import tensor_repr
from dendrite.ops.reduce import mean, norm, prod, std, std_mean, sum, var, var_mean
from dendrite.ops.reduce_extremes import amax, amin, argmax, argmin, max, min
from dendrite.ops.reduce_logical import all, any, count_nonzero
from dendrite.ops.softmax import log_softmax, logsumexp, softmax
from dendrite.ops.sorting import argsort, kthvalue, median, sort, topk
from dendrite.ops.special import erf
from dendrite.tensor_base import TensorBase

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
    "logaddexp", "hypot", "erf",
    # piecewise
    "abs", "relu", "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "where", "masked_fill",
    "floor", "ceil", "round", "trunc", "frac", "sign", "sgn",
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

# The op boundary: each exported function checks its tensor arguments before it runs
# (ops/boundary.py). Code inside the engine imports the family modules and
# calls the unchecked functions.
from dendrite.ops.boundary import export as _export  # noqa: E402

_export(globals(), __all__)
