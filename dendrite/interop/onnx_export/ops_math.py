"""ONNX forms of element-wise operations: arithmetic, math functions, activations, softmax.

Most map one to one (``Exp`` -> Exp, ``ReLU`` -> Relu). Those ONNX lacks at the
chosen opset are composed from ops it has, with the same formula dendrite uses
(``silu = x * sigmoid(x)``, exact ``gelu = x * (1 + erf(x / sqrt 2)) / 2`` below
opset 20).
"""

from __future__ import annotations

import math

import numpy as np

from dendrite.interop.onnx_export.builder import handles, onnx_dtype
from dendrite.interop.onnx_export.trace import Comparison
from dendrite.nn.functional import activation as act
from dendrite.nn.functional import activation_smooth as smooth
from dendrite.nn.functional import activation_softmax
from dendrite.nn.functional.dropout import MaskedScale
from dendrite.ops import elementwise as ew
from dendrite.ops import math as m
from dendrite.ops import operands, special
from dendrite.ops import piecewise as pw
from dendrite.ops import piecewise_rounding as rounding
from dendrite.ops import piecewise_select as select
from dendrite.ops.device_copy import ToDevice
from dendrite.ops.softmax import LogSoftmax, LogSumExp, Softmax
from dendrite.tensor import Tensor

_UNARY = {
    m.Exp: "Exp", m.Log: "Log", m.Sqrt: "Sqrt", m.Reciprocal: "Reciprocal", m.Sin: "Sin", m.Cos: "Cos",
    m.Tan: "Tan", m.Asin: "Asin", m.Acos: "Acos", m.Atan: "Atan", m.Sinh: "Sinh", m.Cosh: "Cosh",
    m.Tanh: "Tanh", m.Sigmoid: "Sigmoid", pw.ReLU: "Relu", pw.Abs: "Abs", ew.Neg: "Neg",
    rounding.Floor: "Floor", rounding.Ceil: "Ceil", rounding.Sign: "Sign", ew.Clone: "Identity",
    act.Hardswish: "HardSwish", special.Erf: "Erf",
    ToDevice: "Identity",  # a copy between CPU and GPU: the same values
}
_BINARY = {
    ew.Add: "Add", ew.Sub: "Sub", ew.Mul: "Mul", ew.Div: "Div", ew.Pow: "Pow",
    select.Maximum: "Max", select.Minimum: "Min",
}


def _x(b, node) -> str:
    return b.input(node, 0)


def _dtype(node):
    return node.trace_dtypes[0]


@handles(*_UNARY)
def _unary(b, node):
    b.add(_UNARY[type(node)], [_x(b, node)], [b.output(node)])


@handles(*_BINARY)
def _binary(b, node):
    b.add(_BINARY[type(node)], [b.input(node, 0), b.input(node, 1)], [b.output(node)])


@handles(ew.Fmod)
def _fmod(b, node):
    b.add("Mod", [b.input(node, 0), b.input(node, 1)], [b.output(node)], fmod=1)


@handles(ew.Remainder)
def _remainder(b, node):
    # Python's remainder (sign of the divisor): a - floor(a / b) * b. ONNX Mod(fmod=0) is integers only.
    a, d = b.input(node, 0), b.input(node, 1)
    if np.dtype(_dtype(node)).kind != "f":
        b.add("Mod", [a, d], [b.output(node)], fmod=0)
        return
    floored = b.add("Floor", [b.add("Div", [a, d])])
    b.add("Sub", [a, b.add("Mul", [floored, d])], [b.output(node)])


@handles(ew.FloorDivide)
def _floor_divide(b, node):
    if np.dtype(_dtype(node)).kind != "f":
        b.fail("integer floor division has no exact ONNX form (ONNX Div truncates); divide floats instead")
    b.add("Floor", [b.add("Div", [b.input(node, 0), b.input(node, 1)])], [b.output(node)])


@handles(operands.Cast)
def _cast(b, node):
    b.add("Cast", [_x(b, node)], [b.output(node)], to=onnx_dtype(_dtype(node)))


@handles(m.Rsqrt)
def _rsqrt(b, node):
    b.add("Reciprocal", [b.add("Sqrt", [_x(b, node)])], [b.output(node)])


@handles(m.Exp2)
def _exp2(b, node):
    b.add("Pow", [b.scalar_like(2, _dtype(node)), _x(b, node)], [b.output(node)])


@handles(m.Expm1)
def _expm1(b, node):
    b.add("Sub", [b.add("Exp", [_x(b, node)]), b.scalar_like(1, _dtype(node))], [b.output(node)])


@handles(m.Log1p)
def _log1p(b, node):
    b.add("Log", [b.add("Add", [_x(b, node), b.scalar_like(1, _dtype(node))])], [b.output(node)])


