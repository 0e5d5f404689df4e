"""Registry entries: reductions, softmax family, cumulative ops and sorting."""

from __future__ import annotations

import numpy as np

from tests.ops.registry import OpInfo, Sample, distinct, positive, randn, small_ints


def _logsumexp(x, axis, keepdims=False):
    peak = np.max(x, axis=axis, keepdims=True)
    result = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return result if keepdims else np.squeeze(result, axis=axis)


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _max_dim(x, axis, keepdims=False):
    return np.max(x, axis=axis, keepdims=keepdims), np.argmax(x, axis=axis, keepdims=keepdims)


def _min_dim(x, axis, keepdims=False):
    return np.min(x, axis=axis, keepdims=keepdims), np.argmin(x, axis=axis, keepdims=keepdims)


def _reduce_samples(make=randn) -> list:
    """Inputs for ``fn(m, x, dim, keepdim)``: every dim form PyTorch accepts."""
    return [
        Sample((make(3, 4), None, False), name="all"),
        Sample((make(3, 4), 1, False), name="dim1"),
        Sample((make(3, 4), -2, True), name="dim-2-keepdim"),
        Sample((make(2, 3, 4), (0, 2), False), name="tuple"),
        Sample((make(2, 3, 4), (-1, 0), True), name="tuple-keepdim"),
        Sample((make(4, 3), 0, False), name="dim0", layout="transposed"),
        Sample((make(2, 3, 4), 2, False), name="dim2", layout="strided"),
    ]


def _with_dim(method):
    """``x.<method>()`` when dim is None (PyTorch's dim=None is not accepted everywhere), else with dim."""

    def call(m, x, dim, keepdim):
        if dim is None:
            return getattr(x, method)()
        return getattr(x, method)(dim=dim, keepdim=keepdim)

    return call


def _ref(function):
    return lambda x, dim, keepdim: function(x, axis=dim, keepdims=keepdim)


