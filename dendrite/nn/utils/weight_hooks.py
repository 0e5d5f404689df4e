"""Taking off a weight-reparametrising forward pre-hook (weight norm, spectral norm, pruning)."""

from __future__ import annotations

__all__ = ["remove_weight_hook"]


def remove_weight_hook(module, kind: type, name: str, attribute: str = "name") -> bool:
    """Remove ``module``'s forward pre-hook of type ``kind`` whose ``attribute`` is ``name``, calling the
    hook's ``remove(module)`` first (it puts a plain parameter back); False if there is none.

    Example:
        >>> import warnings
        >>> from dendrite import nn
        >>> from dendrite.nn.utils.weight_norm import WeightNorm, weight_norm
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     layer = weight_norm(nn.Linear(3, 2))
        >>> remove_weight_hook(layer, WeightNorm, "weight"), remove_weight_hook(layer, WeightNorm, "weight")
        (True, False)
    """
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, kind) and getattr(hook, attribute) == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return True
    return False