@handles(m.Log2, m.Log10)
def _log_base(b, node):
    base = 2.0 if isinstance(node, m.Log2) else 10.0
    b.add("Div", [b.add("Log", [_x(b, node)]), b.scalar_like(math.log(base), _dtype(node))], [b.output(node)])


def _trunc(b, x: str, dtype) -> str:
    negative = b.add("Less", [x, b.scalar_like(0, dtype)])
    return b.add("Where", [negative, b.add("Ceil", [x]), b.add("Floor", [x])])


@handles(rounding.Trunc)
def _trunc_node(b, node):
    b.add("Identity", [_trunc(b, _x(b, node), _dtype(node))], [b.output(node)])


@handles(rounding.Frac)
def _frac(b, node):
    x = _x(b, node)
    b.add("Sub", [x, _trunc(b, x, _dtype(node))], [b.output(node)])


@handles(rounding.Round)
def _round(b, node):
    decimals = node.inputs[1]
    x = _x(b, node)
    if decimals == 0:
        b.add("Round", [x], [b.output(node)])
        return
    scale = b.scalar_like(10.0 ** decimals, _dtype(node))
    b.add("Div", [b.add("Round", [b.add("Mul", [x, scale])]), scale], [b.output(node)])


@handles(pw.Clamp)
def _clamp(b, node):
    x, (low, high) = _x(b, node), node.inputs[1:]
    dtype = _dtype(node)
    if all(bound is None or isinstance(bound, (int, float)) for bound in (low, high)):
        bounds = ["" if bound is None else b.scalar_like(bound, dtype) for bound in (low, high)]
        b.add("Clip", [x, *bounds], [b.output(node)])
        return
    if low is not None:  # tensor bounds broadcast: min(max(x, low), high)
        x = b.add("Max", [x, b.input(node, 1)], [b.output(node)] if high is None else 1)
    if high is not None:
        b.add("Min", [x, b.input(node, 2)], [b.output(node)])


@handles(select.Where)
def _where(b, node):
    b.add("Where", [b.input(node, 0), b.input(node, 1), b.input(node, 2)], [b.output(node)])


# ----------------------------------------------------------------------------- activations
@handles(act.LeakyReLU)
def _leaky_relu(b, node):
    b.add("LeakyRelu", [_x(b, node)], [b.output(node)], alpha=float(node.trace_options["slope"]))


@handles(smooth.ELU)
def _elu(b, node):
    options = node.trace_options
    x, alpha, scale, input_scale = _x(b, node), options["alpha"], options["scale"], options["input_scale"]
    if scale == 1 and input_scale == 1:
        b.add("Elu", [x], [b.output(node)], alpha=float(alpha))
    elif input_scale == 1:
        b.add("Selu", [x], [b.output(node)], alpha=float(alpha), gamma=float(scale))
    elif scale == 1 and math.isclose(input_scale * alpha, 1.0):
        b.add("Celu", [x], [b.output(node)], alpha=float(alpha))
    else:
        b.fail(f"elu with alpha={alpha}, scale={scale}, input_scale={input_scale} has no ONNX form")


@handles(smooth.GELU)
def _gelu(b, node):
    x, approximate = _x(b, node), node.trace_options["approximate"]
    dtype = _dtype(node)
    if b.opset >= 20:
        b.add("Gelu", [x], [b.output(node)], approximate=approximate)
        return
    half, one = b.scalar_like(0.5, dtype), b.scalar_like(1.0, dtype)
    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = b.add("Mul", [b.add("Mul", [x, x]), x])
        inner = b.add("Add", [x, b.add("Mul", [cube, b.scalar_like(0.044715, dtype)])])
        curve = b.add("Tanh", [b.add("Mul", [inner, b.scalar_like(math.sqrt(2 / math.pi), dtype)])])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        curve = b.add("Erf", [b.add("Mul", [x, b.scalar_like(math.sqrt(0.5), dtype)])])
    b.add("Mul", [b.add("Mul", [x, half]), b.add("Add", [curve, one])], [b.output(node)])


@handles(smooth.Softplus)
def _softplus(b, node):
    x, beta, threshold = _x(b, node), node.trace_options["beta"], node.trace_options["threshold"]
    dtype = _dtype(node)
    scaled = x if beta == 1 else b.add("Mul", [x, b.scalar_like(beta, dtype)])
    soft = b.add("Softplus", [scaled])
    if beta != 1:
        soft = b.add("Div", [soft, b.scalar_like(beta, dtype)])
    linear = b.add("Greater", [scaled, b.scalar_like(threshold, dtype)])  # PyTorch's linear region
    b.add("Where", [linear, x, soft], [b.output(node)])


@handles(smooth.SiLU)
def _silu(b, node):
    x = _x(b, node)
    b.add("Mul", [x, b.add("Sigmoid", [x])], [b.output(node)])


