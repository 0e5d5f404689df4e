"""Transfer learning: freeze / unfreeze, frozen BatchNorm in train(), parameter groups, new heads."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import dendrite
from dendrite import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.neck = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU())
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        return self.fc(self.neck(self.features(x)))


def _net() -> Net:
    dendrite.manual_seed(0)
    return Net()


def _trainable(model) -> list:
    return [name for name, param in model.named_parameters() if param.requires_grad]


def test_freeze_by_name_and_by_module_agree():
    by_name, by_module = _net(), _net()
    assert dendrite.freeze(by_name, "features") is by_name
    dendrite.freeze(by_module.features)
    expected = ["neck.0.weight", "neck.0.bias", "neck.1.weight", "neck.1.bias", "fc.weight", "fc.bias"]
    assert _trainable(by_name) == _trainable(by_module) == expected


def test_freeze_several_names_parameters_and_everything():
    model = _net()
    dendrite.freeze(model, "features", "neck.0", "fc.bias")
    assert _trainable(model) == ["neck.1.weight", "neck.1.bias", "fc.weight"]
    dendrite.freeze(model)
    assert _trainable(model) == []
    assert dendrite.interop.frozen_parameter_names(model) == [name for name, _ in model.named_parameters()]


def test_unknown_name_lists_the_children():
    with pytest.raises(KeyError, match="'featurez'.*'features', 'neck', 'fc'"):
        dendrite.freeze(_net(), "featurez")


def test_unfreeze_reverses_freeze():
    model = dendrite.freeze(_net())
    dendrite.unfreeze(model, "fc")
    assert _trainable(model) == ["fc.weight", "fc.bias"]
    dendrite.unfreeze(model)
    assert len(_trainable(model)) == len(list(model.parameters()))


def test_freeze_clears_stale_gradients():
    model = _net()
    model(dendrite.randn(4, 3, 6, 6)).sum().backward()
    assert model.features[0].weight.grad is not None
    dendrite.freeze(model, "features")
    assert model.features[0].weight.grad is None
    assert model.fc.weight.grad is not None


def _stats(layer) -> tuple:
    return (layer.running_mean.numpy().copy(), layer.running_var.numpy().copy(),
            int(layer.num_batches_tracked.item()))


def test_frozen_batchnorm_keeps_running_statistics_in_train_mode():
    model = _net()
    model(dendrite.randn(8, 3, 6, 6) * 3 + 1)  # non-trivial statistics
    frozen_bn, live_bn = model.features[1], model.neck[1]
    dendrite.freeze(model, "features")
    model.train()
    assert model.training and not frozen_bn.training and live_bn.training
    frozen_before, live_before = _stats(frozen_bn), _stats(live_bn)
    x = dendrite.randn(8, 3, 6, 6) * 5 - 2
    out_train = model.features(x)
    for before, after in zip(frozen_before, _stats(frozen_bn)):
        np.testing.assert_array_equal(after, before)
    assert _stats(live_bn)[2] == live_before[2]  # not run yet
    model.neck(out_train)
    assert _stats(live_bn)[2] == live_before[2] + 1  # the unfrozen BatchNorm still learns its statistics
    model.eval()
    with dendrite.no_grad():
        np.testing.assert_array_equal(model.features(x).numpy(), out_train.detach().numpy())


def test_batchnorm_eval_false_is_the_keras_trap():
    model = _net()
    dendrite.freeze(model, "features", batchnorm_eval=False)
    model.train()
    before = _stats(model.features[1])
    model(dendrite.randn(8, 3, 6, 6) * 5)
    assert _stats(model.features[1])[2] == before[2] + 1
    assert not np.allclose(_stats(model.features[1])[0], before[0])


def test_unfreeze_gives_batchnorm_back_to_the_model_mode():
    model = dendrite.freeze(_net(), "features")
    model.train()
    assert not model.features[1].training
    dendrite.unfreeze(model, "features")
    assert model.features[1].training
    model.eval()
    assert not model.features[1].training


def test_frozen_flag_survives_deepcopy():
    model = dendrite.freeze(_net(), "features")
    twin = copy.deepcopy(model).train()
    assert not twin.features[1].training and twin.neck[1].training


def test_training_step_moves_only_the_unfrozen_parameters():
    model = dendrite.freeze(_net(), "features", "neck")
    model.train()
    frozen = {name: param.numpy().copy() for name, param in model.named_parameters()
              if not param.requires_grad}
    head = model.fc.weight.detach().numpy().copy()
    optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        optimizer.zero_grad()
        logits = model(dendrite.randn(8, 3, 6, 6))
        loss = dendrite.nn.functional.cross_entropy(logits, dendrite.tensor([0, 1] * 4))
        loss.backward()
        assert model.features[0].weight.grad is None
        optimizer.step()
    for name, param in model.named_parameters():
        if name in frozen:
            np.testing.assert_array_equal(param.detach().numpy(), frozen[name], err_msg=name)
    assert not np.allclose(model.fc.weight.detach().numpy(), head)


def test_parameter_groups_with_different_learning_rates():
    model = _net()
    optimizer = dendrite.optim.SGD([
        {"params": model.features.parameters(), "lr": 0.001},
        {"params": list(model.neck.parameters()) + list(model.fc.parameters())},
    ], lr=0.1)
    before = {name: param.detach().numpy().copy() for name, param in model.named_parameters()}
    model(dendrite.randn(4, 3, 6, 6)).square().sum().backward()
    grads = {name: param.grad.numpy().copy() for name, param in model.named_parameters()}
    optimizer.step()
    for name, param in model.named_parameters():
        lr = 0.001 if name.startswith("features") else 0.1
        np.testing.assert_allclose(param.detach().numpy(), before[name] - lr * grads[name], rtol=1e-6,
                                   atol=1e-7, err_msg=name)


def test_replacing_the_head():
    model = dendrite.freeze(_net(), "features", "neck")
    model.fc = nn.Linear(6, 5)
    assert [key for key in model.state_dict() if key.startswith("fc.")] == ["fc.weight", "fc.bias"]
    assert model.state_dict()["fc.weight"].shape == (5, 6)
    assert _trainable(model) == ["fc.weight", "fc.bias"]
    out = model(dendrite.randn(3, 3, 6, 6))
    assert out.shape == (3, 5)
    optimizer = dendrite.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.01)
    start = model.fc.weight.detach().numpy().copy()
    out.square().mean().backward()
    optimizer.step()
    assert not np.allclose(model.fc.weight.detach().numpy(), start)
    fresh = Net()
    fresh.fc = nn.Linear(6, 5)
    fresh.load_state_dict(model.state_dict())  # the new head's keys and shapes round trip
