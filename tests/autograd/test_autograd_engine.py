"""The backward engine: accumulation, shared nodes, retain_graph, freeing, deep graphs, grad()."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import dendrite
from dendrite.autograd import Function


def leaf(values, dtype=dendrite.float64):
    return dendrite.tensor(values, dtype=dtype, requires_grad=True)


def test_gradients_accumulate_over_two_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [2.0 + 3.0, 4.0 + 3.0]


def test_accumulation_keeps_the_same_grad_tensor_like_torch():
    x = leaf([1.0, 2.0])
    x.sum().backward()
    first = x.grad
    x.sum().backward()
    assert x.grad is first and first.tolist() == [2.0, 2.0]


def test_a_tensor_used_many_times_sums_its_gradients():
    x = leaf([2.0, -1.0])
    y = x * 3
    z = y * y + y + x * y  # y used four times, x twice more
    z.sum().backward()
    # dz/dx = 2*y*3 + 3 + y + 3x = 18x + 3 + 3x + 3x = 24x + 3
    np.testing.assert_allclose(x.grad.numpy(), 24 * np.array([2.0, -1.0]) + 3)


def test_diamond_graph_and_self_product():
    x = leaf([3.0])
    a, b = x.exp(), x.sin()
    (a * b + x * x).sum().backward()
    expected = np.exp(3.0) * np.sin(3.0) + np.exp(3.0) * np.cos(3.0) + 6.0
    np.testing.assert_allclose(x.grad.numpy(), [expected])


def test_second_backward_without_retain_graph_raises_a_clear_error():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_second_backward_through_a_multi_output_node_raises_a_clear_error():
    x = leaf(np.arange(6.0))
    a, b = x.split(3)
    (a.sum() + b.sum()).backward()
    with pytest.raises(RuntimeError, match="Split has already freed"):
        (a.sum() + b.sum()).backward()


def test_graph_is_freed_after_backward():
    x = leaf(np.ones(1000))
    hidden = x.exp()
    hidden_ref = weakref.ref(hidden)
    node = hidden.grad_fn
    y = (hidden * 2).sum()
    del hidden
    gc.collect()
    assert hidden_ref() is not None  # the graph keeps the intermediate alive until backward
    y.backward()
    gc.collect()
    assert hidden_ref() is None  # ...and lets it go afterwards, although y is still alive
    assert node.released and "result" not in node.__dict__  # the saved exp(x) is gone too


def test_a_chain_of_100000_operations_backpropagates_without_recursion_error():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward()
    assert x.grad.tolist() == [1.0]
    assert y.item() == 100_001.0


def test_autograd_grad_does_not_touch_grad_fields():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = dendrite.autograd.grad(y, [x, w])
    assert x.grad is None and w.grad is None
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert not gx.requires_grad


def test_autograd_grad_of_an_inner_tensor_and_grad_outputs():
    x = leaf([1.0, 2.0])
    hidden = x * 2
    y = hidden * hidden
    (g,) = dendrite.autograd.grad(y, hidden, grad_outputs=dendrite.tensor([1.0, 0.5], dtype=dendrite.float64))
    assert g.tolist() == [4.0, 4.0]  # 2 * hidden * seed
    assert x.grad is None


def test_autograd_grad_unused_inputs():
    x, unused = leaf([1.0]), leaf([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="input 1 was not used"):
        dendrite.autograd.grad(y, [x, unused], retain_graph=True)
    assert dendrite.autograd.grad(y, [x, unused], retain_graph=True, allow_unused=True)[1] is None
    assert dendrite.autograd.grad(y, [x, unused], materialize_grads=True)[1].tolist() == [0.0]


def test_autograd_backward_of_several_outputs_and_backward_inputs():
    x, w = leaf([1.0, 2.0]), leaf([0.5, 0.5])
    dendrite.autograd.backward([(x * w).sum(), (x * x).sum()])
    assert x.grad.tolist() == [2.5, 4.5]
    x.grad = None
    w.grad = None
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None and w.grad.tolist() == [1.0, 2.0]


def test_backward_with_an_explicit_gradient():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).backward(dendrite.tensor([1.0, 0.0, -1.0]))
    assert x.grad.tolist() == [2.0, 0.0, -6.0]


def test_create_graph_gives_a_gradient_that_is_differentiable_again():
    x = leaf([1.0, 3.0])
    (x * x * x).sum().backward(create_graph=True)
    first = x.grad  # 3 x^2, itself in the graph
    assert first.tolist() == [3.0, 27.0] and first.grad_fn is not None
    x.grad = None
    first.sum().backward()  # d/dx sum(3 x^2) = 6 x
    assert x.grad.tolist() == [6.0, 18.0]


def test_grads_of_leaves_sharing_an_upstream_gradient_are_independent():
    a, b = leaf([1.0, 1.0]), leaf([1.0, 1.0])
    (a + b).sum().backward()
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0]


def test_custom_function_with_two_outputs_and_an_unused_output():
    class SinCos(Function):
        n_outputs = 2

        def forward(self, x):
            self.x = x
            return np.sin(x), np.cos(x)

        def backward(self, grads):
            grad_sin, grad_cos = grads
            total = np.zeros_like(self.x)
            if grad_sin is not None:
                total = total + grad_sin * np.cos(self.x)
            if grad_cos is not None:
                total = total - grad_cos * np.sin(self.x)
            return total

    x = leaf([0.3, 1.2])
    sin, cos = SinCos.apply(x)
    assert sin.grad_fn is cos.grad_fn
    (sin * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos([0.3, 1.2]))


def test_gradient_skips_inputs_that_do_not_require_grad():
    x, constant = leaf([1.0, 2.0]), dendrite.tensor([5.0, 6.0], dtype=dendrite.float64)
    (x * constant).sum().backward()
    assert constant.grad is None and x.grad.tolist() == [5.0, 6.0]


def test_is_leaf_and_grad_fn():
    x = leaf([1.0])
    y = x * 2
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and repr(y.grad_fn) == "<MulBackward>"
    assert y.grad_fn.next_functions == ((None, 0), (None, 0))
    assert y.detach().is_leaf and not y.detach().requires_grad


@pytest.mark.parametrize("output_shape", [(), (1,), (1, 1)])
def test_loss_backward_shortcut_equals_the_general_path(output_shape):
    # ``loss.backward()`` on a one-element output seeds the engine directly; it must give what
    # dendrite.autograd.backward (the general path, with all its checks) gives, hooks included.
    def run(backward):
        x = leaf([[1.0, -2.0], [3.0, 0.5]])
        w = leaf([0.5, -1.5])
        seen = []
        w.register_hook(lambda grad: seen.append(grad.tolist()))
        hidden = (x * w).relu()
        hidden.register_hook(lambda grad: grad * 2)
        loss = (hidden * hidden).sum().reshape(output_shape)
        backward(loss)
        return x.grad.tolist(), w.grad.tolist(), seen

    shortcut = run(lambda loss: loss.backward())
    general = run(lambda loss: dendrite.autograd.backward([loss]))
    assert shortcut == general and shortcut[2]


def test_loss_backward_shortcut_keeps_retain_graph_and_the_second_backward_error():
    x = leaf([1.0, 2.0])
    loss = (x.exp() * 3).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 3 * np.exp([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
