"""dendrite.models.resnet18/34/50, mobilenet_v2, vgg11 and vgg11_bn against torchvision's layout.

torchvision is not installed (and nothing is downloaded): ``torchvision_twins.py`` rebuilds its
architectures in plain ``torch.nn`` with its module names. A twin's ``state_dict``, written by
``torch.save`` and read back by ``dendrite.load`` (no torch, no unpickling), loads strictly into
the dendrite model, and both give the same logits.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import dendrite
import dendrite.models
from dendrite import nn
from dendrite.models.vision import vgg
from tests.models import torchvision_twins as twins

IMAGE = (1, 3, 64, 64)  # small images keep the big networks quick; the adaptive pools make any size work


def _randomise_batchnorm(model: torch.nn.Module, seed: int) -> None:
    """Running statistics and affine parameters away from (0, 1, 1, 0), so that eval-mode BN matters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                size = module.num_features
                module.running_mean.copy_(torch.randn(size, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(size, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(size, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(size, generator=generator) * 0.1)


def _twin(name: str, seed: int = 0, **kwargs) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = getattr(twins, name)(**kwargs)
    _randomise_batchnorm(model, seed)
    return model.eval()


def _shapes(state_dict) -> dict:
    return {key: tuple(value.shape) for key, value in state_dict.items()}


def _values(tensor) -> np.ndarray:
    return tensor.detach().numpy()


def _copy_from(model, twin: torch.nn.Module):
    """The twin's state_dict copied into the dendrite model in memory (the file route is tested above)."""
    model.load_state_dict({key: dendrite.tensor(value.numpy()) for key, value in twin.state_dict().items()})
    return model


def _image(seed: int = 0, shape=IMAGE) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _compare_logits(model, twin, image: np.ndarray) -> None:
    with torch.no_grad():
        expected = twin(torch.from_numpy(image)).numpy()
    with dendrite.no_grad():
        got = model(dendrite.tensor(image)).numpy()
    assert got.shape == expected.shape
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5 * scale)


# ----------------------------------------------------------------------------- weights in, same logits
@pytest.mark.parametrize("name, kwargs", [("resnet18", {}), ("mobilenet_v2", {}),
                                          ("mobilenet_v2", {"width_mult": 0.5, "num_classes": 10})])
def test_torch_saved_state_dict_loads_and_gives_the_same_logits(tmp_path, name, kwargs):
    twin = _twin(name, **kwargs)
    path = tmp_path / f"{name}.pt"
    torch.save(twin.state_dict(), path)
    model = getattr(dendrite.models, name)(**kwargs)
    assert _shapes(model.state_dict()) == _shapes(twin.state_dict())  # torchvision's keys, in its order
    assert list(model.state_dict()) == list(twin.state_dict())
    model.load_state_dict(dendrite.load(path))  # strict: every key present, none left over
    model.eval()
    _compare_logits(model, twin, _image())


@pytest.mark.parametrize("name", ["resnet34", "resnet50", "vgg11"])
def test_bigger_networks_give_the_same_logits(name):
    twin = _twin(name, num_classes=10)
    # init_weights=False (torchvision's option) skips re-drawing 120 M weights that the twin's overwrite;
    # VGG's init is checked on a small network in test_initialisation_follows_torchvision.
    options = {"init_weights": False} if name == "vgg11" else {}
    model = getattr(dendrite.models, name)(num_classes=10, **options)
    assert list(model.state_dict()) == list(twin.state_dict())
    _copy_from(model, twin).eval()
    _compare_logits(model, twin, _image(1))


def test_vgg11_bn_has_torchvision_keys():
    # Its classifier is vgg11's (checked above, built once: 400 MB); the features carry BatchNorm.
    features = dendrite.models.vision.make_layers(dendrite.models.vision.vgg.CONFIGS["A"], batch_norm=True)
    twin = twins.make_layers(twins.VGG11, batch_norm=True)
    assert _shapes(features.state_dict()) == _shapes(twin.state_dict())
    _randomise_batchnorm(twin, 0)
    _copy_from(features, twin)
    image = _image(2, (1, 3, 32, 32))
    with torch.no_grad():
        expected = twin.eval()(torch.from_numpy(image)).numpy()
    with dendrite.no_grad():
        got = features.eval()(dendrite.tensor(image)).numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5 * np.abs(expected).max())


def test_training_step_gradients_match_pytorch():
    """Train mode (BatchNorm on batch statistics, in-place ReLUs) forward and backward as PyTorch.

    In float64: at 32x32 the last stage's BatchNorm normalises 2 values per channel, which
    amplifies float32 rounding to ~1e-3; in float64 the two agree to ~1e-11.
    """
    twin = _twin("resnet18", num_classes=5).train().double()
    model = _copy_from(dendrite.models.resnet18(num_classes=5).train(), twin).double()
    image, labels = _image(3, (2, 3, 32, 32)).astype(np.float64), np.array([1, 4])
    loss_twin = torch.nn.functional.cross_entropy(twin(torch.from_numpy(image)), torch.from_numpy(labels))
    loss_twin.backward()
    loss = nn.functional.cross_entropy(model(dendrite.tensor(image)), dendrite.tensor(labels))
    loss.backward()
    np.testing.assert_allclose(loss.item(), loss_twin.item(), rtol=1e-10)
    twin_parameters = dict(twin.named_parameters())
    for key in ("conv1.weight", "layer1.0.conv1.weight", "layer3.0.downsample.0.weight",
                "layer4.1.bn2.weight", "fc.weight"):
        expected = twin_parameters[key].grad.numpy()
        got = dict(model.named_parameters())[key].grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9 * np.abs(expected).max(), err_msg=key)
    running = dict(model.named_buffers())["layer2.1.bn1.running_mean"].numpy()
    np.testing.assert_allclose(running, twin.layer2[1].bn1.running_mean.numpy(), rtol=0, atol=1e-12)


