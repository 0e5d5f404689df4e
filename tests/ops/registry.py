"""The one registry of operations that drives the generic op tests.

Each :class:`OpInfo` names an operation, gives it as ONE expression
``fn(m, *inputs, **kwargs)`` written against a module ``m`` — the same
expression runs as ``fn(dendrite, ...)`` and ``fn(torch, ...)`` because
dendrite follows PyTorch's API (``torch_fn`` overrides it where the spelling
differs) — a NumPy reference, and the sample inputs to try.

Sample inputs are NumPy arrays (floating arrays become tensors that require
grad; integer/bool arrays become plain tensors) or plain Python values passed
through as they are. ``Sample.layout`` presents the arrays as non-contiguous
views (``"transposed"``, ``"strided"``) instead of fresh contiguous copies.
``Sample.smooth=False`` marks inputs at a kink or tie (|0|, relu(0), max with
ties, clamp at its bounds): finite differences are meaningless there, so only
PyTorch's convention is checked.

The entries live in ``registry_*.py`` by family; ``REGISTRY`` joins them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

import dendrite


@dataclass
class Sample:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    name: str = ""
    smooth: bool = True
    layout: str = "contiguous"  # or "transposed", "strided": how the arrays are presented

    def __repr__(self) -> str:
        shapes = ",".join(
            "x".join(map(str, a.shape)) or "0d" if isinstance(a, np.ndarray) else type(a).__name__
            for a in self.args
        )
        tag = f"{self.name}-" if self.name else ""
        return f"{tag}{shapes}{'' if self.layout == 'contiguous' else '-' + self.layout}"


@dataclass
class OpInfo:
    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any] | None
    samples: list
    torch_fn: Callable[..., Any] | None = None
    differentiable: bool = True
    gradcheck: bool = True  # False where float64 finite differences cannot settle it (e.g. huge Jacobians)

    @property
    def dendrite_callable(self) -> Callable[..., Any]:
        return partial(self.fn, dendrite)

    def torch_callable(self) -> Callable[..., Any]:
        import torch

        return partial(self.torch_fn or self.fn, torch)


# ----------------------------------------------------------------------------- input makers
_rng = np.random.default_rng(1234)


def randn(*shape) -> np.ndarray:
    return np.asarray(_rng.standard_normal(shape))


def uniform(low: float, high: float, *shape) -> np.ndarray:
    return np.asarray(_rng.uniform(low, high, shape))


def positive(*shape) -> np.ndarray:
    return np.asarray(_rng.uniform(0.5, 2.0, shape))


def away_from_zero(*shape) -> np.ndarray:
    """Values with |x| in [0.5, 2]: safe for 1/x and for kinks at 0."""
    return np.asarray(_rng.uniform(0.5, 2.0, shape) * _rng.choice([-1.0, 1.0], shape))


def distinct(*shape) -> np.ndarray:
    """A random permutation of well-separated values (no ties: max/sort are smooth)."""
    count = int(np.prod(shape)) if shape else 1
    return (_rng.permutation(count) * 0.37 - count * 0.15 + _rng.uniform(0, 0.1, count)).reshape(shape)


def small_ints(*shape, low: int = -3, high: int = 4) -> np.ndarray:
    """Whole numbers as floats: plenty of ties, for comparisons and tie conventions."""
    return _rng.integers(low, high, shape).astype(np.float64)


def indices(high: int, *shape) -> np.ndarray:
    return _rng.integers(0, high, shape).astype(np.int64)


def mask(*shape) -> np.ndarray:
    result = _rng.random(shape) > 0.5
    result.flat[0] = True  # never empty
    return result


def unary_samples(make=randn, *, extra=()) -> list:
    """The standard inputs of an element-wise unary op: matrix, scalar, 3-D, non-contiguous views."""
    maker = make
    make = lambda *shape: np.asarray(maker(*shape))  # noqa: E731  (makers may return NumPy scalars)
    return [
        Sample((make(3, 4),)),
        Sample((make(),), name="scalar"),
        Sample((make(2, 3, 4),)),
        Sample((make(3, 4),), layout="transposed"),
        Sample((make(3, 4),), layout="strided"),
        *extra,
    ]


def binary_samples(make_a=randn, make_b=randn) -> list:
    """Standard inputs of a broadcasting binary op, including Python numbers on either side."""
    return [
        Sample((make_a(3, 4), make_b(3, 4))),
        Sample((make_a(3, 4), make_b(4)), name="row"),
        Sample((make_a(2, 1, 4), make_b(3, 1)), name="both-stretch"),
        Sample((make_a(), make_b(3)), name="0d-left"),
        Sample((make_a(3, 4), make_b()), name="0d-right"),
        Sample((make_a(3, 4), make_b(3, 4)), layout="transposed"),
        Sample((make_a(3, 4), make_b(3, 4)), layout="strided"),
        Sample((make_a(3, 4), float(make_b())), name="number-right"),
        Sample((float(make_a()), make_b(3, 4)), name="number-left"),
    ]


def present(array: np.ndarray, layout: str) -> np.ndarray:
    """A fresh array equal to ``array``, laid out as asked (so nothing shares the registry's copy)."""
    if layout == "contiguous" or array.ndim < 2:
        return np.array(array)
    if layout == "transposed":
        # The same values, stored transposed: a view whose strides run backwards.
        return np.ascontiguousarray(np.swapaxes(array, -1, -2)).swapaxes(-1, -2)
    if layout == "strided":
        buffer = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), array.dtype)
        view = buffer[..., ::2]
        view[...] = array
        return view
    raise ValueError(f"unknown layout {layout!r}")


def sample_arguments(sample, dtype=np.float64) -> list:
    """``(argument, is_float)`` for each of the sample's arguments: arrays fresh in the sample's layout
    (float arrays as ``dtype``; ``is_float`` says which, as those get ``requires_grad``), anything
    else as it is with ``is_float`` None."""
    arguments = []
    for arg in sample.args:
        if not isinstance(arg, np.ndarray):
            arguments.append((arg, None))
            continue
        is_float = arg.dtype.kind == "f"
        arguments.append((present(arg.astype(dtype) if is_float else arg, sample.layout), is_float))
    return arguments


def flat(outputs) -> list:
    """An op's outputs (a tensor, or nested tuples/lists of them) as one flat list."""
    if isinstance(outputs, (tuple, list)):
        return [item for output in outputs for item in flat(output)]
    return [outputs]


def _collect() -> list:
    from tests.ops import registry_elementwise, registry_reduce, registry_shape

    ops = registry_elementwise.OPS + registry_reduce.OPS + registry_shape.OPS
    names = [op.name for op in ops]
    duplicates = {name for name in names if names.count(name) > 1}
    assert not duplicates, f"duplicate registry names: {duplicates}"
    return ops


REGISTRY: list = _collect()
