"""A node of an op that reads only what it saved (ReLU) holds its non-leaf inputs as data-less edges.

So the pre-activation a ReLU consumed is freed when nothing else holds it, as in PyTorch, and the
gradients, hooks, retain_grad and in-place rebasing still behave as when the tensor is kept.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import torch

import dendrite
import dendrite.nn.functional as F
from dendrite.autograd.function import graph_edges


def _net(lib, x, w1, w2):
    hidden = lib.relu(x @ w1)
    return (hidden @ w2).sum()


def _weights(lib):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    w1 = rng.standard_normal((6, 5)).astype(np.float32)
    w2 = rng.standard_normal((5, 3)).astype(np.float32)
    return [lib.tensor(a, requires_grad=True) for a in (x, w1, w2)]


def test_the_consumed_pre_activation_is_freed_during_forward():
    x, w1, _ = _weights(dendrite)
    pre = x @ w1
    array = weakref.ref(pre)
    out = F.relu(pre)
    del pre
    gc.collect()
    assert array() is None  # only the graph pointed at it, and the graph holds an edge
    out.sum().backward()
    expected = (x.detach().numpy().T @ (out.detach().numpy() > 0)).astype(np.float32)
    np.testing.assert_allclose(w1.grad.numpy(), expected, rtol=1e-6)


def test_gradients_match_torch():
    ours, theirs = _weights(dendrite), _weights(torch)
    _net(dendrite, *ours).backward()
    _net(torch, *theirs).backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_hooks_and_retain_grad_on_the_pre_activation_still_run():
    for lib in (dendrite, torch):
        x, w1, w2 = _weights(lib)
        pre = x @ w1
        pre.retain_grad()
        seen: list = []
        pre.register_hook(lambda grad, seen=seen: seen.append(grad.sum().item()))
        (lib.relu(pre) @ w2).sum().backward()
        assert len(seen) == 1 and pre.grad is not None
        if lib is dendrite:
            ours = (seen[0], pre.grad.numpy())
        else:
            assert np.isclose(ours[0], seen[0], rtol=1e-5)
            np.testing.assert_allclose(ours[1], pre.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_an_in_place_write_after_the_relu_leaves_its_gradient_alone():
    # relu saved its result, not its input: writing the input in place later is allowed, and the
    # relu's gradient still flows to the operation that made the input (as in PyTorch)
    grads = []
    for lib in (dendrite, torch):
        x, w1, w2 = _weights(lib)
        pre = x @ w1
        out = lib.relu(pre)
        pre.mul_(2)
        ((out @ w2).sum() + pre.sum()).backward()
        grads.append([t.grad.numpy() for t in (x, w1)])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_double_backward_through_relu():
    for lib in (dendrite, torch):
        x, w1, w2 = _weights(lib)
        loss = ((lib.relu(x @ w1) @ w2) ** 2).sum()
        (grad_w1,) = (dendrite.autograd.grad if lib is dendrite else torch.autograd.grad)(
            loss, [w1], create_graph=True)
        (grad_w1 ** 2).sum().backward()
        if lib is dendrite:
            ours = w2.grad.numpy()
        else:
            np.testing.assert_allclose(ours, w2.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_graph_edges_keep_leaves_and_values():
    leaf = dendrite.ones(3, requires_grad=True)
    inner = leaf * 2
    edges = graph_edges((leaf, inner, 5.0))
    assert edges[0] is leaf and edges[2] == 5.0
    assert edges[1].grad_fn is inner.grad_fn and edges[1].shape == inner.shape
    assert edges[1].dtype == inner.dtype and edges[1].array.strides == (0,)
