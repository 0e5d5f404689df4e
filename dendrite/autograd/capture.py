"""Recording one call of a function as a tape of operations, for ``dendrite.compile`` to replay.

While a :class:`Recorder` is active, ``Function.apply`` is swapped for a version
that runs the operation as usual (the call stays an ordinary eager call) and
also writes down what it did: which ``Function`` class, which arguments (each
tensor as a *reference*: the function's ``k``-th tensor input, the ``j``-th
output of an earlier recorded operation, or a tensor from outside such as a
parameter), which constant options, and which inputs wanted a gradient. The
swap is undone when the call ends, even on error, so eager code pays nothing.

Everything the tape cannot express is refused, with the reason kept in
``recorder.reason`` (the compiled function then runs eagerly):

* an operation not marked ``replayable`` (autograd/function.py says what that promises);
* an array or a mutable object among an operation's arguments (it may hold values computed
  from the inputs outside the graph: the tape would freeze them);
* reading a tensor's values in Python (``x.item()``, ``bool(x)``, ``x.tolist()``, printing):
  a decision on values cannot be replayed;
* an in-place write (``x += 1``, ``add_``) or a change to a tensor it reads (an optimizer
  step, ``p.data = ...``), a ``backward()`` inside, module hooks (``note_unreplayable``),
  a hook or ``retain_grad`` on a tensor inside, anomaly mode;
* a result that is not a tensor (or a tuple/list of tensors) computed by a recorded operation.

What it cannot see is Python that decides from values it does not read through a tensor
(a closure variable, a global): docs/compile.md says how the guards mitigate that.
"""

from __future__ import annotations

import contextlib

from dendrite import tensor_base
from dendrite.autograd.engine import add_backward_observer
from dendrite.autograd.function import Function
from dendrite.autograd.grad_mode import state
from dendrite.autograd.versions import clock
from dendrite.backend import ndarray, xp
from dendrite.tensor_base import TensorBase

__all__ = ["Recorder", "is_recording", "modules", "note_unreplayable", "recording"]

class _Modules:
    """``version`` counts changes to any module's attributes (a new parameter, a replaced layer,
    ``train()``/``eval()`` switching a flag): ``nn.Module`` adds one on each; compiled functions
    record again after a change."""

    version = 0


modules = _Modules()

_active: list = []  # the recorder in use: at most one (a compiled call inside a recording runs eagerly)

# Options and plain arguments that the tape may keep as they are: immutable values.
_CONSTANT_TYPES = (type(None), bool, int, float, complex, str, slice, type(Ellipsis), xp.dtype, xp.generic,
                   type)

# Reading a tensor's values in Python: a decision on them would be frozen into the tape.
_VALUE_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__", "__array__",
                "__repr__", "__str__", "__format__")


def note_unreplayable(reason: str) -> None:
    """Tell a recording in progress that something happened that a replay would not repeat.

    Called, for instance, by ``Module`` when it runs forward hooks. Outside a recording it does
    nothing (one list test).

    Example:
        >>> from dendrite.autograd.capture import Recorder, note_unreplayable, recording
        >>> recorder = Recorder([])
        >>> with recording(recorder):
        ...     note_unreplayable("a forward hook on Linear")
        >>> recorder.reason
        'a forward hook on Linear'
    """
    if _active:
        _active[-1].refuse(reason)


def is_recording() -> bool:
    """True while a recording is in progress (a compiled function called inside one runs eagerly).

    Example:
        >>> from dendrite.autograd.capture import is_recording
        >>> is_recording()
        False
    """
    return bool(_active)


def _constant(value):
    """``value`` if the tape may keep it as it is (an immutable value, or a tuple of them), else None."""
    if isinstance(value, _CONSTANT_TYPES):
        return value
    if type(value) is tuple and all(_constant(item) is not None or item is None for item in value):
        return value
    return None


