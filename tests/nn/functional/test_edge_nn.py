"""Edge cases of nn functions against PyTorch: one value per channel/group, empty dims, odd loss shapes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F


def _outcome(fn):
    """``("ok", array)`` or ``("error", exception type)`` of calling ``fn``."""
    try:
        out = fn()
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        return "error", type(error)
    return "ok", np.asarray(out.detach().numpy() if isinstance(out, torch.Tensor) else out.array)


def _same(ours, theirs):
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "ok":
        assert ours[1].shape == theirs[1].shape
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, atol=1e-6, equal_nan=True)
    else:
        assert ours[1] is theirs[1], (ours, theirs)


# ----------------------------------------------------------------------------- one value per channel
@pytest.mark.parametrize("shape, groups", [((2, 4, 1), 4), ((2, 4), 4), ((1, 4), 4), ((1, 4), 1),
                                           ((1, 2, 1), 2), ((1, 2, 1), 1), ((1, 0), 1), ((0, 4), 2),
                                           ((1, 2, 0), 2)])
def test_group_norm_one_value_per_group(shape, groups):
    x = np.random.default_rng(0).standard_normal(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = _outcome(lambda: F.group_norm(dendrite.tensor(x), groups))
    _same(ours, _outcome(lambda: TF.group_norm(torch.tensor(x), groups)))


def test_group_norm_one_value_message():
    with pytest.raises(ValueError, match="group_norm: expected more than 1 value per channel when training"):
        F.group_norm(dendrite.randn(1, 4), 4)


@pytest.mark.parametrize("shape", [(1, 4), (1, 4, 1), (1, 2, 1, 1), (2, 4), (0, 4), (3, 0),
                                   (1, 0, 5), (0, 2, 2)])
def test_batch_norm_one_value_per_channel_in_training(shape):
    x = np.random.default_rng(1).standard_normal(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = _outcome(lambda: F.batch_norm(dendrite.tensor(x), None, None, training=True))
    _same(ours, _outcome(lambda: TF.batch_norm(torch.tensor(x), None, None, training=True)))


def test_layer_norm_constant_float32_row_is_zero():
    x = np.full((2, 3), 1.0850189, dtype=np.float32)
    out = F.layer_norm(dendrite.tensor(x), (3,)).array
    np.testing.assert_array_equal(out, TF.layer_norm(torch.tensor(x), (3,)).numpy())


# ----------------------------------------------------------------------------- empty dims in pooling
POOL_SHAPES = [(2, 0, 3), (0, 2, 3), (2, 3, 0), (3, 0), (0, 3), (2, 0, 3, 3), (2, 1, 0, 3), (0, 2, 3, 3),
               (0, 3, 3), (3, 0, 3), (2, 3, 3)]


@pytest.mark.parametrize("name", ["max_pool1d", "avg_pool1d", "max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("shape", POOL_SHAPES)
def test_pooling_empty_dims(name, shape):
    dims = 1 if name.endswith("1d") else 2
    if len(shape) not in (dims + 1, dims + 2):
        return
    x = np.zeros(shape, dtype=np.float32)
    _same(_outcome(lambda: getattr(F, name)(dendrite.tensor(x), 1)),
          _outcome(lambda: getattr(TF, name)(torch.tensor(x), 1)))


@pytest.mark.parametrize("name", ["max_pool1d", "avg_pool1d"])
def test_pooling_empty_channels_message(name):
    with pytest.raises(RuntimeError, match=f"{name}: .*non-empty C and L"):
        getattr(F, name)(dendrite.zeros(2, 0, 3), 1)


# ----------------------------------------------------------------------------- loss shapes
LOSS_SHAPES = [((0,), (0,)), ((0,), ()), ((), (0,)), ((2,), (3,)), ((2, 3), (3,)), ((3,), (2, 3)),
               ((0,), (1,)), ((1,), (0,)), ((), (2,)), ((2,), ())]


@pytest.mark.parametrize("name", ["kl_div", "soft_margin_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shapes", LOSS_SHAPES)
def test_loss_empty_or_mismatched_shapes(name, reduction, shapes):
    x, t = np.full(shapes[0], 0.5), np.full(shapes[1], 0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's 'mean' warning, on both sides
        ours = _outcome(lambda: getattr(F, name)(dendrite.tensor(x), dendrite.tensor(t), reduction=reduction))
        theirs = _outcome(lambda: getattr(TF, name)(torch.tensor(x), torch.tensor(t), reduction=reduction))
    _same(ours, theirs)
    if ours[0] == "error":
        assert ours[1] is RuntimeError


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("value", [0.0, 0.5, float("inf")])
def test_kl_div_target_gradient_over_empty_broadcast(log_target, value):
    grads = []
    for lib, fn in ((dendrite, F.kl_div), (torch, TF.kl_div)):
        x = lib.zeros(0, dtype=lib.float64, requires_grad=True)
        t = lib.tensor(value, dtype=lib.float64, requires_grad=True)
        fn(x, t, reduction="sum", log_target=log_target).backward()
        grads.append(float(t.grad.item()))
    np.testing.assert_array_equal(grads[0], grads[1])


def test_loss_shape_messages():
    with pytest.raises(RuntimeError, match="kl_div: input of shape"):
        F.kl_div(dendrite.zeros(2), dendrite.zeros(3), reduction="sum")
    with pytest.raises(RuntimeError, match="soft_margin_loss: target of shape \\(2, 3\\)"):
        F.soft_margin_loss(dendrite.zeros(3), dendrite.zeros(2, 3))
