"""Why an operation made the first NaN or Inf: the *origin* and its *kind*, from the arrays alone.

``detect_anomaly`` stops at the first operation whose output (or gradient) is
not finite. This module explains that operation: from its inputs and its
output it names the numerical accident that happened — log of 0, exp
overflow, a division by zero, the square root of a negative number, 0·inf,
a NaN that was already in the data — and the fix for that accident. It is
pure array logic (no tensors, no operations), so it costs nothing until an
anomaly has been found.

Inputs are described by their *source*: ``"data"`` (a tensor no operation
made and that does not require grad), ``"parameter"`` (a leaf that requires
grad: a weight), ``"constant"`` (a plain number or array), or the name of the
operation that made them (``"Softmax"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dendrite import backend
from dendrite.backend import xp

CLIP = ("clip gradients: `dendrite.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)` before "
        "`optimizer.step()`, or `Trainer(grad_clip_norm=1.0)`")

# kind -> (what happened, in a few words; the fix). The fix names the dendrite API to use.
KINDS: dict[str, tuple[str, str]] = {
    "log-of-zero": (
        "log of 0 (= -inf)",
        "clamp the input away from 0, e.g. `x.clamp(min=1e-12).log()`, or add an epsilon: "
        "`(x + 1e-12).log()`"),
    "log-of-negative": (
        "log of a negative number (= NaN)",
        "log needs a positive input: clamp it (`x.clamp(min=1e-12)`) or find what makes it negative "
        "(a subtraction, a missing sigmoid/softmax)"),
    "exp-overflow": (
        "exp overflow (= inf)",
        "subtract the max before exp, or use the fused stable forms that do: `F.log_softmax`, "
        "`F.cross_entropy`, `dendrite.logsumexp`; or clamp the input, e.g. `x.clamp(max=80)`"),
    "division-by-zero": (
        "division by zero (x/0 = inf, 0/0 = NaN)",
        "guard the denominator: `a / (b + 1e-8)` or `a / b.clamp(min=1e-8)` (for a std or a norm, "
        "put the epsilon inside the sqrt)"),
    "sqrt-of-negative": (
        "square root of a negative number (= NaN)",
        "sqrt needs an input >= 0: clamp it (`x.clamp(min=0).sqrt()`) or fix the subtraction that goes "
        "negative (a variance as E[x²] - E[x]²: use `x.var()`)"),
    "pow-of-negative": (
        "a negative number to a fractional power (= NaN)",
        "clamp the base (`x.clamp(min=0) ** p`) or use `x.abs() ** p * x.sign()`"),
    "overflow": (
        "overflow: finite inputs too large for the float range",
        "the values exceed the dtype's range (float32 max ≈ 3.4e38): normalize the inputs, lower the "
        "learning rate, check the weights' scale, or compute in log-space"),
    "zero-times-inf": (
        "0 · inf (= NaN)",
        "an Inf met a 0: find where the Inf comes from; for masks use a large finite value (-1e9) instead "
        "of -inf, or replace it with `dendrite.where(x.isinf(), 0.0, x)`"),
    "inf-minus-inf": (
        "inf - inf (= NaN)",
        "two infinities of opposite sign were added: find where the Inf comes from; for masks use a large "
        "finite value (-1e9) instead of -inf"),
    "nan-in-data": (
        "NaN/Inf already in the data",
        "your data holds NaN/Inf values: clean them before training (drop or impute the rows, "
        "`np.nan_to_num`); check with `np.isfinite(X).all()`"),
    "nan-in-weights": (
        "NaN/Inf already in a parameter",
        "a weight already holds NaN/Inf: an earlier optimizer step diverged. Lower the learning rate or "
        + CLIP + ", and restart from finite weights"),
    "non-finite-input": (
        "an input made outside detect_anomaly already holds NaN/Inf",
        "run the code that computes this input inside `detect_anomaly()` too, to find where it started"),
    "optimizer-step": (
        "the optimizer step made the weights non-finite",
        "lower the learning rate, or " + CLIP),
    "infinite-derivative": (
        "infinite derivative (sqrt, x**p with p < 1, or a norm at 0)",
        "add an epsilon inside, e.g. `(x + 1e-12).sqrt()` or `(x * x).sum().add(1e-12).sqrt()` for a norm"),
    "gradient-overflow": (
        "the gradient overflowed (finite values, too large a product)",
        "scale the loss down, guard small denominators (`b.clamp(min=1e-8)`), or " + CLIP),
    "non-finite-incoming-gradient": (
        "the gradient arriving at this operation is already NaN/Inf",
        "check the gradient passed to backward() and any tensor hook that changes gradients"),
    "out-of-domain": (
        "an input outside the function's domain (= NaN)",
        "clamp the input into the domain, e.g. `x.clamp(-1 + 1e-7, 1 - 1e-7).acos()`"),
    "invalid-operation": (
        "an invalid operation on finite inputs",
        "inspect this operation's inputs (their ranges are above) and keep them in a safe range"),
}

_LOGS = {"Log": 0.0, "Log2": 0.0, "Log10": 0.0, "Log1p": -1.0}
_EXPS = {"Exp", "Exp2", "Expm1", "Sinh", "Cosh", "LogSumExp", "Softmax"}
_DOMAIN = {"Asin", "Acos", "Atanh", "Acosh", "Erfinv"}
_LEAF_SOURCES = {"data": "nan-in-data", "constant": "nan-in-data", "parameter": "nan-in-weights"}


@dataclass(frozen=True)
class AnomalyOrigin:
    """Where a NaN/Inf started and why: ``AnomalyError.origin``.

    Attributes:
        op: the operation's name (``"Log"``, ``"MatMul"``...).
        kind: the accident, a key of :data:`KINDS` (``"log-of-zero"``, ``"exp-overflow"``...).
        where: the user's source line that called the operation (``"file.py:12 in step"``).
        detail: the measured evidence in one or two sentences.
        fix: what to change, naming the dendrite API.
        phase: ``"forward"`` or ``"backward"``.
        inputs: one summary per input (``shape``, ``size``, ``min``, ``max``, ``nan``, ``inf``...).

    Example:
        >>> import numpy as np
        >>> origin = classify_forward("Log", [np.array([0.0, 0.5])], [np.log(np.array([0.0, 0.5]))], ["data"])
        >>> origin.kind
        'log-of-zero'
    """

    op: str
    kind: str
    where: str = "<unknown>"
    detail: str = ""
    fix: str = ""
    phase: str = "forward"
    inputs: tuple = field(default=(), compare=False)

    @property
    def title(self) -> str:
        """The kind in words.

        Example:
            >>> AnomalyOrigin("Log", "log-of-zero").title
            'log of 0 (= -inf)'
        """
        return KINDS.get(self.kind, (self.kind, ""))[0]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (what the doctor puts in a finding's evidence).

        Example:
            >>> sorted(AnomalyOrigin("Exp", "exp-overflow").to_dict())
            ['detail', 'inputs', 'kind', 'op', 'phase', 'where']
        """
        return {"op": self.op, "kind": self.kind, "phase": self.phase, "where": self.where,
                "detail": self.detail, "inputs": list(self.inputs)}

    def __str__(self) -> str:
        return f"{self.op} ({self.phase}): {self.title}. {self.detail}".rstrip()


