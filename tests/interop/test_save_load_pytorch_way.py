"""dendrite.save / dendrite.load called the way PyTorch's tutorials call torch.save / torch.load.

``torch.save(model.state_dict(), "model.pth")``, ``torch.load(..., weights_only=True)`` and the
"saving and loading a general checkpoint" recipe must run unchanged with ``import dendrite as
torch`` and give back exactly what was saved -- structure, values, dtypes -- without pickle.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections import OrderedDict

import numpy as np
import pytest

import dendrite
from dendrite import nn
from dendrite.interop.file_limits import WeightsFileError


def _net():
    dendrite.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))


def _train(model, optimizer, steps: int = 3) -> float:
    x, y = dendrite.randn(16, 4), dendrite.randn(16, 2)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
    return loss


def assert_same(loaded, saved, where="obj"):
    """Equal structure (types included), equal values, equal dtypes and shapes, bit for bit."""
    if isinstance(saved, (dendrite.Tensor, np.ndarray)):
        assert isinstance(loaded, dendrite.Tensor), where
        expected = saved.detach().numpy() if isinstance(saved, dendrite.Tensor) else saved
        got = loaded.detach().numpy()
        assert loaded.requires_grad == getattr(saved, "requires_grad", False), where
        assert got.dtype == expected.dtype and got.shape == expected.shape, where
        assert got.tobytes() == np.ascontiguousarray(expected).tobytes(), where
        return
    assert type(loaded) is type(saved), f"{where}: {type(loaded).__name__} != {type(saved).__name__}"
    if isinstance(saved, dict):
        assert list(loaded) == list(saved), where
        assert [type(k) for k in loaded] == [type(k) for k in saved], where
        for key in saved:
            assert_same(loaded[key], saved[key], f"{where}[{key!r}]")
    elif isinstance(saved, (list, tuple)):
        assert len(loaded) == len(saved), where
        for index, (a, b) in enumerate(zip(loaded, saved)):
            assert_same(a, b, f"{where}[{index}]")
    elif isinstance(saved, float) and math.isnan(saved):
        assert math.isnan(loaded), where
    else:
        assert loaded == saved and repr(loaded) == repr(saved), where  # repr tells -0.0 from 0.0


# ----------------------------------------------------------------------------- the tutorials
@pytest.mark.parametrize("name", ["model.pth", "model.pt", "model.tar", "model", "model.safetensors"])
def test_state_dict_round_trip_under_any_name(tmp_path, name):
    model = _net()
    _train(model, dendrite.optim.SGD(model.parameters(), lr=0.1))
    path = tmp_path / name
    dendrite.save(model.state_dict(), path)
    twin = _net()
    twin[0].weight.data = dendrite.zeros(8, 4).array
    twin.load_state_dict(dendrite.load(path, weights_only=True))
    assert_same(twin.state_dict(), model.state_dict())
    assert [p for p in os.listdir(tmp_path)] == [name]  # no temporary left behind


def test_state_dict_round_trip_through_file_objects(tmp_path):
    model = _net()
    buffer = io.BytesIO()
    assert dendrite.save(model.state_dict(), buffer) is None
    buffer.seek(0)
    assert_same(dendrite.load(buffer), model.state_dict())
    with open(tmp_path / "model.pth", "wb") as handle:
        dendrite.save(model.state_dict(), handle)
    with open(tmp_path / "model.pth", "rb") as handle:
        assert_same(dendrite.load(handle, map_location="cpu"), model.state_dict())


@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam", "LBFGS"])
def test_the_general_checkpoint_recipe(tmp_path, optimizer_name):
    model = _net()
    options = {"SGD": dict(lr=0.1, momentum=0.9), "Adam": dict(lr=0.01), "LBFGS": dict(history_size=4)}
    optimizer = getattr(dendrite.optim, optimizer_name)(model.parameters(), **options[optimizer_name])
    if optimizer_name == "LBFGS":
        x, y = dendrite.randn(16, 4), dendrite.randn(16, 2)

        def closure():
            optimizer.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            return loss
        loss = optimizer.step(closure)
    else:
        loss = _train(model, optimizer)
    checkpoint = {"epoch": 5, "model_state_dict": model.state_dict(),
                  "optimizer_state_dict": optimizer.state_dict(), "loss": loss, "loss_value": float(loss)}
    path = tmp_path / "checkpoint.tar"
    dendrite.save(checkpoint, path)

    loaded = dendrite.load(path, weights_only=True)
    assert_same(loaded, checkpoint)
    assert type(loaded["epoch"]) is int and type(loaded["loss_value"]) is float
    state_keys = list(loaded["optimizer_state_dict"]["state"])
    assert all(type(key) is int for key in state_keys)  # PyTorch's parameter positions stay ints

    # ...and the recipe's second half: rebuild, load, resume.
    twin = _net()
    twin_optimizer = getattr(dendrite.optim, optimizer_name)(twin.parameters(), **options[optimizer_name])
    twin.load_state_dict(loaded["model_state_dict"])
    twin_optimizer.load_state_dict(loaded["optimizer_state_dict"])
    assert_same(twin_optimizer.state_dict(), optimizer.state_dict())


def test_adam_groups_keep_their_tuples_nones_and_bools(tmp_path):
    model = _net()
    optimizer = dendrite.optim.Adam(model.parameters(), betas=(0.8, 0.95), amsgrad=True)
    _train(model, optimizer, steps=1)
    buffer = io.BytesIO()
    dendrite.save(optimizer.state_dict(), buffer)
    buffer.seek(0)
    group = dendrite.load(buffer)["param_groups"][0]
    assert group["betas"] == (0.8, 0.95) and group["amsgrad"] is True and group["foreach"] is None


# ----------------------------------------------------------------------------- containers and values
def test_nested_containers_and_plain_values_come_back_exactly(tmp_path):
    shared = dendrite.arange(6, dtype=dendrite.float64).reshape(2, 3)
    saved = {
        "ints": [0, -1, 2**62, 2**80],
        "floats": [0.1, -0.0, 1e-310, float("inf"), float("-inf"), float("nan")],
        "flags": (True, False, None), "text": "ünïcode ✓", "empty": [[], (), {}],
        "keys": {0: "int", 1.5: "float", True: "bool", None: "none", ("a", 2): "tuple"},
        "ordered": OrderedDict([("b", 1), ("a", 2)]),
        "tensors": {"same": shared, "again": shared, "view": shared[:, 1]},
        "dtypes": {str(dtype): np.arange(4).astype(dtype) for dtype in
                   (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8,
                    np.bool_)},
        "scalar": dendrite.tensor(3.5), "numpy_scalar": np.float32(2.5),
        "deep": [[[[{"x": [1, (2, [3])]}]]]],
    }
    path = tmp_path / "everything.pt"
    dendrite.save(saved, path)
    loaded = dendrite.load(path)
    expected = dict(saved, numpy_scalar=np.asarray(np.float32(2.5)))  # NumPy scalars come back as 0-d tensors
    assert_same(loaded, expected)
    assert type(loaded["ordered"]) is OrderedDict
    assert loaded["tensors"]["same"] is loaded["tensors"]["again"]  # one tensor saved once, one object back


def test_parameters_and_requires_grad_are_kept(tmp_path):
    weight = nn.Parameter(dendrite.ones(3))
    frozen = nn.Parameter(dendrite.ones(2), requires_grad=False)
    leaf = dendrite.zeros(2, requires_grad=True)
    saved = {"weight": weight, "frozen": frozen, "leaf": leaf, "plain": dendrite.ones(1)}
    dendrite.save(saved, tmp_path / "p")
    loaded = dendrite.load(tmp_path / "p")
    assert isinstance(loaded["weight"], nn.Parameter) and loaded["weight"].requires_grad
    assert isinstance(loaded["frozen"], nn.Parameter) and not loaded["frozen"].requires_grad
    assert not isinstance(loaded["leaf"], nn.Parameter) and loaded["leaf"].requires_grad
    assert not loaded["plain"].requires_grad


def test_a_bare_tensor_and_a_bare_list(tmp_path):
    dendrite.save(dendrite.tensor([[1, 2]], dtype=dendrite.int32), tmp_path / "x.pt")
    assert_same(dendrite.load(tmp_path / "x.pt"), dendrite.tensor([[1, 2]], dtype=dendrite.int32))
    dendrite.save([1, "two", dendrite.ones(1)], tmp_path / "list.pt")
    assert_same(dendrite.load(tmp_path / "list.pt"), [1, "two", dendrite.ones(1)])


def test_a_state_dict_saved_as_safetensors_is_read_by_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    model = _net()
    dendrite.save(model.state_dict(), tmp_path / "model.safetensors")
    theirs = load_file(str(tmp_path / "model.safetensors"))
    assert sorted(theirs) == sorted(model.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(theirs[key], torch.from_numpy(value.numpy().copy())), key
    # and a nested checkpoint under that name is still a valid safetensors file for other readers
    dendrite.save({"epoch": 1, "model": model.state_dict()}, tmp_path / "checkpoint.safetensors")
    assert "model.0.weight" in load_file(str(tmp_path / "checkpoint.safetensors"))


def test_pytorch_cannot_read_a_dendrite_pth_and_dendrite_still_reads_pytorchs(tmp_path):
    torch = pytest.importorskip("torch")
    dendrite.save({"w": dendrite.ones(2)}, tmp_path / "ours.pth")
    with pytest.raises(Exception):  # noqa: B017 - documented: a dendrite .pth is safetensors, not a pickle
        torch.load(tmp_path / "ours.pth", weights_only=True)
    buffer = io.BytesIO()
    torch.save(torch.nn.Linear(3, 2).state_dict(), buffer)
    buffer.seek(0)
    loaded = dendrite.load(buffer, weights_only=True)
    assert sorted(loaded) == ["bias", "weight"] and loaded["weight"].shape == (2, 3)


def test_format_is_told_by_content(tmp_path):
    dendrite.save({"epoch": 2, "w": dendrite.ones(2)}, tmp_path / "checkpoint.pth")
    (tmp_path / "checkpoint.pth").rename(tmp_path / "looks_like.npz")
    assert dendrite.load(tmp_path / "looks_like.npz")["epoch"] == 2


# ----------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("to_buffer", [False, True], ids=["path", "file-object"])
def test_whole_model_save_is_refused_with_what_to_do(tmp_path, to_buffer):
    target = io.BytesIO() if to_buffer else tmp_path / "model.pth"
    with pytest.raises(TypeError) as info:
        dendrite.save(_net(), target)
    message = str(info.value)
    assert "whole model (Sequential)" in message
    assert "dendrite.save(model.state_dict(), path)" in message
    assert "model.load_state_dict(dendrite.load(path))" in message
    assert (target.getvalue() == b"") if to_buffer else os.listdir(tmp_path) == []


@pytest.mark.parametrize("value, where, what", [
    ({"model": nn.Linear(1, 1)}, r"obj\['model'\] is a whole model \(Linear\)", ""),
    ({"opt": dendrite.optim.SGD([nn.Parameter(dendrite.ones(1))], lr=0.1)}, r"obj\['opt'\] is an optimizer",
     "optimizer.state_dict"),
    ({"a": [1, {"f": print}]}, r"obj\['a'\]\[1\]\['f'\] is a builtin_function_or_method", "without pickle"),
    ({"s": {1, 2}}, r"obj\['s'\] is a set", "without pickle"),
    ({"c": 1 + 2j}, r"obj\['c'\] is a complex", "without pickle"),
    ({"k": {frozenset(): 1}}, r"a key of obj\['k'\] is a frozenset", "strings, ints"),
    ({"o": np.array([object()])}, r"'o'.* has dtype object", "pickle"),
    ({"o": [np.array([object()])]}, r"obj\['o'\]\[0\] has dtype object", "pickle"),
])
def test_objects_that_need_pickle_are_refused_naming_type_and_place(tmp_path, value, where, what):
    with pytest.raises(TypeError, match=where) as info:
        dendrite.save(value, tmp_path / "bad.pt")
    assert what in str(info.value)
    assert os.listdir(tmp_path) == []


def test_a_container_inside_itself_and_npz_nesting_are_refused(tmp_path):
    loop: list = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"obj\[1\] contains itself"):
        dendrite.save(loop, tmp_path / "loop.pt")
    with pytest.raises(TypeError, match=r"'model' is a dict.*another name, e.g. 'checkpoint.pth'"):
        dendrite.save({"model": {"w": dendrite.ones(1)}}, tmp_path / "nested.npz")
    with pytest.raises(TypeError, match="mode 'wb'"):
        with open(tmp_path / "text.pt", "w") as handle:
            dendrite.save({"w": dendrite.ones(1)}, handle)


def test_load_accepts_pytorchs_arguments_and_refuses_a_gpu(tmp_path):
    torch = pytest.importorskip("torch")
    path = dendrite.save({"w": dendrite.ones(2)}, tmp_path / "w.pth")
    for location in (None, "cpu", torch.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage):
        assert dendrite.load(path, map_location=location, weights_only=False)["w"].tolist() == [1.0, 1.0]
    for location in ("cuda", "cuda:1", torch.device("mps"), {"cpu": "cuda:0"}):
        with pytest.raises(ValueError, match="has no .* device; leave map_location out or pass 'cpu'"):
            dendrite.load(path, map_location=location)
    with pytest.raises(ValueError, match="never unpickles"):
        dendrite.load(path, pickle_module=__import__("pickle"))


# ----------------------------------------------------------------------------- damaged structure
def _rewrite_header(path, edit) -> None:
    data = path.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    edit(header)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + data[8 + length:])


def test_a_changed_structure_fails_its_checksum(tmp_path):
    path = dendrite.save({"epoch": 3, "w": dendrite.ones(2)}, tmp_path / "c.pth")
    _rewrite_header(path, lambda h: h["__metadata__"].update(
        {"dendrite.tree": h["__metadata__"]["dendrite.tree"].replace('"epoch",3', '"epoch",7')}))
    with pytest.raises(WeightsFileError, match="structure fails its SHA-256"):
        dendrite.load(path)


@pytest.mark.parametrize("tree, message", [
    ({"type": "tensor", "name": "missing"}, "names a tensor 'missing' that the file does not hold"),
    ({"type": "pickle", "items": []}, "unknown type 'pickle'"),
    ({"type": "dict", "items": [[["list", "key"], 1]]}, "dict key"),
    ({"type": "float", "value": "1e999"}, "float node"),
    ("[" * 150 + "]" * 150, "nests more than 100 deep"),
])
def test_a_crafted_structure_is_refused(tmp_path, tree, message):
    import hashlib

    path = dendrite.save({"epoch": 3, "w": dendrite.ones(2)}, tmp_path / "c.pth")
    text = tree if isinstance(tree, str) else json.dumps(tree)

    def edit(header):
        header["__metadata__"]["dendrite.tree"] = text
        header["__metadata__"]["dendrite.tree.sha256"] = hashlib.sha256(text.encode()).hexdigest()
    _rewrite_header(path, edit)
    with pytest.raises(WeightsFileError, match=message):
        dendrite.load(path)


def test_a_flipped_bit_in_a_checkpoint_tensor_fails_the_checksum(tmp_path):
    path = dendrite.save({"epoch": 3, "w": dendrite.ones(64)}, tmp_path / "c.pth")
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsFileError, match="fails its SHA-256 checksum"):
        dendrite.load(path)


def test_file_objects_get_the_same_checks_as_paths(tmp_path):
    torch = pytest.importorskip("torch")
    buffer = io.BytesIO()
    dendrite.save({"epoch": 1, "w": dendrite.ones(1000)}, buffer)
    truncated = io.BytesIO(buffer.getvalue()[:2000])
    with pytest.raises(WeightsFileError, match="'<file object>'.*truncated"):
        dendrite.load(truncated)
    buffer.seek(0)
    with pytest.raises(WeightsFileError, match="tensor 'w' needs 4000 bytes .* over the limit of 1000 bytes"):
        dendrite.load(buffer, max_bytes=1000)

    class Payload:
        def __reduce__(self):
            return exec, (f"open({str(tmp_path / 'ran')!r}, 'w').close()",)

    pickled = io.BytesIO()
    torch.save({"w": torch.ones(2), "evil": Payload()}, pickled)
    pickled.seek(0)
    with pytest.raises(WeightsFileError, match="never unpickles"):
        dendrite.load(pickled)
    assert not (tmp_path / "ran").exists()
