"""Generic tests driven by the registry (tests/ops/registry.py), for every op and sample:

* forward against the NumPy reference;
* backward against float64 central differences (``dendrite.autograd.gradcheck``);
* forward, output dtype, ``requires_grad`` and every input gradient against PyTorch
  (float64, rtol 1e-6), and output/gradient dtypes against PyTorch in float32;
* no graph is recorded under ``no_grad``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import dendrite
from tests.ops.registry import REGISTRY, flat, present, sample_arguments

torch = pytest.importorskip("torch")

CASES = [pytest.param(op, sample, id=f"{op.name}-{sample!r}") for op in REGISTRY for sample in op.samples]
RTOL, ATOL = 1e-6, 1e-12


def make_inputs(lib, sample, dtype=np.float64) -> list:
    """The sample's arguments as ``lib`` tensors: float arrays require grad, the rest are plain."""
    inputs = []
    for array, is_float in sample_arguments(sample, dtype):
        if is_float is None:
            inputs.append(array)
            continue
        if lib is dendrite:
            if array.flags.c_contiguous:  # the everyday path: a copy of a NumPy array
                tensor = dendrite.tensor(array, requires_grad=is_float)
            else:  # from_numpy keeps the non-contiguous strides
                tensor = dendrite.from_numpy(array).requires_grad_(is_float)
        else:
            tensor = torch.from_numpy(array).requires_grad_(is_float)
        inputs.append(tensor)
    return inputs


def to_numpy(value) -> np.ndarray:
    return value.detach().numpy() if hasattr(value, "detach") else np.asarray(value)


def dtype_name(tensor) -> str:
    return str(tensor.dtype).replace("torch.", "")


