"""Double backward end to end, against PyTorch in float64: Hessian-vector products, WGAN-GP, MAML.

Each workflow is written once against a module ``lib`` (dendrite or torch: the APIs match) and run
on both with the same weights and data; every gradient that comes out is compared.
"""

from __future__ import annotations

import numpy as np
import pytest

import dendrite

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-9, 1e-12


def _arrays(seed: int, *shapes) -> list:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) * 0.5 for shape in shapes]


def _tensors(lib, arrays, requires_grad=True) -> list:
    return [lib.tensor(np.array(a), dtype=lib.float64, requires_grad=requires_grad) for a in arrays]


def _numpy(tensor) -> np.ndarray:
    return tensor.detach().numpy()


def _mlp(lib, params, x):
    w1, b1, w2, b2 = params
    hidden = lib.tanh(lib.nn.functional.linear(x, w1, b1))
    return lib.nn.functional.linear(lib.nn.functional.softplus(hidden) + hidden, w2, b2)


MLP_SHAPES = [(8, 5), (8,), (3, 8), (3,)]


def _hvp(lib):
    params = _tensors(lib, _arrays(0, *MLP_SHAPES))
    x = _tensors(lib, _arrays(1, (6, 5)), requires_grad=False)[0]
    y = lib.tensor(np.array([0, 2, 1, 1, 0, 2]))
    loss = lib.nn.functional.cross_entropy(_mlp(lib, params, x), y)
    grads = lib.autograd.grad(loss, params, create_graph=True)
    vectors = _tensors(lib, _arrays(2, *MLP_SHAPES), requires_grad=False)
    product = sum((g * v).sum() for g, v in zip(grads, vectors))
    return [_numpy(h) for h in lib.autograd.grad(product, params)]


def test_hessian_vector_product_of_an_mlp_loss_matches_pytorch():
    for ours, theirs in zip(_hvp(dendrite), _hvp(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


# ----------------------------------------------------------------------------- WGAN-GP
def _mlp_critic(lib, params, x):
    w1, b1, w2, b2 = params
    hidden = lib.nn.functional.leaky_relu(lib.nn.functional.linear(x, w1, b1), 0.2)
    return lib.nn.functional.linear(hidden, w2, b2)


def _conv_critic(lib, params, x):
    w1, b1, w2, b2 = params
    hidden = lib.nn.functional.conv2d(x, w1, b1, stride=2, padding=1)
    hidden = lib.nn.functional.leaky_relu(hidden, 0.2)
    hidden = lib.nn.functional.avg_pool2d(hidden, 2)
    return lib.nn.functional.linear(hidden.flatten(1), w2, b2)


CRITICS = {
    "mlp": (_mlp_critic, [(6, 4), (6,), (1, 6), (1,)], (5, 4)),
    "conv": (_conv_critic, [(3, 2, 3, 3), (3,), (1, 3 * 2 * 2), (1,)], (4, 2, 8, 8)),
}


def _gradient_penalty_step(lib, kind):
    critic, shapes, data_shape = CRITICS[kind]
    params = _tensors(lib, _arrays(3, *shapes))
    real, fake = _tensors(lib, _arrays(4, data_shape, data_shape), requires_grad=False)
    mix = lib.tensor(np.random.default_rng(5).uniform(size=(data_shape[0],) + (1,) * (len(data_shape) - 1)))
    between = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (slopes,) = lib.autograd.grad(critic(lib, params, between).sum(), between, create_graph=True)
    penalty = ((slopes.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    loss = critic(lib, params, fake).mean() - critic(lib, params, real).mean() + 10 * penalty
    loss.backward()
    return [_numpy(p.grad) for p in params] + [_numpy(penalty)]


@pytest.mark.parametrize("kind", sorted(CRITICS))
def test_wgan_gp_step_matches_pytorch(kind):
    ours, theirs = _gradient_penalty_step(dendrite, kind), _gradient_penalty_step(torch, kind)
    assert abs(float(theirs[-1])) > 1e-3  # the penalty is not trivially 0: its gradient matters
    for position, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=f"{kind} critic, item {position}")


# ----------------------------------------------------------------------------- MAML
def _maml_step(lib, inner_steps: int):
    params = _tensors(lib, _arrays(6, *MLP_SHAPES))
    support, query = _tensors(lib, _arrays(7, (6, 5), (4, 5)), requires_grad=False)
    support_y, query_y = lib.tensor(np.array([0, 1, 2, 0, 1, 2])), lib.tensor(np.array([2, 1, 0, 0]))
    fast = params
    for _ in range(inner_steps):  # fast weights keep the graph back to params (second order)
        inner = lib.nn.functional.cross_entropy(_mlp(lib, fast, support), support_y)
        grads = lib.autograd.grad(inner, fast, create_graph=True)
        fast = [w - 0.4 * g for w, g in zip(fast, grads)]
    outer = lib.nn.functional.cross_entropy(_mlp(lib, fast, query), query_y)
    outer.backward()
    return [_numpy(p.grad) for p in params]


@pytest.mark.parametrize("inner_steps", [1, 2])
def test_maml_outer_gradient_matches_pytorch(inner_steps):
    for ours, theirs in zip(_maml_step(dendrite, inner_steps), _maml_step(torch, inner_steps)):
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def test_maml_second_order_term_is_really_there():
    # The first-order approximation (gradients detached) gives a different answer: the test above
    # would catch gradients that silently lost their graph.
    params = _tensors(dendrite, _arrays(6, *MLP_SHAPES))
    support, query = _tensors(dendrite, _arrays(7, (6, 5), (4, 5)), requires_grad=False)
    inner = dendrite.nn.functional.cross_entropy(_mlp(dendrite, params, support),
                                                 dendrite.tensor(np.array([0, 1, 2, 0, 1, 2])))
    grads = dendrite.autograd.grad(inner, params)  # no graph: first-order MAML
    fast = [w - 0.4 * g for w, g in zip(params, grads)]
    dendrite.nn.functional.cross_entropy(_mlp(dendrite, fast, query),
                                         dendrite.tensor(np.array([2, 1, 0, 0]))).backward()
    first_order = [_numpy(p.grad) for p in params]
    second_order = _maml_step(torch, 1)
    assert any(not np.allclose(a, b, rtol=1e-6) for a, b in zip(first_order, second_order))
