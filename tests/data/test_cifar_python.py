"""CIFAR-10's python batches and ``read_pickle_data``: pickles read as data, never unpickled.

The pickles here are written by the stdlib's ``pickle.dumps`` (the library only parses them),
plus one assembled opcode by opcode in the form Python 2's ``cPickle`` wrote the real CIFAR-10
files (the raw pixels as a BINSTRING, ``numpy.core.multiarray._reconstruct``).
"""

from __future__ import annotations

import builtins
import os
import pickle
import pickletools
import struct
from dataclasses import dataclass

import numpy as np
import pytest

from dendrite.data.cifar_python import (
    load_cifar10_python,
    read_cifar10_python_batch,
    read_cifar10_python_meta,
)
from dendrite.data.file_errors import DataFileError
from dendrite.data.files import CIFAR10_CLASSES, load_cifar10
from dendrite.data.pickle_data import read_pickle_data

PROTOCOLS = range(0, pickle.HIGHEST_PROTOCOL + 1)
NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]


def _records(count: int, seed: int) -> tuple[np.ndarray, list]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(count, 3072), dtype=np.uint8), rng.integers(0, 10, count).tolist()


def _batch(data, labels, str_keys=False) -> dict:
    batch = {b"batch_label": b"training batch 1 of 5", b"labels": labels, b"data": data,
             b"filenames": [f"img_{i}.png".encode() for i in range(len(labels))]}
    return {k.decode(): v for k, v in batch.items()} if str_keys else batch


def _write(path, obj, protocol=2):
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


# ---- read_pickle_data gives what pickle.loads gives, for plain data ---------------------------------

PLAIN = [
    None, True, False, 0, -1, 255, 65535, 2**31 - 1, -2**31, 2**31, 2**64 + 5, -(2**200), 1.5, -0.0,
    float("inf"), 1e-300, "", "héllo ☃\n", "x" * 300, b"", b"\x00\xff raw", bytearray(b"ab\x00"),
    [], (), {}, (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4),
    {"a": [1, {b"b": (None, 2.5)}], 3: "three", (1, "t"): [[], [[]]], b"k": {"nested": {}}},
    [list(range(1200)), {str(i): i for i in range(1200)}],  # past one APPENDS/SETITEMS batch
]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_plain_values_match_pickle_loads(tmp_path, protocol):
    for value in PLAIN:
        path = _write(tmp_path / "plain.pkl", value, protocol)
        got, want = read_pickle_data(path), pickle.loads(path.read_bytes())
        assert got == want and type(got) is type(want), (protocol, value)
    shared = [1, 2]
    got = read_pickle_data(_write(tmp_path / "shared.pkl", [shared, shared, (shared,)], protocol))
    assert got == [[1, 2], [1, 2], ([1, 2],)] and got[0] is got[1] is got[2][0]  # the memo is kept


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_numpy_arrays_match_pickle_loads(tmp_path, protocol):
    arrays = [np.arange(12, dtype="<f4").reshape(3, 4), np.asfortranarray(np.arange(12).reshape(3, 4)),
              np.arange(6, dtype=">i2"), np.array([True, False]), np.arange(3) * (1 + 2j),
              np.zeros((0, 5)), np.array(7.25),
              np.arange(24, dtype=np.uint8).reshape(2, 3, 4).transpose(2, 0, 1)]  # neither C nor F
    for array in arrays:
        path = _write(tmp_path / "array.pkl", {"a": array, "s": np.int64(-3)}, protocol)
        got, want = read_pickle_data(path), pickle.loads(path.read_bytes())
        assert got["a"].dtype == want["a"].dtype and got["a"].shape == want["a"].shape
        np.testing.assert_array_equal(got["a"], want["a"])
        assert got["a"].flags.f_contiguous == want["a"].flags.f_contiguous and got["a"].flags.writeable
        assert got["s"] == -3 and type(got["s"]) is np.int64


