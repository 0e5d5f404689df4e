"""The differential check of the fuzzer: run dendrite and PyTorch on the same inputs and compare.

Either both succeed, with outputs of the same shape and dtype, values close (NaN where PyTorch has
NaN; tolerance by dtype) and, for differentiable float cases with finite inputs, the same gradients
of a random-weighted sum of the outputs; or both raise, and dendrite's error is a clear one: a
TypeError/ValueError/RuntimeError/IndexError/NotImplementedError (never an AttributeError, KeyError,
ZeroDivisionError or NumPy's AxisError) whose message names the operation and not ``_data``.
"""

from __future__ import annotations

import numpy as np
import torch

import dendrite

CLEAR_ERRORS = (TypeError, ValueError, RuntimeError, IndexError, NotImplementedError)
UNCLEAR_ERRORS = (AttributeError, KeyError, ZeroDivisionError, np.exceptions.AxisError)
TOLERANCE = {  # (rtol, atol) by the floating dtype of the output
    "float64": (1e-6, 1e-9),
    "float32": (1e-4, 1e-5),
}


def as_inputs(lib, arrays, grad: bool) -> list:
    """NumPy arrays as ``lib`` tensors (floating ones require grad when ``grad``); other values as is."""
    inputs = []
    for array in arrays:
        if isinstance(array, np.ndarray):
            floating = grad and array.dtype.kind == "f"
            tensor = lib.tensor(np.array(array)) if lib is dendrite else torch.from_numpy(np.array(array))
            inputs.append(tensor.requires_grad_(True) if floating else tensor)
        elif isinstance(array, list) and array and all(isinstance(a, np.ndarray) for a in array):
            inputs.append(as_inputs(lib, array, grad))  # a list of tensors (cat, stack)
        else:
            inputs.append(array)
    return inputs


def _flat(outputs) -> list:
    if isinstance(outputs, (tuple, list)):
        return [item for output in outputs for item in _flat(output)]
    return [outputs]


def _numpy(value) -> np.ndarray:
    return value.detach().numpy() if hasattr(value, "detach") else np.asarray(value)


def _dtype(value) -> str:
    return str(value.dtype).replace("torch.", "") if hasattr(value, "dtype") else type(value).__name__


def _leaves(inputs) -> list:
    out = []
    for item in inputs:
        out.extend(_leaves(item) if isinstance(item, list) else [item])
    return out


def coarsest_float(arrays) -> str | None:
    """The least precise floating dtype among ``arrays`` (nested lists too), or None without floats."""
    found = {str(a.dtype) for a in _leaves(arrays) if isinstance(a, np.ndarray) and a.dtype.kind == "f"}
    for name in ("float16", "float32", "float64"):
        if name in found:
            return name
    return None


def tolerance(dtype: str, inputs_dtype: str | None) -> tuple:
    """(rtol, atol) for an output of ``dtype`` computed from inputs whose coarsest float is ``inputs_dtype``.

    A float64 result of a float32 operand carries float32 rounding: a 0-d float64 added to a float32
    tensor gets a gradient summed in float32, and PyTorch's pow backward computes ``exponent - 1`` in the
    exponent's float32 where dendrite uses float64. Each library rounds at a different step, so the
    result agrees only to the operand's precision: the tolerance is that of the coarser of the two.
    """
    coarse = [TOLERANCE.get(name, (1e-2, 1e-3)) for name in (dtype, inputs_dtype) if name]
    return max(coarse)


def assert_same_values(ours, theirs, what: str, scale: float = 1.0, inputs_dtype: str | None = None,
                       rounding: float = 0.0) -> None:
    a, b = _numpy(ours), _numpy(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape}, PyTorch {b.shape}"
    if b.dtype.kind not in "fc":
        np.testing.assert_array_equal(a, b, err_msg=what)
        return
    rtol, atol = tolerance(str(b.dtype), inputs_dtype)
    atol = max(atol * scale, rounding)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def assert_clear_error(error: BaseException, names) -> None:
    """dendrite's error is one a user can act on: a clear type, naming the operation."""
    text = f"{type(error).__name__}: {error}"
    assert isinstance(error, CLEAR_ERRORS) and not isinstance(error, UNCLEAR_ERRORS), f"unclear error {text}"
    assert "_data" not in str(error), f"the error mentions internals: {text}"
    if names:
        names = (names,) if isinstance(names, str) else names
        assert any(name in str(error) for name in names), f"the error does not name {names}: {text}"


