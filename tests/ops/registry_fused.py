"""Registry entries for the fused ``dendrite.nn.functional`` operations.

Every public function of :mod:`dendrite.nn.functional` that runs a hand-written
``Function`` (a fused forward and backward) has an entry here, so the generic
checks of ``tests/ops/test_op_registry.py`` (reference, float64 finite
differences, PyTorch in float64 and float32) run on it; the coverage test in
``tests/nn/functional/test_fused_registry.py`` fails when a ``Function`` class
is exercised by no entry.

References are NumPy (``tests/ops/registry_fused_reference.py``) or, for the
recurrent layers, the composed form: the same recurrence written with
dendrite's primitive ops. Inputs that must not be differentiated (running
statistics, class weights of the losses PyTorch does not differentiate) are
detached inside ``fn`` on both sides.
"""

from __future__ import annotations

import numpy as np

from tests.ops import registry_fused_reference as ref
from tests.ops.registry import (
    OpInfo,
    Sample,
    away_from_zero,
    indices,
    positive,
    randn,
    unary_samples,
    uniform,
)


class Constant:
    """An array the op reads but is not differentiated by (class weights, running statistics).

    The generic tests make every floating sample array a leaf that requires grad; a Constant is
    passed through as a plain value instead, and ``fn`` turns it into a tensor of the input's dtype.
    """

    def __init__(self, array: np.ndarray):
        self.array = array

    def on(self, m, like):
        return m.tensor(np.array(self.array), dtype=like.dtype)

    def __repr__(self) -> str:
        return "x".join(map(str, self.array.shape))


def constant(value, m, like):
    """``value`` as ``m``'s tensor when it is a :class:`Constant` (else unchanged)."""
    return value.on(m, like) if isinstance(value, Constant) else value


def numpy_of(value):
    return value.array if isinstance(value, Constant) else value


def nnf(name: str):
    """``fn(m, *args, **kwargs)`` calling ``m.nn.functional.<name>`` (the same spelling in torch)."""
    return lambda m, *args, **kwargs: getattr(m.nn.functional, name)(*args, **kwargs)


def probabilities(*shape) -> np.ndarray:
    return uniform(0.05, 0.95, *shape)


def softmax_rows(*shape) -> np.ndarray:
    e = np.exp(randn(*shape))
    return e / e.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------------- activations
def _activation(name, reference, make=randn, kwargs=None, extra=()):
    samples = unary_samples(make)
    for sample in samples:
        sample.kwargs = dict(kwargs or {})
    return OpInfo(name, nnf(name), reference, samples + list(extra))


def _kw(sample_kwargs, make, *shape, name=""):
    return Sample((make(*shape),), dict(sample_kwargs), name=name)


ACTIVATIONS = [
    _activation("leaky_relu", ref.leaky_relu, away_from_zero, {"negative_slope": 0.2}),
    _activation("elu", ref.elu, away_from_zero, {"alpha": 1.3}),
    _activation("selu", ref.selu, away_from_zero),
    _activation("celu", ref.celu, away_from_zero, {"alpha": 0.7}),
    _activation(
        "softplus",
        ref.softplus,
        randn,
        {"beta": 2.0, "threshold": 1.5},
        extra=[_kw({}, randn, 3, 4, name="defaults"), _kw({"beta": 0.5}, randn, 0, 3, name="empty")],
    ),
    _activation("gelu", ref.gelu, randn, extra=[_kw({"approximate": "tanh"}, randn, 3, 4, name="tanh")]),
    _activation("silu", ref.silu),
    _activation("mish", ref.mish),
    _activation(
        "hardtanh",
        ref.hardtanh,
        lambda *s: uniform(-2, 2, *s),
        extra=[_kw({"min_val": -0.5, "max_val": 0.3}, lambda *s: uniform(-2, 2, *s), 3, 4, name="bounds")],
    ),
    _activation("relu6", ref.relu6, lambda *s: uniform(-3, 9, *s)),
    _activation("hardsigmoid", ref.hardsigmoid, lambda *s: uniform(-5, 5, *s)),
    _activation("hardswish", ref.hardswish, lambda *s: uniform(-5, 5, *s)),
    _activation("logsigmoid", ref.logsigmoid, lambda *s: 4 * randn(*s)),
    _activation("threshold", ref.threshold, away_from_zero, {"threshold": 0.1, "value": -2.0}),
    OpInfo(
        "normalize",
        nnf("normalize"),
        ref.normalize,
        [
            Sample((randn(3, 4),)),
            Sample((randn(2, 3, 4),), {"p": 1.0, "dim": -1}, name="p1"),
            Sample((away_from_zero(3, 4),), {"p": 3.0, "dim": 0}, name="p3"),
            Sample((randn(3, 4),), {"p": float("inf"), "dim": 1}, name="pinf"),
            Sample((randn(2, 3, 4),), {"dim": (1, 2)}, name="dims"),
            Sample((randn(3, 4),), {"dim": 0}, layout="transposed"),
            Sample((randn(3, 4),), {"dim": 1}, layout="strided"),
        ],
    ),
]