def test_mobilenet_exports_to_onnx_and_runs_at_another_batch(tmp_path):
    """Depthwise convolutions, ReLU6 (Clip) and the residual adds survive ONNX export."""
    ort = pytest.importorskip("onnxruntime")
    twin = _twin("mobilenet_v2", width_mult=0.5, num_classes=10)
    model = _copy_from(dendrite.models.mobilenet_v2(width_mult=0.5, num_classes=10), twin).eval()
    path = tmp_path / "mobilenet.onnx"
    proto = dendrite.onnx.export(model, dendrite.tensor(_image(5, (1, 3, 32, 32))), path)
    assert {"Conv", "Clip", "Add", "GlobalAveragePool", "Gemm"} <= {node.op_type for node in proto.graph.node}
    image = _image(6, (3, 3, 32, 32))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": image})[0]
    with torch.no_grad():
        expected = twin(torch.from_numpy(image)).numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5 * np.abs(expected).max())


# ----------------------------------------------------------------------------- transfer learning
def test_frozen_backbone_with_a_new_head_trains_only_the_head():
    dendrite.manual_seed(0)
    model = dendrite.models.resnet18()
    dendrite.freeze(model)
    model.fc = nn.Linear(512, 10)  # new head: trainable, as in the transfer-learning tutorial
    before = {key: value.detach().numpy().copy() for key, value in model.state_dict().items()}
    optimizer = dendrite.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model.train()
    image, labels = dendrite.tensor(_image(4, (4, 3, 32, 32))), dendrite.tensor(np.array([0, 3, 7, 9]))
    for _ in range(2):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(image), labels).backward()
        optimizer.step()
    after = model.state_dict()
    changed = sorted(key for key in before if not np.array_equal(before[key], after[key].detach().numpy()))
    assert changed == ["fc.bias", "fc.weight"]  # frozen BatchNorm kept its running statistics too
    assert model.conv1.weight.grad is None and model.fc.weight.grad is not None


def test_mobilenet_head_replaced_by_index():
    model = dendrite.models.mobilenet_v2(width_mult=0.35)
    dendrite.freeze(model.features)
    model.classifier[-1] = nn.Linear(model.last_channel, 3)
    trainable = [key for key, parameter in model.named_parameters() if parameter.requires_grad]
    assert trainable == ["classifier.1.weight", "classifier.1.bias"]
    with dendrite.no_grad():
        assert model.eval()(dendrite.zeros(2, 3, 32, 32)).shape == (2, 3)


