"""Lesson 3's checkers: the reference answers pass, the placeholder is unanswered, the usual slips are
wrong with a message that names them, and learner code that raises is wrong (not a crash)."""

from __future__ import annotations

import math

import pytest

from dendrite.lessons.exercises import backprop as check
from dendrite.lessons.exercises.backprop import _ReferenceValue


# ----------------------------------------------------------------------------- exercise 1
def _neuron(w, x, b):
    local = 1 - math.tanh(w * x + b) ** 2
    return local * x, local * w, local


def test_neuron_reference_is_correct():
    assert check.neuron_gradients(_neuron).status == "correct"


def test_neuron_placeholder_is_unanswered():
    assert check.neuron_gradients(...).status == "unanswered"

    def grads(w, x, b):
        ...

    assert check.neuron_gradients(grads).status == "unanswered"


@pytest.mark.parametrize(("slip", "says"), [
    (lambda w, x, b: (_neuron(w, x, b)[1], _neuron(w, x, b)[0], _neuron(w, x, b)[2]), "swapped"),
    (lambda w, x, b: (x, w, 1.0), "tanh is missing"),
    (lambda w, x, b: (math.tanh(w * x + b) * x, math.tanh(w * x + b) * w, math.tanh(w * x + b)),
     "derivative"),
    (lambda w, x, b: ((1 - math.tanh(w * x + b)) * x, (1 - math.tanh(w * x + b)) * w,
                      1 - math.tanh(w * x + b)), "squared"),
    (lambda w, x, b: ((1 - (w * x + b) ** 2) * x, (1 - (w * x + b) ** 2) * w, 1 - (w * x + b) ** 2),
     "output"),
    (lambda w, x, b: (_neuron(w, x, b)[2],) * 3, "dz/dw"),
    (lambda w, x, b: (_neuron(w, x, b)[0], _neuron(w, x, b)[1], 0.0), "dL/db"),
    (lambda w, x, b: _neuron(w, x, b)[:2], "three"),
    (lambda w, x, b: "0.1, 0.2, 0.3", "three numbers"),
])
def test_neuron_slips_are_named(slip, says):
    verdict = check.neuron_gradients(slip)
    assert verdict.status == "wrong"
    assert says in verdict.message


def test_neuron_code_that_raises_is_wrong():
    def grads(w, x, b):
        return 1 / 0

    verdict = check.neuron_gradients(grads)
    assert verdict.status == "wrong" and "ZeroDivisionError" in verdict.message


# ----------------------------------------------------------------------------- exercise 2
def _power_class(backward_factor):
    """A Value whose ** backward adds ``backward_factor(self, n, out)`` to self.grad."""

    class Slipped(_ReferenceValue):
        def __pow__(self, n):
            out = type(self)(self.data ** n, (self,))

            def backward():
                self.grad += backward_factor(self, n, out)

            out._backward = backward
            return out

    return Slipped


def test_power_reference_is_correct():
    assert check.value_power(_ReferenceValue).status == "correct"


def test_power_placeholder_is_unanswered():
    assert check.value_power(...).status == "unanswered"

    class Unwritten(_ReferenceValue):
        def __pow__(self, n):
            ...

    assert check.value_power(Unwritten).status == "unanswered"


@pytest.mark.parametrize(("answer", "says"), [
    (_power_class(lambda v, n, out: n * v.data ** n * out.grad), "lowers the exponent"),
    (_power_class(lambda v, n, out: v.data ** (n - 1) * out.grad), "multiplies by n"),
    (_power_class(lambda v, n, out: n * v.data ** (n - 1)), "out.grad"),
    (_power_class(lambda v, n, out: 0.0), "stayed 0"),
    (_power_class(lambda v, n, out: n * v.data ** (n - 1) * out.grad + 0.1), "expected"),
])
def test_power_slips_are_named(answer, says):
    verdict = check.value_power(answer)
    assert verdict.status == "wrong"
    assert says in verdict.message


def test_power_that_overwrites_the_gradient_is_wrong():
    class Overwrites(_ReferenceValue):
        def __pow__(self, n):
            out = type(self)(self.data ** n, (self,))

            def backward():
                self.grad = n * self.data ** (n - 1) * out.grad

            out._backward = backward
            return out

    verdict = check.value_power(Overwrites)
    assert verdict.status == "wrong" and "+=" in verdict.message


def test_power_with_a_wrong_forward_is_wrong():
    class Doubles(_ReferenceValue):
        def __pow__(self, n):
            return type(self)(self.data * n, (self,))

    verdict = check.value_power(Doubles)
    assert verdict.status == "wrong" and "forward" in verdict.message


def test_power_without_a_link_to_its_input_is_wrong():
    class Orphan(_ReferenceValue):
        def __pow__(self, n):
            out = type(self)(self.data ** n)  # no children: backward never reaches self

            def backward():
                self.grad += n * self.data ** (n - 1) * out.grad

            out._backward = backward
            return out

    verdict = check.value_power(Orphan)
    assert verdict.status == "wrong" and "children" in verdict.message


def test_power_not_a_class_or_raising_is_wrong():
    assert "class" in check.value_power(3).message

    class Bare:
        def __init__(self, data):
            self.data, self.grad = data, 0.0

    verdict = check.value_power(Bare)
    assert verdict.status == "wrong" and "no backward, tanh" in verdict.message

    class Raises(_ReferenceValue):
        def __pow__(self, n):
            raise RuntimeError("not written")

    verdict = check.value_power(Raises)
    assert verdict.status == "wrong" and "RuntimeError" in verdict.message


# ----------------------------------------------------------------------------- exercise 3
def _linear(x, w, g):
    return g @ w.T, x.T @ g, g.sum(axis=0)


def test_linear_reference_is_correct():
    assert check.linear_backward(_linear).status == "correct"


def test_linear_placeholder_is_unanswered():
    assert check.linear_backward(...).status == "unanswered"
    assert check.linear_backward(lambda x, w, g: None).status == "unanswered"


@pytest.mark.parametrize(("slip", "says"), [
    (lambda x, w, g: (g @ w.T, g.T @ x, g.sum(axis=0)), "transposed"),
    (lambda x, w, g: (g @ w.T, x.T @ g, g), "add up"),
    (lambda x, w, g: (g @ w.T, x.T @ g, g.mean(axis=0)), "mean"),
    (lambda x, w, g: (g @ w.T, x.T @ g / len(x), g.sum(axis=0)), "batch size"),
    (lambda x, w, g: (g, x.T @ g, g.sum(axis=0)), "dx has shape"),
    (lambda x, w, g: (g @ w.T, x.T @ g), "three arrays"),
])
def test_linear_slips_are_named(slip, says):
    verdict = check.linear_backward(slip)
    assert verdict.status == "wrong"
    assert says in verdict.message


def test_linear_square_transposes_are_caught():
    # the (3, 4, 4) case: a transposed dW or an untransposed W in dx has the right shape there
    def transposed_dw(x, w, g):
        dx, dw, db = _linear(x, w, g)
        return dx, dw.T if dw.shape[0] == dw.shape[1] else dw, db

    def untransposed_w(x, w, g):
        dx, dw, db = _linear(x, w, g)
        return (g @ w if w.shape[0] == w.shape[1] else dx), dw, db

    assert "transposed" in check.linear_backward(transposed_dw).message
    assert "other way round" in check.linear_backward(untransposed_w).message


def test_linear_code_that_raises_is_wrong():
    verdict = check.linear_backward(lambda x, w, g: x @ g)
    assert verdict.status == "wrong" and "ValueError" in verdict.message
