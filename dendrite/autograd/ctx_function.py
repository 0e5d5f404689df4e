"""PyTorch's ``autograd.Function`` contract: static ``forward(ctx, ...)`` on tensors, ``ctx`` to backward.

Two ways to write a :class:`dendrite.autograd.Function`; the class says which
one it uses by how ``forward`` is declared, once, when it is defined:

* **dendrite's array contract** (what every operation in ``dendrite.ops`` and
  ``dendrite.nn.functional`` uses): ``forward(self, *arrays)`` and
  ``backward(self, grad_output)`` are instance methods on backend arrays; the
  node *is* the instance, so forward saves what backward needs on ``self``.
* **PyTorch's ctx contract** (what code ported from PyTorch uses):
  ``@staticmethod forward(ctx, *args, **kwargs)`` receives tensors and runs
  with grad recording off; ``@staticmethod backward(ctx, *grad_outputs)``
  receives one tensor per output and returns one gradient (tensor or
  ``None``) per positional argument of forward. torch 2's variant, a
  ``@staticmethod forward(*args)`` without ctx plus
  ``@staticmethod setup_context(ctx, inputs, output)``, is the same contract.

A ``forward`` that is a ``staticmethod`` (or a class that defines
``setup_context``) selects the ctx contract; :func:`check_contract` then
checks the rest of the class and gives it :func:`apply` below, so the array
contract's ``Function.apply`` (the per-operation hot path of the library) is
untouched. A mix (a static forward with an instance ``backward``, an instance
``forward(ctx, ...)`` that forgot ``@staticmethod``...) is a ``TypeError`` at
class definition.

``apply`` runs forward, then links each output tensor to one
:class:`~dendrite.autograd.ctx_node.CtxNode` (the graph node, ``grad_fn``) as
PyTorch does: an input returned unchanged comes back as a new tensor sharing
its memory, an input marked dirty comes back as itself with this Function as
its history (only for a tensor that had no grad_fn: see ``_check_marks``),
outputs marked non-differentiable (and integer ones) do not require grad.
Forward must return a tensor or a tuple (other values such as numbers pass
through untouched, as in PyTorch; a NumPy array or a list is refused as a
likely mistake).
"""

from __future__ import annotations

import functools
import inspect
import weakref

from dendrite.autograd.ctx_node import CtxNode
from dendrite.autograd.function_ctx import FunctionCtx, SavedOutput
from dendrite.autograd.grad_mode import no_grad, state
from dendrite.autograd.versions import clock
from dendrite.backend import is_array, namespace
from dendrite.tensor_base import TensorBase, wrap

_USAGE = ("PyTorch's ctx contract is '@staticmethod def forward(ctx, *args)' (tensors in and out) and "
          "'@staticmethod def backward(ctx, *grad_outputs)'; dendrite's array contract is "
          "'def forward(self, *arrays)' and 'def backward(self, grad_output)' without @staticmethod")


def _lookup(cls: type, base: type, attribute: str):
    """``attribute`` as stored by the first class of ``cls``'s MRO that defines it, before ``base``."""
    for klass in cls.__mro__:
        if klass is base:
            return None
        if attribute in klass.__dict__:
            return klass.__dict__[attribute]
    return None


def _first_parameter(function) -> str | None:
    code = getattr(function, "__code__", None)
    return code.co_varnames[0] if code is not None and code.co_argcount else None


