"""``save`` and ``load``: weights and checkpoints on disk, written atomically and never unpickled.

``dendrite.save(obj, f)`` / ``dendrite.load(f)`` are called as ``torch.save`` / ``torch.load`` are,
so a PyTorch tutorial runs with ``import dendrite as torch``::

    torch.save(model.state_dict(), "model.pth")
    model.load_state_dict(torch.load("model.pth", weights_only=True))
    torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": loss}, "checkpoint.tar")

What is written (``save`` goes by the name, ``load`` by the file's first bytes):

* ``.npz`` -- NumPy's zip of ``.npy`` arrays, for a flat ``{name: tensor or array}`` mapping;
* any other name (``.pth``, ``.pt``, ``.tar``, ``.safetensors``, none) or a binary file object --
  a safetensors file: the tensors, plus, unless the object is a plain ``dict`` of tensors, a JSON
  description of its containers and plain values in the header
  (:mod:`dendrite.interop.checkpoint_tree`). It is **not** PyTorch's pickle format, whatever the
  name: ``torch.load`` cannot read a dendrite ``.pth``. The interchangeable name is
  ``.safetensors`` (``safetensors.torch.load_file`` reads a state dict saved under it);
* PyTorch's own ``.pt`` / ``.pth`` files are read (never written), without torch and without
  unpickling: the pickle's opcodes are interpreted and anything but tensors and plain containers
  is refused (:mod:`dendrite.interop.torch_reader`).

A write to a path goes to a temporary file in the same folder, is flushed and fsynced, then
renamed over the target: a crash mid-save leaves the previous file intact, and a failed save
leaves no temporary file behind. Objects that would need pickle (a whole model, an optimizer, a
function) are refused before anything is written, naming the object and where it is.

Loading never trusts the file: declared sizes are checked against the file and against a limit
(:mod:`dendrite.interop.file_limits`, 4 GiB per tensor and per file by default, ``max_bytes=``)
before anything is allocated, and the SHA-256s that dendrite stores in its own files
(:mod:`dendrite.interop.checksum`; one for the arrays, one for the structure) are verified.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dendrite.interop.checkpoint_tree import flatten, unflatten
from dendrite.interop.checksum import METADATA_KEY, ZIP_COMMENT_PREFIX, digest
from dendrite.interop.file_limits import SizeBudget, WeightsFileError, sniff_format
from dendrite.interop.file_source import Source, describe, is_file_object
from dendrite.interop.npz_reader import read_npz
from dendrite.interop.safetensors_reader import read_safetensors
from dendrite.interop.safetensors_writer import write_safetensors
from dendrite.interop.torch_reader import read_torch
from dendrite.tensor import Tensor, wrap
from dendrite.utils.atomic import atomic_path

__all__ = ["save", "load", "WeightsFileError"]

TREE_KEY = "dendrite.tree"  # the JSON structure of a checkpoint, in the safetensors metadata
TREE_CHECKSUM_KEY = "dendrite.tree.sha256"
_KINDS = "biuf"  # bool, signed and unsigned integers, floating point: what every format stores
_HEADROOM = 128 * 2**20  # bytes a file object may hold beyond its tensors: headers, zip directories


def _host_array(value, key: str) -> np.ndarray:
    """``value`` as a C-contiguous, native-byte-order NumPy array that is a copy (never a view)."""
    if isinstance(value, Tensor):
        array = np.asarray(value.array)
    elif isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, (bool, int, float, np.number, np.bool_)):
        array = np.asarray(value)
    else:
        raise TypeError(f"save: value for key {key!r} is a {type(value).__name__}; "
                        "expected a tensor or array (a .npz holds a flat {name: array} mapping; save nested "
                        "checkpoints under another name, e.g. 'checkpoint.pth')")
    if array.dtype.kind not in _KINDS:
        raise TypeError(
            f"save: value for key {key!r} has dtype {array.dtype}; only bool, integer and floating-point "
            "arrays can be saved (object arrays would need pickle)"
        )
    # Always a fresh C-ordered copy: np.ascontiguousarray would turn a 0-d array into shape (1,).
    return np.array(array, dtype=array.dtype.newbyteorder("="), order="C", copy=True)


def _is_state_dict(obj) -> bool:
    """A plain ``dict`` of ``{non-empty str: tensor or array}``: stored as a plain safetensors state dict.

    Anything else -- an ``OrderedDict`` (what ``model.state_dict()`` returns), parameters, nesting,
    plain values -- also stores its structure, so that it comes back as it was.
    """
    return (type(obj) is dict
            and all(isinstance(key, str) and key and key != "__metadata__" for key in obj)
            and all((isinstance(value, Tensor) and not value.requires_grad) or isinstance(value, np.ndarray)
                    for value in obj.values()))


def _tree_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save(obj, f, metadata: Mapping[str, str] | None = None) -> Path | None:
    """Save ``obj`` -- a ``state_dict()``, a checkpoint dict, a tensor -- to a path or a binary file.

    ``obj`` may be a tensor, a NumPy array, or dicts, lists and tuples holding tensors, arrays,
    ints, floats, bools, strings and ``None`` (optimizer state dicts included); :func:`load`
    gives back the same structure with equal values and dtypes (arrays come back as tensors). A
    whole model, an optimizer or any other object would need pickle and is refused with what to do
    instead (``dendrite.save(model.state_dict(), path)``).

    ``f`` is a path with any name or a binary file object (``io.BytesIO``, ``open(path, "wb")``).
    A ``.npz`` name writes NumPy's format (a flat ``{name: array}`` mapping only); every other name
    writes dendrite's safetensors-based format -- a ``.pth`` from dendrite is *not* a PyTorch pickle
    and ``torch.load`` cannot read it; save under ``.safetensors`` to share a state dict with PyTorch.
    ``metadata`` (``{str: str}``) is stored in the header (not in ``.npz``). A path is replaced
    atomically and returned; for a file object ``None`` is returned.

    Example:
        >>> import dendrite
        >>> _ = dendrite.save({"w": dendrite.ones(2)}, "w.npz")
        >>> dendrite.load("w.npz")["w"]
        tensor([1., 1.])
        >>> _ = dendrite.save({"epoch": 3, "state": {"w": dendrite.zeros(2)}}, "checkpoint.pth")
        >>> dendrite.load("checkpoint.pth")["epoch"]
        3
    """
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                        for k, v in metadata.items()):
            raise TypeError("save: metadata must map strings to strings")
        if any(key.startswith("dendrite.") for key in metadata):
            raise ValueError("save: metadata keys starting with 'dendrite.' are reserved for dendrite's own "
                             "records")
    if is_file_object(f):
        if not hasattr(f, "write") or isinstance(f, io.TextIOBase):
            raise TypeError(f"save: the file object {describe(f)} is not a binary file open for writing; "
                            "open it with mode 'wb' (or pass an io.BytesIO)")
        arrays, stored = _checkpoint(obj, metadata)
        write_safetensors(f, arrays, stored)
        if hasattr(f, "flush"):
            f.flush()
        return None
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"save: f must be a path or a binary file object, got {type(f).__name__}")
    path = Path(f)
    if not path.name:
        raise ValueError(f"save: {str(f)!r} names a folder, not a file")
    if path.suffix.lower() == ".npz":
        if metadata is not None:
            raise ValueError(f"save: metadata is not stored in .npz files ({describe(path)}); "
                             "use another name")
        with atomic_path(path) as temporary:
            _write_npz(temporary, _flat_arrays(obj))
        return path
    arrays, stored = _checkpoint(obj, metadata)
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        write_safetensors(handle, arrays, stored)
    return path


def _flat_arrays(state_dict) -> dict[str, np.ndarray]:
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"save: a .npz holds a mapping of names to tensors, got {type(state_dict).__name__}; "
                        "save it under another name (e.g. 'checkpoint.pth') to use dendrite's own format")
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"save: keys must be non-empty strings, got {key!r}")
        arrays[key] = _host_array(value, key)
    return arrays


def _checkpoint(obj, metadata) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays and the header metadata (checksums, and the structure unless a plain state dict)."""
    stored = dict(metadata or {})
    if _is_state_dict(obj):
        arrays = {key: _host_array(value, key) for key, value in obj.items()}
    else:
        tree, arrays = flatten(obj)
        text = json.dumps(tree, separators=(",", ":"), allow_nan=False)
        stored[TREE_KEY], stored[TREE_CHECKSUM_KEY] = text, _tree_digest(text)
    stored[METADATA_KEY] = digest(arrays)
    return arrays, stored


