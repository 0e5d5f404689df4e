"""``dendrite.nn.utils.prune`` (PyTorch's ``torch.nn.utils.prune``): prune a module's parameters by masks.

    prune.l1_unstructured(module, "weight", amount=0.3)   # weight -> weight_orig (parameter),
                                                          # weight_mask (buffer), weight (mask * orig)
    prune.ln_structured(module, "weight", amount=0.5, n=2, dim=0)   # again: a PruningContainer
    prune.global_unstructured(parameters, pruning_method=prune.L1Unstructured, amount=0.2)
    prune.remove(module, "weight")                        # weight is a plain parameter again (pruned)

The methods themselves (``L1Unstructured``, ``LnStructured``, ``PruningContainer`` ...) live in
``prune_methods.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from dendrite.creation import ones_like
from dendrite.nn.utils.convert_parameters import parameters_to_vector
from dendrite.nn.utils.prune_methods import (
    BasePruningMethod,
    CustomFromMask,
    Identity,
    L1Unstructured,
    LnStructured,
    PruningContainer,
    RandomStructured,
    RandomUnstructured,
)
from dendrite.nn.utils.weight_hooks import remove_weight_hook
from dendrite.tensor import Tensor

__all__ = ["BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured", "LnStructured",
           "PruningContainer", "RandomStructured", "RandomUnstructured", "custom_from_mask",
           "global_unstructured", "identity", "is_pruned", "l1_unstructured", "ln_structured",
           "random_structured", "random_unstructured", "remove"]


def identity(module, name: str):
    """Add the pruning structure (``name_orig``, an all-ones ``name_mask``) without pruning anything.

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> sorted(prune.identity(dendrite.nn.Linear(2, 2), "weight").state_dict())
        ['bias', 'weight_mask', 'weight_orig']
    """
    Identity.apply(module, name)
    return module


def random_unstructured(module, name: str, amount):
    """Prune ``amount`` (fraction or count) entries of ``module.<name>`` chosen at random.

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> layer = prune.random_unstructured(dendrite.nn.Linear(5, 2), "weight", amount=0.3)
        >>> int((layer.weight_mask == 0).sum())
        3
    """
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name: str, amount, importance_scores: Tensor | None = None):
    """Prune the ``amount`` entries of ``module.<name>`` of smallest |importance score| (|w| by default).

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> layer = dendrite.nn.Linear(1, 3)
        >>> with dendrite.no_grad():
        ...     _ = layer.bias.copy_(dendrite.tensor([0.5, -0.1, 2.0]))
        >>> prune.l1_unstructured(layer, "bias", amount=1).bias_mask.tolist()
        [1.0, 0.0, 1.0]
    """
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name: str, amount, dim: int):
    """Prune ``amount`` whole slices of ``module.<name>`` along ``dim``, chosen at random.

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> layer = prune.random_structured(dendrite.nn.Linear(3, 4), "weight", amount=2, dim=0)
        >>> sorted(layer.weight_mask.sum(dim=1).tolist())
        [0.0, 0.0, 3.0, 3.0]
    """
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name: str, amount, n, dim: int, importance_scores: Tensor | None = None):
    """Prune the ``amount`` slices of ``module.<name>`` along ``dim`` of smallest L_n norm.

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> conv = prune.ln_structured(dendrite.nn.Conv2d(1, 4, 3), "weight", amount=0.5, n=2, dim=0)
        >>> conv.weight_mask.sum(dim=(1, 2, 3)).tolist().count(0.0)
        2
    """
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters: Iterable, pruning_method, importance_scores: dict | None = None,
                        **kwargs) -> None:
    """Prune the ``(module, name)`` pairs together: ``pruning_method(**kwargs)`` over all their entries.

    ``pruning_method`` must be unstructured (``L1Unstructured``: the smallest |w| of all the tensors).

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> a, b = dendrite.nn.Linear(1, 2), dendrite.nn.Linear(1, 2)
        >>> with dendrite.no_grad():
        ...     _ = a.weight.copy_(dendrite.tensor([[1.0], [0.1]]))
        ...     _ = b.weight.copy_(dendrite.tensor([[0.2], [3.0]]))
        >>> prune.global_unstructured([(a, "weight"), (b, "weight")], prune.L1Unstructured, amount=2)
        >>> a.weight_mask.flatten().tolist(), b.weight_mask.flatten().tolist()
        ([1.0, 0.0], [0.0, 1.0])
    """
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = parameters_to_vector([importance_scores.get((module, name), getattr(module, name))
                                   for module, name in parameters])
    default_mask = parameters_to_vector([getattr(module, name + "_mask", None)
                                         if hasattr(module, name + "_mask")
                                         else ones_like(getattr(module, name))
                                         for module, name in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")
    container.add_pruning_method(method)
    final_mask = container.compute_mask(scores, default_mask)
    pointer = 0
    for module, name in parameters:
        param = getattr(module, name)
        count = param.numel()
        custom_from_mask(module, name, mask=final_mask[pointer:pointer + count].view_as(param))
        pointer += count


def custom_from_mask(module, name: str, mask: Tensor):
    """Prune ``module.<name>`` with the given 0/1 ``mask`` (same shape).

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> layer = prune.custom_from_mask(dendrite.nn.Linear(2, 2), "bias", mask=dendrite.tensor([0.0, 1.0]))
        >>> layer.bias_mask.tolist()
        [0.0, 1.0]
    """
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module, name: str):
    """Make the pruning of ``module.<name>`` permanent: drop ``name_orig``, ``name_mask`` and the hook.

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> layer = prune.remove(prune.identity(dendrite.nn.Linear(2, 2), "weight"), "weight")
        >>> sorted(layer.state_dict()), len(layer._forward_pre_hooks)
        (['bias', 'weight'], 0)
        >>> prune.remove(layer, "weight")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
          ...
        ValueError: Parameter 'weight' of module Linear(...) has to be pruned before pruning can be removed
    """
    if remove_weight_hook(module, BasePruningMethod, name, "_tensor_name"):
        return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module) -> bool:
    """Whether ``module`` or any submodule carries a pruning hook.

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> net = dendrite.nn.Sequential(dendrite.nn.Linear(2, 2))
        >>> prune.is_pruned(net), prune.is_pruned(prune.identity(net[0], "bias") and net)
        (False, True)
    """
    for _, submodule in module.named_modules():
        for hook in submodule._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False
