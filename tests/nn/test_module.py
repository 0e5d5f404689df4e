"""Module machinery: registration, traversal, modes, state_dict, hooks, dtype, repr."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import dendrite
from dendrite import nn


class Tiny(nn.Module):
    """A module with its own parameter, a buffer, a non-persistent buffer and a child."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(dendrite.ones(3))
        self.register_buffer("count", dendrite.zeros(1))
        self.register_buffer("cache", dendrite.zeros(2), persistent=False)
        self.child = nn.Linear(3, 2)

    def forward(self, x):
        return self.child(x * self.scale)


def both(build):
    """The same model built with torch.nn and dendrite.nn."""
    return build(torch.nn), build(nn)


# ---------------------------------------------------------------------------- registration
def test_registration_order_and_names():
    model = Tiny()
    assert [name for name, _ in model.named_parameters()] == ["scale", "child.weight", "child.bias"]
    assert [name for name, _ in model.named_parameters(recurse=False)] == ["scale"]
    prefixed = [name for name, _ in model.named_parameters(prefix="m")]
    assert prefixed == ["m.scale", "m.child.weight", "m.child.bias"]
    assert [name for name, _ in model.named_buffers()] == ["count", "cache"]
    assert [name for name, _ in model.named_children()] == ["child"]
    assert [name for name, _ in model.named_modules()] == ["", "child"]
    assert list(model.state_dict()) == ["scale", "count", "child.weight", "child.bias"]
    assert model.child is model._modules["child"] and model.scale is model._parameters["scale"]


def test_state_dict_keys_match_torch():
    def build(lib):
        return lib.Sequential(
            lib.Conv2d(1, 4, 3), lib.BatchNorm2d(4), lib.ReLU(),
            lib.Sequential(lib.Flatten(), lib.Linear(4 * 6 * 6, 5, bias=False)),
            lib.LayerNorm(5), lib.Embedding(7, 5, padding_idx=0),
        )

    theirs, ours = both(build)
    expected = OrderedDict((k, tuple(v.shape)) for k, v in theirs.state_dict().items())
    got = OrderedDict((k, tuple(v.shape)) for k, v in ours.state_dict().items())
    assert got == expected
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    assert ours.state_dict()["1.num_batches_tracked"].dtype == dendrite.int64


def test_shared_parameters_counted_once():
    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.named_parameters(remove_duplicate=False))) == 4
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]


def test_setattr_rules():
    model = Tiny()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        model.scale = dendrite.ones(3)  # a plain tensor can't replace a Parameter
    model.scale = None
    assert "scale" not in dict(model.named_parameters())
    with pytest.raises(TypeError, match="buffer 'count'"):
        model.count = 3
    model.count = dendrite.ones(1)
    assert float(model.state_dict()["count"][0]) == 1.0
    model.child = nn.Linear(3, 7)  # replacing a child keeps it registered
    assert model.state_dict()["child.weight"].shape == (7, 3)
    model.plain = 5
    assert model.plain == 5 and "plain" not in model.state_dict()


def test_reassigning_a_plain_attribute_as_parameter_moves_it():
    model = nn.Module()
    model.w = 1
    model.w = nn.Parameter(dendrite.zeros(2))
    assert list(model.state_dict()) == ["w"]
    del model.w
    assert list(model.state_dict()) == []
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'w'"):
        _ = model.w


@pytest.mark.parametrize("lib", ["dendrite", "torch"])
def test_a_replaced_parameter_or_layer_keeps_its_place(lib):
    lib = dendrite if lib == "dendrite" else pytest.importorskip("torch")
    layer = lib.nn.Linear(2, 2)
    layer.weight = lib.nn.Parameter(lib.zeros(2, 2))
    assert list(layer.state_dict()) == ["weight", "bias"]
    model = lib.nn.Sequential(lib.nn.Linear(3, 8), lib.nn.ReLU())
    model[0] = lib.nn.Linear(3, 4)
    assert [type(child).__name__ for child in model] == ["Linear", "ReLU"]
    assert list(model.state_dict()) == ["0.weight", "0.bias"] and model(lib.ones(1, 3)).shape == (1, 4)