def assert_values(actual, expected, what: str, rtol=RTOL, atol=ATOL) -> None:
    actual, expected = to_numpy(actual), to_numpy(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
    else:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def backward_through(outputs, lib) -> None:
    """Back-propagate a fixed random weighting of every differentiable output."""
    total = None
    for position, output in enumerate(outputs):
        if not output.requires_grad:
            continue
        weights = np.random.default_rng(position).standard_normal(tuple(output.shape))
        weight = lib.tensor(weights.astype(to_numpy(output).dtype))
        term = (output * weight).sum()
        total = term if total is None else total + term
    if total is not None:
        total.backward()


@pytest.mark.parametrize("op, sample", CASES)
def test_forward_matches_numpy(op, sample):
    if op.ref is None:
        pytest.skip("no NumPy reference")
    ours = flat(op.fn(dendrite, *make_inputs(dendrite, sample), **sample.kwargs))
    arrays = [present(a, sample.layout) if isinstance(a, np.ndarray) else a for a in sample.args]
    expected = flat(op.ref(*arrays, **sample.kwargs))
    assert len(ours) == len(expected), f"{len(ours)} outputs, reference has {len(expected)}"
    for position, (actual, wanted) in enumerate(zip(ours, expected)):
        assert_values(actual, wanted, f"{op.name} output {position}")


@pytest.mark.parametrize("op, sample", CASES)
def test_backward_matches_finite_differences(op, sample):
    if not (op.differentiable and op.gradcheck and sample.smooth):
        pytest.skip("not differentiable here (kink, tie or piecewise constant)")
    inputs = make_inputs(dendrite, sample)
    if not any(isinstance(t, dendrite.Tensor) and t.requires_grad for t in inputs):
        pytest.skip("no floating input")
    assert dendrite.autograd.gradcheck(lambda *args: op.fn(dendrite, *args, **sample.kwargs), inputs)


def _compare_with_torch(op, sample, dtype, rtol, atol) -> None:
    ours_in, theirs_in = make_inputs(dendrite, sample, dtype), make_inputs(torch, sample, dtype)
    ours = flat(op.fn(dendrite, *ours_in, **sample.kwargs))
    theirs = flat(op.torch_callable()(*theirs_in, **sample.kwargs))
    assert len(ours) == len(theirs), f"{len(ours)} outputs, PyTorch has {len(theirs)}"
    for position, (a, b) in enumerate(zip(ours, theirs)):
        assert dtype_name(a) == dtype_name(b), f"output {position}: dtype {a.dtype}, PyTorch {b.dtype}"
        assert_values(a, b, f"{op.name} output {position}", rtol, atol)
        if op.differentiable:
            assert a.requires_grad == b.requires_grad, f"output {position}: requires_grad {a.requires_grad}"
    if not op.differentiable:
        return
    backward_through(ours, dendrite)
    backward_through(theirs, torch)
    for position, (a, b) in enumerate(zip(ours_in, theirs_in)):
        if not isinstance(b, torch.Tensor) or not b.requires_grad:
            continue
        if b.grad is None:
            assert a.grad is None or not to_numpy(a.grad).any(), f"input {position}: PyTorch has no gradient"
            continue
        assert a.grad is not None, f"input {position} got no gradient"
        assert dtype_name(a.grad) == dtype_name(b.grad), f"gradient {position}: dtype {a.grad.dtype}"
        assert_values(a.grad, b.grad, f"{op.name} gradient of input {position}", rtol, atol)


@pytest.mark.parametrize("op, sample", CASES)
def test_matches_pytorch_float64(op, sample):
    _compare_with_torch(op, sample, np.float64, RTOL, ATOL)


@pytest.mark.parametrize("op, sample", CASES)
def test_matches_pytorch_float32(op, sample):
    # float32 checks the dtypes (outputs and gradients stay float32); values only to float32 precision.
    _compare_with_torch(op, sample, np.float32, 2e-5, 1e-5)


@pytest.mark.parametrize("op, sample", CASES)
def test_no_graph_under_no_grad(op, sample):
    with dendrite.no_grad():
        outputs = flat(op.fn(dendrite, *make_inputs(dendrite, sample), **sample.kwargs))
    assert not any(output.requires_grad or output.grad_fn is not None for output in outputs)


# Public operations the registry does not exercise, each with the reason.
NOT_IN_REGISTRY = {
    "equal": "returns a Python bool (tests/test_tensor.py)",
    "allclose": "returns a Python bool (tests/test_tensor.py)",
    "isclose": "a tolerance test (tests/test_tensor.py)",
    "concat": "alias of cat",
    "concatenate": "alias of cat",
    "true_divide": "alias of div",
    "clip": "alias of clamp",
    "swapaxes": "alias of transpose",
    "swapdims": "alias of transpose",
    "moveaxis": "alias of movedim",
    "adjoint": "same as .mT",
    "view_as": "reshape to another tensor's shape",
    "reshape_as": "reshape to another tensor's shape",
    "fliplr": "flip(x, 1)",
    "flipud": "flip(x, 0)",
    "var_mean": "var and mean (std_mean is tested)",
    "kthvalue": "used by median",
    "nonzero": "integer output (tests/ops/test_op_extras.py)",
    "scatter": "tested as scatter_value (x.scatter(...))",
    "bitwise_and": "the & operator (compare_operators)",
    "bitwise_or": "the | operator (compare_operators)",
    "bitwise_xor": "the ^ operator (compare_operators)",
    "bitwise_not": "the ~ operator (compare_operators)",
    "sub": "the - operator and sub_function_alpha",
    "mul": "the * operator",
    "pow": "the ** operator and pow_number_exponent",
    "remainder": "the % operator",
    "floor_divide": "the // operator",
    "neg": "the unary - operator",
    "sgn": "sign for real tensors (test_edge_semantics.py; PyTorch's sgn gradient is a ZeroTensor)",
}


def test_every_public_operation_is_in_the_registry():
    source = "\n".join(path.read_text() for path in Path(__file__).parent.glob("registry_*.py"))
    used = set(re.findall(r"[\w.]+\.(\w+)\(|\.(\w+)\b", source))
    used = {name for pair in used for name in pair if name}
    used |= {op.name for op in REGISTRY}
    missing = [name for name in dendrite.ops.__all__ if name not in used and name not in NOT_IN_REGISTRY]
    assert not missing, f"public operations with no registry entry: {missing}"
