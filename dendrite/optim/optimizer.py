"""``Optimizer``: the base class that holds parameter groups and per-parameter state.

An optimizer owns ``param_groups`` (a list of dicts, each with its ``params`` and
its own options such as ``lr``) and ``state`` (a dict from parameter to that
parameter's buffers, e.g. Adam's moving averages). Subclasses implement
``step()``; this class does the bookkeeping that every optimizer shares:
grouping, ``zero_grad``, ``state_dict``/``load_state_dict`` in PyTorch's format,
and step hooks.

Updates are written straight into the parameter's array (``p.array``) with
NumPy in-place operations, so no graph is recorded and every view or module
holding the parameter sees the new values.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from dendrite import backend
from dendrite.autograd.grad_mode import enable_grad
from dendrite.backend import float32, xp
from dendrite.tensor import Tensor, wrap

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks an option without a default: every parameter group must set it."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class _HookHandle:
    """Returned by ``register_step_*_hook``; ``.remove()`` unregisters the hook."""

    def __init__(self, hooks: dict, key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


def _with_step_hooks(step):
    """Wrap a subclass's ``step`` so that hooks run once around the outermost call."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self._in_step:  # a subclass's step calling super().step(): hooks already ran
            return step(self, *args, **kwargs)
        self._in_step = True
        try:
            if self._step_pre_hooks:
                for hook in list(self._step_pre_hooks.values()):
                    result = hook(self, args, kwargs)
                    if result is not None:
                        args, kwargs = result
            loss = step(self, *args, **kwargs)
            # Read by the LR schedulers to warn about scheduler.step() before optimizer.step().
            self._opt_called = True
            if self._step_post_hooks:
                for hook in list(self._step_post_hooks.values()):
                    hook(self, args, kwargs)
        finally:
            self._in_step = False
        return loss

    wrapper._dendrite_step_hooks = True
    return wrapper


def new_step_counter() -> Tensor:
    """A 0-d float32 tensor holding 0, PyTorch's type for ``state['step']``."""
    return wrap(xp.zeros((), dtype=float32))


