"""In-place shape changes (unsqueeze_, squeeze_, t_, transpose_) and PyTorch's ``torch.Tensor(...)``
constructor rules (sizes, a sequence in the default float dtype), against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite


@pytest.mark.parametrize("call", [lambda x: x.unsqueeze_(-1), lambda x: x.unsqueeze_(0), lambda x: x.t_(),
                                  lambda x: x.transpose_(0, 1), lambda x: x.swapdims_(0, 1),
                                  lambda x: x.unsqueeze_(1).squeeze_(),
                                  lambda x: x.unsqueeze_(0).squeeze_(0)])
def test_inplace_shape_changes_match_pytorch_and_keep_the_memory(call):
    values = np.arange(6.0).reshape(2, 3)
    ours, theirs = dendrite.tensor(values), torch.tensor(values)
    alias = ours[:]  # a view of the memory as it was
    assert call(ours) is ours and call(theirs) is theirs
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours[(0,) * ours.ndim] = 42.0  # still the same memory
    assert alias[0, 0].item() == 42.0


def test_a_view_changed_in_place_still_writes_into_its_base():
    base = dendrite.zeros(4)
    view = base[1:3]
    view.unsqueeze_(0)
    view[0, 1] = 5.0
    assert base.tolist() == [0.0, 0.0, 5.0, 0.0] and view.shape == (1, 2)


def test_inplace_shape_change_of_a_tensor_that_requires_grad_is_refused_clearly():
    x = dendrite.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"unsqueeze_: .* requires grad .* x = x.unsqueeze\(...\)"):
        x.unsqueeze_(0)
    assert x.shape == (2,)


@pytest.mark.parametrize("args", [([0],), ([1, 2],), ([[1.5, 2.0]],), (2, 3), (0,), ()])
def test_tensor_constructor_follows_pytorch(args):
    ours, theirs = dendrite.Tensor(*args), torch.Tensor(*args)
    assert ours.shape == tuple(theirs.shape) and str(theirs.dtype) == f"torch.{ours.dtype}"
    if args and isinstance(args[0], list):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_tensor_constructor_errors():
    with pytest.raises(TypeError, match="data must be a sequence"):
        dendrite.Tensor(2.5)
    with pytest.raises(RuntimeError, match="negative dimension"):
        dendrite.Tensor(2, -1)
    with pytest.raises(TypeError, match="either sizes .* or one sequence"):
        dendrite.Tensor([1], [2])
