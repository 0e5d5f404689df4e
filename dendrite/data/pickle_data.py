"""Read a pickle as plain data, never as code: lists, dicts, numbers, strings and NumPy arrays.

Some datasets ship as pickles (CIFAR-10's "python version" is a pickled dict holding a
NumPy array). ``pickle.load`` would run whatever the file asks for, so dendrite never calls it.
``read_pickle_data`` walks the opcodes that the stdlib's ``pickletools.genops`` parses out of the
bytes (a parser: it executes nothing) and builds only plain values itself:

* ``None``, ``bool``, ``int``, ``float``, ``str``, ``bytes`` (Python 2 ``str`` becomes ``bytes``),
  ``bytearray``, ``list``, ``tuple`` and ``dict``, with the memo (shared references) kept;
* NumPy arrays of numbers (bool, int, uint, float, complex) and their dtypes, rebuilt here with
  ``np.frombuffer`` from the raw bytes and a checked shape, whichever way NumPy pickled them
  (``_reconstruct`` + ``BUILD`` for protocols 0-4, ``_frombuffer`` for protocol 5), and NumPy
  scalars (``multiarray.scalar``);
* the two stand-ins Python 3 writes for ``bytes``/``bytearray`` under protocols 0-2
  (``_codecs.encode(text, 'latin1')``, ``bytes()``, ``bytearray(data)``), read as those values.

The names of those callables are the only references to code a file may hold, and none is
imported or called: each is matched as text and interpreted here. Any other reference (say
``os.system``), class instance, persistent id, extension code, out-of-band buffer, object array,
or a damaged file raises ``DataFileError`` naming the byte offset and what was expected.

Memory: each opcode pushes at most one stack entry and stores at most one memo entry (a dict,
so a huge memo index allocates nothing), and arrays are checked against the bytes the file
holds before they are built, so a hostile file costs memory in proportion to its own size.
"""

from __future__ import annotations

import io
import pickletools
import re
from pathlib import Path

import numpy as np

from dendrite.data.file_errors import DataFileError

__all__ = ["brief_repr", "read_pickle_data"]

_PLAIN_ONLY = ("dendrite reads pickles only as plain data (lists, dicts, numbers, strings, NumPy "
               "arrays) and never runs code from a file")

# The only names a file may mention, as "module.name" -> what this module does for them.
_ALLOWED = {
    "numpy.core.multiarray._reconstruct": "reconstruct",
    "numpy._core.multiarray._reconstruct": "reconstruct",
    "numpy.core.numeric._frombuffer": "frombuffer",
    "numpy._core.numeric._frombuffer": "frombuffer",
    "numpy.core.multiarray.scalar": "scalar",
    "numpy._core.multiarray.scalar": "scalar",
    "numpy.ndarray": "ndarray",
    "numpy.dtype": "dtype",
    "_codecs.encode": "encode",  # Python 3 bytes under protocols 0-2: encode(text, 'latin1')
    "builtins.bytes": "bytes", "__builtin__.bytes": "bytes",
    "builtins.bytearray": "bytearray", "__builtin__.bytearray": "bytearray",
}

# Opcodes refused outright, with what they would have meant.
_REFUSED = {
    "PERSID": "a persistent id (a reference to an object outside the file)",
    "BINPERSID": "a persistent id (a reference to an object outside the file)",
    "EXT1": "an extension-registry code (a reference to a registered class)",
    "EXT2": "an extension-registry code (a reference to a registered class)",
    "EXT4": "an extension-registry code (a reference to a registered class)",
    "INST": "an instruction to create a class instance (INST)",
    "OBJ": "an instruction to create a class instance (OBJ)",
    "NEWOBJ": "an instruction to create a class instance (NEWOBJ)",
    "NEWOBJ_EX": "an instruction to create a class instance (NEWOBJ_EX)",
    "NEXT_BUFFER": "an out-of-band buffer (data kept outside the file)",
    "READONLY_BUFFER": "an out-of-band buffer (data kept outside the file)",
}

# NumPy dtype descriptors of numbers: kind letter + item size, optionally with a byte order.
_NUMERIC_DESCR = re.compile(r"[<>|=]?[biufc]\d{1,2}")


