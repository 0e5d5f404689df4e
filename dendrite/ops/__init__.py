"""Every differentiable operation, as functions; the same functions become Tensor methods.

``dendrite.ops`` is grouped by family: ``elementwise`` (arithmetic, comparisons),
``math`` (exp, log, tanh...), ``reduce`` (sum, max, softmax...), ``movement``
(reshape, permute, cat...), ``indexing`` and ``linalg`` (matmul).
"""

from __future__ import annotations

from dendrite.ops.elementwise import (
    add,
    allclose,
    cast,
    div,
    eq,
    equal,
    floor_divide,
    ge,
    gt,
    isfinite,
    isinf,
    isnan,
    le,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    mul,
    ne,
    neg,
    pow,
    remainder,
    sign,
    sub,
)
from dendrite.ops.indexing import gather, getitem, index_select, nonzero, plain_index
from dendrite.ops.linalg import bmm, dot, matmul, mm, outer
from dendrite.ops.math import (
    abs,
    clamp,
    cos,
    exp,
    expm1,
    log,
    log1p,
    masked_fill,
    maximum,
    minimum,
    reciprocal,
    relu,
    rsqrt,
    sigmoid,
    sin,
    sqrt,
    square,
    tanh,
    where,
)
from dendrite.ops.movement import (
    broadcast_to,
    cat,
    chunk,
    concat,
    concatenate,
    expand,
    expand_as,
    flatten,
    flip,
    movedim,
    permute,
    repeat,
    reshape,
    reshape_as,
    split,
    squeeze,
    stack,
    t,
    transpose,
    unbind,
    unflatten,
    unsqueeze,
    view,
    view_as,
)
from dendrite.ops.printing import tensor_repr
from dendrite.ops.reduce import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    softmax,
    std,
    sum,
    var,
)
from dendrite.tensor import Tensor

# Tensor methods that are exactly the functions above (the tensor is the first argument).
_METHODS = (
    "abs", "add", "all", "amax", "amin", "any", "argmax", "argmin", "bmm", "chunk", "clamp", "cos",
    "div", "dot", "eq", "exp", "expand", "expand_as", "expm1", "flatten", "flip", "gather", "ge",
    "gt", "index_select", "isfinite", "isinf", "isnan", "le", "log", "log1p", "log_softmax",
    "logical_not", "logsumexp", "lt", "masked_fill", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mm", "movedim", "mul", "ne", "neg", "nonzero", "norm", "permute", "pow", "prod",
    "reciprocal", "relu", "remainder", "repeat", "reshape", "reshape_as", "rsqrt", "sigmoid",
    "sign", "sin", "softmax", "split", "sqrt", "square", "squeeze", "std", "sub", "sum", "t",
    "tanh", "transpose", "unbind", "unflatten", "unsqueeze", "var", "view", "view_as",
)
for _name in _METHODS:
    setattr(Tensor, _name, globals()[_name])
Tensor.clip = Tensor.clamp
Tensor.multiply = Tensor.mul
Tensor.divide = Tensor.div
Tensor.subtract = Tensor.sub
Tensor.negative = Tensor.neg
Tensor.greater = Tensor.gt
Tensor.less = Tensor.lt
del _name
