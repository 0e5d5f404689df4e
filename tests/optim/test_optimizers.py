"""Optimizers against PyTorch: identical parameter trajectories, groups, skipping, state dicts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite

SHAPES = [(3, 4), (4,), (2, 3)]
STEPS = 10
TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}

CONFIGS = [
    ("SGD", {}),
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.1, weight_decay=0.01, maximize=True)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("Adam", {}),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-3)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", {}),
    ("AdamW", dict(lr=0.05, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05, betas=(0.5, 0.6), weight_decay=0.3, amsgrad=True)),
    ("AdamW", dict(lr=0.05, maximize=True)),
    ("RMSprop", {}),
    ("RMSprop", dict(lr=0.01, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, eps=1e-2, maximize=True)),
    ("Adagrad", {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-3)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.2, maximize=True)),
    ("Adadelta", {}),
    ("Adadelta", dict(lr=0.5, rho=0.8)),
    ("Adadelta", dict(eps=1e-3, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
]


def initial_arrays(dtype) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]


def gradient(values: np.ndarray, step: int, index: int) -> np.ndarray:
    """A deterministic gradient that depends on the parameter, so errors compound over steps."""
    return 2 * (values - 0.5) + 0.3 * np.sin(3 * values) + 0.1 * (step + 1) * np.cos(values + index)


class Twins:
    """The same parameters in dendrite and PyTorch, stepped side by side."""

    def __init__(self, dtype=np.float64) -> None:
        arrays = initial_arrays(dtype)
        self.ours = [dendrite.nn.Parameter(dendrite.tensor(a.copy())) for a in arrays]
        self.theirs = [torch.nn.Parameter(torch.tensor(a.copy())) for a in arrays]

    def set_grads(self, step: int, skip=()) -> None:
        for index, (ours, theirs) in enumerate(zip(self.ours, self.theirs)):
            if index in skip:
                ours.grad, theirs.grad = None, None
                continue
            ours.grad = dendrite.tensor(gradient(ours.detach().numpy(), step, index))
            theirs.grad = torch.tensor(gradient(theirs.detach().numpy(), step, index))

    def assert_same(self, what: str, dtype=np.float64) -> None:
        for index, (ours, theirs) in enumerate(zip(self.ours, self.theirs)):
            np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                                       err_msg=f"{what}: parameter {index}", **TOLERANCE[dtype])


def build(twins: Twins, name: str, kwargs: dict, groups=None):
    def params(tensors):
        if groups is None:
            return tensors
        return [dict(options, params=[tensors[i] for i in indices]) for indices, options in groups]

    return (getattr(dendrite.optim, name)(params(twins.ours), **kwargs),
            getattr(torch.optim, name)(params(twins.theirs), **kwargs))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_trajectory_matches_torch(name, kwargs, dtype):
    twins = Twins(dtype)
    ours, theirs = build(twins, name, kwargs)
    for step in range(STEPS):
        twins.set_grads(step)
        ours.step()
        theirs.step()
        twins.assert_same(f"{name}{kwargs} step {step}", dtype)
    for p in twins.ours:
        assert p.dtype == dtype, "the update must keep the parameter's dtype"


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.05)), ("AdamW", dict(lr=0.05)),
    ("RMSprop", dict(momentum=0.5)), ("Adagrad", dict(lr=0.1)), ("Adadelta", {}),
])
def test_param_groups_with_own_options(name, kwargs):
    twins = Twins()
    groups = [([0], dict(lr=0.2)), ([1, 2], dict(lr=0.01, weight_decay=0.05))]
    ours, theirs = build(twins, name, kwargs, groups)
    assert [g["lr"] for g in ours.param_groups] == [0.2, 0.01]
    assert ours.param_groups[0]["weight_decay"] == ours.defaults["weight_decay"]
    for step in range(STEPS):
        twins.set_grads(step)
        ours.step()
        theirs.step()
        twins.assert_same(f"{name} groups step {step}")


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.05)), ("RMSprop", dict(centered=True)),
    ("Adagrad", dict(lr=0.1)), ("Adadelta", {}),
])
def test_parameters_without_grad_are_skipped(name, kwargs):
    twins = Twins()
    ours, theirs = build(twins, name, kwargs)
    frozen_before = twins.ours[1].detach().numpy().copy()
    for step in range(STEPS):
        # Parameter 1 is frozen throughout; parameter 2 only gets a gradient on even steps.
        twins.set_grads(step, skip={1} if step % 2 == 0 else {1, 2})
        ours.step()
        theirs.step()
        twins.assert_same(f"{name} skipping step {step}")
    np.testing.assert_array_equal(twins.ours[1].detach().numpy(), frozen_before)
    if name != "Adagrad":  # Adagrad creates its state for every parameter up front, as PyTorch does
        assert twins.ours[1] not in ours.state
    assert ours.state_dict()["state"].keys() == theirs.state_dict()["state"].keys()


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.05)), ("RMSprop", dict(momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)), ("Adadelta", dict(lr=0.5)),
])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    reference, resumed = Twins(), Twins()
    groups = [([0, 1], dict(lr=kwargs.get("lr", 0.01) * 2)), ([2], {})]
    ref_opt, _ = build(reference, name, kwargs, groups)
    first_opt, _ = build(resumed, name, kwargs, groups)
    for step in range(4):
        reference.set_grads(step)
        resumed.set_grads(step)
        ref_opt.step()
        first_opt.step()
    saved = first_opt.state_dict()
    assert sorted(saved) == ["param_groups", "state"]
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2]]
    assert set(saved["state"]) == {0, 1, 2}
    # A fresh optimizer with other options gets everything from the state dict.
    second_opt = getattr(dendrite.optim, name)(
        [{"params": resumed.ours[:2]}, {"params": resumed.ours[2:]}], lr=123.0)
    second_opt.load_state_dict(saved)
    assert [g["lr"] for g in second_opt.param_groups] == [g["lr"] for g in ref_opt.param_groups]
    assert second_opt.param_groups[0]["params"][0] is resumed.ours[0]
    for step in range(4, 10):
        reference.set_grads(step)
        resumed.set_grads(step)
        ref_opt.step()
        second_opt.step()
        for a, b in zip(reference.ours, resumed.ours):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_state_dict_is_a_snapshot_and_loading_copies():
    twins = Twins()
    opt, _ = build(twins, "SGD", dict(lr=0.1, momentum=0.9))
    twins.set_grads(0)
    opt.step()
    saved = opt.state_dict()
    buffer_before = saved["state"][0]["momentum_buffer"].numpy().copy()
    twins.set_grads(1)
    opt.step()
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"].numpy(), buffer_before)
    opt.load_state_dict(saved)
    assert opt.state[twins.ours[0]]["momentum_buffer"] is not saved["state"][0]["momentum_buffer"]


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.05, amsgrad=True)),
    ("RMSprop", dict(momentum=0.5, centered=True)), ("Adagrad", dict(lr=0.1)), ("Adadelta", {}),
])
def test_loads_a_pytorch_state_dict(name, kwargs):
    twins = Twins()
    ours, theirs = build(twins, name, kwargs)
    for step in range(3):
        twins.set_grads(step)
        theirs.step()
    for ours_p, theirs_p in zip(twins.ours, twins.theirs):
        ours_p.data = dendrite.tensor(theirs_p.detach().numpy().copy())
    ours.load_state_dict(theirs.state_dict())
    loaded = ours.state[twins.ours[0]]
    assert loaded.keys() == theirs.state[twins.theirs[0]].keys()
    assert all(isinstance(value, dendrite.Tensor) for value in loaded.values())
    if "step" in loaded:
        assert loaded["step"].dtype == np.float32 and float(loaded["step"]) == 3.0
    for step in range(3, 8):
        twins.set_grads(step)
        ours.step()
        theirs.step()
        twins.assert_same(f"{name} after loading PyTorch's state, step {step}")


def test_load_state_dict_rejects_mismatched_groups():
    twins = Twins()
    opt, _ = build(twins, "SGD", dict(lr=0.1))
    other = dendrite.optim.SGD(twins.ours[:2], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        other.load_state_dict(opt.state_dict())
    two_groups = dendrite.optim.SGD([{"params": twins.ours[:1]}, {"params": twins.ours[1:]}], lr=0.1)
    with pytest.raises(ValueError, match="parameter groups"):
        two_groups.load_state_dict(opt.state_dict())


def test_updates_happen_in_place():
    twins = Twins()
    arrays = [p._data for p in twins.ours]
    view = twins.ours[0]._data[0]  # e.g. a module holding a view of the weights
    before = view.copy()
    for name in ("SGD", "Adam", "RMSprop"):
        opt = getattr(dendrite.optim, name)(twins.ours, lr=0.1)
        twins.set_grads(0)
        opt.step()
    assert all(p._data is a for p, a in zip(twins.ours, arrays))
    assert not np.array_equal(view, before)


def test_step_works_with_grad_enabled_and_does_not_record_a_graph():
    w = dendrite.nn.Parameter(dendrite.tensor([1.0, -2.0]))
    opt = dendrite.optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


def test_closure_is_evaluated_with_grad_and_its_loss_returned():
    w = dendrite.nn.Parameter(dendrite.tensor([1.0, -2.0]))
    opt = dendrite.optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with dendrite.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 5.0
    np.testing.assert_allclose(w.detach().numpy(), [0.5, -1.0])


def test_zero_grad():
    twins = Twins()
    opt, _ = build(twins, "SGD", {})
    twins.set_grads(0)
    kept = twins.ours[0].grad
    opt.zero_grad(set_to_none=False)
    assert twins.ours[0].grad is kept
    assert all(not p.grad.numpy().any() for p in twins.ours)
    opt.zero_grad()
    assert all(p.grad is None for p in twins.ours)


def test_tiny_mlp_with_autograd_matches_torch():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    shapes = [(5, 3), (5,), (1, 5), (1,)]
    arrays = [rng.standard_normal(s) * 0.5 for s in shapes]
    for lib in (dendrite, torch):
        params = [lib.nn.Parameter(lib.tensor(a.copy())) for a in arrays]
        opt = lib.optim.Adam(params, lr=0.05)
        inputs, targets = lib.tensor(x), lib.tensor(y)
        for _ in range(STEPS):
            opt.zero_grad()
            hidden = (inputs @ params[0].T + params[1]).tanh()
            loss = ((hidden @ params[2].T + params[3] - targets) ** 2).mean()
            loss.backward()
            opt.step()
        if lib is dendrite:
            ours = [p.detach().numpy().copy() for p in params]
    for a, b in zip(ours, params):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_validation_errors_name_the_problem():
    w = [dendrite.nn.Parameter(dendrite.ones(2))]
    with pytest.raises(ValueError, match="SGD: Invalid learning rate: -0.1"):
        dendrite.optim.SGD(w, lr=-0.1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        dendrite.optim.SGD(w, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Adam: Invalid beta parameter at index 1"):
        dendrite.optim.Adam(w, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="RMSprop: Invalid alpha value"):
        dendrite.optim.RMSprop(w, alpha=-1.0)
    with pytest.raises(ValueError, match="Adadelta: Invalid rho value"):
        dendrite.optim.Adadelta(w, rho=1.5)
    with pytest.raises(ValueError, match="empty parameter list"):
        dendrite.optim.Adam([])
    with pytest.raises(TypeError, match="single Tensor"):
        dendrite.optim.SGD(w[0], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        dendrite.optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        dendrite.optim.SGD([w[0] * 2], lr=0.1)


def test_add_param_group_and_duplicates():
    a, b = dendrite.nn.Parameter(dendrite.ones(2)), dendrite.nn.Parameter(dendrite.ones(3))
    opt = dendrite.optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is b
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.warns(UserWarning, match="more than once"):
        dendrite.optim.SGD([a, a], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        opt.add_param_group({"params": {dendrite.nn.Parameter(dendrite.ones(1))}})


def test_named_parameters_are_accepted():
    w = dendrite.nn.Parameter(dendrite.ones(2))
    opt = dendrite.optim.SGD([("weight", w)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight"]


def test_defaults_match_torch():
    import inspect

    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"):
        ours = inspect.signature(getattr(dendrite.optim, name)).parameters
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        assert list(ours) == list(theirs), name
        for key, parameter in theirs.items():
            if key != "params":
                assert ours[key].default == parameter.default, f"{name}.{key}"
                assert ours[key].kind == parameter.kind, f"{name}.{key}"


def test_step_hooks_run_once_and_can_be_removed():
    w = dendrite.nn.Parameter(dendrite.ones(2))
    opt = dendrite.optim.SGD([w], lr=0.1)
    calls = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    opt.step()
    assert calls == ["pre", "post"]
    pre.remove()
    opt.step()
    assert calls == ["pre", "post", "post"]


def test_repr_lists_the_groups():
    opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(2))], lr=0.1)
    assert repr(opt).startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in repr(opt)
