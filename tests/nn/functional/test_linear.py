"""linear and bilinear against PyTorch, the composed form, finite differences and bad shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F
from tests.helpers import assert_close, compare_with_torch

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("input_shape", [(5, 3), (2, 4, 3), (2, 1, 4, 3), (3,), (0, 3)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_torch(input_shape, with_bias):
    arrays = [RNG.standard_normal(input_shape), RNG.standard_normal((4, 3))]
    if with_bias:
        arrays.append(RNG.standard_normal(4))
    compare_with_torch(F.linear, TF.linear, arrays)


def test_linear_equals_composed_form():
    x, w, b = RNG.standard_normal((6, 5)), RNG.standard_normal((3, 5)), RNG.standard_normal(3)
    fused = [dendrite.tensor(a, requires_grad=True) for a in (x, w, b)]
    composed = [dendrite.tensor(a, requires_grad=True) for a in (x, w, b)]
    out_fused = F.linear(*fused)
    out_composed = composed[0] @ composed[1].T + composed[2]
    assert_close(out_fused, out_composed.detach().numpy(), rtol=1e-12)
    weights = dendrite.tensor(RNG.standard_normal((6, 3)))
    (out_fused * weights).sum().backward()
    (out_composed * weights).sum().backward()
    for ours, reference in zip(fused, composed):
        assert_close(ours.grad, reference.grad.numpy(), rtol=1e-12)


LINEAR_CASES = [(shape, bias) for shape in [(6, 5), (2, 3, 5), "strided"] for bias in [(3,), (1,), None]]


@pytest.mark.parametrize("input_shape, bias_shape", LINEAR_CASES + [((2, 3, 5), (2, 1, 3))])
def test_linear_fast_paths_equal_the_composed_form(input_shape, bias_shape):
    # Covers the 2-D and flattened products, a strided input (ndarray.dot copies it), the (out,)
    # bias summed over rows and the broadcasting biases summed by unbroadcast.
    strided = input_shape == "strided"
    x = RNG.standard_normal((5, 10) if strided else input_shape)
    arrays = [x, RNG.standard_normal((3, 5))]
    if bias_shape is not None:
        arrays.append(RNG.standard_normal(bias_shape))
    fused = [dendrite.tensor(a, requires_grad=True) for a in arrays]
    composed = [dendrite.tensor(a, requires_grad=True) for a in arrays]

    def run(tensors, linear):
        first = tensors[0][:, ::2] if strided else tensors[0]  # every other column: a strided view
        if strided:
            assert not first._data.flags.c_contiguous
        return linear(first, *tensors[1:])

    def composed_linear(x, w, b=None):
        out = x @ w.T
        return out if b is None else out + b

    out_fused, out_composed = run(fused, F.linear), run(composed, composed_linear)
    assert_close(out_fused, out_composed.detach().numpy(), rtol=1e-12)
    weights = dendrite.tensor(RNG.standard_normal(out_fused.shape))
    (out_fused * weights).sum().backward()
    (out_composed * weights).sum().backward()
    for ours, reference in zip(fused, composed):
        assert_close(ours.grad, reference.grad.numpy(), rtol=1e-12)


def test_linear_gradcheck():
    x = dendrite.tensor(RNG.standard_normal((2, 3, 4)), requires_grad=True)
    w = dendrite.tensor(RNG.standard_normal((2, 4)), requires_grad=True)
    b = dendrite.tensor(RNG.standard_normal(2), requires_grad=True)
    assert dendrite.autograd.gradcheck(F.linear, (x, w, b))


def test_linear_only_computes_wanted_gradients():
    x = dendrite.tensor(RNG.standard_normal((4, 3)))
    w = dendrite.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    F.linear(x, w).sum().backward()
    assert x.grad is None
    assert_close(w.grad, np.ones((4, 2)).T @ x.numpy())


def test_linear_keeps_float32():
    x = dendrite.randn(4, 3, requires_grad=True)
    w = dendrite.randn(2, 3, requires_grad=True)
    b = dendrite.zeros(2, requires_grad=True)
    out = F.linear(x, w, b)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == w.grad.dtype == b.grad.dtype == dendrite.float32


def test_linear_with_a_weight_vector_matches_torch():
    compare_with_torch(F.linear, TF.linear, [RNG.standard_normal((5, 3)), RNG.standard_normal(3)])


def test_linear_shape_mismatch_is_explained():
    with pytest.raises(RuntimeError, match=r"linear: input of shape \(2, 28, 28\).*weight of shape.*flatten"):
        F.linear(dendrite.zeros(2, 28, 28), dendrite.zeros(10, 784))
    with pytest.raises(RuntimeError, match="bias"):
        F.linear(dendrite.zeros(2, 3), dendrite.zeros(4, 3), dendrite.zeros(5))
    with pytest.raises(RuntimeError, match="dtype"):
        F.linear(dendrite.zeros(2, 3), dendrite.zeros(4, 3, dtype=dendrite.float64))


@pytest.mark.parametrize("leading", [(5,), (2, 3), ()])
@pytest.mark.parametrize("with_bias", [True, False])
def test_bilinear_matches_torch(leading, with_bias):
    arrays = [RNG.standard_normal(leading + (3,)), RNG.standard_normal(leading + (2,)),
              RNG.standard_normal((4, 3, 2))]
    if with_bias:
        arrays.append(RNG.standard_normal(4))
    compare_with_torch(F.bilinear, TF.bilinear, arrays)


def test_bilinear_shape_mismatch_is_explained():
    with pytest.raises(RuntimeError, match="bilinear"):
        F.bilinear(dendrite.zeros(5, 3), dendrite.zeros(4, 2), dendrite.zeros(4, 3, 2))


def test_linear_with_zero_out_features_backpropagates_as_pytorch():
    # Found by tests/fuzz: reshape(-1, 0) of the empty gradient could not infer the rows.
    import torch

    for shape in [(1,), (2, 3, 1), (0,)]:
        x = dendrite.ones(*shape, requires_grad=True)
        w = dendrite.ones(0, shape[-1], requires_grad=True)
        dendrite.nn.functional.linear(x, w).sum().backward()
        tx, tw = torch.ones(*shape, requires_grad=True), torch.ones(0, shape[-1], requires_grad=True)
        torch.nn.functional.linear(tx, tw).sum().backward()
        assert x.grad.shape == tuple(tx.grad.shape) and not x.grad.numpy().any()
        assert w.grad.shape == (0, shape[-1])
