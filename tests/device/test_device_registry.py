"""Every operation of the registry (tests/ops/registry.py), forward and backward, on the CUDA device.

Each sample runs twice in float64: on the CPU and on the device (inputs moved with
``.to("cuda")``); outputs, output dtypes, ``requires_grad`` and every input gradient must agree,
and every output and gradient must live on the device. On the fake device (NumPy underneath)
the two runs do the same arithmetic, so they agree to rounding; any implicit host conversion
raises there, so a pass also shows the op never fell back to the host. On a real GPU
(skipped without one) CuPy's kernels round differently, hence the tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from tests.ops.registry import REGISTRY, flat, sample_arguments

CASES = [pytest.param(op, sample, id=f"{op.name}-{sample!r}") for op in REGISTRY for sample in op.samples]
RTOL, ATOL = 1e-7, 1e-10


def _inputs(sample, device) -> list:
    inputs = []
    for array, is_float in sample_arguments(sample):
        if is_float is None:
            inputs.append(array)
            continue
        tensor = dendrite.from_numpy(array)
        if device != "cpu":
            tensor = tensor.to(device)
        inputs.append(tensor.requires_grad_(is_float))
    return inputs


def _run(op, sample, device):
    inputs = _inputs(sample, device)
    outputs = flat(op.fn(dendrite, *inputs, **sample.kwargs))
    total = None
    for position, output in enumerate(outputs):
        if isinstance(output, dendrite.Tensor) and output.requires_grad:
            weights = np.random.default_rng(position).standard_normal(tuple(output.shape))
            weight = dendrite.tensor(weights.astype(np.float64), dtype=output.dtype, device=device)
            term = (output * weight).sum()
            total = term if total is None else total + term
    if total is not None and op.differentiable:
        total.backward()
    return inputs, outputs


def _host(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


@pytest.mark.parametrize("op, sample", CASES)
def test_op_forward_and_backward_on_the_device_match_the_cpu(op, sample, device):
    host_inputs, host_outputs = _run(op, sample, "cpu")
    try:
        device_inputs, device_outputs = _run(op, sample, device)
    except RuntimeError as error:
        if "Expected all tensors to be on the same device" not in str(error):
            raise
        pytest.skip("the sample makes CPU tensors inside its expression (m.tensor(...)) and mixes them with "
                    "CUDA inputs; PyTorch refuses that mix too (and so does dendrite, as checked)")
    assert len(device_outputs) == len(host_outputs)
    for position, (ours, theirs) in enumerate(zip(device_outputs, host_outputs)):
        if not isinstance(theirs, dendrite.Tensor):
            assert ours == theirs, f"{op.name} output {position}"
            continue
        assert ours.is_cuda, f"{op.name} output {position} is on {ours.device}, expected cuda:0"
        assert ours.dtype == theirs.dtype and ours.requires_grad == theirs.requires_grad
        np.testing.assert_allclose(_host(ours), _host(theirs), rtol=RTOL, atol=ATOL, equal_nan=True,
                                   err_msg=f"{op.name} output {position}")
    for position, (ours, theirs) in enumerate(zip(device_inputs, host_inputs)):
        if not isinstance(theirs, dendrite.Tensor) or theirs.grad is None:
            continue
        assert ours.grad is not None, f"{op.name}: input {position} got no gradient on the device"
        assert ours.grad.is_cuda and ours.grad.dtype == theirs.grad.dtype
        np.testing.assert_allclose(_host(ours.grad), _host(theirs.grad), rtol=RTOL, atol=ATOL, equal_nan=True,
                                   err_msg=f"{op.name} gradient of input {position}")
