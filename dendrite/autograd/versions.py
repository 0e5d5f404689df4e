"""Version counters: what autograd needs to know about in-place writes.

PyTorch gives every tensor a version counter, shared with its views, that each
in-place write bumps; a node remembers the versions of the tensors it saved
and ``backward()`` refuses to use a saved value that was overwritten since.
dendrite does the same with two cheap pieces instead of per-tensor counters:

* one global ``clock``, advanced by every in-place write. ``Function.apply``
  stamps each recorded node with ``clock.now`` (one attribute store per op);
* a record per *memory owner* (the NumPy array that owns the bytes, which every
  view's ``.base`` points to): how many writes it has seen and when. A tensor
  and all its views share the owner, hence the version (``x._version``).

At backward, a node whose stamp is older than the clock (something was written
since it was made) looks at the arrays it really kept (its ``__dict__``, not its
inputs): if one of them lives in memory written after the stamp, the gradient
would be computed from overwritten values, and :func:`check_saved` raises
PyTorch's "modified by an inplace operation" error. A node that kept nothing
(``Add``) never complains, exactly as in PyTorch.

An in-place op recorded on a tensor in the graph *rebases* it: the tensor's
``grad_fn`` becomes the in-place node. Nodes made earlier still hold the same
Python object as input but must reach its old ``grad_fn``; :func:`rebase` keeps
that history on the tensor and :func:`edge_of` answers, for a node's stamp,
which ``(grad_fn, output index)`` the tensor had when the node was made.
"""

from __future__ import annotations

import weakref
from bisect import bisect_right
from collections import deque

from dendrite.autograd.grad_mode import state
from dendrite.backend import ndarray, on_device
from dendrite.tensor_base import TensorBase

__all__ = ["clock", "bump", "version_of", "check_saved", "rebase", "edge_of", "owner_of", "mark_view",
           "live_views"]

# How many recent write times each memory owner keeps, to name the version a node expected.
_RECENT = 64


class _Clock:
    """``now``: the number of in-place writes so far; ``rebased``: ``now`` at the latest rebase."""

    now = 0
    rebased = 0


clock = _Clock()


class _Record:
    """The writes seen by one memory owner: total count and the clock at the recent ones."""

    __slots__ = ("version", "times", "keep")

    def __init__(self, keep) -> None:
        self.version = 0
        self.times: deque = deque(maxlen=_RECENT)
        self.keep = keep  # a weak reference that drops this record with the owner (or the owner itself)


_records: dict = {}  # id(owner) -> _Record


def owner_of(array):
    """The object that owns ``array``'s memory (the array itself, or the end of its ``.base`` chain).

    Example:
        >>> import numpy as np
        >>> from dendrite.autograd.versions import owner_of
        >>> a = np.zeros(4)
        >>> owner_of(a[1:].reshape(3, 1)) is a
        True
    """
    owner = array
    base = getattr(array, "base", None)
    while base is not None:
        owner = base
        base = getattr(base, "base", None)
    return owner


def _forget(key: int):
    def drop(_reference) -> None:
        _records.pop(key, None)
    return drop


def bump(array) -> None:
    """Count one in-place write into ``array``'s memory: its version (and its views') goes up by one.

    Example:
        >>> import numpy as np
        >>> from dendrite.autograd.versions import bump, version_of
        >>> a = np.zeros(3)
        >>> bump(a[:1]); version_of(a), version_of(a[2:])
        (1, 1)
    """
    clock.now += 1
    owner = owner_of(array)
    record = _records.get(id(owner))
    if record is None:
        try:
            keep = weakref.ref(owner, _forget(id(owner)))
        except TypeError:  # bytes and other owners without weak references: keep them alive instead
            keep = owner
        record = _records[id(owner)] = _Record(keep)
    record.version += 1
    record.times.append(clock.now)


def version_of(array) -> int:
    """How many in-place writes ``array``'s memory has seen (PyTorch's ``tensor._version``).

    Example:
        >>> import numpy as np
        >>> from dendrite.autograd.versions import version_of
        >>> version_of(np.zeros(2))
        0
    """
    record = _records.get(id(owner_of(array)))
    return 0 if record is None else record.version


def _saved_arrays(node):
    """The arrays a node kept for backward: its attributes (one level into tuples/lists), not its inputs."""
    for name, value in node.__dict__.items():
        if name == "inputs":
            continue
        if name == "replayed_nodes":  # a replayed call (autograd/replay.py): what its nodes kept
            for inner in value:
                yield from _saved_arrays(inner)
            continue
        if type(value) is ndarray or on_device(value):
            yield value
        elif type(value) in (tuple, list):
            for item in value:
                if type(item) is ndarray or on_device(item):
                    yield item


def stale_after_writes(node) -> bool:
    """For a node older than the latest in-place write: check its saved values, and tell if it is stale.

    Both backward walks call it only when ``node.stamp < clock.now`` (one comparison per node on
    the common path). It raises as :func:`check_saved` does; it returns whether an input got a
    new ``grad_fn`` in place since the node was made (then :func:`edge_of` gives the old one).

    Example:
        >>> import dendrite
        >>> y = dendrite.tensor([1.0], requires_grad=True) * 2
        >>> z = y * 1        # Mul keeps y ...
        >>> y.add_(1)        # ... rebased and overwritten here
        tensor([3.], grad_fn=<AddBackward>)
        >>> try:
        ...     stale_after_writes(z.grad_fn)
        ... except RuntimeError as error:
        ...     print("modified by an inplace operation" in str(error))
        True
    """
    check_saved(node)
    return node.stamp < clock.rebased  # a rebase is a write, so only after one can it be stale


