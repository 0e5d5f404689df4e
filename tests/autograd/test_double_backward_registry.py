"""Double backward (``create_graph=True``) over the op registries, against PyTorch and finite differences.

For every registry op that supports it:

* second derivatives equal PyTorch's in float64: the gradient is taken with a
  seed that itself requires grad, then differentiated again with respect to
  the inputs (Hessian-vector products) and to the seed;
* ``gradgradcheck`` (float64 finite differences of the gradient) passes on the
  op's first smooth sample.

The ops that do NOT support it are the explicit list ``NO_DOUBLE_BACKWARD``
(empty today); the cases where PyTorch differs or cannot answer are listed too,
each asserted as it is.
"""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from tests.ops import registry_fused
from tests.ops.registry import REGISTRY
from tests.ops.test_op_registry import ATOL, RTOL, assert_values, flat, make_inputs

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:kl_div. reduction=.mean.:UserWarning")

OPS = [op for op in REGISTRY + registry_fused.OPS if op.differentiable]

# Every registry op supports double backward today. An op added without it goes here (its name ->
# why); tests/autograd/test_double_backward.py lists the Function classes without backward_graph.
NO_DOUBLE_BACKWARD: dict = {}

# Cases where PyTorch itself cannot take the second derivative: its double backward raises. Ours is
# checked against finite differences instead (gradgradcheck on that very sample).
PYTORCH_RAISES = {
    "hardsigmoid": "derivative for aten::hardsigmoid_backward is not implemented",
    "embedding-empty-0,5x3": "PyTorch's embedding double backward cannot reshape an empty gradient",
    "embedding_bag": "derivative for aten::_embedding_bag_backward is not implemented",
}

# Deliberate differences, each asserted as it is (so that a change on either side shows up).
NAN_IN_PYTORCH = {  # at a point where the op is not differentiable, PyTorch's second derivative is NaN
    "std_constant_rows-2x3": "std of a constant row: ours is 0, the derivative of the 0 gradient there",
    "norm-zero-vector-2x3,int,int": "norm of the zero vector: ours is 0, the derivative of the 0 gradient",
}
DIFFERENT = {
    "embedding-scale-by-freq-2x2,4x2": "PyTorch's double backward ignores scale_grad_by_freq (it picks the "
                                       "rows unscaled); ours is the exact transpose (gradgradcheck passes)",
}


def to_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor) and value._is_zerotensor():  # PyTorch's "known to be 0" gradient
        return np.zeros(tuple(value.shape))
    return value.detach().numpy()


def _seeds(lib, outputs) -> list:
    """One fixed random seed gradient per differentiable output, requiring grad itself."""
    seeds = []
    for position, output in enumerate(outputs):
        values = np.random.default_rng(10 + position).standard_normal(tuple(output.shape))
        seeds.append(lib.tensor(values.astype(to_numpy(output).dtype)).requires_grad_(True))
    return seeds


def _second_derivatives(lib, op, sample) -> tuple:
    """(first gradients, d<first gradients, v>/d inputs, d<first gradients, v>/d seeds) as arrays."""
    inputs = make_inputs(lib, sample)
    wanted = [t for t in inputs if isinstance(t, (dendrite.Tensor, torch.Tensor)) and t.requires_grad]
    outputs = [o for o in flat(op.fn(lib, *inputs, **sample.kwargs)) if o.requires_grad]
    if not wanted or not outputs:
        pytest.skip("nothing to differentiate")
    seeds = _seeds(lib, outputs)
    grads = lib.autograd.grad(outputs, wanted, grad_outputs=seeds, create_graph=True, allow_unused=True)
    total = None
    for position, grad in enumerate(grads):
        if grad is None or not grad.requires_grad:
            continue
        v = np.random.default_rng(100 + position).standard_normal(tuple(grad.shape))
        term = (grad * lib.tensor(v)).sum()
        total = term if total is None else total + term
    if total is None:
        second = [None] * (len(wanted) + len(seeds))
    else:
        second = lib.autograd.grad(total, wanted + seeds, allow_unused=True)
    arrays = lambda items: [None if g is None else to_numpy(g) for g in items]  # noqa: E731
    return arrays(grads), arrays(second)


