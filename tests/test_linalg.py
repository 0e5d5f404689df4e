"""dendrite.linalg against torch.linalg in float64: values and gradients (solve, inv, det, slogdet,
matrix_exp, householder_product, the norms), qr's factors, and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import dendrite
from dendrite import linalg
from dendrite.autograd import gradcheck

RNG = np.random.default_rng(0)


def _matrices(*shape):
    a = RNG.standard_normal(shape)
    return a + 3 * np.eye(shape[-1]) if shape[-1] == shape[-2] else a  # well conditioned


def _compare(fn_ours, fn_theirs, *arrays, rtol=1e-10):
    ours = [dendrite.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn_ours(*ours), fn_theirs(*theirs)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=rtol, atol=1e-12)
    weights = RNG.standard_normal(tuple(expected.shape))
    (out * dendrite.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for mine, other in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), other.grad.numpy(), rtol=rtol, atol=1e-10)


@pytest.mark.parametrize("shapes", [((3, 3), (3, 2)), ((2, 4, 4), (2, 4, 1)), ((4, 4), (4,)),
                                    ((2, 3, 3), (2, 3)), ((2, 3, 3), (3, 2))])
def test_solve_matches_pytorch(shapes):
    a, b = _matrices(*shapes[0]), RNG.standard_normal(shapes[1])
    _compare(linalg.solve, torch.linalg.solve, a, b)


def test_solve_left_false_matches_pytorch():
    a, b = _matrices(3, 3), RNG.standard_normal((2, 3))
    _compare(lambda x, y: linalg.solve(x, y, left=False),
             lambda x, y: torch.linalg.solve(x, y, left=False), a, b)


@pytest.mark.parametrize("name", ["inv", "det"])
def test_inv_and_det_match_pytorch(name):
    _compare(getattr(linalg, name), getattr(torch.linalg, name), _matrices(2, 4, 4))


def test_slogdet_matches_pytorch():
    a = _matrices(3, 3) * np.array([[-1.0], [1.0], [1.0]])
    sign, logabsdet = linalg.slogdet(dendrite.tensor(a))
    expected = torch.linalg.slogdet(torch.tensor(a))
    assert sign.item() == expected.sign.item()
    _compare(lambda x: linalg.slogdet(x).logabsdet, lambda x: torch.linalg.slogdet(x).logabsdet, a)


@pytest.mark.parametrize("scale", [0.1, 1.0, 20.0])
def test_matrix_exp_matches_pytorch(scale):
    a = RNG.standard_normal((2, 4, 4)) * scale
    _compare(linalg.matrix_exp, torch.linalg.matrix_exp, a, rtol=1e-9)
    assert dendrite.matrix_exp is linalg.matrix_exp


def test_matrix_exp_of_a_skew_matrix_is_orthogonal_and_passes_gradcheck():
    a = RNG.standard_normal((5, 5))
    q = linalg.matrix_exp(dendrite.tensor(a - a.T)).numpy()
    np.testing.assert_allclose(q @ q.T, np.eye(5), atol=1e-12)
    assert gradcheck(linalg.matrix_exp, (dendrite.tensor(RNG.standard_normal((3, 3)), requires_grad=True),))


def test_qr_matches_pytorch_up_to_signs():
    a = RNG.standard_normal((5, 3))
    q, r = linalg.qr(dendrite.tensor(a))
    tq, tr = torch.linalg.qr(torch.tensor(a))
    np.testing.assert_allclose(q.numpy(), tq.numpy(), atol=1e-12)  # the same LAPACK routine
    np.testing.assert_allclose(r.numpy(), tr.numpy(), atol=1e-12)
    assert linalg.qr(dendrite.tensor(a), mode="complete").Q.shape == (5, 5)
    with pytest.raises(RuntimeError, match="does not differentiate the QR decomposition"):
        linalg.qr(dendrite.tensor(a, requires_grad=True)).Q.sum().backward()


def test_householder_product_matches_pytorch():
    a, tau = RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 3))
    _compare(linalg.householder_product, torch.linalg.householder_product, a, tau)


@pytest.mark.parametrize("ord", [2, 1, 3.5, math.inf, -math.inf])
@pytest.mark.parametrize("dim", [None, 1, (0, 2)])
def test_vector_norm_matches_pytorch(ord, dim):
    x = RNG.standard_normal((2, 3, 4))
    _compare(lambda t: linalg.vector_norm(t, ord, dim), lambda t: torch.linalg.vector_norm(t, ord, dim), x)
    _compare(lambda t: linalg.vector_norm(t, ord, dim, keepdim=True),
             lambda t: torch.linalg.vector_norm(t, ord, dim, keepdim=True), x)


@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf])
def test_matrix_norm_and_norm_match_pytorch(ord):
    a = RNG.standard_normal((2, 3, 4))
    _compare(lambda t: linalg.matrix_norm(t, ord), lambda t: torch.linalg.matrix_norm(t, ord), a)
    _compare(lambda t: linalg.norm(t, ord, dim=(1, 2)), lambda t: torch.linalg.norm(t, ord, dim=(1, 2)), a)
    _compare(lambda t: linalg.norm(t[0], ord), lambda t: torch.linalg.norm(t[0], ord), a)
    _compare(linalg.norm, torch.linalg.norm, a)


def test_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="A must be batches of square matrices"):
        linalg.solve(dendrite.ones(2, 3), dendrite.ones(2))
    with pytest.raises(RuntimeError, match="input matrix is singular"):
        linalg.solve(dendrite.zeros(2, 2), dendrite.ones(2))
    with pytest.raises(RuntimeError, match="Incompatible shapes of A and B"):
        linalg.solve(dendrite.eye(2), dendrite.ones(3, 1))
    with pytest.raises(RuntimeError, match="Order 2 not supported by dendrite"):
        linalg.matrix_norm(dendrite.eye(2), ord=2)
