"""Saving and loading a :class:`Module`'s state: ``state_dict`` and ``load_state_dict``.

:class:`StateDictMixin` is a base class of ``Module``; it walks the module's
``_parameters``, ``_buffers`` (persistent ones only) and ``_modules`` tables in
PyTorch's order, so state_dict keys match PyTorch's one for one. A layer with
its own loading rules overrides ``_load_from_state_dict``, which has PyTorch's
signature.

This file imports nothing from ``module.py`` (not even for type hints): ``Module`` builds on
the mixin, never the other way round.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple

from dendrite import backend
from dendrite.backend import xp
from dendrite.nn.parameter import Parameter
from dendrite.tensor import Tensor, wrap

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class StateDictMixin:
    """``state_dict``, ``load_state_dict`` and ``_load_from_state_dict`` for :class:`Module`.

    Uses the module's tables (``_parameters``, ``_buffers``, ``_non_persistent_buffers_set``,
    ``_modules``) and ``_get_name()``; it holds no state of its own.

    Example:
        >>> from dendrite import nn
        >>> source, copy = nn.Linear(2, 1), nn.Linear(2, 1)
        >>> copy.load_state_dict(source.state_dict())
        IncompatibleKeys(missing_keys=[], unexpected_keys=[])
        >>> copy.weight.tolist() == source.weight.tolist()
        True
    """

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Every parameter and persistent buffer by dotted name, in PyTorch's order.

        Values are detached tensors sharing memory with the module (``keep_vars=True``
        returns the parameters themselves).

        Example:
            >>> from dendrite import nn
            >>> state = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).state_dict()
            >>> [(key, value.shape) for key, value in state.items()][:3]
            [('0.weight', (3, 2)), ('0.bias', (3,)), ('1.weight', (3,))]
            >>> list(state)[-3:]
            ['1.running_mean', '1.running_var', '1.num_batches_tracked']
        """
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Load this module's own entries (PyTorch's signature, so layers can override it)."""
        assign = local_metadata.get("assign_to_params_buffers", False)
        local = {name: p for name, p in self._parameters.items() if p is not None}
        local.update((name, b) for name, b in self._buffers.items()
                     if b is not None and name not in self._non_persistent_buffers_set)
        for name, target in local.items():
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            array = value.array if isinstance(value, Tensor) else backend.asarray(value)
            if tuple(array.shape) != tuple(target.shape):
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} "
                    "from checkpoint, "
                    f"the shape in current model is {tuple(target.shape)}."
                )
                continue
            if assign:
                array = array.astype(target.dtype, copy=True)
                if isinstance(target, Parameter):
                    setattr(self, name, Parameter(array, target.requires_grad))
                else:
                    setattr(self, name, wrap(array))
            else:
                # Copy into the existing array, so optimizers holding the parameter see the new values.
                # (across devices as PyTorch: host values into a CUDA model are copied to the GPU)
                array = backend.to_device(array, backend.device_kind(target.array))
                xp.copyto(target.array, array, casting="unsafe")
        if strict:
            for key in state_dict:
                if not key.startswith(prefix):
                    continue
                head = key[len(prefix):].split(".", 1)
                # "child.x" is the child's business (it reports it); a bare name must be ours.
                known = head[0] in self._modules if len(head) > 1 else head[0] in local
                if not known:
                    unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values from ``state_dict`` (dendrite tensors, NumPy arrays, or anything array-like).

        Values are cast to each parameter's dtype. Raises ``RuntimeError`` naming every
        missing or unexpected key (``strict=True``) and every shape mismatch (always).
        Returns ``(missing_keys, unexpected_keys)``.

        Example:
            >>> import numpy
            >>> from dendrite import nn
            >>> layer = nn.Linear(2, 1)
            >>> layer.load_state_dict({"weight": numpy.ones((1, 2)), "bias": [0.5]})
            IncompatibleKeys(missing_keys=[], unexpected_keys=[])
            >>> layer.weight.tolist(), layer.bias.tolist()
            ([[1.0, 1.0]], [0.5])
            >>> layer.load_state_dict({"weight": numpy.zeros((1, 2))}, strict=False).missing_keys
            ['bias']
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        missing_keys, unexpected_keys, error_msgs = [], [], []

        def load(module: StateDictMixin, prefix: str) -> None:
            # strict=True here as in PyTorch: unexpected keys are always collected, raised only if strict.
            module._load_from_state_dict(state_dict, prefix, {"assign_to_params_buffers": assign}, True,
                                         missing_keys, unexpected_keys, error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")

        load(self, "")
        if strict:
            if unexpected_keys:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: "
                                  + ", ".join(f'"{k}"' for k in unexpected_keys) + ". ")
            if missing_keys:
                error_msgs.insert(0, "Missing key(s) in state_dict: "
                                  + ", ".join(f'"{k}"' for k in missing_keys) + ". ")
        if error_msgs:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(error_msgs)
            )
        return _IncompatibleKeys(missing_keys, unexpected_keys)
