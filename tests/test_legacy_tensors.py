"""FloatTensor, LongTensor...: PyTorch's legacy constructors, both forms, and their isinstance checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite

NAMES = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
         "ByteTensor", "BoolTensor"]


def _same(ours, theirs):
    assert isinstance(ours, dendrite.Tensor) and type(ours) is dendrite.Tensor
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    assert ours.shape == tuple(theirs.shape)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("args", [([1, 0, 2],), ([[1.7, -2.0], [3.0, 0.5]],), ((2, 3),), (np.array([1, 2]),)],
                         ids=["ints", "floats", "tuple-is-data", "numpy"])
def test_data_form_matches_torch(name, args):
    if name == "ByteTensor" and np.min(np.asarray(args[0])) < 0:  # -2.0 does not fit uint8: both refuse
        with pytest.raises(RuntimeError):
            torch.ByteTensor(*args)
        with pytest.raises(RuntimeError, match="ByteTensor: value cannot be converted to type uint8"):
            dendrite.ByteTensor(*args)
        return
    ours, theirs = getattr(dendrite, name)(*args), getattr(torch, name)(*args)
    _same(ours, theirs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("sizes", [(2, 3), (4,), (0,), ()])
def test_shape_form_matches_torch(name, sizes):
    _same(getattr(dendrite, name)(*sizes), getattr(torch, name)(*sizes))


@pytest.mark.parametrize("name", NAMES)
def test_isinstance_asks_the_dtype_as_torch(name):
    for dtype in ("float32", "float64", "int64", "int32", "uint8", "bool"):
        ours = isinstance(dendrite.zeros(2, dtype=getattr(dendrite, dtype)), getattr(dendrite, name))
        theirs = isinstance(torch.zeros(2, dtype=getattr(torch, dtype)), getattr(torch, name))
        assert ours == theirs, (name, dtype)
    assert not isinstance(np.zeros(2, np.float32), getattr(dendrite, name))


def test_precision_is_kept_and_a_tensor_of_the_right_dtype_passes_through():
    assert dendrite.DoubleTensor([0.1]).item() == 0.1  # no float32 detour
    x = dendrite.zeros(2)
    assert dendrite.FloatTensor(x) is x
    assert dendrite.FloatTensor(2, 3, device="cpu").shape == (2, 3)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda lib: lib.ByteTensor([1, 300]), RuntimeError, "without overflow"),
    (lambda lib: lib.FloatTensor(lib.zeros(2, dtype=lib.int64)), TypeError, "expected a tensor of dtype"),
    (lambda lib: lib.FloatTensor(2.5), TypeError, "data must be a sequence"),
    (lambda lib: lib.FloatTensor("a"), TypeError, "data must be a sequence"),
    (lambda lib: lib.FloatTensor(-1), RuntimeError, "negative dimension"),
    (lambda lib: lib.FloatTensor([[1, 2], [3]]), ValueError, "could not make a tensor"),
    (lambda lib: lib.FloatTensor(2, device="cuda"), (RuntimeError, AssertionError), "CUDA is not available"),
])
def test_bad_input_fails_as_in_torch(call, error, pattern):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match=pattern):
        call(dendrite)
