"""nn.utils.parametrize, parametrizations.weight_norm and the legacy weight_norm, against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrizations as torch_parametrizations
import torch.nn.utils.parametrize as torch_parametrize

import dendrite
from dendrite import nn
from dendrite.nn.utils import parametrizations, parametrize, remove_weight_norm, weight_norm


# ----------------------------------------------------------------------------- parametrizations to test
def _symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(0, 1)
    return Symmetric()


def _positive(lib):
    class Positive(lib.nn.Module):  # exp, with log as right inverse
        def forward(self, x):
            return x.exp()

        def right_inverse(self, value):
            return value.log()
    return Positive()


def _scaled(lib):
    class Scaled(lib.nn.Module):  # owns a buffer: it appears in the state_dict under the parametrization
        def __init__(self):
            super().__init__()
            self.register_buffer("scale", lib.tensor(3.0, dtype=lib.float64))

        def forward(self, x):
            return x * self.scale

        def right_inverse(self, value):
            return value / self.scale
    return Scaled()


def _pair(make_ours, make_theirs, seed: int = 0):
    """A dendrite and a torch module (float64) holding the same weights."""
    ours, theirs = make_ours().double(), make_theirs().double()
    rng = np.random.default_rng(seed)
    state = {key: rng.uniform(0.5, 1.5, tuple(value.shape)) for key, value in theirs.state_dict().items()}
    theirs.load_state_dict({key: torch.tensor(value) for key, value in state.items()})
    ours.load_state_dict(state)
    return ours, theirs


def _to_numpy(tensor) -> np.ndarray:
    return tensor.detach().numpy()


def _copy_state(ours: nn.Module, theirs: torch.nn.Module) -> None:
    ours.load_state_dict({key: _to_numpy(value) for key, value in theirs.state_dict().items()})


# ----------------------------------------------------------------------------- register_parametrization
@pytest.mark.parametrize("chain", [[_symmetric], [_positive], [_positive, _scaled], [_symmetric, _scaled]])
def test_register_matches_torch_keys_values_and_gradients(chain):
    ours, theirs = _pair(lambda: nn.Linear(3, 3), lambda: torch.nn.Linear(3, 3))
    for make in chain:
        parametrize.register_parametrization(ours, "weight", make(dendrite))
        torch_parametrize.register_parametrization(theirs, "weight", make(torch))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():  # right_inverse ran at registration, as in torch
        np.testing.assert_allclose(_to_numpy(ours.state_dict()[key]), _to_numpy(value), rtol=1e-12)
    assert type(ours).__name__ == type(theirs).__name__ == "ParametrizedLinear"
    assert parametrize.is_parametrized(ours) and parametrize.is_parametrized(ours, "weight")
    assert not parametrize.is_parametrized(ours, "bias")
    np.testing.assert_allclose(_to_numpy(ours.weight), _to_numpy(theirs.weight), rtol=1e-12)
    x = np.random.default_rng(1).standard_normal((4, 3))
    ours(dendrite.tensor(x)).pow(2).sum().backward()
    theirs(torch.tensor(x)).pow(2).sum().backward()
    ours_params, theirs_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(ours_params) == list(theirs_params)
    for name, param in theirs_params.items():
        np.testing.assert_allclose(ours_params[name].grad.numpy(), param.grad.numpy(), rtol=1e-10)


def test_assignment_goes_through_right_inverse_as_torch():
    ours, theirs = _pair(lambda: nn.Linear(2, 2), lambda: torch.nn.Linear(2, 2))
    parametrize.register_parametrization(ours, "weight", _positive(dendrite))
    parametrize.register_parametrization(ours, "weight", _scaled(dendrite))
    torch_parametrize.register_parametrization(theirs, "weight", _positive(torch))
    torch_parametrize.register_parametrization(theirs, "weight", _scaled(torch))
    original = ours.parametrizations.weight.original
    value = np.array([[1.0, 2.0], [3.0, 4.0]])
    ours.weight = dendrite.tensor(value)
    theirs.weight = torch.tensor(value)
    assert ours.parametrizations.weight.original is original  # the same Parameter object, new values
    theirs_original = theirs.parametrizations.weight.original
    np.testing.assert_allclose(_to_numpy(original), _to_numpy(theirs_original), rtol=1e-12)
    np.testing.assert_allclose(_to_numpy(ours.weight), value, rtol=1e-12)


def test_parametrized_buffer():
    module = nn.BatchNorm1d(3).double()
    parametrize.register_parametrization(module, "running_var", _positive(dendrite))
    reference = torch.nn.BatchNorm1d(3).double()
    torch_parametrize.register_parametrization(reference, "running_var", _positive(torch))
    assert list(module.state_dict()) == list(reference.state_dict())
    assert not module.parametrizations.running_var.original.requires_grad


def test_remove_keeps_the_parametrized_value_or_the_original():
    ours, theirs = _pair(lambda: nn.Linear(3, 3), lambda: torch.nn.Linear(3, 3))
    for module, lib, p in ((ours, dendrite, parametrize), (theirs, torch, torch_parametrize)):
        p.register_parametrization(module, "weight", _symmetric(lib))
        p.register_parametrization(module, "bias", _positive(lib))
    original = ours.parametrizations.weight.original
    expected = _to_numpy(ours.weight).copy()
    parametrize.remove_parametrizations(ours, "weight")
    torch_parametrize.remove_parametrizations(theirs, "weight")
    assert ours.weight is original and isinstance(ours.weight, nn.Parameter)  # same object, as torch's set_
    np.testing.assert_allclose(_to_numpy(ours.weight), expected)
    np.testing.assert_allclose(_to_numpy(ours.weight), _to_numpy(theirs.weight))
    assert type(ours).__name__ == "ParametrizedLinear" and parametrize.is_parametrized(ours, "bias")
    bias_original = _to_numpy(ours.parametrizations.bias.original).copy()
    parametrize.remove_parametrizations(ours, "bias", leave_parametrized=False)
    torch_parametrize.remove_parametrizations(theirs, "bias", leave_parametrized=False)
    np.testing.assert_allclose(_to_numpy(ours.bias), bias_original)
    np.testing.assert_allclose(_to_numpy(ours.bias), _to_numpy(theirs.bias))
    assert type(ours) is nn.Linear and not hasattr(ours, "parametrizations")
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(ours, "weight")


def test_cached_computes_once_inside_the_block():
    layer = parametrize.register_parametrization(nn.Linear(3, 3), "weight", _symmetric(dendrite))
    assert layer.weight is not layer.weight
    with parametrize.cached():
        first = layer.weight
        with parametrize.cached():
            assert layer.weight is first
        assert layer.weight is first
    assert layer.weight is not first


def test_errors_as_torch():
    class Shrink(nn.Module):
        def forward(self, x):
            return x[:1]

    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink())
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink(), unsafe=True)
    assert layer.weight.shape == (1, 2)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weights", Shrink())
    layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", _symmetric(dendrite))
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(layer, "weight", Shrink())
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        layer.weight = dendrite.ones(2, 2)
    with pytest.raises(KeyError, match="already exists"):  # assigning a Parameter, as torch
        layer.weight = nn.Parameter(dendrite.ones(2, 2))


# ----------------------------------------------------------------------------- weight_norm (parametrization)
LAYERS = [
    (lambda: nn.Linear(3, 4), lambda: torch.nn.Linear(3, 4), (5, 3)),
    (lambda: nn.Conv1d(2, 3, 3), lambda: torch.nn.Conv1d(2, 3, 3), (2, 2, 6)),
]


def _train(model, lib, x, target, steps: int = 4) -> None:
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        optimizer.zero_grad()
        (model(lib.tensor(x)) - lib.tensor(target)).pow(2).mean().backward()
        optimizer.step()


@pytest.mark.parametrize("make_ours, make_theirs, shape", LAYERS)
@pytest.mark.parametrize("dim", [0, 1, -1, None])
def test_weight_norm_parametrization_matches_torch(make_ours, make_theirs, shape, dim):
    ours, theirs = _pair(make_ours, make_theirs)
    parametrizations.weight_norm(ours, dim=dim)
    torch_parametrizations.weight_norm(theirs, dim=dim)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert [(k, tuple(v.shape)) for k, v in ours_state.items()] == \
        [(k, tuple(v.shape)) for k, v in theirs_state.items()]
    for key, value in theirs_state.items():  # g = ||w||, v = w, computed by right_inverse as torch
        np.testing.assert_allclose(_to_numpy(ours_state[key]), _to_numpy(value), rtol=1e-12)
    rng = np.random.default_rng(3)
    theirs.load_state_dict({key: torch.tensor(rng.uniform(0.5, 1.5, tuple(v.shape)))
                            for key, v in theirs_state.items()})  # g no longer ||v||
    _copy_state(ours, theirs)
    x = rng.standard_normal(shape)
    out, reference = ours(dendrite.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(_to_numpy(out), _to_numpy(reference), rtol=1e-12)
    out.pow(2).sum().backward()
    reference.pow(2).sum().backward()
    for (name, param), (torch_name, torch_param) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == torch_name
        np.testing.assert_allclose(param.grad.numpy(), torch_param.grad.numpy(), rtol=1e-10)
    target = rng.standard_normal(tuple(reference.shape))
    _train(ours, dendrite, x, target)
    _train(theirs, torch, x, target)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(_to_numpy(ours.state_dict()[key]), _to_numpy(value), rtol=1e-9)
    weight = _to_numpy(ours.weight).copy()
    parametrize.remove_parametrizations(ours, "weight")
    torch_parametrize.remove_parametrizations(theirs, "weight")
    assert isinstance(ours.weight, nn.Parameter) and type(ours) in (nn.Linear, nn.Conv1d)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(_to_numpy(ours.weight), weight)
    np.testing.assert_allclose(_to_numpy(ours.weight), _to_numpy(theirs.weight), rtol=1e-12)


# ----------------------------------------------------------------------------- legacy weight_norm
@pytest.mark.parametrize("make_ours, make_theirs, shape", LAYERS)
@pytest.mark.parametrize("dim", [0, 1, None])
def test_legacy_weight_norm_matches_torch(make_ours, make_theirs, shape, dim):
    ours, theirs = _pair(make_ours, make_theirs)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        weight_norm(ours, dim=dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.utils.weight_norm(theirs, dim=dim)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    rng = np.random.default_rng(4)
    theirs.load_state_dict({key: torch.tensor(rng.uniform(0.5, 1.5, tuple(v.shape)))
                            for key, v in theirs.state_dict().items()})
    _copy_state(ours, theirs)
    x = rng.standard_normal(shape)
    out, reference = ours(dendrite.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(_to_numpy(out), _to_numpy(reference), rtol=1e-12)
    out.pow(2).sum().backward()
    reference.pow(2).sum().backward()
    np.testing.assert_allclose(ours.weight_g.grad.numpy(), theirs.weight_g.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.weight_v.grad.numpy(), theirs.weight_v.grad.numpy(), rtol=1e-10)
    target = rng.standard_normal(tuple(reference.shape))
    _train(ours, dendrite, x, target)
    _train(theirs, torch, x, target)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(_to_numpy(ours.state_dict()[key]), _to_numpy(value), rtol=1e-9)
    ours(dendrite.tensor(x))  # the pre-hook recomputes weight from the trained g and v
    weight = ours.weight.detach().numpy().copy()
    remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert isinstance(ours.weight, nn.Parameter)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(_to_numpy(ours.weight), weight)
    np.testing.assert_allclose(_to_numpy(ours.weight), _to_numpy(theirs.weight), rtol=1e-12)


def test_legacy_weight_norm_errors_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer = weight_norm(nn.Linear(2, 2))
        with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same parameter"):
            weight_norm(layer)
        with pytest.raises(ValueError, match="weight_norm of 'bias' not found"):
            remove_weight_norm(layer, "bias")
        with pytest.raises(ValueError, match="has no parameter 'scale'"):
            weight_norm(nn.Linear(2, 2), name="scale")
