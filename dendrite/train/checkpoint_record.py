"""The record inside a training checkpoint: nested state as JSON, its arrays beside it, and its checks.

:class:`_Encoder` turns optimizer and scheduler states, random-generator states, the history and
the caller's ``extra`` into standard JSON, moving every array out into a named ``.npz`` member;
:func:`_decode` puts them back. :func:`check_record` checks a record read from disk before anything
trusts it, and :func:`_damaged` turns the errors a crafted record causes deeper down into one
:class:`CheckpointError` that names the file and what is wrong.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dendrite import backend
from dendrite.interop.file_limits import WeightsFileError
from dendrite.tensor import Tensor

__all__ = ["CheckpointError", "check_record"]


class CheckpointError(WeightsFileError):
    """A training checkpoint whose record is damaged or does not fit the objects given to load into.

    It names the file and what is wrong. A subclass of
    :class:`~dendrite.interop.file_limits.WeightsFileError` (and so of ``ValueError``), which is
    what a checkpoint that is not even a sound ``.npz`` raises.

    Example:
        >>> raise CheckpointError("'run/checkpoint.npz': the record has no 'epoch'")
        Traceback (most recent call last):
        ...
        dendrite.train.checkpoint_record.CheckpointError: 'run/checkpoint.npz': the record has no 'epoch'
    """


@contextlib.contextmanager
def _damaged(path: Path, what: str):
    """Turn the errors a malformed record causes deep inside into one CheckpointError naming ``what``."""
    try:
        yield
    except CheckpointError:
        raise
    except (KeyError, TypeError, AttributeError, IndexError, ValueError, OverflowError) as error:
        raise CheckpointError(f"{str(path)!r}: {what}: {type(error).__name__}: {error}") from None


_RECORD = {"epoch": int, "global_step": int, "models": dict, "optimizers": dict, "schedulers": dict,
           "rng": object, "generators": object, "history": object, "extra": object}


def check_record(meta: dict, arrays: Mapping, path: Path) -> None:
    """Raise :class:`CheckpointError` unless ``meta`` has every field, of the right type, and its arrays.

    Example:
        >>> check_record({"epoch": 1}, {}, Path("run/checkpoint.npz"))
        Traceback (most recent call last):
        ...
        dendrite.train.checkpoint_record.CheckpointError: 'run/checkpoint.npz': the training-state ...
    """
    for key, kind in _RECORD.items():
        value = meta.get(key)
        if key not in meta or not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise CheckpointError(f"{str(path)!r}: the training-state record's {key!r} is "
                                  f"{'missing' if key not in meta else type(meta[key]).__name__}; "
                                  f"expected {kind.__name__ if kind is not object else 'a value'}")
    for name, keys in meta["models"].items():
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise CheckpointError(f"{str(path)!r}: the record's weight names for model {name!r} are damaged")
        missing = [key for key in keys if f"models/{name}/{key}" not in arrays]
        if missing:
            raise CheckpointError(f"{str(path)!r}: model {name!r} lacks the arrays of {missing[:5]}")


# ----------------------------------------------------------------------------- JSON with arrays
class _Encoder:
    """Turns nested state into JSON, moving arrays into ``self.arrays`` (tagged objects mark the rest)."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def __call__(self, value, where: str):
        if isinstance(value, (Tensor, np.ndarray)):
            name = f"state/{len(self.arrays)}"
            is_tensor = isinstance(value, Tensor)
            self.arrays[name] = backend.to_host(value.array if is_tensor else value)  # CUDA: copied
            return {"__array__": name, "tensor": is_tensor}
        if value is None or isinstance(value, (bool, str, np.bool_)):
            return bool(value) if isinstance(value, np.bool_) else value
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            # JSON has no inf/nan; tag them so the file stays standard JSON.
            return float(value) if math.isfinite(value) else {"__float__": repr(float(value))}
        if isinstance(value, tuple):
            return {"__tuple__": [self(item, f"{where}[{index}]") for index, item in enumerate(value)]}
        if isinstance(value, list):
            return [self(item, f"{where}[{index}]") for index, item in enumerate(value)]
        if isinstance(value, Mapping):
            if all(isinstance(key, str) and not key.startswith("__") for key in value):
                return {key: self(item, f"{where}.{key}") for key, item in value.items()}
            # Optimizer states are keyed by int: keep the keys' types.
            return {"__items__": [[self(key, f"{where} key"), self(item, f"{where}[{key!r}]")]
                                  for key, item in value.items()]}
        raise TypeError(
            f"save_training_state: {where} is a {type(value).__name__}; a checkpoint stores only numbers, "
            "strings, lists, dicts and arrays (nothing is pickled)"
        )


def _decode(value, arrays: Mapping[str, Tensor]):
    if isinstance(value, list):
        return [_decode(item, arrays) for item in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        tensor = arrays[value["__array__"]]
        return tensor if value.get("tensor") else tensor.numpy()
    if "__float__" in value:
        return float(value["__float__"])
    if "__tuple__" in value:
        return tuple(_decode(item, arrays) for item in value["__tuple__"])
    if "__items__" in value:
        return {_decode(key, arrays): _decode(item, arrays) for key, item in value["__items__"]}
    return {key: _decode(item, arrays) for key, item in value.items()}
