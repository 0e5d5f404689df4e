"""Differential fuzzing against PyTorch: element-wise unary and binary ops (with broadcasting, Python
numbers and lists on either side) and comparisons. Settings: tests/fuzz/conftest.py."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dendrite
from tests.fuzz.conftest import FUZZ
from tests.fuzz.differential import differential
from tests.fuzz.strategies import SPECIAL, arrays, dtypes, shapes

UNARY = [
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal", "square",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "erf", "abs", "relu",
    "floor", "ceil", "round", "trunc", "frac", "sign", "neg", "isnan", "isinf", "isfinite", "logical_not",
    "bitwise_not",
]
BINARY = [
    "add", "sub", "mul", "div", "floor_divide", "remainder", "fmod", "pow", "atan2", "maximum", "minimum",
    "logaddexp", "hypot", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
    "bitwise_xor",
]
COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"]
OPERATORS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "//": "floor_divide", "%": "remainder",
             "**": "pow", "<": "lt", "==": "eq", "&": "bitwise_and"}


@st.composite
def binary_operands(draw, lists: bool = True):
    """Two operands: broadcastable (or not) shapes, any dtypes, or a Python number / list on one side."""
    if draw(st.integers(0, 9)) == 0:  # shapes that do not broadcast: both must refuse
        shape_a, shape_b = draw(shapes(1, 3, 1)), draw(shapes(1, 3, 1))
    else:
        pair = hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3)
        shape_a, shape_b = draw(pair).input_shapes
    a = draw(arrays(dtypes(), shape_a))
    kind = draw(st.sampled_from(["tensor", "tensor", "tensor", "number"] + ["list"] * lists))
    if kind == "tensor":
        b = draw(arrays(dtypes(), shape_b))
    elif kind == "number":
        b = draw(st.one_of(st.integers(-3, 3), st.booleans(), st.sampled_from(SPECIAL), st.floats(-3, 3)))
    else:
        # not empty: PyTorch's operators read an empty list as an empty tensor (a quirk dendrite leaves out)
        b = draw(st.lists(st.integers(-3, 3), min_size=1, max_size=3))
    if draw(st.booleans()):
        return (b, a) if not isinstance(b, list) else (a, b)  # a number on the left; a list stays right
    return a, b


def grad_of_operator(op, left):
    """PyTorch has no derivative of ``//`` nor of ``number % tensor``: those are compared forward only."""
    return op != "//" and not (op == "%" and not isinstance(left, np.ndarray))


def vanishing_exponent(base, exponent) -> bool:
    """A Python float exponent that is 0 in the tensor's dtype (1e-50 in float32). PyTorch disagrees with
    itself there: its vectorized loop casts the exponent (0 ** 0 = 1), its scalar tail for the last
    elements does not (0 ** 1e-50 = 0), so the answer depends on the tensor's length. dendrite casts
    (NumPy's rule for a Python number) everywhere: such exponents are left out."""
    if not isinstance(base, np.ndarray) or not isinstance(exponent, float) or exponent == 0:
        return False
    return base.dtype.kind == "f" and base.dtype.type(exponent) == 0


def underflows_in_float32(operands) -> bool:
    """A 0-d float64 operand that is 0 or inf once cast to a float32 tensor's dtype (1e-79 -> 0). The
    result is float32 (a 0-d tensor does not promote); PyTorch's pow backward then tests ``base == 0``
    on the float64 value but takes ``log(base)`` of the float32 one (-inf where dendrite's 0 ** y
    convention gives 0): its gradients there are compared no further than the forward."""
    arrays = [v for v in operands if isinstance(v, np.ndarray)]
    if not any(a.dtype == np.float32 and a.ndim for a in arrays):
        return False
    with np.errstate(over="ignore", under="ignore"):
        return any(a.ndim == 0 and a.dtype == np.float64 and np.isfinite(a) and a != 0
                   and (np.float32(a) == 0 or np.isinf(np.float32(a))) for a in arrays)


def rounded_exponent(base, exponent) -> bool:
    """A float32 exponent of a float64 base <= 0: PyTorch's pow backward takes ``base ** (exponent - 1)``
    with ``exponent - 1`` in float32 (1e-15 - 1 is -1.0 there, an integer power of -1: finite), dendrite
    in float64 (a fractional power of a negative base: NaN, the true derivative's value). Rounding, not
    a rule: the gradient is compared where the base is positive."""
    arrays = all(isinstance(v, np.ndarray) for v in (base, exponent))
    return arrays and exponent.dtype == np.float32 and base.dtype == np.float64 and bool((base <= 0).any())