class _Global:
    """A name the file mentioned (one of ``_ALLOWED``); never imported."""

    def __init__(self, name: str, kind: str) -> None:
        self.name, self.kind = name, kind


class _Pending:
    """A NumPy array or dtype between its REDUCE and its BUILD; ``result`` is set by BUILD."""

    def __init__(self, kind: str, descr: str = "") -> None:
        self.kind, self.descr, self.result = kind, descr, None


class _Reader:
    """One pass over one file's opcodes: the stack, the marks and the memo."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stack: list = []
        self.marks: list = []  # the stacks saved by MARK
        self.memo: dict = {}

    def fail(self, problem: str) -> DataFileError:
        return DataFileError(self.path, problem)

    def pop_mark(self, name: str, pos: int) -> list:
        if not self.marks:
            raise self.fail(f"has {name} without a MARK at byte {pos}; the pickle is damaged")
        items, self.stack = self.stack, self.marks.pop()
        return items

    def run(self, data: bytes) -> object:
        pos, name = 0, "the start"
        try:
            for opcode, arg, pos in pickletools.genops(io.BytesIO(data)):
                name = opcode.name
                self.step(name, arg, pos)
        except DataFileError:
            raise
        except IndexError:
            raise self.fail(f"has {name} at byte {pos} with too few values on the stack; "
                            "the pickle is damaged") from None
        except TypeError:
            raise self.fail(f"has {name} at byte {pos} on values of the wrong kind; the pickle is "
                            "damaged") from None
        except RecursionError:  # hashing a key nested thousands of tuples deep
            raise self.fail(f"nests values too deeply at byte {pos}; expected plain data") from None
        except ValueError as error:  # pickletools: truncated, unknown opcode, bad text
            raise self.fail(f"is not a readable pickle after byte {pos} ({error}); expected a "
                            "complete pickle ending in STOP") from None
        if len(self.stack) != 1 or self.marks:
            raise self.fail(f"ends at byte {pos} with {len(self.stack)} values and {len(self.marks)} "
                            "open MARKs; expected exactly one value (the pickle is damaged)")
        result = self.stack[0]
        _check_finished(result, self.fail)
        return result

    def step(self, name: str, arg, pos: int) -> None:
        stack = self.stack
        if name in ("PROTO", "FRAME", "STOP"):
            if name == "PROTO" and not 0 <= arg <= 5:
                raise self.fail(f"declares pickle protocol {arg} at byte {pos}; expected 0 to 5")
        elif name in ("NONE", "NEWTRUE", "NEWFALSE"):
            stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
        elif name in ("INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT",
                      "BINFLOAT", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8",
                      "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"):
            stack.append(arg)  # pickletools decoded the value (INT gives True/False for 01/00)
        elif name in ("STRING", "BINSTRING", "SHORT_BINSTRING"):
            stack.append(arg.encode("latin-1"))  # Python 2 str: pickletools gives latin-1 text
        elif name == "MARK":
            self.marks.append(stack)
            self.stack = []
        elif name == "POP":
            if stack:
                stack.pop()
            else:
                self.pop_mark(name, pos)
        elif name == "POP_MARK":
            self.pop_mark(name, pos)
        elif name == "DUP":
            stack.append(stack[-1])
        elif name in ("EMPTY_LIST", "EMPTY_DICT", "EMPTY_TUPLE"):
            stack.append({"EMPTY_LIST": [], "EMPTY_DICT": {}, "EMPTY_TUPLE": ()}[name])
        elif name in ("LIST", "TUPLE", "DICT"):
            items = self.pop_mark(name, pos)
            value = list(items) if name == "LIST" else tuple(items) if name == "TUPLE" else {}
            if name == "DICT":
                self.set_items(value, items, pos)
            self.stack.append(value)
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            size = int(name[-1])
            if len(stack) < size:
                raise IndexError(name)
            items = tuple(stack[-size:])
            del stack[-size:]
            stack.append(items)
        elif name in ("APPEND", "APPENDS"):
            items = [stack.pop()] if name == "APPEND" else self.pop_mark(name, pos)
            self.target(list, name, pos).extend(items)
        elif name in ("SETITEM", "SETITEMS"):
            if name == "SETITEM":
                items = stack[-2:]
                if len(items) < 2:
                    raise IndexError(name)
                del stack[-2:]
            else:
                items = self.pop_mark(name, pos)
            self.set_items(self.target(dict, name, pos), items, pos)
        elif name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
            key = len(self.memo) if name == "MEMOIZE" else arg
            if key < 0:
                raise self.fail(f"stores memo entry {key} at byte {pos}; expected a non-negative index")
            self.memo[key] = stack[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            if arg not in self.memo:
                raise self.fail(f"refers to memo entry {arg} at byte {pos}, which was never stored; "
                                "the pickle is damaged")
            value = self.memo[arg]
            stack.append(value.result if isinstance(value, _Pending) and value.result is not None
                         else value)
        elif name in ("GLOBAL", "STACK_GLOBAL"):
            if name == "GLOBAL":
                module, _, attribute = arg.partition(" ")
            else:
                attribute, module = stack.pop(), stack.pop()
                if not isinstance(module, str) or not isinstance(attribute, str):
                    raise self.fail(f"has STACK_GLOBAL at byte {pos} without two names; the pickle "
                                    "is damaged")
            full = f"{module}.{attribute}"
            if full not in _ALLOWED:
                raise self.fail(f"holds a reference to {brief_repr(full, 100)[1:-1]} at byte {pos}; "
                                f"{_PLAIN_ONLY}")
            stack.append(_Global(full, _ALLOWED[full]))
        elif name == "REDUCE":
            args = stack.pop()
            stack[-1] = self.reduce(stack[-1], args, pos)
        elif name == "BUILD":
            state = stack.pop()
            stack[-1] = self.build(stack[-1], state, pos)
        elif name in _REFUSED:
            raise self.fail(f"holds {_REFUSED[name]} at byte {pos}; {_PLAIN_ONLY}")
        else:
            raise self.fail(f"holds the pickle opcode {name} at byte {pos}, which dendrite does not "
                            f"read; {_PLAIN_ONLY}")

    def target(self, kind: type, name: str, pos: int):
        if not self.stack or type(self.stack[-1]) is not kind:
            found = type(self.stack[-1]).__name__ if self.stack else "nothing"
            raise self.fail(f"has {name} at byte {pos} on {found}; expected a {kind.__name__}")
        return self.stack[-1]

    def set_items(self, target: dict, items: list, pos: int) -> None:
        if len(items) % 2:
            raise self.fail(f"has an odd number of keys and values at byte {pos}; the pickle is damaged")
        for key, value in zip(items[::2], items[1::2]):
            try:
                target[key] = value
            except TypeError:
                raise self.fail(f"has a dict key of type {type(key).__name__} at byte {pos}; "
                                "expected a number, string, bytes or tuple") from None

    def reduce(self, func, args, pos: int):
        """Interpret a call to one of the allowed names (nothing is imported or called)."""
        if not isinstance(func, _Global) or not isinstance(args, tuple):
            raise self.fail(f"has REDUCE at byte {pos} on a {type(func).__name__}; expected a call "
                            "of a NumPy array or dtype constructor (the pickle is damaged)")
        kind, where = func.kind, f"{func.name} at byte {pos}"
        if kind == "reconstruct":  # _reconstruct(ndarray, (0,), b'b'): the array comes in BUILD
            if not args or not (isinstance(args[0], _Global) and args[0].kind == "ndarray"):
                raise self.fail(f"calls {where} for something other than numpy.ndarray; {_PLAIN_ONLY}")
            return _Pending("array")
        if kind == "dtype":  # dtype('u1', False, True): the byte order comes in BUILD
            descr = args[0].decode("latin-1") if args and isinstance(args[0], bytes) else \
                args[0] if args else None
            if not isinstance(descr, str) or not _NUMERIC_DESCR.fullmatch(descr):
                raise self.fail(f"holds a NumPy dtype {brief_repr(descr)} at {where}; expected a dtype of "
                                "numbers (bool, int, uint, float, complex), not Python objects or "
                                f"records; {_PLAIN_ONLY}")
            return _Pending("dtype", descr)
        if kind == "frombuffer" and len(args) in (4, 5):  # protocol 5: (buffer, dtype, shape, order)
            buffer, dtype, shape, order = args[:4]
            axes = args[4] if len(args) == 5 else None
            return self.array(bytes(buffer) if isinstance(buffer, bytearray) else buffer, dtype,
                              shape, order, axes, where)
        if kind == "scalar" and len(args) == 2 and isinstance(args[0], np.dtype):
            array = self.array(args[1], args[0], (), "C", None, where)
            return array[()]
        if kind == "encode" and len(args) == 2 and isinstance(args[0], str) and \
                isinstance(args[1], str) and args[1] in ("latin1", "latin-1"):
            return args[0].encode("latin-1")
        if kind in ("bytes", "bytearray") and (args == () or len(args) == 1 and isinstance(args[0], bytes)):
            return (bytes if kind == "bytes" else bytearray)(*args)
        raise self.fail(f"calls {where} with arguments of types "
                        f"{[type(a).__name__ for a in args]}; expected the form NumPy or Python 3 "
                        f"write for plain data; {_PLAIN_ONLY}")

    def build(self, pending, state, pos: int):
        if not isinstance(pending, _Pending) or pending.result is not None:
            raise self.fail(f"has BUILD at byte {pos} on a {type(pending).__name__}; expected a NumPy "
                            f"array or dtype being rebuilt; {_PLAIN_ONLY}")
        where = f"the NumPy {pending.kind} at byte {pos}"
        if pending.kind == "dtype":
            # (version, byte order, subarray, names, fields, elsize, alignment, flags[, metadata]);
            # Python 2 wrote the byte order as a str, which is bytes here.
            if isinstance(state, tuple) and len(state) > 1 and isinstance(state[1], bytes):
                state = state[:1] + (state[1].decode("latin-1"),) + state[2:]
            if not (isinstance(state, tuple) and len(state) in (8, 9) and isinstance(state[1], str)
                    and state[1] in ("<", ">", "|", "=") and all(part is None for part in state[2:5])):
                raise self.fail(f"gives {where} the state {brief_repr(state)}; expected a plain dtype's "
                                "(version, byte order, None, None, None, ...)")
            try:
                pending.result = np.dtype(pending.descr.lstrip("<>|=")).newbyteorder(state[1])
            except TypeError:  # a kind and size NumPy lacks, e.g. 'f3'
                raise self.fail(f"holds a NumPy dtype {pending.descr!r} at byte {pos}, which NumPy does "
                                "not know; expected a dtype of numbers such as 'u1' or '<f4'") from None
        else:
            # (version, shape, dtype, is_fortran, raw bytes); NumPy before 1.0 left out the version
            state = state[1:] if isinstance(state, tuple) and len(state) == 5 else state
            if not (isinstance(state, tuple) and len(state) == 4 and isinstance(state[1], np.dtype)
                    and type(state[2]) in (bool, int) and state[2] in (0, 1)
                    and isinstance(state[3], (bytes, bytearray))):
                raise self.fail(f"gives {where} the state {brief_repr(state)}; expected (version, shape, "
                                "dtype of numbers, is_fortran, raw bytes)")
            array = self.array(bytes(state[3]), state[1], state[0], "F" if state[2] else "C", None, where)
            # As NumPy's own __setstate__ does: data of the other byte order is swapped to native.
            native = state[1].newbyteorder("=")
            pending.result = array if array.dtype == native else array.astype(native, order="K")
        return pending.result

    def array(self, raw, dtype, shape, order, axes, where: str) -> np.ndarray:
        """``np.frombuffer(raw, dtype).reshape(shape)`` after checking every part."""
        if not (isinstance(raw, bytes) and isinstance(dtype, np.dtype) and dtype.kind in "biufc"
                and isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)
                and isinstance(order, str) and order in ("C", "F", "K")):
            raise self.fail(f"holds {where} with an unreadable layout (data {brief_repr(raw)}, dtype "
                            f"{brief_repr(dtype)}, shape {brief_repr(shape)}, order {brief_repr(order)}); "
                            "expected raw bytes, a dtype of "
                            "numbers, a shape of sizes and order 'C' or 'F'")
        expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if len(raw) != expected:
            raise self.fail(f"holds {where} with {len(raw)} bytes of data; its shape {brief_repr(shape)} of "
                            f"{dtype} needs {expected} bytes (the pickle is damaged)")
        try:
            flat = np.frombuffer(raw, dtype=dtype)
            if order == "K" and axes is not None:  # protocol 5, neither C nor F: C data, then axes
                array = flat.reshape(shape, order="C").transpose(tuple(axes))
            else:
                array = flat.reshape(shape, order="F" if order == "F" else "C")
        except (ValueError, TypeError) as error:
            raise self.fail(f"holds {where} that NumPy cannot shape as {brief_repr(shape)}: {error}") \
                from None
        return array.copy(order="K")  # writable, owning its memory, in the file's layout


def brief_repr(value: object, limit: int = 60) -> str:
    """A short description of a value read from a file, for an error message.

    Numbers and short strings appear as ``repr``; long strings are cut at ``limit`` characters,
    arrays give their dtype and shape, and containers their size (a short tuple of plain items
    is shown), so a huge or deeply nested value never makes a huge message.

    Example:
        >>> brief_repr((3, b"|", None)), brief_repr("x" * 100, 5), brief_repr([[1]] * 9)
        ("(3, b'|', None)", "'xxxxx'... (100 characters)", 'a list of 9 items')
    """
    if isinstance(value, (str, bytes, bytearray)):
        unit = "characters" if isinstance(value, str) else "bytes"
        return repr(value[:limit]) + (f"... ({len(value)} {unit})" if len(value) > limit else "")
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an int of {value.bit_length()} bits"
    if value is None or isinstance(value, (bool, int, float, complex, np.generic, np.dtype)):
        return repr(value)[:limit]
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    if isinstance(value, tuple) and len(value) <= 9 and not any(
            isinstance(item, (list, tuple, dict, np.ndarray)) for item in value):
        items = [brief_repr(item, 20) for item in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, (list, tuple, dict)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {type(value).__name__}"


def _check_finished(result: object, fail) -> None:
    """Every array/dtype got its BUILD, and no bare name is left in the result."""
    seen, todo = set(), [result]
    while todo:
        value = todo.pop()
        if isinstance(value, (_Global, _Pending)):
            what = value.name if isinstance(value, _Global) else f"an unfinished NumPy {value.kind}"
            raise fail(f"holds {what} as a value; expected plain data ({_PLAIN_ONLY})")
        if isinstance(value, (list, tuple, dict)) and id(value) not in seen:
            seen.add(id(value))
            todo.extend(value.items() if isinstance(value, dict) else value)


def read_pickle_data(path: str | Path) -> object:
    """The plain data a pickle file holds, read without unpickling it (nothing in it runs).

    Args:
        path: a pickle written with protocol 0 to 5 (Python 2's ``cPickle`` included).

    Returns:
        ``None``/``bool``/``int``/``float``/``str``/``bytes``/``bytearray``, lists, tuples and dicts
        of those, and NumPy arrays (or scalars) of numbers, as ``pickle.load`` would give them.

    Raises:
        DataFileError: the file holds anything else (a reference to other code, a class instance,
            an object array, ...) or is damaged; the message gives the byte offset.

    Example (written by the stdlib here; dendrite only reads it):
        >>> import pickle
        >>> _ = open("batch.pkl", "wb").write(pickle.dumps({b"labels": [3, 1], "data": np.eye(2)}))
        >>> read_pickle_data("batch.pkl")
        {b'labels': [3, 1], 'data': array([[1., 0.],
               [0., 1.]])}
        >>> _ = open("evil.pkl", "wb").write(b"cos\\nsystem\\n(S'echo hi'\\ntR.")
        >>> read_pickle_data("evil.pkl")
        Traceback (most recent call last):
        ...
        dendrite.data.file_errors.DataFileError: evil.pkl: holds a reference to os.system at byte 0; ...
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_pickle_data: {path} does not exist")
    data = path.read_bytes()
    if not data:
        raise DataFileError(path, "is empty; expected a pickle")
    return _Reader(path).run(data)
