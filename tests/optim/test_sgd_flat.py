"""Plain SGD over a small group as one flat array (optim/flat.py): the same bits as parameter by parameter,
and the per-parameter update wherever the parameters cannot become views of one array unnoticed."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import dendrite
import dendrite.nn.functional as F
from dendrite.optim.flat import FlatGroup

nn = dendrite.nn


def _model(seed: int = 0):
    dendrite.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))


def _data():
    rng = np.random.default_rng(0)
    return (dendrite.tensor(rng.standard_normal((32, 2)).astype(np.float32)),
            dendrite.tensor(rng.integers(0, 2, 32)))


def _train(model, optimizer, steps: int = 5, compiled: bool = False):
    x, y = _data()
    loss_of = (lambda a, b: F.cross_entropy(model(a), b))
    if compiled:
        loss_of = dendrite.compile(loss_of)
    for _ in range(steps):
        optimizer.zero_grad()
        loss_of(x, y).backward()
        optimizer.step()


def _bytes(model):
    return [p.array.tobytes() for p in model.parameters()]


@pytest.fixture
def per_parameter(monkeypatch):
    """Switches the flat update off: the reference, parameter by parameter."""
    def off():
        monkeypatch.setattr(FlatGroup, "subtract_scaled_", lambda self, params, lr: False)
    return off


def _reference(per_parameter, steps=5, **options):
    model = _model()
    per_parameter()
    _train(model, dendrite.optim.SGD(model.parameters(), **options), steps)
    return _bytes(model)


@pytest.mark.parametrize("options", [dict(lr=0.1), dict(lr=0.1, maximize=True)])
@pytest.mark.parametrize("compiled", [False, True])
def test_flat_step_gives_the_per_parameter_bits(per_parameter, options, compiled):
    model = _model()
    optimizer = dendrite.optim.SGD(model.parameters(), **options)
    _train(model, optimizer, 6, compiled)
    assert optimizer._flat_groups[0].grads is not None  # the flat update was taken
    assert all(not p.array.flags.owndata for p in model.parameters())  # views of one array
    assert _bytes(model) == _reference(per_parameter, 6, **options)


def test_an_array_referenced_elsewhere_is_not_replaced():
    shared = dendrite.ones(2)
    weight = nn.Parameter(shared)  # shares shared's array, as in PyTorch
    other = nn.Parameter(dendrite.ones(3))
    optimizer = dendrite.optim.SGD([weight, other], lr=0.5)
    for _ in range(20):  # more than the tries a plan gets
        (weight.sum() + other.sum()).backward()
        optimizer.step()
        optimizer.zero_grad()
    assert optimizer._flat_groups[0].grads is None
    assert shared.tolist() == weight.tolist() == [-9.0, -9.0]  # the update still reaches the sharer


def test_a_replaced_array_ends_the_flat_update(per_parameter):
    def run():
        model = _model()
        optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
        _train(model, optimizer, 2)
        first = model[0].weight
        first.data = first.array.copy()  # the user replaces an array
        _train(model, optimizer, 3)
        return _bytes(model), optimizer

    flat, optimizer = run()
    assert optimizer._flat_groups[0].grads is None  # parameter by parameter from then on
    per_parameter()
    assert flat == run()[0]


def test_each_parameter_keeps_its_own_version_counter():
    model = _model()
    optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
    _train(model, optimizer, 2)
    assert optimizer._flat_groups[0].grads is not None
    weight, bias = model[0].weight, model[0].bias
    x, _ = _data()
    loss = model(x).sum()  # saves the weights (not the biases) for backward
    before = weight._version
    with dendrite.no_grad():
        bias.add_(1.0)  # in place, on a parameter nothing saved: no error, no other version bumped
    assert weight._version == before
    loss.backward()
    loss = model(x).sum()
    with dendrite.no_grad():
        model[2].weight.mul_(2.0)
    with pytest.raises(RuntimeError, match="inplace"):  # a saved value written since is still found
        loss.backward()


def test_module_load_state_dict_during_training(per_parameter):
    def run():
        model = _model()
        optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
        _train(model, optimizer, 2)
        model.load_state_dict(_model(seed=1).state_dict())
        _train(model, optimizer, 3)
        return _bytes(model)

    flat = run()
    per_parameter()
    assert flat == run()


def test_a_missing_or_odd_gradient_takes_the_per_parameter_step():
    a, b = nn.Parameter(dendrite.ones(2)), nn.Parameter(dendrite.ones(3))
    optimizer = dendrite.optim.SGD([a, b], lr=0.5)
    a.grad, b.grad = dendrite.ones(2), dendrite.ones(3)
    optimizer.step()
    assert optimizer._flat_groups[0].grads is not None
    b.grad = None  # no gradient: b stays
    optimizer.step()
    assert a.tolist() == [0.0, 0.0] and b.tolist() == [0.5, 0.5, 0.5]
    # a float64 gradient: the product in float64, as parameter by parameter (not cast first)
    a.grad, b.grad = dendrite.tensor([0.1, 0.1], dtype=dendrite.float64), dendrite.ones(3)
    optimizer.step()
    expected = np.zeros(2, np.float32)
    expected += -0.5 * np.array([0.1, 0.1])
    assert a.array.tobytes() == expected.tobytes() and b.tolist() == [0.0, 0.0, 0.0]


def test_groups_momentum_and_weight_decay(per_parameter):
    def run():
        model = _model()
        optimizer = dendrite.optim.SGD([{"params": model[0].parameters()},
                                        {"params": model[2].parameters(), "momentum": 0.9},
                                        {"params": model[4].parameters(), "weight_decay": 0.01}], lr=0.1)
        _train(model, optimizer, 2)
        optimizer.add_param_group({"params": [nn.Parameter(dendrite.ones(3))], "lr": 0.2})
        _train(model, optimizer, 3)
        return _bytes(model), optimizer

    flat, optimizer = run()
    assert optimizer._flat_groups[0].grads is not None  # the plain group
    assert not model_arrays_flat(optimizer.param_groups[1]["params"])  # momentum: untouched arrays
    per_parameter()
    assert flat == run()[0]


def model_arrays_flat(params) -> bool:
    return any(not p.array.flags.owndata for p in params)


def test_a_large_group_is_not_flattened():
    weight = nn.Parameter(dendrite.ones(300, 200))
    optimizer = dendrite.optim.SGD([weight], lr=0.1)
    weight.grad = dendrite.ones(300, 200)
    optimizer.step()
    assert optimizer._flat_groups[0].grads is None and weight.array.flags.owndata
    assert np.all(weight.array == np.float32(1) - np.float32(0.1))


def test_a_copied_optimizer_plans_for_its_own_parameters(per_parameter):
    model = _model()
    optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
    _train(model, optimizer, 2)
    twin_model = copy.deepcopy(model)
    twin = dendrite.optim.SGD(twin_model.parameters(), lr=0.1)
    twin.load_state_dict(optimizer.state_dict())
    _train(twin_model, twin, 3)
    _train(model, optimizer, 3)
    assert _bytes(model) == _bytes(twin_model)
    copied = copy.deepcopy(optimizer)
    assert copied._flat_groups[0].grads is None  # planned again at its first step