def squares_underflow_in_float32(operands) -> bool:
    """Mixed float32/float64 operands, a float32 one so small (|x| < 1e-19) that its square is 0 in
    float32: PyTorch's backward (atan2's x² + y², a quotient's b²) squares it in its own float32, dendrite
    in the promoted float64, so one gradient is 0 and the other 1e30: forward only there."""
    arrays = [v for v in operands if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    if {a.dtype for a in arrays} != {np.dtype(np.float32), np.dtype(np.float64)}:
        return False
    return any(((a != 0) & (np.abs(a) < 1e-19)).any() for a in arrays if a.dtype == np.float32)


def _fn(lib, name):
    return getattr(lib, name)


@FUZZ
@given(name=st.sampled_from(UNARY), x=arrays(dtypes(), shapes()))
def test_unary(name, x):
    differential(name, _fn(dendrite, name), _fn(torch, name), [x])


@FUZZ
@given(name=st.sampled_from(BINARY), operands=binary_operands())
def test_binary(name, operands):
    # PyTorch refuses floor_divide of inputs that require grad ("derivative not implemented"): forward only
    # PyTorch's atan2, pow and logaddexp backward subtract from or negate a bool operand and raise:
    # forward only there
    # (a Python bool too, for pow: False ** x fails an internal assert, x ** False gives nan)
    bools = any(isinstance(v, np.ndarray) and v.dtype == bool for v in operands)
    python_bool = any(isinstance(v, bool) for v in operands)
    grad = name != "floor_divide" and not (name in ("atan2", "pow", "logaddexp") and bools) \
        and not (name == "pow" and python_bool) \
        and grad_of_operator("%" if name == "remainder" else "", operands[0])
    if name == "pow" and vanishing_exponent(*operands):
        return
    if name == "pow" and (underflows_in_float32(operands) or rounded_exponent(*operands)):
        grad = False
    if name in ("atan2", "hypot", "div") and squares_underflow_in_float32(operands):
        grad = False
    differential(name, _fn(dendrite, name), _fn(torch, name), list(operands), grad=grad)


@FUZZ
@given(name=st.sampled_from(COMPARISONS), operands=binary_operands())
def test_comparison(name, operands):
    differential(name, _fn(dendrite, name), _fn(torch, name), list(operands))


# No lists: PyTorch's operators (x * [0]) read some lists as tensors; dendrite's refuse them all
@FUZZ
@given(operands=binary_operands(lists=False), op=st.sampled_from(list(OPERATORS)))
def test_operator(operands, op):
    a, b = operands
    if not any(isinstance(v, np.ndarray) for v in operands):
        return
    if op == "**" and vanishing_exponent(a, b):
        return
    if op == "/" and not isinstance(a, np.ndarray) and b.dtype.kind == "f" and \
            (np.abs(b[b != 0]) < 1 / np.finfo(b.dtype).max).any():
        # PyTorch's number / tensor is tensor.reciprocal() * number (torch/_tensor.py __rdiv__): the
        # reciprocal of a subnormal overflows to inf, so 0 / 1e-45 is NaN there (torch.div(0, x) is 0,
        # as dendrite's quotient): left out
        return
    run = eval(f"lambda a, b: a {op} b")  # noqa: S307  (a fixed operator from the list above)
    # PyTorch's backward of a ** b with a bool b subtracts bools and raises; with a Python bool it fails an
    # internal assert (False ** x) or gives nan (x ** False): forward only there
    grad = grad_of_operator(op, a) and not (op == "**" and any(
        isinstance(v, bool) or isinstance(v, np.ndarray) and v.dtype == bool for v in operands))
    if op == "/" and not isinstance(a, np.ndarray) and b.dtype.kind == "f" and \
            (np.abs(b[b != 0]) < np.sqrt(1 / np.finfo(b.dtype).max)).any():
        grad = False  # the same reciprocal's gradient, number * -1/b², overflows: 0 * inf = NaN there
    if op == "**" and (underflows_in_float32(operands) or rounded_exponent(a, b)):
        grad = False  # as in test_binary: PyTorch's backward reads the operand in two precisions
    # Python's own TypeError for an operator that answered NotImplemented names the symbol
    differential(f"operator {op}", run, run, [a, b], names=(op, OPERATORS[op]), grad=grad)