# ---- CIFAR-10 python batches ------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("str_keys", [False, True])
def test_batch_round_trip(tmp_path, protocol, str_keys):
    data, labels = _records(7, protocol)
    path = _write(tmp_path / "data_batch_1", _batch(data, labels, str_keys), protocol)
    images, got_labels = read_cifar10_python_batch(path)
    assert images.shape == (7, 3, 32, 32) and images.dtype == np.uint8 and images.flags.c_contiguous
    assert got_labels.dtype == np.int64 and got_labels.tolist() == labels
    np.testing.assert_array_equal(images.reshape(7, 3072), data)
    np.testing.assert_array_equal(images[2, 1], data[2, 1024:2048].reshape(32, 32))  # green plane


@pytest.mark.parametrize("protocol", [2, 5])
def test_fortran_ordered_data(tmp_path, protocol):
    data, labels = _records(7, 11)
    path = _write(tmp_path / "test_batch", _batch(np.asfortranarray(data), labels), protocol)
    images, _ = read_cifar10_python_batch(path)
    np.testing.assert_array_equal(images.reshape(7, 3072), data)


def _py2_cifar_pickle(data_bytes: bytes, rows: int, labels: list) -> bytes:
    """A batch in the opcodes Python 2's cPickle (protocol 2) wrote for the real CIFAR-10 files."""
    def text(value: bytes) -> bytes:  # SHORT_BINSTRING (Python 2 str)
        return b"U" + bytes([len(value)]) + value

    out = b"\x80\x02}q\x01(" + text(b"batch_label") + text(b"testing batch 1 of 1")
    out += text(b"labels") + b"]q\x02(" + b"".join(b"K" + bytes([n]) for n in labels) + b"e"
    out += text(b"data") + b"cnumpy.core.multiarray\n_reconstruct\nq\x03cnumpy\nndarray\nq\x04K\x00\x85"
    out += text(b"b") + b"\x87Rq\x05(K\x01M" + struct.pack("<H", rows) + b"M\x00\x0c\x86"
    out += b"cnumpy\ndtype\nq\x06" + text(b"u1") + b"K\x00K\x01\x87Rq\x07(K\x03" + text(b"|")
    out += b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T" + struct.pack("<i", len(data_bytes))
    out += data_bytes + b"tb" + text(b"filenames") + b"]q\x08(" + text(b"a.png") * len(labels) + b"eu."
    return out


def test_python2_cpickle_layout(tmp_path):
    data, labels = _records(7, 3)
    raw = _py2_cifar_pickle(data.tobytes(), 7, labels)
    assert [op.name for op, _, _ in pickletools.genops(raw)][-3:] == ["APPENDS", "SETITEMS", "STOP"]
    path = tmp_path / "data_batch_1"
    path.write_bytes(raw)
    images, got_labels = read_cifar10_python_batch(path)
    np.testing.assert_array_equal(images.reshape(7, 3072), data)
    assert got_labels.tolist() == labels
    assert read_pickle_data(path)[b"filenames"] == [b"a.png"] * 7
    path.write_bytes(_py2_cifar_pickle(data.tobytes()[:-1], 7, labels))  # one pixel byte short
    with pytest.raises(DataFileError, match=r"data_batch_1: holds the NumPy array at byte \d+ with 21503 "
                                            r"bytes of data; its shape \(7, 3072\) of uint8 needs 21504"):
        read_pickle_data(path)
    path.write_bytes(_py2_cifar_pickle(data.tobytes(), 7, labels).replace(b"U\x02u1", b"U\x02f3"))
    with pytest.raises(DataFileError, match="holds a NumPy dtype 'f3' at byte .*which NumPy does not know"):
        read_pickle_data(path)


