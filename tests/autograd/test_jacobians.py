"""autograd.functional (jacobian, hessian, vjp, jvp, vhp, hvp) vs torch.autograd.functional in float64."""

import numpy as np
import pytest

import dendrite
from dendrite.autograd import functional as AF

torch = pytest.importorskip("torch")
TF = torch.autograd.functional

RNG = np.random.default_rng(0)
W = RNG.standard_normal((3, 4))


def f_one(lib):  # (4,) -> (3,)
    w = lib.tensor(W)
    return lambda x: lib.tanh(w @ x) * x[:3].exp()


def f_two(lib):  # ((4,), (2, 3)) -> ((3,), (2,))
    w = lib.tensor(W)
    return lambda x, y: (lib.sin(w @ x) + y.sum(0), (y * y).sum(1) * x[0])


def f_scalar(lib):  # ((4,), (3,)) -> ()
    w = lib.tensor(W)
    return lambda x, y: ((w @ x) ** 3 * y).sum() + (x.exp() * x).sum()


X = RNG.standard_normal(4)
Y = RNG.standard_normal((2, 3))
Y3 = RNG.standard_normal(3)


def both(*arrays):
    return tuple(dendrite.tensor(a) for a in arrays), tuple(torch.tensor(a) for a in arrays)


def same(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            same(a, b)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_jacobian_of_one_and_of_several_inputs_and_outputs():
    (x,), (tx,) = both(X)
    same(AF.jacobian(f_one(dendrite), x), TF.jacobian(f_one(torch), tx))
    ours, theirs = both(X, Y)
    same(AF.jacobian(f_two(dendrite), ours), TF.jacobian(f_two(torch), theirs))
    same(AF.jacobian(lambda a: f_two(dendrite)(a, ours[1]), ours[0]),
         TF.jacobian(lambda a: f_two(torch)(a, theirs[1]), theirs[0]))


def test_hessian_of_one_and_of_several_inputs():
    ours, theirs = both(X, Y3)
    same(AF.hessian(f_scalar(dendrite), ours), TF.hessian(f_scalar(torch), theirs))
    same(AF.hessian(lambda a: f_scalar(dendrite)(a, ours[1]), ours[0]),
         TF.hessian(lambda a: f_scalar(torch)(a, theirs[1]), theirs[0]))


def test_vector_products():
    (x, v3, v4), (tx, tv3, tv4) = both(X, RNG.standard_normal(3), RNG.standard_normal(4))
    same(AF.vjp(f_one(dendrite), x, v3), TF.vjp(f_one(torch), tx, tv3))
    same(AF.jvp(f_one(dendrite), x, v4), TF.jvp(f_one(torch), tx, tv4))
    ours, theirs = both(X, Y3, RNG.standard_normal(4), RNG.standard_normal(3))
    for name in ("vhp", "hvp"):
        same(getattr(AF, name)(f_scalar(dendrite), ours[:2], ours[2:]),
             getattr(TF, name)(f_scalar(torch), theirs[:2], theirs[2:]))
    pairs, t_pairs = both(X, Y, RNG.standard_normal(3), RNG.standard_normal(2))
    same(AF.vjp(f_two(dendrite), pairs[:2], pairs[2:]), TF.vjp(f_two(torch), t_pairs[:2], t_pairs[2:]))
    ins, t_ins = both(X, Y, RNG.standard_normal(4), RNG.standard_normal((2, 3)))
    same(AF.jvp(f_two(dendrite), ins[:2], ins[2:]), TF.jvp(f_two(torch), t_ins[:2], t_ins[2:]))


def test_create_graph_keeps_results_differentiable_and_plain_results_are_detached():
    x = dendrite.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    ours = AF.jacobian(f_one(dendrite), x, create_graph=True)
    theirs = TF.jacobian(f_one(torch), tx, create_graph=True)
    assert ours.requires_grad
    (ours ** 2).sum().backward()
    (theirs ** 2).sum().backward()
    same(x.grad, tx.grad)
    _, product = AF.hvp(lambda a: (a ** 4).sum(), x, dendrite.ones(4), create_graph=True)
    _, t_product = TF.hvp(lambda a: (a ** 4).sum(), tx, torch.ones(4, dtype=torch.float64), create_graph=True)
    (g,) = dendrite.autograd.grad(product.sum(), x)
    (tg,) = torch.autograd.grad(t_product.sum(), tx)
    same(g, tg)
    assert not AF.jacobian(f_one(dendrite), x).requires_grad
    assert x.grad is not None and not AF.vjp(f_one(dendrite), x, dendrite.ones(3))[1].requires_grad


def test_independent_outputs_give_zeros_or_the_strict_error():
    (x, y), (tx, ty) = both(X, Y)
    same(AF.jacobian(lambda a, b: a * 2, (x, y)), TF.jacobian(lambda a, b: a * 2, (tx, ty)))
    same(AF.vjp(lambda a, b: a.sum(), (x, y)), TF.vjp(lambda a, b: a.sum(), (tx, ty)))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda a, b: a * 2, (x, y), strict=True)


def test_bad_arguments_say_what_was_expected():
    x = dendrite.tensor(X)
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        AF.jacobian(lambda a: a, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="v can only be None if the output"):
        AF.vjp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="v has shapes"):
        AF.jvp(lambda a: a * 2, x, dendrite.ones(3))
    with pytest.raises(RuntimeError, match="should contain a single element"):
        AF.hessian(lambda a: a * 2, x)
    with pytest.raises(ValueError, match="reverse-mode"):
        AF.jacobian(lambda a: a, x, strategy="forward-mode")
