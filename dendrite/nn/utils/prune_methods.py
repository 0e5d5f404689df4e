"""Pruning methods (PyTorch's ``torch.nn.utils.prune`` classes): a mask computed from a tensor.

Pruning parameter ``name`` of a module moves the parameter to ``name + "_orig"``, stores a 0/1 buffer
``name + "_mask"`` and registers the method as a forward pre-hook that recomputes the attribute
``name = name_mask * name_orig`` before every call; the gradient therefore reaches ``name_orig`` only
where the mask is 1. Pruning the same parameter again wraps the methods in a :class:`PruningContainer`
whose new mask is computed on the entries (unstructured) or channels (structured) still alive.

    unstructured: zero the ``amount`` entries with the smallest |w| (``L1Unstructured``) or at random
    structured:   zero whole slices along ``dim`` with the smallest L_n norm (``LnStructured``) or at random

``amount`` is a fraction in [0, 1] (rounded: ``round(amount * size)``) or a count of entries / channels.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod

from dendrite import creation
from dendrite.ops.reduce import norm
from dendrite.ops.sorting import kthvalue, topk
from dendrite.tensor import Tensor

__all__ = ["BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured", "LnStructured",
           "PruningContainer", "RandomStructured", "RandomUnstructured"]


class BasePruningMethod(ABC):
    """What every pruning method is: ``compute_mask(t, default_mask)`` plus the bookkeeping on a module.

    Subclasses set ``PRUNING_TYPE`` ("unstructured", "structured" or "global") and write ``compute_mask``.

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> class EverySecond(prune.BasePruningMethod):
        ...     PRUNING_TYPE = "unstructured"
        ...     def compute_mask(self, t, default_mask):
        ...         mask = default_mask.clone()
        ...         mask.view(-1)[::2] = 0
        ...         return mask
        >>> layer = dendrite.nn.Linear(2, 2)
        >>> method = EverySecond.apply(layer, "weight")
        >>> layer.weight_mask.tolist()
        [[0.0, 1.0], [0.0, 1.0]]
        >>> bool((method.apply_mask(layer) == layer.weight).all())
        True
        >>> EverySecond().prune(dendrite.ones(4)).tolist()
        [0.0, 1.0, 0.0, 1.0]
        >>> EverySecond().compute_mask(dendrite.ones(3), default_mask=dendrite.ones(3)).tolist()
        [0.0, 1.0, 0.0]
        >>> method.remove(layer); del layer._forward_pre_hooks[next(iter(layer._forward_pre_hooks))]
        >>> sorted(name for name, _ in layer.named_parameters())
        ['bias', 'weight']
    """

    PRUNING_TYPE: str | None = None
    _tensor_name: str

    def __call__(self, module, inputs) -> None:
        """The forward pre-hook: ``module.<name> = mask * orig`` before each call."""
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The 0/1 mask for ``t`` (``default_mask`` holds the entries already pruned, as zeros)."""

    def apply_mask(self, module) -> Tensor:
        """``<name>_mask * <name>_orig`` of ``module``: the pruned tensor."""
        if not hasattr(self, "_tensor_name"):
            raise AttributeError(f"{type(self).__name__} was never applied to a module: no tensor name")
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name: str, *args, importance_scores: Tensor | None = None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``; returns the method (or container) hooked."""
        method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(orig.shape):
                raise ValueError(f"importance_scores of shape {tuple(importance_scores.shape)} should "
                                 f"have the shape of parameter {name}: {tuple(orig.shape)}")
        else:
            importance_scores = orig
        if not isinstance(method, PruningContainer):
            # First pruning of this parameter: keep it as <name>_orig, so <name> can be recomputed.
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = creation.ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if not isinstance(method, PruningContainer):
                orig = getattr(module, name + "_orig")
                module.register_parameter(name, orig)
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        """``t`` times its mask (computed from ``importance_scores``, ``t`` itself by default)."""
        if importance_scores is not None:
            if tuple(importance_scores.shape) != tuple(t.shape):
                raise ValueError(f"importance_scores of shape {tuple(importance_scores.shape)} should have "
                                 f"the shape of the tensor {tuple(t.shape)}")
        else:
            importance_scores = t
        default_mask = default_mask if default_mask is not None else creation.ones_like(t)
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module) -> None:
        """Make the pruning permanent: ``<name>`` becomes a plain parameter holding ``mask * orig``."""
        if self._tensor_name + "_orig" not in module._parameters:
            raise ValueError(f"Parameter '{self._tensor_name}' of module {module} has to be pruned "
                             "before pruning can be removed")
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


def _composite_method(cls, module, name: str, *args, **kwargs) -> BasePruningMethod:
    """``cls(*args)`` for ``name``, merged into a container with the method already pruning it, if any."""
    old_method, found = None, []
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            old_method = hook
            found.append(key)
    if len(found) > 1:
        raise RuntimeError(f"more than one pruning hook for parameter {name} of {module._get_name()}")
    for key in found:
        del module._forward_pre_hooks[key]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if isinstance(old_method, PruningContainer):
        old_method.add_pruning_method(method)
        method = old_method
    elif isinstance(old_method, BasePruningMethod):
        container = PruningContainer(old_method)
        container.add_pruning_method(method)
        method = container
    return method


class PruningContainer(BasePruningMethod):
    """The pruning methods applied one after another to one parameter (iterative pruning).

    The newest method prunes only what the earlier ones left: the nonzero entries of the mask
    (unstructured), the channels along its ``dim`` not yet all zero (structured), or everything (global).

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> layer = dendrite.nn.Linear(4, 3)
        >>> _ = prune.l1_unstructured(layer, "weight", amount=4)
        >>> container = prune.LnStructured.apply(layer, "weight", amount=1, n=2, dim=0)
        >>> [type(method).__name__ for method in container]
        ['L1Unstructured', 'LnStructured']
        >>> len(container), int(layer.weight_mask.sum()) <= 8
        (2, True)
        >>> container.add_pruning_method(prune.Identity()) is None  # doctest: +ELLIPSIS
        Traceback (most recent call last):
          ...
        ValueError: can only add pruning methods acting on the parameter named 'weight' ... Found 'None'
    """

    def __init__(self, *args) -> None:
        self._pruning_methods: tuple = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        """Append ``method`` (acting on the same parameter) to the sequence."""
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != getattr(method, "_tensor_name", None):
            raise ValueError("can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer. "
                             f"Found '{getattr(method, '_tensor_name', None)}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, index):
        return self._pruning_methods[index]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """``default_mask`` with the newest method's mask written over the part still unpruned."""
        method = self._pruning_methods[-1]
        new_mask = default_mask.to(dtype=t.dtype)
        if method.PRUNING_TYPE == "unstructured":
            where = default_mask == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError("Pruning methods of PRUNING_TYPE 'structured' need to have the "
                                     "attribute `dim` defined.")
            n_dims = t.dim()
            dim = method.dim + n_dims if method.dim < 0 else method.dim
            if dim < 0 or dim >= n_dims:
                raise IndexError(f"Index is out of bounds for tensor of dimension {n_dims}")
            keep_channel = default_mask.sum(dim=[d for d in range(n_dims) if d != dim]) != 0
            where = tuple(keep_channel if d == dim else slice(None) for d in range(n_dims))
        elif method.PRUNING_TYPE == "global":
            where = tuple(slice(None) for _ in range(t.dim()))
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        partial_mask = method.compute_mask(t[where], default_mask=default_mask[where])
        new_mask[where] = partial_mask.to(dtype=new_mask.dtype)
        return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones (useful to add the ``_orig``/``_mask`` structure).

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> layer = prune.identity(dendrite.nn.Linear(2, 2), "bias")
        >>> layer.bias_mask.tolist()
        [1.0, 1.0]
    """

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask


def _validate_amount_init(amount) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and (float(amount) > 1.0 or float(amount) < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] "
                         "or a non-negative integer")


def _validate_amount(amount, tensor_size: int) -> None:
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                         f"prune={tensor_size}")


def _nparams_toprune(amount, tensor_size: int) -> int:
    return amount if isinstance(amount, numbers.Integral) else round(amount * tensor_size)


def _validate_structured(t: Tensor, dim: int) -> None:
    if t.dim() <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. Found "
                         f"tensor of shape {tuple(t.shape)} with {t.dim()} dims")
    if dim >= t.dim() or dim < -t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")


def _channel_mask(t: Tensor, dim: int, index) -> Tensor:
    """Zeros shaped like ``t`` with ones on the slices ``index`` (indices or booleans) along ``dim``."""
    mask = creation.zeros_like(t)
    mask[tuple(index if d == dim % t.dim() else slice(None) for d in range(t.dim()))] = 1
    return mask


class _Unstructured(BasePruningMethod):
    """Zero ``amount`` single entries, the ones ``_chosen`` picks (the mask-making both methods share)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount) -> None:
        _validate_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        tensor_size = t.nelement()
        nparams_toprune = _nparams_toprune(self.amount, tensor_size)
        _validate_amount(nparams_toprune, tensor_size)
        mask = default_mask.clone()
        if nparams_toprune != 0:
            mask.view(-1)[self._chosen(t, nparams_toprune)] = 0
        return mask

    def _chosen(self, t: Tensor, count: int) -> Tensor:
        raise NotImplementedError