# ----------------------------------------------------------------------------- linear, conv
LINEAR = [
    OpInfo(
        "linear",
        nnf("linear"),
        ref.linear,
        [
            Sample((randn(3, 4), randn(2, 4), randn(2))),
            Sample((randn(2, 3, 4), randn(5, 4), None), name="batched-no-bias"),
            Sample((randn(4), randn(2, 4), randn(2)), name="vector"),
            Sample((randn(0, 4), randn(2, 4), randn(2)), name="empty"),
            Sample((randn(3, 4), randn(2, 4), randn(2)), layout="transposed"),
            Sample((randn(3, 4), randn(2, 4), randn(2)), layout="strided"),
        ],
    ),
    OpInfo(
        "bilinear",
        nnf("bilinear"),
        ref.bilinear,
        [
            Sample((randn(3, 2), randn(3, 4), randn(2, 2, 4), randn(2))),
            Sample((randn(2, 3, 2), randn(2, 3, 3), randn(3, 2, 3), None), name="batched-no-bias"),
            Sample((randn(3, 2), randn(3, 4), randn(2, 2, 4), randn(2)), layout="transposed"),
        ],
    ),
]

def _conv2d_weight_gradient(m, x, w, g, **kwargs):
    """dW of conv2d(x, w) for the output gradient ``g``, differentiable (create_graph) unless under no_grad.

    It runs the weight-gradient operation that double backward through a convolution records.
    """
    record = m.is_grad_enabled()
    with m.enable_grad():
        out = m.nn.functional.conv2d(x, w, **kwargs)
    return m.autograd.grad(out, w, g, create_graph=record)[0]


