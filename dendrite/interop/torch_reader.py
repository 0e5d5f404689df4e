"""Read a PyTorch ``.pt`` / ``.pth`` file without unpickling it, and without torch.

``torch.save`` writes a zip: ``ARCHIVE/data.pkl`` (a pickle describing the tensors and their
containers) and one member ``ARCHIVE/data/KEY`` per storage. Here the pickle is never run: its
opcodes are *interpreted* (:mod:`pickletools` lists them), and only what a state_dict needs is
understood -- dicts (``collections.OrderedDict``), lists, tuples, strings, numbers, and tensors
rebuilt by ``torch._utils._rebuild_tensor_v2`` from a storage. Any other global (a function, a
class) is refused by name; nothing named in the file is imported or called.

Each storage's size and each tensor's extent (a stride-0 *expanded* view is tiny on disk but
materializes in full) are charged to the :class:`~dendrite.interop.file_limits.SizeBudget`
before allocating. ``bfloat16`` is widened to float32. PyTorch's legacy (pre-1.6, non-zip)
format is refused: re-save it with a current torch.
"""

from __future__ import annotations

import pickletools
import zipfile

import numpy as np

from dendrite.interop.file_limits import SizeBudget, WeightsFileError
from dendrite.interop.file_source import Source, describe, open_binary

__all__ = ["read_torch"]

_STORAGES = {"FloatStorage": "f4", "DoubleStorage": "f8", "HalfStorage": "f2", "BFloat16Storage": "bf16",
             "LongStorage": "i8", "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1",
             "ByteStorage": "u1", "BoolStorage": "?"}
_GLOBALS = {("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"),
            ("torch._utils", "_rebuild_parameter")} | {("torch", name) for name in _STORAGES}
_MARK = object()


class _Global(tuple):
    pass


class _Reader:
    def __init__(self, archive: zipfile.ZipFile, prefix: str, budget: SizeBudget, where: str, order: str):
        self.archive, self.prefix, self.budget, self.where, self.order = archive, prefix, budget, where, order
        self.storages: dict[str, tuple[np.ndarray, bool]] = {}

    def refuse(self, what: str):
        raise WeightsFileError(f"load: {self.where}: {what}; dendrite reads only tensors in plain containers "
                               "from PyTorch files and never unpickles anything else")

    def storage(self, pid) -> tuple[np.ndarray, bool]:
        if (not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != "storage"
                or not isinstance(pid[1], _Global) or not isinstance(pid[2], str) or type(pid[4]) is not int):
            self.refuse(f"persistent id {pid!r} is not a storage")
        _, kind, key, _, count = pid
        if key in self.storages:
            return self.storages[key]
        code = _STORAGES[kind[1]]
        bf16 = code == "bf16"
        dtype = np.dtype(self.order + ("u2" if bf16 else code))
        name = f"{self.prefix}data/{key}"
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise WeightsFileError(f"load: {self.where}: storage {key!r} is missing "
                                   "(truncated or corrupt)") from None
        if count < 0 or info.file_size != count * dtype.itemsize:
            raise WeightsFileError(f"load: {self.where}: storage {key!r} declares {count} elements but holds "
                                   f"{info.file_size} bytes (corrupt)")
        self.budget.take(f"storage {name}", count * dtype.itemsize)
        array = np.empty(count, dtype=dtype)
        with self.archive.open(info) as member:
            view = array.view(np.uint8)
            if member.readinto(memoryview(view)) != view.size:
                raise WeightsFileError(f"load: {self.where}: storage {key!r} ends early (truncated)")
        self.storages[key] = (array, bf16)
        return self.storages[key]

    def tensor(self, args: tuple, name: str) -> np.ndarray:
        if len(args) < 4 or not isinstance(args[0], tuple) or len(args[0]) != 2:
            self.refuse(f"tensor {name!r} is not rebuilt from a storage")
        (storage, bf16), offset, size, stride = args[0], args[1], args[2], args[3]
        if not (type(offset) is int and isinstance(size, tuple) and isinstance(stride, tuple)
                and len(size) == len(stride) and all(type(v) is int for v in size + stride)
                and offset >= 0 and all(v >= 0 for v in size + stride)):
            raise WeightsFileError(f"load: {self.where}: tensor {name!r} has a malformed view "
                                   f"(offset {offset!r}, size {size!r}, stride {stride!r})")
        count = int(np.prod(size, dtype=object))
        if count and offset + sum((s - 1) * t for s, t in zip(size, stride)) >= storage.size:
            raise WeightsFileError(f"load: {self.where}: tensor {name!r} reaches outside its storage "
                                   "(corrupt)")
        if count == storage.size and offset == 0 and stride == _contiguous(size) and not bf16:
            array = storage.reshape(size)  # the usual case: the tensor is its whole storage, no copy
        else:  # a part of a storage, an expanded view, or bf16 widened: a new array, charged in full
            self.budget.take(name, count * (4 if bf16 else storage.itemsize))
            window = storage[offset:] if count else storage[:0]
            strides = tuple(t * storage.itemsize for t in stride)
            array = np.lib.stride_tricks.as_strided(window, size, strides, writeable=False)
            if bf16:
                array = (array.astype(np.uint32) << 16).view(np.float32)
            else:
                array = np.array(array)
        return array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))

    def run(self, data: bytes):
        stack: list = []
        memo: dict = {}
        last_string = tensor_name = ""  # the dict key a tensor is stored under, for messages
        for opcode, argument, _ in pickletools.genops(data):
            name = opcode.name
            if name in ("PROTO", "FRAME"):
                continue
            if name == "STOP":
                return stack.pop()
            if name in ("EMPTY_DICT", "EMPTY_LIST", "EMPTY_TUPLE"):
                stack.append({} if name == "EMPTY_DICT" else [] if name == "EMPTY_LIST" else ())
            elif name == "MARK":
                stack.append(_MARK)
            elif name in ("BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "BININT", "BININT1", "BININT2",
                          "LONG1", "BINFLOAT"):
                stack.append(argument)
                if isinstance(argument, str):
                    last_string = argument
            elif name in ("NEWTRUE", "NEWFALSE", "NONE"):
                stack.append({"NEWTRUE": True, "NEWFALSE": False, "NONE": None}[name])
            elif name in ("BINPUT", "LONG_BINPUT"):
                memo[argument] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in ("BINGET", "LONG_BINGET"):
                stack.append(memo[argument])
                if isinstance(stack[-1], _Global) and stack[-1][1] == "_rebuild_tensor_v2":
                    tensor_name = last_string
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                size = int(name[-1])
                items = tuple(stack[-size:])
                del stack[-size:]
                stack.append(items)
            elif name in ("TUPLE", "APPENDS", "SETITEMS"):
                at = max(index for index, item in enumerate(stack) if item is _MARK)  # by identity
                items = stack[at + 1:]
                del stack[at:]
                if name == "TUPLE":
                    stack.append(tuple(items))
                elif name == "APPENDS":
                    stack[-1].extend(items)
                else:
                    stack[-1].update(zip(items[::2], items[1::2]))
            elif name == "APPEND":
                item = stack.pop()
                stack[-1].append(item)
            elif name == "SETITEM":
                value, key = stack.pop(), stack.pop()
                stack[-1][key] = value
            elif name == "GLOBAL":
                module, _, attribute = argument.partition(" ")
                if (module, attribute) not in _GLOBALS:
                    self.refuse(f"it names {module}.{attribute}")
                stack.append(_Global((module, attribute)))
                if attribute == "_rebuild_tensor_v2":
                    tensor_name = last_string
            elif name == "BINPERSID":
                stack.append(self.storage(stack.pop()))
            elif name == "REDUCE":
                args, function = stack.pop(), stack.pop()
                if not isinstance(function, _Global) or not isinstance(args, tuple):
                    self.refuse(f"it calls a {type(function).__name__}")
                if function == ("collections", "OrderedDict") and args == ():
                    stack.append({})
                elif function == ("torch._utils", "_rebuild_tensor_v2"):
                    stack.append(self.tensor(args, tensor_name))
                elif function == ("torch._utils", "_rebuild_parameter") and args:
                    stack.append(args[0])
                else:
                    self.refuse(f"it calls {function!r} with {type(args).__name__} arguments")
            elif name == "BUILD":
                stack.pop()  # an OrderedDict's or a tensor's extra state (metadata): not needed
            else:
                self.refuse(f"it holds the pickle operation {name}")
        raise WeightsFileError(f"load: {self.where}: data.pkl ends without STOP (truncated)")


