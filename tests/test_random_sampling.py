"""bernoulli and multinomial: PyTorch's contracts (shapes, dtypes, errors) and the right frequencies.

The draws are NumPy's, so they are compared with torch in distribution: with a fixed seed and many
samples, each frequency must lie within 5 standard errors of its probability (computed exactly for
the second draw without replacement), a bound a wrong sampler misses by far.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite

SAMPLES = 40000


def _within_five_standard_errors(counts, probabilities, total):
    frequencies = np.asarray(counts) / total
    bound = 5 * np.sqrt(np.asarray(probabilities) * (1 - np.asarray(probabilities)) / total)
    assert (np.abs(frequencies - probabilities) <= bound).all(), (frequencies, probabilities)


def test_bernoulli_frequencies_shape_and_dtype():
    probabilities = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    g = dendrite.Generator().manual_seed(0)
    draws = dendrite.bernoulli(dendrite.tensor(np.tile(probabilities, (SAMPLES, 1))), generator=g).numpy()
    _within_five_standard_errors(draws.sum(axis=0), probabilities, SAMPLES)
    assert draws[:, 0].max() == 0 and draws[:, -1].min() == 1
    for dtype in ("float32", "float64"):
        ours = dendrite.bernoulli(dendrite.full((2, 3), 0.5, dtype=getattr(dendrite, dtype)))
        theirs = torch.bernoulli(torch.full((2, 3), 0.5, dtype=getattr(torch, dtype)))
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype)[6:]
    p_form = dendrite.bernoulli(dendrite.zeros(SAMPLES), p=0.25, generator=g).numpy()
    _within_five_standard_errors([p_form.sum()], [0.25], SAMPLES)
    assert dendrite.zeros(3).bernoulli(1.0).tolist() == [1.0, 1.0, 1.0]


def test_multinomial_with_replacement_frequencies():
    weights = [1.0, 0.0, 3.0, 4.0]  # unnormalised, with a zero
    g = dendrite.Generator().manual_seed(1)
    draws = dendrite.multinomial(dendrite.tensor(weights), SAMPLES, replacement=True, generator=g).numpy()
    _within_five_standard_errors(np.bincount(draws, minlength=4), np.array(weights) / 8, SAMPLES)
    rows = dendrite.multinomial(dendrite.tensor([[1.0, 0.0], [0.0, 1.0]]), 5, True, generator=g)
    assert rows.tolist() == [[0] * 5, [1] * 5]


def test_multinomial_without_replacement_frequencies_match_sequential_draws():
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    g = dendrite.Generator().manual_seed(2)
    draws = dendrite.multinomial(dendrite.tensor(np.tile(weights, (SAMPLES, 1))), 2, generator=g).numpy()
    assert (draws[:, 0] != draws[:, 1]).all()
    first = weights / weights.sum()
    # P(second = j) = sum over i != j of P(first = i) * w_j / (sum - w_i)
    second = np.array([sum(first[i] * weights[j] / (weights.sum() - weights[i]) for i in range(4) if i != j)
                       for j in range(4)])
    _within_five_standard_errors(np.bincount(draws[:, 0], minlength=4), first, SAMPLES)
    _within_five_standard_errors(np.bincount(draws[:, 1], minlength=4), second, SAMPLES)


def test_multinomial_fills_with_zero_weight_categories_as_torch():
    ours = dendrite.multinomial(dendrite.tensor([0.0, 1.0, 0.0]), 3)
    theirs = torch.multinomial(torch.tensor([0.0, 1.0, 0.0]), 3)
    assert ours[0].item() == theirs[0].item() == 1 and sorted(ours.tolist()) == sorted(theirs.tolist())
    assert ours.dtype == dendrite.int64 and theirs.dtype == torch.int64


@pytest.mark.parametrize("call, pattern", [
    (lambda lib: lib.bernoulli(lib.tensor([1.5])), "in \\[0, 1\\]"),
    (lambda lib: lib.bernoulli(lib.zeros(2), p=1.5), "p"),
    (lambda lib: lib.multinomial(lib.tensor([-1.0, 1.0]), 1), "element < 0"),
    (lambda lib: lib.multinomial(lib.tensor([float("nan"), 1.0]), 1), "`nan`"),
    (lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1), "sum of probabilities <= 0"),
    (lambda lib: lib.multinomial(lib.tensor([1.0, 1.0]), 3), "cannot sample n_sample > prob_dist.size"),
    (lambda lib: lib.multinomial(lib.ones(3), 0), "cannot sample n_sample <= 0"),
    (lambda lib: lib.multinomial(lib.ones(2, 3, 4), 2), "prob_dist must be 1 or 2 dim"),
    (lambda lib: lib.multinomial(lib.tensor([1, 2]), 1), "floating-point"),
])
def test_bad_input_fails_as_in_torch(call, pattern):
    with pytest.raises((RuntimeError, NotImplementedError)):
        call(torch)
    with pytest.raises(RuntimeError, match=pattern):
        call(dendrite)


def test_samples_repeat_with_a_seed_and_carry_no_gradient():
    weights = dendrite.tensor([0.2, 0.3, 0.5], requires_grad=True)
    first, again = (dendrite.multinomial(weights, 2, generator=dendrite.Generator().manual_seed(5))
                    for _ in range(2))
    assert first.tolist() == again.tolist()
    assert not first.requires_grad and not dendrite.bernoulli(weights).requires_grad
    with pytest.raises(TypeError, match="argument 'input' must be a Tensor, not list"):
        dendrite.bernoulli([0.5])
