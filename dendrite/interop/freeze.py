"""Transfer learning: ``freeze`` and ``unfreeze`` parts of a model.

Fine-tuning a pretrained network usually means keeping most of it fixed and
training a new head. Freezing does two things:

1. ``requires_grad = False`` on the frozen parameters, so no gradient is computed
   for them and optimizers leave them alone (their stale ``.grad`` is cleared too,
   because an optimizer would still step a parameter that has one);
2. frozen BatchNorm layers stay in evaluation mode even after ``model.train()``:
   they normalise with their pretrained running statistics and do not update them.
   Without this, a "frozen" block still changes with every training batch -- the
   classic Keras trap, where small fine-tuning batches wreck the statistics the
   pretrained weights were trained with. Pass ``batchnorm_eval=False`` to freeze
   only the parameters.

Parameter groups with their own learning rates (a small one for the pretrained
body, a larger one for the new head) are ordinary optimizer parameter groups::

    optimizer = dendrite.optim.SGD([
        {"params": model.features.parameters(), "lr": 1e-4},
        {"params": model.head.parameters()},
    ], lr=1e-2)
"""

from __future__ import annotations

from collections.abc import Iterable

from dendrite.nn.modules.module import Module
from dendrite.nn.modules.normalization import _BatchNorm
from dendrite.nn.parameter import Parameter

__all__ = ["freeze", "unfreeze", "frozen_parameter_names"]


def _targets(root, names: tuple, action: str) -> tuple[list, list]:
    """The modules and loose parameters that ``names`` pick out of ``root`` (all of it when none)."""
    if isinstance(root, Module):
        roots = [root]
    elif isinstance(root, Iterable) and not isinstance(root, (str, bytes)):
        roots = list(root)
        if not all(isinstance(item, Module) for item in roots):
            raise TypeError(f"{action}: expected a Module or a list of Modules, got {root!r}")
        if names:
            raise TypeError(f"{action}: names can only be given together with a single Module")
    else:
        raise TypeError(f"{action}: expected a Module (or a list of Modules), got {type(root).__name__}")
    if not names:
        return roots, []
    modules, params = [], []
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{action}: names must be strings such as 'features' or 'fc.weight', "
                            f"got {name!r}")
        try:
            modules.append(root.get_submodule(name))
            continue
        except AttributeError:
            pass
        try:
            params.append(root.get_parameter(name))
        except AttributeError:
            children = ", ".join(repr(child) for child, _ in root.named_children()) or "none"
            raise KeyError(
                f"{action}: {type(root).__name__} has no sub-module or parameter named {name!r}; "
                f"its children are: {children}"
            ) from None
    return modules, params


def _set(modules: list, params: list, trainable: bool, batchnorm_eval: bool) -> None:
    for param in params:
        _set_param(param, trainable)
    for module in modules:
        for param in module.parameters():
            _set_param(param, trainable)
        for layer in module.modules():
            if isinstance(layer, _BatchNorm) and (batchnorm_eval or trainable):
                layer.freeze_statistics = not trainable


def _set_param(param: Parameter, trainable: bool) -> None:
    param.requires_grad_(trainable)
    if not trainable:
        param.grad = None


def freeze(module: Module | Iterable[Module], *names: str, batchnorm_eval: bool = True) -> Module:
    """Stop training ``module`` (or its sub-modules / parameters called ``names``).

    Sets ``requires_grad=False`` on the parameters and clears their ``.grad``; frozen
    BatchNorm layers keep using their running statistics even in ``train()`` mode
    (unless ``batchnorm_eval=False``). Names are dotted paths as in ``named_modules()``
    or ``named_parameters()``. Returns ``module``.

    Example:
        >>> import dendrite
        >>> model = dendrite.nn.Sequential(dendrite.nn.Linear(4, 8), dendrite.nn.Linear(8, 2))
        >>> _ = dendrite.freeze(model, "0")
        >>> [name for name, p in model.named_parameters() if p.requires_grad]
        ['1.weight', '1.bias']
    """
    modules, params = _targets(module, names, "freeze")
    _set(modules, params, False, batchnorm_eval)
    return module


def unfreeze(module: Module | Iterable[Module], *names: str) -> Module:
    """Train ``module`` (or its parts called ``names``) again: the reverse of :func:`freeze`.

    Parameters get ``requires_grad=True``; BatchNorm layers follow the model's
    ``train()``/``eval()`` mode again. Returns ``module``.

    Example:
        >>> import dendrite
        >>> model = dendrite.freeze(dendrite.nn.Linear(4, 2))
        >>> dendrite.unfreeze(model).weight.requires_grad
        True
    """
    modules, params = _targets(module, names, "unfreeze")
    _set(modules, params, True, True)
    return module


def frozen_parameter_names(module: Module) -> list[str]:
    """The names of ``module``'s parameters that do not require gradients.

    Example:
        >>> import dendrite
        >>> frozen_parameter_names(dendrite.freeze(dendrite.nn.Linear(2, 2)))
        ['weight', 'bias']
    """
    return [name for name, param in module.named_parameters() if not param.requires_grad]
