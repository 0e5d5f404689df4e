"""The legacy weight normalization (PyTorch's deprecated ``torch.nn.utils.weight_norm``).

``weight_norm(layer)`` replaces the parameter ``weight`` by two, ``weight_g``
(magnitude) and ``weight_v`` (direction), and a forward pre-hook that computes
``layer.weight = weight_v * weight_g / ||weight_v||`` before each call, as
PyTorch's version does (same state_dict keys). New code should use
:func:`dendrite.nn.utils.parametrizations.weight_norm`.
"""

from __future__ import annotations

import warnings

from dendrite.nn.modules.module import Module
from dendrite.nn.parameter import Parameter
from dendrite.nn.utils.parametrizations import norm_except_dim, weight_from_g_v
from dendrite.nn.utils.weight_hooks import remove_weight_hook

__all__ = ["WeightNorm", "remove_weight_norm", "weight_norm"]


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``.

    Example:
        >>> import warnings
        >>> from dendrite import nn
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     layer = weight_norm(nn.Linear(2, 2))
        >>> [type(hook).__name__ for hook in layer._forward_pre_hooks.values()]
        ['WeightNorm']
    """

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def compute_weight(self, module: Module):
        """``v * g / ||v||`` from the module's ``<name>_g`` and ``<name>_v`` (shape of the weight).

        Example:
            >>> import warnings
            >>> from dendrite import nn
            >>> with warnings.catch_warnings():
            ...     warnings.simplefilter("ignore")
            ...     layer = weight_norm(nn.Linear(3, 2))
            >>> hook = next(iter(layer._forward_pre_hooks.values()))
            >>> hook.compute_weight(layer).shape
            (2, 3)
        """
        return weight_from_g_v(getattr(module, self.name + "_g"), getattr(module, self.name + "_v"), self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        """Split ``module.<name>`` into ``<name>_g`` and ``<name>_v`` and install the hook (what
        :func:`weight_norm` does, without its warning); returns the hook.

        Example:
            >>> from dendrite import nn
            >>> layer = nn.Linear(3, 2)
            >>> hook = WeightNorm.apply(layer, "weight", 0)
            >>> hook.name, hook.dim, list(layer.state_dict())
            ('weight', 0, ['bias', 'weight_g', 'weight_v'])
        """
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        if name not in module._parameters or module._parameters[name] is None:
            raise ValueError(f"weight_norm: {module._get_name()} has no parameter {name!r} (parameters: "
                             f"{[key for key, value in module._parameters.items() if value is not None]})")
        hook = WeightNorm(name, -1 if dim is None else dim)
        weight = module._parameters.pop(name)
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight.detach(), hook.dim)))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, hook.compute_weight(module))
        module.register_forward_pre_hook(hook)
        return hook

    def remove(self, module: Module) -> None:
        """Put back ``module.<name>`` as one Parameter holding the current weight; drop g and v.

        (The caller also removes the hook from ``module._forward_pre_hooks``, as
        :func:`remove_weight_norm` does.)

        Example:
            >>> from dendrite import nn
            >>> layer = nn.Linear(3, 2)
            >>> WeightNorm.apply(layer, "weight", 0).remove(layer)
            >>> list(layer.state_dict())
            ['bias', 'weight']
        """
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Deprecated weight normalization: parameters ``<name>_g`` and ``<name>_v`` replace ``<name>``.

    ``w = v * g / ||v||``, the norm over every axis but ``dim`` (``None``: the whole
    tensor, ``g`` then a 0-d tensor). Shapes: ``v`` as ``w``; ``g`` as ``w`` with 1 on
    every axis but ``dim``. Warns ``FutureWarning`` as PyTorch does. Returns ``module``.

    Example:
        >>> import warnings
        >>> from dendrite import nn
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     layer = weight_norm(nn.Linear(3, 2))
        >>> [(key, value.shape) for key, value in layer.state_dict().items()]
        [('bias', (2,)), ('weight_g', (2, 1)), ('weight_v', (2, 3))]
    """
    warnings.warn("`dendrite.nn.utils.weight_norm` is deprecated in favor of "
                  "`dendrite.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`weight_norm`: ``<name>`` is one plain parameter again, holding the current weight.

    Example:
        >>> import warnings
        >>> from dendrite import nn
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     layer = remove_weight_norm(weight_norm(nn.Linear(3, 2)))
        >>> list(layer.state_dict())
        ['bias', 'weight']
    """
    if remove_weight_hook(module, WeightNorm, name):
        return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