@handles(smooth.Mish)
def _mish(b, node):
    x = _x(b, node)
    b.add("Mul", [x, b.add("Tanh", [b.add("Softplus", [x])])], [b.output(node)])


@handles(act.Hardtanh)
def _hardtanh(b, node):
    low, high = node.trace_options["low"], node.trace_options["high"]
    dtype = _dtype(node)
    b.add("Clip", [_x(b, node), b.scalar_like(low, dtype), b.scalar_like(high, dtype)], [b.output(node)])


@handles(act.Hardsigmoid)
def _hardsigmoid(b, node):
    b.add("HardSigmoid", [_x(b, node)], [b.output(node)], alpha=1.0 / 6.0, beta=0.5)


@handles(smooth.LogSigmoid)
def _logsigmoid(b, node):
    b.add("Neg", [b.add("Softplus", [b.add("Neg", [_x(b, node)])])], [b.output(node)])


@handles(act.Threshold)
def _threshold(b, node):
    x, dtype = _x(b, node), _dtype(node)
    options = node.trace_options
    above = b.add("Greater", [x, b.scalar_like(options["threshold"], dtype)])
    b.add("Where", [above, x, b.scalar_like(options["value"], dtype)], [b.output(node)])


@handles(activation_softmax.Normalize)
def _normalize(b, node):
    options = node.trace_options
    p, axis, eps = options["p"], options["axis"], options["eps"]
    if p not in (1.0, 2.0):
        b.fail(f"normalize with p={p} has no ONNX form here (p=1 and p=2 are supported)")
    axes = list(axis) if isinstance(axis, (tuple, list)) else [axis]
    x = _x(b, node)
    norm = b.reduce("ReduceL2" if p == 2.0 else "ReduceL1", x, axes, True)
    denominator = b.add("Max", [norm, b.scalar_like(eps, _dtype(node))])
    b.add("Div", [x, denominator], [b.output(node)])


@handles(Softmax, LogSoftmax)
def _softmax(b, node):
    op_type = "Softmax" if isinstance(node, Softmax) else "LogSoftmax"
    b.add(op_type, [_x(b, node)], [b.output(node)], axis=int(node.trace_options["axis"]))


@handles(LogSumExp)
def _logsumexp(b, node):
    options = node.trace_options
    b.reduce("ReduceLogSumExp", _x(b, node), options["axes"], options["keepdim"], [b.output(node)])


@handles(MaskedScale)
def _dropout_training(b, node):
    b.fail("dropout ran in training mode; export runs the model in eval() mode, so this dropout was "
           "called with training=True explicitly (use F.dropout(x, p, training=self.training))")


# ----------------------------------------------------------------------------- comparisons and logic
_COMPARISONS = {"eq": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater", "ge": "GreaterOrEqual",
                "ne": "Equal", "logical_and": "And", "logical_or": "Or", "logical_xor": "Xor",
                "bitwise_and": "And", "bitwise_or": "Or", "bitwise_xor": "Xor"}
_LOGICAL = ("logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor")


@handles(Comparison)
def _comparison(b, node):
    name = node.trace_options["op"]
    operands = node.inputs
    dtypes = [item.array.dtype if isinstance(item, Tensor) else np.asarray(item).dtype for item in operands]
    tensor_dtypes = [d for d, item in zip(dtypes, operands) if isinstance(item, (Tensor, np.ndarray))]
    common = np.result_type(*tensor_dtypes) if tensor_dtypes else np.result_type(*dtypes)
    if name in _LOGICAL:
        common = np.dtype(bool)  # ONNX And / Or / Xor take bools: non-zero is true
    names = []
    for index, (item, dtype) in enumerate(zip(operands, dtypes)):
        if isinstance(item, (Tensor, np.ndarray)):
            value = b.input(node, index)
            if dtype != common:
                value = b.add("Cast", [value], to=onnx_dtype(common))
        else:
            value = b.scalar_like(item, common)
        names.append(value)
    if name in ("bitwise_and", "bitwise_or", "bitwise_xor") and any(d.kind != "b" for d in dtypes):
        b.fail(f"{name} on integers has no ONNX form here (only on bool tensors)")
    if name == "ne":
        b.add("Not", [b.add("Equal", names)], [b.output(node)])
        return
    b.add(_COMPARISONS[name], names, [b.output(node)])


@handles(m.Hypot)
def _hypot(b, node):
    # ONNX has no Hypot: sqrt(a·a + b·b) (exact for the values a float32 model meets).
    a, d = b.input(node, 0), b.input(node, 1)
    b.add("Sqrt", [b.add("Add", [b.add("Mul", [a, a]), b.add("Mul", [d, d])])], [b.output(node)])