def check_contract(cls: type, base: type) -> None:
    """Decide which contract a ``Function`` subclass uses and check it (``base``: ``Function``).

    Called for every subclass when it is defined. A ctx-contract class gets
    :func:`apply` as its ``apply`` and a node class ``<Name>Backward``; an
    array-contract class is left as it is. A class mixing both raises
    ``TypeError`` naming the method to fix.

    Example:
        >>> import dendrite
        >>> try:
        ...     class Mixed(dendrite.autograd.Function):
        ...         @staticmethod
        ...         def forward(ctx, x): return x * 2
        ...         def backward(self, grad_output): return grad_output * 2
        ... except TypeError as error:
        ...     print(str(error).split(":")[0])
        Mixed.forward is a @staticmethod (PyTorch's ctx contract) but Mixed.backward is not
    """
    name = cls.__name__
    forward = _lookup(cls, base, "forward")
    backward = _lookup(cls, base, "backward")
    vjp = _lookup(cls, base, "vjp")
    setup = _lookup(cls, base, "setup_context")
    if not isinstance(forward, staticmethod) and setup is None:
        _check_array_contract(cls, base, forward, backward, vjp)
        return
    if not isinstance(forward, staticmethod):
        raise TypeError(f"{name} defines setup_context, so {name}.forward must be a "
                        f"'@staticmethod def forward(*args)' (without ctx)")
    if not isinstance(setup, (staticmethod, type(None))):
        raise TypeError(f"{name}.setup_context must be a '@staticmethod def setup_context(ctx, inputs, "
                        "output)'")
    for label, method in (("backward", backward), ("vjp", vjp)):
        if method is not None and not isinstance(method, staticmethod):
            raise TypeError(f"{name}.forward is a @staticmethod (PyTorch's ctx contract) but {name}.{label} "
                            f"is not: declare it '@staticmethod def {label}(ctx, *grad_outputs)'. {_USAGE}")
    if backward is not None and vjp is not None:
        raise TypeError(f"{name}: implementing both 'backward' and 'vjp' for a custom Function is not "
                        "allowed; implement one of them")
    forward_function = forward.__func__
    if setup is None and _first_parameter(forward_function) is None \
            and not forward_function.__code__.co_flags & inspect.CO_VARARGS:
        raise TypeError(f"{name}.forward takes no arguments: PyTorch's ctx contract passes ctx first, "
                        f"'@staticmethod def forward(ctx, *args)'")
    if setup is not None and _first_parameter(forward_function) == "ctx":
        raise TypeError(f"{name} defines setup_context, so its forward does not receive ctx: write "
                        f"'@staticmethod def forward(*args)' and set ctx up in setup_context")
    user_backward = backward if backward is not None else vjp
    cls._backward_cls = type(f"{name}Backward", (CtxNode,), {
        "function": cls,
        "user_backward": None if user_backward is None else staticmethod(user_backward.__func__),
        "__module__": cls.__module__,
    })
    cls._forward_signature = inspect.signature(forward_function)
    cls._uses_setup_context = setup is not None
    cls.apply = classmethod(apply)
    cls.__init__ = _refuse_instance


def _check_array_contract(cls, base, forward, backward, vjp) -> None:
    name = cls.__name__
    if _lookup(cls, base, "_backward_cls") is not None:
        raise TypeError(f"{name} writes dendrite's array contract but extends a Function that uses "
                        f"PyTorch's ctx contract; use one contract in a class hierarchy. {_USAGE}")
    if isinstance(backward, staticmethod) or vjp is not None:
        label = "backward" if isinstance(backward, staticmethod) else "vjp"
        raise TypeError(f"{name}.{label} is a @staticmethod (PyTorch's ctx contract) but {name}.forward is "
                        f"not: add @staticmethod to forward and write it as forward(ctx, *args). {_USAGE}")
    for label, method in (("forward", forward), ("backward", backward)):
        if _first_parameter(method) == "ctx":
            raise TypeError(f"{name}.{label}(ctx, ...) is written for PyTorch's ctx contract but is not a "
                            f"@staticmethod: add @staticmethod to forward and backward. {_USAGE}")


def _refuse_instance(self, *args, **kwargs) -> None:
    name = type(self).__name__
    raise RuntimeError(
        f"{name} should not be instantiated: the methods of a PyTorch-style autograd Function are all "
        f"static, so call it on the class itself, {name}.apply(...) (legacy autograd functions with a "
        "non-static forward method are not supported)"
    )


def apply(cls, *args, **kwargs):
    """Run a ctx-contract Function on ``args`` and record it for backward; returns its output(s).

    ``args`` are tensors or other values (only tensors get gradients). As in
    PyTorch, a keyword argument naming a positional parameter of forward is
    an input like the others (it gets a gradient, and backward returns one
    for it, in forward's order; skipped parameters before it take their
    defaults); keyword-only arguments are options without gradients. The
    outputs have the shapes forward gives them.

    Example:
        >>> import dendrite
        >>> class MulConstant(dendrite.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x, constant):
        ...         ctx.constant = constant
        ...         return x * constant
        ...     @staticmethod
        ...     def backward(ctx, grad_output):
        ...         return grad_output * ctx.constant, None
        >>> y = MulConstant.apply(dendrite.tensor([1.0, 2.0], requires_grad=True), 3.0)
        >>> y
        tensor([3., 6.], grad_fn=<MulConstantBackward>)
    """
    setup = cls._uses_setup_context
    if setup:  # setup_context receives every argument of forward, defaults filled in (as PyTorch)
        try:
            bound = cls._forward_signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{cls.__name__}.apply: {error}") from None
        bound.apply_defaults()
        args, kwargs = bound.args, bound.kwargs
    elif kwargs:
        args, kwargs = _keywords_to_positions(cls, args, kwargs)
    needs = tuple(isinstance(item, TensorBase) and item.requires_grad for item in args)
    ctx = FunctionCtx(cls, needs)
    with no_grad():
        if setup:
            output = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, output)
        else:
            output = cls.forward(ctx, *args, **kwargs)
    return _link_outputs(cls, ctx, args, output, state.grad_enabled and True in needs)


