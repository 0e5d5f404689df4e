"""Plain SGD over a group of small parameters in two NumPy calls: the parameters as views of one array.

A tiny network's SGD step is two small NumPy calls per parameter (``p -= lr * g``: a product and a
subtraction), each costing far more in call overhead than in arithmetic. When a group's parameters
are views of one flat array, the same update of all of them is two calls on that array: the gradients
are copied into one scratch array, scaled in place, and added to the parameters. Every element goes
through the same operations in the same order as in the per-parameter update, so the bits are the same.

:class:`FlatGroup` makes the parameters views (their arrays are replaced by views of a new array with
the same values) only where nobody can tell:

* nothing but its tensor references a parameter's array (``sys.getrefcount``): no other tensor shares
  it (``Parameter(t)``, ``.data``, ``detach()``, a view, a saved value of a retained graph), so no one
  holds the array that is replaced;
* the arrays are NumPy arrays of one dtype, C-contiguous, writeable, owning their memory, each
  parameter is in the group once, and all together hold at most ``optim.blocks.BLOCK`` elements (the
  scratch then stays within one block, as every temporary of optim does; larger parameters gain
  nothing from this, their update is arithmetic, not overhead).

Each parameter's view goes through a memoryview of its own, so that autograd still sees one memory
owner per parameter (version counters, in-place checks: autograd/versions.py), as before.

Each step checks that it still holds: each parameter's array is still the view it was given, each
gradient is there with its parameter's shape and dtype; else this step updates parameter by parameter,
as before. A replaced array (``p.data = ...``) ends the plan for good: the other parameters' arrays are
views now, and views made of them (which a reference count does not show) must keep sharing memory.
(``Module.load_state_dict`` copies into the arrays: it keeps the plan.)
"""

from __future__ import annotations

import sys

from dendrite.backend import ndarray, xp
from dendrite.optim.blocks import BLOCK
from dendrite.tensor import wrap

__all__ = ["FlatGroup"]


def _count_alone() -> int:
    """``sys.getrefcount(tensor.array)`` when only ``tensor`` references its array (interpreters differ)."""
    tensor = wrap(xp.zeros(1))
    return sys.getrefcount(tensor.array)


_ALONE = _count_alone()


# How many steps in a row a plan is tried again while something else references a parameter's array:
# the first calls of a compiled function keep the arrays for a while (their recording), a user's
# variable may too; after that the group stays parameter by parameter until its arrays change.
TRIES = 16


def _flattenable(params: list) -> bool:
    """The arrays' part of the conditions (module docstring): the same for as long as they are."""
    if not params or len({id(p) for p in params}) != len(params):
        return False
    dtype, total = params[0].array.dtype, 0
    for p in params:
        array = p.array
        flags = array.flags
        if type(array) is not ndarray or not (flags.owndata and flags.c_contiguous and flags.writeable):
            return False
        total += array.size
        if array.dtype != dtype or dtype.kind != "f" or total > BLOCK:
            return False
    return True


def _can_flatten(params: list) -> bool | None:
    """Whether replacing the parameters' arrays by views of one array is invisible (module docstring);
    None when only because something else references an array now (worth another try later)."""
    if not _flattenable(params):  # (a function of its own: its locals hold no array below)
        return False
    for p in params:
        if sys.getrefcount(p.array) != _ALONE:  # another tensor, a view, a user's variable holds it
            return None
    return True


class FlatGroup:
    """One parameter group's parameters as views of one array, and a scratch array for their gradients.

    ``subtract_scaled_(params, lr)`` is ``p -= lr * p.grad`` for every parameter, in two NumPy calls
    over the group; it returns False (and changes nothing) when it cannot: then update each parameter.

    Example:
        >>> import dendrite
        >>> from dendrite.optim.flat import FlatGroup
        >>> params = [dendrite.nn.Parameter(dendrite.ones(2)), dendrite.nn.Parameter(dendrite.ones(3))]
        >>> for p in params:
        ...     p.grad = dendrite.full(p.shape, 2.0)
        >>> group = FlatGroup()
        >>> group.subtract_scaled_(params, 0.25)
        True
        >>> [p.tolist() for p in params]
        [[0.5, 0.5], [0.5, 0.5, 0.5]]
    """

    __slots__ = ("arrays", "flat", "grads", "grad_views", "tries")

    def __init__(self) -> None:
        self.arrays: list = []  # the parameters' arrays as planned (the views once flat), by identity
        self.flat = self.grads = None  # the parameters' flat array and the gradients' scratch, when flat
        self.grad_views: list = []
        self.tries = 0  # plans refused in a row because an array was referenced elsewhere

    def __deepcopy__(self, memo):  # a copied optimizer's parameters are other arrays: plan again
        return FlatGroup()

    def _plan(self, params: list) -> bool:
        """Make the parameters views of one array if possible; whether they are."""
        self.arrays, self.flat, self.grads, self.grad_views = [], None, None, []  # let go of the old ones
        possible = _can_flatten(params)
        if possible is None:
            self.tries += 1
            if self.tries < TRIES:
                return False  # no arrays kept: the next step tries again
        else:
            self.tries = 0
        if possible:
            dtype = params[0].array.dtype
            sizes = [p.array.size for p in params]
            flat = xp.empty(sum(sizes), dtype)
            grads = xp.empty_like(flat)
            start = 0
            memory = memoryview(flat)
            for p, size in zip(params, sizes):
                shape = p.array.shape
                # Through a memoryview of its own, not a slice: each parameter's array then stays its own
                # memory owner for autograd's version counters (versions.owner_of follows ``.base`` to
                # the object that owns the bytes; with slices the flat array would own all of them, and
                # an in-place write to one parameter would count as a write to every other).
                view = xp.frombuffer(memory[start:start + size], dtype).reshape(shape)
                view[...] = p.array
                p.data = view
                self.grad_views.append(grads[start:start + size].reshape(shape))
                start += size
            self.flat, self.grads = flat, grads
        # The arrays are kept so that the next step sees nothing changed and does not plan again.
        self.arrays = [p.array for p in params]
        return self.grads is not None

    def subtract_scaled_(self, params: list, lr: float) -> bool:
        """``p -= lr * p.grad`` for each of ``params`` in two NumPy calls; False: it cannot."""
        arrays = self.arrays
        if len(arrays) != len(params):
            return self._replan(params, lr)
        if self.grads is None:  # planned, not flat: plan again only when the arrays change
            if any(p.array is not array for p, array in zip(params, arrays)):
                arrays = None  # (this frame's references would count in the plan)
                return self._replan(params, lr)
            return False
        # One pass: each array still the one planned (its view), each gradient copied into the scratch.
        for p, array, view in zip(params, arrays, self.grad_views):
            if p.array is not array:
                arrays = array = None  # (this frame's references would count in the plan)
                return self._replan(params, lr)
            grad = p.grad
            if grad is None:
                return False
            grad = grad.array
            if (grad.dtype is not array.dtype and grad.dtype != array.dtype) or grad.shape != array.shape:
                return False
            view[...] = grad
        grads = self.grads
        # The per-parameter update's operations (blocks.add_scaled_: ``p += -lr * g``), on all at once.
        xp.multiply(grads, -lr, out=grads)
        self.flat += grads
        return True

    def _replan(self, params: list, lr: float) -> bool:
        return self._plan(params) and self.subtract_scaled_(params, lr)
