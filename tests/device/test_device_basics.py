"""Tensors on the CUDA device: creation, transfers, errors, autograd, and a small MLP trained on it.

Every test runs on the fake device (tests/device/fake_cupy.py, a NumPy-backed CuPy that refuses
implicit host conversion) and on a real GPU where one is present (skipped otherwise).
"""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite import nn


def test_creation_functions_put_tensors_on_the_device(device):
    made = [dendrite.zeros(2, 3, device=device), dendrite.ones(2, device=device),
            dendrite.empty(2, device=device), dendrite.full((2,), 7.0, device=device),
            dendrite.arange(5, device=device), dendrite.eye(3, device=device),
            dendrite.linspace(0, 1, 5, device=device), dendrite.rand(2, device=device),
            dendrite.randn(2, device=device), dendrite.randint(0, 5, (3,), device=device),
            dendrite.tensor([1.0, 2.0], device=device), dendrite.randperm(4, device=device)]
    for tensor in made:
        assert tensor.device == dendrite.device("cuda", 0) and tensor.is_cuda and not tensor.is_cpu
        assert tensor.get_device() == 0
    x = dendrite.zeros(2, 3, device=device)
    for like in (dendrite.zeros_like(x), dendrite.ones_like(x), dendrite.rand_like(x),
                 dendrite.full_like(x, 2)):
        assert like.is_cuda  # *_like keeps the device, as in PyTorch


def test_same_seed_same_values_on_both_devices(device):
    dendrite.manual_seed(3)
    host = dendrite.randn(4, 5)
    dendrite.manual_seed(3)
    moved = dendrite.randn(4, 5, device=device)
    np.testing.assert_array_equal(moved.cpu().numpy(), host.numpy())


def test_to_cuda_cpu_round_trip_keeps_values_and_dtype(device):
    x = dendrite.tensor([[1.5, -2.0], [3.0, 4.0]], dtype=dendrite.float64)
    on_gpu = x.to(device)
    assert on_gpu.is_cuda and on_gpu.dtype == dendrite.float64
    assert x.cuda().is_cuda and on_gpu.cuda() is on_gpu and on_gpu.to("cuda:0") is on_gpu
    back = on_gpu.cpu()
    assert back.device == dendrite.device("cpu")
    np.testing.assert_array_equal(back.numpy(), x.numpy())
    assert on_gpu.to(device, dendrite.float32).dtype == dendrite.float32
    assert x.to(on_gpu).is_cuda  # to(other): other's device
    assert on_gpu.item() if on_gpu.numel() == 1 else on_gpu.tolist() == x.tolist()


def test_gradients_cross_the_device_copy(device):
    x = dendrite.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x.cuda() * x.cuda()).sum().backward()
    assert x.grad.device == dendrite.device("cpu")
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_numpy_of_a_cuda_tensor_raises_like_pytorch(device):
    x = dendrite.zeros(2, device=device)
    message = r"can't convert cuda:0 device type tensor to numpy\. Use Tensor\.cpu\(\)"
    with pytest.raises(TypeError, match=message):
        x.numpy()
    with pytest.raises(TypeError, match="can't convert cuda:0"):
        np.asarray(x)


def test_mixing_devices_raises_pytorchs_message(device):
    a, b = dendrite.ones(3, device=device), dendrite.ones(3)
    for operation in (lambda: a + b, lambda: b * a, lambda: dendrite.matmul(a, b),
                      lambda: dendrite.cat([a, b])):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but found at "
                                               "least two devices, (cuda:0 and cpu|cpu and cuda:0)"):
            operation()


def test_a_bad_cuda_index_is_refused(device):
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        dendrite.zeros(2, device="cuda:1")


def test_module_to_cuda_moves_parameters_and_buffers(device):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    assert model.to(device) is model
    assert all(p.is_cuda for p in model.parameters()) and all(b.is_cuda for b in model.buffers())
    model.cpu()
    assert not any(p.is_cuda for p in model.parameters())
    model.cuda()
    assert all(p.is_cuda for p in model.parameters())


