"""Double backward (``create_graph=True``) over the op registries, against PyTorch and finite differences.

For every registry op that supports it:

* second derivatives equal PyTorch's in float64: the gradient is taken with a
  seed that itself requires grad, then differentiated again with respect to
  the inputs (Hessian-vector products) and to the seed;
* ``gradgradcheck`` (float64 finite differences of the gradient) passes on the
  op's first smooth sample.

The ops that do NOT support it are the explicit list ``NO_DOUBLE_BACKWARD``;
each must raise the clear error, so adding support (or losing it) shows here.
"""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from tests.ops import registry_fused
from tests.ops.registry import REGISTRY
from tests.ops.test_op_registry import assert_values, flat, make_inputs

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:kl_div. reduction=.mean.:UserWarning")

OPS = [op for op in REGISTRY + registry_fused.OPS if op.differentiable]

# Registry ops whose nodes have no backward_graph yet (name -> the Function that refuses).
NO_DOUBLE_BACKWARD = {
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


@pytest.mark.parametrize("op, sample", _cases(SUPPORTED))
def test_second_derivatives_match_pytorch_float64(op, sample):
    ours_first, ours_second = _second_derivatives(dendrite, op, sample)
    theirs_first, theirs_second = _second_derivatives(torch, op, sample)
    _same(ours_first, theirs_first, f"{op.name} first gradient")
    _same(ours_second, theirs_second, f"{op.name} second derivative")


def _first_smooth(op):
    return next((s for s in op.samples if s.smooth), None)


@pytest.mark.parametrize("op", [op for op in SUPPORTED if op.gradcheck and _first_smooth(op)], ids=lambda op: op.name)
def test_gradgradcheck(op):
    sample = _first_smooth(op)
    inputs = make_inputs(dendrite, sample)
    if not any(isinstance(t, dendrite.Tensor) and t.requires_grad for t in inputs):
        pytest.skip("no floating input")
    assert dendrite.autograd.gradgradcheck(lambda *args: op.fn(dendrite, *args, **sample.kwargs), inputs)


@pytest.mark.parametrize("op", [op for op in OPS if op.name in NO_DOUBLE_BACKWARD], ids=lambda op: op.name)
def test_unsupported_ops_raise_a_clear_error(op):
    sample = op.samples[0]
    inputs = make_inputs(dendrite, sample)
    wanted = [t for t in inputs if isinstance(t, dendrite.Tensor) and t.requires_grad]
    outputs = [o for o in flat(op.fn(dendrite, *inputs, **sample.kwargs)) if o.requires_grad]
    with pytest.raises(RuntimeError, match=rf"double backward through {NO_DOUBLE_BACKWARD[op.name]}\b.*"
                                           r"not supported yet.*docs/autograd.md"):
        dendrite.autograd.grad(outputs, wanted, grad_outputs=[dendrite.ones_like(o) for o in outputs],
                               create_graph=True, allow_unused=True)


def test_the_unsupported_list_names_registry_ops():
    names = {op.name for op in OPS}
    assert not set(NO_DOUBLE_BACKWARD) - names, set(NO_DOUBLE_BACKWARD) - names