def check_saved(node) -> None:
    """Raise if an array ``node`` saved for backward was written in place after the node was made.

    Called by the engine only for nodes older than the latest write (``node.stamp < clock.now``).

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x.exp()       # Exp keeps its result for backward
        >>> y += 1            # ... which this overwrites
        >>> try:
        ...     check_saved(y.grad_fn.inputs[0].grad_fn)
        ... except RuntimeError as error:
        ...     print(str(error).split(": ", 1)[1][:70])
        [float32 tensor of shape (2,)] saved by ExpBackward is at version 1; e
    """
    # An in-place op's node that keeps the written tensor itself counts from after its own write.
    stamp = node.__dict__.get("saved_stamp", node.stamp)
    for array in _saved_arrays(node):
        record = _records.get(id(owner_of(array)))
        if record is None or not record.times or record.times[-1] <= stamp:
            continue
        later = sum(1 for time in record.times if time > stamp)
        expected = record.version - later
        known = later < len(record.times) or len(record.times) < _RECENT
        expected_text = f"{expected}" if known else f"at most {expected}"
        name = f"{node.name}Backward"
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an inplace "
            f"operation: [{array.dtype} tensor of shape {tuple(array.shape)}] saved by {name} is at version "
            f"{record.version}; expected version {expected_text} instead. Hint: the value was changed in "
            f"place (x += ..., x.add_(...), x[i] = ...) after {name} saved it for backward; change a "
            ".clone() instead, or use the out-of-place form (x = x + ...)."
        )


def rebase(tensor, node, index: int, requires_grad: bool) -> None:
    """Make ``node`` (output ``index``) the ``grad_fn`` of ``tensor``, keeping the old one for older nodes.

    Call right after the in-place write (:func:`bump`), so the write's time marks the change.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0], requires_grad=True)
        >>> y = x * 2; z = y + 1            # z's node was made while y came from Mul
        >>> bump(y.array); rebase(y, None, 0, False)
        >>> edge_of(y, z.grad_fn.stamp)[0], y.grad_fn
        (<MulBackward>, None)
    """
    history = getattr(tensor, "_history", None)
    if history is None:
        history = tensor._history = ([], [])  # write times (increasing), (grad_fn, index) before each
    history[0].append(clock.now)
    history[1].append((tensor._ctx, tensor._out_index))
    clock.rebased = clock.now
    old = tensor._ctx
    if old is not None and old.retained_outputs and tensor._out_index in old.retained_outputs:
        # retain_grad() follows the tensor to its new value, as in PyTorch (hooks stay with the old one).
        kept = old.retained_outputs.pop(tensor._out_index)
        if node is not None:
            if node.retained_outputs is None:
                node.retained_outputs = {}
            node.retained_outputs[index] = kept
    tensor._ctx = node
    tensor._out_index = index
    tensor.requires_grad = requires_grad


def edge_of(tensor, stamp):
    """``(grad_fn, output index)`` that ``tensor`` had when a node stamped ``stamp`` was made.

    Example:
        >>> import dendrite
        >>> y = dendrite.tensor([1.0], requires_grad=True) * 2
        >>> edge_of(y, 0)
        (<MulBackward>, 0)
    """
    history = getattr(tensor, "_history", None)
    if history is not None:
        # The first rebase after the node was made holds the grad_fn the node saw (a bisection:
        # an accumulator rebased at each of many steps, total += f(w, i), stays cheap).
        position = bisect_right(history[0], stamp)
        if position < len(history[0]):
            return history[1][position]
    return tensor._ctx, tensor._out_index


def mark_view(output, inputs, multi: bool):
    """Note on ``output`` which input's memory it shares, if any (called by ``Function.apply``); returns it.

    ``output._view`` becomes ``(base, made with grad mode on, one of several outputs)``, the base
    being the tensor at the root of a chain of views, as PyTorch's ``._base``. In-place ops on
    the view use it to update the base's graph (or refuse, where PyTorch refuses).

    Example:
        >>> import dendrite
        >>> x = dendrite.zeros(2, 3)
        >>> x[0]._view[0] is x, x.t()[1]._view[0] is x, (x + 1)._view if hasattr(x + 1, "_view") else None
        (True, True, None)
    """
    base = output._data.base  # NumPy points a view (of a view...) straight at the owning array
    for item in inputs:
        if isinstance(item, TensorBase):
            data = item._data
            if data is base or data.base is base:
                view = getattr(item, "_view", None)
                if view is None:
                    root, grad_mode = item, state.grad_enabled
                    output._view = (item, grad_mode, multi)
                else:
                    root, grad_mode, multi = view[0], view[1] and state.grad_enabled, view[2] or multi
                    output._view = (root, grad_mode, multi)
                # Note the views that an in-place change of the base in the graph must regenerate.
                # Only bases in the graph (activations) are noted: a leaf that requires grad never
                # changes in the graph (refused), and notes on plain tensors would tax every x[i].
                if grad_mode and not multi and root._ctx is not None:
                    views = getattr(root, "_views", None)
                    if views is None:
                        root._views = [weakref.ref(output)]
                    else:
                        views.append(weakref.ref(output))
                        if not len(views) % 64:  # now and then: drop the dead
                            views[:] = [reference for reference in views if reference() is not None]
                return output
    return output


def live_views(root) -> list:
    """The views of ``root`` (a tensor in the graph) made in grad mode and still alive (:func:`mark_view`).

    Example:
        >>> import dendrite
        >>> y = dendrite.zeros(3, requires_grad=True) * 1
        >>> first, last = y[0], y[2]
        >>> [view is first or view is last for view in live_views(y)]
        [True, True]
    """
    views = getattr(root, "_views", None) or ()
    return [view for view in (reference() for reference in views) if view is not None]
