"""A checkpoint as tensors plus a JSON description of the containers around them -- no pickle.

``torch.save`` pickles whatever it is given. dendrite stores a checkpoint in two parts:

* every tensor (or NumPy array) as a named entry of a safetensors file, and
* a JSON *tree* that says how to put the containers back together, kept in the file's header.

The tree is plain JSON: strings, finite floats, ints, booleans and ``null`` stand for
themselves, a JSON list is a Python list, and everything else is an object with a ``"type"``::

    {"type": "tensor", "name": "fc.weight"}                  (+ "requires_grad", "parameter")
    {"type": "dict", "items": [[key, value], ...]}           (+ "ordered": true for OrderedDict)
    {"type": "tuple", "items": [...]}
    {"type": "float", "value": "nan" | "inf" | "-inf"}

Keys are trees too (str, int, float, bool, None or tuples of them), so ``{0: ...}`` in an
optimizer's ``state_dict()`` comes back with the int key. The same tensor object met twice is
stored once and comes back as one object. A tensor is named by its place (``"model.fc.weight"``
for ``{"model": {"fc.weight": t}}``), so a flat state dict is stored under its own keys and the
file is an ordinary safetensors state dict for any other reader.

Anything else (a module, an optimizer, a function, an arbitrary object) is refused when saving,
naming its type and where it is; a tree that is not one of these shapes is refused when loading.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from dendrite import backend
from dendrite.interop.file_limits import WeightsFileError
from dendrite.nn.parameter import Parameter
from dendrite.tensor import Tensor, wrap

__all__ = ["flatten", "unflatten", "MAX_DEPTH"]

MAX_DEPTH = 100  # containers inside containers; deeper is refused (it would exhaust the stack)
_KINDS = "biuf"  # bool, integers, floating point: what safetensors stores
_RESERVED = "__metadata__"  # safetensors' own header entry: never a tensor name


def _place(path: tuple) -> str:
    """``obj['model']['fc.weight']``: where in the saved object a value is (``the object`` at the top)."""
    return "obj" + "".join(f"[{key!r}]" for key in path) if path else "the object"


def _refuse_type(value, path: tuple):
    kind = type(value)
    kind_name = f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__name__
    from dendrite.nn.modules.module import Module
    from dendrite.optim.optimizer import Optimizer

    if isinstance(value, Module):
        raise TypeError(
            f"save: {_place(path)} is a whole model ({kind.__name__}); dendrite does not save model objects "
            "(that needs pickle, and breaks when the class's code changes). Save its weights instead: "
            "dendrite.save(model.state_dict(), path), then rebuild the model and "
            "model.load_state_dict(dendrite.load(path))")
    if isinstance(value, Optimizer):
        raise TypeError(f"save: {_place(path)} is an optimizer ({kind.__name__}); save "
                        "optimizer.state_dict() and restore it with optimizer.load_state_dict(...)")
    raise TypeError(
        f"save: {_place(path)} is a {kind_name}, which dendrite cannot store without pickle; a checkpoint "
        "may hold tensors, NumPy arrays, ints, floats, bools, strings, None, and dicts, lists and tuples "
        "of them (convert it, e.g. to a tensor or a dict of them)")


class _Flattener:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.names: dict[int, str] = {}  # id(tensor) -> its entry: a shared tensor is stored once
        self.keep: list = []  # the tensors named, alive until the end (their ids stay unique)
        self.open: set[int] = set()  # containers being walked: a container inside itself is refused

    def name_for(self, path: tuple) -> str:
        name = ".".join(str(key) for key in path) or "tensor"
        if name == _RESERVED:
            name += "_"
        if name in self.arrays:
            count = 2
            while f"{name}#{count}" in self.arrays:
                count += 1
            name = f"{name}#{count}"
        return name

    def tensor(self, value, path: tuple) -> dict:
        if id(value) in self.names:
            node = {"type": "tensor", "name": self.names[id(value)]}
        else:
            array = backend.to_host(value.array if isinstance(value, Tensor) else value)  # CUDA: copied
            if array.dtype.kind not in _KINDS:
                raise TypeError(f"save: {_place(path)} has dtype {array.dtype}; only bool, integer and "
                                "floating-point arrays can be saved (object arrays would need pickle)")
            name = self.name_for(path)
            # A fresh C-ordered native copy: np.ascontiguousarray would turn a 0-d array into shape (1,).
            self.arrays[name] = np.array(array, dtype=array.dtype.newbyteorder("="), order="C", copy=True)
            self.names[id(value)] = name
            self.keep.append(value)
            node = {"type": "tensor", "name": name}
        if isinstance(value, Tensor):
            if value.requires_grad:
                node["requires_grad"] = True
            if isinstance(value, Parameter):
                node["parameter"] = True
        return node

    def key(self, key, path: tuple):
        if key is None or type(key) in (bool, int, str):
            return key
        if type(key) is float:
            return self.plain_float(key)
        if type(key) is tuple:
            return {"type": "tuple", "items": [self.key(item, path) for item in key]}
        raise TypeError(f"save: a key of {_place(path)} is a {type(key).__name__} ({key!r}); dict keys "
                        "may be strings, ints, floats, bools, None or tuples of them")

    @staticmethod
    def plain_float(value: float):
        return value if math.isfinite(value) else {"type": "float", "value": repr(value)}

    def node(self, value, path: tuple):
        if isinstance(value, (Tensor, np.ndarray, np.generic)):  # before float: np.float64 is a float
            return self.tensor(value, path)
        if value is None or type(value) in (bool, int, str):
            return value
        if type(value) is float:
            return self.plain_float(value)
        if len(path) >= MAX_DEPTH:
            raise ValueError(f"save: {_place(path[:3])}... nests containers more than {MAX_DEPTH} deep")
        if isinstance(value, (dict, list, tuple)):
            if id(value) in self.open:
                raise ValueError(f"save: {_place(path)} contains itself; a checkpoint must be a tree")
            self.open.add(id(value))
            try:
                if isinstance(value, dict):
                    node = {"type": "dict", "items": [[self.key(key, path), self.node(item, (*path, key))]
                                                      for key, item in value.items()]}
                    if isinstance(value, OrderedDict):
                        node["ordered"] = True
                    return node
                items = [self.node(item, (*path, index)) for index, item in enumerate(value)]
                if type(value) is list:
                    return items
                if type(value) is tuple:
                    return {"type": "tuple", "items": items}
            finally:
                self.open.discard(id(value))
        # Anything else, including subclasses of the plain types (an IntEnum would come back as an int).
        _refuse_type(value, path)


def flatten(obj) -> tuple[object, dict[str, np.ndarray]]:
    """``(tree, {name: array})`` for ``obj``: the JSON-ready tree and the arrays it names.

    Example:
        >>> import dendrite
        >>> tree, arrays = flatten({"epoch": 3, "w": dendrite.ones(2)})
        >>> tree
        {'type': 'dict', 'items': [['epoch', 3], ['w', {'type': 'tensor', 'name': 'w'}]]}
        >>> arrays
        {'w': array([1., 1.], dtype=float32)}
    """
    flattener = _Flattener()
    tree = flattener.node(obj, ())
    return tree, flattener.arrays


def unflatten(tree, arrays: dict[str, np.ndarray], where: str):
    """The object described by ``tree``, its tensors taken from ``arrays``; ``where`` names the file.

    Raises :class:`~dendrite.interop.file_limits.WeightsFileError` for a tree that :func:`flatten`
    would not have written (an unknown node, a missing tensor, a bad key).

    Example:
        >>> import numpy as np
        >>> tree = {"type": "dict", "items": [["epoch", 3], ["w", {"type": "tensor", "name": "w"}]]}
        >>> unflatten(tree, {"w": np.ones(2)}, "'demo'")
        {'epoch': 3, 'w': tensor([1., 1.], dtype=dendrite.float64)}
    """
    restored: dict[str, Tensor] = {}

    def fail(what: str):
        raise WeightsFileError(f"load: {where}: the checkpoint's structure {what} (corrupt or crafted)")

    def key(node, depth: int):
        if node is None or isinstance(node, (bool, int, str)):
            return node
        if isinstance(node, float):
            return node
        if isinstance(node, dict) and node.get("type") == "float":
            return decode_float(node)
        if isinstance(node, dict) and node.get("type") == "tuple" and isinstance(node.get("items"), list):
            if depth >= MAX_DEPTH:
                fail(f"nests more than {MAX_DEPTH} deep")
            return tuple(key(item, depth + 1) for item in node["items"])
        fail(f"has a dict key {node!r:.80} that is not a string, number, bool, None or tuple")

    def decode_float(node):
        if node.get("value") not in ("nan", "inf", "-inf"):
            fail(f"has a float node {node!r:.80}")
        return float(node["value"])

    def tensor(node):
        name = node.get("name")
        if not isinstance(name, str) or name not in arrays:
            fail(f"names a tensor {name!r:.80} that the file does not hold")
        if name not in restored:
            requires_grad = node.get("requires_grad", False) is True
            if node.get("parameter", False) is True:
                restored[name] = Parameter(wrap(arrays[name]), requires_grad=requires_grad)
            else:
                restored[name] = wrap(arrays[name])
                if requires_grad:
                    restored[name].requires_grad_(True)
        return restored[name]

    def build(node, depth: int):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if depth >= MAX_DEPTH:
            fail(f"nests more than {MAX_DEPTH} deep")
        if isinstance(node, list):
            return [build(item, depth + 1) for item in node]
        if not isinstance(node, dict):
            fail(f"holds a {type(node).__name__}")
        kind = node.get("type")
        if kind == "tensor":
            return tensor(node)
        if kind == "float":
            return decode_float(node)
        items = node.get("items")
        if not isinstance(items, list):
            fail(f"has a node of type {kind!r:.40} without items")
        if kind == "tuple":
            return tuple(build(item, depth + 1) for item in items)
        if kind == "dict":
            result = OrderedDict() if node.get("ordered") is True else {}
            for pair in items:
                if not isinstance(pair, list) or len(pair) != 2:
                    fail("has a dict item that is not a [key, value] pair")
                result[key(pair[0], depth + 1)] = build(pair[1], depth + 1)
            return result
        fail(f"has a node of unknown type {kind!r:.40}")

    return build(tree, 0)
