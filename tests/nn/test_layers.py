"""Table-driven layer tests: every layer against the same PyTorch layer given the same weights.

Each case builds the layer twice with the same code (``build(torch.nn, torch.tensor)`` and
``build(dendrite.nn, dendrite.tensor)``), copies PyTorch's state_dict into dendrite with
``load_state_dict`` (as NumPy arrays), then compares over one or more passes: outputs,
input gradients, parameter gradients and buffers (running statistics), in float64
(rtol 1e-6) and float32 (rtol 1e-4). Further tests cover output shapes, parameter
counts, state_dict round trips, train/eval behaviour of Dropout/BatchNorm and errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

import dendrite
from dendrite import nn


@dataclass
class Case:
    id: str
    build: object  # build(nn_namespace, tensor_fn) -> module
    inputs: object  # inputs(rng) -> list of arrays (float ones get gradients)
    modes: tuple = ("train",)
    grad_inputs: list | None = None  # default: every floating input
    tolerance: dict = field(default_factory=dict)


def randn(*shape):
    return lambda rng: [rng.standard_normal(shape)]


def ints(high, *shape):
    return lambda rng: [rng.integers(0, high, shape)]


def loss_inputs(input_fn, target_fn):
    return lambda rng: [input_fn(rng), target_fn(rng)]


def logits(*shape):
    return lambda rng: rng.standard_normal(shape)


def labels(high, *shape):
    return lambda rng: rng.integers(0, high, shape)


def probabilities(*shape):
    return lambda rng: rng.uniform(0.05, 0.95, shape)


def distribution(*shape, log=False):
    def make(rng):
        x = rng.standard_normal(shape)
        p = np.exp(x) / np.exp(x).sum(1, keepdims=True)
        return np.log(p) if log else p

    return make


def signs(*shape):
    return lambda rng: rng.choice([-1.0, 1.0], shape)


STATS = ("train", "train", "eval")  # two training steps (running stats move), then evaluation

CASES = [
    # -- linear / shape
    Case("Linear", lambda nn, T: nn.Linear(5, 3), randn(4, 5)),
    Case("Linear-nobias-3d", lambda nn, T: nn.Linear(5, 3, bias=False), randn(2, 3, 5)),
    Case(
        "Bilinear",
        lambda nn, T: nn.Bilinear(3, 4, 2),
        lambda rng: [rng.standard_normal((5, 3)), rng.standard_normal((5, 4))],
    ),
    Case("Identity", lambda nn, T: nn.Identity(7, unused=True), randn(3, 2)),
    Case("Flatten", lambda nn, T: nn.Flatten(), randn(2, 3, 4, 5)),
    Case("Flatten-0-1", lambda nn, T: nn.Flatten(0, 1), randn(2, 3, 4)),
    Case("Unflatten", lambda nn, T: nn.Unflatten(1, (2, 3)), randn(4, 6)),
    # -- convolution
    Case("Conv1d", lambda nn, T: nn.Conv1d(3, 4, 3, stride=2, padding=1), randn(2, 3, 9)),
    Case(
        "Conv1d-groups-dilation-same",
        lambda nn, T: nn.Conv1d(4, 6, 3, dilation=2, groups=2, padding="same"),
        randn(2, 4, 8),
    ),
    Case(
        "Conv1d-circular",
        lambda nn, T: nn.Conv1d(2, 3, 3, padding=2, padding_mode="circular"),
        randn(2, 2, 6),
    ),
    Case("Conv2d", lambda nn, T: nn.Conv2d(3, 4, 3), randn(2, 3, 7, 7)),
    Case("Conv2d-unbatched", lambda nn, T: nn.Conv2d(3, 4, 3, padding=1), randn(3, 5, 5)),
    Case(
        "Conv2d-strided-grouped",
        lambda nn, T: nn.Conv2d(3, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=3),
        randn(2, 3, 7, 8),
    ),
    Case("Conv2d-same-even-kernel", lambda nn, T: nn.Conv2d(2, 3, 4, padding="same"), randn(2, 2, 6, 5)),
    Case(
        "Conv2d-valid-nobias",
        lambda nn, T: nn.Conv2d(2, 3, 3, padding="valid", bias=False),
        randn(1, 2, 5, 6),
    ),
    Case(
        "Conv2d-reflect",
        lambda nn, T: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
        randn(2, 2, 5, 5),
    ),
    Case(
        "Conv2d-replicate",
        lambda nn, T: nn.Conv2d(2, 3, 3, padding=(2, 1), padding_mode="replicate"),
        randn(2, 2, 5, 5),
    ),
    Case(
        "Conv2d-circular",
        lambda nn, T: nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
        randn(2, 2, 5, 5),
    ),
    Case("ConvTranspose1d", lambda nn, T: nn.ConvTranspose1d(3, 2, 3, stride=2), randn(2, 3, 6)),
    Case(
        "ConvTranspose2d",
        lambda nn, T: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
        randn(2, 4, 5, 5),
    ),
    Case(
        "ConvTranspose2d-groups-nobias",
        lambda nn, T: nn.ConvTranspose2d(4, 6, 2, stride=2, groups=2, bias=False),
        randn(2, 4, 3, 4),
    ),
    Case(
        "ConvTranspose2d-dilation",
        lambda nn, T: nn.ConvTranspose2d(2, 3, 3, dilation=2, padding=1),
        randn(1, 2, 4, 4),
    ),
    # -- pooling / resampling
    Case("MaxPool1d", lambda nn, T: nn.MaxPool1d(2), randn(2, 3, 8)),
    Case("MaxPool1d-padded", lambda nn, T: nn.MaxPool1d(3, stride=2, padding=1), randn(2, 3, 9)),
    Case("MaxPool2d", lambda nn, T: nn.MaxPool2d(2), randn(2, 3, 6, 6)),
    Case(
        "MaxPool2d-ceil",
        lambda nn, T: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        randn(2, 2, 8, 7),
    ),
    Case("AvgPool1d", lambda nn, T: nn.AvgPool1d(3, stride=2), randn(2, 3, 9)),
    Case("AvgPool2d", lambda nn, T: nn.AvgPool2d(2), randn(2, 3, 6, 6)),
    Case(
        "AvgPool2d-nopad-count",
        lambda nn, T: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
        randn(2, 2, 7, 7),
    ),
    Case("AdaptiveAvgPool2d", lambda nn, T: nn.AdaptiveAvgPool2d((2, 3)), randn(2, 3, 7, 8)),
    Case("AdaptiveAvgPool2d-global", lambda nn, T: nn.AdaptiveAvgPool2d(1), randn(2, 3, 5, 5)),
    Case("AdaptiveAvgPool1d", lambda nn, T: nn.AdaptiveAvgPool1d(3), randn(2, 3, 7)),
    Case("Upsample-nearest", lambda nn, T: nn.Upsample(scale_factor=2), randn(2, 3, 3, 4)),
    Case("Upsample-size", lambda nn, T: nn.Upsample(size=(5, 7)), randn(1, 2, 3, 4)),
    Case(
        "Upsample-bilinear",
        lambda nn, T: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        randn(1, 2, 3, 4),
    ),
    Case("ZeroPad2d", lambda nn, T: nn.ZeroPad2d((1, 2, 0, 3)), randn(1, 2, 3, 3)),
    Case("ReflectionPad2d", lambda nn, T: nn.ReflectionPad2d(2), randn(1, 2, 4, 4)),
    # -- normalisation
    Case("BatchNorm1d", lambda nn, T: nn.BatchNorm1d(4), randn(8, 4), STATS),
    Case("BatchNorm1d-3d", lambda nn, T: nn.BatchNorm1d(4, momentum=0.3), randn(6, 4, 5), STATS),
    Case("BatchNorm2d", lambda nn, T: nn.BatchNorm2d(3), randn(4, 3, 5, 5), STATS),
    Case("BatchNorm2d-cumulative", lambda nn, T: nn.BatchNorm2d(3, momentum=None), randn(4, 3, 3, 3), STATS),
    Case("BatchNorm2d-noaffine", lambda nn, T: nn.BatchNorm2d(3, affine=False), randn(4, 3, 3, 3), STATS),
    Case(
        "BatchNorm2d-nostats",
        lambda nn, T: nn.BatchNorm2d(3, track_running_stats=False),
        randn(4, 3, 3, 3),
        STATS,
    ),
    Case("LayerNorm", lambda nn, T: nn.LayerNorm(6), randn(3, 4, 6)),
    Case(
        "LayerNorm-2d-noaffine", lambda nn, T: nn.LayerNorm((4, 6), elementwise_affine=False), randn(3, 4, 6)
    ),
    Case("LayerNorm-nobias", lambda nn, T: nn.LayerNorm(6, bias=False), randn(5, 6)),
    Case("GroupNorm", lambda nn, T: nn.GroupNorm(2, 6), randn(3, 6, 4, 4)),
    Case("GroupNorm-noaffine", lambda nn, T: nn.GroupNorm(3, 6, affine=False), randn(3, 6, 5)),
    Case("InstanceNorm2d", lambda nn, T: nn.InstanceNorm2d(3), randn(2, 3, 4, 5)),
    Case(
        "InstanceNorm1d-stats",
        lambda nn, T: nn.InstanceNorm1d(3, affine=True, track_running_stats=True),
        randn(4, 3, 6),
        STATS,
    ),
    Case("RMSNorm", lambda nn, T: nn.RMSNorm(6, eps=1e-5), randn(3, 4, 6)),
    # -- embedding
    Case("Embedding", lambda nn, T: nn.Embedding(10, 4), ints(10, 3, 5)),
    Case(
        "Embedding-padding",
        lambda nn, T: nn.Embedding(6, 3, padding_idx=2),
        lambda rng: [np.array([[2, 0, 2], [5, 2, 1]])],
    ),
    Case("EmbeddingBag", lambda nn, T: nn.EmbeddingBag(10, 4, mode="max"), ints(10, 3, 5)),
    Case(
        "EmbeddingBag-offsets",
        lambda nn, T: nn.EmbeddingBag(6, 3, padding_idx=2),
        lambda rng: [np.array([2, 0, 2, 5, 2, 1]), np.array([0, 2, 2])],
    ),
    # -- activations
    *[
        Case(name, build, randn(3, 4, 5))
        for name, build in [
            ("ReLU", lambda nn, T: nn.ReLU()),
            ("ReLU6", lambda nn, T: nn.ReLU6()),
            ("LeakyReLU", lambda nn, T: nn.LeakyReLU(0.2)),
            ("ELU", lambda nn, T: nn.ELU(alpha=0.5)),
            ("CELU", lambda nn, T: nn.CELU(alpha=1.5)),
            ("SELU", lambda nn, T: nn.SELU()),
            ("GELU", lambda nn, T: nn.GELU()),
            ("GELU-tanh", lambda nn, T: nn.GELU(approximate="tanh")),
            ("SiLU", lambda nn, T: nn.SiLU()),
            ("Mish", lambda nn, T: nn.Mish()),
            ("Tanh", lambda nn, T: nn.Tanh()),
            ("Sigmoid", lambda nn, T: nn.Sigmoid()),
            ("LogSigmoid", lambda nn, T: nn.LogSigmoid()),
            ("Hardsigmoid", lambda nn, T: nn.Hardsigmoid()),
            ("Hardswish", lambda nn, T: nn.Hardswish()),
            ("Hardtanh", lambda nn, T: nn.Hardtanh(-0.5, 2.0)),
            ("Hardshrink", lambda nn, T: nn.Hardshrink(0.3)),
            ("Softshrink", lambda nn, T: nn.Softshrink(0.3)),
            ("Tanhshrink", lambda nn, T: nn.Tanhshrink()),
            ("Softplus", lambda nn, T: nn.Softplus(beta=2.0, threshold=1.5)),
            ("Softsign", lambda nn, T: nn.Softsign()),
            ("Threshold", lambda nn, T: nn.Threshold(0.1, 20.0)),
            ("GLU", lambda nn, T: nn.GLU(dim=1)),
            ("Softmax", lambda nn, T: nn.Softmax(dim=1)),
            ("Softmin", lambda nn, T: nn.Softmin(dim=-1)),
            ("LogSoftmax", lambda nn, T: nn.LogSoftmax(dim=2)),
            ("Softmax2d", lambda nn, T: nn.Softmax2d()),
            ("PReLU", lambda nn, T: nn.PReLU()),
            ("PReLU-channels", lambda nn, T: nn.PReLU(4, init=0.1)),
        ]
    ],
    # -- losses (input, target)
    Case("CrossEntropyLoss", lambda nn, T: nn.CrossEntropyLoss(), loss_inputs(logits(6, 5), labels(5, 6))),
    Case(
        "CrossEntropyLoss-weighted-ignore",
        lambda nn, T: nn.CrossEntropyLoss(weight=T([1.0, 2.0, 0.5, 1.0, 3.0]), ignore_index=1),
        loss_inputs(logits(8, 5), labels(5, 8)),
    ),
    Case(
        "CrossEntropyLoss-smoothing-sum",
        lambda nn, T: nn.CrossEntropyLoss(label_smoothing=0.1, reduction="sum"),
        loss_inputs(logits(6, 5), labels(5, 6)),
    ),
    Case(
        "CrossEntropyLoss-kdim-none",
        lambda nn, T: nn.CrossEntropyLoss(reduction="none"),
        loss_inputs(logits(2, 4, 3, 3), labels(4, 2, 3, 3)),
    ),
    Case(
        "CrossEntropyLoss-probabilities",
        lambda nn, T: nn.CrossEntropyLoss(),
        loss_inputs(logits(6, 5), distribution(6, 5)),
        grad_inputs=[0],
    ),
    Case("NLLLoss", lambda nn, T: nn.NLLLoss(), loss_inputs(distribution(6, 4, log=True), labels(4, 6))),
    Case(
        "NLLLoss-weighted",
        lambda nn, T: nn.NLLLoss(weight=T([0.5, 1.0, 2.0, 1.5]), reduction="sum"),
        loss_inputs(distribution(6, 4, log=True), labels(4, 6)),
    ),
    Case("MSELoss", lambda nn, T: nn.MSELoss(), loss_inputs(logits(4, 3), logits(4, 3))),
    Case("MSELoss-none", lambda nn, T: nn.MSELoss(reduction="none"), loss_inputs(logits(4, 3), logits(4, 3))),
    Case("L1Loss", lambda nn, T: nn.L1Loss(reduction="sum"), loss_inputs(logits(4, 3), logits(4, 3))),
    Case("SmoothL1Loss", lambda nn, T: nn.SmoothL1Loss(beta=0.5), loss_inputs(logits(5, 3), logits(5, 3))),
    Case("HuberLoss", lambda nn, T: nn.HuberLoss(delta=0.7), loss_inputs(logits(5, 3), logits(5, 3))),
    Case("BCELoss", lambda nn, T: nn.BCELoss(), loss_inputs(probabilities(4, 3), probabilities(4, 3))),
    Case(
        "BCELoss-weighted",
        lambda nn, T: nn.BCELoss(weight=T([1.0, 2.0, 0.5])),
        loss_inputs(probabilities(4, 3), probabilities(4, 3)),
    ),
    Case(
        "BCEWithLogitsLoss",
        lambda nn, T: nn.BCEWithLogitsLoss(),
        loss_inputs(logits(4, 3), probabilities(4, 3)),
    ),
    Case(
        "BCEWithLogitsLoss-pos-weight",
        lambda nn, T: nn.BCEWithLogitsLoss(pos_weight=T([1.0, 3.0, 0.5])),
        loss_inputs(logits(4, 3), probabilities(4, 3)),
    ),
    Case(
        "KLDivLoss-batchmean",
        lambda nn, T: nn.KLDivLoss(reduction="batchmean"),
        loss_inputs(distribution(4, 5, log=True), distribution(4, 5)),
    ),
    Case(
        "KLDivLoss-log-target",
        lambda nn, T: nn.KLDivLoss(reduction="sum", log_target=True),
        loss_inputs(distribution(4, 5, log=True), distribution(4, 5, log=True)),
    ),
    Case(
        "SoftMarginLoss",
        lambda nn, T: nn.SoftMarginLoss(),
        loss_inputs(logits(4, 3), signs(4, 3)),
        grad_inputs=[0],
    ),
    Case(
        "PoissonNLLLoss",
        lambda nn, T: nn.PoissonNLLLoss(),
        loss_inputs(logits(4, 3), lambda rng: rng.poisson(2.0, (4, 3)).astype(float)),
        grad_inputs=[0],
    ),
    Case(
        "GaussianNLLLoss",
        lambda nn, T: nn.GaussianNLLLoss(),
        lambda rng: [rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.uniform(0.5, 2, (4, 3))],
        grad_inputs=[0, 2],
    ),
    Case(
        "CosineEmbeddingLoss",
        lambda nn, T: nn.CosineEmbeddingLoss(margin=0.2),
        lambda rng: [rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), rng.choice([-1.0, 1.0], 5)],
        grad_inputs=[0, 1],
    ),
    Case(
        "MarginRankingLoss",
        lambda nn, T: nn.MarginRankingLoss(margin=0.1),
        lambda rng: [rng.standard_normal(6), rng.standard_normal(6), rng.choice([-1.0, 1.0], 6)],
        grad_inputs=[0, 1],
    ),
    Case(
        "HingeEmbeddingLoss",
        lambda nn, T: nn.HingeEmbeddingLoss(margin=0.5),
        loss_inputs(logits(4, 3), signs(4, 3)),
        grad_inputs=[0],
    ),
    Case(
        "MultiLabelSoftMarginLoss",
        lambda nn, T: nn.MultiLabelSoftMarginLoss(),
        loss_inputs(logits(4, 3), lambda rng: rng.integers(0, 2, (4, 3)).astype(float)),
        grad_inputs=[0],
    ),
    Case("MultiMarginLoss", lambda nn, T: nn.MultiMarginLoss(), loss_inputs(logits(5, 4), labels(4, 5))),
    Case(
        "TripletMarginLoss",
        lambda nn, T: nn.TripletMarginLoss(margin=0.5),
        lambda rng: [rng.standard_normal((4, 3)) for _ in range(3)],
    ),
]
CASES_BY_ID = {case.id: case for case in CASES}
TOLERANCES = {"float64": (1e-6, 1e-9), "float32": (1e-4, 1e-5)}


def _torch_dtype(name):
    return getattr(torch, name)


def _make_pair(case: Case, dtype: str):
    torch.manual_seed(0)
    theirs = case.build(torch.nn, torch.tensor).to(_torch_dtype(dtype))
    ours = case.build(nn, dendrite.tensor).to(getattr(dendrite, dtype))
    # Copy PyTorch's weights (as NumPy arrays) so both start from identical values.
    ours.load_state_dict({key: value.numpy() for key, value in theirs.state_dict().items()})
    return theirs, ours


def _assert_close(actual, expected, rtol, atol, what):
    actual = actual.detach().numpy() if hasattr(actual, "detach") else np.asarray(actual)
    expected = expected.detach().numpy()
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # PyTorch's own note
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_parity_with_torch(case: Case, dtype: str):
    rtol, atol = TOLERANCES[dtype]
    theirs, ours = _make_pair(case, dtype)
    rng = np.random.default_rng(0)
    for step, mode in enumerate(case.modes):
        arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in case.inputs(rng)]
        grad_inputs = case.grad_inputs
        if grad_inputs is None:
            grad_inputs = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
        theirs.train(mode == "train")
        ours.train(mode == "train")
        theirs.zero_grad()
        ours.zero_grad()
        x_theirs = [torch.tensor(a, requires_grad=i in grad_inputs) for i, a in enumerate(arrays)]
        x_ours = [dendrite.tensor(a, requires_grad=i in grad_inputs) for i, a in enumerate(arrays)]
        out_theirs, out_ours = theirs(*x_theirs), ours(*x_ours)
        where = f"{case.id} step {step} ({mode})"
        _assert_close(out_ours, out_theirs, rtol, atol, f"{where}: output")
        if out_theirs.requires_grad:
            weights = rng.standard_normal(tuple(out_theirs.shape)).astype(dtype)
            (out_theirs * torch.tensor(weights)).sum().backward()
            (out_ours * dendrite.tensor(weights)).sum().backward()
            for i in grad_inputs:
                _assert_close(x_ours[i].grad, x_theirs[i].grad, rtol, atol, f"{where}: gradient of input {i}")
            for name, param in theirs.named_parameters():
                ours_grad = ours.get_parameter(name).grad
                assert ours_grad is not None, f"{where}: parameter {name} got no gradient"
                _assert_close(ours_grad, param.grad, rtol, atol, f"{where}: gradient of {name}")
        for name, buffer in theirs.named_buffers():
            _assert_close(ours.get_buffer(name), buffer, rtol, atol, f"{where}: buffer {name}")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_parameter_count_and_state_dict_round_trip(case: Case):
    theirs, ours = _make_pair(case, "float64")
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    twin = case.build(nn, dendrite.tensor).double()
    twin.load_state_dict(ours.state_dict())
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(twin.state_dict()[key].numpy(), value.numpy(), err_msg=key)
    arrays = case.inputs(np.random.default_rng(1))
    ours.eval()
    twin.eval()
    np.testing.assert_array_equal(
        twin(*[dendrite.tensor(a) for a in arrays]).detach().numpy(),
        ours(*[dendrite.tensor(a) for a in arrays]).detach().numpy(),
    )


# ---------------------------------------------------------------------------- train vs eval
@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_train_and_eval(p):
    layer = nn.Dropout(p)
    x = dendrite.ones(200, 500)
    out = layer(x).numpy()
    kept = out != 0
    assert kept.mean() == pytest.approx(1 - p, abs=0.01)
    np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-6)
    layer.eval()
    assert (layer(x).numpy() == 1).all()


def test_dropout_gradient_uses_the_same_mask():
    layer = nn.Dropout(0.5)
    x = dendrite.ones(50, 40, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.detach().numpy())


def test_dropout2d_drops_whole_channels():
    layer = nn.Dropout2d(0.5)
    out = layer(dendrite.ones(20, 30, 4, 4)).numpy()
    per_channel = out.reshape(20, 30, 16)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert (per_channel == 0).all(-1).mean() == pytest.approx(0.5, abs=0.1)
    assert (layer.eval()(dendrite.ones(2, 3, 4, 4)).numpy() == 1).all()


def test_dropout_rejects_bad_probability():
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def test_batchnorm_eval_uses_running_statistics():
    layer = nn.BatchNorm1d(3)
    x = dendrite.randn(16, 3) * 4 + 2
    train_out = layer(x)
    assert int(layer.num_batches_tracked) == 1
    means = x.numpy().mean(0)
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.1 * means, rtol=1e-5)
    np.testing.assert_allclose(train_out.detach().numpy().mean(0), 0, atol=1e-5)
    layer.eval()
    eval_out = layer(x).detach().numpy()
    expected = (x.numpy() - layer.running_mean.numpy()) / np.sqrt(layer.running_var.numpy() + 1e-5)
    np.testing.assert_allclose(eval_out, expected, rtol=1e-5)
    assert int(layer.num_batches_tracked) == 1  # evaluation does not count batches


# ---------------------------------------------------------------------------- shapes and errors
@pytest.mark.parametrize(
    "build, shape, expected",
    [
        (lambda: nn.Conv2d(3, 8, 5, stride=2), (4, 3, 32, 32), (4, 8, 14, 14)),
        (lambda: nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1), (2, 8, 7, 7), (2, 3, 14, 14)),
        (lambda: nn.MaxPool2d(2), (1, 3, 9, 9), (1, 3, 4, 4)),
        (
            lambda: nn.Sequential(
                nn.Conv2d(1, 4, 3, padding="same"), nn.Flatten(), nn.Linear(4 * 28 * 28, 10)
            ),
            (5, 1, 28, 28),
            (5, 10),
        ),
    ],
)
def test_output_shapes(build, shape, expected):
    assert build()(dendrite.zeros(*shape)).shape == expected


def test_conv_transpose_output_size_matches_torch():
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    ours = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4)).astype(np.float32)
    expected = theirs(torch.tensor(x), output_size=[8, 8])
    _assert_close(ours(dendrite.tensor(x), output_size=[8, 8]), expected, 1e-5, 1e-6, "output_size")
    with pytest.raises(ValueError, match="not reachable"):
        ours(dendrite.tensor(x), output_size=[12, 12])


def test_maxpool_return_indices_matches_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    out, indices = nn.MaxPool2d(2, return_indices=True)(dendrite.tensor(x))
    expected, expected_indices = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    _assert_close(out, expected, 1e-12, 0, "values")
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())


def test_embedding_padding_row_gets_no_gradient():
    layer = nn.Embedding(5, 3, padding_idx=0)
    layer(dendrite.tensor([[0, 1, 0, 4]])).sum().backward()
    grad = layer.weight.grad.numpy()
    assert (grad[0] == 0).all() and (grad[1] == 1).all() and (grad[4] == 1).all()


def test_embedding_from_pretrained_is_frozen():
    layer = nn.Embedding.from_pretrained(dendrite.eye(4))
    assert not layer.weight.requires_grad
    assert layer(dendrite.tensor([3])).tolist() == [[0.0, 0.0, 0.0, 1.0]]


@pytest.mark.parametrize(
    "layer, shape, message",
    [
        (
            lambda: nn.Linear(784, 10),
            (32, 28, 28),
            r"Linear\(in_features=784\) got input of shape \(32, 28, 28\); "
            r"expected \(\.\.\., 784\)\. Did you forget to flatten\?",
        ),
        (
            lambda: nn.Conv2d(3, 8, 3),
            (2, 1, 8, 8),
            r"Conv2d\(in_channels=3\) got input of shape \(2, 1, 8, 8\)",
        ),
        (
            lambda: nn.BatchNorm2d(4),
            (2, 3, 5, 5),
            r"BatchNorm2d\(num_features=4\) got input of shape \(2, 3, 5, 5\)",
        ),
        (lambda: nn.BatchNorm1d(4), (2, 4, 5, 5), r"expected \(N, C\) or \(N, C, L\)"),
        (
            lambda: nn.LayerNorm(6),
            (2, 5),
            r"LayerNorm\(normalized_shape=\(6,\)\) got input of shape \(2, 5\)",
        ),
        (lambda: nn.GroupNorm(2, 6), (2, 4, 3), r"GroupNorm\(num_channels=6\)"),
        (lambda: nn.MaxPool2d(2), (8, 8), r"MaxPool2d got input of shape \(8, 8\)"),
    ],
)
def test_input_errors_name_the_layer(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer()(dendrite.zeros(*shape))


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: nn.Conv2d(3, 8, 3, groups=2), r"in_channels \(3\) must be divisible by groups \(2\)"),
        (lambda: nn.Conv2d(2, 8, 3, stride=2, padding="same"), "not supported for strided"),
        (lambda: nn.Conv2d(2, 8, 3, padding_mode="mirror"), "padding_mode must be one of"),
        (lambda: nn.ConvTranspose2d(2, 8, 3, output_padding=1), "output_padding"),
        (lambda: nn.GroupNorm(4, 6), r"num_channels \(6\) must be divisible by num_groups \(4\)"),
        (lambda: nn.CrossEntropyLoss(reduction="average"), "'average' is not a valid value for reduction"),
        (lambda: nn.Embedding(5, 2, padding_idx=5), "padding_idx 5"),
    ],
)
def test_constructor_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


# ---------------------------------------------------------------------------- containers
def test_sequential_indexing_slicing_and_append():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and model[0] is layers[0] and model[-1] is layers[2]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    assert head(dendrite.ones(4, 2)).shape == (4, 3)
    model.append(nn.Sigmoid())
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"] and len(model) == 4
    del model[1]
    assert [name for name, _ in model.named_children()] == ["0", "1", "2"]
    with pytest.raises(IndexError, match="out of range"):
        model[7]


def test_sequential_from_ordered_dict_matches_torch_keys():
    from collections import OrderedDict

    def build(lib):
        return lib.Sequential(
            OrderedDict([("encoder", lib.Linear(4, 2)), ("act", lib.Tanh()), ("decoder", lib.Linear(2, 4))])
        )

    assert list(build(nn).state_dict()) == list(build(torch.nn).state_dict())
    assert build(nn).encoder.out_features == 2


def test_module_list_and_dict_register_children():
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    blocks.append(nn.Linear(2, 1))
    assert len(blocks) == 4 and list(blocks.state_dict())[-1] == "3.bias"
    assert isinstance(blocks[1:], nn.ModuleList) and len(blocks[1:]) == 3
    heads = nn.ModuleDict({"a": nn.Linear(2, 2)})
    heads["b"] = nn.Linear(2, 3)
    assert list(heads.keys()) == ["a", "b"] and "b" in heads and len(list(heads.parameters())) == 4
    weights = nn.ParameterList([nn.Parameter(dendrite.ones(2)), dendrite.zeros(3)])
    assert list(weights.state_dict()) == ["0", "1"] and isinstance(weights[1], nn.Parameter)


def test_linear_forward_uses_reassigned_parameters():
    # Linear.forward reads its parameter table directly; assignments must still reach it.
    layer = nn.Linear(3, 2)
    layer.weight = nn.Parameter(dendrite.ones(2, 3))
    layer.bias = nn.Parameter(dendrite.tensor([10.0, 20.0]))
    x = dendrite.tensor([[1.0, 2.0, 3.0]])
    assert layer(x).tolist() == [[16.0, 26.0]]
    layer.bias = None
    assert layer(x).tolist() == [[6.0, 6.0]]
