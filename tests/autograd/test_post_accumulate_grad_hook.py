"""``Tensor.register_post_accumulate_grad_hook``: when it runs, what it sees, errors; against PyTorch 2.13.

What PyTorch promises and dendrite follows: a hook runs once per ``.grad``-filling backward, with
the leaf, right after the leaf's gradient is complete for that pass (so before the rest of the walk:
the last layer's parameters are finished before the first layer's backward has run), after the
leaf's ``register_hook`` hooks, under the engine's grad mode. The order of a model's layers is
PyTorch's; inside one layer PyTorch's order follows its own decomposition (``addmm`` hands the bias
its gradient before ``t()`` hands the weight its own), so only the set per layer is compared.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

import dendrite
from dendrite import nn

torch = pytest.importorskip("torch")


def _mlp(library):
    return library.nn.Sequential(library.nn.Linear(5, 16), library.nn.Tanh(), library.nn.Linear(16, 16),
                                 library.nn.ReLU(), library.nn.Linear(16, 3))


def _cnn(library):
    layers = library.nn
    return layers.Sequential(layers.Conv2d(1, 4, 3, padding=1), layers.ReLU(), layers.MaxPool2d(2),
                             layers.Conv2d(4, 6, 3), layers.Tanh(), layers.Flatten(), layers.Linear(24, 3))


def _record(model, inputs, library, create_graph=False) -> list:
    """(name, grad mode, .grad equals its final value, layers whose .grad is still None) per hook call."""
    calls = []
    parameters = dict(model.named_parameters())
    for name, parameter in parameters.items():
        def hook(leaf, name=name):
            snapshot = leaf.grad.detach().numpy().copy()
            pending = sorted({other.split(".")[0] for other, p in parameters.items() if p.grad is None})
            calls.append((name, library.is_grad_enabled(), snapshot, pending))
        parameter.register_post_accumulate_grad_hook(hook)
    model(inputs).sum().backward(create_graph=create_graph)
    return [(name, mode, np.array_equal(snapshot, parameters[name].grad.detach().numpy()), pending)
            for name, mode, snapshot, pending in calls]


def _layers(calls) -> list:
    """The layer of each call, consecutive repeats merged: the order of the layers."""
    layers = []
    for name, *_ in calls:
        if not layers or layers[-1] != name.split(".")[0]:
            layers.append(name.split(".")[0])
    return layers


@pytest.mark.parametrize("build, shape", [(_mlp, (4, 5)), (_cnn, (2, 1, 8, 8))])
@pytest.mark.parametrize("create_graph", [False, True])
def test_the_hooks_run_layer_by_layer_as_in_pytorch(build, shape, create_graph):
    inputs = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    torch.manual_seed(0)
    theirs = _record(build(torch), torch.tensor(inputs), torch, create_graph)
    dendrite.manual_seed(0)
    ours = _record(build(dendrite), dendrite.tensor(inputs), dendrite, create_graph)
    assert _layers(ours) == _layers(theirs)  # last layer first, each layer's parameters together
    assert sorted(call[0] for call in ours) == sorted(call[0] for call in theirs)  # each once
    # the grad mode inside the hook is the engine's: off, or on with create_graph
    assert {call[1] for call in ours} == {call[1] for call in theirs} == {create_graph}
    # the gradient a hook sees is the final one; and (ordinary backward) earlier layers are still to
    # come: at the last layer's hooks the first layer has no .grad yet
    assert all(call[2] for call in ours) and all(call[2] for call in theirs)
    if not create_graph:
        assert ours[0][3] == theirs[0][3] != []
        assert ours[-1][3] == theirs[-1][3] == []


def test_a_leaf_used_twice_is_finished_once_with_the_sum_after_its_pre_hooks():
    seen = {}
    for library in (torch, dendrite):
        w = library.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
        b = library.tensor([0.1, -0.2], requires_grad=True)
        calls = []
        w.register_hook(lambda grad, calls=calls: calls.append(("pre", grad.detach().numpy().copy())))
        w.register_post_accumulate_grad_hook(
            lambda leaf, calls=calls: calls.append(("post", leaf.grad.detach().numpy().copy())))
        b.register_post_accumulate_grad_hook(lambda leaf, calls=calls: calls.append(("b", None)))
        x = library.ones(1, 2)
        ((x @ w + b) @ w).sum().backward()
        seen[library.__name__] = calls
    ours, theirs = seen["dendrite"], seen["torch"]
    assert [kind for kind, _ in ours] == [kind for kind, _ in theirs] == ["b", "pre", "post"]
    for (_, mine), (_, reference) in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(mine, reference, rtol=1e-6)


@pytest.mark.parametrize("how", ["backward", "inputs", "self", "grad", "accumulate"])
def test_which_backward_calls_the_hook_as_in_pytorch(how):
    results = {}
    for library in (torch, dendrite):
        c = library.ones(2, requires_grad=True)
        calls = []
        c.register_post_accumulate_grad_hook(lambda leaf, calls=calls: calls.append(leaf.grad.tolist()))
        if how == "backward":
            (c * 3).sum().backward()
        elif how == "inputs":
            (c * 3).sum().backward(inputs=[c])
        elif how == "self":  # the leaf itself is the output: finished when the walk ends
            c.backward(library.ones(2))
        elif how == "grad":  # autograd.grad fills no .grad: no hook
            library.autograd.grad((c * 3).sum(), c)
        else:  # a second backward: the hook sees the accumulated .grad
            (c * 3).sum().backward()
            (c * 2).sum().backward()
        results[library.__name__] = calls
    assert results["dendrite"] == results["torch"]


def test_the_handle_removes_the_hook_and_the_registry_forgets_dead_leaves():
    from dendrite.autograd import accumulate_hooks

    x = dendrite.tensor([1.0], requires_grad=True)
    calls = []
    first = x.register_post_accumulate_grad_hook(lambda leaf: calls.append(1))
    x.register_post_accumulate_grad_hook(lambda leaf: calls.append(2))
    (x * 2).sum().backward()
    first.remove()
    (x * 2).sum().backward()
    assert calls == [1, 2, 2]  # registration order; then only the second
    with dendrite.tensor([1.0], requires_grad=True).register_post_accumulate_grad_hook(print):
        pass
    key = id(x)
    assert key in accumulate_hooks.hooks_by_leaf
    del x
    gc.collect()
    assert key not in accumulate_hooks.hooks_by_leaf


def test_errors_are_pytorchs():
    for library in (torch, dendrite):
        w = library.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors"):
            (w * 2).register_post_accumulate_grad_hook(lambda leaf: None)
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require"):
            library.ones(2).register_post_accumulate_grad_hook(lambda leaf: None)
    w = dendrite.ones(2, requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda leaf: 5)
    with pytest.raises(RuntimeError, match="returned a int; it must return None"):
        (w * 2).sum().backward()


def test_a_parameter_frozen_by_the_walk_still_gets_every_contribution_when_hooks_are_set():
    """Early finishing does not change any .grad: with and without hooks the gradients are identical."""
    dendrite.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    shared = model[0].weight  # used again at the end: its last contribution comes late in the walk
    inputs = dendrite.randn(5, 3)

    def gradients():
        model.zero_grad()
        out = model(inputs).sum() + (shared * shared).sum() + (model[2](model[1](model[0](inputs)))).sum()
        out.backward()
        return [p.grad.numpy().copy() for p in model.parameters()]

    plain = gradients()
    order = []
    for index, parameter in enumerate(model.parameters()):
        parameter.register_post_accumulate_grad_hook(lambda leaf, index=index: order.append(index))
    hooked = gradients()
    for a, b in zip(plain, hooked):
        np.testing.assert_array_equal(a, b)
    assert sorted(order) == [0, 1, 2, 3]


def test_a_hook_that_refers_to_its_leaf_does_not_keep_it_alive():
    """The optimizer-in-backward pattern: each parameter's hook steps an optimizer that holds the parameter.

    Leaf -> hook -> optimizer -> leaf is a cycle; once the model is dropped the collector frees it and
    the engine's registry is empty again (while it is not, every backward takes the slower hooked path).
    """
    import gc
    import weakref

    from dendrite.autograd import accumulate_hooks

    gc.collect()
    before = set(accumulate_hooks.hooks_by_leaf)
    model = nn.Linear(3, 2)
    for parameter in model.parameters():  # each hook holds its optimizer, which holds the parameter
        optimizer = dendrite.optim.SGD([parameter], lr=0.1)
        parameter.register_post_accumulate_grad_hook(lambda leaf, optimizer=optimizer: optimizer.step())
    weight = model.weight.detach().numpy().copy()
    model(dendrite.ones(4, 3)).sum().backward()
    assert not np.array_equal(weight, model.weight.detach().numpy())  # the hooks ran and stepped
    assert len(set(accumulate_hooks.hooks_by_leaf) - before) == 2
    alive = [weakref.ref(p) for p in model.parameters()]
    del model, parameter, optimizer
    gc.collect()
    assert all(reference() is None for reference in alive)
    assert set(accumulate_hooks.hooks_by_leaf) <= before


def test_a_removed_hook_leaves_no_entry_and_its_handle_does_not_keep_the_leaf():
    import gc
    import weakref

    from dendrite.autograd import accumulate_hooks

    x = dendrite.ones(2, requires_grad=True)
    handle = x.register_post_accumulate_grad_hook(lambda leaf: None)
    assert id(x) in accumulate_hooks.hooks_by_leaf
    handle.remove()
    handle.remove()  # twice: harmless
    assert id(x) not in accumulate_hooks.hooks_by_leaf
    second = x.register_post_accumulate_grad_hook(lambda leaf: None)
    reference = weakref.ref(x)
    del x
    gc.collect()
    assert reference() is None
    second.remove()  # the leaf is gone: nothing to do
