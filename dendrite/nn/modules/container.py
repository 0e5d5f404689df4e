"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``, ``ParameterDict``.

Children are registered under their position ("0", "1", ...) or key, so a
``Sequential``'s state_dict keys are ``"0.weight"``, ``"2.bias"`` as in PyTorch.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from dendrite.nn.modules.module import Module
from dendrite.nn.parameter import Parameter

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _index(container: Module, index: int) -> int:
    size = len(container)
    index = operator.index(index)
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of range for {type(container).__name__} of length {size}")
    return index % size


class Sequential(Module):
    """Apply modules one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Accepts modules positionally or one ``OrderedDict`` of named modules. Indexable,
    sliceable (a slice is a new ``Sequential`` sharing the layers), ``len`` and iterable.
    Shapes: whatever the first module takes, whatever the last one returns.

    Example:
        >>> import dendrite
        >>> from dendrite import nn
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> model(dendrite.zeros(3, 4)).shape
        (3, 2)
        >>> list(model.state_dict())[:2]
        ['0.weight', '0.bias']
        >>> model.append(nn.Softmax(dim=1)).extend([nn.Identity()]).insert(0, nn.Flatten())
        Sequential(
          (0): Flatten(start_dim=1, end_dim=-1)
          (1): Linear(in_features=4, out_features=8, bias=True)
          (2): ReLU()
          (3): Linear(in_features=8, out_features=2, bias=True)
          (4): Softmax(dim=1)
          (5): Identity()
        )
    """

    def __init__(self, *args) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for position, module in enumerate(args):
                self.add_module(str(position), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_index(self, index)]

    def __setitem__(self, index: int, module: Module) -> None:
        key = list(self._modules)[_index(self, index)]
        setattr(self, key, module)

    def __delitem__(self, index) -> None:
        keys = list(self._modules)
        for key in keys[index] if isinstance(index, slice) else [keys[_index(self, index)]]:
            del self._modules[key]
        # Renumber so positions stay "0", "1", ... as in PyTorch.
        items = list(self._modules.items())
        self._modules.clear()
        for position, (_, module) in enumerate(items):
            self._modules[str(position)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            kind = type(other).__name__
            raise ValueError(f"add operator supports only objects of Sequential class, got {kind}")
        return Sequential(*self, *other)

    def append(self, module: Module) -> Sequential:
        """Add a module at the end; returns ``self``."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Add modules at the end, in order; returns ``self``."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Put a module at ``index``, renumbering those after it; returns ``self``."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for position, item in enumerate(modules):
            self.add_module(str(position), item)
        return self


class ModuleList(Module):
    """A list of modules whose parameters the parent module can see (a plain list hides them).

    Example:
        >>> from dendrite import nn
        >>> layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
        >>> len(list(layers.parameters()))
        6
        >>> _ = layers.append(nn.ReLU()).extend([nn.Tanh()])
        >>> layers.insert(0, nn.Identity())
        >>> [type(layer).__name__ for layer in layers]
        ['Identity', 'Linear', 'Linear', 'Linear', 'ReLU', 'Tanh']
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[str(_index(self, index))]

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, str(_index(self, index)), module)

    def __delitem__(self, index) -> None:
        keys = list(self._modules)
        for key in keys[index] if isinstance(index, slice) else [keys[_index(self, index)]]:
            del self._modules[key]
        modules = list(self._modules.values())
        self._modules.clear()
        for position, module in enumerate(modules):
            self._modules[str(position)] = module

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end; returns ``self``."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add modules at the end, in order; returns ``self``."""
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            kind = type(modules).__name__
            raise TypeError(f"ModuleList.extend should be called with an iterable, got {kind}")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put a module at ``index``, renumbering those after it."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for position, item in enumerate(modules):
            self.add_module(str(position), item)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(); iterate over it and call each module")


class ModuleDict(Module):
    """A dict of modules (insertion-ordered), registered under their keys.

    Example:
        >>> from dendrite import nn
        >>> heads = nn.ModuleDict({"cls": nn.Linear(8, 3), "box": nn.Linear(8, 4)})
        >>> list(heads.state_dict())[0]
        'cls.weight'
        >>> heads.update({"mask": nn.Linear(8, 1)})
        >>> list(heads.keys()), len(heads.values()), [key for key, _ in heads.items()][-1]
        (['cls', 'box', 'mask'], 3, 'mask')
        >>> heads.pop("box").out_features
        4
        >>> heads.clear(); len(heads)
        0
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self):
        """The keys, in insertion order."""
        return self._modules.keys()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self):
        """``(key, module)`` pairs, in insertion order."""
        return self._modules.items()

    def pop(self, key: str) -> Module:
        """Remove the module under ``key`` and return it."""
        return self._modules.pop(key)

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def update(self, modules) -> None:
        """Add (or replace) modules from a mapping or an iterable of ``(key, module)`` pairs."""
        items = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in items:
            self[key] = module

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(); look up a module by key and call it")


def _size(param) -> str:
    return "x".join(map(str, param.shape))


def _as_parameter(value) -> Parameter:
    return value if isinstance(value, Parameter) else Parameter(value)


class ParameterList(Module):
    """A list of parameters registered under "0", "1", ... (for a variable number of weights).

    Example:
        >>> import dendrite
        >>> from dendrite import nn
        >>> weights = nn.ParameterList([nn.Parameter(dendrite.ones(2)) for _ in range(3)])
        >>> list(weights.state_dict())
        ['0', '1', '2']
        >>> len(weights.append(dendrite.zeros(3)).extend([dendrite.zeros(1)]))   # tensors become Parameters
        5
    """

    def __init__(self, values: Iterable | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList(list(self._parameters.values())[index])
        return self._parameters[str(_index(self, index))]

    def __setitem__(self, index: int, value) -> None:
        self._parameters[str(_index(self, index))] = _as_parameter(value)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value) -> ParameterList:
        """Add a parameter (a tensor is wrapped in ``Parameter``) at the end; returns ``self``."""
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values: Iterable) -> ParameterList:
        """Add parameters at the end, in order; returns ``self``."""
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"({i}): Parameter containing: [dendrite.Tensor of size {_size(p)}]"
                         for i, p in enumerate(self))


class ParameterDict(Module):
    """A dict of parameters registered under their keys (a tensor is wrapped in ``Parameter``).

    Example:
        >>> import dendrite
        >>> from dendrite import nn
        >>> scales = nn.ParameterDict({"a": dendrite.ones(2)})
        >>> scales.update({"b": dendrite.zeros(3)})
        >>> list(scales.keys()), [p.shape for p in scales.values()], type(dict(scales.items())["b"]).__name__
        (['a', 'b'], [(2,), (3,)], 'Parameter')
    """

    def __init__(self, parameters: Mapping | Iterable | None = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value) -> None:
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key: str) -> bool:
        return key in self._parameters

    def keys(self):
        """The keys, in insertion order."""
        return self._parameters.keys()

    def values(self):
        """The parameters, in insertion order."""
        return self._parameters.values()

    def items(self):
        """``(key, parameter)`` pairs, in insertion order."""
        return self._parameters.items()

    def update(self, parameters) -> None:
        """Add (or replace) parameters from a mapping or an iterable of ``(key, value)`` pairs."""
        items = parameters.items() if isinstance(parameters, Mapping) else parameters
        for key, value in items:
            self[key] = value
