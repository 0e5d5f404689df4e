"""Differential fuzzing against PyTorch: reductions (dim, keepdim), the softmax family, movement,
joining and indexing, and the matmul family. Settings: tests/fuzz/conftest.py."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

import dendrite
from tests.fuzz.conftest import FUZZ
from tests.fuzz.differential import differential
from tests.fuzz.strategies import FLOATS, arrays, dims, dtypes, shapes

REDUCTIONS = ["sum", "mean", "prod", "amax", "amin", "var", "std", "logsumexp", "all", "any", "count_nonzero",
              "norm"]
# Reductions that also return the position: PyTorch leaves the position of ties unspecified, so the
# index output is compared only where the values along the dim are distinct.
WITH_INDICES = ["max", "min", "argmax", "argmin", "median", "cumsum", "cumprod", "sort", "argsort"]
SOFTMAX = ["softmax", "log_softmax"]


def _distinct(x: np.ndarray) -> bool:
    return x.size == np.unique(x).size and not np.isnan(x).any()


@st.composite
def reduction_case(draw, name):
    x = draw(arrays(dtypes(), shapes()))
    # dendrite's prod also takes a tuple of dims (an extension): prod gets none
    style = draw(st.sampled_from(["none", "int"] + ["tuple"] * (name != "prod")))
    kwargs = {}
    if style == "int":
        kwargs["dim"] = draw(dims(x.ndim))
    elif style == "tuple":
        # dim=(): every dim for most; all/any reduce nothing; logsumexp fails without keepdim (as PyTorch)
        kwargs["dim"] = tuple(draw(st.lists(dims(x.ndim), max_size=3)))
    if style != "none" and draw(st.booleans()):
        kwargs["keepdim"] = draw(st.booleans())
    return x, kwargs


@FUZZ
@given(name=st.sampled_from(REDUCTIONS), data=st.data())
def test_reduction(name, data):
    x, kwargs = data.draw(reduction_case(name))
    # PyTorch's var/std backward over dim=() counts one element per output (a gradient n times too big,
    # inf with the default correction) where its forward reduces every dim: forward only there
    grad = not (name in ("var", "std") and kwargs.get("dim") == ())
    differential(name, lambda t: getattr(dendrite, name)(t, **kwargs),
                 lambda t: getattr(torch, name)(t, **kwargs), [x], scale_atol=True, grad=grad)


@FUZZ
@given(name=st.sampled_from(WITH_INDICES), x=arrays(dtypes(*FLOATS, "int64"), shapes()), data=st.data())
def test_reduction_with_indices(name, x, data):
    kwargs = {"dim": data.draw(dims(x.ndim))}
    if name not in ("cumsum", "cumprod", "argsort") and data.draw(st.booleans()):
        kwargs["keepdim" if name != "sort" else "descending"] = data.draw(st.booleans())
    distinct = _distinct(x)
    compare = None
    if name in ("max", "min", "median", "sort"):
        compare = [0, 1] if distinct else [0]
    elif name in ("argmax", "argmin", "argsort") and not distinct:
        return  # the position of a tie (or of one of several NaN) is unspecified in PyTorch
    # ties share max/min/median's gradient differently (PyTorch picks one): gradients only when distinct
    grad = distinct or name not in ("max", "min", "median", "sort")
    if name == "cumprod" and x.dtype.kind == "f" and x.ndim and -x.ndim <= kwargs["dim"] < x.ndim:
        # PyTorch's cumprod backward divides the overflowed products (inf / x = inf) where the true
        # gradient, dendrite's, is finite: compared only while the products stay in range
        with np.errstate(over="ignore", invalid="ignore"):
            products = np.cumprod(np.abs(x.astype(np.float64)), axis=kwargs["dim"])
        grad = grad and not (products > np.finfo(x.dtype).max).any()
    differential(name, lambda t: getattr(dendrite, name)(t, **kwargs),
                 lambda t: getattr(torch, name)(t, **kwargs), [x], compare=compare, grad=grad,
                 scale_atol=True)


# Integer inputs left out: dendrite's softmax promotes them to float (ops/operands.py: float_input), where
# PyTorch's kernel refuses them (and returns an empty int64 tensor for an empty one): a deliberate leniency.
@FUZZ
@given(name=st.sampled_from(SOFTMAX), x=arrays(dtypes(*FLOATS), shapes()), data=st.data())
def test_softmax_family(name, x, data):
    dim = data.draw(dims(x.ndim))
    differential(name, lambda t: getattr(dendrite, name)(t, dim), lambda t: getattr(torch, name)(t, dim), [x])


MOVEMENT = {
    "transpose": lambda m, x, d: m.transpose(x, d[0], d[1]),
    "permute": lambda m, x, d: m.permute(x, d[2]),
    "flatten": lambda m, x, d: m.flatten(x, d[0], d[1]),
    "squeeze": lambda m, x, d: m.squeeze(x, d[0]),
    "unsqueeze": lambda m, x, d: m.unsqueeze(x, d[0]),
    "flip": lambda m, x, d: m.flip(x, d[2]),
    "roll": lambda m, x, d: m.roll(x, d[3], d[0]),
    "movedim": lambda m, x, d: m.movedim(x, d[0], d[1]),
    "narrow": lambda m, x, d: m.narrow(x, d[0], d[3], 1),
    "select": lambda m, x, d: m.select(x, d[0], d[3]),
    "chunk": lambda m, x, d: m.chunk(x, 2, d[0]),
    "split": lambda m, x, d: m.split(x, 1, d[0]),
    "unbind": lambda m, x, d: m.unbind(x, d[0]),
    "tril": lambda m, x, d: m.tril(x, d[3]),
    "triu": lambda m, x, d: m.triu(x, d[3]),
    "diagonal": lambda m, x, d: m.diagonal(x, d[3], d[0], d[1]),
    "cat": lambda m, x, d: m.cat([x, x], d[0]),
    "stack": lambda m, x, d: m.stack([x, x], d[0]),
    "repeat": lambda m, x, d: x.repeat(*d[2]),
    "index_select": lambda m, x, d: m.index_select(x, d[0], d[4]),
    "gather": lambda m, x, d: m.gather(x, d[0], d[5]),
    "take": lambda m, x, d: m.take(x, d[4]),
    # 0-d inputs and empty or 0-d indices included (the index and gather_index draws)
    "take_along_dim": lambda m, x, d: m.take_along_dim(x, d[5], d[0]),
    "index_add": lambda m, x, d: x.index_add(d[0], d[4], x.index_select(d[0], d[4]) if x.ndim else x),
    "scatter_add": lambda m, x, d: m.scatter_add(x, d[0], d[5], x),
    "getitem": lambda m, x, d: x[d[3]],
}


@FUZZ
@given(name=st.sampled_from(sorted(MOVEMENT)), x=arrays(dtypes(), shapes()), data=st.data())
def test_movement_joining_indexing(name, x, data):
    ndim = x.ndim
    first, second = data.draw(dims(ndim)), data.draw(dims(ndim))
    order = data.draw(st.lists(dims(ndim), min_size=max(ndim - 1, 0), max_size=ndim + 1))
    offset = data.draw(st.integers(-3, 3))
    index = np.array(data.draw(st.lists(st.integers(-4, 4), max_size=3)), dtype=np.int64)
    # gather's index has the input's rank; its values may be out of range (both must refuse)
    gather_index = data.draw(arrays("int64", shapes(ndim, ndim, max_side=3)))
    args = (first, second, tuple(order), offset, index, gather_index)
    fn = MOVEMENT[name]
    names = ("index", "getitem") if name == "getitem" else name  # x[i] names the indexing, as PyTorch
    names = ("index_add", "index_select") if name == "index_add" else names  # (its source is a selection)
    # PyTorch's repeat checks the product of the sizes, not each repeat: an empty tensor repeats -1 times
    # quietly; dendrite refuses every negative repeat
    refuses = "a negative repeat" if name == "repeat" and any(r < 0 for r in order) else None
    if name == "take_along_dim" and gather_index.size and -ndim <= first < ndim:
        size = x.shape[first]
        if ((gather_index >= size) | (gather_index < -size)).any():
            refuses = "an index out of range (PyTorch wraps it modulo the size, or divides by zero)"
    # PyTorch's own scatter_add backward fails on an empty index (an invalid gradient of shape [0]):
    # forward only there
    grad = not (name == "scatter_add" and gather_index.size == 0)
    differential(name, lambda t, i, g: fn(dendrite, t, (*args[:4], i, g)),
                 lambda t, i, g: fn(torch, t, (*args[:4], i, g)), [x, index, gather_index], names=names,
                 refuses=refuses, grad=grad)


MATMUL = {
    "matmul": (lambda m, a, b: m.matmul(a, b), (0, 4)),
    "mm": (lambda m, a, b: m.mm(a, b), (2, 2)),
    "mv": (lambda m, a, b: m.mv(a, b), (2, 1)),
    "bmm": (lambda m, a, b: m.bmm(a, b), (3, 3)),
    "dot": (lambda m, a, b: m.dot(a, b), (1, 1)),
    "outer": (lambda m, a, b: m.outer(a, b), (1, 1)),
    "operator @": (lambda m, a, b: a @ b, (0, 4)),
}


@FUZZ
@given(name=st.sampled_from(sorted(MATMUL)), data=st.data())
def test_matmul_family(name, data):
    fn, (low, high) = MATMUL[name]
    dtype = data.draw(dtypes(*FLOATS, "int64"))
    # mostly matching inner sizes (a shared pool of small sides), sometimes a rank off or a mismatch
    sides = st.sampled_from([0, 1, 2, 3]) if data.draw(st.integers(0, 4)) == 0 else st.sampled_from([2, 3])
    rank = st.integers(max(low - 1, 0), high + (high == low))
    a_shape = tuple(data.draw(st.lists(sides, min_size=data.draw(rank), max_size=high + 1)))
    b_shape = tuple(data.draw(st.lists(sides, min_size=data.draw(rank), max_size=high + 1)))
    a = data.draw(arrays(dtype, a_shape))
    b = data.draw(arrays(data.draw(st.sampled_from([dtype, dtype, "float64"])), b_shape))
    # mm, mv, bmm and dot are forms of matmul: their shape and dtype errors come from matmul's checks
    names = (name.replace("operator ", ""), "matmul")
    # PyTorch's bmm (and matmul of 3-d operands) skips its dtype check when an operand is empty and
    # returns the second operand's dtype; dendrite refuses mixed dtypes whatever the sizes
    refuses = None
    if a.dtype != b.dtype and (a.size == 0 or b.size == 0) and name != "outer":  # outer promotes
        refuses = "mixed dtypes; PyTorch's bmm only notices them on non-empty operands"
    differential(name, lambda x, y: fn(dendrite, x, y), lambda x, y: fn(torch, x, y), [a, b], names=names,
                 scale_atol=True, refuses=refuses)