def _contiguous(size: tuple) -> tuple:
    strides, step = [], 1
    for extent in reversed(size):
        strides.append(step)
        step *= extent
    return tuple(reversed(strides))


def read_torch(path: Source, budget: SizeBudget):
    """What ``torch.save`` stored at ``path`` (dicts, lists, NumPy arrays for tensors), never unpickled.

    Example:
        >>> import torch
        >>> torch.save({"w": torch.ones(2)}, "w.pt")
        >>> from pathlib import Path
        >>> read_torch(Path("w.pt"), SizeBudget("w.pt"))
        {'w': array([1., 1.], dtype=float32)}
    """
    where = describe(path)
    with open_binary(path) as handle:
        return _read_archive(handle, budget, where)


def _read_archive(handle, budget: SizeBudget, where: str):
    if not zipfile.is_zipfile(handle):
        raise WeightsFileError(f"load: {where} is a legacy (pre-1.6) PyTorch pickle; dendrite does not "
                               "unpickle it: re-save it with a current torch.save, or as .safetensors")
    handle.seek(0)
    with zipfile.ZipFile(handle) as archive:
        pickles = [name for name in archive.namelist() if name.endswith("data.pkl")]
        if len(pickles) != 1:
            raise WeightsFileError(f"load: {where} is a zip but not a PyTorch file (no single data.pkl)")
        prefix = pickles[0][: -len("data.pkl")]
        names = set(archive.namelist())
        order = "<"
        if prefix + "byteorder" in names and archive.read(prefix + "byteorder").strip() == b"big":
            order = ">"
        info = archive.getinfo(pickles[0])
        budget.take(pickles[0], info.file_size)
        try:
            return _Reader(archive, prefix, budget, where, order).run(archive.read(info))
        except (IndexError, KeyError, ValueError, TypeError, AttributeError) as error:
            if isinstance(error, WeightsFileError):
                raise
            raise WeightsFileError(f"load: {where}: data.pkl is malformed (corrupt or crafted): "
                                   f"{type(error).__name__}: {error}") from None