def regularized_gradient(grad, param, maximize: bool, weight_decay: float):
    """The gradient an update rule sees: negated for ``maximize``, plus L2 ``weight_decay * param``.

    PyTorch's order (maximize first, then weight decay). A changed gradient is a new
    array, so the parameter's stored ``.grad`` is never modified.
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    return grad


def check_option(optimizer: str, ok: bool, what: str, value, expected: str) -> None:
    """Raise ``ValueError("SGD: Invalid learning rate: -0.1 (expected lr >= 0)")`` unless ``ok``."""
    if not ok:
        raise ValueError(f"{optimizer}: Invalid {what}: {value!r} (expected {expected})")


class Optimizer:
    """Base class of all optimizers: parameter groups, per-parameter state, state dicts.

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts
            (parameter groups: ``{"params": [...], "lr": 0.1, ...}``) whose
            options override ``defaults`` for that group.
        defaults: the default value of each option.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.ones(2))
        >>> opt = dendrite.optim.SGD([{"params": [w], "lr": 0.5}], lr=0.1)
        >>> opt.param_groups[0]["lr"], opt.defaults["lr"]
        (0.5, 0.1)
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._step_pre_hooks: dict[int, Callable] = {}
        self._step_post_hooks: dict[int, Callable] = {}
        self._hook_counter = 0
        self._in_step = False
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, got a "
                f"single Tensor of shape {params.shape}; pass [tensor] or model.parameters()"
            )
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(
                f"{type(self).__name__} got an empty parameter list; expected at least one tensor "
                "(did the model's parameters() iterator get used up already?)"
            )
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_dendrite_step_hooks", False):
            cls.step = _with_step_hooks(step)

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for index, group in enumerate(self.param_groups):
            text += f"\nParameter Group {index}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. unfreezing layers while fine-tuning).

        Example:
            >>> import dendrite
            >>> a, b = dendrite.nn.Parameter(dendrite.ones(2)), dendrite.nn.Parameter(dendrite.ones(3))
            >>> opt = dendrite.optim.SGD([a], lr=0.1)
            >>> opt.add_param_group({"params": [b], "lr": 0.01})
            >>> [group["lr"] for group in opt.param_groups]
            [0.1, 0.01]
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                f"{name}: parameters must be given in an ordered collection (a list), not a set: "
                "the order of a set changes between runs"
            )
        else:
            params = list(params)
        tensors, names = [], []
        for param in params:
            if isinstance(param, tuple):
                names.append(param[0])
                param = param[1]
            if not isinstance(param, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, but one of the params is a "
                                f"{type(param).__name__}")
            if param._ctx is not None:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (one produced by an operation);"
                                 " optimize the leaf it was computed from, or .detach() it")
            tensors.append(param)
        if names and len(names) != len(tensors):
            raise ValueError(f"{name}: all optimizer params should be with/without names. "
                             "Some param names are missing")
        param_group["params"] = tensors
        if names:
            param_group["param_names"] = names

        for option, default in self.defaults.items():
            if default is required and option not in param_group:
                raise ValueError(f"{name}: parameter group didn't specify a value of required "
                                 f"optimization parameter {option}")
            param_group.setdefault(option, default)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn(f"{name}: a parameter group contains the same parameter more than once; "
                          "it would be updated twice per step", UserWarning, stacklevel=3)
        taken = {id(p) for group in self.param_groups for p in group["params"]}
        if not taken.isdisjoint(ids):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group; "
                             "each parameter may belong to one group only")
        for group in self.param_groups:
            if ("param_names" in group) != ("param_names" in param_group):
                kind = "with names" if "param_names" in param_group else "without names"
                raise ValueError(f"{name}: all optimizer param groups should be with/without names; "
                                 f"cannot add a param group {kind}")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ gradients and steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors (to ``None`` by default, else to zeros).

        Example:
            >>> import dendrite
            >>> w = dendrite.nn.Parameter(dendrite.ones(2))
            >>> (w * w).sum().backward()
            >>> opt = dendrite.optim.SGD([w], lr=0.1)
            >>> opt.zero_grad()
            >>> w.grad is None
            True
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    grad._ctx, grad.requires_grad = None, False
                    if backend.writeable(grad.array):
                        grad.array.fill(0)
                    else:
                        grad.data = xp.zeros_like(grad.array)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step (implemented by each optimizer); returns the closure's loss.

        The closure, if given, recomputes the loss with gradients (zero_grad, forward, backward)
        and returns it; optimizers such as LBFGS call it several times.

        Example:
            >>> import dendrite
            >>> w = dendrite.nn.Parameter(dendrite.tensor([1.0, 2.0]))
            >>> opt = dendrite.optim.SGD([w], lr=0.25)
            >>> (w * w).sum().backward()   # grad 2 w
            >>> opt.step()
            >>> w.tolist()
            [0.5, 1.0]
            >>> def closure():
            ...     opt.zero_grad()
            ...     loss = (w * w).sum()
            ...     loss.backward()
            ...     return loss
            >>> float(opt.step(closure))   # the loss before this step
            1.25
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None):
        """Run the closure (which recomputes the loss and calls backward) with gradients on."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def regularized_gradients(self, group: dict[str, Any], init_state: Callable | None = None):
        """Yield ``(param, grad, state)`` arrays for each parameter of ``group`` that has a gradient.

        The prelude every ``step`` shares, in PyTorch's order: ``grad`` is negated for
        ``maximize``, then weight decay is applied: decoupled (``param *= 1 - lr * weight_decay``)
        when the group has ``decoupled_weight_decay``, else L2 (``grad + weight_decay * param``,
        see :func:`regularized_gradient`). ``param`` is the parameter's own array (update it in
        place), ``grad`` has the parameter's shape and is never the stored ``.grad`` when changed.

        With ``init_state``, ``state`` is the parameter's state dict, filled by
        ``init_state(state, param, group)`` when empty, and its ``"step"`` counter (if any) is
        already incremented; without it ``state`` is ``None`` and ``self.state`` is not touched.

        Example:
            >>> import dendrite
            >>> w = dendrite.nn.Parameter(dendrite.tensor([1.0, -2.0]))
            >>> (w * w).sum().backward()
            >>> opt = dendrite.optim.SGD([w], lr=0.1, weight_decay=0.5)
            >>> [grad.tolist() for _, grad, _ in opt.regularized_gradients(opt.param_groups[0])]
            [[2.5, -5.0]]
        """
        maximize = group["maximize"]
        weight_decay = group["weight_decay"]
        decay = 0.0
        if group.get("decoupled_weight_decay", False) and weight_decay != 0:
            decay, weight_decay = 1 - float(group["lr"]) * weight_decay, 0
        states = self.state
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            param = p.array
            state = None
            if init_state is not None:
                state = states[p]
                if len(state) == 0:
                    init_state(state, param, group)
                step = state.get("step")
                if step is not None:
                    step_count = step.array
                    step_count += 1
            if decay:
                param *= decay
            yield param, regularized_gradient(grad.array, param, maximize, weight_decay), state

    def register_step_pre_hook(self, hook: Callable) -> _HookHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each ``step``; it may return ``(args, kwargs)``.

        Returns a handle whose ``remove()`` unregisters the hook.

        Example:
            >>> import dendrite
            >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
            >>> handle = opt.register_step_pre_hook(lambda optimizer, args, kwargs: print("stepping"))
            >>> opt.step()
            stepping
            >>> handle.remove()
            >>> opt.step()
        """
        self._hook_counter += 1
        self._step_pre_hooks[self._hook_counter] = hook
        return _HookHandle(self._step_pre_hooks, self._hook_counter)

    def register_step_post_hook(self, hook: Callable) -> _HookHandle:
        """Call ``hook(optimizer, args, kwargs)`` after every ``step``; returns a handle with ``remove()``.

        Example:
            >>> import dendrite
            >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=0.1)
            >>> steps = []
            >>> handle = opt.register_step_post_hook(lambda optimizer, args, kwargs: steps.append(1))
            >>> opt.step(); opt.step(); len(steps)
            2
        """
        self._hook_counter += 1
        self._step_post_hooks[self._hook_counter] = hook
        return _HookHandle(self._step_post_hooks, self._hook_counter)

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout: parameters replaced by their position.

        ``{"state": {0: {"momentum_buffer": tensor, ...}, ...}, "param_groups": [{"lr": ...,
        "params": [0, 1]}, ...]}``. Unlike PyTorch, the returned buffers are copies, so the
        dict is a snapshot that later steps do not change.

        Example:
            >>> import dendrite
            >>> w = dendrite.nn.Parameter(dendrite.ones(2))
            >>> opt = dendrite.optim.SGD([w], lr=0.1)
            >>> opt.state_dict()["param_groups"][0]["params"]
            [0]
        """
        positions: dict[int, int] = {}
        param_groups = []
        start = 0
        for group in self.param_groups:
            packed = {key: _copy_value(value) for key, value in group.items() if key != "params"}
            # PyTorch's numbering: a group's parameters take the next len(params) positions.
            for position, p in enumerate(group["params"], start):
                positions.setdefault(id(p), position)
            packed["params"] = [positions[id(p)] for p in group["params"]]
            start += len(packed["params"])
            param_groups.append(packed)
        state = {}
        for key, value in self.state.items():
            index = positions[id(key)] if isinstance(key, Tensor) else key
            state[index] = {name: _copy_value(item) for name, item in value.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from :meth:`state_dict` (or a PyTorch optimizer's ``state_dict()``).

        Buffers are copied and cast to their parameter's dtype (``step`` stays float32);
        the learning rates and other options of each group are restored too.

        Example:
            >>> import dendrite
            >>> w = dendrite.nn.Parameter(dendrite.ones(2))
            >>> opt = dendrite.optim.SGD([w], lr=0.1, momentum=0.9)
            >>> opt.load_state_dict(opt.state_dict())
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict expects a dict with keys 'state' and 'param_groups' "
                             "(as returned by state_dict())")
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError(f"{name}: loaded state dict has {len(saved_groups)} parameter groups, "
                             f"but the optimizer has {len(groups)}")
        for index, (group, saved) in enumerate(zip(groups, saved_groups)):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), (list, tuple)):
                raise ValueError(f"{name}: loaded parameter group {index} is not a dict with a 'params' list")
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{name}: loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group: group {index} has {len(saved['params'])} parameters in the state "
                    f"dict but {len(group['params'])} in the optimizer"
                )
        id_map = {saved_id: p for group, saved in zip(groups, saved_groups)
                  for saved_id, p in zip(saved["params"], group["params"])}

        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        if not isinstance(state_dict["state"], dict):
            raise ValueError(f"{name}.load_state_dict: 'state' must be a dict, got "
                             f"{type(state_dict['state']).__name__}")
        for key, value in state_dict["state"].items():
            param = id_map.get(key)
            if param is None:
                state[key] = value
            elif not isinstance(value, dict):
                raise ValueError(f"{name}.load_state_dict: the state of parameter {key!r} is a "
                                 f"{type(value).__name__}, not a dict")
            else:
                state[param] = {item: _load_value(item, entry, param, f"{name}: state[{key!r}][{item!r}]")
                                for item, entry in value.items()}

        new_groups = []
        for group, saved in zip(groups, saved_groups):
            new_group = {key: _copy_value(value) for key, value in saved.items() if key != "params"}
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            new_groups.append(new_group)
        self.state = state
        self.param_groups = new_groups
        self._after_load()

    def _after_load(self) -> None:
        """Hook for subclasses to restore options that older state dicts lack."""


def _copy_value(value):
    """A copy of one state entry: tensors and arrays are copied, everything else kept."""
    if isinstance(value, Tensor):
        return wrap(value.array.copy())
    if backend.is_array(value):
        return value.copy()
    return copy.deepcopy(value)


def _load_value(key: str, value, param: Tensor, where: str = ""):
    """A state entry made ready for ``param``: a copied tensor in the parameter's float dtype.

    Arrays from anywhere (dendrite tensors, NumPy arrays, PyTorch tensors) are accepted, if they
    are numbers and either scalars or of the parameter's shape (a wrong one is refused here,
    not at the first step). ``step`` keeps float32, as in PyTorch.
    """
    if key == "step":
        array = value.array if isinstance(value, Tensor) else backend.asarray(value)
        if array.size != 1 or array.dtype.kind not in "biuf":
            raise ValueError(f"{where} (the step count) is {array.dtype} of shape {tuple(array.shape)}; "
                             "expected one number")
        return wrap(backend.to_host(array).astype(float32))
    if isinstance(value, Tensor):
        array = value.array
    elif hasattr(value, "__array__") and not isinstance(value, (int, float)):
        array = backend.asarray(value)  # NumPy arrays, PyTorch tensors
    else:
        return copy.deepcopy(value)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{where} has dtype {array.dtype}; expected numbers")
    if array.ndim and tuple(array.shape) != tuple(param.shape):
        raise ValueError(f"{where} has shape {tuple(array.shape)}, but its parameter has shape "
                         f"{tuple(param.shape)}: this state belongs to another model")
    dtype = param.array.dtype if param.array.dtype.kind == "f" and array.dtype.kind == "f" else array.dtype
    # on the parameter's device, as PyTorch (a state saved from a CUDA model loads on the host)
    return wrap(backend.to_device(array, backend.device_kind(param.array)).astype(dtype, copy=True))
