"""Checkers for lesson 3, backpropagation by hand.

1. :func:`neuron_gradients`: the chain rule on ``L = tanh(w * x + b)``, written as formulas.
2. :func:`value_power`: a ``**`` (power by a number) for the lesson's scalar ``Value`` class, forward and
   backward; the checker builds expressions with the learner's class and compares their gradients.
3. :func:`linear_backward`: the gradients of ``y = x @ W + b`` in NumPy, in matrix form.

Each compares with gradients it computes itself (closed forms, or central differences) and, for a wrong
answer, names the likely slip: a missing factor of the chain, a swapped input, ``=`` where ``+=`` is
needed, a transposed or un-summed matrix.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from dendrite.lessons.verdict import Verdict, correct, exercise, unanswered, wrong

__all__ = ["linear_backward", "neuron_gradients", "value_power"]

# points where the neuron's three gradients are all different and none is zero
_NEURON_POINTS = ((0.5, -1.5, 0.25), (2.0, 0.3, -0.4), (-1.0, 0.8, 0.1), (1.5, -0.2, 0.6))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _neuron_slips(w: float, x: float, b: float) -> dict[str, tuple[float, float, float]]:
    """The gradients (dL/dw, dL/dx, dL/db) a learner gets from the usual mistakes."""
    t = math.tanh(w * x + b)
    local = 1 - t * t
    return {
        "right": (local * x, local * w, local),
        "swapped": (local * w, local * x, local),
        "no tanh'": (x, w, 1.0),
        "tanh instead of tanh'": (t * x, t * w, t),
        "1 - tanh": ((1 - t) * x, (1 - t) * w, 1 - t),
        "tanh' of the input": ((1 - (w * x + b) ** 2) * x, (1 - (w * x + b) ** 2) * w, 1 - (w * x + b) ** 2),
        "no inner factor": (local, local, local),
    }


_NEURON_HINTS = {
    "swapped": "dL/dw and dL/dx are swapped: the derivative of w*x with respect to w is the *other* "
               "factor, x (and with respect to x it is w)",
    "no tanh'": "the tanh is missing from your chain: multiply by the local derivative of tanh at w*x + b",
    "tanh instead of tanh'": "you multiplied by tanh(z) itself; the chain needs tanh's *derivative* at z",
    "1 - tanh": "close: the derivative of tanh is 1 - tanh(z) squared, not 1 - tanh(z)",
    "tanh' of the input": "the derivative of tanh is written with tanh(z), the *output*: 1 - tanh(z)**2, "
                          "not 1 - z**2",
    "no inner factor": "all three gradients are equal: you stopped at dL/dz; multiply by dz/dw, dz/dx, dz/db",
}


@exercise("Lesson 3, exercise 1: the chain rule through one neuron")
def neuron_gradients(answer: Callable[[float, float, float], Any]) -> Verdict:
    """Check ``grads(w, x, b) -> (dL/dw, dL/dx, dL/db)`` for ``L = tanh(w * x + b)``.

    Example:
        >>> import math
        >>> def grads(w, x, b):
        ...     local = 1 - math.tanh(w * x + b) ** 2
        ...     return local * x, local * w, local
        >>> neuron_gradients(grads).status
        'correct'
        >>> neuron_gradients(lambda w, x, b: (x, w, 1.0)).status
        'wrong'
    """
    for w, x, b in _NEURON_POINTS:
        got = answer(w, x, b)
        try:
            got = tuple(float(value) for value in got)
        except (TypeError, ValueError):
            return wrong(f"grads({w}, {x}, {b}) returned {got!r}; expected three numbers "
                         "(dL/dw, dL/dx, dL/db)")
        if len(got) != 3:
            return wrong(f"grads({w}, {x}, {b}) returned {len(got)} numbers; expected three "
                         "(dL/dw, dL/dx, dL/db)")
        slips = _neuron_slips(w, x, b)
        if all(_close(g, r) for g, r in zip(got, slips["right"], strict=True)):
            continue
        for slip, hint in _NEURON_HINTS.items():
            if all(_close(g, r) for g, r in zip(got, slips[slip], strict=True)):
                return wrong(f"at w={w}, x={x}, b={b}: {hint}")
        names = [name for name, g, r in zip(("dL/dw", "dL/dx", "dL/db"), got, slips["right"], strict=True)
                 if not _close(g, r)]
        return wrong(f"at w={w}, x={x}, b={b} your {', '.join(names)} {'is' if len(names) == 1 else 'are'} "
                     "off: write z = w*x + b, then dL/dz = tanh'(z), then multiply by dz/dw, dz/dx, dz/db")
    return correct("right: each gradient is (the slope of tanh at z) times (the slope of z in that input): "
                   "the chain rule, one multiplication per step back through the graph")


def _power_cases() -> list[tuple[str, Callable[[Any, Any], Any], Callable[[float, float], float],
                                 tuple[float, float]]]:
    """(description, build with the learner's Values, the same in floats, the point)."""
    return [
        ("a ** 2", lambda a, b: a ** 2, lambda a, b: a ** 2, (1.5, 0.0)),
        ("a ** 3 * b", lambda a, b: a ** 3 * b, lambda a, b: a ** 3 * b, (-0.7, 2.0)),
        ("(a * b) ** 2 + a", lambda a, b: (a * b) ** 2 + a, lambda a, b: (a * b) ** 2 + a, (0.8, -1.3)),
        ("a ** 2 + a ** 3", lambda a, b: a ** 2 + a ** 3, lambda a, b: a ** 2 + a ** 3, (1.2, 0.0)),
        ("a * b ** -1", lambda a, b: a * b ** -1, lambda a, b: a * b ** -1, (3.0, 1.6)),
        ("(a ** 0.5).tanh()", lambda a, b: (a ** 0.5).tanh(), lambda a, b: math.tanh(a ** 0.5), (2.0, 0.0)),
    ]


def _numeric_grads(f: Callable[[float, float], float], a: float, b: float) -> tuple[float, float]:
    h = 1e-6
    return ((f(a + h, b) - f(a - h, b)) / (2 * h), (f(a, b + h) - f(a, b - h)) / (2 * h))


@exercise("Lesson 3, exercise 2: teach Value to raise to a power")
def value_power(answer: type) -> Verdict:
    """Check a ``Value`` class whose ``__pow__(n)`` (``n`` a number) has the right forward and backward.

    The class needs ``Value(data)``, ``.data``, ``.grad``, ``+``, ``*``, ``.tanh()`` and ``.backward()``
    (the lesson's), plus the learner's ``**``.

    Example:
        >>> from dendrite.lessons.exercises.backprop import _ReferenceValue
        >>> value_power(_ReferenceValue).status
        'correct'
    """
    if not isinstance(answer, type):
        return wrong(f"pass the class itself (e.g. check.value_power(Value)); got {type(answer).__name__}")
    for text, build, plain, (x, y) in _power_cases():
        a, b = answer(x), answer(y)
        missing = [name for name in ("data", "grad", "backward", "tanh", "__add__", "__mul__")
                   if not hasattr(a, name)]
        if missing:
            return wrong(f"{answer.__name__}({x}) has no {', '.join(missing)}: pass the lesson's Value "
                         "class, extended with __pow__")
        out = build(a, b)
        if out is None or out is Ellipsis:
            return unanswered("your __pow__ still returns nothing: build the output Value and its "
                              "_backward, then run the cell again")
        if not hasattr(out, "data"):
            return wrong(f"{text} gave {type(out).__name__}, not a Value: __pow__ should return a new Value")
        want = plain(x, y)
        if not _close(float(out.data), want):
            return wrong(f"the forward pass is off: {text} at a={x}, b={y} gave {float(out.data):.6g}; "
                         f"expected {want:.6g}")
        out.backward()
        want_a, want_b = _numeric_grads(plain, x, y)
        got_a = float(a.grad)
        if math.isclose(got_a, want_a, rel_tol=1e-4, abs_tol=1e-6):
            got_b = float(b.grad)
            if "b" in text and not math.isclose(got_b, want_b, rel_tol=1e-4, abs_tol=1e-6):
                return wrong(f"in {text} at a={x}, b={y}: b.grad is {got_b:.6g}, expected {want_b:.6g} "
                             "(check the gradient your ** sends back when it is not the last operation)")
            continue
        if got_a == 0:
            return wrong(f"in {text} at a={x}: a.grad stayed 0, so no gradient reached a: does your output "
                         "Value list self among its children, and does it get a _backward that adds to "
                         "self.grad?")
        if text == "(a * b) ** 2 + a" and math.isclose(got_a, 1.0, rel_tol=1e-9):
            return wrong(f"in {text} at a={x}, b={y}: a.grad is 1, only the direct path through + a: the "
                         "product a * b never passed its gradient on, because backward() did not visit it; "
                         "list self among the children of the Value your ** returns")
        if text == "a ** 2" and math.isclose(got_a, 2 * x ** 2, rel_tol=1e-6):
            return wrong(f"in {text} at a={x}: a.grad is {got_a:.6g}; the power rule lowers the exponent "
                         "by one: d(a**n)/da uses a**(n-1)")
        if text == "a ** 2" and math.isclose(got_a, x, rel_tol=1e-6):
            return wrong(f"in {text} at a={x}: a.grad is {got_a:.6g}; the power rule also multiplies by n")
        if text == "a ** 3 * b" and math.isclose(got_a, 3 * x ** 2, rel_tol=1e-6):
            return wrong(f"in {text} at a={x}, b={y}: a.grad is {got_a:.6g}, which is d(a**3)/da alone: "
                         "multiply the local derivative by out.grad, the gradient arriving from above")
        if text == "a ** 2 + a ** 3" and (math.isclose(got_a, 3 * x ** 2, rel_tol=1e-6)
                                          or math.isclose(got_a, 2 * x, rel_tol=1e-6)):
            return wrong(f"in {text} at a={x}: a.grad is {got_a:.6g}, the gradient of only one of the two "
                         "uses of a: when a node is used twice its gradients add up; use += in the backward, "
                         "not =")
        return wrong(f"in {text} at a={x}, b={y}: a.grad is {got_a:.6g}; expected {want_a:.6g} "
                     "(the local derivative of a**n, times the gradient from above, added into a.grad)")
    return correct("right: the power rule as a local derivative, multiplied by the gradient from above and "
                   "added (+=) into the input's grad, so a node used twice collects both contributions")


class _ReferenceValue:
    """A minimal scalar autograd node with + * tanh and **, used by the doctests and tests."""

    def __init__(self, data: float, children: tuple = ()) -> None:
        self.data = float(data)
        self.grad = 0.0
        self._children = children
        self._backward: Callable[[], None] = lambda: None

    def _wrap(self, other: Any) -> _ReferenceValue:
        return other if isinstance(other, _ReferenceValue) else type(self)(other)

    def __add__(self, other: Any) -> _ReferenceValue:
        other = self._wrap(other)
        out = type(self)(self.data + other.data, (self, other))

        def backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = backward
        return out

    def __mul__(self, other: Any) -> _ReferenceValue:
        other = self._wrap(other)
        out = type(self)(self.data * other.data, (self, other))

        def backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = backward
        return out

    def __pow__(self, n: float) -> _ReferenceValue:
        out = type(self)(self.data ** n, (self,))

        def backward() -> None:
            self.grad += n * self.data ** (n - 1) * out.grad

        out._backward = backward
        return out

    def tanh(self) -> _ReferenceValue:
        t = math.tanh(self.data)
        out = type(self)(t, (self,))

        def backward() -> None:
            self.grad += (1 - t * t) * out.grad

        out._backward = backward
        return out

    def backward(self) -> None:
        order: list[_ReferenceValue] = []
        seen: set[int] = set()

        def visit(node: _ReferenceValue) -> None:
            if id(node) not in seen:
                seen.add(id(node))
                for child in node._children:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def _linear_case(seed: int, n: int, d_in: int, d_out: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out)), rng.normal(size=(n, d_out)))


