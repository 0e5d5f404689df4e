"""Hypothesis strategies of the fuzzer: shapes, dtypes, values (with NaN, ±Inf, -0.0, huge and tiny),
dims and indices (negative and out of range), and non-tensor arguments."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

SPECIAL = [math.nan, math.inf, -math.inf, -0.0, 0.0, 1e-30, -1e-30, 1e30, -1e30, 1.0, -1.0]
FLOATS = ("float32", "float64")


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = 3):
    """Small shapes, 0-d and empty dimensions included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def elements(dtype: str, special: bool):
    if dtype == "bool":
        return st.booleans()
    if dtype == "int64":
        return st.integers(-4, 4)
    width = 32 if dtype == "float32" else 64
    normal = st.floats(-3, 3, width=width)
    return st.one_of(normal, st.sampled_from(SPECIAL)) if special else normal


@st.composite
def arrays(draw, dtype, shape, special=None):
    """An array of ``dtype`` (a name or a strategy of names) and ``shape`` (a tuple or a strategy).

    ``special``: whether the values may include NaN, ±Inf, -0.0, huge and tiny numbers (drawn when None;
    examples without them also check gradients).
    """
    dtype = draw(dtype) if isinstance(dtype, st.SearchStrategy) else dtype
    shape = draw(shape) if isinstance(shape, st.SearchStrategy) else shape
    special = draw(st.booleans()) if special is None else special
    return draw(hnp.arrays(np.dtype(dtype), shape, elements=elements(dtype, special)))


def dims(ndim: int):
    """A dim for a tensor of ``ndim`` dimensions: mostly valid (negative too), sometimes one out of range."""
    top = max(ndim, 1)
    return st.integers(-top - 1, top)


def dtypes(*names):
    return st.sampled_from(names or ("float32", "float64", "int64", "bool"))
