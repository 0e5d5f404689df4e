"""``dendrite.compile``: record a function's operations once, then replay them (docs/compile.md).

A compiled function is called like the original. For each *guard key* -- grad
mode, and for every argument its shape, dtype and ``requires_grad`` (a tensor)
or its value (anything hashable) -- it goes through three states:

1. **record**: the first two calls run eagerly while autograd/capture.py writes
   their operations down. Anything a replay could not repeat refuses the key
   (the reason is kept, ``explain()`` shows it) and the key stays eager. The
   two tapes must match exactly (same operations, options, parameters): a
   difference means the function decides something from values that change.
2. **check**: the first replay also runs eagerly, with the random stream
   rewound between the two, and both results must be the same bits, and the
   stream must end in the same state; else the key stays eager
   (``check_every=N`` repeats the check every N replays).
3. **replay** (autograd/replay.py): the recorded ``forward`` calls on the new
   arrays, one graph node for the whole call.

Before each replay the guards are checked: the key, the parameters' shapes,
dtypes and ``requires_grad``, and that no module changed since the recording
(any ``nn.Module`` attribute set, ``train()``/``eval()`` switching a flag:
record again). Anomaly mode, or a tracer that swapped ``Function.apply`` (ONNX
export), run the call eagerly.
"""

from __future__ import annotations

import copy
import functools

from dendrite import backend
from dendrite.autograd import capture
from dendrite.autograd.capture import Recorder, recording
from dendrite.autograd.function import Function
from dendrite.autograd.grad_mode import state
from dendrite.autograd.replay import Plan, difference, run
from dendrite.tensor_base import TensorBase

__all__ = ["CompiledFunction", "compile"]

_APPLY = Function.__dict__["apply"]


class _Key:
    """One guard key's state: recordings so far, the plan once built, or why it stays eager."""

    __slots__ = ("recordings", "plan", "reason", "replays", "checked")

    def __init__(self) -> None:
        self.recordings: list = []
        self.plan = None
        self.reason: str | None = None
        self.replays = 0
        self.checked = False


def _guard_key(args: tuple, kwargs: dict):
    """(the guard key, the tensors among the arguments) or (None, why) when an argument cannot be guarded."""
    tensors, parts = [], [state.grad_enabled]
    for value in args + tuple(kwargs.values()):
        if isinstance(value, TensorBase):
            tensors.append(value)
            data = value._data
            parts.append((data.shape, data.dtype, value.requires_grad))
        else:
            try:
                hash(value)
            except TypeError:
                return None, f"an argument of type {type(value).__name__} is neither a tensor nor hashable"
            parts.append((type(value), value))
    if kwargs:
        parts.append(tuple(kwargs))
    return tuple(parts), tensors


def _outputs(result):
    """(the result's tensors, how to rebuild it) or (None, why) when it is not tensors."""
    if isinstance(result, TensorBase):
        return [result], "tensor"
    if type(result) in (tuple, list) and result and all(isinstance(item, TensorBase) for item in result):
        return list(result), type(result)
    return None, (f"the function returns a {type(result).__name__}; a compiled function returns a tensor "
                  "or a tuple/list of tensors")


def _same_bits(one, other) -> bool:
    one, other = (one if isinstance(one, (tuple, list)) else [one]), \
        (other if isinstance(other, (tuple, list)) else [other])
    return len(one) == len(other) and all(
        a._data.dtype == b._data.dtype and a._data.shape == b._data.shape
        and a._data.tobytes() == b._data.tobytes() for a, b in zip(one, other))