class Recorder:
    """The tape of one call: its operations, the tensors from outside, and why it cannot replay (if so).

    ``inputs`` are the tensors the call receives as arguments (references ``("i", k)``).
    Tensors from elsewhere (parameters, buffers, tensors a closure holds) become
    ``("l", k)``: ``leaves[k]``; outputs of recorded operations ``("o", j)``, numbered in
    the order they were made; plain values ``("c", value)``.

    Example:
        >>> import dendrite
        >>> from dendrite.autograd.capture import Recorder, recording
        >>> w = dendrite.ones(2, requires_grad=True)
        >>> x = dendrite.ones(2)
        >>> recorder = Recorder([x])
        >>> with recording(recorder):
        ...     y = (x * w).sum()
        >>> [(entry[0].__name__, entry[1]) for entry in recorder.entries]
        [('Mul', (('i', 0), ('l', 0))), ('Sum', (('o', 0),))]
        >>> recorder.reason is None
        True
    """

    def __init__(self, inputs: list) -> None:
        self.inputs = list(inputs)
        self.refs = {id(tensor): ("i", position) for position, tensor in enumerate(self.inputs)}
        self.keep = list(self.inputs)  # every tensor seen stays alive, so that no id is reused
        self.leaves: list = []
        self.leaf_arrays: list = []  # each leaf's array and a copy of it, to notice changes
        self.entries: list = []  # (Function class, argument refs, options, needs_input_grad, output refs)
        self.nodes: list = []  # the graph node of each entry (None where it recorded no graph)
        self.outputs_made = 0
        self.reason: str | None = None

    def refuse(self, reason: str) -> None:
        """Note why the call cannot be replayed (the first reason is kept).

        Example:
            >>> recorder = Recorder([])
            >>> recorder.refuse("first"); recorder.refuse("second"); recorder.reason
            'first'
        """
        if self.reason is None:
            self.reason = reason

    def _ref(self, item):
        """The reference of one argument of an operation."""
        if isinstance(item, TensorBase):
            ref = self.refs.get(id(item))
            if ref is None:  # from outside the call (a parameter), or made by something not recorded
                ref = self.refs[id(item)] = ("l", len(self.leaves))
                self.leaves.append(item)
                self.leaf_arrays.append((item._data, item._data.copy()))
                self.keep.append(item)
            return ref
        if _constant(item) is None and item is not None:
            kind = "an array" if isinstance(item, ndarray) else f"a {type(item).__name__}"
            self.refuse(f"an operation received {kind} as an argument (values computed outside the graph "
                        "would be frozen into the replay)")
        return ("c", item)

    def _record(self, cls, inputs: tuple, options: dict, result) -> None:
        """Write one operation (done by ``Function.apply``) on the tape."""
        if self.reason is not None:
            return
        if not cls.replayable:
            self.refuse(f"{cls.__name__} is not marked replayable (see Function.replayable)")
            return
        refs = tuple(self._ref(item) for item in inputs)
        for name, value in options.items():
            if _constant(value) is None and value is not None:
                self.refuse(f"{cls.__name__} received a {type(value).__name__} as option {name!r} (values "
                            "computed outside the graph would be frozen into the replay)")
        # as Function.apply decides it
        needs = [isinstance(item, TensorBase) and item.requires_grad for item in inputs]
        needs = tuple(needs) if state.grad_enabled and True in needs else (False,) * len(needs)
        outputs = result if type(result) is tuple else (result,)
        out_refs = []
        node = None
        for tensor in outputs:
            ref = self.refs[id(tensor)] = ("o", self.outputs_made)
            self.outputs_made += 1
            self.keep.append(tensor)
            out_refs.append(ref)
            node = node or tensor._ctx
        self.entries.append((cls, refs, dict(options), needs, tuple(out_refs)))
        self.nodes.append(node)

    def _check_after(self, clock_before: int, modules_before: int) -> None:
        """The checks that need the whole call: in-place writes, changed leaves, hooks, backward."""
        if modules.version != modules_before:
            self.refuse("the function changes a module's attributes (a replay would not repeat it)")
        if clock.now != clock_before:
            self.refuse("the function writes a tensor in place (x += ..., x.add_(...), x[i] = ...)")
        for tensor, (array, copy) in zip(self.leaves, self.leaf_arrays):
            if tensor._data is not array or not xp.array_equal(array, copy, equal_nan=True):
                self.refuse("the function changes a tensor it reads (an optimizer step, p.data = ..., a "
                            "write into .array): a replay would not repeat it")
                break
        for node in self.nodes:
            if node is not None and (node.output_hooks or node.retained_outputs):
                self.refuse("a hook (register_hook) or retain_grad() on a tensor inside the function")
            if node is not None and node.released:
                self.refuse("the function calls backward() (compile the forward computation and the loss; "
                            "call backward() and optimizer.step() outside)")


def _recording_apply(original):
    def apply(cls, *inputs, **options):
        result = original(cls, *inputs, **options)
        if _active:
            _active[-1]._record(cls, inputs, options, result)
        return result

    return classmethod(apply)


def _value_read(name: str, original):
    def read(self, *args, **kwargs):
        if _active:
            _active[-1].refuse(f"the function reads a tensor's values in Python ({name}): a decision on "
                               "values cannot be replayed")
        return original(self, *args, **kwargs)

    return read


@contextlib.contextmanager
def recording(recorder: Recorder):
    """Record the operations run inside the block into ``recorder`` (they run eagerly as well).

    Example:
        >>> import dendrite
        >>> from dendrite.autograd.capture import Recorder, recording
        >>> recorder = Recorder([])
        >>> with recording(recorder):
        ...     dendrite.ones(2).tolist()
        [1.0, 1.0]
        >>> recorder.reason.startswith("the function reads a tensor's values")
        True
    """
    if _active:
        raise RuntimeError("a recording is already in progress (recordings do not nest)")
    swapped = [(Function, "apply", Function.__dict__["apply"])]
    for name in _VALUE_READS:
        for cls in tensor_base._tensor_class.__mro__[:-1]:  # not ``object``
            if name in cls.__dict__:
                swapped.append((cls, name, cls.__dict__[name]))
                break
    original_apply = Function.__dict__["apply"].__func__
    remove_observer = add_backward_observer(
        lambda outputs: recorder.refuse("the function calls backward() (compile the forward computation "
                                        "and the loss; call backward() and optimizer.step() outside)"))
    clock_before, modules_before = clock.now, modules.version
    _active.append(recorder)
    try:
        Function.apply = _recording_apply(original_apply)
        for cls, name, original in swapped[1:]:
            setattr(cls, name, _value_read(name.strip("_"), original))
        yield recorder
    finally:
        for cls, name, original in swapped:
            setattr(cls, name, original)
        _active.pop()
        remove_observer()
    recorder._check_after(clock_before, modules_before)
