"""dendrite.compile replays bit-identically: training with and without it gives the same bits.

Every comparison here is exact (``tobytes()`` equality, ``==`` on arrays), never allclose:
a replay calls the same NumPy functions in the same order on the same dtypes as eager mode.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import dendrite
import dendrite.nn.functional as F
from dendrite import nn


def _batches(steps: int, batch: int = 16, features: int = 3, classes: int = 3, seed: int = 1):
    rng = np.random.default_rng(seed)
    return [(dendrite.tensor(rng.standard_normal((batch, features)).astype(np.float32)),
             dendrite.tensor(rng.integers(0, classes, batch))) for _ in range(steps)]


def _mlp(dropout: float = 0.0, activation=nn.ReLU):
    layers = [nn.Linear(3, 8), activation()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(8, 8), activation(), nn.Linear(8, 3)]
    return nn.Sequential(*layers)


def _train(compiled: bool, make_model, make_optimizer, steps: int = 8, seed: int = 0):
    """Train from the same seed: (losses, parameters, gradients, the next random draw, the function)."""
    dendrite.manual_seed(seed)
    model = make_model()
    optimizer = make_optimizer(model.parameters())

    def loss_of(x, y):
        return F.cross_entropy(model(x), y)

    step = dendrite.compile(loss_of) if compiled else loss_of
    losses = []
    for x, y in _batches(steps):
        optimizer.zero_grad()
        loss = step(x, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.array.tobytes())
    parameters = [p.array.copy() for p in model.parameters()]
    grads = [p.grad.array.copy() for p in model.parameters()]
    return losses, parameters, grads, dendrite.rand(1).item(), step


def _assert_same_training(make_model, make_optimizer, steps: int = 8):
    eager = _train(False, make_model, make_optimizer, steps)
    compiled = _train(True, make_model, make_optimizer, steps)
    assert compiled[0] == eager[0], "losses differ"
    for ours, theirs in zip(compiled[1], eager[1]):
        assert ours.dtype == theirs.dtype and (ours == theirs).all(), "parameters differ"
        assert ours.tobytes() == theirs.tobytes()
    for ours, theirs in zip(compiled[2], eager[2]):
        assert ours.tobytes() == theirs.tobytes(), "gradients differ"
    assert compiled[3] == eager[3], "the random stream was used differently"
    stats = compiled[4].stats
    assert stats["replayed"] == steps - 3 and stats["eager"] == 0, (stats, compiled[4].explain())


def test_mlp_with_sgd_trains_bit_identically():
    _assert_same_training(_mlp, lambda params: dendrite.optim.SGD(params, lr=0.1))


def test_mlp_with_dropout_and_sgd_momentum_draws_the_same_masks():
    _assert_same_training(lambda: _mlp(dropout=0.3),
                          lambda params: dendrite.optim.SGD(params, lr=0.1, momentum=0.9))


def test_tanh_mlp_with_adam_trains_bit_identically():
    _assert_same_training(lambda: _mlp(activation=nn.Tanh),
                          lambda params: dendrite.optim.Adam(params, lr=0.01))


def test_sigmoid_mlp_in_float64_with_adamw():
    def model():
        return _mlp(activation=nn.Sigmoid).double()

    def train(compiled):
        dendrite.manual_seed(0)
        net = model()
        optimizer = dendrite.optim.AdamW(net.parameters(), lr=0.01)
        step = (lambda x, y: F.cross_entropy(net(x.double()), y))
        step = dendrite.compile(step) if compiled else step
        for x, y in _batches(6):
            optimizer.zero_grad()
            step(x, y).backward()
            optimizer.step()
        return [p.array.tobytes() for p in net.parameters()]

    assert train(True) == train(False)


def test_compiling_a_module_compiles_its_forward_in_place():
    def train(compiled):
        dendrite.manual_seed(0)
        model = _mlp(dropout=0.2)
        assert (dendrite.compile(model) is model) if compiled else True
        optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
        for x, y in _batches(7):
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        return model, [p.array.tobytes() for p in model.parameters()]

    model, compiled = train(True)
    assert compiled == train(False)[1]
    assert model.forward.stats["replayed"] == 4
    twin = copy.deepcopy(model)  # the copy gets its own (empty) record, on its own parameters
    assert twin.forward.stats["replayed"] == 0 and twin(_batches(1)[0][0]).shape == (16, 3)


def test_a_compiled_part_in_the_middle_passes_gradients_on():
    """Inputs with a graph (an eager layer before) and parameters outside get the same gradients."""
    def train(compiled):
        dendrite.manual_seed(0)
        first = nn.Linear(3, 8)
        rest = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
        middle = (lambda h, y: F.cross_entropy(rest(h.relu() * 2.0), y))
        middle = dendrite.compile(middle) if compiled else middle
        parameters = list(first.parameters()) + list(rest.parameters())
        optimizer = dendrite.optim.SGD(parameters, lr=0.1)
        for x, y in _batches(6):
            optimizer.zero_grad()
            middle(first(x), y).backward()
            optimizer.step()
        return [p.array.tobytes() for p in parameters]

    assert train(True) == train(False)


def test_several_outputs_retain_graph_and_no_grad():
    model = _mlp()
    x, y = _batches(1)[0]

    def both(x):
        logits = model(x)
        return logits, logits.tanh().sum()

    compiled = dendrite.compile(both)
    for _ in range(5):
        model.zero_grad()
        logits, total = compiled(x)
        (logits.sum() + total).backward(retain_graph=True)
        total.backward()
    replayed = [p.grad.array.tobytes() for p in model.parameters()]
    model.zero_grad()
    logits, total = both(x)
    (logits.sum() + total).backward(retain_graph=True)
    total.backward()
    assert replayed == [p.grad.array.tobytes() for p in model.parameters()]
    assert compiled.stats["replayed"] == 2
    with dendrite.no_grad():
        for _ in range(4):
            outputs = compiled(x)
    assert outputs[0].grad_fn is None and outputs[0].array.tobytes() == logits.array.tobytes()


def test_an_in_place_change_of_a_saved_value_is_still_caught():
    w = dendrite.ones(4, requires_grad=True)
    f = dendrite.compile(lambda x: (x * w).exp())
    for _ in range(4):
        y = f(dendrite.ones(4))
    assert y.grad_fn.name == "Compiled"
    y.mul_(2)  # Exp saved its result, which this overwrites
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_compile_as_decorator_with_torch_options():
    @dendrite.compile(mode="reduce-overhead", dynamic=False)
    def double(x):
        return x * 2

    assert isinstance(double, dendrite.autograd.compiled.CompiledFunction) and double.__name__ == "double"
    assert [double(dendrite.tensor([1.0])).item() for _ in range(4)] == [2.0] * 4
    assert double.stats["replayed"] == 1


def test_regression_with_mse_and_huber_losses():
    def train(compiled, loss):
        dendrite.manual_seed(0)
        net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
        optimizer = dendrite.optim.SGD(net.parameters(), lr=0.05, momentum=0.5)
        step = (lambda x, y: loss(net(x), y))
        step = dendrite.compile(step) if compiled else step
        rng = np.random.default_rng(2)
        for _ in range(6):
            x = dendrite.tensor(rng.standard_normal((16, 3)).astype(np.float32))
            optimizer.zero_grad()
            step(x, x.sum(1, keepdim=True).detach()).backward()
            optimizer.step()
        return [p.array.tobytes() for p in net.parameters()], step

    for loss in (F.mse_loss, F.huber_loss):
        (ours, compiled), (theirs, _) = train(True, loss), train(False, loss)
        assert ours == theirs and compiled.stats["replayed"] == 3, compiled.explain()
