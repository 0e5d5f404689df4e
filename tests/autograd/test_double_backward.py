"""The engine's ``create_graph=True`` path: gradients with a graph, second and third derivatives, errors."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import dendrite
import dendrite.nn.functional
import dendrite.ops
from dendrite.autograd.function import Function

torch = pytest.importorskip("torch")


def values(tensor) -> np.ndarray:
    return tensor.detach().numpy()


def f64(values, requires_grad=True):
    return dendrite.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def test_backward_with_create_graph_leaves_a_grad_with_a_graph():
    x = f64([1.0, 2.0])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None and x.grad.requires_grad
    np.testing.assert_allclose(values(x.grad), [3.0, 12.0])
    x.grad.sum().backward()  # d/dx of 3x² accumulates into the same .grad, out of place (as PyTorch)
    np.testing.assert_allclose(values(x.grad), [3.0 + 6.0, 12.0 + 12.0])


def test_matches_pytorch_accumulation_of_a_graph_grad():
    ours, theirs = f64([0.5, -1.5]), torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    for x, lib in ((ours, dendrite), (theirs, torch)):
        (lib.sin(x) * x).sum().backward(create_graph=True)
        (x.grad * x.grad).sum().backward()
    np.testing.assert_allclose(ours.grad.detach().numpy(), theirs.grad.detach().numpy(), rtol=1e-12)


def test_retain_graph_defaults_to_create_graph():
    x = f64([2.0])
    y = (x * x).exp().sum()
    dendrite.autograd.grad(y, x, create_graph=True)
    (again,) = dendrite.autograd.grad(y, x)  # the graph was kept: a second pass works
    np.testing.assert_allclose(values(again), [4.0 * np.exp(4.0)])
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        dendrite.autograd.grad(y, x)


def test_without_create_graph_gradients_have_no_graph():
    x = f64([1.0, 2.0])
    (g,) = dendrite.autograd.grad((x ** 3).sum(), x)
    assert g.grad_fn is None and not g.requires_grad


def test_third_derivative():
    x = f64([0.3, 1.1])
    (first,) = dendrite.autograd.grad((x ** 4 + x.sin()).sum(), x, create_graph=True)
    (second,) = dendrite.autograd.grad(first.sum(), x, create_graph=True)
    (third,) = dendrite.autograd.grad(second.sum(), x)
    np.testing.assert_allclose(values(third), 24 * values(x) - np.cos(values(x)), rtol=1e-12)


def test_seed_gradient_with_a_graph_differentiates_too():
    # grad(y, x, v, create_graph=True) is J^T v; its derivative in v is J (the double-backward trick).
    x, v = f64([1.0, 2.0]), f64([1.0, 1.0])
    (vjp,) = dendrite.autograd.grad(x * x, x, v, create_graph=True)
    (jvp,) = dendrite.autograd.grad(vjp, v, f64([1.0, 0.0], requires_grad=False))
    np.testing.assert_allclose(values(jvp), [2.0, 0.0])


def test_a_function_without_backward_graph_is_named_in_the_error():
    class Cube(Function):
        def forward(self, x):
            self.x = x
            return x ** 3

        def backward(self, grad):
            return 3 * self.x ** 2 * grad

    x = f64([1.0])
    message = r"double backward through Cube is not supported yet.*docs/autograd"
    with pytest.raises(RuntimeError, match=message):
        dendrite.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    with dendrite.autograd.detect_anomaly():
        y = Cube.apply(x).sum()
    with pytest.raises(RuntimeError, match=r"through Cube \(created at .*test_double_backward"):
        y.backward(create_graph=True)
    # without create_graph nothing changes
    (g,) = dendrite.autograd.grad(Cube.apply(x).sum(), x)
    np.testing.assert_allclose(values(g), [3.0])


def test_hooks_see_the_gradient_tensor_and_may_replace_it():
    x = f64([1.0, 2.0])
    seen = []
    x.register_hook(lambda grad: seen.append(grad.requires_grad) or grad * 2)
    (x * x).sum().backward(create_graph=True)
    assert seen == [True]
    np.testing.assert_allclose(values(x.grad), [4.0, 8.0])
    assert x.grad.grad_fn is not None


def test_retain_grad_of_an_inner_tensor_keeps_its_graph():
    x = f64([3.0])
    y = x * x
    y.retain_grad()
    (y * y).sum().backward(create_graph=True)
    assert y.grad.grad_fn is not None
    np.testing.assert_allclose(values(y.grad), [18.0])


def test_under_no_grad_create_graph_still_records_the_gradient():
    x = f64([1.0, 2.0])
    y = (x ** 3).sum()
    with dendrite.no_grad():
        (g,) = dendrite.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad  # as PyTorch: create_graph turns grad mode on for the backward pass


def test_gradgradcheck_catches_a_wrong_backward_graph():
    class Square(Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, grad):
            return 2 * self.x * grad

        def backward_graph(self, grad):
            return 3 * self.inputs[0] * grad  # wrong on purpose: 3x instead of 2x

    x = f64(np.linspace(0.5, 1.5, 3))
    with pytest.raises(dendrite.autograd.GradcheckError, match="backward_graph"):
        dendrite.autograd.gradgradcheck(lambda t: Square.apply(t).sum(), (x,))
    assert not dendrite.autograd.gradgradcheck(lambda t: Square.apply(t), (x,), raise_exception=False)


def test_gradgradcheck_with_given_grad_outputs():
    x = f64([0.2, 0.7, 1.3])
    v = f64([1.0, -2.0, 0.5])
    assert dendrite.autograd.gradgradcheck(lambda t: t.tanh() * t, (x,), (v,))
    assert dendrite.autograd.gradgradcheck(lambda t: t.exp(), (x,), gen_non_contig_grad_outputs=True)


# ----------------------------------------------------------------------------- every Function has one
# Function classes of the operations without backward_graph, each with the reason. Adding an op
# without it makes this test fail: add backward_graph (see docs/autograd.md) or list it here.
WITHOUT_BACKWARD_GRAPH = {
    "dendrite.nn.functional.loss_classification._ClassIndexLoss": "an abstract base (never applied)",
}


def _functions() -> set:
    found = set()
    for package in (dendrite.ops, dendrite.nn.functional):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for _, value in inspect.getmembers(module, inspect.isclass):
                if issubclass(value, Function) and value.__module__ == module.__name__:
                    found.add(value)
    return found


def test_every_operation_function_has_backward_graph_or_is_listed():
    functions = _functions()
    assert len(functions) > 100, "the package walk found too few Function classes"
    missing = {f"{cls.__module__}.{cls.__qualname__}" for cls in functions
               if not hasattr(cls, "backward_graph")}
    assert missing == set(WITHOUT_BACKWARD_GRAPH), missing ^ set(WITHOUT_BACKWARD_GRAPH)
