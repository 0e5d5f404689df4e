"""pad (constant, reflect, replicate, circular) against PyTorch, finite differences and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F
from tests.helpers import compare_with_torch

RNG = np.random.default_rng(0)

CONSTANT_CASES = [
    ((5,), (1, 2), None),
    ((3, 4), (2, 0), 1.5),
    ((2, 3, 4), (1, 1, 2, 3), None),
    ((2, 3, 4, 5), (1, 2, 0, 1, 1, 0), -2.0),
    ((2, 3, 4, 5), (1, 2, 0, 1, 1, 0, 2, 1), 0.5),  # every dimension
    ((2, 3, 4, 5), (-1, 2, 1, -2), 0.0),  # negative amounts crop
    ((2, 3, 4, 5), (-2, -3), 0.0),  # crop to nothing
    ((2, 3, 4, 5), (), 0.0),
]


@pytest.mark.parametrize("shape, amounts, value", CONSTANT_CASES)
def test_constant_pad_matches_torch(shape, amounts, value):
    compare_with_torch(lambda t: F.pad(t, amounts, value=value), lambda t: TF.pad(t, amounts, value=value),
                       [RNG.standard_normal(shape)])


MODE_CASES = [
    ((2, 3, 6), (2, 3)),
    ((3, 6), (2, 1)),  # unbatched
    ((2, 3, 5, 6), (1, 2, 3, 0)),
    ((3, 5, 6), (1, 2, 3, 4)),
    ((2, 3, 5, 6), (-1, 2, 2, -2)),  # crop and pad at once
    ((2, 3, 5, 6), (0, 0, 4, 4)),
    ((2, 2, 4, 5, 6), (1, 2, 3, 0, 2, 1)),  # three padded dimensions
]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, amounts", MODE_CASES)
def test_index_modes_match_torch(mode, shape, amounts):
    compare_with_torch(lambda t: F.pad(t, amounts, mode=mode), lambda t: TF.pad(t, amounts, mode=mode),
                       [RNG.standard_normal(shape)])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_with_the_largest_amounts_allowed(mode):
    largest = {"reflect": 4, "replicate": 9, "circular": 5}[mode]
    compare_with_torch(lambda t: F.pad(t, (largest, largest), mode=mode),
                       lambda t: TF.pad(t, (largest, largest), mode=mode), [RNG.standard_normal((2, 3, 5))])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck(mode):
    x = dendrite.tensor(RNG.standard_normal((1, 2, 3, 4)), requires_grad=True)
    assert dendrite.autograd.gradcheck(lambda t: F.pad(t, (2, 1, -1, 2), mode=mode), (x,))


def test_constant_pad_keeps_integer_and_float32_dtypes():
    x = RNG.integers(0, 9, (2, 3))
    ours, theirs = F.pad(dendrite.tensor(x), (1, 1), value=7), TF.pad(torch.tensor(x), (1, 1), value=7)
    assert ours.dtype == dendrite.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    y = dendrite.randn(2, 3, requires_grad=True)
    out = F.pad(y, (1, 1), mode="reflect")
    out.sum().backward()
    assert out.dtype == y.grad.dtype == dendrite.float32


@pytest.mark.parametrize("call, message", [
    (lambda: F.pad(dendrite.randn(2, 3), (1, 2, 3)), r"even length; got 3 values"),
    (lambda: F.pad(dendrite.randn(2, 3), (1, 1, 1, 1, 1, 1)), r"3 \(before, after\) pairs .* \(2, 3\)"),
    (lambda: F.pad(dendrite.randn(2, 3), (1, 1), mode="mirror"), r"unknown mode 'mirror'"),
    (lambda: F.pad(dendrite.randn(2, 3), (1, 1), mode="reflect", value=1.0), r"does not take a value"),
    (lambda: F.pad(dendrite.randn(1, 2, 3), (3, 0), mode="reflect"),
     r"mode 'reflect' needs padding smaller than the size .* \(3, 0\) for dimension 2 of size 3"),
    (lambda: F.pad(dendrite.randn(1, 2, 3), (0, 4), mode="circular"), r"needs padding at most the size"),
    (lambda: F.pad(dendrite.randn(5), (1, 1), mode="replicate"), r"pads the last 1, 2 or 3 dimensions"),
    (lambda: F.pad(dendrite.randn(2, 3), (-2, -2)), r"dimension 1 of size 3 .* negative size"),
    (lambda: F.pad(dendrite.randn(2, 3), (1.5, 1)), r"pad must be a tuple of ints"),
])
def test_pad_errors_name_the_problem(call, message):
    with pytest.raises((RuntimeError, ValueError, TypeError), match=message):
        call()