def differential(name, ours_fn, theirs_fn, arrays, *, grad: bool = True, names=None,
                 compare=None, scale_atol: bool = False, rounding: float = 0.0, grad_rounding: float = 0.0,
                 refuses: str | None = None) -> None:
    """Run ``ours_fn(*inputs)`` (dendrite) and ``theirs_fn(*inputs)`` (torch) on ``arrays``; compare.

    ``names``: what dendrite's error must mention (default ``name``); ``compare``: the output positions
    to compare (default all; tie-dependent indices are left out by the caller); ``scale_atol``: the
    absolute tolerance grows with the largest finite input (sums and products of many terms);
    ``rounding``: an absolute tolerance the caller derives from the magnitude of the terms an output is
    a difference of (the rounding of each, which the libraries do in different orders), for the
    forward outputs; ``grad_rounding``: the same for the gradients;
    ``refuses``: why dendrite deliberately refuses this call where PyTorch answers (a PyTorch quirk,
    named by the caller): dendrite must then raise a clear error, and PyTorch is not asked.
    """
    names = name if names is None else names
    if refuses is not None:
        try:
            result = ours_fn(*as_inputs(dendrite, arrays, grad=False))
        except Exception as error:  # noqa: BLE001
            assert_clear_error(error, names)
            return
        raise AssertionError(f"{name}: dendrite should refuse ({refuses}), returns {result!r}")
    finite = all(
        np.isfinite(a).all() for a in _leaves(arrays) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
    )
    grad = grad and finite
    inputs_dtype = coarsest_float(arrays)
    theirs_in, ours_in = as_inputs(torch, arrays, grad), as_inputs(dendrite, arrays, grad)
    try:
        theirs = _flat(theirs_fn(*theirs_in))
    except Exception as torch_error:  # noqa: BLE001  (PyTorch refuses: dendrite must refuse clearly)
        try:
            result = ours_fn(*ours_in)
        except Exception as error:  # noqa: BLE001
            assert_clear_error(error, names)
            return
        raise AssertionError(
            f"{name}: PyTorch raises {type(torch_error).__name__}: {torch_error}; dendrite returns {result!r}"
        ) from None
    try:
        ours = _flat(ours_fn(*ours_in))
    except Exception as error:
        raise AssertionError(
            f"{name}: PyTorch succeeds, dendrite raises {type(error).__name__}: {error}"
        ) from error
    assert len(ours) == len(theirs), f"{name}: {len(ours)} outputs, PyTorch {len(theirs)}"
    scale = 1.0
    if scale_atol:
        magnitudes = [np.abs(a[np.isfinite(a)]).max(initial=0.0) for a in _leaves(arrays)
                      if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
        scale = max([1.0, *magnitudes]) ** 2
    positions = range(len(theirs)) if compare is None else compare
    for position in positions:
        a, b = ours[position], theirs[position]
        assert _dtype(a) == _dtype(b), f"{name} output {position}: dtype {_dtype(a)}, PyTorch {_dtype(b)}"
        assert_same_values(a, b, f"{name} output {position}", scale, inputs_dtype, rounding)
    if not grad:
        return
    weighted = [(a, b) for position, (a, b) in enumerate(zip(ours, theirs))
                if position in positions and isinstance(b, torch.Tensor) and b.requires_grad]
    if not weighted:
        return
    rng = np.random.default_rng(0)
    total_ours = total_theirs = 0
    for a, b in weighted:
        assert getattr(a, "requires_grad", False), f"{name}: output does not require grad, PyTorch's does"
        weights = rng.standard_normal(tuple(b.shape)).astype(_numpy(b).dtype)
        total_ours = total_ours + (a * dendrite.tensor(weights)).sum()
        total_theirs = total_theirs + (b * torch.from_numpy(weights)).sum()
    total_ours.backward()
    total_theirs.backward()
    for position, (a, b) in enumerate(zip(_leaves(ours_in), _leaves(theirs_in))):
        if not isinstance(b, torch.Tensor) or not b.requires_grad:
            continue
        if b.grad is None:
            assert a.grad is None or not _numpy(a.grad).any(), f"{name} input {position}: no PyTorch gradient"
            continue
        assert a.grad is not None, f"{name}: input {position} got no gradient"
        assert _dtype(a.grad) == _dtype(b.grad), f"{name} gradient {position}: dtype {_dtype(a.grad)}"
        assert_same_values(a.grad, b.grad, f"{name} gradient of input {position}", scale, inputs_dtype,
                           grad_rounding)