class CompiledFunction:
    """A function whose calls are recorded once and then replayed (see the module docstring).

    ``stats`` counts calls by how they ran (``recorded``, ``checked``, ``replayed``,
    ``eager``); ``explain()`` says, for each guard key, whether it replays and why not.

    Example:
        >>> import dendrite
        >>> w = dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> f = dendrite.compile(lambda x: (x * w).sum())
        >>> [f(dendrite.tensor([1.0, 1.0])).item() for _ in range(4)]
        [3.0, 3.0, 3.0, 3.0]
        >>> f.stats
        {'recorded': 2, 'checked': 1, 'replayed': 1, 'eager': 0}
    """

    def __init__(self, function, *, fullgraph: bool = False, check_every: int = 0, cache_limit: int = 8):
        if not callable(function):
            raise TypeError(f"compile: expected a module or a function, got {type(function).__name__}")
        functools.update_wrapper(self, function)
        self._function = function
        self._fullgraph = fullgraph
        self._check_every = check_every
        self._cache_limit = cache_limit
        self._keys: dict = {}
        self._version = capture.modules.version
        self._always_eager: str | None = None  # set when the function itself changes modules
        self.stats = {"recorded": 0, "checked": 0, "replayed": 0, "eager": 0}
        self.reasons: list = []  # why calls ran eagerly, each reason once

    def __deepcopy__(self, memo):
        return CompiledFunction(copy.deepcopy(self._function, memo), fullgraph=self._fullgraph,
                                check_every=self._check_every, cache_limit=self._cache_limit)

    def __get__(self, instance, owner=None):  # used as a method: bind like a function
        return self if instance is None else functools.partial(self, instance)

    def explain(self) -> str:
        """One line per guard key: replayed or eager, and why.

        Example:
            >>> import dendrite
            >>> f = dendrite.compile(lambda x: x.exp().tolist())
            >>> _ = f(dendrite.ones(1)); print(f.explain()[:80])
            (1,) float32: eager: the function reads a tensor's values in Python (tolist): a
        """
        lines = []
        for key, entry in self._keys.items():
            shapes = " ".join(f"{part[0]} {part[1]}" for part in key[1:] if type(part[0]) is tuple)
            if entry.plan is not None:
                lines.append(f"{shapes}: replays ({entry.replays} calls)")
            elif entry.reason is not None:
                lines.append(f"{shapes}: eager: {entry.reason}")
            else:
                lines.append(f"{shapes}: recording ({len(entry.recordings)} of 2 calls)")
        known = {entry.reason for entry in self._keys.values()}
        return "\n".join(lines + [f"eager: {reason}" for reason in self.reasons if reason not in known])

    # ------------------------------------------------------------------ calls
    def __call__(self, *args, **kwargs):
        if state.anomaly_enabled or capture.is_recording() or Function.__dict__["apply"] is not _APPLY:
            return self._eager(args, kwargs, None)
        if self._always_eager is not None:
            return self._eager(args, kwargs, self._always_eager)
        if capture.modules.version != self._version:  # a module changed: record everything again
            self._keys.clear()
            self._version = capture.modules.version
        key, tensors = _guard_key(args, kwargs)
        if key is None:
            return self._eager(args, kwargs, tensors)
        entry = self._keys.get(key)
        if entry is None:
            if len(self._keys) >= self._cache_limit:
                return self._eager(args, kwargs, f"more than cache_limit={self._cache_limit} guard keys "
                                                 "(shapes, dtypes or argument values keep changing)")
            entry = self._keys[key] = _Key()
        plan = entry.plan
        if plan is not None:
            if [(t._data.shape, t._data.dtype, t.requires_grad) for t in plan.leaves] == plan.leaf_key:
                entry.replays += 1
                if not entry.checked or (self._check_every and entry.replays % self._check_every == 0):
                    return self._checked_replay(entry, args, kwargs, tensors)
                self.stats["replayed"] += 1
                return run(plan, tensors)
            entry.plan, entry.checked = None, False  # a parameter changed shape, dtype or requires_grad
        if entry.reason is not None:
            return self._eager(args, kwargs, entry.reason)
        return self._record(entry, args, kwargs, tensors)

    def _eager(self, args, kwargs, reason):
        self.stats["eager"] += 1
        if reason is not None and reason not in self.reasons:
            self.reasons.append(reason)
        return self._function(*args, **kwargs)

    def _refuse(self, entry: _Key, reason: str) -> None:
        entry.reason, entry.recordings = reason, []
        if self._fullgraph:
            raise RuntimeError(f"compile(fullgraph=True): {getattr(self, '__name__', 'the function')} cannot "
                               f"be replayed: {reason}")

    def _record(self, entry: _Key, args, kwargs, tensors):
        self.stats["recorded"] += 1
        with recording(Recorder(tensors)) as recorder:
            result = self._function(*args, **kwargs)
        if capture.modules.version != self._version:
            # Each call would record again (and a recording costs more than an eager call): stay eager.
            self._always_eager = recorder.reason
            self._version = capture.modules.version
        outputs, kind = _outputs(result)
        if outputs is None:
            recorder.refuse(kind)
        elif any(recorder.refs.get(id(tensor), ("",))[0] != "o" or tensor._view is not None
                 for tensor in outputs):
            recorder.refuse("the function returns a tensor it did not compute with a recorded operation (an "
                            "input, a parameter) or a view of one")
        if recorder.reason is not None:
            self._refuse(entry, recorder.reason)
            return result
        entry.recordings.append((recorder, outputs, kind))
        if len(entry.recordings) == 2:
            (first, first_outputs, first_kind), _ = entry.recordings
            why = difference(first, recorder)
            if why is None and (first_kind != kind or [first.refs[id(t)] for t in first_outputs]
                                != [recorder.refs[id(t)] for t in outputs]):
                why = "the two calls returned different results (Python control flow on values?)"
            if why is not None:
                self._refuse(entry, why)
            else:
                entry.plan, entry.recordings = Plan(recorder, outputs, kind), []
        return result

    def _checked_replay(self, entry: _Key, args, kwargs, tensors):
        """Replay and run eagerly from the same random state: the same bits, or the key stays eager."""
        self.stats["checked"] += 1
        generator = backend.generator().bit_generator
        before = generator.state
        eager = self._function(*args, **kwargs)
        after = generator.state
        generator.state = before
        replayed = run(entry.plan, tensors)
        if _same_bits(eager, replayed) and str(generator.state) == str(after):
            entry.checked = True
            return replayed
        generator.state = after
        entry.plan = None
        self._refuse(entry, "a replay gave other values than eager mode (Python decisions on values that "
                            "changed since the recording?)")
        return eager


