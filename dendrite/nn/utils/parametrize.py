"""Parametrizations (PyTorch's ``torch.nn.utils.parametrize``): a module's tensor computed from others.

``register_parametrization(layer, "weight", P())`` replaces ``layer.weight`` by
a property: each read computes ``P(original)`` from the tensor now stored as
``layer.parametrizations.weight.original`` (the same Parameter object, so
optimizers and state_dict see it there: key ``parametrizations.weight.original``,
as in PyTorch). As PyTorch does, the module's class is swapped for a subclass
``Parametrized<Class>`` that carries the property, and restored when the last
parametrization is removed.

* ``P.right_inverse(value)`` (optional) maps a value of the parametrized tensor
  back to the original: it runs at registration and on ``layer.weight = value``.
  When it returns several tensors they are stored as ``original0``,
  ``original1``... and ``P.forward`` receives them all (``weight_norm``'s g and v).
* Several parametrizations on one tensor chain: ``P2(P1(original))``.
* Inside ``with cached():`` each parametrized tensor is computed once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from dendrite.autograd.grad_mode import no_grad
from dendrite.nn.modules.container import ModuleDict, ModuleList
from dendrite.nn.modules.module import Module
from dendrite.nn.parameter import Parameter
from dendrite.tensor import Tensor

__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations", "type_before_parametrizations"]

_cache_enabled = 0
_cache: dict = {}


@contextmanager
def cached() -> Iterator[None]:
    """Within this block each parametrized tensor is computed once, on first use, then reused.

    Useful when a parametrized weight is read several times in one forward (an RNN
    over time steps). The cache is dropped when the outermost block exits.

    Example:
        >>> import dendrite
        >>> from dendrite import nn
        >>> from dendrite.nn.utils import parametrize
        >>> class Symmetric(nn.Module):
        ...     def forward(self, x):
        ...         return x.triu() + x.triu(1).transpose(0, 1)
        >>> layer = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
        >>> with parametrize.cached():
        ...     layer.weight is layer.weight
        True
        >>> layer.weight is layer.weight
        False
    """
    global _cache_enabled, _cache
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _check_tensor(value, what: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise ValueError(f"{what} must return a tensor. Got {type(value).__name__}.")
    return value


def _set(destination: Tensor, source: Tensor) -> None:
    """PyTorch's ``destination.set_(source)``: the same tensor object, now holding ``source``'s values."""
    destination.data = source


def _register_parameter_or_buffer(module: Module, name: str, value: Tensor) -> None:
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, and the original(s) they are computed from.

    ``forward()`` (no argument) computes the parametrized tensor. Holds ``original``
    (the tensor itself, kept as the same Parameter or buffer), or ``original0``,
    ``original1``... when the first ``right_inverse`` returns several tensors.
    Made by :func:`register_parametrization`, not by hand.

    Example:
        >>> from dendrite import nn
        >>> from dendrite.nn.utils import parametrize
        >>> layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", nn.Identity())
        >>> type(layer.parametrizations.weight).__name__, layer.parametrizations.weight.original.shape
        ('ParametrizationList', (2, 2))
    """

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        original_shape, original_dtype = original.shape, original.dtype
        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors (list, "
                             f"tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                                 f"original.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            if new is not original:
                with no_grad():
                    _set(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for index, tensor in enumerate(new):
                if not isinstance(tensor, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors (list, "
                                     f"tuple...). Got element {index} of the sequence with type "
                                     f"{type(tensor).__name__}.")
                if isinstance(original, Parameter):
                    tensor = Parameter(tensor.detach(), original.requires_grad)
                else:
                    tensor = tensor.detach().requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{index}", tensor)
        if not self.unsafe:
            value = _check_tensor(self(), "A parametrization")
            if value.dtype != original_dtype:
                raise ValueError("Registering a parametrization may not change the dtype of the tensor, "
                                 f"unless `unsafe` flag is enabled.\nunparametrized dtype: {original_dtype}\n"
                                 f"parametrized dtype: {value.dtype}")
            if value.shape != original_shape:
                raise ValueError("Registering a parametrization may not change the shape of the tensor, "
                                 f"unless `unsafe` flag is enabled.\nunparametrized shape: {original_shape}\n"
                                 f"parametrized shape: {value.shape}")

    def _originals(self) -> tuple:
        """The tensor(s) the parametrized one is computed from: ``(original,)`` or ``(original0, ...)``."""
        if self.is_tensor:
            return (self.original,)
        return tuple(getattr(self, f"original{index}") for index in range(self.ntensors))

    def right_inverse(self, value: Tensor) -> None:
        """Store in the original(s) the value(s) that make the parametrized tensor ``value``.

        Runs each parametrization's ``right_inverse``, last first; ``module.<name> = value``
        calls this. ``value`` has the parametrized tensor's shape.

        Example:
            >>> import dendrite
            >>> from dendrite import nn
            >>> from dendrite.nn.utils import parametrize
            >>> class Double(nn.Module):
            ...     def forward(self, x):
            ...         return x * 2
            ...     def right_inverse(self, value):
            ...         return value / 2
            >>> layer = parametrize.register_parametrization(nn.Linear(2, 1), "bias", Double())
            >>> layer.parametrizations.bias.right_inverse(dendrite.tensor([3.0]))
            >>> layer.parametrizations.bias.original.tolist(), layer.bias.tolist()
            ([1.5], [3.0])
        """
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement "
                                       "right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got {type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype {value.dtype} while "
                                     f"`original` has dtype {self.original.dtype}")
                _set(self.original, value)
                return
            if not isinstance(value, Sequence):
                raise ValueError("'right_inverse' must return a sequence of tensors. "
                                 f"Got {type(value).__name__}.")
            if len(value) != self.ntensors:
                raise ValueError("'right_inverse' must return a sequence of tensors of length "
                                 f"{self.ntensors}. Got a sequence of length {len(value)}.")
            for index, (original, tensor) in enumerate(zip(self._originals(), value)):
                if original.dtype != tensor.dtype:
                    raise ValueError(f"Tensor {index} returned by `right_inverse` has dtype {tensor.dtype} "
                                     f"while `original{index}` has dtype {original.dtype}")
                _set(original, tensor)

    def forward(self) -> Tensor:
        modules = list(self)
        value = modules[0](*self._originals())
        for module in modules[1:]:
            value = module(value)
        return value


def _inject_new_class(module: Module) -> None:
    """Give ``module`` its own subclass ``Parametrized<Class>``, where the properties will live."""
    cls = module.__class__
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {"__module__": cls.__module__})


def _inject_property(module: Module, tensor_name: str) -> None:
    def get_parametrized(self) -> Tensor:
        parametrization = self.parametrizations[tensor_name]
        if not _cache_enabled:
            return parametrization()
        key = (id(self), tensor_name)
        if key not in _cache:
            _cache[key] = parametrization()
        return _cache[key]

    def set_original(self, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def _check_appended(module: Module, tensor_name: str, parametrization: Module) -> None:
    """The checks PyTorch makes before chaining one more parametrization (unless ``unsafe``)."""
    current = getattr(module, tensor_name)
    value = _check_tensor(parametrization(current), "A parametrization")
    pairs = (("dtype", value.dtype, current.dtype), ("shape", value.shape, current.shape))
    for what, got, expected in pairs:
        if got != expected:
            raise ValueError(f"Registering a parametrization may not change the {what} of the tensor, unless "
                             f"the `unsafe` flag is enabled.\nmodule.{tensor_name}.{what}: {expected}\n"
                             f"parametrization(module.{tensor_name}).{what}: {got}")
    if not hasattr(parametrization, "right_inverse"):
        return
    try:
        inverse = parametrization.right_inverse(value)
    except NotImplementedError:
        return
    inverse = _check_tensor(inverse, "parametrization.right_inverse")
    pairs = (("dtype", inverse.dtype, current.dtype), ("shape", inverse.shape, current.shape))
    for what, got, expected in pairs:
        if got != expected:
            raise ValueError("The tensor returned by parametrization.right_inverse must have the same "
                             f"{what} as module.{tensor_name}, unless the `unsafe` flag is enabled.\n"
                             f"module.{tensor_name}.{what}: {expected}\nreturned {what}: {got}")


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` applied to the stored original.

    The parameter (or buffer) moves to ``module.parametrizations[tensor_name].original``
    (or ``original0``, ``original1``... when ``parametrization.right_inverse`` returns a
    sequence). Registering a second parametrization on the same name chains it after the
    first. Unless ``unsafe``, the parametrized tensor must keep its shape and dtype.
    Returns ``module``.

    Example:
        >>> import dendrite
        >>> from dendrite import nn
        >>> from dendrite.nn.utils import parametrize
        >>> class Symmetric(nn.Module):
        ...     def forward(self, x):
        ...         return x.triu() + x.triu(1).transpose(0, 1)
        >>> layer = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
        >>> bool((layer.weight == layer.weight.T).all()), list(layer.state_dict())
        (True, ['bias', 'parametrizations.weight.original'])
        >>> type(layer).__name__, parametrize.is_parametrized(layer, "weight")
        ('ParametrizedLinear', True)
    """
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: parametrization must be an nn.Module, got "
                        f"{type(parametrization).__name__}")
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            _check_appended(module, tensor_name, parametrization)
        module.parametrizations[tensor_name].append(parametrization)
        module.parametrizations[tensor_name].unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        if original is None:
            raise ValueError(f"register_parametrization: {module._get_name()}.{tensor_name} is None; there "
                             "is no tensor to parametrize")
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized element "
                         f"with name '{tensor_name}'")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, or on any tensor if None).

    Example:
        >>> from dendrite import nn
        >>> from dendrite.nn.utils import parametrize
        >>> layer = nn.Linear(2, 2)
        >>> parametrize.is_parametrized(layer)
        False
        >>> _ = parametrize.register_parametrization(layer, "bias", nn.Identity())
        >>> parametrize.is_parametrized(layer), parametrize.is_parametrized(layer, "weight")
        (True, False)
    """
    parametrizations = getattr(module, "parametrizations", None)
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True) -> Module:
    """Make ``module.<tensor_name>`` a plain parameter (or buffer) again; returns ``module``.

    With ``leave_parametrized=True`` it keeps the current parametrized value (in the
    original Parameter object when there is one original); with ``False`` it keeps
    the unparametrized original (impossible when there are several originals).

    Example:
        >>> import dendrite
        >>> from dendrite import nn
        >>> from dendrite.nn.utils import parametrize
        >>> class Double(nn.Module):
        ...     def forward(self, x):
        ...         return x * 2
        >>> layer = nn.Linear(2, 1, bias=False)
        >>> layer.weight.data = dendrite.ones(1, 2)
        >>> _ = parametrize.register_parametrization(layer, "weight", Double())
        >>> layer = parametrize.remove_parametrizations(layer, "weight")
        >>> type(layer).__name__, layer.weight.tolist(), list(layer.state_dict())
        ('Linear', [[2.0, 2.0]], ['weight'])
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
                _set(original, value)
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
                             "parametrized in terms of a sequence of tensors.")
        value = getattr(module, tensor_name)
        original = Parameter(value.detach()) if value.requires_grad else value.detach()
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class before parametrizations swapped it for ``Parametrized<Class>``.

    Example:
        >>> from dendrite import nn
        >>> from dendrite.nn.utils import parametrize
        >>> layer = parametrize.register_parametrization(nn.Linear(2, 2), "weight", nn.Identity())
        >>> parametrize.type_before_parametrizations(layer).__name__
        'Linear'
    """
    return module.__class__.__bases__[0] if is_parametrized(module) else type(module)
