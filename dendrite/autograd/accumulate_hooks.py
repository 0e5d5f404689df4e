"""Post-accumulate-grad hooks: ``Tensor.register_post_accumulate_grad_hook(hook)``, PyTorch's semantics.

``hook(leaf)`` is called with the leaf tensor itself (not its gradient) once per backward
that fills ``.grad``, right after ``leaf.grad`` holds everything this backward adds to it:

* **when**: as soon as the engine knows no more gradient will reach the leaf in this pass,
  i.e. right after the last node of the walk that feeds it has run (:func:`finishing_nodes`
  finds that node before the walk starts). So the hooks of the last layers' parameters run
  while the earlier layers' backward is still to come, which is what lets
  ``DistributedDataParallel`` start a bucket's allreduce early. A leaf that only an output
  seeds (``x.backward(...)`` on the leaf itself) is finished when the walk ends;
* **grad mode**: the engine's, as in PyTorch: off during an ordinary backward, on with
  ``create_graph=True`` (whose walk runs these hooks after the whole walk, each leaf once);
* **what it sees**: the leaf's ``.grad`` after accumulation (previous backward passes
  included), after the leaf's ``register_hook`` hooks have transformed this pass's gradient;
* **not called** by ``autograd.grad`` (which fills no ``.grad``), nor for a leaf that this
  backward gives no gradient; ``backward(inputs=[...])`` calls them for those inputs.

The hook must return ``None``. The hooks are kept on the leaf itself; the registry the engine
consults is keyed by the leaf's ``id`` and holds only a weak reference, so registering a hook
does not keep a tensor alive, even when the hook refers to the tensor (a cycle the garbage
collector frees); while the registry is empty (no live tensor has a hook) the engine's cost is one
test per backward.
"""

from __future__ import annotations

import weakref

from dendrite.autograd.grad_mode import state
from dendrite.autograd.versions import clock, edge_of

__all__ = ["PostAccumulateGradHookHandle", "register_post_accumulate_grad_hook", "finishing_nodes",
           "run_post_accumulate_grad_hooks"]

# id(leaf) -> weak reference to a leaf that has post-accumulate-grad hooks. Usually empty. The hooks
# themselves live on the leaf (its ``_accumulate_hooks`` slot, never set on a tensor without hooks), as in
# PyTorch: a hook that refers to its own leaf (an optimizer step per parameter, a closure over the model's
# parameters) makes a cycle the garbage collector frees, where a hook held in this module-level table
# would keep its leaf alive for the rest of the process.
hooks_by_leaf: dict[int, weakref.ref] = {}


def _hooks_of(leaf) -> list | None:
    """``leaf``'s hooks in registration order, or None (the slot is unset on a tensor that never had one)."""
    return getattr(leaf, "_accumulate_hooks", None)


def _registered(leaf) -> bool:
    """Whether the registry's entry for ``leaf``'s id is this leaf (an id can be reused by a new tensor)."""
    reference = hooks_by_leaf.get(id(leaf))
    return reference is not None and reference() is leaf


class PostAccumulateGradHookHandle:
    """Returned by ``register_post_accumulate_grad_hook``; ``.remove()`` unregisters the hook.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0], requires_grad=True)
        >>> with x.register_post_accumulate_grad_hook(print):
        ...     pass   # the hook is removed when the block ends
    """

    def __init__(self, leaf, hook) -> None:
        self._leaf, self._hook = weakref.ref(leaf), hook  # weak: a handle does not keep the leaf alive

    def remove(self) -> None:
        """Unregister the hook (removing it twice is harmless).

        Example:
            >>> import dendrite
            >>> x = dendrite.tensor([1.0], requires_grad=True)
            >>> handle = x.register_post_accumulate_grad_hook(lambda leaf: print("called"))
            >>> handle.remove(); (x * 2).sum().backward()   # prints nothing
        """
        leaf = self._leaf()
        hooks = None if leaf is None else _hooks_of(leaf)
        if hooks is None:
            return
        if self._hook in hooks:
            hooks.remove(self._hook)
        if not hooks and _registered(leaf):
            del hooks_by_leaf[id(leaf)]

    def __enter__(self) -> PostAccumulateGradHookHandle:
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