class RandomUnstructured(_Unstructured):
    """Zero ``amount`` entries chosen uniformly at random.

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> int(prune.RandomUnstructured(amount=0.5).prune(dendrite.ones(10)).sum())
        5
    """

    def _chosen(self, t: Tensor, count: int) -> Tensor:
        return topk(creation.rand_like(t).view(-1), k=count).indices


class L1Unstructured(_Unstructured):
    """Zero the ``amount`` entries of smallest absolute value.

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> prune.L1Unstructured(amount=2).prune(dendrite.tensor([0.5, -3.0, 0.1, 2.0])).tolist()
        [0.0, -3.0, 0.0, 2.0]
    """

    def _chosen(self, t: Tensor, count: int) -> Tensor:
        return topk(t.abs().view(-1), k=count, largest=False).indices


class _Structured(BasePruningMethod):
    """Zero ``amount`` whole slices along ``dim``; ``_kept`` says which slices stay (shared mask-making)."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1) -> None:
        _validate_amount_init(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        _validate_structured(t, self.dim)
        tensor_size = t.shape[self.dim]
        nparams_toprune = _nparams_toprune(self.amount, tensor_size)
        _validate_amount(nparams_toprune, tensor_size)
        if nparams_toprune == 0:
            return default_mask
        mask = _channel_mask(t, self.dim, self._kept(t, tensor_size, nparams_toprune))
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    def _kept(self, t: Tensor, tensor_size: int, nparams_toprune: int):
        raise NotImplementedError


class RandomStructured(_Structured):
    """Zero ``amount`` whole slices along ``dim``, chosen at random.

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> pruned = prune.RandomStructured(amount=1, dim=0).prune(dendrite.ones(3, 2))
        >>> sorted(pruned.sum(dim=1).tolist())
        [0.0, 2.0, 2.0]
    """

    def _kept(self, t: Tensor, tensor_size: int, nparams_toprune: int):
        prob = creation.rand(tensor_size)
        return prob > kthvalue(prob, k=nparams_toprune).values


def _norm_per_channel(t: Tensor, n, dim: int) -> Tensor:
    """The L_n norm of each slice of ``t`` along ``dim`` (over all the other dimensions)."""
    dims = list(range(t.dim()))
    dims.remove(dims[dim])
    return norm(t, p=n, dim=dims)


class LnStructured(_Structured):
    """Zero the ``amount`` slices along ``dim`` of smallest L_n norm (``n``: int, float, inf, -inf, 'fro').

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> t = dendrite.tensor([[1.0, 1.0], [0.1, 0.2], [3.0, 0.0]])
        >>> prune.LnStructured(amount=1, n=1, dim=0).prune(t).tolist()
        [[1.0, 1.0], [0.0, 0.0], [3.0, 0.0]]
    """

    def __init__(self, amount, n, dim: int = -1) -> None:
        super().__init__(amount, dim)
        self.n = n

    def _kept(self, t: Tensor, tensor_size: int, nparams_toprune: int):
        norm = _norm_per_channel(t, self.n, self.dim)
        return topk(norm, k=tensor_size - nparams_toprune, largest=True).indices


class CustomFromMask(BasePruningMethod):
    """Prune with a given 0/1 ``mask`` (multiplied into the mask already there).

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils import prune
        >>> layer = prune.custom_from_mask(dendrite.nn.Linear(2, 1), "bias", mask=dendrite.tensor([0.0]))
        >>> layer.bias_mask.tolist(), layer.bias.abs().tolist()
        ([0.0], [0.0])
    """

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise ValueError(f"the mask of shape {tuple(self.mask.shape)} should have the shape of the "
                             f"tensor it prunes: {tuple(default_mask.shape)}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)