def test_same_images_as_the_binary_batches(tmp_path):
    train_data, train_labels = _records(7, 21)
    test_data, test_labels = _records(4, 22)
    binary, python = tmp_path / "bin", tmp_path / "py"
    binary.mkdir()
    python.mkdir()
    parts = (("data_batch_1", train_data, train_labels), ("test_batch", test_data, test_labels))
    for name, data, labels in parts:
        records = np.concatenate([np.array(labels, np.uint8)[:, None], data], axis=1)
        (binary / f"{name}.bin").write_bytes(records.tobytes())
        _write(python / name, _batch(data, labels))
    for scale in (True, False):
        want, got = load_cifar10(binary, scale=scale), load_cifar10(python, scale=scale)
        for field in ("x_train", "y_train", "x_test", "y_test"):
            assert getattr(got, field).dtype == getattr(want, field).dtype
            np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
        assert (got.name, got.input_shape, got.num_classes) == ("cifar10", (3, 32, 32), 10)
        assert got.info["classes"] == CIFAR10_CLASSES and got.info["files"] == ["data_batch_1", "test_batch"]
    _write(python / "batches.meta", {b"label_names": [n.upper() for n in NAMES], b"num_vis": 3072})
    assert read_cifar10_python_meta(python / "batches.meta")[9] == "TRUCK"
    data = load_cifar10_python(python)
    assert data.info["classes"][0] == "AIRPLANE" and data.info["files"][-1] == "batches.meta"
    with pytest.raises(FileNotFoundError, match="no test_batch in"):
        (python / "test_batch").unlink()
        load_cifar10(python)


# ---- hostile and damaged files ------------------------------------------------------------------------

def _offset_of(raw: bytes, name: str) -> int:
    """The byte offset of the GLOBAL or STACK_GLOBAL that names ``...name`` (read with pickletools)."""
    strings = []
    for op, arg, pos in pickletools.genops(raw):
        if isinstance(arg, str) and op.name.endswith("UNICODE"):
            strings.append(arg)
        full = arg.replace(" ", ".") if op.name == "GLOBAL" else ".".join(strings[-2:])
        if op.name in ("GLOBAL", "STACK_GLOBAL") and full.endswith(name):
            return pos
    raise AssertionError(f"no reference to {name}")


class _Shell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _Eval:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return builtins.eval, (f"open({str(self.marker)!r}, 'w').close()",)


@dataclass
class _Point:
    x: int = 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_code_in_a_pickle_never_runs(tmp_path, protocol):
    marker = tmp_path / "ran"
    payload = pickle.dumps(_Eval(marker), protocol=protocol)
    pickle.loads(payload)  # the payload is live: unpickling it runs eval, which creates the marker
    assert marker.exists()
    marker.unlink()
    data, labels = _records(2, 0)
    _write(tmp_path / "test_batch", _batch(data, labels))
    for evil, name in ((_Shell(marker), f"{os.system.__module__}.system"), (_Eval(marker), "eval")):
        path = _write(tmp_path / "data_batch_1", _batch(evil, labels), protocol)
        offset = _offset_of(path.read_bytes(), name)
        with pytest.raises(DataFileError, match=rf"data_batch_1: holds a reference to \S*{name} at byte "
                                                rf"{offset}; dendrite reads pickles only as plain data"):
            read_cifar10_python_batch(path)
        with pytest.raises(DataFileError, match="never runs code from a file"):
            load_cifar10(tmp_path)  # the folder of python batches goes to the same reader
    assert not marker.exists()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_instances_and_object_arrays_are_refused(tmp_path, protocol):
    marker = tmp_path / "ran"
    path = _write(tmp_path / "points.pkl", [_Point(3)], protocol)
    # protocols 0 and 1 name copy_reg._reconstructor first, 2 and later the class itself
    with pytest.raises(DataFileError, match=r"points.pkl: holds a reference to "
                                            r"(\S*_Point|copy_reg._reconstructor) at byte \d+"):
        read_pickle_data(path)
    objects = np.array([_Eval(marker), 1], dtype=object)
    path = _write(tmp_path / "data_batch_2", _batch(objects, [1, 2]), protocol)
    with pytest.raises(DataFileError, match=r"data_batch_2: holds a NumPy dtype 'O8' at numpy.dtype at byte "
                                            r"\d+; expected a dtype of numbers"):
        read_cifar10_python_batch(path)
    assert not marker.exists()


