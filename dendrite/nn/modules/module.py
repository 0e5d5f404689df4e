"""``Module``: the base class of every layer and model (PyTorch's ``torch.nn.Module``).

A Module owns three ordered tables filled automatically by attribute assignment:
``_parameters`` (learnable :class:`Parameter` s), ``_buffers`` (state that is not
learned, such as BatchNorm's running mean) and ``_modules`` (sub-layers). All the
traversal and mode switching below is a walk over those tables, in the same
order as PyTorch. ``state_dict``/``load_state_dict`` come from
:class:`~dendrite.nn.modules.module_state.StateDictMixin`, so state_dict keys
match PyTorch's one for one; traversal (``parameters``, ``modules``...), modes
(``train``/``eval``) and casting (``to``) from
:class:`~dendrite.nn.modules.module_tree.ModuleTreeMixin`.
"""

from __future__ import annotations

from collections import OrderedDict

from dendrite.autograd import capture
from dendrite.nn.modules.module_boundary import checked_forward
from dendrite.nn.modules.module_hooks import BackwardHooksMixin, RemovableHandle, add_hook, new_hook_tables
from dendrite.nn.modules.module_state import StateDictMixin, _IncompatibleKeys  # noqa: F401  (re-exported)
from dendrite.nn.modules.module_tree import ModuleTreeMixin
from dendrite.nn.parameter import Parameter
from dendrite.tensor import Tensor

__all__ = ["Module", "RemovableHandle"]

def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _check_name(owner: Module, kind: str, name) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if name == "" or "." in name:
        raise KeyError(f'{kind} name can\'t be empty or contain ".", got {name!r}')


