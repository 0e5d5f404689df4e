"""Every layer of the layer parity suite (tests/nn/test_layers.py) on the CUDA device, against the CPU.

The same layer is built twice from one seed, once moved with ``.to("cuda")``; both run the
case's passes (train steps, then eval) on the same inputs, and outputs, input gradients,
parameter gradients and buffers (running statistics) must agree and live on the device.
"""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite import nn
from tests.nn.test_layers import CASES, Case

RTOL, ATOL = 1e-7, 1e-10


def _build(case: Case, device: str):
    dendrite.manual_seed(0)
    layer = case.build(nn, dendrite.tensor).double()
    return layer.to(device)


def _host(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _check(ours, theirs, what: str) -> None:
    assert ours.device.type == "cuda", f"{what} is on {ours.device}, expected cuda"
    np.testing.assert_allclose(_host(ours), _host(theirs), rtol=RTOL, atol=ATOL, err_msg=what)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_layer_on_the_device_matches_the_cpu(case: Case, device):
    host, moved = _build(case, "cpu"), _build(case, device)
    rng = np.random.default_rng(0)
    for step, mode in enumerate(case.modes):
        arrays = case.inputs(rng)
        grad_inputs = case.grad_inputs
        if grad_inputs is None:
            grad_inputs = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
        results = []
        for layer, where in ((host, "cpu"), (moved, device)):
            layer.train(mode == "train")
            layer.zero_grad()
            inputs = [dendrite.tensor(a, device=where, requires_grad=i in grad_inputs)
                      for i, a in enumerate(arrays)]
            dendrite.manual_seed(step)  # the same dropout masks on both devices
            output = layer(*inputs)
            if output.requires_grad:
                weights = np.random.default_rng(step).standard_normal(tuple(output.shape))
                (output * dendrite.tensor(weights, device=where)).sum().backward()
            results.append((inputs, output))
        (host_inputs, host_output), (device_inputs, device_output) = results
        where = f"{case.id} step {step} ({mode})"
        _check(device_output, host_output, f"{where}: output")
        for i in grad_inputs:
            if host_inputs[i].grad is not None:
                _check(device_inputs[i].grad, host_inputs[i].grad, f"{where}: gradient of input {i}")
        for name, parameter in host.named_parameters():
            if parameter.grad is not None:
                _check(moved.get_parameter(name).grad, parameter.grad, f"{where}: gradient of {name}")
        for name, buffer in host.named_buffers():
            if buffer is not None:
                _check(moved.get_buffer(name), buffer, f"{where}: buffer {name}")
