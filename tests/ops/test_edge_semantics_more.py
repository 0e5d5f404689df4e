"""Indexing edge cases against PyTorch: 0-d inputs (one element, dim in [-1, 0]) and empty indices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite

INPUTS = [np.array(5.0), np.zeros((0,)), np.zeros((2, 0)), np.arange(3.0), np.arange(6.0).reshape(2, 3)]
SELECT_INDICES = [np.array([], np.int64), np.array([0]), np.array(0), np.array([-1]), np.array([1])]
GATHER_INDICES = [np.zeros((), np.int64), np.zeros((0,), np.int64), np.zeros((1,), np.int64),
                  np.zeros((2,), np.int64), np.zeros((0, 0), np.int64), np.zeros((1, 1), np.int64),
                  np.zeros((2, 0), np.int64)]


def _outcome(fn):
    try:
        out = fn()
    except Exception as error:  # noqa: BLE001 - the kind of error is what is compared
        return "error", error
    return "ok", np.asarray(out.detach().numpy() if isinstance(out, torch.Tensor) else out.array)


def _same(ours, theirs):
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "ok":
        assert ours[1].shape == theirs[1].shape and ours[1].dtype == theirs[1].dtype
        np.testing.assert_array_equal(ours[1], theirs[1])
    else:
        assert isinstance(ours[1], type(theirs[1])), (ours, theirs)


@pytest.mark.parametrize("x", INPUTS, ids=lambda a: str(a.shape))
@pytest.mark.parametrize("dim", [-2, -1, 0, 1])
@pytest.mark.parametrize("index", SELECT_INDICES, ids=lambda a: str(a.tolist()))
def test_index_select_edges(x, dim, index):
    _same(_outcome(lambda: dendrite.index_select(dendrite.tensor(x), dim, dendrite.tensor(index))),
          _outcome(lambda: torch.index_select(torch.tensor(x), dim, torch.tensor(index))))


@pytest.mark.parametrize("x", INPUTS, ids=lambda a: str(a.shape))
@pytest.mark.parametrize("dim", [-2, -1, 0, 1])
@pytest.mark.parametrize("index", GATHER_INDICES, ids=lambda a: str(a.shape))
def test_gather_edges(x, dim, index):
    _same(_outcome(lambda: dendrite.gather(dendrite.tensor(x), dim, dendrite.tensor(index))),
          _outcome(lambda: torch.gather(torch.tensor(x), dim, torch.tensor(index))))


@pytest.mark.parametrize("x", INPUTS, ids=lambda a: str(a.shape))
@pytest.mark.parametrize("index", GATHER_INDICES, ids=lambda a: str(a.shape))
def test_take_edges(x, index):
    _same(_outcome(lambda: dendrite.take(dendrite.tensor(x), dendrite.tensor(index))),
          _outcome(lambda: torch.take(torch.tensor(x), torch.tensor(index))))


def test_zero_d_gather_and_index_select_gradients():
    for name, call in (("gather", lambda m, x: m.gather(x, 0, m.tensor([0, 0]))),
                       ("index_select", lambda m, x: m.index_select(x, -1, m.tensor([0])))):
        grads = []
        for lib in (dendrite, torch):
            x = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
            out = call(lib, x)
            (out * 3).sum().backward()
            grads.append(float(x.grad.item()))
        assert grads[0] == grads[1], name


def test_index_select_zero_d_message():
    with pytest.raises(RuntimeError, match="index_select: the index into a 0-d input must have exactly 1"):
        dendrite.index_select(dendrite.tensor(5.0), 0, dendrite.tensor([], dtype=dendrite.int64))


@pytest.mark.parametrize("call", [lambda m, x: m.roll(x, 0, 5), lambda m, x: m.cat([x, x], 5),
                                  lambda m, x: m.cat([x, m.zeros(2, 3)], 1)])
def test_empty_roll_and_legacy_cat(call):
    _same(_outcome(lambda: call(dendrite, dendrite.zeros(0))), _outcome(lambda: call(torch, torch.zeros(0))))


@pytest.mark.parametrize("name", ["scatter", "scatter_add"])
@pytest.mark.parametrize("x", INPUTS, ids=lambda a: str(a.shape))
@pytest.mark.parametrize("dim", [-2, -1, 0, 1])
@pytest.mark.parametrize("index", GATHER_INDICES, ids=lambda a: str(a.shape))
def test_scatter_edges(name, x, dim, index):
    src = np.ones(index.shape)
    _same(_outcome(lambda: getattr(dendrite, name)(dendrite.tensor(x), dim, dendrite.tensor(index),
                                                   dendrite.tensor(src))),
          _outcome(lambda: getattr(torch, name)(torch.tensor(x), dim, torch.tensor(index),
                                                torch.tensor(src))))