OPS = [
    OpInfo(
        "sum", _with_dim("sum"), _ref(np.sum), _reduce_samples() + [Sample((randn(), None, False), name="0d")]
    ),
    OpInfo("sum_function_empty_dims", lambda m, x: m.sum(x, dim=()), np.sum, [Sample((randn(2, 3),))]),
    OpInfo("mean", _with_dim("mean"), _ref(np.mean), _reduce_samples()),
    OpInfo(
        "prod",
        lambda m, x, dim: x.prod() if dim is None else x.prod(dim),
        lambda x, dim: np.prod(x, axis=dim),
        [
            Sample((randn(3, 4), None)),
            Sample((randn(3, 4), 1)),
            Sample((np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0]]), 1), name="zeros"),
            Sample((np.array([[1.5, 0.0, 2.0], [0.5, -1.0, 3.0]]), None), name="one-zero"),
        ],
    ),
    # max()/min() without dim: ties share the gradient evenly.
    OpInfo(
        "max_all",
        lambda m, x: x.max(),
        np.max,
        [
            Sample((distinct(3, 4),)),
            Sample((distinct(4, 3),), layout="transposed"),
            Sample((np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 3.0]]),), name="three-way-tie", smooth=False),
        ],
    ),
    OpInfo(
        "min_all",
        lambda m, x: m.min(x),
        np.min,
        [
            Sample((distinct(3, 4),)),
            Sample((np.array([[1.0, -3.0], [-3.0, 0.0]]),), name="tie", smooth=False),
        ],
    ),
    # max(dim)/min(dim): (values, indices); the gradient goes to the returned index.
    OpInfo(
        "max_dim",
        lambda m, x, dim, keepdim: m.max(x, dim, keepdim),
        _max_dim,
        [
            Sample((distinct(3, 4), 1, False)),
            Sample((distinct(3, 4), 0, True)),
            Sample((distinct(2, 3, 4), -1, False), layout="strided"),
            Sample((np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), 1, False), name="ties", smooth=False),
        ],
    ),
    OpInfo(
        "min_dim",
        lambda m, x, dim: x.min(dim=dim),
        _min_dim,
        [
            Sample((distinct(3, 4), 1)),
            Sample((np.array([[1.0, -3.0, -3.0], [2.0, 2.0, 5.0]]), 1), name="ties", smooth=False),
        ],
    ),
    OpInfo("max_binary", lambda m, a, b: m.max(a, b), np.maximum, [Sample((distinct(3, 4), distinct(3, 4)))]),
    OpInfo(
        "amax",
        lambda m, x, dim, keepdim: m.amax(x, dim, keepdim),
        lambda x, dim, keepdim: np.max(x, axis=dim, keepdims=keepdim),
        [
            Sample((distinct(3, 4), 1, False)),
            Sample((distinct(2, 3, 4), (0, 2), True)),
            Sample((np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), 1, False), name="ties", smooth=False),
        ],
    ),
    OpInfo(
        "amin",
        lambda m, x, dim: x.amin(dim),
        lambda x, dim: np.min(x, axis=dim),
        [
            Sample((distinct(3, 4), 0)),
            Sample((np.array([[1.0, -3.0, -3.0], [2.0, 2.0, 5.0]]), (0, 1)), name="ties", smooth=False),
        ],
    ),
    OpInfo(
        "argmax",
        lambda m, x, dim: m.argmax(x, dim),
        lambda x, dim: np.argmax(x, axis=dim),
        [Sample((small_ints(3, 4), None)), Sample((small_ints(3, 4), 1)), Sample((small_ints(3, 4), 0))],
        differentiable=False,
    ),
    OpInfo(
        "argmin_keepdim",
        lambda m, x: x.argmin(dim=1, keepdim=True),
        lambda x: np.argmin(x, axis=1, keepdims=True),
        [Sample((small_ints(3, 4),))],
        differentiable=False,
    ),
    OpInfo(
        "var",
        _with_dim("var"),
        lambda x, dim, keepdim: np.var(x, axis=dim, keepdims=keepdim, ddof=1),
        _reduce_samples(),
    ),
    OpInfo(
        "var_biased",
        lambda m, x: m.var(x, 1, unbiased=False),
        lambda x: np.var(x, axis=1),
        [Sample((randn(3, 4),))],
    ),
    OpInfo(
        "var_correction",
        lambda m, x, c: x.var(dim=0, correction=c),
        lambda x, c: np.var(x, axis=0, ddof=c),
        [Sample((randn(5, 3), 0)), Sample((randn(5, 3), 2))],
    ),
    OpInfo(
        "std",
        _with_dim("std"),
        lambda x, dim, keepdim: np.std(x, axis=dim, keepdims=keepdim, ddof=1),
        _reduce_samples(),
    ),
    OpInfo(
        "std_constant_rows",
        lambda m, x: x.std(dim=1),
        lambda x: np.std(x, axis=1, ddof=1),
        [Sample((np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]]),), smooth=False)],
    ),
    OpInfo(
        "std_mean",
        lambda m, x: m.std_mean(x, dim=1),
        lambda x: (np.std(x, 1, ddof=1), np.mean(x, 1)),
        [Sample((randn(3, 4),))],
    ),
    OpInfo(
        "norm",
        lambda m, x, p, dim: m.norm(x, p=p, dim=dim),
        lambda x, p, dim: (
            np.linalg.norm(x, ord=p, axis=dim) if dim is not None else np.linalg.norm(x.reshape(-1), ord=p)
        ),
        [
            Sample((randn(3, 4), 2, None)),
            Sample((randn(3, 4), 2, 1)),
            Sample((randn(3, 4), 1, 1)),
            Sample((randn(3, 4), 3, 0)),
            Sample((distinct(3, 4), float("inf"), 1)),
            Sample((np.zeros((2, 3)), 2, 1), name="zero-vector", smooth=False),
        ],
    ),
    OpInfo("norm_method", lambda m, x: x.norm(), lambda x: np.sqrt((x * x).sum()), [Sample((randn(3, 4),))]),
    OpInfo(
        "logsumexp",
        lambda m, x, dim, keepdim: m.logsumexp(x, dim, keepdim),
        _logsumexp,
        [
            Sample((randn(3, 4), 1, False)),
            Sample((randn(3, 4), 0, True)),
            Sample((randn(2, 3, 4), (0, 2), False)),
            Sample((randn(3, 4) * 300, 1, False), name="large"),
        ],
    ),
    OpInfo(
        "softmax",
        lambda m, x, dim: m.softmax(x, dim),
        _softmax,
        [
            Sample((randn(3, 4), 1)),
            Sample((randn(3, 4), 0)),
            Sample((randn(2, 3, 4), -2)),
            Sample((randn(3, 4) * 500, -1), name="large"),
            Sample((randn(4, 3), 1), layout="transposed"),
        ],
    ),
    OpInfo(
        "log_softmax",
        lambda m, x, dim: x.log_softmax(dim),
        lambda x, dim: x - _logsumexp(x, dim, keepdims=True),
        [
            Sample((randn(3, 4), 1)),
            Sample((randn(2, 3, 4), 0)),
            Sample((randn(3, 4) * 500, -1), name="large"),
        ],
    ),
    OpInfo(
        "cumsum",
        lambda m, x, dim: m.cumsum(x, dim),
        lambda x, dim: np.cumsum(x, axis=dim),
        [Sample((randn(3, 4), 1)), Sample((randn(3, 4), 0)), Sample((randn(2, 3, 4), -1), layout="strided")],
    ),
    OpInfo(
        "cumprod",
        lambda m, x, dim: x.cumprod(dim),
        lambda x, dim: np.cumprod(x, axis=dim),
        [
            Sample((positive(3, 4), 1)),
            Sample((np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 2.0]]), 1), name="zeros"),
        ],
    ),
    OpInfo(
        "sort",
        lambda m, x, dim, descending: m.sort(x, dim, descending),
        lambda x, dim, descending: (
            np.sort(x, axis=dim)[..., ::-1] if descending else np.sort(x, axis=dim),
            np.argsort(-x if descending else x, axis=dim, kind="stable"),
        ),
        [Sample((distinct(3, 4), -1, False)), Sample((distinct(3, 4), 1, True))],
    ),
    OpInfo(
        "sort_dim0",
        lambda m, x: x.sort(dim=0).values,
        lambda x: np.sort(x, axis=0),
        [Sample((distinct(3, 4),))],
    ),
    OpInfo(
        "argsort",
        lambda m, x: m.argsort(x, dim=1),
        lambda x: np.argsort(x, axis=1),
        [Sample((distinct(3, 4),))],
        differentiable=False,
    ),
    OpInfo(
        "topk",
        lambda m, x, k: m.topk(x, k, dim=1),
        lambda x, k: (-np.sort(-x, axis=1)[:, :k], np.argsort(-x, axis=1)[:, :k]),
        [Sample((distinct(3, 5), 2)), Sample((distinct(3, 5), 5))],
    ),
    OpInfo(
        "topk_smallest",
        lambda m, x: x.topk(2, dim=0, largest=False).values,
        lambda x: np.sort(x, axis=0)[:2],
        [Sample((distinct(4, 3),))],
    ),
    OpInfo(
        "median",
        lambda m, x: m.median(x),
        lambda x: np.sort(x.reshape(-1))[(x.size - 1) // 2],
        [Sample((distinct(3, 4),)), Sample((distinct(5),))],
    ),
    OpInfo(
        "median_dim",
        lambda m, x: m.median(x, dim=1),
        lambda x: (np.sort(x, 1)[:, (x.shape[1] - 1) // 2], np.argsort(x, 1)[:, (x.shape[1] - 1) // 2]),
        [Sample((distinct(3, 5),))],
    ),
    OpInfo(
        "all_any",
        lambda m, x: (x.all(), x.any(dim=1), m.all(x, dim=0, keepdim=True)),
        lambda x: (np.all(x), np.any(x, axis=1), np.all(x, axis=0, keepdims=True)),
        [Sample((small_ints(3, 4, low=0, high=2) > 0,)), Sample((small_ints(3, 4, low=0, high=3),))],
        differentiable=False,
    ),
    OpInfo(
        "count_nonzero",
        lambda m, x: m.count_nonzero(x, dim=1),
        lambda x: np.count_nonzero(x, axis=1),
        [Sample((small_ints(3, 4, low=0, high=2),))],
        differentiable=False,
    ),
]