CONV = [
    OpInfo(
        "conv2d_weight_gradient",
        _conv2d_weight_gradient,
        None,
        [
            Sample((randn(2, 2, 5, 5), randn(3, 2, 3, 3), randn(2, 3, 3, 3))),
            Sample((randn(1, 4, 6, 5), randn(2, 2, 3, 2), randn(1, 2, 3, 6)),
                   {"stride": (2, 1), "padding": 1, "groups": 2}, name="stride-pad-groups"),
        ],
    ),
    OpInfo(
        "conv1d",
        nnf("conv1d"),
        ref.conv,
        [
            Sample((randn(2, 3, 7), randn(4, 3, 3), randn(4))),
            Sample(
                (randn(2, 4, 9), randn(2, 2, 3), None),
                {"stride": 2, "padding": 1, "dilation": 2, "groups": 2},
                name="groups-stride-pad-dilation",
            ),
            Sample((randn(3, 6), randn(2, 3, 2), randn(2)), {"padding": "same"}, name="unbatched-same"),
            Sample((randn(2, 3, 7), randn(4, 3, 3), randn(4)), layout="transposed"),
        ],
    ),
    OpInfo(
        "conv2d",
        nnf("conv2d"),
        ref.conv,
        [
            Sample((randn(2, 2, 5, 5), randn(3, 2, 3, 3), randn(3))),
            Sample(
                (randn(1, 2, 6, 5), randn(2, 2, 3, 2), randn(2)),
                {"stride": (2, 1), "padding": (1, 0)},
                name="stride-pad",
            ),
            Sample(
                (randn(1, 4, 5, 5), randn(4, 1, 3, 3), None), {"groups": 4, "padding": 1}, name="depthwise"
            ),
            Sample(
                (randn(1, 2, 7, 6), randn(2, 1, 2, 2), randn(2)),
                {"dilation": (2, 3), "groups": 2},
                name="dilation-groups",
            ),
            Sample((randn(0, 2, 4, 4), randn(3, 2, 3, 3), randn(3)), name="empty"),
            Sample((randn(1, 2, 5, 4), randn(2, 2, 3, 3), randn(2)), layout="strided"),
        ],
    ),
    OpInfo(
        "conv_transpose1d",
        nnf("conv_transpose1d"),
        ref.conv_transpose,
        [
            Sample((randn(2, 3, 4), randn(3, 2, 3), randn(2))),
            Sample(
                (randn(1, 4, 4), randn(4, 1, 3), randn(2)),
                {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": 1},
                name="all-options",
            ),
            Sample(
                (randn(2, 3, 4), randn(3, 2, 3), None), {"dilation": 2}, layout="transposed", name="dilation"
            ),
        ],
    ),
    OpInfo(
        "conv_transpose2d",
        nnf("conv_transpose2d"),
        ref.conv_transpose,
        [
            Sample((randn(1, 2, 3, 3), randn(2, 3, 2, 2), randn(3))),
            Sample(
                (randn(1, 2, 3, 2), randn(2, 1, 3, 2), randn(2)),
                {
                    "stride": (2, 1),
                    "padding": (1, 0),
                    "output_padding": (1, 0),
                    "groups": 2,
                    "dilation": (1, 2),
                },
                name="all-options",
            ),
            Sample((randn(1, 2, 3, 3), randn(2, 2, 2, 2), None), {"stride": 2}, layout="strided"),
        ],
    ),
]


# ----------------------------------------------------------------------------- pooling
POOLING = [
    OpInfo(
        "max_pool1d",
        nnf("max_pool1d"),
        ref.in_dims(ref.max_pool, 1),
        [
            Sample((ref.distinct_values(2, 3, 7), 2)),
            Sample(
                (ref.distinct_values(1, 2, 8), 3),
                {"stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
                name="all-options",
            ),
            Sample((ref.distinct_values(2, 7), 3), {"return_indices": True}, name="unbatched-indices"),
            Sample((ref.distinct_values(2, 3, 6), 2), layout="transposed"),
        ],
    ),
    OpInfo(
        "max_pool2d",
        nnf("max_pool2d"),
        ref.in_dims(ref.max_pool, 2),
        [
            Sample((ref.distinct_values(1, 2, 5, 5), 2)),
            Sample(
                (ref.distinct_values(1, 2, 6, 7), (3, 2)),
                {"stride": (2, 1), "padding": (1, 0), "ceil_mode": True},
                name="ceil-pad",
            ),
            Sample(
                (ref.distinct_values(1, 1, 7, 7), 2),
                {"dilation": 2, "return_indices": True},
                name="dilation-indices",
            ),
            Sample((ref.distinct_values(1, 2, 4, 4), 2), layout="strided"),
        ],
    ),
    OpInfo(
        "max_pool1d_with_indices",
        nnf("max_pool1d_with_indices"),
        ref.in_dims(ref.max_pool_with_indices, 1),
        [
            Sample((ref.distinct_values(1, 2, 7), 3), {"stride": 2, "ceil_mode": True}),
        ],
    ),
    OpInfo(
        "max_pool2d_with_indices",
        nnf("max_pool2d_with_indices"),
        ref.in_dims(ref.max_pool_with_indices, 2),
        [
            Sample((ref.distinct_values(1, 2, 5, 5), 2), {"padding": 1}),
        ],
    ),
    OpInfo(
        "avg_pool1d",
        nnf("avg_pool1d"),
        ref.in_dims(ref.avg_pool, 1),
        [
            Sample((randn(2, 3, 7), 2)),
            Sample(
                (randn(1, 2, 8), 3),
                {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
                name="ceil-exclude-pad",
            ),
            Sample((randn(2, 3, 6), 3), {"padding": 1}, layout="transposed", name="pad"),
        ],
    ),
    OpInfo(
        "avg_pool2d",
        nnf("avg_pool2d"),
        ref.in_dims(ref.avg_pool, 2),
        [
            Sample((randn(1, 2, 5, 5), 2)),
            Sample(
                (randn(1, 2, 6, 5), (3, 2)),
                {"stride": (2, 1), "padding": 1, "ceil_mode": True},
                name="ceil-pad",
            ),
            Sample(
                (randn(1, 2, 5, 5), 3),
                {"stride": 2, "padding": 1, "count_include_pad": False},
                name="exclude-pad",
            ),
            Sample((randn(1, 2, 4, 5), 2), {"divisor_override": 3}, name="divisor"),
            Sample((randn(2, 5, 5), 2), {"ceil_mode": True}, layout="strided", name="unbatched"),
        ],
    ),
    OpInfo(
        "adaptive_avg_pool1d",
        nnf("adaptive_avg_pool1d"),
        ref.in_dims(ref.adaptive_avg_pool, 1),
        [
            Sample((randn(2, 3, 7), 3)),
            Sample((randn(2, 3, 4), 6), name="upsample"),
            Sample((randn(3, 5), 2), layout="transposed", name="unbatched"),
        ],
    ),
    OpInfo(
        "adaptive_avg_pool2d",
        nnf("adaptive_avg_pool2d"),
        ref.in_dims(ref.adaptive_avg_pool, 2),
        [
            Sample((randn(1, 2, 5, 7), (2, 3))),
            Sample((randn(1, 2, 4, 4), 1), name="global"),
            Sample((randn(1, 2, 5, 6), (3, None)), name="none-size"),
        ],
    ),
    OpInfo(
        "adaptive_max_pool1d",
        nnf("adaptive_max_pool1d"),
        ref.in_dims(ref.adaptive_max_pool, 1),
        [
            Sample((ref.distinct_values(2, 3, 7), 3)),
            Sample((ref.distinct_values(2, 3, 7), 4), {"return_indices": True}, name="indices"),
        ],
    ),
    OpInfo(
        "adaptive_max_pool2d",
        nnf("adaptive_max_pool2d"),
        ref.in_dims(ref.adaptive_max_pool, 2),
        [
            Sample((ref.distinct_values(1, 2, 5, 7), (2, 3))),
            Sample(
                (ref.distinct_values(2, 5, 4), 2),
                {"return_indices": True},
                layout="transposed",
                name="indices",
            ),
        ],
    ),
]


# ----------------------------------------------------------------------------- normalisation
def _batch_norm(m, x, running_mean, running_var, weight, bias, **options):
    running_mean, running_var = constant(running_mean, m, x), constant(running_var, m, x)
    return m.nn.functional.batch_norm(x, running_mean, running_var, weight, bias, **options)


def _batch_norm_reference(x, running_mean, running_var, *rest, **options):
    return ref.batch_norm(x, numpy_of(running_mean), numpy_of(running_var), *rest, **options)


def _instance_norm(m, x, weight, bias, **options):
    return m.nn.functional.instance_norm(x, weight=weight, bias=bias, **options)


NORMS = [
    OpInfo(
        "batch_norm",
        _batch_norm,
        _batch_norm_reference,
        [
            Sample(
                (randn(4, 3), Constant(randn(3)), Constant(positive(3)), randn(3), randn(3)),
                {"training": True},
                name="train",
            ),
            Sample(
                (randn(2, 3, 4), Constant(randn(3)), Constant(positive(3)), None, None),
                {"training": True, "eps": 1e-3},
                name="train-no-affine",
            ),
            Sample(
                (randn(2, 2, 3, 3), Constant(randn(2)), Constant(positive(2)), randn(2), randn(2)),
                {"training": False},
                name="eval",
            ),
            Sample(
                (randn(3, 4), Constant(randn(4)), Constant(positive(4)), randn(4), randn(4)),
                {"training": True},
                layout="transposed",
                name="train",
            ),
        ],
    ),
    OpInfo(
        "layer_norm",
        lambda m, x, shape, *rest, **kw: m.nn.functional.layer_norm(x, shape, *rest, **kw),
        ref.layer_norm,
        [
            Sample((randn(3, 4), (4,), randn(4), randn(4))),
            Sample((randn(2, 3, 4), (3, 4), None, None), {"eps": 1e-3}, name="two-dims-no-affine"),
            Sample((randn(0, 4), (4,), randn(4), randn(4)), name="empty"),
            Sample((randn(3, 4), (4,), randn(4), randn(4)), layout="strided"),
        ],
    ),
    OpInfo(
        "rms_norm",
        nnf("rms_norm"),
        ref.rms_norm,
        [
            Sample((randn(3, 4), (4,), randn(4)), {"eps": 1e-6}),
            Sample((randn(2, 3, 4), (3, 4), None), {"eps": 1e-3}, name="two-dims-no-weight"),
            Sample((randn(3, 4), (4,), randn(4)), {"eps": 1e-6}, layout="transposed"),
        ],
    ),
    OpInfo(
        "group_norm",
        nnf("group_norm"),
        ref.group_norm,
        [
            Sample((randn(2, 4, 3), 2, randn(4), randn(4))),
            Sample((randn(2, 6, 2, 2), 3, None, None), {"eps": 1e-3}, name="4d-no-affine"),
            Sample((randn(3, 4), 2, randn(4), randn(4)), layout="transposed", name="2d"),
        ],
    ),
    OpInfo(
        "instance_norm",
        _instance_norm,
        ref.instance_norm,
        [
            Sample((randn(2, 3, 4), randn(3), randn(3))),
            Sample((randn(2, 2, 3, 3), None, None), {"eps": 1e-3}, name="4d"),
        ],
    ),
]


# ----------------------------------------------------------------------------- losses
def _with_weight(name):
    """Class weights are constants: PyTorch does not differentiate nll_loss/cross_entropy by them."""

    def call(m, input, target, weight=None, **kwargs):
        return getattr(m.nn.functional, name)(input, target, weight=constant(weight, m, input), **kwargs)

    return call


def _weight_reference(function):
    return lambda *args, **kwargs: function(*map(numpy_of, args), **kwargs)


_REDUCTIONS = ("mean", "sum", "none")

CLASS_LOSSES = [
    OpInfo(
        "cross_entropy",
        _with_weight("cross_entropy"),
        _weight_reference(ref.cross_entropy),
        [
            *[Sample((randn(4, 3), indices(3, 4)), {"reduction": r}, name=r) for r in _REDUCTIONS],
            Sample(
                (randn(4, 3), indices(3, 4), Constant(positive(3))), {"ignore_index": 1}, name="weight-ignore"
            ),
            Sample(
                (randn(2, 3, 2), indices(3, 2, 2), Constant(positive(3))),
                {"reduction": "sum"},
                name="spatial-weight",
            ),
            Sample((randn(4, 3), indices(3, 4)), {"label_smoothing": 0.2}, name="smoothing"),
            Sample(
                (randn(4, 3), indices(3, 4), Constant(positive(3))),
                {"label_smoothing": 0.1, "ignore_index": 0},
                name="smoothing-weight-ignore",
            ),
            Sample((randn(3), np.array(1)), name="unbatched"),
            Sample((randn(4, 3), softmax_rows(4, 3)), name="probabilities"),
            Sample((randn(0, 3), indices(3, 0)), {"reduction": "sum"}, name="empty"),
            Sample((randn(3, 4), indices(4, 3)), layout="transposed"),
        ],
    ),
    OpInfo(
        "nll_loss",
        _with_weight("nll_loss"),
        _weight_reference(ref.nll_loss),
        [
            *[Sample((randn(4, 3), indices(3, 4)), {"reduction": r}, name=r) for r in _REDUCTIONS],
            Sample(
                (randn(4, 3), indices(3, 4), Constant(positive(3))), {"ignore_index": 2}, name="weight-ignore"
            ),
            Sample(
                (randn(2, 3, 2, 2), indices(3, 2, 2, 2), Constant(positive(3))),
                {"reduction": "none"},
                name="spatial",
            ),
            Sample((randn(3, 4), indices(4, 3)), layout="strided"),
        ],
    ),
]


def _pointwise(name, kwargs=None):
    options = dict(kwargs or {})
    return OpInfo(
        name,
        nnf(name),
        getattr(ref, name),
        [
            *[Sample((randn(3, 4), randn(3, 4)), {"reduction": r, **options}, name=r) for r in _REDUCTIONS],
            Sample((randn(2, 3, 4), randn(2, 3, 4)), options, name="3d"),
            Sample((randn(3, 4), randn(3, 4)), options, layout="transposed"),
            Sample((randn(0, 4), randn(0, 4)), {"reduction": "sum", **options}, name="empty"),
        ],
    )


def _gaussian_nll(m, input, target, var, **kwargs):
    return m.nn.functional.gaussian_nll_loss(input, target, var, **kwargs)


def _bce_with_logits(m, input, target, weight=None, pos_weight=None, **kwargs):
    weight, pos_weight = constant(weight, m, input), constant(pos_weight, m, input)
    return m.nn.functional.binary_cross_entropy_with_logits(
        input, target, weight, pos_weight=pos_weight, **kwargs
    )


POINTWISE_LOSSES = [
    _pointwise("mse_loss"),
    _pointwise("l1_loss"),
    _pointwise("smooth_l1_loss", {"beta": 0.7}),
    _pointwise("huber_loss", {"delta": 0.6}),
    OpInfo(
        "binary_cross_entropy",
        _with_weight("binary_cross_entropy"),
        _weight_reference(ref.binary_cross_entropy),
        [
            *[
                Sample((probabilities(3, 4), probabilities(3, 4)), {"reduction": r}, name=r)
                for r in _REDUCTIONS
            ],
            Sample((probabilities(3, 4), probabilities(3, 4), Constant(positive(3, 4))), name="weight"),
            Sample(
                (probabilities(3, 4), probabilities(3, 4), Constant(positive(4))),
                {"reduction": "sum"},
                name="weight-broadcast",
            ),
            Sample((probabilities(3, 4), probabilities(3, 4)), layout="strided"),
        ],
    ),
    OpInfo(
        "binary_cross_entropy_with_logits",
        _bce_with_logits,
        _weight_reference(ref.binary_cross_entropy_with_logits),
        [
            *[Sample((randn(3, 4), probabilities(3, 4)), {"reduction": r}, name=r) for r in _REDUCTIONS],
            Sample(
                (randn(3, 4), probabilities(3, 4), Constant(positive(3, 4)), Constant(positive(4))),
                name="weight-pos-weight",
            ),
            Sample(
                (randn(3, 4), probabilities(3, 4), None, Constant(positive(4))),
                {"reduction": "none"},
                name="pos-weight",
            ),
            Sample((randn(3, 4), probabilities(3, 4)), layout="transposed"),
        ],
    ),
    OpInfo(
        "kl_div",
        nnf("kl_div"),
        ref.kl_div,
        [
            *[
                Sample((randn(3, 4), probabilities(3, 4)), {"reduction": r}, name=r)
                for r in (*_REDUCTIONS, "batchmean")
            ],
            Sample((randn(3, 4), randn(3, 4)), {"reduction": "sum", "log_target": True}, name="log-target"),
            Sample((randn(3, 4), probabilities(3, 4)), {"reduction": "batchmean"}, layout="strided"),
        ],
    ),
    OpInfo(
        "gaussian_nll_loss",
        _gaussian_nll,
        ref.gaussian_nll_loss,
        [
            Sample((randn(3, 4), randn(3, 4), positive(3, 4))),
            Sample(
                (randn(3, 4), randn(3, 4), positive(3)),
                {"reduction": "sum", "full": True},
                name="var-per-row",
            ),
            Sample(
                (randn(3, 4), randn(3, 4), uniform(0.0, 0.05, 3, 1)),
                {"reduction": "none", "eps": 0.02},
                name="clamped-var",
                smooth=False,
            ),  # PyTorch passes the gradient through the clamp
        ],
    ),
]


# ----------------------------------------------------------------------------- padding, resizing, dropout
OTHERS = [
    OpInfo(
        "pad",
        nnf("pad"),
        ref.pad,
        [
            Sample((randn(2, 3), (1, 2))),
            Sample((randn(2, 3, 4), (1, 0, 2, 1)), {"value": 1.5}, name="value"),
            Sample((randn(2, 3, 4), (-1, 2, 0, -1)), name="crop"),
            Sample((randn(1, 2, 4), (2, 1)), {"mode": "reflect"}, name="reflect"),
            Sample((randn(1, 3, 4), (1, 2, 2, 1)), {"mode": "replicate"}, name="replicate"),
            Sample(
                (randn(1, 3, 4), (2, 1, 1, 2)), {"mode": "circular"}, layout="transposed", name="circular"
            ),
            Sample((randn(2, 3, 4), (1, 1, 1, 1)), {"mode": "reflect"}, layout="strided", name="reflect"),
        ],
    ),
    OpInfo(
        "interpolate",
        nnf("interpolate"),
        ref.interpolate,
        [
            Sample((randn(1, 2, 3),), {"scale_factor": 2}, name="nearest"),
            Sample((randn(1, 2, 5),), {"size": 3}, name="nearest-down"),
            Sample((randn(1, 2, 3, 4),), {"size": (5, 3)}, name="nearest-2d"),
            Sample((randn(1, 2, 4, 3),), {"size": (5, 7), "mode": "nearest-exact"}, name="nearest-exact"),
            Sample((randn(1, 2, 3),), {"size": 5, "mode": "linear"}, name="linear"),
            Sample(
                (randn(1, 2, 4),), {"size": 7, "mode": "linear", "align_corners": True}, name="linear-corners"
            ),
            Sample((randn(1, 2, 3, 4),), {"scale_factor": 2, "mode": "bilinear"}, name="bilinear"),
            Sample(
                (randn(1, 2, 3, 3),),
                {"size": (4, 5), "mode": "bilinear", "align_corners": True},
                layout="transposed",
                name="bilinear-corners",
            ),
            Sample(
                (randn(1, 2, 5, 4),),
                {"size": (3, 2), "mode": "bilinear"},
                layout="strided",
                name="bilinear-down",
            ),
        ],
    ),
    OpInfo(
        "embedding",
        nnf("embedding"),
        ref.embedding,
        [
            Sample((indices(5, 2, 3), randn(5, 3))),
            Sample(
                (np.array([0, 2, 2, 4, 2]), randn(5, 2)), {"padding_idx": 2}, name="padding-idx", smooth=False
            ),  # the padding row gets no gradient: a convention, not a derivative,
            Sample(
                (np.array([[1, 1], [3, 1]]), randn(4, 2)),
                {"scale_grad_by_freq": True},
                name="scale-by-freq",
                smooth=False,
            ),  # gradients divided by frequency: a convention,
            Sample((indices(5, 0), randn(5, 3)), name="empty"),
            Sample((indices(4, 3), randn(4, 3)), layout="transposed"),
        ],
    ),
    # Dropout draws a random mask, so only p = 1 (every element dropped) is comparable with PyTorch.
    OpInfo("dropout", nnf("dropout"), ref.zeros_like, [Sample((randn(3, 4),), {"p": 1.0})]),
    OpInfo("dropout2d", nnf("dropout2d"), ref.zeros_like, [Sample((randn(2, 3, 2, 2),), {"p": 1.0})]),
    OpInfo(
        "feature_alpha_dropout",
        nnf("feature_alpha_dropout"),
        ref.zeros_like,
        [Sample((randn(2, 3, 4),), {"p": 1.0, "training": True})],
    ),
]


# ----------------------------------------------------------------------------- recurrent layers
from tests.ops.registry_fused_recurrent import RECURRENT  # noqa: E402

OPS = ACTIVATIONS + LINEAR + CONV + POOLING + NORMS + CLASS_LOSSES + POINTWISE_LOSSES + OTHERS + RECURRENT

# ----------------------------------------------------------------------------- attention
from tests.ops.registry_fused_attention import ATTENTION  # noqa: E402

OPS = OPS + ATTENTION

# ----------------------------------------------------------------------------- bags of embeddings
from tests.ops.registry_fused_bags import BAGS  # noqa: E402

OPS = OPS + BAGS