def _keywords_to_positions(cls, args: tuple, kwargs: dict) -> tuple:
    """Move keyword arguments that name positional parameters of ``forward(ctx, ...)`` into ``args``."""
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in cls._forward_signature.parameters.values() if p.kind in kinds][1:]  # not ctx
    later = [p.name for p in positional[len(args):]]
    last = max((later.index(key) for key in kwargs if key in later), default=-1)
    if last < 0:
        return args, kwargs
    kwargs, extra = dict(kwargs), []
    for parameter in positional[len(args):len(args) + last + 1]:
        if parameter.name in kwargs:
            extra.append(kwargs.pop(parameter.name))
        elif parameter.default is not inspect.Parameter.empty:
            extra.append(parameter.default)
        else:
            raise TypeError(f"{cls.__name__}.apply: missing required argument {parameter.name!r}")
    return args + tuple(extra), kwargs


def _link_outputs(cls, ctx: FunctionCtx, args: tuple, output, record: bool):
    """Attach forward's output tensors to a new node (when ``record``); returns what apply returns."""
    name = cls.__name__
    is_tuple = isinstance(output, tuple)
    outputs = tuple(output) if is_tuple else (output,)
    for position, item in enumerate(outputs):
        if isinstance(item, list) or is_array(item):
            raise TypeError(
                f"{name}.forward returned a {type(item).__name__}"
                f"{f' as output {position}' if is_tuple else ''}: PyTorch's ctx contract returns tensors "
                "(a tuple of them for several outputs); wrap arrays with dendrite.tensor(...), or write "
                "dendrite's array contract (forward(self, *arrays) without @staticmethod)"
            )
    input_ids = {id(item) for item in args if isinstance(item, TensorBase)}
    output_ids = {id(item) for item in outputs if isinstance(item, TensorBase)}
    dirty_ids = _check_marks(name, ctx, input_ids, output_ids, record)
    node = cls._backward_cls.__new__(cls._backward_cls)
    node.ctx = ctx
    node.n_outputs = len(outputs)
    node.output_meta = tuple((item.shape, item.dtype, namespace(item._data)) if isinstance(item, TensorBase)
                             else None for item in outputs)
    if state.anomaly_enabled:
        from dendrite.autograd.anomaly import check_forward

        check_forward(node, tuple(item._data for item in outputs if isinstance(item, TensorBase)), args)
    if record:
        node.inputs = tuple(_edge(item, id(item) in dirty_ids) for item in args)
        node.needs_input_grad = ctx.needs_input_grad
        node.stamp = clock.now  # when it was made: the engine's in-place checks read it (versions.py)
    non_differentiable = {id(item) for item in ctx._non_differentiable}
    results, first_index = [], {}
    for index, item in enumerate(outputs):
        if not isinstance(item, TensorBase):
            results.append(item)
            continue
        linked = record and item._data.dtype.kind == "f" and id(item) not in non_differentiable
        target = node if linked else None
        if id(item) in first_index:  # the same tensor returned twice: a second tensor for this position
            result = wrap(item._data, target, index)
        elif id(item) in dirty_ids and state.grad_enabled:
            result = item  # changed in place: the tensor itself, with this Function as its history
            if record:
                item._ctx, item._out_index, item.requires_grad = target, index, linked
        elif id(item) in input_ids or item._ctx is not None or item.requires_grad:
            result = wrap(item._data, target, index)  # an input (or outside tensor): new tensor, same memory
        else:
            result = item  # made by forward: linked in place, as PyTorch does
            if linked:
                item._ctx, item._out_index, item.requires_grad = node, index, True
        first_index.setdefault(id(item), index)
        results.append(result)
    if record:
        saved = []
        for entry in ctx._to_save:
            index = first_index.get(id(entry)) if entry is not None else None
            if index is not None and (id(entry) not in input_ids or id(entry) in dirty_ids):
                # an output: kept as its array, rebuilt linked to the node (no reference cycle)
                entry = SavedOutput(entry._data, index, results[index]._ctx is node)
            elif entry is not None and id(entry) in input_ids:
                # an input: the node's own edge to it, so it keeps the history it had in forward
                entry = next(edge for item, edge in zip(args, node.inputs) if item is entry)
            saved.append(entry)
        ctx._saved = tuple(saved)
        ctx._node = weakref.ref(node)
        # The arrays behind the saved tensors, on the node itself: where in-place checks look.
        node.saved_arrays = tuple(entry.array if isinstance(entry, SavedOutput) else entry._data
                                  for entry in saved if entry is not None)
    else:
        ctx._saved = ctx._to_save
    return tuple(results) if is_tuple else results[0]