def test_refused_opcodes_and_damaged_files(tmp_path):
    path = tmp_path / "odd.pkl"
    cases = {
        b"P7\n.": "holds a persistent id",                      # PERSID
        b"\x80\x02\x82\x01.": "holds an extension-registry code",  # EXT1
        b"\x80\x02\x8f.": "holds the pickle opcode EMPTY_SET at byte 2",
        b"\x80\x05\x97.": "holds an out-of-band buffer",        # NEXT_BUFFER
        b"\x80\x02}q\x00.": None,                                # a plain empty dict
        b"\x80\x02]r\xff\xff\xff\xff.": None,                    # memo index 2**32-1: no 2**32 list
        b"\x80\x02h\x05.": "refers to memo entry 5 at byte 2, which was never stored",
        b"\x80\x02e.": "has APPENDS without a MARK",
        b"\x80\x02K\x01a.": "has APPEND at byte 4 on nothing; expected a list",
        b"\x80\x02K\x01\x86.": "has TUPLE2 at byte 4 with too few values",
        b"\x80\x02K\x01K\x02.": "ends at byte 6 with 2 values",
        b"\x80\x02(K\x01K\x02K\x03d.": "odd number of keys and values",
        b"\x80\x02}]K\x01s.": "has a dict key of type list",
        b"\x80\x02cnumpy\ndtype\n.": "holds numpy.dtype as a value",
        b"\x80\x02\xff.": "is not a readable pickle after byte 0",
    }
    for raw, message in cases.items():
        path.write_bytes(raw)
        if message is None:
            assert read_pickle_data(path) in ({}, [])
            continue
        with pytest.raises(DataFileError, match="odd.pkl: " + ".*" + message.replace("(", r"\(")):
            read_pickle_data(path)
    path.write_bytes(b"")
    with pytest.raises(DataFileError, match="odd.pkl: is empty; expected a pickle"):
        read_pickle_data(path)
    data, labels = _records(3, 5)
    whole = pickle.dumps(_batch(data, labels), protocol=4)
    path.write_bytes(whole[:-20])
    with pytest.raises(DataFileError, match=r"odd.pkl: is not a readable pickle after byte \d+ \(.*\); "
                                            "expected a complete pickle ending in STOP"):
        read_cifar10_python_batch(path)


def test_batch_contents_are_checked(tmp_path):
    data, labels = _records(4, 9)
    cases = [
        ([1, 2], r"holds a list of 2 items; expected a dict \(a CIFAR-10 python batch"),
        ({b"data": data, b"fine_labels": labels},
         r"has no 'labels' entry \(keys: \['data', 'fine_labels'\]\); .*CIFAR-100"),
        (_batch(data, labels[:3] + [11]), "data_batch_1 record 3: has label 11; expected an int 0..9"),
        (_batch(data, labels[:3] + [2.0]), "record 3: has label 2.0"),
        (_batch(data, labels[:3]), "has 4 images but 3 labels"),
        (_batch(data[:, :3000], labels),
         r"holds 'data' as a uint8 array of shape \(4, 3000\); expected a uint8 array of shape \(N, 3072\)"),
        (_batch(data.astype(np.float32), labels), "holds 'data' as a float32 array of shape \\(4, 3072\\)"),
        (_batch(data.tolist(), labels), "holds 'data' as a list of 4 items"),
    ]
    path = tmp_path / "data_batch_1"
    for batch, message in cases:
        _write(path, batch)
        with pytest.raises(DataFileError, match=message):
            read_cifar10_python_batch(path)
    _write(path, {b"label_names": NAMES[:3]})
    (tmp_path / "test_batch").write_bytes(path.read_bytes())
    _write(tmp_path / "batches.meta", {b"label_names": NAMES[:3]})
    _write(path, _batch(data, labels))
    _write(tmp_path / "test_batch", _batch(data, labels))
    with pytest.raises(DataFileError, match="batches.meta: lists 3 label names; expected the 10"):
        load_cifar10_python(tmp_path)
    _write(tmp_path / "batches.meta", {"label_names": "airplane"})
    with pytest.raises(DataFileError, match="batches.meta: holds 'label_names' as 'airplane'; expected a "):
        read_cifar10_python_meta(tmp_path / "batches.meta")
