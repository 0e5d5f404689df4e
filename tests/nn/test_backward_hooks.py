"""Module backward hooks (register_full_backward_hook / _pre_hook / the deprecated one), against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import dendrite
from dendrite import nn


def _copy_weights(ours: nn.Module, theirs: torch.nn.Module) -> None:
    theirs.load_state_dict({key: torch.tensor(value.numpy()) for key, value in ours.state_dict().items()})


def _arrays(grads) -> list:
    return [None if grad is None else np.asarray(grad.detach().numpy()) for grad in grads]


def _assert_same(ours: list, theirs: list) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _recorder(log: list):
    def hook(module, grad_input, grad_output):
        log.append((_arrays(grad_input), _arrays(grad_output)))
    return hook


def _pre_recorder(log: list):
    def hook(module, grad_output):
        log.append(_arrays(grad_output))
    return hook


class TwoInTwoOut(nn.Module):
    def forward(self, a, b, scale=2.0):
        return a * b, (a + b * scale).tanh()


class TorchTwoInTwoOut(torch.nn.Module):
    def forward(self, a, b, scale=2.0):
        return a * b, (a + b * scale).tanh()


def _linear_pair():
    ours = nn.Linear(3, 2).double()
    theirs = torch.nn.Linear(3, 2).double()
    _copy_weights(ours, theirs)
    return ours, theirs


def _sequential_pair():
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    _copy_weights(ours, theirs)
    return ours, theirs


@pytest.mark.parametrize("make", [_linear_pair, _sequential_pair])
def test_hook_sees_torch_grad_input_and_grad_output(make):
    ours, theirs = make()
    x = np.random.default_rng(0).standard_normal((5, 3))
    weights = np.random.default_rng(1).standard_normal((5, 2))
    logs = {}
    for name, module, lib in (("ours", ours, dendrite), ("theirs", theirs, torch)):
        log, pre_log = [], []
        module.register_full_backward_hook(_recorder(log))
        module.register_full_backward_pre_hook(_pre_recorder(pre_log))
        inp = lib.tensor(x, requires_grad=True)
        (module(inp) * lib.tensor(weights)).sum().backward()
        first_weight = next(iter(module.parameters()))
        logs[name] = (log, pre_log, inp.grad.numpy(), first_weight.grad.numpy())
    (log, pre_log, x_grad, w_grad), (tlog, tpre_log, tx_grad, tw_grad) = logs["ours"], logs["theirs"]
    assert len(log) == len(tlog) == 1 and len(pre_log) == len(tpre_log) == 1
    _assert_same(log[0][0], tlog[0][0])
    _assert_same(log[0][1], tlog[0][1])
    _assert_same(pre_log[0], tpre_log[0])
    np.testing.assert_allclose(x_grad, tx_grad, rtol=1e-12)
    np.testing.assert_allclose(w_grad, tw_grad, rtol=1e-12)


def test_two_inputs_two_outputs_one_output_unused_one_input_without_grad():
    a = np.array([0.5, -1.0, 2.0])
    b = np.array([1.5, 0.25, -0.5])
    seen = {}
    for name, module, lib in (("ours", TwoInTwoOut(), dendrite), ("theirs", TorchTwoInTwoOut(), torch)):
        log, pre_log = [], []
        module.register_full_backward_hook(_recorder(log))
        module.register_full_backward_pre_hook(_pre_recorder(pre_log))
        ta = lib.tensor(a, requires_grad=True)
        first, second = module(ta, lib.tensor(b), 3.0)  # b does not require grad; 3.0 is not a tensor
        first.sum().backward()  # second gets no gradient
        seen[name] = (log, pre_log, ta.grad.numpy())
    (log, pre_log, grad), (tlog, tpre_log, tgrad) = seen["ours"], seen["theirs"]
    assert len(log) == len(tlog) == 1
    _assert_same(log[0][0], tlog[0][0])  # (grad a, zeros for b, None for the number)
    _assert_same(log[0][1], tlog[0][1])  # (grad first, None)
    _assert_same(pre_log[0], tpre_log[0])
    np.testing.assert_allclose(grad, tgrad)


def test_two_inputs_two_outputs_both_used():
    a, b = np.array([0.5, -1.0]), np.array([1.5, 0.25])
    seen = {}
    for name, module, lib in (("ours", TwoInTwoOut(), dendrite), ("theirs", TorchTwoInTwoOut(), torch)):
        log = []
        module.register_full_backward_hook(_recorder(log))
        ta, tb = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        first, second = module(ta, tb)
        (first * 3 + second).sum().backward()
        seen[name] = (log, ta.grad.numpy(), tb.grad.numpy())
    (log, ga, gb), (tlog, tga, tgb) = seen["ours"], seen["theirs"]
    _assert_same(log[0][0], tlog[0][0])
    _assert_same(log[0][1], tlog[0][1])
    np.testing.assert_allclose(ga, tga)
    np.testing.assert_allclose(gb, tgb)


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_replacing_grad_input_changes_upstream_parameter_grads_as_torch():
    ours, theirs = _sequential_pair()
    x = np.random.default_rng(2).standard_normal((4, 3))
    grads = {}
    for name, model, lib in (("ours", ours, dendrite), ("theirs", theirs, torch)):
        # The hook on the last layer scales its grad_input: the first layer's parameters see it.
        model[2].register_full_backward_hook(lambda module, grad_input, grad_output: (grad_input[0] * 10,))
        model[0].register_full_backward_pre_hook(lambda module, grad_output: (grad_output[0] + 1,))
        model(lib.tensor(x)).pow(2).sum().backward()
        grads[name] = [p.grad.numpy() for p in model.parameters()]
    for a, b in zip(grads["ours"], grads["theirs"]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_hooks_fire_only_while_registered_and_in_order():
    layer = nn.Linear(2, 2)
    calls = []
    first = layer.register_full_backward_hook(lambda m, gi, go: calls.append("first"))
    layer.register_full_backward_hook(lambda m, gi, go: calls.append("second"))
    layer.register_full_backward_hook(lambda m, gi, go: calls.append("prepended"), prepend=True)
    x = dendrite.ones(1, 2, requires_grad=True)
    layer(x).sum().backward()
    assert calls == ["prepended", "first", "second"]
    first.remove()
    calls.clear()
    layer(x).sum().backward()
    assert calls == ["prepended", "second"]
    with dendrite.no_grad():
        layer(x)
    assert calls == ["prepended", "second"]


def test_wrong_number_of_gradients_is_torch_error():
    x = dendrite.ones(1, 2, requires_grad=True)
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        layer(x).sum().backward()
    layer = nn.Linear(2, 2)
    layer.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_output, got 2, but expected 1"):
        layer(x).sum().backward()


def test_no_input_requires_grad_fires_with_none_and_warns_as_torch():
    results = {}
    for name, layer, lib in (("ours", nn.Linear(2, 2), dendrite), ("theirs", torch.nn.Linear(2, 2), torch)):
        log = []
        layer.register_full_backward_hook(_recorder(log))
        with pytest.warns(UserWarning, match="no inputs require gradients"):
            layer(lib.ones(3, 2)).sum().backward()
        results[name] = log
    assert results["ours"][0][0] == results["theirs"][0][0] == [None]
    _assert_same(results["ours"][0][1], results["theirs"][0][1])
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (dendrite.ones(3, 2),))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="should always return None"):
            layer(dendrite.ones(3, 2)).sum().backward()


def test_inplace_change_of_input_in_forward_is_refused_as_torch():
    class Doubler(nn.Module):
        def forward(self, x):
            return x.mul_(2)

    class TorchDoubler(torch.nn.Module):
        def forward(self, x):
            return x.mul_(2)

    for module, lib in ((Doubler(), dendrite), (TorchDoubler(), torch)):
        module.register_full_backward_hook(lambda *args: None)
        with pytest.raises(RuntimeError, match="Output 0 of BackwardHookFunction is a view and is being"):
            module(lib.ones(2, requires_grad=True) * 1)


def test_deprecated_backward_hook_runs_as_full_hook_and_cannot_mix():
    layer = nn.Linear(3, 2)
    log = []
    with pytest.warns(FutureWarning, match="register_full_backward_hook"):
        handle = layer.register_backward_hook(_recorder(log))
    x = dendrite.ones(4, 3, requires_grad=True)
    layer(x).sum().backward()
    assert [g.shape for g in log[0][0]] == [(4, 3)] and [g.shape for g in log[0][1]] == [(4, 2)]
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
        layer.register_full_backward_hook(lambda *args: None)
    handle.remove()
    other = nn.Linear(3, 2)
    other.register_full_backward_hook(lambda *args: None)
    with pytest.raises(RuntimeError, match="Cannot use both"):
        other.register_backward_hook(lambda *args: None)
    tlayer = torch.nn.Linear(3, 2)
    tlayer.register_full_backward_hook(lambda *args: None)
    with pytest.raises(RuntimeError, match="Cannot use both"):
        tlayer.register_backward_hook(lambda *args: None)
