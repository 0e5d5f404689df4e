"""Tensor hooks and retain_grad, on leaves and inner tensors."""

from __future__ import annotations

import pytest

import dendrite


def leaf(values):
    return dendrite.tensor(values, dtype=dendrite.float64, requires_grad=True)


def test_leaf_hook_sees_and_replaces_the_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda grad: seen.append(grad.tolist()))
    x.register_hook(lambda grad: grad * 10)
    (x * x).sum().backward()
    assert seen == [[2.0, 4.0]]
    assert x.grad.tolist() == [20.0, 40.0]


def test_leaf_hook_runs_once_on_the_total_gradient():
    x = leaf([3.0])
    calls = []
    x.register_hook(lambda grad: calls.append(grad.item()) or grad * grad)
    (x * 2 + x * 5).sum().backward()  # two paths into x: the hook sees their sum, 7
    assert calls == [7.0] and x.grad.item() == 49.0


def test_inner_hook_replaces_the_gradient_flowing_on():
    x = leaf([1.0, 2.0])
    hidden = x * 3
    hidden.register_hook(lambda grad: grad * 0 + 1)
    (hidden * hidden).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]  # d hidden/dx = 3 times the replaced gradient 1


def test_hook_handle_remove():
    x = leaf([1.0])
    handle = x.register_hook(lambda grad: grad * 100)
    handle.remove()
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0


def test_hook_returning_the_wrong_shape_is_an_error():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda grad: grad.sum())
    with pytest.raises(RuntimeError, match=r"returned a gradient of shape \(\)"):
        (x * 2).sum().backward()


def test_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        dendrite.ones(2).register_hook(lambda grad: grad)


def test_retain_grad_keeps_inner_gradients():
    x = leaf([1.0, 2.0])
    hidden = x * 3
    hidden.retain_grad()
    assert hidden.retains_grad and not x.retains_grad
    out = (hidden * hidden).sum()
    out.backward()
    assert hidden.grad.tolist() == [6.0, 12.0]
    assert x.grad.tolist() == [18.0, 36.0]


def test_retain_grad_sees_hook_changes_and_accumulates():
    x = leaf([1.0])
    hidden = x * 2
    hidden.retain_grad()
    hidden.register_hook(lambda grad: grad * 10)
    y = (hidden * 1).sum()
    y.backward(retain_graph=True)
    assert hidden.grad.item() == 10.0
    y.backward()
    assert hidden.grad.item() == 20.0


def test_retained_gradient_is_a_separate_array():
    x = leaf([1.0, 2.0])
    hidden = x + 0
    hidden.retain_grad()
    hidden.sum().backward()
    hidden.grad.zero_()  # writable and not shared with x.grad
    assert x.grad.tolist() == [1.0, 1.0]


def test_retain_grad_on_a_leaf_is_a_no_op():
    x = leaf([1.0])
    x.retain_grad()
    (x * 4).sum().backward()
    assert x.grad.item() == 4.0


def test_non_leaf_grad_is_none_without_retain_grad():
    x = leaf([1.0])
    hidden = x * 2
    hidden.sum().backward()
    assert hidden.grad is None


def test_a_tensor_returned_by_a_hook_is_not_changed_by_later_accumulation():
    x = leaf([1.0, 2.0])
    constant = dendrite.tensor([5.0, 5.0], dtype=dendrite.float64)
    x.register_hook(lambda grad: constant)
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [10.0, 10.0] and constant.tolist() == [5.0, 5.0]
