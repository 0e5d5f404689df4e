"""The op boundary (ops/boundary.py): awkward arguments get PyTorch's answer or a clear error.

The table is scripts/probe_args.py: every public function of ``dendrite.ops`` and
``dendrite.nn.functional`` that PyTorch also has, called with non-tensors in each
tensor position, 0-d tensors with dims 0/-1/1/-2, empty tensors and int/bool inputs,
and compared with PyTorch (both succeed with equal values, or both raise).
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F

_spec = importlib.util.spec_from_file_location(
    "probe_args", Path(__file__).resolve().parents[2] / "scripts" / "probe_args.py"
)
probe_args = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe_args)

# Cases still apart from PyTorch, each with its reason; the test fails if one is fixed
# (remove it here) or a new one appears.
KNOWN = {
    # PyTorch's Python-level composition accepts a number target; dendrite asks for a tensor
    ("multilabel_soft_margin_loss", "target=float"),
    # PyTorch accepts adjoint() of a 0-d tensor only with a deprecation warning
    ("adjoint", "0-d"),
}

FUNCTIONS = probe_args.public_functions()


@pytest.mark.parametrize("name, d_fn, t_fn", FUNCTIONS, ids=[name for name, _, _ in FUNCTIONS])
def test_awkward_arguments_behave_as_pytorch(name, d_fn, t_fn):
    rng = np.random.default_rng(0)
    results = probe_args.probe_function(name, d_fn, t_fn, rng)
    leaked = [r for r in results if r[0] == "leaked" and (r[1], r[2]) not in KNOWN]
    apart = [r for r in results if r[0] == "parity" and (r[1], r[2]) not in KNOWN]
    assert not leaked, f"errors from the internals: {leaked}"
    assert not apart, f"succeed/raise or values apart from PyTorch: {apart}"


def test_known_differences_are_still_there():
    known_names = {name for name, _ in KNOWN}
    rng = np.random.default_rng(0)
    found = {(r[1], r[2]) for name, d_fn, t_fn in FUNCTIONS if name in known_names
             for r in probe_args.probe_function(name, d_fn, t_fn, rng) if r[0] != "ok"}
    assert found == KNOWN, f"fixed (remove from KNOWN): {KNOWN - found}"


@pytest.mark.parametrize("value, type_name", [([1.0], "list"), ((1.0,), "tuple"), (None, "NoneType"),
                                              ("a", "str"), (np.ones(2), "ndarray")])
def test_a_non_tensor_is_refused_naming_the_op_and_the_argument(value, type_name):
    with pytest.raises(TypeError, match=rf"^exp\(\): argument 'input' must be a Tensor, not {type_name}"):
        dendrite.exp(value)
    target_message = rf"^mse_loss\(\): argument 'target' must be a Tensor, not {type_name}"
    with pytest.raises(TypeError, match=target_message):
        F.mse_loss(dendrite.ones(2), value)
    with pytest.raises(TypeError, match=r"^matmul\(\): argument 'other'"):
        dendrite.matmul(dendrite.ones(2, 2), value)
    with pytest.raises(TypeError, match=r"^exp\(\): argument 'input'"):
        dendrite.exp(input=value)


def test_the_boundary_keeps_numbers_where_pytorch_takes_them_and_tensor_methods_checked():
    x = dendrite.tensor([1.0, 2.0])
    assert dendrite.add(x, 1).tolist() == [2.0, 3.0]
    assert (x * 2.0).tolist() == [2.0, 4.0]
    with pytest.raises(TypeError, match=r"^clamp_min\(\): an operand must be a Tensor or a number, not str"):
        x.clamp_min("a")
    with pytest.raises(TypeError, match=r"^add\(\): an operand must be a Tensor or a number, not list"):
        x + [1.0]
    assert dendrite.exp.__wrapped__ is dendrite.ops.math.exp  # engine code calls the unchecked function
    assert dendrite.Tensor.exp is dendrite.exp


# Found by tests/fuzz: these take a number where PyTorch refuses one (input / other / both).
@pytest.mark.parametrize("name, number_input, number_other", [
    ("atan2", True, True), ("maximum", True, True), ("minimum", True, True),
    ("logical_and", True, True), ("logical_or", True, True), ("logical_xor", True, True),
    ("logaddexp", False, True), ("hypot", False, True), ("fmod", True, False),
    ("eq", True, False), ("ne", True, False), ("lt", True, False), ("le", True, False),
    ("gt", True, False), ("ge", True, False),
])
def test_binary_functions_refuse_numbers_where_pytorch_does(name, number_input, number_other):
    x = dendrite.tensor([1.0, -2.0])
    for refused, args, argument in [(number_input, (1.5, x), "input"), (number_other, (x, 1.5), "other")]:
        if refused:
            with pytest.raises(TypeError):
                getattr(torch, name)(*[torch.tensor(a.tolist()) if isinstance(a, dendrite.Tensor) else a
                                       for a in args])
            message = rf"^{name}\(\): argument '{argument}' must be a Tensor, not float"
            with pytest.raises(TypeError, match=message):
                getattr(dendrite, name)(*args)


def test_dtype_kinds_follow_pytorch():
    with pytest.raises(NotImplementedError, match=r"^elu: not implemented for int64"):
        F.elu(dendrite.tensor([1, 2]))
    with pytest.raises(NotImplementedError, match=r"^abs: not implemented for bool"):
        dendrite.tensor([True]).abs()
    assert dendrite.exp(dendrite.tensor([0, 1])).dtype == dendrite.float32  # exp promotes, as PyTorch
    assert dendrite.abs(dendrite.tensor([-1])).tolist() == [1]


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "std", "var", "prod", "logsumexp", "softmax", "cumsum",
                                "cumprod"])
@pytest.mark.parametrize("dim", [0, -1, 1, -2])
def test_dims_of_a_0d_tensor_follow_pytorch(op, dim):
    args = {"softmax": (dim,), "logsumexp": (dim,)}.get(op, (dim,))
    x = torch.tensor(1.5, dtype=torch.float64)
    try:
        expected = getattr(torch, op)(x, *args)
    except IndexError:
        with pytest.raises(IndexError, match=rf"^{op}\(\): Dimension out of range"):  # the op is named
            getattr(dendrite, op)(dendrite.tensor(1.5, dtype=dendrite.float64), *args)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = getattr(dendrite, op)(dendrite.tensor(1.5, dtype=dendrite.float64), *args)
    np.testing.assert_allclose(got.numpy(), expected.numpy())


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_var_std_of_one_element_are_nan_forward_and_backward(op, dtype):
    x = dendrite.tensor([[1.5], [2.5]], dtype=getattr(dendrite, dtype), requires_grad=True)
    t = torch.tensor([[1.5], [2.5]], dtype=getattr(torch, dtype), requires_grad=True)
    y = getattr(dendrite, op)(x, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(torch, op)(t, 1)
    y.sum().backward()
    expected.sum().backward()
    assert np.isnan(y.detach().numpy()).all() and np.isnan(expected.detach().numpy()).all()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())  # NaN, as PyTorch
    assert x.grad.dtype == x.dtype


@pytest.mark.parametrize("shape, dim", [((2, 0), 1), ((0, 3), 1), ((0,), 0), ((2, 0, 3), 1)])
@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_over_empty_dims_as_pytorch(op, shape, dim):
    x = dendrite.ones(*shape, requires_grad=True)
    t = torch.ones(*shape, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero warning from the empty slices either
        y = getattr(dendrite, op)(x, dim)
        y.sum().backward()
    expected = getattr(torch, op)(t, dim)
    expected.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), expected.detach().numpy())  # logsumexp: -inf
    assert x.grad.shape == tuple(t.grad.shape)
    assert F.softmin(dendrite.ones(*shape), dim).shape == tuple(TF.softmin(t, dim).shape)


@pytest.mark.parametrize("args, error, message", [
    ((-1,), RuntimeError, r"^eye: n must be greater or equal to 0, got -1"),
    ((2, -3), RuntimeError, r"^eye: m must be greater or equal to 0, got -3"),
    ((2.5,), TypeError, r"^eye\(\): argument 'n' must be an int, not float"),
    ((None,), TypeError, r"^eye\(\): argument 'n' must be an int, not NoneType"),
])
def test_eye_checks_its_sizes(args, error, message):
    with pytest.raises(error, match=message):
        dendrite.eye(*args)
    with pytest.raises(error):
        torch.eye(*args)


def test_eye_of_zero_size():
    assert dendrite.eye(0).shape == (0, 0) and dendrite.eye(2, 0).shape == (2, 0)


def test_flip_of_a_0d_tensor_as_pytorch():
    x = dendrite.tensor(1.5, requires_grad=True)
    y = dendrite.flip(x, [0])
    y.backward()
    assert y.item() == 1.5 and x.grad.item() == 1.0
    assert dendrite.flip(x, -1).item() == 1.5
    with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
        dendrite.flip(x, [1])
    with pytest.raises(RuntimeError, match=r"^flipud: input must be at least 1-d"):
        dendrite.flipud(x)
    with pytest.raises(RuntimeError, match=r"^fliplr: input must be at least 2-d"):
        dendrite.fliplr(dendrite.ones(2))


def _both(call):
    """Run ``call(lib, F)`` with dendrite and torch: ('ok', shape) or the exception type."""
    outcomes = []
    for lib, functional in ((dendrite, F), (torch, TF)):
        try:
            outcomes.append(("ok", tuple(call(lib, functional).shape)))
        except (RuntimeError, ValueError, IndexError) as error:
            outcomes.append((type(error).__name__, str(error)))
    return outcomes


@pytest.mark.parametrize("a, b, t", [
    ((2, 3), (2, 3), (2,)), ((3,), (3,), ()),  # valid
    ((2, 3), (2, 3), (3,)), ((2, 3), (2, 4), (2,)), ((2, 3), (3, 3), (2,)), ((3,), (3,), (1,)),
    ((2, 3), (2, 3), ()), ((2, 3), (3,), (2,)), ((2, 3, 4), (2, 3, 4), (2,)), ((2, 3), (2, 3), (2, 1)),
    ((3,), (3,), (3,)),
])
def test_cosine_embedding_loss_checks_shapes_as_pytorch(a, b, t):
    (ours, ours_detail), (theirs, _) = _both(lambda lib, functional: functional.cosine_embedding_loss(
        lib.ones(*a), lib.ones(*b) * 2, lib.ones(*t) if t else lib.tensor(1.0)))
    assert ours == theirs
    if ours != "ok":
        assert ours_detail.startswith("cosine_embedding_loss:")


@pytest.mark.parametrize("input_shape, target", [
    ((2, 3), [0, 2]), ((3,), 1), ((3,), [1]), ((0, 3), []),  # valid
    ((2, 3), [0, 1, 2]), ((2, 3), [[0], [1]]), ((3,), [0, 1]), ((2, 3, 4), [0, 1]), ((2, 0), [0, 0]),
    ((2, 3), [0, 3]), ((2, 3), [-1, 0]),
])
def test_multi_margin_loss_checks_shapes_and_targets_as_pytorch(input_shape, target):
    (ours, detail), (theirs, _) = _both(lambda lib, functional: functional.multi_margin_loss(
        lib.ones(*input_shape), lib.tensor(target, dtype=lib.int64)))
    assert ours == theirs
    if ours != "ok":
        assert detail.startswith("multi_margin_loss:")


def test_multi_margin_loss_checks_target_dtype_and_weight_size():
    with pytest.raises(RuntimeError, match=r"^multi_margin_loss: target must hold class indices"):
        F.multi_margin_loss(dendrite.ones(2, 3), dendrite.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match=r"^multi_margin_loss: inconsistent weight size, expected 3"):
        F.multi_margin_loss(dendrite.ones(2, 3), dendrite.tensor([0, 1]), weight=dendrite.ones(2))
    with pytest.raises(RuntimeError):
        TF.multi_margin_loss(torch.ones(2, 3), torch.tensor([0, 1]), weight=torch.ones(2))


def test_triplet_margin_loss_needs_inputs_of_one_rank():
    with pytest.raises(RuntimeError, match=r"^triplet_margin_loss: anchor, positive and negative"):
        F.triplet_margin_loss(dendrite.ones(2, 3), dendrite.ones(2, 3), dendrite.ones(3))
    with pytest.raises(RuntimeError):
        TF.triplet_margin_loss(torch.ones(2, 3), torch.ones(2, 3), torch.ones(3))


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"])
@pytest.mark.parametrize("value", [[1.0], None, np.ones(2), 1.5])
def test_like_creation_refuses_non_tensors_as_pytorch(name, value):
    with pytest.raises(TypeError, match=rf"^{name}\(\): argument 'input' must be a Tensor"):
        getattr(dendrite, name)(value)
    with pytest.raises(TypeError):
        getattr(torch, name)(value)


def test_randperm_checks_n():
    with pytest.raises(TypeError, match=r"^randperm\(\): argument 'n' must be an int, not float"):
        dendrite.randperm(2.5)
    with pytest.raises(RuntimeError, match=r"^randperm: n must be non-negative, got -1"):
        dendrite.randperm(-1)
    assert sorted(dendrite.randperm(4).tolist()) == [0, 1, 2, 3]