class Module(StateDictMixin, ModuleTreeMixin, BackwardHooksMixin):
    """Base class for all layers and models.

    Subclasses call ``super().__init__()`` first, assign their parameters and
    sub-layers as attributes, and define ``forward``. Call the module itself
    (``model(x)``), not ``forward``, so that hooks run.

    Example:
        >>> import dendrite
        >>> class TwoLayer(dendrite.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden = dendrite.nn.Linear(4, 8)
        ...         self.out = dendrite.nn.Linear(8, 1)
        ...     def forward(self, x):
        ...         return self.out(self.hidden(x).relu())
        >>> model = TwoLayer()
        >>> list(model.state_dict())
        ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
        >>> model(dendrite.zeros(2, 4)).shape
        (2, 1)
    """

    training: bool

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__:  # the op boundary for layers (nn/modules/module_boundary.py)
            cls.forward = checked_forward(cls.__dict__["forward"])

    def __init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", OrderedDict())
        set_(self, "_buffers", OrderedDict())
        set_(self, "_non_persistent_buffers_set", set())
        set_(self, "_modules", OrderedDict())
        for name, table in new_hook_tables().items():  # forward and backward hooks (module_hooks.py)
            set_(self, name, table)

    def forward(self, *args, **kwargs):
        name = type(self).__name__
        raise NotImplementedError(f'Module [{name}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)  # the common case, kept cheap for tiny networks
        capture.note_unreplayable(f"hooks on {type(self).__name__} (a replay would not run them)")
        return self._call_with_hooks(args, kwargs)

    # ------------------------------------------------------------------ registration
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or ``None``, a declared-but-absent one such as ``bias=False``).

        Assigning a ``Parameter`` attribute (``self.scale = Parameter(...)``) does the same.

        Example:
            >>> import dendrite
            >>> module = dendrite.nn.Module()
            >>> module.register_parameter("scale", dendrite.nn.Parameter(dendrite.ones(1)))
            >>> list(module.state_dict())
            ['scale']
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(self, "parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(dendrite.nn.Parameter or None required)"
            )
        self._parameters[name] = param
        capture.modules.version += 1

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add state that is saved in the state_dict (if ``persistent``) but not trained.

        Example:
            >>> import dendrite
            >>> module = dendrite.nn.Module()
            >>> module.register_buffer("steps", dendrite.zeros(1))
            >>> module.register_buffer("cache", dendrite.zeros(2), persistent=False)
            >>> list(module.state_dict()), [name for name, _ in module.named_buffers()]
            (['steps'], ['steps', 'cache'])
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(self, "buffer", name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (Tensor or None required)"
            )
        self._buffers[name] = tensor
        capture.modules.version += 1
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module, reachable as ``self.<name>`` (assigning the attribute does the same).

        Example:
            >>> from dendrite import nn
            >>> model = nn.Module()
            >>> model.add_module("head", nn.Linear(2, 1))
            >>> model.head.out_features, list(model.state_dict())
            (1, ['head.weight', 'head.bias'])
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(self, "module", name)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module
        capture.modules.version += 1

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The sub-module at a dotted path, e.g. ``model.get_submodule("features.0")``.

        Example:
            >>> from dendrite import nn
            >>> model = nn.Sequential(nn.Sequential(nn.Linear(2, 3)))
            >>> model.get_submodule("0.0")
            Linear(in_features=2, out_features=3, bias=True)
        """
        module = self
        for item in target.split(".") if target else []:
            if item not in module._modules:
                raise AttributeError(
                    f"{module._get_name()} has no attribute `{item}` (looking up {target!r})"
                )
            module = module._modules[item]
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path, e.g. ``model.get_parameter("0.weight")``.

        Example:
            >>> from dendrite import nn
            >>> nn.Sequential(nn.Linear(2, 3)).get_parameter("0.weight").shape
            (3, 2)
        """
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"{module._get_name()} has no parameter `{name}`")
        return module._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path, e.g. ``model.get_buffer("1.running_mean")``.

        Example:
            >>> from dendrite import nn
            >>> nn.Sequential(nn.BatchNorm1d(3)).get_buffer("0.running_mean").tolist()
            [0.0, 0.0, 0.0]
        """
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._buffers:
            raise AttributeError(f"{module._get_name()} has no buffer `{name}`")
        return module._buffers[name]

    def __setattr__(self, name: str, value) -> None:
        capture.modules.version += 1  # compiled functions record again (autograd/capture.py)
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=self._parameters)  # a replaced parameter keeps its place (PyTorch)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(dendrite.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=self._modules)  # a replaced layer keeps its place: Sequential's order
            self._modules[name] = value
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(Module or None expected)"
                )
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep=None) -> None:
        """Drop ``name`` from the attributes and the tables, except from ``keep`` (where it is reassigned)."""
        self.__dict__.pop(name, None)
        for table in (self._parameters, self._buffers, self._modules):
            if table is not keep:
                table.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str):
        # Only reached when normal lookup fails: parameters, buffers and children live in the tables.
        state = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in state and name in state[table]:
                return state[table][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        capture.modules.version += 1
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        names = set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        return sorted(names)

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, args)`` runs before ``forward``; it may return replacement args.

        Returns a handle whose ``remove()`` unregisters the hook.

        Example:
            >>> import dendrite
            >>> identity = dendrite.nn.Identity()
            >>> handle = identity.register_forward_pre_hook(lambda module, args: (args[0] * 2,))
            >>> identity(dendrite.ones(2)).tolist()
            [2.0, 2.0]
            >>> handle.remove()
            >>> identity(dendrite.ones(2)).tolist()
            [1.0, 1.0]
        """
        return add_hook(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook) -> RemovableHandle:
        """``hook(module, args, output)`` runs after ``forward``; it may return a replacement output.

        Returns a handle whose ``remove()`` unregisters the hook.

        Example:
            >>> import dendrite
            >>> layer = dendrite.nn.Linear(2, 3)
            >>> handle = layer.register_forward_hook(lambda module, args, output: print(output.shape))
            >>> _ = layer(dendrite.zeros(4, 2))
            (4, 3)
            >>> handle.remove()
        """
        return add_hook(self._forward_hooks, hook)

    # ------------------------------------------------------------------ printing
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The constructor arguments shown inside ``Name(...)``; layers override this."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"
