"""nn.utils.prune against torch.nn.utils.prune: masks, the _orig/_mask bookkeeping, iterative pruning
(PruningContainer), global pruning, remove, gradients through the mask, and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as torch_prune

import dendrite
from dendrite.nn.utils import prune


def _pair(shape, seed=0, layer="linear"):
    """The same float64 layer in both libraries (weights distinct: no ties in the L1 order)."""
    rng = np.random.default_rng(seed)
    if layer == "linear":
        ours = dendrite.nn.Linear(*shape[::-1], dtype=dendrite.float64)
        theirs = torch.nn.Linear(*shape[::-1], dtype=torch.float64)
    else:
        ours = dendrite.nn.Conv2d(shape[1], shape[0], shape[2], dtype=dendrite.float64)
        theirs = torch.nn.Conv2d(shape[1], shape[0], shape[2], dtype=torch.float64)
    for (_, mine), (_, other) in zip(ours.named_parameters(), theirs.named_parameters()):
        values = rng.standard_normal(tuple(other.shape))
        with torch.no_grad():
            other.copy_(torch.from_numpy(values))
        with dendrite.no_grad():
            mine.copy_(dendrite.from_numpy(values))
    return ours, theirs


def _same(ours, theirs):
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


@pytest.mark.parametrize("amount", [0, 0.0, 0.33, 1.0, 5, 12])
def test_l1_unstructured_matches_pytorch(amount):
    ours, theirs = _pair((3, 4))
    prune.l1_unstructured(ours, "weight", amount=amount)
    torch_prune.l1_unstructured(theirs, "weight", amount=amount)
    _same(ours.weight_mask, theirs.weight_mask)
    _same(ours.weight, theirs.weight)


@pytest.mark.parametrize("n", [1, 2, 3.5, math.inf, -math.inf])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_ln_structured_matches_pytorch(n, dim):
    ours, theirs = _pair((4, 3, 3), layer="conv")
    prune.ln_structured(ours, "weight", amount=0.5, n=n, dim=dim)
    torch_prune.ln_structured(theirs, "weight", amount=0.5, n=n, dim=dim)
    _same(ours.weight_mask, theirs.weight_mask)


def test_ln_structured_fro_is_the_euclidean_norm_on_a_matrix_and_refused_beyond_like_pytorch():
    ours, theirs = _pair((5, 3))
    prune.ln_structured(ours, "weight", amount=2, n="fro", dim=0)
    torch_prune.ln_structured(theirs, "weight", amount=2, n="fro", dim=0)
    _same(ours.weight_mask, theirs.weight_mask)
    conv, _ = _pair((4, 3, 3), layer="conv")
    with pytest.raises(RuntimeError, match="p='fro' over dims .* needs exactly 2 dims"):
        prune.ln_structured(conv, "weight", amount=1, n="fro", dim=0)


def test_iterative_pruning_builds_a_container_and_matches_pytorch():
    ours, theirs = _pair((6, 5))
    for lib, layer in ((prune, ours), (torch_prune, theirs)):
        lib.l1_unstructured(layer, "weight", amount=0.3)
        lib.ln_structured(layer, "weight", amount=2, n=1, dim=0)
        lib.l1_unstructured(layer, "weight", amount=3)
        lib.custom_from_mask(layer, "weight", mask=(layer.weight_orig > -1.0).to(layer.weight_orig.dtype))
    _same(ours.weight_mask, theirs.weight_mask)
    hooks = list(ours._forward_pre_hooks.values())
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer)
    assert [type(m).__name__ for m in hooks[0]] == [type(m).__name__ for m in
                                                     next(iter(theirs._forward_pre_hooks.values()))]


def test_importance_scores_decide_the_mask():
    ours, theirs = _pair((3, 4))
    scores = np.arange(12.0).reshape(3, 4)[::-1].copy()
    prune.l1_unstructured(ours, "weight", amount=5, importance_scores=dendrite.from_numpy(scores))
    torch_prune.l1_unstructured(theirs, "weight", amount=5, importance_scores=torch.from_numpy(scores))
    _same(ours.weight_mask, theirs.weight_mask)


def test_global_unstructured_matches_pytorch():
    (a, ta), (b, tb) = _pair((3, 4), seed=1), _pair((2, 3, 2), seed=2, layer="conv")
    prune.l1_unstructured(a, "weight", amount=2)  # an existing mask is respected
    torch_prune.l1_unstructured(ta, "weight", amount=2)
    prune.global_unstructured([(a, "weight"), (b, "weight"), (b, "bias")], prune.L1Unstructured, amount=0.4)
    torch_prune.global_unstructured([(ta, "weight"), (tb, "weight"), (tb, "bias")],
                                    torch_prune.L1Unstructured,
                                    amount=0.4)
    for mine, theirs in ((a.weight_mask, ta.weight_mask), (b.weight_mask, tb.weight_mask),
                         (b.bias_mask, tb.bias_mask)):
        _same(mine, theirs)


def test_bookkeeping_names_state_dict_and_remove_follow_pytorch():
    ours, theirs = _pair((3, 4))
    for lib, layer in ((prune, ours), (torch_prune, theirs)):
        lib.random_unstructured(layer, "weight", amount=0.5)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert int((ours.weight_mask == 0).sum()) == 6
    prune.remove(ours, "weight")
    torch_prune.remove(theirs, "weight")
    names = [n for n, _ in ours.named_parameters()]
    assert names == [n for n, _ in theirs.named_parameters()] == ["bias", "weight"]
    assert isinstance(ours.weight, dendrite.nn.Parameter) and int((ours.weight == 0).sum()) == 6
    assert not ours._forward_pre_hooks and not prune.is_pruned(ours)


def test_gradient_reaches_orig_only_through_the_mask_like_pytorch():
    ours, theirs = _pair((3, 4))
    prune.l1_unstructured(ours, "weight", amount=5)
    torch_prune.l1_unstructured(theirs, "weight", amount=5)
    x = np.random.default_rng(3).standard_normal((2, 4))
    ours(dendrite.from_numpy(x)).pow(2).sum().backward()
    theirs(torch.from_numpy(x)).pow(2).sum().backward()
    np.testing.assert_allclose(ours.weight_orig.grad.numpy(), theirs.weight_orig.grad.numpy(), rtol=1e-12)
    assert (ours.weight_orig.grad.numpy()[ours.weight_mask.numpy() == 0] == 0).all()


def test_the_hook_recomputes_the_weight_after_the_orig_changes():
    ours, _ = _pair((3, 4))
    prune.l1_unstructured(ours, "weight", amount=4)
    with dendrite.no_grad():
        ours.weight_orig.add_(1.0)
    ours(dendrite.ones(1, 4, dtype=dendrite.float64))
    expected = (ours.weight_orig * ours.weight_mask).detach().numpy()
    np.testing.assert_array_equal(ours.weight.detach().numpy(), expected)


def test_errors_name_what_was_wrong():
    layer = dendrite.nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"amount=1.5 should either be a float in the range \[0, 1\]"):
        prune.l1_unstructured(layer, "weight", amount=1.5)
    with pytest.raises(ValueError, match="amount=7 should be smaller than the number of parameters to "
                                         "prune=6"):
        prune.l1_unstructured(layer, "weight", amount=7)
    assert sorted(n for n, _ in layer.named_parameters()) == ["bias", "weight"]  # the failed try is undone
    with pytest.raises(TypeError, match="Invalid type for amount"):
        prune.random_unstructured(layer, "weight", amount="half")
    with pytest.raises(ValueError, match="Structured pruning can only be applied to "
                                         "multidimensional tensors"):
        prune.ln_structured(layer, "bias", amount=1, n=2, dim=0)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(layer, "weight")
    with pytest.raises(TypeError, match='Only "unstructured" PRUNING_TYPE'):
        prune.global_unstructured([(layer, "weight")], prune.LnStructured, amount=1, n=2)
