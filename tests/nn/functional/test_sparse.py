"""embedding and one_hot against PyTorch: repeated indices, padding_idx, max_norm, frequency scaling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F
from tests.helpers import assert_close

RNG = np.random.default_rng(0)


def _embedding_pair(indices, table, **options):
    """Forward and weight gradient of both libraries under a random output weighting."""
    ours_table = dendrite.tensor(table, requires_grad=True)
    theirs_table = torch.tensor(table, requires_grad=True)
    ours = F.embedding(dendrite.tensor(indices), ours_table, **options)
    theirs = TF.embedding(torch.tensor(indices), theirs_table, **options)
    assert_close(ours, theirs, what="forward")
    weights = RNG.standard_normal(tuple(theirs.shape))
    (ours * dendrite.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    assert_close(ours_table.grad, theirs_table.grad, what="weight gradient")
    return ours_table, theirs_table


@pytest.mark.parametrize("indices", [np.array([1, 3, 3, 0, 3]), np.array([[0, 2], [2, 2], [4, 1]]),
                                     np.array(2), np.zeros((0, 3), dtype=np.int64)])
def test_embedding_matches_torch_with_repeated_indices(indices):
    _embedding_pair(indices.astype(np.int64), RNG.standard_normal((5, 4)))


@pytest.mark.parametrize("padding_idx", [0, 2, -1])
def test_padding_row_gets_no_gradient(padding_idx):
    indices = np.array([[0, 2, 4], [2, 1, 0]])
    ours, _ = _embedding_pair(indices, RNG.standard_normal((5, 3)), padding_idx=padding_idx)
    assert not ours.grad.numpy()[padding_idx].any()


def test_scale_grad_by_freq_matches_torch():
    _embedding_pair(np.array([[1, 1, 3], [1, 0, 3]]), RNG.standard_normal((4, 3)), scale_grad_by_freq=True)
    _embedding_pair(np.array([1, 1, 2]), RNG.standard_normal((4, 3)), scale_grad_by_freq=True, padding_idx=1)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0])
def test_max_norm_renormalizes_used_rows_in_place_like_torch(norm_type):
    table = RNG.standard_normal((6, 4)) * 3
    indices = np.array([[0, 1], [1, 4]])
    ours, theirs = _embedding_pair(indices, table, max_norm=1.5, norm_type=norm_type)
    assert_close(ours.detach(), theirs.detach(), rtol=1e-12, what="renormalised table")
    np.testing.assert_array_equal(ours.detach().numpy()[[2, 3, 5]], table[[2, 3, 5]])  # unused rows untouched


def test_embedding_int32_indices_and_float32_table():
    table = dendrite.randn(5, 3, requires_grad=True)
    out = F.embedding(dendrite.tensor(np.array([0, 4, 4], dtype=np.int32)), table)
    out.sum().backward()
    assert out.dtype == table.grad.dtype == dendrite.float32
    np.testing.assert_array_equal(table.grad.numpy()[4], [2.0, 2.0, 2.0])


def test_embedding_errors():
    table = dendrite.randn(5, 3)
    with pytest.raises(IndexError, match="index 5 is out of range"):
        F.embedding(dendrite.tensor([0, 5]), table)
    with pytest.raises(IndexError, match="out of range"):
        F.embedding(dendrite.tensor([-1]), table)
    with pytest.raises(RuntimeError, match="integer indices"):
        F.embedding(dendrite.tensor([0.0, 1.0]), table)
    with pytest.raises(ValueError, match="padding_idx"):
        F.embedding(dendrite.tensor([0]), table, padding_idx=5)
    with pytest.raises(RuntimeError, match="2-D"):
        F.embedding(dendrite.tensor([0]), dendrite.randn(5))


def test_embedding_gradcheck():
    table = dendrite.tensor(RNG.standard_normal((4, 2)), requires_grad=True)
    indices = dendrite.tensor([[3, 0], [3, 3]])  # (padding_idx deliberately breaks the true derivative)
    assert dendrite.autograd.gradcheck(lambda t: F.embedding(indices, t), (table,))


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot_matches_torch(num_classes):
    labels = np.array([[0, 3], [4, 1], [2, 2]])
    ours = F.one_hot(dendrite.tensor(labels), num_classes)
    theirs = TF.one_hot(torch.tensor(labels), num_classes)
    assert ours.dtype == dendrite.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match="int64"):
        F.one_hot(dendrite.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(dendrite.tensor([-1, 0]))
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(dendrite.tensor([0, 3]), 3)
    with pytest.raises(RuntimeError, match="empty"):
        F.one_hot(dendrite.tensor(np.zeros(0, dtype=np.int64)))
