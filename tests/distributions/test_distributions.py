"""dendrite.distributions against torch.distributions in float64: log_prob, entropy, the lazily computed
parameter, sample shapes and frequencies, rsample gradients, kl_divergence, and the argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.distributions as td

import dendrite
from dendrite.distributions import Bernoulli, Categorical, Distribution, Normal, kl_divergence

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((4, 5))
PROBS = RNG.random((4, 5)) + 0.05


def _ours(array):
    return dendrite.from_numpy(np.asarray(array))


def _check(ours, theirs, rtol=1e-12):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=1e-14)


@pytest.mark.parametrize("given", ["probs", "logits"])
def test_categorical_matches_pytorch(given):
    source = PROBS if given == "probs" else LOGITS
    ours = Categorical(**{given: _ours(source)})
    theirs = td.Categorical(**{given: torch.from_numpy(source)})
    value = np.array([[0, 4, 2, 1], [3, 3, 0, 4]])
    _check(ours.log_prob(_ours(value)), theirs.log_prob(torch.from_numpy(value)))
    _check(ours.log_prob(_ours(np.array(2))), theirs.log_prob(torch.tensor(2)))
    _check(ours.entropy(), theirs.entropy())
    _check(ours.probs, theirs.probs)
    _check(ours.logits, theirs.logits)
    _check(ours.mode, theirs.mode)
    assert ours.batch_shape == tuple(theirs.batch_shape) and ours.event_shape == ()
    assert ours.sample((2, 3)).shape == tuple(theirs.sample((2, 3)).shape) == (2, 3, 4)
    assert ours.sample().dtype == dendrite.int64
    _check(ours.enumerate_support(), theirs.enumerate_support())


def test_categorical_log_prob_gradient_matches_pytorch():
    ours_logits = _ours(LOGITS).requires_grad_()
    theirs_logits = torch.from_numpy(LOGITS).requires_grad_()
    action = np.array([1, 0, 4, 2])
    (Categorical(logits=ours_logits).log_prob(_ours(action)) * 2.0).sum().backward()
    (td.Categorical(logits=theirs_logits).log_prob(torch.from_numpy(action)) * 2.0).sum().backward()
    _check(ours_logits.grad, theirs_logits.grad)
    probs = _ours(PROBS).requires_grad_()
    theirs_probs = torch.from_numpy(PROBS).requires_grad_()
    Categorical(probs=probs).entropy().sum().backward()
    td.Categorical(probs=theirs_probs).entropy().sum().backward()
    _check(probs.grad, theirs_probs.grad, rtol=1e-10)


def test_categorical_samples_follow_the_probabilities():
    dendrite.manual_seed(0)
    draws = Categorical(probs=dendrite.tensor([0.1, 0.6, 0.3])).sample((20000,)).numpy()
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20000, [0.1, 0.6, 0.3], atol=0.015)


def test_bernoulli_matches_pytorch():
    probs = RNG.random(6)
    for kwargs, theirs_kwargs in (({"probs": _ours(probs)}, {"probs": torch.from_numpy(probs)}),
                                  ({"logits": _ours(LOGITS[0])}, {"logits": torch.from_numpy(LOGITS[0])})):
        ours, theirs = Bernoulli(**kwargs), td.Bernoulli(**theirs_kwargs)
        value = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])[: ours.batch_shape[0]]
        _check(ours.log_prob(_ours(value)), theirs.log_prob(torch.from_numpy(value)))
        _check(ours.entropy(), theirs.entropy())
        _check(ours.logits, theirs.logits)
        _check(ours.variance, theirs.variance)
        assert ours.sample((3,)).shape == tuple(theirs.sample((3,)).shape)


def test_normal_matches_pytorch_and_rsample_carries_the_gradient():
    loc, scale = RNG.standard_normal(3), RNG.random(3) + 0.5
    ours, theirs = Normal(_ours(loc), _ours(scale)), td.Normal(torch.from_numpy(loc), torch.from_numpy(scale))
    value = RNG.standard_normal((2, 3))
    _check(ours.log_prob(_ours(value)), theirs.log_prob(torch.from_numpy(value)))
    _check(ours.cdf(_ours(value)), theirs.cdf(torch.from_numpy(value)))
    _check(ours.entropy(), theirs.entropy())
    assert Normal(0.0, 1.0).log_prob(dendrite.tensor(0.5)).dtype == dendrite.float32
    mean = dendrite.tensor([1.0, -1.0], requires_grad=True)
    std = dendrite.tensor([0.5, 2.0], requires_grad=True)
    dendrite.manual_seed(1)
    draw = Normal(mean, std).rsample((4,))
    draw.sum().backward()
    np.testing.assert_allclose(mean.grad.numpy(), [4.0, 4.0])
    eps = (draw.detach() - mean.detach()) / std.detach()
    np.testing.assert_allclose(std.grad.numpy(), eps.sum(0).numpy(), rtol=1e-5)
    assert not Normal(mean, std).sample().requires_grad


def test_normal_samples_have_the_asked_moments():
    dendrite.manual_seed(0)
    draws = Normal(dendrite.tensor(2.0), dendrite.tensor(3.0)).sample((40000,)).numpy()
    assert abs(draws.mean() - 2.0) < 0.05 and abs(draws.std() - 3.0) < 0.05


def _t(values):
    return torch.tensor(values, dtype=torch.float64)


def test_kl_divergence_matches_pytorch():
    cases = [
        (Normal(_ours([0.0, 1.0]), _ours([1.0, 2.0])), Normal(_ours([0.5, -1.0]), _ours([0.3, 1.0])),
         td.Normal(_t([0.0, 1.0]), _t([1.0, 2.0])), td.Normal(_t([0.5, -1.0]), _t([0.3, 1.0]))),
        (Categorical(probs=_ours(PROBS)), Categorical(logits=_ours(LOGITS)),
         td.Categorical(probs=torch.from_numpy(PROBS)), td.Categorical(logits=torch.from_numpy(LOGITS))),
        (Bernoulli(probs=_ours(PROBS[0] / 2)), Bernoulli(logits=_ours(LOGITS[0])),
         td.Bernoulli(probs=torch.from_numpy(PROBS[0] / 2)),
         td.Bernoulli(logits=torch.from_numpy(LOGITS[0]))),
    ]
    for p, q, tp, tq in cases:
        _check(kl_divergence(p, q), td.kl_divergence(tp, tq), rtol=1e-10)
    zero, other = [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]
    p, q = Categorical(probs=_ours(zero)), Categorical(probs=_ours(other))
    theirs = td.kl_divergence(td.Categorical(probs=_t(zero)), td.Categorical(probs=_t(other)))
    _check(kl_divergence(p, q), theirs)
    assert math.isinf(kl_divergence(q, p).item())
    with pytest.raises(NotImplementedError, match="No KL.*Normal.*Categorical"):
        kl_divergence(Normal(0.0, 1.0), Categorical(logits=dendrite.zeros(2)))


def test_invalid_arguments_and_values_are_refused_like_pytorch():
    with pytest.raises(ValueError, match=r"Expected parameter probs \(Tensor of shape \(1, 2\)\) of "
                                         r"distribution Categorical\(probs: \(1, 2\)\) to satisfy the "
                                         r"constraint Simplex\(\)"):
        Categorical(probs=dendrite.tensor([[float("nan"), 1.0]]))
    with pytest.raises(ValueError, match="constraint IndependentConstraint"):
        Categorical(logits=dendrite.tensor([0.0, float("nan")]))
    with pytest.raises(ValueError, match=r"constraint GreaterThan\(lower_bound=0.0\)"):
        Normal(0.0, -1.0)
    with pytest.raises(ValueError, match=r"Either `probs` or `logits` must be specified, but not both"):
        Categorical(probs=dendrite.ones(2), logits=dendrite.ones(2))
    m = Categorical(probs=dendrite.tensor([0.3, 0.7]))
    with pytest.raises(ValueError, match=r"support \(IntegerInterval\(lower_bound=0, upper_bound=1\)\)"):
        m.log_prob(dendrite.tensor([2]))
    with pytest.raises(ValueError, match="Value is not broadcastable with batch_shape"):
        Categorical(logits=dendrite.zeros(3, 2)).log_prob(dendrite.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"support \(Boolean\(\)\)"):
        Bernoulli(probs=dendrite.tensor([0.5])).log_prob(dendrite.tensor([0.5]))
    with pytest.raises(NotImplementedError, match="Categorical has no reparameterised sampling"):
        m.rsample()
    # validate_args=False skips the checks, as in PyTorch
    assert Categorical(probs=dendrite.tensor([float("nan"), 1.0]), validate_args=False).probs.shape == (2,)
    Distribution.set_default_validate_args(False)
    try:
        Normal(0.0, -1.0)
    finally:
        Distribution.set_default_validate_args(True)