def _is_module(value) -> bool:
    return hasattr(value, "_modules") and hasattr(value, "_parameters") \
        and callable(getattr(value, "forward", None))


def compile(model=None, *, fullgraph: bool = False, check_every: int = 0, cache_limit: int = 8, **options):
    """Record ``model`` (a module or a function of tensors) once, then replay its operations on later calls.

    The result is called as ``model`` is and gives the same bits as eager mode
    (values and gradients); a call it cannot prove it replays identically runs
    eagerly (docs/compile.md lists the guards and the fallbacks). A module is
    compiled in place (its ``forward``) and returned, as ``Module.compile()``
    does in PyTorch; a function gives a :class:`CompiledFunction`. Without
    ``model`` it is a decorator. ``fullgraph=True`` raises instead of running
    eagerly; ``check_every=N`` re-checks one replay against eager mode every N
    replays; ``cache_limit`` bounds the guard keys kept. PyTorch's other options
    (``mode``, ``dynamic``, ``backend``...) are accepted and mean nothing here.

    Compile what computes the loss (forward and loss); call ``backward()`` and
    ``optimizer.step()`` outside, on the result.

    Example:
        >>> import dendrite
        >>> import dendrite.nn.functional as F
        >>> nn = dendrite.nn
        >>> model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
        >>> loss_of = dendrite.compile(lambda x, y: F.cross_entropy(model(x), y))
        >>> x, y = dendrite.randn(8, 2), dendrite.tensor([0, 1] * 4)
        >>> for _ in range(5):
        ...     optimizer.zero_grad()
        ...     loss = loss_of(x, y)
        ...     loss.backward()
        ...     optimizer.step()
        >>> loss_of.stats["replayed"], loss.grad_fn
        (2, <CompiledBackward>)
    """
    settings = dict(fullgraph=fullgraph, check_every=check_every, cache_limit=cache_limit)
    if model is None:
        return lambda function: compile(function, **settings)
    if isinstance(model, CompiledFunction):
        return model
    if _is_module(model):
        if not isinstance(model.__dict__.get("forward"), CompiledFunction):
            object.__setattr__(model, "forward", CompiledFunction(model.forward, **settings))
        return model
    return CompiledFunction(model, **settings)
