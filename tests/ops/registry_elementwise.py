"""Registry entries: arithmetic, comparisons, smooth and piecewise element-wise functions."""

from __future__ import annotations

import math

import numpy as np

from tests.ops.registry import (
    OpInfo,
    Sample,
    away_from_zero,
    binary_samples,
    mask,
    positive,
    randn,
    small_ints,
    unary_samples,
    uniform,
)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _unary(name, method, ref, make=randn, extra=()):
    """An element-wise function, called both as ``m.<name>(x)`` and tested on the standard inputs."""
    return OpInfo(name, lambda m, x: getattr(m, method)(x), ref, unary_samples(make, extra=extra))


OPS = [
    # ------------------------------------------------------------------ arithmetic (operators and functions)
    OpInfo("add", lambda m, a, b: a + b, np.add, binary_samples()),
    OpInfo(
        "add_function_alpha",
        lambda m, a, b: m.add(a, b, alpha=2.5),
        lambda a, b: a + 2.5 * b,
        binary_samples()[:3],
    ),
    OpInfo("sub", lambda m, a, b: a - b, np.subtract, binary_samples()),
    OpInfo(
        "sub_function_alpha",
        lambda m, a, b: m.sub(a, b, alpha=-0.5),
        lambda a, b: a + 0.5 * b,
        binary_samples()[:3],
    ),
    OpInfo("mul", lambda m, a, b: a * b, np.multiply, binary_samples()),
    OpInfo("div", lambda m, a, b: a / b, np.divide, binary_samples(randn, away_from_zero)),
    OpInfo("div_function", lambda m, a, b: m.div(a, b), np.divide, binary_samples(randn, away_from_zero)[:3]),
    OpInfo("neg", lambda m, x: -x, np.negative, unary_samples()),
    OpInfo("pow_tensor_tensor", lambda m, a, b: a**b, np.power, binary_samples(positive, randn)),
    OpInfo(
        "pow_number_exponent",
        lambda m, x, e: m.pow(x, e),
        np.power,
        [
            Sample((randn(3, 4), 2), name="square"),
            Sample((randn(3, 4), 3), name="cube"),
            Sample((positive(3, 4), 0.5), name="sqrt"),
            Sample((positive(3, 4), -1.5), name="negative"),
            Sample((randn(3, 4), 0), name="zero"),
            Sample((randn(3, 4), 1), name="one"),
            Sample((positive(4, 3), 2.5), layout="transposed"),
            Sample((np.array([0.0, 1.0, -2.0]), 2), name="at-zero"),
            Sample((np.array([0.0, 1.0, 2.0]), 0), name="zero-at-zero", smooth=False),
        ],
    ),
    OpInfo(
        "rpow_number_base",
        lambda m, b, x: b**x,
        np.power,
        [
            Sample((2.0, randn(3, 4))),
            Sample((0.5, randn(2, 3))),
            Sample((3, randn(4, 3)), layout="transposed"),
        ],
    ),
    OpInfo(
        "pow_zero_base_tensor_exponent",
        lambda m, b, e: b**e,
        np.power,
        [
            Sample((np.zeros(3), np.array([0.5, 1.0, 2.0])), smooth=False),
        ],
    ),
    OpInfo("rsub_number", lambda m, x: 2.0 - x, lambda x: 2.0 - x, unary_samples()[:2]),
    OpInfo("rdiv_number", lambda m, x: 3.0 / x, lambda x: 3.0 / x, unary_samples(away_from_zero)[:3]),
    OpInfo(
        "remainder",
        lambda m, a, b: a % b,
        np.remainder,
        [
            Sample((uniform(0.1, 0.9, 3, 4) + np.arange(4), np.full(4, 1.0) + 0.0), name="positive"),
            Sample((uniform(0.1, 0.9, 3, 4) - 3, 1.0), name="number"),
            Sample((uniform(0.1, 0.9, 3, 4) + 2, uniform(-4, -3.5, 3, 4)), name="negative-divisor"),
        ],
    ),
    OpInfo(
        "fmod",
        lambda m, a, b: m.fmod(a, b),
        np.fmod,
        [
            Sample((uniform(0.1, 0.9, 3, 4) - 3, 1.0)),
            Sample((uniform(2.1, 2.9, 3, 4), uniform(-1.1, -1.0, 3, 4))),
        ],
    ),
    OpInfo(
        "floor_divide",
        lambda m, a, b: a // b,
        np.floor_divide,
        [Sample((randn(3, 4) * 4, away_from_zero(4)))],
        differentiable=False,
    ),
    OpInfo(
        "div_rounding_trunc",
        lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
        lambda a, b: np.trunc(a / b),
        [Sample((uniform(0.1, 0.9, 3, 4) * 7 - 3, 0.75))],
    ),
    OpInfo(
        "div_rounding_floor",
        lambda m, a, b: m.div(a, b, rounding_mode="floor"),
        lambda a, b: np.floor(a / b),
        [Sample((uniform(0.1, 0.9, 3, 4) * 7 - 3, 0.75))],
        differentiable=False,
    ),
    OpInfo("clone", lambda m, x: m.clone(x) * 1.0, np.array, unary_samples()[:3]),
    OpInfo("clone_method", lambda m, x: x.clone(), np.array, unary_samples()[:2]),
    OpInfo(
        "double_float_roundtrip",
        lambda m, x: x.float().double() * x,
        lambda x: x.astype(np.float32).astype(np.float64) * x,
        unary_samples()[:2],
        gradcheck=False,
    ),
    # ------------------------------------------------------------------ comparisons and logic (no gradient)
    *[
        OpInfo(
            name,
            (lambda op: lambda m, a, b: getattr(m, op)(a, b))(name),
            ref,
            [
                Sample((small_ints(3, 4), small_ints(3, 4))),
                Sample((small_ints(3, 4), small_ints(4))),
                Sample((small_ints(3, 4), 1.0), name="number"),
            ],
            differentiable=False,
        )
        for name, ref in [
            ("eq", np.equal),
            ("ne", np.not_equal),
            ("lt", np.less),
            ("le", np.less_equal),
            ("gt", np.greater),
            ("ge", np.greater_equal),
        ]
    ],
    OpInfo(
        "compare_operators",
        lambda m, a, b: ((a < b) | (a == b)) & ~(a > b) ^ (a != b),
        lambda a, b: ((a < b) | (a == b)) & ~(a > b) ^ (a != b),
        [Sample((small_ints(3, 4), small_ints(3, 4)))],
        differentiable=False,
    ),
    *[
        OpInfo(
            name,
            (lambda op: lambda m, a, b: getattr(m, op)(a, b))(name),
            ref,
            [Sample((mask(3, 4), mask(3, 4))), Sample((small_ints(3, 4), small_ints(4)))],
            differentiable=False,
        )
        for name, ref in [
            ("logical_and", np.logical_and),
            ("logical_or", np.logical_or),
            ("logical_xor", np.logical_xor),
        ]
    ],
    OpInfo(
        "logical_not",
        lambda m, a: m.logical_not(a),
        np.logical_not,
        [Sample((mask(3, 4),)), Sample((small_ints(3, 4),))],
        differentiable=False,
    ),
    *[
        OpInfo(
            name,
            (lambda op: lambda m, a: getattr(m, op)(a))(name),
            ref,
            [Sample((np.array([0.0, np.nan, np.inf, -np.inf, -1.5]),))],
            differentiable=False,
        )
        for name, ref in [("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite)]
    ],
    # ------------------------------------------------------------------ smooth functions
    _unary("exp", "exp", np.exp),
    _unary("exp2", "exp2", np.exp2),
    _unary("expm1", "expm1", np.expm1),
    _unary("log", "log", np.log, positive),
    _unary("log2", "log2", np.log2, positive),
    _unary("log10", "log10", np.log10, positive),
    _unary("log1p", "log1p", np.log1p, positive),
    _unary("sqrt", "sqrt", np.sqrt, positive),
    _unary("rsqrt", "rsqrt", lambda x: 1 / np.sqrt(x), positive),
    _unary("reciprocal", "reciprocal", np.reciprocal, away_from_zero),
    _unary("square", "square", np.square),
    _unary("sin", "sin", np.sin),
    _unary("cos", "cos", np.cos),
    _unary("tan", "tan", np.tan, lambda *s: uniform(-1.2, 1.2, *s)),
    _unary("asin", "asin", np.arcsin, lambda *s: uniform(-0.9, 0.9, *s)),
    _unary("acos", "acos", np.arccos, lambda *s: uniform(-0.9, 0.9, *s)),
    _unary("atan", "atan", np.arctan),
    _unary("sinh", "sinh", np.sinh),
    _unary("cosh", "cosh", np.cosh),
    _unary(
        "tanh", "tanh", np.tanh, extra=[Sample((np.array([-30.0, -5.0, 0.0, 5.0, 30.0]),), name="saturated")]
    ),
    _unary(
        "sigmoid",
        "sigmoid",
        _sigmoid,
        extra=[Sample((np.array([-50.0, -10.0, 0.0, 10.0, 50.0]),), name="large")],
    ),
    OpInfo("sigmoid_method", lambda m, x: x.sigmoid(), _sigmoid, unary_samples()[:1]),
    _unary("erf", "erf", np.vectorize(math.erf, otypes=[np.float64])),
    OpInfo("atan2", lambda m, y, x: m.atan2(y, x), np.arctan2, binary_samples(randn, away_from_zero)[:3]),
    OpInfo("hypot", lambda m, a, b: m.hypot(a, b), np.hypot, binary_samples(randn, away_from_zero)[:3]),
    OpInfo(
        "lerp",
        lambda m, a, b, w: m.lerp(a, b, w),
        lambda a, b, w: a + w * (b - a),
        [Sample((randn(3, 4), randn(3, 4), randn(3, 4))), Sample((randn(3, 4), randn(4), 0.3))],
    ),
    OpInfo(
        "logaddexp",
        lambda m, a, b: m.logaddexp(a, b),
        np.logaddexp,
        binary_samples()[:3]
        + [Sample((np.array([1000.0, -1000.0]), np.array([999.0, -1000.0])), name="large")],
    ),
    # ------------------------------------------------------------- piecewise (PyTorch's kink conventions)
    OpInfo(
        "abs",
        lambda m, x: m.abs(x),
        np.abs,
        unary_samples(
            away_from_zero, extra=[Sample((np.array([-1.0, 0.0, 2.0, 0.0]),), name="zeros", smooth=False)]
        ),
    ),
    OpInfo("abs_builtin", lambda m, x: abs(x), np.abs, unary_samples(away_from_zero)[:1]),
    OpInfo(
        "relu",
        lambda m, x: m.relu(x),
        lambda x: np.maximum(x, 0),
        unary_samples(
            away_from_zero,
            extra=[
                Sample((np.array([-1.0, 0.0, 2.0, 0.0]),), name="zeros", smooth=False),
                Sample((np.array([-np.inf, 1.0]),), name="minus-inf", smooth=False),
            ],
        ),
    ),
    OpInfo(
        "clamp",
        lambda m, x, lo, hi: m.clamp(x, lo, hi),
        np.clip,
        [
            Sample((randn(3, 4), -0.5, 0.5)),
            Sample((randn(4, 3), -0.5, 0.5), layout="transposed"),
            Sample((np.array([-1.0, -0.5, 0.0, 0.5, 1.0]), -0.5, 0.5), name="boundaries", smooth=False),
            Sample((np.array([-1.0, 0.2, 1.0]), 0.5, -0.5), name="min-above-max", smooth=False),
        ],
    ),
    OpInfo(
        "clamp_min_only",
        lambda m, x: x.clamp(min=0.0),
        lambda x: np.maximum(x, 0.0),
        [
            Sample((away_from_zero(3, 4),)),
            Sample((np.array([-1.0, 0.0, 2.0]),), name="boundary", smooth=False),
        ],
    ),
    OpInfo(
        "clamp_max_only",
        lambda m, x: x.clamp(max=0.25),
        lambda x: np.minimum(x, 0.25),
        [
            Sample((randn(3, 4) + 0.01,)),
            Sample((np.array([-1.0, 0.25, 2.0]),), name="boundary", smooth=False),
        ],
    ),
    OpInfo(
        "clamp_tensor_bounds",
        lambda m, x, lo, hi: m.clamp(x, min=lo, max=hi),
        np.clip,
        [
            Sample((randn(3, 4), randn(3, 4) - 1, randn(3, 4) + 1)),
            Sample((randn(3, 4), randn(4) - 1, randn(3, 1) + 1), name="broadcast"),
            Sample(
                (np.array([-1.0, 0.0, 1.0]), np.array([0.0, 0.0, 2.0]), np.array([-1.0, 1.0, 1.0])),
                name="ties",
                smooth=False,
            ),
        ],
    ),
    OpInfo(
        "clip_min_max_functions",
        lambda m, x: m.clamp_max(m.clamp_min(x, -0.3), 0.4),
        lambda x: np.clip(x, -0.3, 0.4),
        [Sample((randn(3, 4),))],
    ),
    OpInfo(
        "maximum",
        lambda m, a, b: m.maximum(a, b),
        np.maximum,
        binary_samples()[:6]
        + [
            Sample((small_ints(3, 4), small_ints(3, 4)), name="ties", smooth=False),
            Sample((np.array([1.0, 2.0]), np.array([1.0, 2.0])), name="all-tied", smooth=False),
        ],
    ),
    OpInfo(
        "minimum",
        lambda m, a, b: m.minimum(a, b),
        np.minimum,
        binary_samples()[:6] + [Sample((small_ints(3, 4), small_ints(4)), name="ties", smooth=False)],
    ),
    OpInfo(
        "where",
        lambda m, c, a, b: m.where(c, a, b),
        np.where,
        [
            Sample((mask(3, 4), randn(3, 4), randn(3, 4))),
            Sample((mask(3, 4), randn(4), randn(3, 1)), name="broadcast"),
            Sample((mask(3, 4), randn(3, 4), 0.0), name="number"),
            Sample((mask(4, 3), randn(4, 3), randn(4, 3)), layout="transposed"),
        ],
    ),
    OpInfo(
        "where_from_comparison",
        lambda m, x: m.where(x > 0, x, x * 0.1),
        lambda x: np.where(x > 0, x, x * 0.1),
        [Sample((away_from_zero(3, 4),))],
    ),
    OpInfo(
        "masked_fill",
        lambda m, x, k: x.masked_fill(k, -1.5),
        lambda x, k: np.where(k, -1.5, x),
        [Sample((randn(3, 4), mask(3, 4))), Sample((randn(3, 4), mask(4)), name="broadcast-mask")],
    ),
    *[
        OpInfo(
            name,
            (lambda op: lambda m, x: getattr(m, op)(x))(name),
            ref,
            unary_samples(lambda *s: uniform(-3, 3, *s) + 0.01)[:3],
        )
        for name, ref in [
            ("floor", np.floor),
            ("ceil", np.ceil),
            ("trunc", np.trunc),
            ("sign", np.sign),
            ("frac", lambda x: x - np.trunc(x)),
        ]
    ],
    OpInfo(
        "round",
        lambda m, x: m.round(x),
        np.round,
        [Sample((np.array([-2.5, -1.5, -0.4, 0.5, 1.5, 2.5, 3.7]),), name="halves-to-even", smooth=False)],
    ),
    OpInfo(
        "round_decimals",
        lambda m, x: m.round(x, decimals=2),
        lambda x: np.round(x, 2),
        [Sample((randn(3, 4),))],
    ),
]
