"""batch/layer/group/instance/RMS norm against PyTorch, including the running-statistics updates."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F
from tests.helpers import assert_close, compare_with_torch

RNG = np.random.default_rng(0)
SHAPES = [(6, 3), (4, 3, 5), (2, 3, 4, 5)]


def _data(shape):
    return RNG.standard_normal(shape) * 2 + 0.5


def _affine(shape, affine: bool) -> list:
    """A random weight and bias of ``shape`` when ``affine``, else nothing."""
    return [RNG.standard_normal(shape), RNG.standard_normal(shape)] if affine else []


def _f64(values) -> torch.Tensor:
    return torch.tensor(np.asarray(values, dtype=np.float64))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(shape, affine, training):
    channels = shape[1]
    mean, var = RNG.standard_normal(channels), RNG.uniform(0.5, 2, channels)
    arrays = [_data(shape)] + _affine(channels, affine)

    def ours(x, *params):
        return F.batch_norm(x, dendrite.tensor(mean), dendrite.tensor(var), *params, training=training,
                            momentum=0.2, eps=1e-3)

    def theirs(x, *params):
        return TF.batch_norm(x, torch.tensor(mean), torch.tensor(var), *params, training=training,
                             momentum=0.2, eps=1e-3)

    compare_with_torch(ours, theirs, arrays)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0])
def test_batch_norm_updates_running_statistics_like_torch(shape, momentum):
    channels = shape[1]
    ours_mean, ours_var = dendrite.tensor(np.zeros(channels)), dendrite.tensor(np.ones(channels))
    theirs_mean, theirs_var = _f64(np.zeros(channels)), _f64(np.ones(channels))
    for step in range(3):
        x = _data(shape) + step
        F.batch_norm(dendrite.tensor(x), ours_mean, ours_var, training=True, momentum=momentum)
        TF.batch_norm(torch.tensor(x), theirs_mean, theirs_var, training=True, momentum=momentum)
        assert_close(ours_mean, theirs_mean, rtol=1e-12, what="running_mean")
        assert_close(ours_var, theirs_var, rtol=1e-12, what="running_var")


def test_batch_norm_running_var_is_unbiased():
    x = np.array([[1.0], [3.0]])  # batch variance: biased 1, unbiased 2
    mean, var = dendrite.tensor([0.0]), dendrite.tensor([0.0])
    F.batch_norm(dendrite.tensor(x), mean, var, training=True, momentum=1.0)
    assert mean.item() == 2.0 and var.item() == 2.0


def test_batch_norm_momentum_none_leaves_statistics_and_none_statistics_are_allowed():
    mean, var = dendrite.zeros(3), dendrite.ones(3)
    x = dendrite.randn(5, 3)
    F.batch_norm(x, mean, var, training=True, momentum=None)
    assert not mean.numpy().any() and (var.numpy() == 1).all()
    data = _data((5, 3))
    out = F.batch_norm(dendrite.tensor(data), None, None, training=True)
    assert_close(out, TF.batch_norm(torch.tensor(data), None, None, training=True))


def test_batch_norm_gradcheck_and_composed_form():
    x = dendrite.tensor(_data((3, 2, 2)), requires_grad=True)
    w = dendrite.tensor(RNG.standard_normal(2), requires_grad=True)
    b = dendrite.tensor(RNG.standard_normal(2), requires_grad=True)
    assert dendrite.autograd.gradcheck(
        lambda *t: F.batch_norm(t[0], None, None, t[1], t[2], training=True), (x, w, b))
    # The fused op equals the textbook composition.
    composed_x = dendrite.tensor(x.detach().numpy(), requires_grad=True)
    mean = composed_x.mean(dim=(0, 2), keepdim=True)
    var = composed_x.var(dim=(0, 2), keepdim=True, unbiased=False)
    scale, shift = w.detach().reshape(1, 2, 1), b.detach().reshape(1, 2, 1)
    composed = (composed_x - mean) / (var + 1e-5).sqrt() * scale + shift
    fused = F.batch_norm(x, None, None, w, b, training=True)
    assert_close(fused, composed.detach().numpy(), rtol=1e-10)
    weights = dendrite.tensor(RNG.standard_normal((3, 2, 2)))
    (fused * weights).sum().backward()
    (composed * weights).sum().backward()
    assert_close(x.grad, composed_x.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(dendrite.zeros(1, 3), dendrite.zeros(3), dendrite.ones(3), training=True)
    with pytest.raises(RuntimeError, match="running_mean should contain 3"):
        F.batch_norm(dendrite.zeros(4, 3), dendrite.zeros(4), dendrite.ones(3))
    with pytest.raises(RuntimeError, match="evaluation"):
        F.batch_norm(dendrite.zeros(4, 3), None, None, training=False)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.batch_norm(dendrite.zeros(4), None, None, training=True)


def test_batch_norm_keeps_float32_and_updates_float32_statistics():
    mean, var = dendrite.zeros(3), dendrite.ones(3)
    x = dendrite.randn(8, 3, 4, requires_grad=True)
    out = F.batch_norm(x, mean, var, training=True)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == mean.dtype == dendrite.float32
    assert mean.numpy().any()


@pytest.mark.parametrize("shape, normalized", [((4, 6), (6,)), ((2, 3, 4), (3, 4)), ((2, 3, 4), (4,)),
                                                ((5,), (5,)), ((2, 3, 4), 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(shape, normalized, affine):
    param_shape = (normalized,) if isinstance(normalized, int) else normalized
    arrays = [_data(shape)] + _affine(param_shape, affine)
    compare_with_torch(lambda x, *p: F.layer_norm(x, normalized, *p, eps=1e-4),
                       lambda x, *p: TF.layer_norm(x, param_shape, *p, eps=1e-4), arrays)


def test_layer_norm_weight_only_and_errors():
    compare_with_torch(lambda x, w: F.layer_norm(x, (4,), w), lambda x, w: TF.layer_norm(x, (4,), w),
                       [_data((3, 4)), RNG.standard_normal(4)])
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[5\].*\(2, 3\)"):
        F.layer_norm(dendrite.zeros(2, 3), (5,))
    with pytest.raises(RuntimeError, match="weight"):
        F.layer_norm(dendrite.zeros(2, 3), (3,), dendrite.ones(4))


def test_layer_norm_gradcheck():
    x = dendrite.tensor(_data((2, 3)), requires_grad=True)
    w = dendrite.tensor(RNG.standard_normal(3), requires_grad=True)
    b = dendrite.tensor(RNG.standard_normal(3), requires_grad=True)
    assert dendrite.autograd.gradcheck(lambda *t: F.layer_norm(t[0], (3,), t[1], t[2]), (x, w, b))


@pytest.mark.parametrize("shape, groups", [((2, 6, 5), 3), ((2, 6, 3, 3), 2), ((3, 4), 4), ((2, 4, 5), 1)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_torch(shape, groups, affine):
    channels = shape[1]
    arrays = [_data(shape)] + _affine(channels, affine)
    compare_with_torch(lambda x, *p: F.group_norm(x, groups, *p, eps=1e-4),
                       lambda x, *p: TF.group_norm(x, groups, *p, eps=1e-4), arrays)


def test_group_norm_errors():
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(dendrite.zeros(2, 6, 4), 4)
    with pytest.raises(RuntimeError, match="weight"):
        F.group_norm(dendrite.zeros(2, 6, 4), 3, dendrite.ones(3))


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_matches_torch_and_updates_statistics(shape, affine):
    channels = shape[1]
    arrays = [_data(shape)] + _affine(channels, affine)
    ours_stats = [dendrite.tensor(np.full(channels, 0.3)), dendrite.tensor(np.full(channels, 1.5))]
    theirs_stats = [_f64(np.full(channels, 0.3)), _f64(np.full(channels, 1.5))]
    compare_with_torch(lambda x, *p: F.instance_norm(x, *ours_stats, *p, momentum=0.3),
                       lambda x, *p: TF.instance_norm(x, *theirs_stats, *p, momentum=0.3), arrays)
    assert_close(ours_stats[0], theirs_stats[0], rtol=1e-12, what="running_mean")
    assert_close(ours_stats[1], theirs_stats[1], rtol=1e-12, what="running_var")
    compare_with_torch(lambda x, *p: F.instance_norm(x, *ours_stats, *p, use_input_stats=False),
                       lambda x, *p: TF.instance_norm(x, *theirs_stats, *p, use_input_stats=False), arrays)


def test_instance_norm_without_statistics_and_errors():
    compare_with_torch(F.instance_norm, TF.instance_norm, [_data((2, 3, 6))])
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(dendrite.zeros(2, 3, 1))


@pytest.mark.parametrize("shape, normalized", [((4, 6), (6,)), ((2, 3, 4), (3, 4))])
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm_matches_torch(shape, normalized, eps, affine):
    arrays = [_data(shape)] + ([RNG.standard_normal(normalized)] if affine else [])
    compare_with_torch(lambda x, *p: F.rms_norm(x, normalized, *p, eps=eps),
                       lambda x, *p: TF.rms_norm(x, normalized, *p, eps=eps), arrays)


@pytest.mark.parametrize("shape", [(2, 7, 5), (2, 6, 3, 4), (1, 5, 2, 2, 3)])
@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_local_response_norm_matches_torch(shape, size):
    compare_with_torch(lambda x: F.local_response_norm(x, size, alpha=0.3, beta=0.6, k=1.5),
                       lambda x: TF.local_response_norm(x, size, alpha=0.3, beta=0.6, k=1.5), [_data(shape)])
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        F.local_response_norm(dendrite.zeros(2, 3), size)
