"""Shared test helpers: compare dendrite with PyTorch and with finite differences."""

from __future__ import annotations

import numpy as np

import dendrite


def to_torch(array: np.ndarray, requires_grad: bool = False):
    import torch

    tensor = torch.tensor(np.array(array))
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def to_dendrite(array: np.ndarray, requires_grad: bool = False) -> dendrite.Tensor:
    return dendrite.tensor(np.array(array), requires_grad=requires_grad)


def assert_close(actual, expected, rtol: float = 1e-6, atol: float = 1e-9, what: str = "") -> None:
    """Compare a dendrite tensor / array with a torch tensor / array."""
    actual = actual.detach().numpy() if hasattr(actual, "detach") else np.asarray(actual)
    expected = expected.detach().numpy() if hasattr(expected, "detach") else np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def compare_with_torch(dendrite_fn, torch_fn, arrays, rtol: float = 1e-6, atol: float = 1e-9,
                       grad_inputs=None) -> None:
    """Run both functions on float64 copies of ``arrays``; compare outputs and input gradients.

    ``grad_inputs``: indices of arrays that require grad (default: all floating arrays).
    The output is reduced with a fixed random weighting so every output element matters.
    """
    import torch

    if grad_inputs is None:
        grad_inputs = [i for i, a in enumerate(arrays) if np.asarray(a).dtype.kind == "f"]
    ours = [to_dendrite(a, i in grad_inputs) for i, a in enumerate(arrays)]
    theirs = [to_torch(a, i in grad_inputs) for i, a in enumerate(arrays)]
    out_ours, out_theirs = dendrite_fn(*ours), torch_fn(*theirs)
    assert_close(out_ours, out_theirs, rtol, atol, "forward")
    if not grad_inputs or not out_theirs.requires_grad:
        return
    weights = np.random.default_rng(0).standard_normal(tuple(out_theirs.shape))
    (out_ours * to_dendrite(weights.astype(out_ours.dtype))).sum().backward()
    (out_theirs * torch.tensor(weights, dtype=out_theirs.dtype)).sum().backward()
    for i in grad_inputs:
        assert ours[i].grad is not None, f"input {i} got no gradient"
        assert_close(ours[i].grad, theirs[i].grad, rtol, atol, f"gradient of input {i}")
