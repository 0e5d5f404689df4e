"""The op boundary: every exported operation checks its tensor arguments before it runs.

``dendrite.ops`` and ``dendrite.nn.functional`` export their functions through
:func:`export`, which wraps each in :func:`boundary`: a parameter annotated
``Tensor`` refuses a list, None, a string or a NumPy array with a TypeError that
names the operation and the argument (PyTorch's rule), :func:`input_kinds` adds
a dtype rule, and an operand or dim error raised deeper (:mod:`dendrite.ops.operands`)
gets the operation's name in front. Code inside the engine calls the unwrapped
functions, so the check runs once, where the user's call enters.
"""

from __future__ import annotations

import functools
import inspect

from dendrite.backend import ndarray, xp
from dendrite.ops.operands import DimensionError, OperandTypeError, RepeatedDimError
from dendrite.ops.out import OUT_OPS, call_with_out
from dendrite.tensor_base import TensorBase


def _named(op: str, error: Exception) -> Exception:
    """The error the user sees: the operation's name in front of an operand or dim error."""
    kind = next(base for base in (TypeError, IndexError, RuntimeError) if isinstance(error, base))
    return kind(f"{op}(): {error}")


_NUMBER = (bool, int, float, xp.generic)


def tensor_arg(value, op: str, name: str, *, optional: bool = False, number: bool = False):
    """``value`` if it is a tensor; otherwise PyTorch's TypeError naming ``op`` and the argument.

    ``optional`` also lets ``None`` through, ``number`` a Python or NumPy number.
    Lists, tuples, strings and NumPy arrays are refused, as PyTorch's functions refuse
    them (``torch.exp([1.])`` raises): make a tensor first with ``dendrite.tensor``.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.boundary import tensor_arg
        >>> tensor_arg(dendrite.tensor([1.0]), "exp", "input")
        tensor([1.])
        >>> tensor_arg([1.0], "exp", "input")
        Traceback (most recent call last):
        TypeError: exp(): argument 'input' must be a Tensor, not list (make one with dendrite.tensor(...))
    """
    if isinstance(value, TensorBase):
        return value
    if (optional and value is None) or (number and isinstance(value, _NUMBER)):
        return value
    expected = "a Tensor" + (" or a number" if number else "") + (" or None" if optional else "")
    hint = " (make one with dendrite.tensor(...))" if isinstance(value, (list, tuple, ndarray)) else ""
    raise TypeError(f"{op}(): argument '{name}' must be {expected}, not {type(value).__name__}{hint}")


_KIND_NAMES = {"b": "bool", "i": "integer", "u": "integer", "f": "floating-point"}


def input_kinds(kinds: str):
    """Mark a public function whose first tensor PyTorch takes only in these dtype kinds.

    ``"f"``: floating point only (``F.elu`` of an integer tensor raises in PyTorch);
    ``"iuf"``: numbers but not bool (``abs`` of a bool tensor raises). The check runs
    in :func:`boundary`, with the others, and raises NotImplementedError naming the op.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.boundary import boundary, input_kinds
        >>> @input_kinds("f")
        ... def halve(input: Tensor):  # (annotations are strings here, as in every dendrite module)
        ...     return input / 2
        >>> boundary(halve)(dendrite.tensor([1]))
        Traceback (most recent call last):
        NotImplementedError: halve: not implemented for int64 tensors (expected floating-point, as PyTorch)
    """
    def mark(function):
        function.input_kinds = kinds
        return function
    return mark


def _reject_kind(op: str, x, kinds: str):
    if x is None or not isinstance(x, TensorBase) or x._data.dtype.kind in kinds:
        return
    expected = " or ".join(dict.fromkeys(_KIND_NAMES[kind] for kind in kinds))
    raise NotImplementedError(
        f"{op}: not implemented for {x._data.dtype} tensors (expected {expected}, as PyTorch)"
    )


def _tensor_params(function) -> list:
    """(position, name, optional) of each parameter annotated ``Tensor`` or ``Tensor | None``."""
    found = []
    for position, param in enumerate(inspect.signature(function).parameters.values()):
        annotation = param.annotation
        if not isinstance(annotation, str):
            continue
        parts = {part.strip() for part in annotation.split("|")}
        if "Tensor" in parts and parts <= {"Tensor", "None"}:
            keyword_only = param.kind is param.KEYWORD_ONLY
            found.append((None if keyword_only else position, param.name, "None" in parts))
    return found


