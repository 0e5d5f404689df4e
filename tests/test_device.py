"""Devices, honestly: dendrite.device against torch.device, every device= argument, cuda/accelerator/backends.

PyTorch here is a CPU-only build, which is exactly what dendrite is: where torch answers
(``torch.cuda.is_available()``, ``torch.device("cuda:1").index``) dendrite must answer the same.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

import dendrite
from dendrite import nn

DEVICE_STRINGS = ["cpu", "cuda", "cuda:0", "cuda:1", "cpu:0", "cpu:3", "mps", "meta", "xpu:2"]
BAD_DEVICE_STRINGS = ["gpu", "CUDA", "cuda:x", "cuda:-1", "cpu:0:1", "", " cpu", "cuda:01", "cuda: 1"]


@pytest.mark.parametrize("text", DEVICE_STRINGS)
def test_device_from_a_string_matches_torch(text):
    ours, theirs = dendrite.device(text), torch.device(text)
    assert (ours.type, ours.index, str(ours), repr(ours)) == (theirs.type, theirs.index, str(theirs),
                                                                repr(theirs))


@pytest.mark.parametrize("args", [("cuda", 0), ("cuda", 3), ("cpu", 0), ("cpu",), ("mps", 1)])
def test_device_from_type_and_index_matches_torch(args):
    ours, theirs = dendrite.device(*args), torch.device(*args)
    assert (ours.type, ours.index, str(ours)) == (theirs.type, theirs.index, str(theirs))
    assert dendrite.device(ours) == ours


@pytest.mark.parametrize("text", BAD_DEVICE_STRINGS)
def test_bad_device_strings_fail_as_in_torch(text):
    with pytest.raises(RuntimeError) as theirs:
        torch.device(text)
    with pytest.raises(RuntimeError) as ours:
        dendrite.device(text)
    assert text in str(ours.value) or text == ""
    assert type(ours.value) is type(theirs.value)


@pytest.mark.parametrize("args, error", [
    (("cuda", -1), RuntimeError), (("cuda", "0"), TypeError), ((1.5,), TypeError), ((None,), TypeError),
    (("cuda:1", 0), RuntimeError), (("cuda", True), TypeError), ((0,), RuntimeError),
])
def test_bad_device_arguments_fail_as_in_torch(args, error):
    with pytest.raises(error):
        torch.device(*args)
    with pytest.raises(error, match="device|Device|index"):
        dendrite.device(*args)


def test_device_equality_hash_and_pickle_follow_torch():
    a, b = dendrite.device("cuda:1"), dendrite.device("cuda", 1)
    assert a == b and hash(a) == hash(b) and {a: 1}[b] == 1
    assert dendrite.device("cpu") != dendrite.device("cpu", 0)
    assert torch.device("cpu") != torch.device("cpu", 0)
    # torch.device never equals a string; neither does ours (compare .type instead)
    assert (dendrite.device("cpu") == "cpu") is (torch.device("cpu") == "cpu") is False
    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(AttributeError):
        a.type = "cpu"


def test_tensor_device_flags_match_torch():
    ours, theirs = dendrite.zeros(2), torch.zeros(2)
    assert isinstance(ours.device, dendrite.device) and ours.device == dendrite.device("cpu")
    assert repr(ours.device) == repr(theirs.device)
    assert (ours.is_cuda, ours.is_cpu, ours.get_device()) == (theirs.is_cuda, theirs.is_cpu,
                                                              theirs.get_device())
    assert ours.cpu() is ours


@pytest.mark.parametrize("call", [
    lambda lib, x: x.to("cpu"), lambda lib, x: x.to(lib.device("cpu")), lambda lib, x: x.to(device="cpu"),
    lambda lib, x: x.to(), lambda lib, x: x.to(None), lambda lib, x: x.to("cpu", non_blocking=True),
    lambda lib, x: x.to(lib.float32), lambda lib, x: x.to(lib.float32, False, False),
])
def test_to_without_a_change_returns_self_as_torch(call):
    ours, theirs = dendrite.zeros(2), torch.zeros(2)
    assert call(dendrite, ours) is ours
    assert call(torch, theirs) is theirs


@pytest.mark.parametrize("call", [
    lambda lib, x: x.to("cpu", lib.float64), lambda lib, x: x.to(lib.device("cpu"), lib.int32),
    lambda lib, x: x.to(device="cpu", dtype=lib.int64), lambda lib, x: x.to(lib.float64, non_blocking=True),
    lambda lib, x: x.to(lib.zeros(1, dtype=lib.int64)), lambda lib, x: x.to("cpu", lib.float64, True, True),
    lambda lib, x: x.to("cpu", copy=True), lambda lib, x: x.to(lib.float32, False, True),
])
def test_to_forms_match_torch(call):
    values = [[1.5, -2.0]]
    ours, theirs = call(dendrite, dendrite.tensor(values)), call(torch, torch.tensor(values))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_to_copy_makes_a_new_tensor():
    x = dendrite.zeros(2)
    y = x.to("cpu", copy=True)
    assert y is not x and not np.shares_memory(x.numpy(), y.numpy())


@pytest.mark.parametrize("call", [
    lambda lib, x: x.to("cpu", "cpu"), lambda lib, x: x.to(lib.float32, lib.float32),
    lambda lib, x: x.to(x, lib.float64), lambda lib, x: x.to(other=x),
])
def test_to_refuses_what_torch_refuses(call):
    with pytest.raises(TypeError):
        call(torch, torch.zeros(2))
    with pytest.raises(TypeError, match="to\\(\\)"):
        call(dendrite, dendrite.zeros(2))


@pytest.mark.parametrize("call", [
    lambda x: x.to("cuda"), lambda x: x.to("cuda:0"), lambda x: x.to(dendrite.device("cuda")),
    lambda x: x.to(device="cuda", dtype=dendrite.float64), lambda x: x.cuda(),
])
def test_cuda_is_refused_with_a_clear_message(call):
    with pytest.raises(RuntimeError, match=r"CUDA is not available: dendrite's GPU backend is not "
                                           r"installed/present .*device='cpu'.*dendrite.cuda.is_available"):
        call(dendrite.zeros(2))


def test_a_device_argument_of_the_wrong_type_is_named():
    with pytest.raises(TypeError, match="zeros: argument 'device' must be a dendrite.device or a string"):
        dendrite.zeros(2, device=dendrite.zeros(1))


@pytest.mark.parametrize("device, pattern", [
    ("mps", "device 'mps' is not available: dendrite runs on the CPU only"),
    (0, "accelerator 0"), ("gpu", "Expected one of cpu, cuda"), (1.5, "must be a dendrite.device"),
])
def test_other_devices_are_refused_naming_what_was_asked(device, pattern):
    with pytest.raises((RuntimeError, TypeError), match=pattern):
        dendrite.zeros(2).to(device) if not isinstance(device, float) else dendrite.zeros(2, device=device)


CREATORS = {
    "tensor": lambda lib, **k: lib.tensor([1.0, 2.0], **k),
    "as_tensor": lambda lib, **k: lib.as_tensor([1.0, 2.0], **k),
    "zeros": lambda lib, **k: lib.zeros(2, 3, **k), "ones": lambda lib, **k: lib.ones(2, **k),
    "empty": lambda lib, **k: lib.empty(2, **k), "full": lambda lib, **k: lib.full((2,), 7.0, **k),
    "arange": lambda lib, **k: lib.arange(3, **k), "linspace": lambda lib, **k: lib.linspace(0, 1, 3, **k),
    "logspace": lambda lib, **k: lib.logspace(0, 1, 3, **k), "eye": lambda lib, **k: lib.eye(2, **k),
    "rand": lambda lib, **k: lib.rand(2, **k), "randn": lambda lib, **k: lib.randn(2, **k),
    "randint": lambda lib, **k: lib.randint(0, 5, (2,), **k),
    "randperm": lambda lib, **k: lib.randperm(3, **k),
    "normal": lambda lib, **k: lib.normal(0.0, 1.0, (2,), **k),
    "zeros_like": lambda lib, **k: lib.zeros_like(lib.ones(2), **k),
    "ones_like": lambda lib, **k: lib.ones_like(lib.ones(2), **k),
    "empty_like": lambda lib, **k: lib.empty_like(lib.ones(2), **k),
    "full_like": lambda lib, **k: lib.full_like(lib.ones(2), 3.0, **k),
    "rand_like": lambda lib, **k: lib.rand_like(lib.ones(2), **k),
    "randn_like": lambda lib, **k: lib.randn_like(lib.ones(2), **k),
    "randint_like": lambda lib, **k: lib.randint_like(lib.ones(2), 5, **k),
}


@pytest.mark.parametrize("name", sorted(CREATORS))
def test_every_creation_function_takes_device(name):
    make = CREATORS[name]
    for device in ("cpu", "cpu:0", dendrite.device("cpu"), None):
        assert make(dendrite, device=device).device == dendrite.device("cpu")
    assert str(make(torch, device="cpu").device) == "cpu"  # the same call is valid PyTorch
    with pytest.raises(RuntimeError, match=f"^{name}: CUDA is not available"):
        make(dendrite, device="cuda")


LAYERS = {
    "Linear": lambda lib, **k: lib.nn.Linear(2, 3, **k),
    "Bilinear": lambda lib, **k: lib.nn.Bilinear(2, 2, 3, **k),
    "Conv2d": lambda lib, **k: lib.nn.Conv2d(1, 2, 3, **k),
    "BatchNorm1d": lambda lib, **k: lib.nn.BatchNorm1d(3, **k),
    "LayerNorm": lambda lib, **k: lib.nn.LayerNorm(3, **k),
    "Embedding": lambda lib, **k: lib.nn.Embedding(4, 2, **k),
    "LSTM": lambda lib, **k: lib.nn.LSTM(2, 3, **k), "GRUCell": lambda lib, **k: lib.nn.GRUCell(2, 3, **k),
    "PReLU": lambda lib, **k: lib.nn.PReLU(**k),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_take_device_and_refuse_cuda(name):
    make = LAYERS[name]
    for device in ("cpu", dendrite.device("cpu")):
        layer = make(dendrite, device=device)
        assert all(p.device == dendrite.device("cpu") for p in layer.parameters())
    make(torch, device="cpu")
    with pytest.raises(RuntimeError, match=f"^{name}: CUDA is not available"):
        make(dendrite, device="cuda")
    with pytest.raises(RuntimeError, match="'mps' is not available"):
        make(dendrite, device="mps")


def test_module_to_cpu_and_cuda_are_consistent_with_tensors():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert model.to("cpu") is model and model.cpu() is model and model.to(dendrite.device("cpu")) is model
    assert model.to("cpu", dendrite.float64) is model and model[0].weight.dtype == dendrite.float64
    same = model.to(device="cpu", dtype=dendrite.float32, non_blocking=True)
    assert same is model and model[0].weight.dtype == dendrite.float32
    for call in (model.cuda, lambda: model.to("cuda"), lambda: model.to(dendrite.device("cuda", 0))):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            call()


CUDA_ANSWERS = ["is_available", "device_count", "is_initialized", "memory_allocated", "max_memory_allocated",
                "memory_reserved", "max_memory_reserved", "is_bf16_supported", "empty_cache", "seed",
                "seed_all"]


@pytest.mark.parametrize("name", CUDA_ANSWERS)
def test_cuda_answers_as_a_cpu_only_torch(name):
    assert getattr(dendrite.cuda, name)() == getattr(torch.cuda, name)()


def test_cuda_seeding_is_harmless_and_leaves_the_cpu_stream_alone():
    dendrite.manual_seed(0)
    expected = dendrite.rand(3).tolist()
    dendrite.manual_seed(0)
    assert dendrite.cuda.manual_seed(5) is None and dendrite.cuda.manual_seed_all(5) is None
    assert dendrite.rand(3).tolist() == expected
    with pytest.raises(TypeError, match="int seed"):
        dendrite.cuda.manual_seed("5")


@pytest.mark.parametrize("name, args", [
    ("current_device", ()), ("synchronize", ()), ("get_device_name", ()), ("get_device_properties", (0,)),
    ("get_device_capability", ()),
])
def test_cuda_questions_about_a_gpu_raise_as_torch_does(name, args):
    with pytest.raises(AssertionError):  # torch's CPU build: "Torch not compiled with CUDA enabled"
        getattr(torch.cuda, name)(*args)
    with pytest.raises(RuntimeError, match=f"cuda.{name}: CUDA is not available"):
        getattr(dendrite.cuda, name)(*args)


def test_accelerator_answers_as_torch():
    for name in ("is_available", "current_accelerator", "device_count"):
        assert getattr(dendrite.accelerator, name)() == getattr(torch.accelerator, name)()
    for name in ("current_device_index", "synchronize"):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
            getattr(torch.accelerator, name)()
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
            getattr(dendrite.accelerator, name)()


def test_backends_flags_start_as_torch_and_are_stored():
    pairs = [(dendrite.backends.cudnn, torch.backends.cudnn, ("benchmark", "deterministic", "enabled",
                                                              "allow_tf32", "benchmark_limit")),
             (dendrite.backends.cuda.matmul, torch.backends.cuda.matmul, ("allow_tf32",))]
    for ours, theirs, names in pairs:
        for name in names:
            assert getattr(ours, name) == getattr(theirs, name), name
    assert dendrite.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert dendrite.backends.cudnn.is_available() is torch.backends.cudnn.is_available()
    assert dendrite.backends.cuda.is_built() is torch.backends.cuda.is_built()
    try:
        dendrite.backends.cudnn.benchmark = True
        dendrite.backends.cuda.matmul.allow_tf32 = True
        assert dendrite.backends.cudnn.benchmark and dendrite.backends.cuda.matmul.allow_tf32
    finally:
        dendrite.backends.cudnn.benchmark = False
        dendrite.backends.cuda.matmul.allow_tf32 = False


def test_determinism_and_matmul_precision_switches_read_back():
    assert dendrite.are_deterministic_algorithms_enabled() is False
    try:
        dendrite.use_deterministic_algorithms(True, warn_only=True)
        assert dendrite.are_deterministic_algorithms_enabled()
        assert dendrite.is_deterministic_algorithms_warn_only_enabled()
        dendrite.set_float32_matmul_precision("medium")
        assert dendrite.get_float32_matmul_precision() == "medium"
    finally:
        dendrite.use_deterministic_algorithms(False)
        dendrite.set_float32_matmul_precision("highest")
    with pytest.raises(TypeError, match="must be bool"):
        torch.use_deterministic_algorithms(1)
    with pytest.raises(TypeError, match="argument 'mode' must be bool"):
        dendrite.use_deterministic_algorithms(1)
    with pytest.raises(ValueError, match="'fast' is not one of highest, high, medium"):
        dendrite.set_float32_matmul_precision("fast")


def _device_agnostic_training(torch_like) -> list:
    """A PyTorch script, written device-agnostic, run with ``torch_like`` as ``torch``."""
    device = "cuda" if torch_like.cuda.is_available() else "cpu"
    device = torch_like.device(device)
    torch_like.manual_seed(0)
    torch_like.backends.cudnn.benchmark = False
    inputs = torch_like.tensor(np.random.default_rng(0).normal(size=(32, 2)), dtype=torch_like.float32)
    targets = (inputs[:, 0] * inputs[:, 1] > 0).long()
    model = torch_like.nn.Sequential(torch_like.nn.Linear(2, 16, device=device), torch_like.nn.Tanh(),
                                     torch_like.nn.Linear(16, 2)).to(device)
    optimizer = torch_like.optim.SGD(model.parameters(), lr=0.5)
    dataset = torch_like.utils.data.TensorDataset(inputs, targets)
    loader = torch_like.utils.data.DataLoader(dataset, batch_size=8, shuffle=True,
                                              generator=torch_like.Generator().manual_seed(0))
    losses = []
    for _ in range(30):
        total = 0.0
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device)
            loss = torch_like.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        losses.append(total)
    assert next(model.parameters()).device == device
    return losses


def test_a_device_agnostic_torch_script_runs_unchanged():
    losses = _device_agnostic_training(dendrite)
    assert losses[-1] < 0.5 * losses[0]  # it trains, on the CPU
    assert _device_agnostic_training(dendrite) == losses  # and one seed repeats it exactly
    _device_agnostic_training(torch)  # the very same script is valid PyTorch
