"""Losses against PyTorch in float64: forward, input gradient, and target gradient where PyTorch has one."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F
from tests.helpers import assert_close, compare_with_torch

RNG = np.random.default_rng(0)
REDUCTIONS = ["none", "mean", "sum"]


def _labels(shape, classes, ignore=None):
    labels = RNG.integers(0, classes, shape)
    if ignore is not None and labels.size:
        labels.reshape(-1)[:: 3] = ignore  # every third prediction is ignored
    return labels


# ----------------------------------------------------------------------------- cross-entropy, nll
CLASS_SHAPES = [((6, 4), (6,)), ((3, 4, 5), (3, 5)), ((2, 4, 3, 2), (2, 3, 2)), ((4,), ())]


@pytest.mark.parametrize("input_shape, target_shape", CLASS_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_with_class_indices(input_shape, target_shape, weighted, ignore_index, reduction,
                                          smoothing):
    labels = _labels(target_shape, 4, ignore_index if ignore_index >= 0 and target_shape else None)
    logits = RNG.standard_normal(input_shape) * 3
    weight = RNG.uniform(0.2, 2.0, 4)
    options = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)

    def ours(x, t):
        return F.cross_entropy(x, t, weight=dendrite.tensor(weight) if weighted else None, **options)

    def theirs(x, t):
        return TF.cross_entropy(x, t, weight=torch.tensor(weight) if weighted else None, **options)

    compare_with_torch(ours, theirs, [logits, labels], grad_inputs=[0])


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("transposed", [False, True], ids=["contiguous", "transposed"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_few_classes_and_a_transposed_input(classes, transposed, weighted, reduction):
    # Two classes take a column sum, and a contiguous batch the flat target index; a transposed
    # input (its softmax in column-major layout) the indexed subtraction.
    labels = _labels((9,), classes, 1)
    labels[0] = -100
    logits = RNG.standard_normal((classes, 9) if transposed else (9, classes)) * 3
    weight = RNG.uniform(0.2, 2.0, classes)
    options = dict(reduction=reduction)

    def ours(x, t):
        return F.cross_entropy(x.t() if transposed else x, t, dendrite.tensor(weight) if weighted else None,
                               **options)

    def theirs(x, t):
        return TF.cross_entropy(x.t() if transposed else x, t, torch.tensor(weight) if weighted else None,
                                **options)

    compare_with_torch(ours, theirs, [logits, labels], grad_inputs=[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_class_row_sums_are_numpys_sums_bit_for_bit(dtype):
    from dendrite.nn.functional.loss_classification import _row_sums

    rows = np.exp(RNG.standard_normal((257, 2)) * 30).astype(dtype)
    rows[:3] = [[0.0, 0.0], [np.inf, 1.0], [np.nan, 2.0]]
    assert _row_sums(rows).tobytes() == rows.sum(axis=1).tobytes()


@pytest.mark.parametrize("input_shape, target_shape", CLASS_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(input_shape, target_shape, weighted, ignore_index, reduction):
    labels = _labels(target_shape, 4, ignore_index if ignore_index >= 0 and target_shape else None)
    weight = RNG.uniform(0.2, 2.0, 4)
    options = dict(ignore_index=ignore_index, reduction=reduction)

    def ours(x, t):
        return F.nll_loss(x, t, weight=dendrite.tensor(weight) if weighted else None, **options)

    def theirs(x, t):
        return TF.nll_loss(x, t, weight=torch.tensor(weight) if weighted else None, **options)

    compare_with_torch(ours, theirs, [RNG.standard_normal(input_shape), labels], grad_inputs=[0])


@pytest.mark.parametrize("input_shape", [(5, 3), (2, 3, 4), (3,)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_with_class_probabilities(input_shape, weighted, reduction, smoothing):
    class_dim = 0 if len(input_shape) == 1 else 1
    probabilities = torch.softmax(torch.tensor(RNG.standard_normal(input_shape)), class_dim).numpy()
    arrays = [RNG.standard_normal(input_shape) * 2, probabilities]
    if weighted:
        arrays.append(RNG.uniform(0.5, 2.0, input_shape[class_dim]))
    options = dict(reduction=reduction, label_smoothing=smoothing)
    # The target (and the weight, in this composite formula) get gradients in PyTorch too.
    compare_with_torch(lambda x, t, *w: F.cross_entropy(x, t, *w, **options),
                       lambda x, t, *w: TF.cross_entropy(x, t, *w, **options), arrays)


def test_fused_cross_entropy_equals_composed_log_softmax_and_nll():
    logits, labels = RNG.standard_normal((7, 5)) * 4, RNG.integers(0, 5, 7)
    fused_input = dendrite.tensor(logits, requires_grad=True)
    composed_input = dendrite.tensor(logits, requires_grad=True)
    fused = F.cross_entropy(fused_input, dendrite.tensor(labels))
    composed = F.nll_loss(F.log_softmax(composed_input, dim=1), dendrite.tensor(labels))
    assert_close(fused, composed.detach().numpy(), rtol=1e-13)
    fused.backward()
    composed.backward()
    assert_close(fused_input.grad, composed_input.grad.numpy(), rtol=1e-12, atol=1e-15)
    # And the composed softmax-times-one-hot form by hand.
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert_close(fused_input.grad, (probabilities - np.eye(5)[labels]) / 7, rtol=1e-12)


def test_cross_entropy_gradcheck_with_every_option():
    x = dendrite.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    labels = dendrite.tensor(np.array([0, 2, 1, 2]))
    weight = dendrite.tensor(np.array([0.5, 2.0, 1.5]))
    assert dendrite.autograd.gradcheck(
        lambda t: F.cross_entropy(t, labels, weight=weight, ignore_index=1, label_smoothing=0.2), (x,))


def test_cross_entropy_all_ignored_mean_is_nan_with_zero_gradient():
    ours_input = dendrite.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    theirs_input = torch.tensor(ours_input.detach().numpy(), requires_grad=True)
    labels = np.full(3, -100)
    ours = F.cross_entropy(ours_input, dendrite.tensor(labels))
    theirs = TF.cross_entropy(theirs_input, torch.tensor(labels))
    assert np.isnan(ours.item()) and np.isnan(theirs.item())
    ours.backward()
    theirs.backward()
    assert_close(ours_input.grad, theirs_input.grad)


@pytest.mark.parametrize("ignore_index", [4, 9, 3, -1])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ignore_index_outside_the_classes_matches_torch(ignore_index, loss, reduction):
    # 4 and 9 lie above the 4 classes (the bounds check lets them through), 3 is a class that
    # is ignored, -1 is negative like the default; every second target carries it.
    labels = RNG.integers(0, 4, 8)
    labels[::2] = ignore_index
    options = dict(ignore_index=ignore_index, reduction=reduction)
    compare_with_torch(lambda x, t: getattr(F, loss)(x, t, **options),
                       lambda x, t: getattr(TF, loss)(x, t, **options),
                       [RNG.standard_normal((8, 4)), labels], grad_inputs=[0])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_reduction_equals_the_composed_form_without_warnings(reduction, dtype):
    # The unweighted mean/sum skip the errstate of the general path: same values, no warnings.
    logits = (RNG.standard_normal((9, 3)) * 5).astype(dtype)
    labels = RNG.integers(0, 3, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(dendrite.tensor(logits), dendrite.tensor(labels), reduction=reduction)
        per_row = F.cross_entropy(dendrite.tensor(logits), dendrite.tensor(labels), reduction="none")
    expected = per_row.numpy().sum() / (9 if reduction == "mean" else 1)
    assert loss.dtype == dtype
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6 if dtype == np.float32 else 1e-14)


def test_cross_entropy_all_ignored_gives_nan_without_a_warning():
    x = dendrite.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(x, dendrite.tensor(np.full(3, 2)), ignore_index=2)
        loss.backward()
    assert np.isnan(loss.item()) and not x.grad.numpy().any()


def test_cross_entropy_keeps_float32_and_accepts_uint8_targets():
    x = dendrite.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(x, dendrite.tensor(np.array([0, 2, 1, 1], dtype=np.uint8)))
    loss.backward()
    assert loss.dtype == x.grad.dtype == dendrite.float32
    expected = TF.cross_entropy(torch.tensor(x.detach().numpy()), torch.tensor([0, 2, 1, 1]))
    assert abs(loss.item() - expected.item()) < 1e-6


def test_class_index_errors_are_explained():
    x = dendrite.randn(4, 3)
    with pytest.raises(RuntimeError, match="int64, got float32; for class probabilities pass a float target"):
        F.cross_entropy(x, dendrite.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(RuntimeError, match="int64, got float32"):
        F.cross_entropy(x, dendrite.rand(4, 2))
    with pytest.raises(RuntimeError, match="floating point"):
        F.cross_entropy(x, dendrite.tensor(np.zeros((4, 3), dtype=np.int64)))
    with pytest.raises(RuntimeError, match="int32"):
        F.nll_loss(x, dendrite.tensor(np.array([0, 1, 2, 1], dtype=np.int32)))
    with pytest.raises(ValueError, match=r"expected a target of shape \(4,\)"):
        F.cross_entropy(x, dendrite.tensor([0, 1, 2]))
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, dendrite.tensor([0, 1, 3, 1]))
    with pytest.raises(IndexError, match="target -2"):
        F.nll_loss(x, dendrite.tensor([0, 1, -2, 1]))
    with pytest.raises(RuntimeError, match="weight"):
        F.cross_entropy(x, dendrite.tensor([0, 1, 2, 1]), weight=dendrite.ones(4))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        F.cross_entropy(x, dendrite.tensor([0, 1, 2, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        F.cross_entropy(x, dendrite.tensor([0, 1, 2, 1]), reduction="avg")


def test_legacy_size_average_and_reduce():
    logits, labels = RNG.standard_normal((4, 3)), RNG.integers(0, 3, 4)
    for legacy in [dict(size_average=False), dict(reduce=False), dict(size_average=True, reduce=True)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = F.cross_entropy(dendrite.tensor(logits), dendrite.tensor(labels), **legacy)
            theirs = TF.cross_entropy(torch.tensor(logits), torch.tensor(labels), **legacy)
        assert_close(ours, theirs, what=str(legacy))


# ----------------------------------------------------------------------------- regression losses
REGRESSION = [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
              ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}), ("huber_loss", {"delta": 0.4})]


@pytest.mark.parametrize("name, options", REGRESSION)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(name, options, reduction):
    prediction = RNG.standard_normal((4, 5))
    target = prediction + RNG.standard_normal((4, 5))
    target[0, :3] = prediction[0, :3]  # d = 0 exactly
    beta = options.get("beta", options.get("delta", 1.0))
    target[1, :2] = prediction[1, :2] - beta  # d = +beta, the kink
    target[1, 2:4] = prediction[1, 2:4] + beta  # d = -beta
    compare_with_torch(lambda x, t: getattr(F, name)(x, t, reduction=reduction, **options),
                       lambda x, t: getattr(TF, name)(x, t, reduction=reduction, **options),
                       [prediction, target])


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_regression_losses(name, reduction):
    arrays = [RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4)), RNG.uniform(0.1, 2, (3, 4))]
    compare_with_torch(lambda x, t, w: getattr(F, name)(x, t, reduction=reduction, weight=w),
                       lambda x, t, w: getattr(TF, name)(x, t, reduction=reduction, weight=w), arrays)


def test_regression_broadcasting_warns_like_torch_and_mismatch_errors():
    arrays = [RNG.standard_normal((3, 1)), RNG.standard_normal((3,))]
    with pytest.warns(UserWarning, match="target size"):
        compare_with_torch(F.mse_loss, TF.mse_loss, arrays)
    with pytest.raises(RuntimeError, match="cannot be broadcast"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        F.mse_loss(dendrite.zeros(3), dendrite.zeros(4))
    with pytest.raises(ValueError, match="same size"):
        F.mse_loss(dendrite.zeros(3), dendrite.zeros(3), weight=dendrite.ones(2))
    with pytest.raises(RuntimeError, match="beta"):
        F.smooth_l1_loss(dendrite.zeros(3), dendrite.zeros(3), beta=-1.0)


# ----------------------------------------------------------------------------- binary cross-entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (3, 4), (4,)])
def test_binary_cross_entropy(reduction, weight_shape):
    probabilities = RNG.uniform(0.01, 0.99, (3, 4))
    probabilities[0, 0], probabilities[0, 1] = 0.0, 1.0  # log(0) clamps at -100
    target = RNG.uniform(0, 1, (3, 4))
    weight = None if weight_shape is None else RNG.uniform(0.1, 2, weight_shape)
    arrays = [probabilities, target]

    def ours(x, t):
        return F.binary_cross_entropy(x, t, weight if weight is None else dendrite.tensor(weight),
                                      reduction=reduction)

    def theirs(x, t):
        return TF.binary_cross_entropy(x, t, weight if weight is None else torch.tensor(weight),
                                       reduction=reduction)

    # Without the 0/1 entries the target gradient (-logit(x)) is finite; check it there.
    compare_with_torch(ours, theirs, arrays, grad_inputs=[0])
    arrays[0][0, :2] = 0.3
    compare_with_torch(ours, theirs, arrays)


def test_binary_cross_entropy_errors():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(dendrite.tensor([1.5]), dendrite.tensor([1.0]))
    with pytest.raises(ValueError, match="same size"):
        F.binary_cross_entropy(dendrite.tensor([0.5]), dendrite.tensor([1.0, 0.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_binary_cross_entropy_with_logits(reduction, weighted, pos_weighted):
    logits = RNG.standard_normal((5, 3)) * 4
    logits[0] = [-200.0, 200.0, 0.0]  # stable far into both tails
    target = RNG.uniform(0, 1, (5, 3))
    weight, pos_weight = RNG.uniform(0.1, 2, (5, 3)), RNG.uniform(0.5, 3, 3)

    def call(module, tensor):
        return lambda x, t: module.binary_cross_entropy_with_logits(
            x, t, weight=tensor(weight) if weighted else None, reduction=reduction,
            pos_weight=tensor(pos_weight) if pos_weighted else None)

    compare_with_torch(call(F, dendrite.tensor), call(TF, torch.tensor), [logits, target])


# ----------------------------------------------------------------------------- KL divergence
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    log_probabilities = torch.log_softmax(torch.tensor(RNG.standard_normal((4, 5))), 1).numpy()
    target = torch.softmax(torch.tensor(RNG.standard_normal((4, 5))), 1).numpy()
    if log_target:
        target = np.log(target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_with_torch(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
                           lambda x, t: TF.kl_div(x, t, reduction=reduction, log_target=log_target),
                           [log_probabilities, target])


def test_kl_div_zero_target_matches_torch_including_nan_gradient():
    target = np.array([[0.0, 0.5, 0.5]])
    compare_with_torch(lambda x, t: F.kl_div(x, t, reduction="sum"),
                       lambda x, t: TF.kl_div(x, t, reduction="sum"), [RNG.standard_normal((1, 3)), target])


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(dendrite.zeros(2, 2), dendrite.ones(2, 2))


# ----------------------------------------------------------------------------- composed losses
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # PyTorch's NaN target gradient at 0
def test_poisson_nll_loss(log_input, full):
    rate, counts = RNG.uniform(0.1, 3, (4, 3)), RNG.integers(0, 5, (4, 3)).astype(float)
    compare_with_torch(lambda x, t: F.poisson_nll_loss(x, t, log_input=log_input, full=full),
                       lambda x, t: TF.poisson_nll_loss(x, t, log_input=log_input, full=full), [rate, counts])


@pytest.mark.parametrize("var_columns", [slice(None), 0, slice(0, 1)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll_loss(var_columns, reduction):
    mean, target = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    variance = RNG.uniform(0.5, 2, (4, 3))
    variance[0, 0] = 1e-9  # clamped to eps in the forward only
    compare_with_torch(lambda x, t, v: F.gaussian_nll_loss(x, t, v, full=True, reduction=reduction),
                       lambda x, t, v: TF.gaussian_nll_loss(x, t, v, full=True, reduction=reduction),
                       [mean, target, variance[:, var_columns]])
    compare_with_torch(lambda x, t: F.gaussian_nll_loss(x, t, 0.7, reduction=reduction),
                       lambda x, t: TF.gaussian_nll_loss(x, t, 0.7, reduction=reduction), [mean, target])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses(reduction):
    x1, x2 = RNG.standard_normal(6), RNG.standard_normal(6)
    signs = RNG.choice([-1.0, 1.0], 6)
    compare_with_torch(lambda a, b, t: F.margin_ranking_loss(a, b, t, margin=0.3, reduction=reduction),
                       lambda a, b, t: TF.margin_ranking_loss(a, b, t, margin=0.3, reduction=reduction),
                       [x1, x2, signs], grad_inputs=[0, 1])
    compare_with_torch(lambda a, t: F.hinge_embedding_loss(a, t, margin=0.5, reduction=reduction),
                       lambda a, t: TF.hinge_embedding_loss(a, t, margin=0.5, reduction=reduction),
                       [x1, signs], grad_inputs=[0])
    compare_with_torch(lambda a, t: F.soft_margin_loss(a, t, reduction=reduction),
                       lambda a, t: TF.soft_margin_loss(a, t, reduction=reduction), [x1, signs],
                       grad_inputs=[0])
    m1, m2 = RNG.standard_normal((6, 4)), RNG.standard_normal((6, 4))
    compare_with_torch(lambda a, b, t: F.cosine_embedding_loss(a, b, t, margin=-0.2, reduction=reduction),
                       lambda a, b, t: TF.cosine_embedding_loss(a, b, t, margin=-0.2, reduction=reduction),
                       [m1, m2, signs], grad_inputs=[0, 1])
    labels = RNG.integers(0, 2, (6, 4)).astype(float)
    weight = RNG.uniform(0.5, 2, 4)
    compare_with_torch(lambda a, t, w: F.multilabel_soft_margin_loss(a, t, w, reduction=reduction),
                       lambda a, t, w: TF.multilabel_soft_margin_loss(a, t, w, reduction=reduction),
                       [m1, labels, weight], grad_inputs=[0])


@pytest.mark.parametrize("p, margin, weighted", [(1, 1.0, False), (2, 0.5, True), (1, 2.0, True)])
def test_multi_margin_loss(p, margin, weighted):
    weight = RNG.uniform(0.5, 2, 4)
    for shape, label_shape in (((6, 4), (6,)), ((4,), ())):
        labels = RNG.integers(0, 4, label_shape)
        for reduction in REDUCTIONS:
            def ours(x, t, reduction=reduction):
                return F.multi_margin_loss(x, t, p, margin, dendrite.tensor(weight) if weighted else None,
                                           reduction=reduction)

            def theirs(x, t, reduction=reduction):
                return TF.multi_margin_loss(x, t, p, margin, torch.tensor(weight) if weighted else None,
                                            reduction=reduction)

            compare_with_torch(ours, theirs, [RNG.standard_normal(shape), labels], grad_inputs=[0])


@pytest.mark.parametrize("p, swap", [(2, False), (2, True), (1, False), (3, True)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_loss(p, swap, reduction):
    arrays = [RNG.standard_normal((5, 3)) for _ in range(3)]
    options = dict(margin=1.5, p=p, swap=swap, reduction=reduction)
    compare_with_torch(lambda a, b, c: F.triplet_margin_loss(a, b, c, **options),
                       lambda a, b, c: TF.triplet_margin_loss(a, b, c, **options), arrays)