def test_assign_before_init_is_an_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(dendrite.zeros(1))
            super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()


def test_add_module_get_submodule_and_errors():
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 2)))
    assert model.get_submodule("0.0") is model[0][0]
    assert model.get_parameter("0.0.bias") is model[0][0].bias
    with pytest.raises(AttributeError, match="no attribute `9`"):
        model.get_submodule("0.9")
    with pytest.raises(KeyError, match='contain "."'):
        model.add_module("a.b", nn.ReLU())
    with pytest.raises(TypeError, match="not a Module"):
        model.add_module("x", 3)
    model.register_module("extra", nn.ReLU())
    assert [n for n, _ in model.named_children()] == ["0", "extra"]


def test_register_buffer_errors():
    model = nn.Module()
    with pytest.raises(TypeError, match="buffer 'b'"):
        model.register_buffer("b", np.zeros(2))
    model.x = 1
    with pytest.raises(KeyError, match="already exists"):
        model.register_buffer("x", dendrite.zeros(1))


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match=r"Module \[Module\] is missing"):
        nn.Module()(1)


# ---------------------------------------------------------------------------- modes, grads, apply
def test_train_eval_propagate():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="boolean"):
        model.train("no")


def test_requires_grad_and_zero_grad():
    model = nn.Linear(3, 2)
    model(dendrite.ones(4, 3)).sum().backward()
    assert model.weight.grad is not None
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is not None and float(model.weight.grad.abs().sum()) == 0.0
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_apply_visits_children_first():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


# ---------------------------------------------------------------------------- hooks
def test_forward_hooks_can_replace_input_and_output():
    model = nn.Identity()
    calls = []
    pre = model.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    post = model.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = model(dendrite.ones(3))
    assert out.tolist() == [3.0, 3.0, 3.0] and calls == [(3,)]
    pre.remove()
    post.remove()
    assert model(dendrite.ones(3)).tolist() == [1.0, 1.0, 1.0] and len(calls) == 1


# ---------------------------------------------------------------------------- load_state_dict
def _linear_pair():
    torch.manual_seed(0)
    return torch.nn.Linear(4, 3), nn.Linear(4, 3)


@pytest.mark.parametrize("convert", [
    lambda t: t.detach().numpy(),
    lambda t: dendrite.tensor(t.detach().numpy()),
    lambda t: t.detach(),  # torch tensors are array-like too
    lambda t: t.detach().double().numpy(),  # values are cast to the parameter dtype
], ids=["numpy", "dendrite", "torch", "float64-numpy"])
def test_load_state_dict_copies_into_existing_parameters(convert):
    theirs, ours = _linear_pair()
    weight_before = ours.weight
    result = ours.load_state_dict({k: convert(v) for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert ours.weight is weight_before and ours.weight.dtype == dendrite.float32
    np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())
    np.testing.assert_array_equal(ours.bias.detach().numpy(), theirs.bias.detach().numpy())


def test_load_state_dict_round_trip_with_buffers():
    source = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    source[1].running_mean.copy_(dendrite.tensor([1.0, 2.0, 3.0]))
    source[1].num_batches_tracked.fill_(7)
    target = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    target.load_state_dict(source.state_dict())
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[key].numpy(), value.numpy(), err_msg=key)
    assert int(target[1].num_batches_tracked) == 7 and target[1].num_batches_tracked.dtype == dendrite.int64


def test_state_dict_values_share_memory():
    model = nn.Linear(2, 2)
    model.state_dict()["bias"].numpy()[...] = 5.0
    assert model.bias.tolist() == [5.0, 5.0]
    assert model.state_dict(keep_vars=True)["bias"] is model.bias


def test_load_state_dict_missing_and_unexpected_keys():
    _, ours = _linear_pair()
    bad = {"weight": np.zeros((3, 4), np.float32), "extra": np.zeros(1)}
    with pytest.raises(RuntimeError) as error:
        ours.load_state_dict(bad)
    message = str(error.value)
    assert "Error(s) in loading state_dict for Linear" in message
    assert 'Missing key(s) in state_dict: "bias"' in message
    assert 'Unexpected key(s) in state_dict: "extra"' in message
    result = ours.load_state_dict(bad, strict=False)
    assert result == (["bias"], ["extra"])
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert float(ours.weight.abs().sum()) == 0.0  # the keys that matched were loaded