def _same(ours, theirs, what) -> None:
    for position, (a, b) in enumerate(zip(ours, theirs)):
        if a is None or b is None:  # None and zeros both mean "does not depend"
            present = a if b is None else b
            assert present is None or not np.any(present), f"{what} {position}: one side is None, other not 0"
            continue
        assert_values(a, b, f"{what} {position}")


def _cases(selected):
    return [pytest.param(op, sample, id=f"{op.name}-{sample!r}") for op in selected for sample in op.samples]


SUPPORTED = [op for op in OPS if op.name not in NO_DOUBLE_BACKWARD]


def _case_id(op, sample) -> str:
    return f"{op.name}-{sample!r}"


@pytest.mark.parametrize("op, sample", _cases(SUPPORTED))
def test_second_derivatives_match_pytorch_float64(op, sample):
    case = _case_id(op, sample)
    ours_first, ours_second = _second_derivatives(dendrite, op, sample)
    if op.name in PYTORCH_RAISES or case in PYTORCH_RAISES:
        with pytest.raises(RuntimeError):
            _second_derivatives(torch, op, sample)
        inputs = make_inputs(dendrite, sample)
        assert dendrite.autograd.gradgradcheck(lambda *args: op.fn(dendrite, *args, **sample.kwargs), inputs)
        return
    theirs_first, theirs_second = _second_derivatives(torch, op, sample)
    _same(ours_first, theirs_first, f"{op.name} first gradient")
    if case in NAN_IN_PYTORCH:
        pairs = [(a, b) for a, b in zip(ours_second, theirs_second) if b is not None]
        assert any(np.isnan(b).any() for _, b in pairs), "PyTorch no longer gives NaN here: update the list"
        for a, b in pairs:
            assert not np.isnan(a).any()
            np.testing.assert_allclose(a, np.where(np.isnan(b), 0.0, b), rtol=RTOL, atol=ATOL)
        return
    if case in DIFFERENT:
        with pytest.raises(AssertionError):
            _same(ours_second, theirs_second, f"{op.name} second derivative")
        return
    _same(ours_second, theirs_second, f"{op.name} second derivative")


@pytest.mark.parametrize("case", sorted(DIFFERENT))
def test_deliberate_differences_still_pass_gradgradcheck(case):
    op, sample = next((op, s) for op in OPS for s in op.samples if _case_id(op, s) == case)
    check = lambda: dendrite.autograd.gradgradcheck(  # noqa: E731
        lambda *args: op.fn(dendrite, *args, **sample.kwargs), make_inputs(dendrite, sample))
    assert check()


def _first_smooth(op):
    return next((s for s in op.samples if s.smooth), None)


@pytest.mark.parametrize("op", [op for op in SUPPORTED if op.gradcheck and _first_smooth(op)],
                         ids=lambda op: op.name)
def test_gradgradcheck(op):
    sample = _first_smooth(op)
    inputs = make_inputs(dendrite, sample)
    if not any(isinstance(t, dendrite.Tensor) and t.requires_grad for t in inputs):
        pytest.skip("no floating input")
    assert dendrite.autograd.gradgradcheck(lambda *args: op.fn(dendrite, *args, **sample.kwargs), inputs)


def test_the_lists_name_registry_cases():
    names = {op.name for op in OPS}
    cases = {_case_id(op, sample) for op in OPS for sample in op.samples}
    assert not set(NO_DOUBLE_BACKWARD) - names, set(NO_DOUBLE_BACKWARD) - names
    listed = set(PYTORCH_RAISES) | set(NAN_IN_PYTORCH) | set(DIFFERENT)
    assert not listed - names - cases, listed - names - cases