# ----------------------------------------------------------------------------- torchvision's init
def test_initialisation_follows_torchvision():
    dendrite.manual_seed(0)
    model = dendrite.models.resnet18()
    conv = model.layer3[0].conv1.weight.detach().numpy()  # Kaiming normal, fan_out = 256 * 3 * 3, ReLU gain
    assert abs(conv.std() / np.sqrt(2 / (256 * 9)) - 1) < 0.02
    bn = model.layer3[0].bn1
    assert np.all(_values(bn.weight) == 1) and np.all(_values(bn.bias) == 0)
    bound = 1 / np.sqrt(512)  # fc keeps nn.Linear's default init
    assert 0.95 * bound < np.abs(_values(model.fc.weight)).max() <= bound
    zeroed = dendrite.models.resnet18(zero_init_residual=True)
    for layer in (zeroed.layer1, zeroed.layer4):
        assert all(np.all(_values(block.bn2.weight) == 0) for block in layer)
    assert np.all(zeroed.layer1[0].bn1.weight.detach().numpy() == 1)
    mobile = dendrite.models.mobilenet_v2()
    assert abs(mobile.classifier[1].weight.detach().numpy().std() / 0.01 - 1) < 0.01
    assert np.all(mobile.classifier[1].bias.detach().numpy() == 0)
    # Depthwise: PyTorch's fan_out is out_channels * 3 * 3 = 864, not divided by the groups.
    depthwise = mobile.features[2].conv[1][0].weight.detach().numpy()
    assert depthwise.shape == (96, 1, 3, 3) and abs(depthwise.std() / np.sqrt(2 / 864) - 1) < 0.1
    small = nn.Sequential(nn.Conv2d(3, 128, 3), nn.BatchNorm2d(128), nn.Linear(1000, 500))
    vgg._init_weights(small)  # what VGG(init_weights=True) runs on itself
    assert abs(_values(small[0].weight).std() / np.sqrt(2 / (128 * 9)) - 1) < 0.02
    assert not _values(small[0].bias).any() and np.all(_values(small[1].weight) == 1)
    assert abs(_values(small[2].weight).std() / 0.01 - 1) < 0.01 and not _values(small[2].bias).any()


def test_torchvision_signatures_and_options():
    assert dendrite.models.mobilenet_v2(width_mult=1.4).last_channel == 1792
    model = dendrite.models.resnet18(num_classes=7, norm_layer=nn.BatchNorm2d)
    assert model.fc.out_features == 7 and model.layer1[0].relu.inplace
    dilated = dendrite.models.resnet50(replace_stride_with_dilation=[False, True, True])
    with dendrite.no_grad():
        assert dilated.eval()(dendrite.zeros(1, 3, 32, 32)).shape == (1, 1000)
    assert dilated.layer4[0].conv2.dilation == (2, 2) and dilated.layer4[1].conv2.dilation == (4, 4)
    assert dendrite.models.get_model("ResNet34", num_classes=3).fc.out_features == 3
    assert dendrite.models.list_models() == ["mobilenet_v2", "resnet18", "resnet34", "resnet50", "vgg11",
                                             "vgg11_bn"]


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("builder", ["resnet18", "resnet34", "resnet50", "mobilenet_v2", "vgg11", "vgg11_bn"])
def test_weights_other_than_none_are_refused_with_the_way_to_load_a_file(builder):
    function = getattr(dendrite.models, builder)
    with pytest.raises(ValueError, match=rf"{builder}\(weights='DEFAULT'\): dendrite does not download.*"
                                         rf"model.load_state_dict\(dendrite.load\('{builder}.pth'\)\)"):
        function(weights="DEFAULT")
    with pytest.raises(ValueError, match=rf"{builder}\(pretrained=True\): dendrite does not download"):
        function(pretrained=True)
    with pytest.raises(TypeError):
        function("DEFAULT")  # keyword-only, as torchvision's


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown model 'resnet19'.*'resnet18'"):
        dendrite.models.get_model("resnet19")
    with pytest.raises(ValueError, match=r"layers should be 4 block counts.*\[2, 2\]"):
        dendrite.models.vision.ResNet(dendrite.models.vision.BasicBlock, [2, 2])
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1"):
        dendrite.models.resnet18(groups=2)
    with pytest.raises(ValueError, match="width_mult must be positive"):
        dendrite.models.mobilenet_v2(width_mult=0)
    with pytest.raises(ValueError, match="stride should be 1 or 2 instead of 3"):
        dendrite.models.vision.InvertedResidual(8, 8, 3, 6)
    state = dendrite.models.mobilenet_v2(width_mult=0.5).state_dict()
    with pytest.raises(Exception, match="features.0.0.weight"):  # a file for another width
        dendrite.models.mobilenet_v2().load_state_dict(state)


def test_reachable_from_import_dendrite_alone():
    code = ("import dendrite, sys; assert 'dendrite.models' not in sys.modules; "
            "print(dendrite.models.resnet18)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "resnet18" in result.stdout