def _floats(value) -> Any:
    """``value`` as a float array, or ``None`` when it is not floating point (ints, bools, options)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return backend.asarray(float(value))
    if hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "f":
        return backend.asarray(value)
    return None


def summarize(value) -> dict[str, Any]:
    """Facts about one array for an error message: shape, size, finite min/max, counts.

    Example:
        >>> import numpy as np
        >>> summarize(np.array([0.0, -1.0, np.nan]))
        {'shape': (3,), 'size': 3, 'min': -1.0, 'max': 0.0, 'nan': 1, 'inf': 0, 'zeros': 1, 'negative': 1}
    """
    array = _floats(value)
    if array is None:
        return {"shape": tuple(getattr(value, "shape", ())), "size": int(getattr(value, "size", 1))}
    finite = array[xp.isfinite(array)]
    return {
        "shape": tuple(array.shape), "size": int(array.size),
        "min": float(finite.min()) if finite.size else None,
        "max": float(finite.max()) if finite.size else None,
        "nan": int(xp.isnan(array).sum()), "inf": int(xp.isinf(array).sum()),
        "zeros": int((array == 0).sum()), "negative": int((array < 0).sum()),
    }


def _range(summary: dict) -> str:
    return f"min {summary.get('min')}, max {summary.get('max')}, {summary['size']} element(s)"


def _has(arrays, test) -> bool:
    return any(array is not None and bool(test(array).any()) for array in arrays)


def _made_by(sources, position: int = 0) -> str:
    source = sources[position] if position < len(sources) else "constant"
    if source in ("data", "parameter", "constant"):
        return f" The input is {'a parameter' if source == 'parameter' else 'your ' + source}."
    return f" The input was made by {source}."


def _fix(kind: str, op: str, sources) -> str:
    producer = sources[0] if sources else ""
    if kind == "log-of-zero" and op == "Log" and producer == "Softmax":
        return ("use `F.log_softmax(logits, dim=...)` (or `F.cross_entropy` on the logits) instead of "
                "`log(softmax(x))`: it never takes the log of an underflowed 0")
    if kind == "log-of-zero" and op == "Log" and producer == "Sigmoid":
        return ("use `F.binary_cross_entropy_with_logits` on the logits (or `F.logsigmoid`) instead of "
                "`log(sigmoid(x))`")
    return KINDS[kind][1]


def _origin(op, kind, detail, sources, inputs, phase="forward") -> AnomalyOrigin:
    return AnomalyOrigin(op=op, kind=kind, detail=detail, fix=_fix(kind, op, sources), phase=phase,
                         inputs=tuple(summarize(value) for value in inputs))


def _non_finite_inputs(op, arrays, outputs, sources, inputs, phase) -> AnomalyOrigin:
    """The operation met a NaN/Inf: say which input held it, and what the meeting made."""
    position = next(i for i, a in enumerate(arrays) if a is not None and not bool(xp.isfinite(a).all()))
    summary = summarize(arrays[position])
    source = sources[position] if position < len(sources) else "constant"
    held = f"input {position} ({source}) holds {summary['nan']} NaN and {summary['inf']} Inf " \
           f"of {summary['size']} value(s)"
    only_inf = not _has(arrays, xp.isnan)
    if only_inf and _has(outputs, xp.isnan) and op in ("Mul", "MatMul", "Einsum", "Linear"):
        return _origin(op, "zero-times-inf", f"{held}; multiplied by 0 it gives NaN.", sources, inputs, phase)
    if only_inf and _has(outputs, xp.isnan) and op in ("Add", "Sub", "Sum", "Mean"):
        return _origin(op, "inf-minus-inf", f"{held}; +inf and -inf met and gave NaN.", sources, inputs,
                       phase)
    kind = _LEAF_SOURCES.get(source, "non-finite-input")
    where = {"data": " It is in your data (a tensor no operation made).",
             "parameter": " It is in a weight (a leaf that requires grad).",
             "constant": " It is a constant passed to the operation."}.get(source, "")
    return _origin(op, kind, held + "." + where, sources, inputs, phase)


def classify_forward(op: str, inputs, outputs, sources) -> AnomalyOrigin:
    """Explain a forward output with NaN/Inf: ``inputs`` (arrays or values), ``outputs`` (arrays).

    ``sources[i]`` says where input ``i`` came from (see the module docstring).
    The returned origin's ``where`` is left for the caller to fill.

    Example:
        >>> import numpy as np
        >>> with np.errstate(all="ignore"):
        ...     out = np.array([1.0, 0.0]) / np.array([0.0, 0.0])
        >>> origin = classify_forward("Div", [np.array([1.0, 0.0]), np.array([0.0, 0.0])], [out],
        ...                           ["data", "data"])
        >>> origin.kind, origin.detail
        ('division-by-zero', '2 of 2 denominator(s) are 0 (1 of them 0/0 = NaN).')
    """
    arrays = [_floats(value) for value in inputs]
    outputs = [array for array in (_floats(value) for value in outputs) if array is not None]
    if _has(arrays, lambda a: ~xp.isfinite(a)):
        return _non_finite_inputs(op, arrays, outputs, sources, inputs, "forward")
    x = arrays[0] if arrays else None
    nan_out = _has(outputs, xp.isnan)
    summary = summarize(x) if x is not None else {}
    if op in _LOGS and x is not None:
        edge = _LOGS[op]
        below, at = int((x < edge).sum()), int((x == edge).sum())
        if below:
            return _origin(op, "log-of-negative", f"{below} of {x.size} input value(s) are < {edge:g} "
                           f"({_range(summary)}).{_made_by(sources)}", sources, inputs)
        if at:
            underflow = " Probabilities underflowed to exactly 0." if sources and sources[0] in (
                "Softmax", "Sigmoid") else ""
            return _origin(op, "log-of-zero", f"{at} of {x.size} input value(s) are exactly {edge:g} "
                           f"({_range(summary)}).{_made_by(sources)}{underflow}", sources, inputs)
    binary = op in ("Div", "FloorDivide", "Remainder", "Fmod")
    denominator = arrays[-1] if binary else (x if op in ("Reciprocal", "Rsqrt") else None)
    if denominator is not None and (denominator == 0).any() and not (op == "Rsqrt" and (x < 0).any()):
        zeros = int((denominator == 0).sum())
        both = ""
        if binary and arrays[0] is not None:
            numerator, denominator_b = xp.broadcast_arrays(arrays[0], denominator)
            zero_over_zero = int(((numerator == 0) & (denominator_b == 0)).sum())
            both = f" ({zero_over_zero} of them 0/0 = NaN)" if zero_over_zero else ""
        return _origin(op, "division-by-zero", f"{zeros} of {denominator.size} denominator(s) are 0{both}.",
                       sources, inputs)
    if op in ("Sqrt", "Rsqrt") and x is not None and (x < 0).any():
        return _origin(op, "sqrt-of-negative", f"{int((x < 0).sum())} of {x.size} input value(s) are < 0 "
                       f"({_range(summary)}).{_made_by(sources)}", sources, inputs)
    if op == "Pow" and x is not None:
        exponent = arrays[1] if len(arrays) > 1 and arrays[1] is not None else backend.asarray(0.0)
        fractional = exponent != xp.round(exponent)
        negative_base = xp.broadcast_to(x < 0, xp.broadcast(x, exponent).shape) & fractional
        if nan_out and negative_base.any():
            return _origin(op, "pow-of-negative", f"{int(negative_base.sum())} negative base(s) "
                           f"({_range(summary)}) with a fractional exponent.", sources, inputs)
        zero_base = xp.broadcast_to(x == 0, xp.broadcast(x, exponent).shape) & (exponent < 0)
        if zero_base.any():
            return _origin(op, "division-by-zero", f"{int(zero_base.sum())} base(s) are 0 with a negative "
                           "exponent (0 ** -p = 1/0).", sources, inputs)
    if op in _DOMAIN and nan_out:
        return _origin(op, "out-of-domain", f"input {_range(summary)}.", sources, inputs)
    if not nan_out:  # only Inf, from finite inputs: the result was too large
        largest = max((float(xp.abs(a).max()) for a in arrays if a is not None and a.size), default=0.0)
        dtype = outputs[0].dtype if outputs else None
        limit = f"{float(xp.finfo(dtype).max):.3g}" if dtype is not None else "the dtype's max"
        if op in _EXPS:
            return _origin(op, "exp-overflow", f"the largest input is {largest:.4g}; exp of it exceeds "
                           f"{limit} ({dtype}), the largest {dtype} number.", sources, inputs)
        return _origin(op, "overflow", f"the largest input magnitude is {largest:.4g}; the result exceeded "
                       f"{limit} ({dtype}).", sources, inputs)
    if op in _EXPS or op in ("LogSoftmax", "Softmax"):
        largest = max((float(xp.abs(a).max()) for a in arrays if a is not None and a.size), default=0.0)
        return _origin(op, "overflow", f"the largest input magnitude is {largest:.4g}; an intermediate "
                       "overflowed and gave NaN.", sources, inputs)
    ranges = "; ".join(f"input {i}: {_range(summarize(a))}" for i, a in enumerate(arrays) if a is not None)
    return _origin(op, "invalid-operation", f"finite inputs gave NaN ({ranges}).", sources, inputs)


_INFINITE_SLOPE_AT_ZERO = {"Sqrt", "Rsqrt", "Norm2", "Cbrt", "Log", "Reciprocal"}


def classify_backward(op: str, grad_outputs, inputs, input_grads, sources) -> AnomalyOrigin:
    """Explain a backward that returned NaN/Inf gradients from its incoming ``grad_outputs``.

    ``inputs`` are the operation's forward inputs (arrays or values).

    Example:
        >>> import numpy as np
        >>> origin = classify_backward("Sqrt", [np.ones(2)], [np.array([0.0, 4.0])],
        ...                            [np.array([np.inf, 0.25])], ["parameter"])
        >>> origin.kind
        'infinite-derivative'
    """
    incoming = [_floats(g) for g in grad_outputs]
    if _has(incoming, lambda a: ~xp.isfinite(a)):
        return _origin(op, "non-finite-incoming-gradient", "the gradient of its output holds NaN/Inf.",
                       sources, inputs, "backward")
    arrays = [_floats(value) for value in inputs]
    if _has(arrays, lambda a: ~xp.isfinite(a)):
        return _non_finite_inputs(op, arrays, [], sources, inputs, "backward")
    zeros = sum(int((a == 0).sum()) for a in arrays[:1] if a is not None)
    if op == "Pow" and len(arrays) > 1:
        exponent = arrays[1] if arrays[1] is not None else backend.asarray(2.0)
        slope_infinite = bool(zeros) and bool((exponent < 1).any())
    else:
        slope_infinite = op in _INFINITE_SLOPE_AT_ZERO and bool(zeros)
    if slope_infinite:
        return _origin(op, "infinite-derivative", f"{zeros} input value(s) are exactly 0, where the "
                       f"derivative of {op} is infinite or 0/0.{_made_by(sources)}", sources, inputs,
                       "backward")
    largest = max((float(xp.abs(g).max()) for g in incoming if g is not None and g.size), default=0.0)
    grads = [_floats(g) for g in input_grads]
    if not _has(grads, xp.isnan):
        return _origin(op, "gradient-overflow", f"the incoming gradient's largest magnitude is "
                       f"{largest:.4g}; multiplied by this operation's local derivative it overflowed.",
                       sources, inputs, "backward")
    return _origin(op, "invalid-operation", f"finite inputs and a finite incoming gradient (max |grad| "
                   f"{largest:.4g}) gave a NaN gradient.", sources, inputs, "backward")


def fix_for(kind: str) -> str:
    """The generic fix of one kind (``KINDS[kind][1]``).

    Example:
        >>> fix_for("division-by-zero").startswith("guard the denominator")
        True
    """
    if kind not in KINDS:
        raise KeyError(f"fix_for: unknown anomaly kind {kind!r}; expected one of {sorted(KINDS)}")
    return KINDS[kind][1]