@exercise("Lesson 3, exercise 3: the gradients of a linear layer in matrix form")
def linear_backward(answer: Callable[[np.ndarray, np.ndarray, np.ndarray], Any]) -> Verdict:
    """Check ``backward(x, W, g) -> (dx, dW, db)`` for ``y = x @ W + b`` and ``g = dL/dy``.

    Shapes: ``x (N, in)``, ``W (in, out)``, ``b (out,)``, ``g (N, out)``.

    Example:
        >>> linear_backward(lambda x, W, g: (g @ W.T, x.T @ g, g.sum(axis=0))).status
        'correct'
        >>> linear_backward(lambda x, W, g: (g @ W.T, x.T @ g, g)).status
        'wrong'
    """
    for n, d_in, d_out in ((5, 3, 4), (4, 6, 2), (3, 4, 4)):
        x, w, g = _linear_case(n * 100 + d_in * 10 + d_out, n, d_in, d_out)
        got = answer(x.copy(), w.copy(), g.copy())
        if not isinstance(got, tuple | list) or len(got) != 3:
            return wrong("return three arrays, (dx, dW, db), in that order")
        dx, dw, db = (np.asarray(part, dtype=float) for part in got)
        where = f"with N={n}, in={d_in}, out={d_out}"
        want = {"dx": g @ w.T, "dW": x.T @ g, "db": g.sum(axis=0)}
        for name, value, expected in (("dx", dx, want["dx"]), ("dW", dw, want["dW"]), ("db", db, want["db"])):
            if value.shape != expected.shape:
                hint = {"dx": "one row per example, one column per input: like x",
                        "dW": "a gradient has the shape of what it is the gradient of: like W",
                        "db": "like b, one number per output: add up the examples' gradients"}[name]
                if value.shape == expected.T.shape and name != "db":
                    hint = "it is transposed: " + hint
                return wrong(f"{name} has shape {value.shape} {where}; expected {expected.shape} ({hint})")
        if np.allclose(dx, want["dx"]) and np.allclose(dw, want["dW"]) and np.allclose(db, want["db"]):
            continue
        if not np.allclose(db, want["db"]):
            if np.allclose(db, g.mean(axis=0)):
                return wrong(f"db is the mean of g over the batch {where}; the loss adds the examples' "
                             "contributions, so db adds them too")
            return wrong(f"db is off {where}: each example's y used the same b, so its gradients add up")
        if not np.allclose(dw, want["dW"]):
            if np.allclose(dw, want["dW"] / n):
                return wrong(f"dW is divided by the batch size {where}; g already carries any averaging "
                             "the loss did, so dW = (inputs)^T times g, summed, not averaged")
            if d_in == d_out and np.allclose(dw, want["dW"].T):
                return wrong(f"dW is transposed {where} (it has the right shape only because W is square): "
                             "entry [i, j] pairs input i with output j")
            return wrong(f"dW is off {where}: entry [i, j] adds, over the examples, input i times the "
                         "gradient at output j")
        if d_in == d_out and np.allclose(dx, g @ w):
            return wrong(f"dx uses W where W transposed is needed {where}: gradients flow back through "
                         "the weights the other way round")
        return wrong(f"dx is off {where}: entry [k, i] adds, over the outputs j, g[k, j] times W[i, j]")
    return correct("right: dx = g Wᵀ, dW = xᵀ g and db = g summed over the batch; each gradient has the "
                   "shape of its variable, which is a quick way to get the transposes right")