def boundary(function):
    """Wrap a public operation so that its tensor arguments are checked before it runs.

    The parameters annotated ``Tensor`` (or ``Tensor | None``) must receive a tensor
    (or None); anything else raises :func:`tensor_arg`'s TypeError naming the
    operation and the argument, instead of an error from deep inside the engine.
    ``dendrite.ops`` and ``dendrite.nn.functional`` export their functions through
    it; code inside the engine calls the unwrapped functions. Every wrapper also
    turns an :class:`OperandTypeError` (a list given to ``add``...) into a TypeError
    naming the operation.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.math import exp
        >>> from dendrite.ops.boundary import boundary
        >>> boundary(exp)(dendrite.tensor([0.0]))
        tensor([1.])
        >>> boundary(exp)(None)
        Traceback (most recent call last):
        TypeError: exp(): argument 'input' must be a Tensor, not NoneType
    """
    if getattr(function, "__wrapped__", None) is not None:
        return function
    params = _tensor_params(function)
    op = function.__name__
    takes_out = op in OUT_OPS
    if not params:  # tensors or numbers (add, where...): only name the op in an operand's TypeError
        @functools.wraps(function)
        def named(*args, **kwargs):
            if kwargs and takes_out and "out" in kwargs:  # out=: ops/out.py
                return call_with_out(named, op, args, kwargs)
            try:
                return function(*args, **kwargs)
            except (OperandTypeError, DimensionError, RepeatedDimError) as error:
                raise _named(op, error) from None
        return named
    positional = tuple(param for param in params if param[0] is not None)
    by_name = {name: optional for _, name, optional in params}
    tensor = TensorBase

    def reject(args, kwargs):
        for position, name, optional in positional:
            if position < len(args):
                tensor_arg(args[position], op, name, optional=optional)
        for name, value in kwargs.items():
            if name in by_name:
                tensor_arg(value, op, name, optional=by_name[name])

    kinds = getattr(function, "input_kinds", None)
    if kinds is not None:
        first = params[0][1]

        @functools.wraps(function)
        def checked(*args, **kwargs):  # a dtype rule too: check the first tensor's kind
            if kwargs and takes_out and "out" in kwargs:
                return call_with_out(checked, op, args, kwargs)
            if kwargs or len(positional) > 1 or not args or not isinstance(args[0], tensor):
                reject(args, kwargs)
            x = args[0] if args else kwargs.get(first)
            if x is not None and x._data.dtype.kind not in kinds:
                _reject_kind(op, x, kinds)
            try:
                return function(*args, **kwargs)
            except (OperandTypeError, DimensionError, RepeatedDimError) as error:
                raise _named(op, error) from None
    elif len(positional) == 1 and positional[0][0] == 0 and not positional[0][2]:
        @functools.wraps(function)
        def checked(*args, **kwargs):  # the common case: one tensor, first
            if not kwargs and args and isinstance(args[0], tensor):
                try:
                    return function(*args)
                except (OperandTypeError, DimensionError, RepeatedDimError) as error:
                    raise _named(op, error) from None
            if kwargs and takes_out and "out" in kwargs:
                return call_with_out(checked, op, args, kwargs)
            reject(args, kwargs)
            try:
                return function(*args, **kwargs)
            except (OperandTypeError, DimensionError, RepeatedDimError) as error:
                raise _named(op, error) from None
    else:
        @functools.wraps(function)
        def checked(*args, **kwargs):
            if kwargs and takes_out and "out" in kwargs:
                return call_with_out(checked, op, args, kwargs)
            for position, _, optional in positional:
                if position < len(args):
                    value = args[position]
                    if not isinstance(value, tensor) and not (optional and value is None):
                        reject(args, kwargs)
            if kwargs:
                reject(args, kwargs)
            try:
                return function(*args, **kwargs)
            except (OperandTypeError, DimensionError, RepeatedDimError) as error:
                raise _named(op, error) from None

    return checked


def export(namespace: dict, names) -> None:
    """Replace each function named in ``names`` in ``namespace`` (a module's globals) by its :func:`boundary`.

    Example:
        >>> from dendrite.ops.boundary import export
        >>> namespace = {"answer": lambda: 42}
        >>> export(namespace, ["answer"])
        >>> namespace["answer"]()
        42
    """
    for name in names:
        value = namespace.get(name)
        if inspect.isfunction(value):
            namespace[name] = boundary(value)
