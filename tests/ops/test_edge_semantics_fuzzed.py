"""Regression tests for what the differential fuzzer (tests/fuzz/) found, each checked against PyTorch CPU
on the exact input that showed it (deterministic; the fuzzer draws new cases, these keep the old ones)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import dendrite
import dendrite.nn.functional


def _both(fn, *arrays, grad=True):
    """``fn`` on dendrite and torch tensors made from ``arrays``: (ours, theirs, our inputs, their inputs)."""
    ours_in = [dendrite.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    return fn(dendrite, *ours_in), fn(torch, *theirs_in), ours_in, theirs_in


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dim", [None, 0])
def test_float32_moments_accumulate_in_float64_as_pytorch(name, dim):
    # PyTorch's CPU var/std of float32 accumulate in float64: std of values near 1e30 is finite (8e29)
    # even though the squares overflow float32; var itself is beyond float32 and is inf in both
    x = np.array([1e30, -1e30, 0.5, 2.0], np.float32)
    ours, theirs, ours_in, theirs_in = _both(lambda m, t: getattr(m, name)(t, dim=dim), x)
    assert ours.dtype == dendrite.float32
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(ours_in[0].grad.numpy(), theirs_in[0].grad.numpy(), rtol=1e-5)



def test_einsum_contracts_left_to_right_as_pytorch():
    # ((a, b), c) as PyTorch: a @ b is finite, then the -inf of c gives -inf or inf; NumPy's optimized
    # path contracted (b, c) first, where the -inf meets terms of both signs: NaN
    a = np.array([0.25648564, -0.09482834, -0.25884807], np.float32)
    b = np.array([[1.0557429, -2.2508543, -0.13865532, 0.0330001],
                  [-1.425349, 0.33281362, -0.651281, 0.8624448],
                  [-0.12559208, 0.6691532, 1.2188436, 0.3829296]], np.float32)
    c = np.array([-0.87572116, -1.5143186, 1.7533841, -np.inf], np.float32)
    ours, theirs, _, _ = _both(lambda m, *t: m.einsum("i,ij,j->", *t), a, b, c, grad=False)
    assert np.isinf(theirs.numpy())
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("value", [-1.0, 0.0, 0.5, float("inf"), float("nan")])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_kl_div_target_gradient_over_an_empty_broadcast_is_pytorchs_xlogy(value, reduction):
    # PyTorch differentiates xlogy(t, t) with xlogy(g, t): 0 where the summed gradient g is 0 (an empty
    # input) even where log t is NaN (t < 0) or inf; NaN at t = 0 (from t / t) and at t = NaN
    grads = []
    for lib, fn in ((dendrite, dendrite.nn.functional.kl_div), (torch, torch.nn.functional.kl_div)):
        x = lib.zeros(0, dtype=lib.float32, requires_grad=True)
        t = lib.tensor(value, dtype=lib.float32, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kl_div's 'mean' warning
            fn(x, t, reduction=reduction).backward()
        grads.append(float(t.grad.item()))
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("name", ["kl_div", "mse_loss", "l1_loss", "huber_loss"])
def test_loss_broadcast_errors_name_the_input_and_the_target(name):
    fn = getattr(dendrite.nn.functional, name)
    message = rf"{name}: input of shape \(2,\) and target of shape \(3,\) cannot be broadcast together"
    with pytest.raises(RuntimeError, match=message), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the size-mismatch warning PyTorch gives too
        fn(dendrite.zeros(2), dendrite.zeros(3), reduction="sum")
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, name)(torch.zeros(2), torch.zeros(3), reduction="sum")


@pytest.mark.parametrize("target", [np.array([1, 0]), np.array([True, False])])
def test_kl_div_refuses_integral_inputs_as_pytorch(target):
    x = np.array([-0.5, -1.0], np.float32)
    with pytest.raises(RuntimeError, match="Integral inputs not supported"):
        torch.nn.functional.kl_div(torch.tensor(x), torch.tensor(target), reduction="sum")
    with pytest.raises(RuntimeError, match="kl_div: integral inputs are not supported"):
        dendrite.nn.functional.kl_div(dendrite.tensor(x), dendrite.tensor(target), reduction="sum")
    with pytest.raises(RuntimeError, match="kl_div: integral inputs are not supported"):
        dendrite.nn.functional.kl_div(dendrite.tensor(target), dendrite.tensor(x), reduction="sum")


@pytest.mark.parametrize("condition", [[True, False], (True, False), 1])
def test_where_refuses_a_condition_that_is_not_a_tensor_as_pytorch(condition):
    with pytest.raises(TypeError):
        torch.where(condition, torch.zeros(2), torch.ones(2))
    with pytest.raises(TypeError, match="where: condition must be a bool tensor, got"):
        dendrite.where(condition, dendrite.zeros(2), dendrite.ones(2))


@pytest.mark.parametrize("name", ["conv1d", "conv_transpose1d"])
@pytest.mark.parametrize("weight_shape", [(0, 2, 2), (2, 0, 2), (2, 2, 0), (2, 2, 2)])
def test_conv_refuses_empty_weights_as_pytorch(name, weight_shape):
    # an empty weight (no output channel, no input channel for a transposed conv, a 0-wide kernel) is
    # refused by PyTorch; dendrite reshaped it into a NumPy ValueError or returned an empty result
    outcomes = []
    for lib in (dendrite, torch):
        try:
            out = getattr(lib.nn.functional, name)(lib.zeros(1, 2, 5), lib.zeros(*weight_shape))
            outcomes.append(tuple(out.shape))
        except RuntimeError as error:
            outcomes.append("refused")
            assert lib is torch or name in str(error), error
    assert outcomes[0] == outcomes[1]


NORMS = {
    "layer_norm": lambda m, x, w: m.nn.functional.layer_norm(x, (3,), w),
    "batch_norm": lambda m, x, w: m.nn.functional.batch_norm(x, None, None, w, training=True),
    "group_norm": lambda m, x, w: m.nn.functional.group_norm(x, 1, w),
    "instance_norm": lambda m, x, w: m.nn.functional.instance_norm(x, weight=w),
}


@pytest.mark.parametrize("name", sorted(NORMS))
@pytest.mark.parametrize("x_dtype, w_dtype", [("float32", "float64"), ("float64", "float32"),
                                              ("int64", "float32"), ("float32", "float32")])
def test_norms_refuse_integer_inputs_and_mixed_dtypes_as_pytorch(name, x_dtype, w_dtype):
    # PyTorch refuses them ("mixed dtype (CPU)", "not implemented for 'Long'"); dendrite promoted them
    x, w = np.ones((2, 3, 3), x_dtype), np.ones(3, w_dtype)
    outcomes = []
    for lib in (dendrite, torch):
        try:
            outcomes.append(str(NORMS[name](lib, lib.tensor(x), lib.tensor(w)).dtype).replace("torch.", ""))
        except (RuntimeError, NotImplementedError) as error:
            outcomes.append("refused")
            assert lib is torch or name in str(error), error
    assert outcomes[0] == outcomes[1]


POOLS = {
    "max_pool1d": lambda m, x: m.nn.functional.max_pool1d(x, 2),
    "max_pool1d_with_indices": lambda m, x: m.nn.functional.max_pool1d(x, 2, return_indices=True)[0],
    "max_pool2d": lambda m, x: m.nn.functional.max_pool2d(x[None], 2),
    "adaptive_max_pool1d": lambda m, x: m.nn.functional.adaptive_max_pool1d(x, 2),
    "adaptive_max_pool2d": lambda m, x: m.nn.functional.adaptive_max_pool2d(x[None], 2),
}


@pytest.mark.parametrize("name", sorted(POOLS))
@pytest.mark.parametrize("dtype", ["int64", "bool", "float32"])
def test_max_pooling_dtypes_as_pytorch(name, dtype):
    # PyTorch's max pooling takes no bool, and its max_pool1d and adaptive max pooling no integers
    x = np.arange(8).reshape(1, 2, 4).astype(dtype)
    outcomes = []
    for lib in (dendrite, torch):
        try:
            outcomes.append(str(POOLS[name](lib, lib.tensor(x)).dtype).replace("torch.", ""))
        except NotImplementedError as error:
            outcomes.append("refused")
            assert lib is torch or name.replace("_with_indices", "") in str(error), error
    assert outcomes[0] == outcomes[1]


LOSSES = ["binary_cross_entropy_with_logits", "binary_cross_entropy", "mse_loss", "l1_loss", "smooth_l1_loss",
          "huber_loss", "soft_margin_loss", "kl_div"]


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("x_dtype, t_dtype", [("int64", "float32"), ("bool", "float32"), ("float32", "int64"),
                                              ("float32", "bool"), ("float64", "float32"),
                                              ("float32", "float64")])
def test_loss_dtype_rules_as_pytorch(name, x_dtype, t_dtype):
    # which losses refuse integer/bool operands, and the dtype of a mixed float32/float64 loss
    # (binary_cross_entropy_with_logits: the target's; huber and soft margin: the input's; else promoted)
    rng = np.random.default_rng(0)
    x, t = rng.random((2, 3)).astype(x_dtype), rng.random((2, 3)).astype(t_dtype)
    outcomes = []
    for lib in (dendrite, torch):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                loss = getattr(lib.nn.functional, name)(lib.tensor(x), lib.tensor(t))
            outcomes.append(str(loss.dtype).replace("torch.", ""))
        except (RuntimeError, NotImplementedError):
            outcomes.append("refused")
    assert outcomes[0] == outcomes[1]


LAYERS = {
    "Linear": lambda m: m.nn.Linear(3, 2), "Conv1d": lambda m: m.nn.Conv1d(2, 3, 2),
    "LayerNorm": lambda m: m.nn.LayerNorm(3), "BatchNorm1d": lambda m: m.nn.BatchNorm1d(3),
    "Embedding": lambda m: m.nn.Embedding(3, 2), "MaxPool1d": lambda m: m.nn.MaxPool1d(2),
    "Flatten": lambda m: m.nn.Flatten(), "MSELoss": lambda m: m.nn.MSELoss(),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("value", [[1.0, 2.0, 3.0], None, "abc", 2.0])
def test_layers_refuse_a_non_tensor_input_naming_the_layer(name, value):
    # the layers read their input (shape, dtype) before the functional form's boundary: a list gave
    # "AttributeError: 'list' object has no attribute 'ndim'"; PyTorch refuses with a TypeError
    args = (value,) if name != "MSELoss" else (value, dendrite.zeros(3))
    with pytest.raises(TypeError, match=rf"{name}\(\): argument 'input' must be a Tensor"):
        LAYERS[name](dendrite)(*args)


def test_gaussian_nll_loss_var_may_be_a_number_not_a_list():
    nll = dendrite.nn.GaussianNLLLoss()
    assert nll(dendrite.zeros(2), dendrite.zeros(2), 1.0).item() == 0.0
    with pytest.raises(TypeError, match=r"gaussian_nll_loss\(\): argument 'var' must be a Tensor or"):
        nll(dendrite.zeros(2), dendrite.zeros(2), [1.0, 2.0])


@pytest.mark.parametrize("weight", [0.25, 0.75, 1.0, np.array([0.25, 1.0, 0.75], np.float32)])
def test_lerp_interpolates_from_the_nearer_end_as_pytorch(weight):
    # PyTorch: start + w (end - start) for |w| < 0.5, else end - (end - start)(1 - w): exact at w = 1,
    # and an inf at one end leaves the other's value alone (the one-sided form gave NaN: inf * 0)
    start = np.array([np.inf, 1.0, 2.0], np.float32)
    end = np.array([3.0, -np.inf, 1e30], np.float32)
    ours = dendrite.lerp(dendrite.tensor(start), dendrite.tensor(end),
                         dendrite.tensor(weight) if isinstance(weight, np.ndarray) else weight)
    theirs = torch.lerp(torch.tensor(start), torch.tensor(end),
                        torch.tensor(weight) if isinstance(weight, np.ndarray) else weight)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = np.array([0.1, 0.7, 0.3], np.float32)
    ours, theirs, ours_in, theirs_in = _both(lambda m, a, b: m.lerp(a, b, 0.75), x, x[::-1].copy())
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ours_in[0].grad.numpy(), theirs_in[0].grad.numpy())


def test_bilinear_contracts_input1_with_the_weight_first_as_pytorch():
    # x1 · W first (PyTorch's _trilinear): [inf, -inf, inf, inf], then with x2: NaN. W x2 first gave
    # [3, 5, 5], then inf: the same inputs, another answer
    x1 = np.array([[np.inf, 1.0, 1.0]], np.float32)
    x2 = np.array([[2.0, 1.0, 1.0, 1.0]], np.float32)
    w = np.ones((1, 3, 4), np.float32)  # (out, in1, in2)
    w[0, 0, 1] = -1.0
    ours, theirs, _, _ = _both(lambda m, a, b, c: m.nn.functional.bilinear(a, b, c), x1, x2, w, grad=False)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("index, source", [([0], 2.0), (0, 2.0), ([0, 0], 2.0), ([0], [2.0]), ([1], 2.0)])
def test_index_add_into_a_zero_d_input_as_pytorch(index, source):
    # PyTorch reads a 0-d input as one element: one index (0 or [0]) and a 0-d source; others refused
    outcomes = []
    for lib in (dendrite, torch):
        try:
            out = lib.tensor(1.0).index_add(0, lib.tensor(index), lib.tensor(source), alpha=2)
            outcomes.append((tuple(out.shape), out.item()))
        except (RuntimeError, IndexError):
            outcomes.append("refused")
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("shape, index, dim", [((), [1], 0), ((), 0, 0), ((2,), [[0]], 0), ((2,), [], 0),
                                               ((2,), [-1], 0), ((1, 2), [[0], [1]], -1),
                                               ((2, 3), [[0, 1]], 0), ((2, 3), [[0, 1]], -1)])
def test_take_along_dim_edges_as_pytorch(shape, index, dim):
    # ranks must match, a 0-d input has no dim, -1 is the last, shapes broadcast outside dim
    x = np.arange(float(np.prod(shape))).reshape(shape)
    outcomes = []
    for lib in (dendrite, torch):
        try:
            out = lib.take_along_dim(lib.tensor(x), lib.tensor(np.array(index, np.int64)), dim)
            outcomes.append((tuple(out.shape), out.tolist()))
        except (RuntimeError, IndexError) as error:
            outcomes.append("refused")
            assert lib is torch or "take_along_dim" in str(error), error
    assert outcomes[0] == outcomes[1]


def test_take_along_dim_refuses_what_pytorch_wraps_modulo():
    # PyTorch answers index 2 of a size-2 dim with element 0 (modulo); dendrite refuses it
    assert torch.take_along_dim(torch.tensor([5.0, 6.0]), torch.tensor([2]), 0).tolist() == [5.0]
    with pytest.raises(IndexError, match="take_along_dim: index out of range"):
        dendrite.take_along_dim(dendrite.tensor([5.0, 6.0]), dendrite.tensor([2]), 0)


def test_cumprod_gradient_over_one_factor_is_the_gradient_as_pytorch():
    # g * x / x lost g where g * x underflows (x = 1e-45 in float32): PyTorch returns g itself
    x = np.array([[1e-45, 2.0]], np.float32)
    ours, theirs, ours_in, theirs_in = _both(lambda m, t: m.cumprod(t, 0), x)
    weights = np.array([[0.3, 0.5]], np.float32)
    ours.backward(dendrite.tensor(weights))
    theirs.backward(torch.tensor(weights))
    np.testing.assert_array_equal(ours_in[0].grad.numpy(), theirs_in[0].grad.numpy())
