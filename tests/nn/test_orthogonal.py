"""parametrizations.orthogonal against PyTorch in float64: the registered weight, original, base and
state_dict keys, training steps for every map, wide/tall/batched weights, assignment, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrizations as torch_parametrizations

import dendrite
from dendrite.nn.utils.parametrizations import orthogonal

RNG = np.random.default_rng(0)


def _pair(out_features, in_features):
    ours = dendrite.nn.Linear(in_features, out_features, dtype=dendrite.float64)  # same weights in both
    theirs = torch.nn.Linear(in_features, out_features, dtype=torch.float64)
    weight, bias = RNG.standard_normal((out_features, in_features)), RNG.standard_normal(out_features)
    with dendrite.no_grad():
        ours.weight.copy_(dendrite.tensor(weight))
        ours.bias.copy_(dendrite.tensor(bias))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(weight))
        theirs.bias.copy_(torch.tensor(bias))
    return ours, theirs


def _close(ours, theirs, tol=1e-10):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("shape, orthogonal_map", [((4, 4), None), ((4, 4), "cayley"),
                                                   ((4, 4), "householder"), ((5, 3), None),
                                                   ((5, 3), "matrix_exp"), ((5, 3), "cayley")])
def test_orthogonal_matches_pytorch_at_registration_and_after_training(shape, orthogonal_map):
    ours, theirs = _pair(*shape)
    orthogonal(ours, orthogonal_map=orthogonal_map)
    torch_parametrizations.orthogonal(theirs, orthogonal_map=orthogonal_map)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _close(ours.weight, theirs.weight)
    _close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original)
    x = RNG.standard_normal((6, shape[1]))
    ours_opt = dendrite.optim.SGD(ours.parameters(), lr=0.1)
    theirs_opt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(3):
        for layer, opt, lib in ((ours, ours_opt, dendrite), (theirs, theirs_opt, torch)):
            opt.zero_grad()
            layer(lib.tensor(x)).pow(3).sum().backward()
            opt.step()
    if shape[0] == shape[1]:
        # A tall weight is completed to a square base with random columns (torch.randn in PyTorch too),
        # which the updates then mix in: only square weights can follow PyTorch step by step.
        _close(ours.parametrizations.weight.original.grad, theirs.parametrizations.weight.original.grad, 1e-8)
        _close(ours.weight, theirs.weight, 1e-8)
    q = ours.weight.detach().numpy()
    small = q.T @ q if shape[0] >= shape[1] else q @ q.T
    np.testing.assert_allclose(small, np.eye(min(shape)), atol=1e-12)


def test_wide_and_batched_weights_stay_orthogonal():
    wide = orthogonal(dendrite.nn.Linear(5, 3), orthogonal_map="householder")
    q = wide.weight.detach().numpy()
    np.testing.assert_allclose(q @ q.T, np.eye(3), atol=1e-5)
    holder = dendrite.nn.Module()
    holder.weight = dendrite.nn.Parameter(dendrite.randn(2, 3, 3))
    orthogonal(holder)
    q = holder.weight.detach().numpy()
    np.testing.assert_allclose(q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-5)


def test_householder_without_trivialization_matches_pytorch():
    ours, theirs = _pair(4, 3)
    orthogonal(ours, orthogonal_map="householder", use_trivialization=False)
    torch_parametrizations.orthogonal(theirs, orthogonal_map="householder", use_trivialization=False)
    _close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original)
    _close(ours.weight, theirs.weight)
    assert "parametrizations.weight.base" not in ours.state_dict()


def test_assigning_an_orthogonal_matrix_rebases_like_pytorch():
    ours, theirs = _pair(3, 3)
    orthogonal(ours)
    torch_parametrizations.orthogonal(theirs)
    target = np.linalg.qr(RNG.standard_normal((3, 3)))[0]
    with dendrite.no_grad():
        ours.weight = dendrite.tensor(target)
    with torch.no_grad():
        theirs.weight = torch.tensor(target)
    _close(ours.weight, theirs.weight)
    _close(ours.weight, torch.tensor(target))


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 "):
        orthogonal(dendrite.nn.Linear(2, 2), "bias")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley"'):
        orthogonal(dendrite.nn.Linear(2, 2), orthogonal_map="qr")
    # without trivialization the matrix exponential has no right inverse: registration keeps the weight as
    # the original (PyTorch catches the NotImplementedError), assignment says why it cannot
    ours, theirs = _pair(2, 2)
    orthogonal(ours, use_trivialization=False)
    torch_parametrizations.orthogonal(theirs, use_trivialization=False)
    _close(ours.parametrizations.weight.original, theirs.parametrizations.weight.original)
    with pytest.raises(NotImplementedError, match="not possible to assign to the matrix exponential"):
        with dendrite.no_grad():
            ours.weight = dendrite.eye(2, dtype=dendrite.float64)
