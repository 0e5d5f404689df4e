"""cosine_similarity and pairwise_distance (and CosineSimilarity, PairwiseDistance) against PyTorch in
float64: values, broadcasting, the eps clamp and the gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F

RNG = np.random.default_rng(0)


def _both(fn_ours, fn_theirs, *arrays):
    ours = [dendrite.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn_ours(*ours), fn_theirs(*theirs)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-14)
    weights = RNG.standard_normal(expected.shape)
    (out * dendrite.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for mine, other in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), other.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shapes, dim", [(((4, 5), (4, 5)), 1), (((3, 4, 2), (4, 2)), -1), (((6,), (6,)), 0),
                                         (((2, 3, 4), (2, 1, 4)), 0)])
def test_cosine_similarity_matches_pytorch(shapes, dim):
    arrays = [RNG.standard_normal(shape) for shape in shapes]
    _both(lambda a, b: F.cosine_similarity(a, b, dim=dim), lambda a, b: TF.cosine_similarity(a, b, dim=dim),
          *arrays)
    _both(lambda a, b: dendrite.nn.CosineSimilarity(dim=dim, eps=1e-6)(a, b),
          lambda a, b: torch.nn.CosineSimilarity(dim=dim, eps=1e-6)(a, b), *arrays)


def test_cosine_similarity_clamps_tiny_norms_like_pytorch():
    tiny = np.array([[1e-10, 0.0, 0.0], [3.0, 4.0, 0.0]])
    other = RNG.standard_normal((2, 3))
    _both(F.cosine_similarity, TF.cosine_similarity, tiny, other)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_matches_pytorch(p, keepdim):
    a, b = RNG.standard_normal((5, 4)), RNG.standard_normal((5, 4))
    _both(lambda x, y: F.pairwise_distance(x, y, p=p, keepdim=keepdim),
          lambda x, y: TF.pairwise_distance(x, y, p=p, keepdim=keepdim), a, b)
    _both(lambda x, y: dendrite.nn.PairwiseDistance(p=p, keepdim=keepdim)(x, y),
          lambda x, y: torch.nn.PairwiseDistance(p=p, keepdim=keepdim)(x, y), a, b[:1])


def test_cosine_similarity_rejects_a_bad_dim():
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        F.cosine_similarity(dendrite.ones(2, 3), dendrite.ones(2, 3), dim=2)


@pytest.mark.parametrize("shapes, p", [(((4, 3), (5, 3)), 2.0), (((2, 4, 3), (5, 3)), 1.0),
                                       (((2, 4, 3), (2, 6, 3)), 3.0), (((4, 3), (5, 3)), float("inf")),
                                       (((30, 3), (40, 3)), 2.0)])
def test_cdist_matches_pytorch(shapes, p):
    arrays = [RNG.standard_normal(shape) for shape in shapes]
    _both(lambda a, b: dendrite.cdist(a, b, p=p), lambda a, b: torch.cdist(a, b, p=p), *arrays)


def test_cdist_errors():
    with pytest.raises(RuntimeError, match="same number of columns"):
        F.cdist(dendrite.ones(2, 3), dendrite.ones(2, 4))
    with pytest.raises(RuntimeError, match="at least 2D"):
        F.cdist(dendrite.ones(3), dendrite.ones(2, 3))


def test_gumbel_softmax_samples_the_softmax_and_passes_the_soft_gradient():
    dendrite.manual_seed(0)
    logits = dendrite.tensor([0.0, 1.0, 2.0])
    counts = np.zeros(3)
    for _ in range(4000):
        counts[int(F.gumbel_softmax(logits, hard=True).argmax())] += 1
    np.testing.assert_allclose(counts / 4000, np.exp([0, 1, 2]) / np.exp([0, 1, 2]).sum(), atol=0.025)
    x = dendrite.tensor([[1.0, 2.0, 0.5]], requires_grad=True)
    dendrite.manual_seed(1)
    hard = F.gumbel_softmax(x, tau=0.7, hard=True)
    dendrite.manual_seed(1)
    soft = F.gumbel_softmax(x.detach().requires_grad_(), tau=0.7)
    assert sorted(hard.flatten().tolist()) == [0.0, 0.0, 1.0]
    np.testing.assert_allclose(hard.detach().numpy().argmax(), soft.detach().numpy().argmax())
    weights = dendrite.tensor([[1.0, 2.0, 3.0]])
    (hard * weights).sum().backward()
    y = soft.detach().numpy()[0]
    expected = (y * (np.array([1.0, 2.0, 3.0]) - (y * [1.0, 2.0, 3.0]).sum())) / 0.7  # softmax's Jacobian
    np.testing.assert_allclose(x.grad.numpy()[0], expected, rtol=1e-5)