def test_load_state_dict_nested_unexpected_keys_match_torch():
    def build(lib):
        return lib.Sequential(lib.Linear(2, 2), lib.Sequential(lib.Linear(2, 2)))

    theirs, ours = both(build)
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    state.pop("1.0.bias")
    state["1.0.gamma"] = np.zeros(2, np.float32)
    state["2.weight"] = np.zeros(2, np.float32)
    expected = theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()}, strict=False)
    got = ours.load_state_dict(state, strict=False)
    assert got.missing_keys == expected.missing_keys
    assert sorted(got.unexpected_keys) == sorted(expected.unexpected_keys)


def test_load_state_dict_shape_mismatch_names_both_shapes():
    _, ours = _linear_pair()
    state = {"weight": np.zeros((4, 3), np.float32), "bias": np.zeros(3, np.float32)}
    for strict in (True, False):
        with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with shape "
                           r"\(4, 3\) from checkpoint, the shape in current model is \(3, 4\)"):
            ours.load_state_dict(state, strict=strict)


def test_load_state_dict_assign_replaces_parameters():
    model = nn.BatchNorm1d(2)
    weight = model.weight
    state = {k: v.numpy() * 0 + 3 for k, v in model.state_dict().items()}
    model.load_state_dict(state, assign=True)
    assert model.weight is not weight and isinstance(model.weight, nn.Parameter)
    assert model.weight.requires_grad and model.weight.tolist() == [3.0, 3.0]
    assert model.running_var.tolist() == [3.0, 3.0] and model.num_batches_tracked.dtype == dendrite.int64


def test_load_state_dict_rejects_non_mappings():
    with pytest.raises(TypeError, match="dict-like"):
        nn.Linear(2, 2).load_state_dict([1, 2])


# ---------------------------------------------------------------------------- dtype
def test_to_double_casts_floats_and_keeps_objects():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = model[0].weight
    model(dendrite.randn(4, 2)).sum().backward()
    assert model.double() is model
    assert model[0].weight is weight and weight.dtype == dendrite.float64
    assert weight.grad.dtype == dendrite.float64
    assert model[1].running_mean.dtype == dendrite.float64
    assert model[1].num_batches_tracked.dtype == dendrite.int64
    model.to(dendrite.float32)
    assert weight.dtype == dendrite.float32
    model.to("cpu")
    with pytest.raises(RuntimeError, match="CPU"):
        model.to("cuda")
    with pytest.raises(TypeError, match="floating point"):
        model.to(dendrite.int32)


# ---------------------------------------------------------------------------- repr
@pytest.mark.parametrize("build", [
    lambda lib: lib.Sequential(lib.Conv2d(1, 8, 3, padding=1), lib.BatchNorm2d(8), lib.ReLU(),
                               lib.MaxPool2d(2), lib.Dropout(0.25), lib.Flatten(),
                               lib.Linear(8, 2, bias=False)),
    lambda lib: lib.ModuleDict({"a": lib.Linear(2, 2), "b": lib.Sequential(lib.GELU(), lib.LayerNorm(4))}),
    lambda lib: lib.Sequential(lib.Conv2d(2, 4, (3, 5), stride=2, dilation=(1, 2), groups=2,
                                          padding_mode="reflect"),
                               lib.ConvTranspose2d(4, 2, 2, stride=2, output_padding=1),
                               lib.Embedding(10, 3, padding_idx=1), lib.Softmax(dim=1), lib.LeakyReLU(0.2),
                               lib.AdaptiveAvgPool2d((1, 1)), lib.AvgPool2d(2), lib.GroupNorm(2, 4)),
], ids=["cnn", "moduledict", "misc"])
def test_repr_matches_torch(build):
    theirs, ours = both(build)
    assert repr(ours) == repr(theirs)