def _write_npz(path: Path, arrays: dict) -> None:
    """What ``numpy.savez`` writes, without its keyword clashes (a key named ``file``) or pickling,
    plus the arrays' SHA-256 in the zip comment."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.comment = ZIP_COMMENT_PREFIX + digest(arrays).encode()
        for key, array in arrays.items():
            with archive.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None,
         mmap: bool | None = None, max_bytes: int | None = None):
    """Load what :func:`save` wrote, or a PyTorch / safetensors / NumPy weights file, from a path or file.

    Returns the saved structure: a dendrite checkpoint comes back as it was saved (dicts, lists,
    tuples, numbers, strings, ``None``; tensors as tensors), a plain weights file as
    ``{name: Tensor}``. The format is told by the file's first bytes, not its name: dendrite's
    safetensors-based files, safetensors from anywhere, ``.npz``, or PyTorch's ``.pt``/``.pth``
    state dicts (read without torch and without unpickling; see :mod:`dendrite.interop.torch_reader`).

    PyTorch's arguments are accepted so ``torch.load`` calls run unchanged: ``map_location``
    (``None``, ``"cpu"``, a CPU device, a dict mapping to CPU, or a function -- everything loads to
    the CPU; ``"cuda"`` is refused, dendrite has no GPU), ``weights_only`` (``True`` or
    ``False``: dendrite never unpickles either way), ``mmap`` (the file is read into memory). A
    ``pickle_module`` is refused.

    Raises :class:`WeightsFileError` naming the file (and the key, where one is at fault)
    when it is truncated, corrupt, fails its checksum, holds pickled objects, is not a file of
    named weights, or declares a tensor larger than ``max_bytes`` (per tensor and for the whole file;
    ``None``: :data:`dendrite.interop.file_limits.DEFAULT_MAX_BYTES`, 4 GiB) -- checked before allocating.
    ``bfloat16`` tensors (safetensors ``BF16``, PyTorch ``torch.bfloat16``) are widened to float32,
    exactly (NumPy has no bfloat16).

    Example:
        >>> import io
        >>> import dendrite
        >>> _ = dendrite.save({"b": dendrite.zeros(3)}, "b.npz")
        >>> dendrite.load("b.npz")["b"].shape
        (3,)
        >>> buffer = io.BytesIO()
        >>> dendrite.save({"step": 7, "sizes": (2, 3)}, buffer)
        >>> _ = buffer.seek(0)
        >>> dendrite.load(buffer, map_location="cpu", weights_only=True)
        {'step': 7, 'sizes': (2, 3)}
    """
    _check_map_location(map_location)
    if pickle_module is not None:
        raise ValueError("load: pickle_module is not used: dendrite never unpickles files (it reads PyTorch "
                         "files by interpreting their tensors only); leave it out")
    if weights_only not in (None, True, False) or mmap not in (None, True, False):
        raise TypeError(f"load: weights_only and mmap must be True, False or None, got {weights_only!r}, "
                        f"{mmap!r}")
    source: Source
    if is_file_object(f):
        budget = SizeBudget(describe(f)[1:-1], max_bytes)
        source = _read_file_object(f, budget.limit)
    elif isinstance(f, (str, os.PathLike)):
        source = Path(f)
        if not source.exists():
            raise FileNotFoundError(f"load: no such file {describe(source)}")
        if not source.is_file():
            raise WeightsFileError(f"load: {describe(source)} is not a file")
        budget = SizeBudget(source, max_bytes)
    else:
        raise TypeError(f"load: f must be a path or a binary file object, got {type(f).__name__}")
    where = describe(source)
    tree = None
    try:
        kind = sniff_format(source)
        if kind == "safetensors":
            arrays, metadata = read_safetensors(source, budget)
            expected = metadata.get(METADATA_KEY)
            tree = _read_tree(metadata, where)
        elif kind == "npz":
            arrays, expected = read_npz(source, budget), _zip_checksum(source)
        else:
            arrays, expected = _load_torch(source, budget), None
    except (WeightsFileError, ImportError):
        raise
    except Exception as error:  # zipfile, OSError, JSON: all mean "not a sound weights file"
        raise WeightsFileError(
            f"load: {where} is not a readable weights file (truncated or corrupt?): "
            f"{type(error).__name__}: {error}"
        ) from error
    if expected is not None and expected != digest(arrays):
        raise WeightsFileError(
            f"load: {where} fails its SHA-256 checksum: its contents changed after dendrite wrote "
            "it (a flipped bit, a damaged disk or copy); restore it from a good copy"
        )
    if tree is not None:
        return unflatten(tree, arrays, where)
    return {key: wrap(value) for key, value in arrays.items()}


def _check_map_location(map_location) -> None:
    """Everything loads to the CPU: accept the ways of saying so, refuse a GPU with a clear message."""
    if map_location is None or callable(map_location):
        return  # a function (``lambda storage, loc: storage``) only ever sees CPU storage here
    targets = map_location.values() if isinstance(map_location, Mapping) else [map_location]
    for target in targets:
        name = str(target)
        if not (isinstance(target, str) or hasattr(target, "type")):
            raise TypeError(f"load: map_location must be a device name, a device, a dict or a function, "
                            f"got {type(target).__name__}")
        if name.split(":")[0] != "cpu":
            raise ValueError(f"load: map_location={map_location!r}: dendrite computes on the CPU with NumPy "
                             f"and has no {name!r} device; leave map_location out or pass 'cpu'")


def _read_file_object(handle, limit: int) -> io.BytesIO:
    """The rest of the binary file object ``handle`` as an ``io.BytesIO`` (keeping its ``name``).

    A stream longer than ``limit`` plus headroom for headers is refused before it is read in full.
    """
    if not hasattr(handle, "read"):
        raise TypeError(f"load: the file object {describe(handle)} cannot be read; open it with mode 'rb'")
    data = handle.read(limit + _HEADROOM + 1)
    if isinstance(data, str):
        raise TypeError(f"load: the file object {describe(handle)} is open in text mode; "
                        "open it with mode 'rb'")
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"load: reading the file object gave a {type(data).__name__}, not bytes")
    if len(data) > limit + _HEADROOM:
        raise WeightsFileError(f"load: {describe(handle)} holds more than {limit + _HEADROOM} bytes, over "
                               "the limit; if it is trusted, raise it with load(..., max_bytes=N)")
    buffer = io.BytesIO(data)
    buffer.name = str(getattr(handle, "name", "<file object>"))
    return buffer


def _read_tree(metadata: dict, where: str):
    """The checkpoint structure stored in the header, checked against its SHA-256; None for a plain file."""
    text = metadata.get(TREE_KEY)
    if text is None:
        return None
    if metadata.get(TREE_CHECKSUM_KEY) != _tree_digest(text):
        raise WeightsFileError(f"load: {where}: the checkpoint's structure fails its SHA-256 checksum: it "
                               "changed after dendrite wrote it; restore the file from a good copy")
    return json.loads(text)


def _zip_checksum(path: Source) -> str | None:
    if isinstance(path, io.BytesIO):
        path.seek(0)
    with zipfile.ZipFile(path) as archive:
        comment = archive.comment
    if not comment.startswith(ZIP_COMMENT_PREFIX[:8]):
        return None  # not written by dendrite (or by a version before checksums)
    checksum = comment[len(ZIP_COMMENT_PREFIX):].decode("ascii", "replace")
    if not comment.startswith(ZIP_COMMENT_PREFIX) or len(checksum) != 64:
        raise WeightsFileError(f"load: {describe(path)}: its checksum record {comment[:90]!r} is damaged")
    return checksum


def _load_torch(path: Source, budget: SizeBudget) -> dict:
    state = read_torch(path, budget)
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping):
        raise WeightsFileError(f"load: {describe(path)} holds a {type(state).__name__}, not a state_dict")
    arrays = {}
    for key, value in state.items():
        if not isinstance(value, np.ndarray):
            hint = (" (a training checkpoint? save model.state_dict() on its own)"
                    if isinstance(value, Mapping) else "")
            raise WeightsFileError(
                f"load: {describe(path)}: entry {key!r} is a {type(value).__name__}, not a tensor{hint}"
            )
        arrays[str(key)] = value
    return arrays
