"""JSON that is JSON: no ``NaN``, ``Infinity`` or ``-Infinity`` literals, ever.

``json.dumps(float("nan"))`` writes ``NaN``, which Python reads back but strict
parsers (browsers, ``jq``, most languages) reject. Every JSON file dendrite
writes goes through :func:`json_safe` / :func:`dumps`: non-finite floats become
``null`` (or, with ``nonfinite="string"``, the strings ``"nan"``, ``"inf"``,
``"-inf"``), NumPy scalars and arrays become plain numbers and lists, tuples
become lists, and the text is produced with ``allow_nan=False`` so a value that
slipped through is an error, not a broken file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["json_safe", "dumps", "nonfinite_name"]


def nonfinite_name(value: float) -> str:
    """``'nan'``, ``'inf'`` or ``'-inf'`` for a non-finite float (``repr`` of a finite one).

    Example:
        >>> nonfinite_name(float("nan")), nonfinite_name(float("-inf")), nonfinite_name(0.5)
        ('nan', '-inf', '0.5')
    """
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def json_safe(value: Any, nonfinite: str = "null") -> Any:
    """``value`` with every non-finite float replaced (recursively) and NumPy values made plain.

    Shapes: any nesting of dicts, lists, tuples, numbers, strings and NumPy scalars or
    arrays; the same nesting of plain Python values out (tuples and arrays become lists,
    dict keys become strings). ``nonfinite``: ``"null"`` (``None``) or ``"string"``.

    Example:
        >>> import numpy as np
        >>> json_safe({"loss": float("nan"), "rows": [np.float32(0.5), (1, float("inf"))]})
        {'loss': None, 'rows': [0.5, [1, None]]}
        >>> json_safe([float("-inf")], nonfinite="string")
        ['-inf']
    """
    if nonfinite not in ("null", "string"):
        raise ValueError(f"json_safe: nonfinite must be 'null' or 'string', got {nonfinite!r}")
    return _clean(value, nonfinite)


def _clean(value: Any, nonfinite: str) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {str(key): _clean(item, nonfinite) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item, nonfinite) for item in value]
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # NumPy scalar or array
        return _clean(value.tolist(), nonfinite)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return None if nonfinite == "null" else nonfinite_name(value)
    return value


def dumps(value: Any, *, nonfinite: str = "null", **options) -> str:
    """``json.dumps(json_safe(value), allow_nan=False, **options)``: always standard JSON.

    Example:
        >>> dumps({"loss": float("nan"), "epoch": 1})
        '{"loss": null, "epoch": 1}'
    """
    return json.dumps(json_safe(value, nonfinite), allow_nan=False, **options)
