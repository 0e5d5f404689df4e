"""How an in-place operation writes into a tensor, with PyTorch's autograd rules.

Every in-place operation (``x.add_(y)``, ``x += y``, ``x[i] = v``, ``x.exp_()``)
is its out-of-place operation plus a write: :func:`write_inplace` computes the
new value with ``compute(x, *operands)`` — the ordinary differentiable op, so
type promotion, broadcasting and the derivative are the ones ``x + y`` has —
checks that it fits ``x`` (same shape; a dtype PyTorch may cast to x's), and
copies it into x's memory, which x's views share. Each write bumps the version
counter of that memory (:mod:`dendrite.autograd.versions`).

What happens to the graph, as in PyTorch:

* nothing requires grad, or grad mode is off (``no_grad()``, an optimizer
  step): the values are written, nothing is recorded;
* ``x`` is a leaf that requires grad (or a view of one): refused, because its
  gradient would be the gradient of a value that no longer exists;
* ``x`` is in the graph (or an operand requires grad): recorded. The op runs on
  a *stand-in* for x's old value (a copy carrying x's old ``grad_fn``), and x is
  *rebased*: its ``grad_fn`` becomes the op's node (``AddBackward`` for
  ``add_``). Nodes made before keep reaching the old ``grad_fn``;
* ``x`` is a view of a tensor ``base`` in the graph (``y[0].mul_(2)``): the op
  runs on the old values of the view's elements, taken from a stand-in for the
  base, and ``base`` is rebased to ``CopySlices`` (the old base with those
  elements replaced), ``x`` to ``AsStrided`` (its elements of the new base) —
  PyTorch's CopySlices. Views made under ``no_grad()`` and the outputs of
  ``split``/``chunk``/``unbind`` are refused there, as PyTorch refuses them.

Other live views of the same base made in grad mode (``v = y[0]`` before
``y.mul_(2)``) are regenerated as PyTorch regenerates them: from the write on,
``v`` is ``AsStrided`` of the new base. Not done: views of a base that was not
in the graph yet (a plain buffer) stay plain; take them after the write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.autograd.grad_mode import state
from dendrite.autograd.versions import bump, clock, live_views, owner_of, rebase
from dendrite.backend import ndarray, xp
from dendrite.ops.graph_operands import linear_map
from dendrite.ops.operands import cast
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor

__all__ = ["write_inplace", "AsStrided", "CopySlices", "view_positions"]


class AsStrided(Function):
    """The elements of ``base`` at flat ``positions`` (of the view's shape); backward: scattered back."""
    def forward(self, base, positions):
        self.base_shape = base.shape
        self.positions = positions
        return base.reshape(-1)[positions]

    def backward(self, grad):
        grad_base = backend.namespace(grad).zeros(self.base_shape, grad.dtype)
        xp.add.at(grad_base.reshape(-1), self.positions, grad)  # positions may repeat (x[[0, 0]] = v)
        return grad_base, None

    def backward_graph(self, grad):
        # Gathering is linear: its gradient is the scatter-add, whose own gradient is the gather again.
        positions, base_shape = self.positions, self.base_shape

        def scatter(g):
            out = backend.namespace(g).zeros(base_shape, g.dtype)
            xp.add.at(out.reshape(-1), positions, g)
            return out

        return linear_map(grad, to=scatter, back=lambda g: g.reshape(-1)[positions]), None


class CopySlices(Function):
    """``base`` with its elements at flat ``positions`` replaced by ``values`` (of positions' shape).

    backward: the gradient outside the positions goes to ``base``, the gradient at them to ``values``.
    """
    def forward(self, base, values, positions):
        self.positions = positions
        result = base.copy()
        result.reshape(-1)[positions] = values
        return result

    def backward(self, grad):
        grad_base = grad.copy()
        grad_base.reshape(-1)[self.positions] = 0
        return grad_base, grad.reshape(-1)[self.positions], None

    def backward_graph(self, grad):
        # Both gradients are linear in grad: masking out the written positions (its own transpose)
        # for base, gathering them for values (transpose: scatter-add into zeros of base's shape).
        positions, shape = self.positions, tuple(grad.shape)

        def mask_out(g):
            out = g.copy()
            out.reshape(-1)[positions] = 0
            return out

        def scatter(g):
            out = backend.namespace(g).zeros(shape, g.dtype)
            xp.add.at(out.reshape(-1), positions, g)
            return out

        return (linear_map(grad, to=mask_out, back=mask_out),
                linear_map(grad, to=lambda g: g.reshape(-1)[positions], back=scatter), None)


def view_positions(base, view):
    """Flat (row-major) positions in array ``base`` of each element of ``view``, an array sharing its memory.

    Any strided view works (slices, transposes, reshapes, diagonals): the answer is read off
    the memory layout, by laying the base's positions out in a scratch buffer with the base's
    strides and reading that buffer with the view's strides.

    Example:
        >>> import numpy as np
        >>> from dendrite.ops.inplace_graph import view_positions
        >>> base = np.zeros((2, 3))
        >>> view_positions(base, base.T[1:])
        array([[1, 4],
               [2, 5]])
    """
    item = base.itemsize
    scratch_item = xp.dtype(xp.int64).itemsize

    def extent(array):
        start = backend.data_address(array)
        low = start + sum((n - 1) * s for n, s in zip(array.shape, array.strides) if s < 0 and n > 0)
        high = start + sum((n - 1) * s for n, s in zip(array.shape, array.strides) if s > 0 and n > 0)
        return start, low, high + item

    if base.size == 0 or view.size == 0:
        return backend.namespace(base).zeros(view.shape, xp.int64)
    base_start, low, high = extent(base)
    view_start, view_low, view_high = extent(view)
    if view.itemsize != item or view_low < low or view_high > high:
        raise RuntimeError("internal error: an in-place view lies outside the memory of its base")
    scratch = xp.full((high - low) // item, -1, xp.int64)

    def laid_out(array, start):
        offset = (start - low) // item
        strides = tuple(s // item * scratch_item for s in array.strides)
        return xp.lib.stride_tricks.as_strided(scratch[offset:], array.shape, strides)

    laid_out(base, base_start)[...] = xp.arange(base.size).reshape(base.shape)
    positions = laid_out(view, view_start).copy()
    if (positions < 0).any():
        raise RuntimeError("internal error: an in-place view covers memory its base does not")
    return backend.move_like(base, positions)  # worked out on the host from the strides


def _requires_grad(values) -> bool:
    return any(isinstance(value, TensorBase) and value.requires_grad for value in values)


def _stand_in(tensor: Tensor) -> Tensor:
    """A copy of ``tensor``'s current values that carries its current place in the graph."""
    ghost = wrap(tensor._data.copy(), tensor._ctx, tensor._out_index)
    ghost.requires_grad = tensor.requires_grad
    return ghost


def _fit(result: Tensor, x: Tensor, name: str, casting: str) -> Tensor:
    """``result`` checked against ``x``: the same shape, a dtype castable to x's (then cast)."""
    if result._data.shape != x._data.shape:
        raise RuntimeError(
            f"{name}: output with shape {list(x.shape)} doesn't match the broadcast shape "
            f"{list(result.shape)} (an in-place result must keep the tensor's shape; use the "
            "out-of-place form, x = x + y, to get the broadcast shape)"
        )
    if result._data.dtype != x._data.dtype:
        if not xp.can_cast(result._data.dtype, x._data.dtype, casting):
            raise RuntimeError(
                f"{name}: result type {result._data.dtype} can't be cast to the desired output type "
                f"{x._data.dtype} (an in-place result keeps the tensor's dtype; use the out-of-place "
                "form, e.g. x = x + 1.5, or convert x first)"
            )
        result = cast(result, x._data.dtype)
    return result


def _store(x: Tensor, values, name: str) -> None:
    """Copy ``values`` (an array of x's shape and dtype) into x's memory and count the write."""
    data = x._data
    if not backend.writeable(data):
        if 0 in data.strides and data.size > 1:
            raise RuntimeError(
                f"{name}: unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location (an expand()ed or broadcast view). Please clone() the "
                "tensor before performing the operation."
            )
        raise RuntimeError(f"{name}: this tensor's memory is read-only (a read-only view); clone() it first")
    xp.copyto(data, values, casting="unsafe")
    bump(data)


def _refuse(x: Tensor, view, name: str) -> None:
    """PyTorch's refusals of a recorded in-place op (``view``: x's ``_view`` or None)."""
    fix = (" Do it inside `with dendrite.no_grad():` (as an optimizer step does), or use the out-of-place "
           "form (x = x + 1).")
    if view is None:
        if x._ctx is None and x.requires_grad:
            raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place "
                               f"operation.{fix}")
        return
    base, made_with_grad, multi = view
    if not made_with_grad:
        raise RuntimeError(
            f"{name}: A view was created in no_grad mode and is being modified inplace with grad mode "
            "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. Make the "
            "view and the in-place change both inside no_grad(), or both outside it."
        )
    if multi:
        raise RuntimeError(
            f"{name}: this tensor is a view and one of several outputs of a function that returns multiple "
            "views (split, chunk, unbind...). Such functions do not allow the output views to be modified "
            "inplace. You should replace the inplace operation by an out-of-place one."
        )
    if base._ctx is None and base.requires_grad:
        raise RuntimeError(f"{name}: a view of a leaf Variable that requires grad is being used in an "
                           f"in-place operation.{fix}")


def _keep_saved_result(result: Tensor, x: Tensor) -> None:
    """Point the node that made ``result`` at x's memory where it kept ``result`` for backward.

    ``y.exp_()`` keeps ``e**y`` for backward, as ``exp`` does; PyTorch keeps it as ``y`` itself,
    so a later in-place change of ``y`` makes backward refuse. The same here: the node keeps
    x's array and is checked from the time of this write on (``saved_stamp``). Left alone when
    the node also kept another array in x's memory (an operand such as ``x.t()``), which this
    write did overwrite: backward must refuse that one.
    """
    node = result._ctx
    if node is None:
        return
    owner, names = owner_of(x._data), []
    for name, value in node.__dict__.items():
        if value is result._data:
            names.append(name)
        elif (type(value) is ndarray or backend.on_device(value)) and owner_of(value) is owner:
            return
    for name in names:
        setattr(node, name, x._data)
    if names:
        node.saved_stamp = clock.now


def _regenerate_views(base: Tensor, written: Tensor) -> None:
    """Give the other live views of ``base`` a grad_fn on its new value (PyTorch regenerates them too).

    ``v = y[0]; y.mul_(2)``: ``v``'s values changed with ``y``'s, so from now on ``v`` is
    ``AsStrided`` of the new ``y``; nodes made before keep reaching its old grad_fn.
    """
    owner = owner_of(base._data)
    for view in live_views(base):
        if view is written or owner_of(view._data) is not owner:
            continue
        again = AsStrided.apply(base, view_positions(base._data, view._data))
        rebase(view, again._ctx, 0, again.requires_grad)


def write_inplace(x: Tensor, name: str, compute, *operands, casting: str = "same_kind") -> Tensor:
    """Write ``compute(x, *operands)`` into ``x`` with PyTorch's in-place rules (see the module); returns x.

    ``compute`` is a differentiable out-of-place function of tensors; its result must have x's
    shape and a dtype castable to x's under ``casting`` (``"same_kind"``: the arithmetic ops;
    ``"unsafe"``: ``copy_``/``fill_``, which may truncate floats into an integer tensor).

    Example:
        >>> import dendrite
        >>> from dendrite.ops.elementwise import mul
        >>> y = dendrite.tensor([1.0, 2.0], requires_grad=True) * 1
        >>> write_inplace(y, "mul_", mul, 3.0)
        tensor([3., 6.], grad_fn=<MulBackward>)
    """
    view = getattr(x, "_view", None)
    base = None if view is None else view[0]
    recording = state.grad_enabled and (
        x.requires_grad or (base is not None and base.requires_grad) or _requires_grad(operands))
    if not recording:
        result = _fit(compute(x, *operands), x, name, casting)
        _store(x, result._data, name)
        return x
    _refuse(x, view, name)
    if view is None:
        old = _stand_in(x)
        result = _fit(compute(old, *operands), x, name, casting)
        _store(x, result._data, name)
        _keep_saved_result(result, x)
        rebase(x, result._ctx, result._out_index, result.requires_grad)
        _regenerate_views(x, x)
        return x
    # A view: the op acts on the view's elements of (a stand-in for) the base; the base gets them back.
    positions = view_positions(base._data, x._data)
    old_base = _stand_in(base)
    old = AsStrided.apply(old_base, positions)
    result = _fit(compute(old, *operands), x, name, casting)
    new_base = CopySlices.apply(old_base, result, positions)
    _store(x, result._data, name)
    _keep_saved_result(result, x)
    rebase(base, new_base._ctx, 0, new_base.requires_grad)
    again = AsStrided.apply(base, positions)  # made after the rebase: reaches the new base
    rebase(x, again._ctx, 0, again.requires_grad)
    _regenerate_views(base, x)
    return x

