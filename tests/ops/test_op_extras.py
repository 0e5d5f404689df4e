"""Operations with non-tensor results or special semantics, checked directly against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite

torch = pytest.importorskip("torch")


def test_nonzero_matches_torch():
    values = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    ours, theirs = dendrite.tensor(values).nonzero(), torch.tensor(values).nonzero()
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.dtype == dendrite.int64
    for mine, reference in zip(
        dendrite.nonzero(dendrite.tensor(values), as_tuple=True),
        torch.nonzero(torch.tensor(values), as_tuple=True),
    ):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy())


def test_equal_allclose_isclose():
    a = dendrite.tensor([1.0, 2.0, 3.0])
    assert dendrite.equal(a, dendrite.tensor([1.0, 2.0, 3.0])) is True
    assert dendrite.equal(a, dendrite.tensor([1.0, 2.0])) is False
    assert dendrite.allclose(a, a + 1e-9) is True
    assert dendrite.allclose(a, a + 1e-3) is False
    assert dendrite.isclose(a, a + dendrite.tensor([0.0, 1.0, 0.0])).tolist() == [True, False, True]


def test_comparison_with_none_is_false_not_an_error():
    a = dendrite.tensor([1.0])
    assert (a == None) is False  # noqa: E711  (Python falls back to identity, as for torch)
    assert (a != None) is True  # noqa: E711


def test_scatter_add_accumulates_repeated_indices():
    x = dendrite.zeros(2, 3, dtype=dendrite.float64)
    index = dendrite.tensor([[0, 0, 2], [1, 1, 1]])
    src = dendrite.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=dendrite.float64)
    expected = torch.zeros(2, 3, dtype=torch.float64).scatter_add(
        1, torch.tensor([[0, 0, 2], [1, 1, 1]]), torch.tensor(src.numpy())
    )
    np.testing.assert_array_equal(dendrite.scatter_add(x, 1, index, src).numpy(), expected.numpy())


def test_repeated_index_gradients_add_up():
    x = dendrite.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_getitem_view_shares_memory_like_torch():
    x = dendrite.zeros(3, 4)
    row = x[1]
    row.fill_(5.0)
    assert x[1].tolist() == [5.0] * 4
    x.detach()[0, 0] = 7.0
    assert x[0, 0].item() == 7.0


def test_einsum_repeated_subscripts_forward_only():
    x = dendrite.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    assert dendrite.einsum("ii->", x).item() == 12.0
    with pytest.raises(NotImplementedError, match="repeated subscripts"):
        dendrite.einsum("ii->", x).backward()


def test_operators_reflected_with_python_numbers():
    x = dendrite.tensor([1.0, 2.0])
    assert (1 + x).tolist() == [2.0, 3.0]
    assert (1 - x).tolist() == [0.0, -1.0]
    assert (2 * x).tolist() == [2.0, 4.0]
    assert (2 / x).tolist() == [2.0, 1.0]
    assert (2**x).tolist() == [2.0, 4.0]
    assert (5 % x).tolist() == [0.0, 1.0]
    assert (5 // x).tolist() == [5.0, 2.0]
    assert (+x) is x
    assert (np.array([1.0, 1.0]) + x).tolist() == [2.0, 3.0]  # NumPy hands the operation to the Tensor
