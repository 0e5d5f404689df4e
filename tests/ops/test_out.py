"""``out=`` against PyTorch: the result lands in ``out`` (resized as PyTorch resizes it), with
PyTorch's dtype rules, and refuses autograd where PyTorch refuses it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import dendrite

torch = pytest.importorskip("torch")


def _inputs(lib):
    a = lib.tensor([[0.5, -1.5, 2.0], [1.0, 3.0, -0.25]], dtype=lib.float64)
    b = lib.tensor([[1.5, 2.5, -0.5], [0.75, 1.0, 2.0]], dtype=lib.float64)
    return a, b


CASES = {
    "add": lambda lib, a, b, out: lib.add(a, b, alpha=2, out=out),
    "sub": lambda lib, a, b, out: lib.sub(a, b, out=out),
    "mul": lambda lib, a, b, out: lib.mul(a, 3.0, out=out),
    "div": lambda lib, a, b, out: lib.div(a, b, out=out),
    "pow": lambda lib, a, b, out: lib.pow(b.abs(), a, out=out),
    "matmul": lambda lib, a, b, out: lib.matmul(a, b.t(), out=out),
    "mm": lambda lib, a, b, out: lib.mm(a.t(), b, out=out),
    "bmm": lambda lib, a, b, out: lib.bmm(a.reshape(1, 2, 3), b.reshape(1, 3, 2), out=out),
    "exp": lambda lib, a, b, out: lib.exp(a, out=out),
    "log": lambda lib, a, b, out: lib.log(b.abs(), out=out),
    "sqrt": lambda lib, a, b, out: lib.sqrt(b.abs(), out=out),
    "abs": lambda lib, a, b, out: lib.abs(a, out=out),
    "neg": lambda lib, a, b, out: lib.neg(a, out=out),
    "clamp": lambda lib, a, b, out: lib.clamp(a, -1.0, 1.0, out=out),
    "sum": lambda lib, a, b, out: lib.sum(a, dim=1, out=out),
    "mean": lambda lib, a, b, out: lib.mean(a, dim=0, keepdim=True, out=out),
    "cat": lambda lib, a, b, out: lib.cat([a, b], dim=1, out=out),
    "stack": lambda lib, a, b, out: lib.stack([a, b], out=out),
    "where": lambda lib, a, b, out: lib.where(a > 0, a, b, out=out),
    "maximum": lambda lib, a, b, out: lib.maximum(a, b, out=out),
    "minimum": lambda lib, a, b, out: lib.minimum(a, b, out=out),
    "tanh": lambda lib, a, b, out: lib.tanh(a, out=out),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("start", ["empty", "right shape"])
def test_out_matches_pytorch(name, start):
    results = []
    for lib in (dendrite, torch):
        a, b = _inputs(lib)
        shape = tuple(CASES[name](lib, a, b, None).shape)
        out = lib.empty(0, dtype=lib.float64) if start == "empty" else lib.empty(*shape, dtype=lib.float64)
        returned = CASES[name](lib, a, b, out)
        assert returned is out
        results.append((np.asarray(out.tolist()), tuple(out.shape)))
    (ours, our_shape), (theirs, their_shape) = results
    assert our_shape == their_shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_out_of_another_shape_is_resized_with_pytorchs_warning():
    out = dendrite.zeros(2)
    with pytest.warns(UserWarning, match=r"was resized since it had shape \[2\]"):
        dendrite.add(dendrite.ones(3), 1, out=out)
    assert out.tolist() == [2.0, 2.0, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty out is resized silently, as in PyTorch
        dendrite.add(dendrite.ones(3), 1, out=dendrite.empty(0))


def test_out_sees_views_and_counts_a_version():
    out = dendrite.zeros(2, 2)
    row = out[1]
    dendrite.mul(dendrite.ones(2, 2), 4, out=out)
    assert row.tolist() == [4.0, 4.0] and out._version == 1 and row._version == 1


def test_an_input_may_be_the_out():
    x = dendrite.tensor([1.0, 2.0])
    dendrite.add(x, x, out=x)
    assert x.tolist() == [2.0, 4.0]


def test_out_dtype_rules_match_pytorch():
    for lib in (dendrite, torch):
        out = lib.empty(3)  # float out of an integer result: fine
        lib.add(lib.tensor([1, 2, 3]), 1, out=out)
        assert out.tolist() == [2.0, 3.0, 4.0] and out.dtype == lib.float32
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            lib.add(lib.ones(3), 1.5, out=lib.empty(3, dtype=lib.int64))


@pytest.mark.parametrize("requires_grad", ["input", "out", "listed input"])
def test_out_refuses_autograd_as_pytorch_and_writes_under_no_grad(requires_grad):
    for lib in (dendrite, torch):
        x = lib.ones(3, requires_grad=requires_grad != "out")
        out = lib.zeros(3, requires_grad=requires_grad == "out")

        def call(lib=lib, x=x, out=out):
            if requires_grad == "listed input":
                return lib.cat([x[:1], x[1:]], out=out)
            return lib.add(x, 1, out=out)
        with pytest.raises(RuntimeError, match="functions with out=... arguments don't support automatic "
                                               "differentiation, but one of the arguments requires grad"):
            call()
        with lib.no_grad():
            call()
        assert out.tolist() == ([1.0, 1.0, 1.0] if requires_grad == "listed input" else [2.0, 2.0, 2.0])


def test_out_must_be_a_tensor():
    with pytest.raises(TypeError, match=r"add\(\): argument 'out' must be a Tensor, not list"):
        dendrite.add(dendrite.ones(2), 1, out=[0.0, 0.0])


def test_ops_without_out_refuse_it():
    with pytest.raises(TypeError, match="out"):
        dendrite.split(dendrite.ones(4), 2, out=dendrite.empty(0))