def register_post_accumulate_grad_hook(leaf, hook) -> PostAccumulateGradHookHandle:
    """Register ``hook(leaf)`` for ``leaf`` (a tensor that requires grad and has no ``grad_fn``).

    ``Tensor.register_post_accumulate_grad_hook`` calls this; the errors are PyTorch's.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> handle = register_post_accumulate_grad_hook(x, lambda leaf: print(leaf.grad))
        >>> (x * 3).sum().backward()
        tensor([3., 3.])
        >>> handle.remove()
    """
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook expects a callable hook(tensor), "
                        f"got {type(hook).__name__}")
    if not leaf.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if leaf._ctx is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    hooks = _hooks_of(leaf)
    if hooks is None:
        hooks = leaf._accumulate_hooks = []
    if not _registered(leaf):
        key = id(leaf)
        # The leaf is gone: so is its entry. The table is bound here, not looked up as a global: at
        # interpreter exit a leaf may outlive the module's globals (set to None), and then forget ran
        # into "'NoneType' object has no attribute 'get'" (printed as an ignored exception).
        def forget(reference, key=key, table=hooks_by_leaf) -> None:
            if table.get(key) is reference:
                del table[key]

        hooks_by_leaf[key] = weakref.ref(leaf, forget)
    hooks.append(hook)
    return PostAccumulateGradHookHandle(leaf, hook)


def run_post_accumulate_grad_hooks(leaf, grad_enabled: bool = False) -> None:
    """Call ``leaf``'s post-accumulate-grad hooks (if any), under the engine's grad mode ``grad_enabled``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0], requires_grad=True)
        >>> _ = x.register_post_accumulate_grad_hook(lambda leaf: print(dendrite.is_grad_enabled()))
        >>> run_post_accumulate_grad_hooks(x)
        False
    """
    if not _registered(leaf):
        return
    previous, state.grad_enabled = state.grad_enabled, grad_enabled
    try:
        for hook in tuple(_hooks_of(leaf) or ()):
            returned = hook(leaf)
            if returned is not None:
                raise RuntimeError(
                    f"post accumulate grad hook {getattr(hook, '__name__', hook)!r} returned a "
                    f"{type(returned).__name__}; it must return None (it may change leaf.grad in place)")
    finally:
        state.grad_enabled = previous


def finishing_nodes(order) -> dict:
    """``{node: [leaves]}``: for each hooked leaf, the last node of the walk ``order`` that feeds it.

    After that node has run, the leaf has received all of this backward's gradient. Leaves in
    each list keep the order of the node's inputs.

    Example:
        >>> import dendrite
        >>> from dendrite.autograd.engine import _topological_order
        >>> x = dendrite.tensor([1.0], requires_grad=True)
        >>> handle = x.register_post_accumulate_grad_hook(lambda leaf: None)
        >>> y = (x * 2) * x          # x feeds two nodes; the walk reaches the second Mul last
        >>> finishing = finishing_nodes(_topological_order([y.grad_fn]))
        >>> [node.name for node in finishing], handle.remove()
        (['Mul'], None)
    """
    last: dict[int, tuple] = {}  # id(leaf) -> (node, leaf), the latest node seen feeding it
    for node in order:
        stale = node.stamp < clock.rebased  # as _topological_order: the edges as they were when made
        for item, need in zip(node.inputs, node.needs_input_grad):
            if need and id(item) in hooks_by_leaf and (edge_of(item, node.stamp)[0] if stale
                                                       else item._ctx) is None:
                last[id(item)] = (node, item)
    finishing: dict = {}
    for node, item in last.values():
        finishing.setdefault(node, []).append(item)
    for node, leaves in finishing.items():
        if len(leaves) > 1:
            position = {id(item): index for index, item in reversed(list(enumerate(node.inputs)))}
            leaves.sort(key=lambda leaf: position[id(leaf)])
    return finishing
