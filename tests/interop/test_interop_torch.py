"""PyTorch weights in: models built in PyTorch, saved by PyTorch, loaded into their dendrite twins."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite
from dendrite.interop import TorchComparison, compare_with_torch, copy_weights_from_torch
from tests.interop.interop_models import MODELS, example, warm_up_batchnorm

TOLERANCE = 1e-4


def _torch_forward(model, array):
    with torch.no_grad():
        return model(torch.from_numpy(array))


def _torch_model(name: str):
    torch.manual_seed(0)
    model = MODELS[name][0](torch.nn)
    with torch.no_grad():  # BatchNorm affine parameters away from their (1, 0) start
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    warm_up_batchnorm(model, _torch_forward, name)
    return model


def _save(model, path):
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(model.state_dict(), str(path))
    else:
        torch.save(model.state_dict(), path)


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
@pytest.mark.parametrize("name", list(MODELS))
def test_pytorch_weights_load_into_the_dendrite_twin(tmp_path, name, suffix):
    theirs = _torch_model(name)
    path = tmp_path / f"{name}{suffix}"
    _save(theirs, path)
    ours = MODELS[name][0](dendrite.nn)
    ours.load_state_dict(dendrite.load(path))
    ours.eval()
    for seed in (0, 1):
        x = example(name, seed=seed)
        with dendrite.no_grad():
            mine = ours(dendrite.tensor(x)).numpy()
        reference = _torch_forward(theirs, x).numpy()
        assert mine.shape == reference.shape
        np.testing.assert_allclose(mine, reference, rtol=0, atol=TOLERANCE)
    assert compare_with_torch(ours, theirs, example(name)) < TOLERANCE


def test_batchnorm_statistics_really_came_across(tmp_path):
    theirs = _torch_model("cnn")
    running = theirs[1].running_var.numpy()
    assert not np.allclose(running, 1.0)  # the warm-up moved them, so the parity test covers them
    path = tmp_path / "cnn.safetensors"
    _save(theirs, path)
    ours = MODELS["cnn"][0](dendrite.nn)
    ours.load_state_dict(dendrite.load(path))
    np.testing.assert_array_equal(ours[1].running_var.numpy(), running)
    assert int(ours[1].num_batches_tracked.item()) == 3


@pytest.mark.parametrize("name", ["resnet", "lstm"])
def test_compare_with_torch_copies_weights(name):
    theirs = _torch_model(name)
    ours = MODELS[name][0](dendrite.nn)
    before = compare_with_torch(ours, theirs, example(name))
    assert before > 1e-3  # different random weights: the comparison does see the difference
    after = compare_with_torch(ours, theirs, example(name), copy_weights=True)
    assert isinstance(after, TorchComparison) and after < TOLERANCE
    assert len(after.per_output) == 1 and after.per_output[0][1] == tuple(_torch_forward(
        theirs, example(name)).shape)
    assert "max |dendrite - torch|" in str(after)


def test_compare_with_torch_sees_one_changed_weight():
    theirs = _torch_model("mlp")
    ours = MODELS["mlp"][0](dendrite.nn)
    copy_weights_from_torch(ours, theirs)
    assert compare_with_torch(ours, theirs, example("mlp")) < TOLERANCE
    with dendrite.no_grad():
        ours[5].bias.add_(0.01)
    assert compare_with_torch(ours, theirs, example("mlp")) == pytest.approx(0.01, rel=1e-3)


def test_compare_with_torch_restores_modes_and_handles_tuple_outputs():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(3, 4, batch_first=True)
    ours = dendrite.nn.LSTM(3, 4, batch_first=True)
    ours.train()
    theirs.train()
    result = compare_with_torch(ours, theirs, np.ones((2, 5, 3), np.float32), copy_weights=True)
    assert [shape for _, shape, _ in result.per_output] == [(2, 5, 4), (1, 2, 4), (1, 2, 4)]
    assert result < TOLERANCE
    assert ours.training and theirs.training


def test_copy_weights_reports_mismatches():
    theirs = torch.nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match=r"size mismatch for weight.*\(2, 3\).*\(4, 3\)"):
        copy_weights_from_torch(dendrite.nn.Linear(3, 4), theirs)
    with pytest.raises(RuntimeError, match="Missing key"):
        copy_weights_from_torch(dendrite.nn.Sequential(dendrite.nn.Linear(3, 2)), theirs)


def test_compare_with_torch_rejects_different_output_shapes():
    theirs, ours = torch.nn.Linear(3, 2), dendrite.nn.Linear(3, 5)
    with pytest.raises(ValueError, match=r"output 0 has shape \(4, 5\) in dendrite but \(4, 2\) in torch"):
        compare_with_torch(ours, theirs, np.zeros((4, 3), np.float32))