def _mlp_run(device, optimizer_class, steps=5, **options):
    dendrite.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).to(device)
    optimizer = optimizer_class(model.parameters(), **options)
    rng = np.random.default_rng(0)
    x = dendrite.tensor(rng.standard_normal((8, 6)).astype(np.float32)).to(device)
    y = dendrite.tensor(rng.integers(0, 3, 8)).to(device)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, [p.detach().cpu().numpy() for p in model.parameters()]


@pytest.mark.parametrize("optimizer_class, options", [
    (dendrite.optim.SGD, {"lr": 0.1, "momentum": 0.9}), (dendrite.optim.Adam, {"lr": 0.01}),
], ids=["SGD", "Adam"])
def test_an_mlp_trains_the_same_on_the_device_as_on_the_cpu(device, optimizer_class, options):
    gpu_losses, gpu_parameters = _mlp_run(device, optimizer_class, **options)
    cpu_losses, cpu_parameters = _mlp_run("cpu", optimizer_class, **options)
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=1e-5)
    for gpu, cpu in zip(gpu_parameters, cpu_parameters):
        np.testing.assert_allclose(gpu, cpu, rtol=1e-5, atol=1e-6)
    assert gpu_losses[-1] < gpu_losses[0]


def test_dendrite_cuda_answers_from_the_device(device):
    assert dendrite.cuda.is_available() and dendrite.cuda.device_count() >= 1
    assert dendrite.cuda.current_device() == 0 and isinstance(dendrite.cuda.get_device_name(), str)
    dendrite.cuda.synchronize()
    assert dendrite.accelerator.is_available() and dendrite.accelerator.current_accelerator().type == "cuda"
    assert dendrite.accelerator.device_count() == 1 and dendrite.accelerator.current_device_index() == 0
    dendrite.accelerator.synchronize()
    x = dendrite.zeros(1000, device=device)
    assert dendrite.cuda.memory_allocated() >= 4000 and x.is_cuda  # others may be freed meanwhile
    dendrite.cuda.empty_cache()


@pytest.mark.parametrize("optimizer_class", [dendrite.optim.SGD, dendrite.optim.Adam], ids=["SGD", "Adam"])
def test_a_training_step_makes_no_host_transfer(fake_cuda, optimizer_class):
    """Once the model and the batch are on the device, forward, backward and step copy nothing to or
    from the host (the fake counts every explicit copy and refuses every implicit one)."""
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).to("cuda")
    optimizer = optimizer_class(model.parameters(), lr=0.01)
    x = dendrite.randn(8, 6, device="cuda")
    y = dendrite.randint(0, 3, (8,), device="cuda")
    fake_cuda.transfers.update(to_device=0, to_host=0)
    for _ in range(3):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    assert fake_cuda.transfers == {"to_device": 0, "to_host": 0}
    loss.item()  # reading the loss is the one copy the user asks for


def test_repr_names_the_device_as_pytorch(device):
    assert repr(dendrite.tensor([1, 2], dtype=dendrite.int32, device=device)) == \
        "tensor([1, 2], device='cuda:0', dtype=dendrite.int32)"
    x = dendrite.tensor([1.5], device=device, requires_grad=True)
    assert repr(x * 2) == "tensor([3.], device='cuda:0', grad_fn=<MulBackward>)"


def test_new_tensors_keep_the_device(device):
    x = dendrite.zeros(2, device=device)
    made = [x.new_zeros(3), x.new_ones(3), x.new_empty(3), x.new_full((3,), 2.0), x.new_tensor([1.0, 2.0])]
    assert all(tensor.is_cuda for tensor in made)
    assert not x.new_zeros(3, device="cpu").is_cuda
    dendrite.cuda.set_device(0)
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        dendrite.cuda.set_device(1)


def test_an_operation_the_device_library_lacks_raises_not_implemented(fake_cuda):
    class Windows(dendrite.autograd.Function):  # uses a NumPy function CuPy does not dispatch
        def forward(self, x):
            return np.lib.stride_tricks.sliding_window_view(x, 2)

        def backward(self, grad):
            raise AssertionError("not reached")

    with pytest.raises(NotImplementedError, match=r"windows is not supported on cuda:0 yet"):
        Windows.apply(dendrite.zeros(4, device="cuda"))
    assert Windows.apply(dendrite.zeros(4)).shape == (3, 2)  # the CPU is unaffected