def _check_marks(name: str, ctx: FunctionCtx, input_ids: set, output_ids: set, record: bool) -> set:
    """Check mark_dirty and mark_non_differentiable against forward's inputs and outputs; the dirty ids."""
    dirty_ids = set()
    for position, item in enumerate(ctx._dirty):
        if id(item) not in input_ids:
            raise ValueError(f"{name}: mark_dirty takes the inputs forward changed in place, but argument "
                             f"{position} is not an input of forward")
        if id(item) not in output_ids:
            raise RuntimeError(f"{name}: some elements marked as dirty during the forward method were not "
                               "returned as output. The inputs that are modified inplace must all be "
                               "outputs of the Function.")
        if record and item._ctx is None and item.requires_grad:
            raise RuntimeError(f"{name}: a leaf tensor that requires grad has been used in an in-place "
                               "operation (mark_dirty); apply it to a copy, e.g. x.clone()")
        if record and item._ctx is not None:
            # The engine finds a node's parents through each input's grad_fn when backward runs, so
            # giving this tensor a new grad_fn would send the gradients of operations that used it
            # *before* forward to this Function instead of its old history. Refused until
            # in-place history is tracked (PyTorch keeps each node's edges from its creation).
            raise RuntimeError(
                f"{name}: mark_dirty of a tensor that already has a grad_fn ({item._ctx!r}) is not "
                "supported: operations that used it before this Function would receive the wrong "
                "gradient. Return an out-of-place result instead, or change a tensor that has no "
                "history (e.g. a buffer that does not require grad)"
            )
        dirty_ids.add(id(item))
    for position, item in enumerate(ctx._non_differentiable):
        if id(item) not in output_ids:
            raise ValueError(f"{name}: mark_non_differentiable takes outputs of forward, but argument "
                             f"{position} is not one of the tensors forward returned")
    return dirty_ids


def _edge(item, dirty: bool):
    """What the node holds for input ``item``: its edge into the graph as it is now, as PyTorch keeps.

    A tensor with a grad_fn is held through a stand-in (same array, same
    grad_fn and output index), so an in-place operation that later gives the
    tensor a new grad_fn does not redirect this node's gradient. A leaf stays
    itself (its ``.grad`` is what backward fills); a dirty input had no
    history (checked), and its stand-in has none either.
    """
    if not isinstance(item, TensorBase) or (item._ctx is None and not dirty):
        return item
    if dirty:
        return wrap(item._data)
    return wrap(item._data, item._ctx, item._out_index)


class _DelayedError:
    """Identity whose backward raises: marks gradients that must not be differentiated again."""

    @staticmethod
    def forward(ctx, message, *tensors):
        ctx.message = message
        return tensors

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise RuntimeError(ctx.message)


check_contract(_DelayedError, object)


def once_differentiable(backward):
    """Decorate a ctx-contract ``backward`` that is not itself differentiable (e.g. it uses NumPy).

    It runs with grad recording off; when the engine differentiates it
    (``create_graph=True``), the gradients it returns raise a clear error if
    something later tries to differentiate through them. Shapes: unchanged.

    Example:
        >>> import numpy as np, dendrite
        >>> from dendrite.autograd.function import once_differentiable
        >>> class NumpySin(dendrite.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return dendrite.tensor(np.sin(x.detach().numpy()))
        ...     @staticmethod
        ...     @once_differentiable
        ...     def backward(ctx, grad_output):
        ...         (x,) = ctx.saved_tensors
        ...         return grad_output * dendrite.tensor(np.cos(x.detach().numpy()))
        >>> x = dendrite.tensor([0.0], requires_grad=True)
        >>> NumpySin.apply(x).backward(); x.grad
        tensor([1.])
    """

    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        with no_grad():
            result = backward(ctx, *grad_outputs)
        wants_graph = any(isinstance(grad, TensorBase) and grad.requires_grad for grad in grad_outputs) \
            or True in getattr(ctx, "needs_input_grad", ())
        if not state.grad_enabled or not wants_graph:
            return result
        items = result if isinstance(result, tuple) else (result,)
        positions = [position for position, item in enumerate(items)
                     if isinstance(item, TensorBase) and item.dtype.kind == "f"]
        message = (f"trying to differentiate twice a function that was marked with @once_differentiable "
                   f"({backward.__qualname__})")
        guarded = _DelayedError.apply(message, *[items[p].detach().requires_grad_(True) for p in positions])
        items = list(items)
        for position, tensor in zip(positions, guarded):
            items[position] = tensor
        return tuple(items) if isinstance(result, tuple) else items[0]

    return wrapper
