"""gradcheck passes on correct gradients and explains wrong ones (input, element, both values)."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite.autograd import Function, GradcheckError, gradcheck


class WrongSquare(Function):
    """x ** 2 with a deliberately wrong backward (3x instead of 2x)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad):
        return grad * 3 * self.x


def _x(values):
    return dendrite.tensor(values, dtype=dendrite.float64, requires_grad=True)


def test_gradcheck_passes_for_correct_gradients():
    x, w = (
        _x(np.random.default_rng(0).standard_normal((3, 4))),
        _x(np.random.default_rng(1).standard_normal(4)),
    )
    assert gradcheck(lambda a, b: (a * b).tanh().sum(dim=0), (x, w))


def test_gradcheck_failure_names_input_element_and_values():
    x = _x([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: WrongSquare.apply(t), (x,))
    message = str(info.value)
    assert "d(output 0[0, 0]) / d(input 0[0, 0])" in message
    assert "analytic (backward) = 3" in message  # 3 * x at x = 1
    assert "numerical (finite differences, eps=1e-06) = 2" in message


def test_gradcheck_names_the_second_input():
    x, y = _x([1.0]), _x([2.0])
    with pytest.raises(GradcheckError, match=r"d\(input 1\[0\]\)"):
        gradcheck(lambda a, b: a + WrongSquare.apply(b), (x, y))


def test_gradcheck_without_raising_returns_false():
    assert gradcheck(lambda t: WrongSquare.apply(t), (_x([1.0]),), raise_exception=False) is False


def test_gradcheck_handles_non_contiguous_inputs():
    array = np.random.default_rng(2).standard_normal((4, 3)).T  # a transposed view
    x = dendrite.from_numpy(array).requires_grad_()
    assert gradcheck(lambda t: (t * t * t).sum(dim=1), (x,))
    np.testing.assert_array_equal(x.detach().numpy(), array)  # inputs are restored exactly
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: WrongSquare.apply(t), (x,))


def test_gradcheck_checks_every_output():
    x = _x([0.5, 1.5])
    assert gradcheck(lambda t: (t.exp(), t.sin()), (x,))
    with pytest.raises(GradcheckError, match=r"output 1"):
        gradcheck(lambda t: (t.exp(), WrongSquare.apply(t)), (x,))


def test_gradcheck_warns_for_float32():
    x = dendrite.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="use float64"):
        gradcheck(lambda t: t * 2, (x,), eps=1e-2, atol=1e-2, rtol=1e-2)


def test_gradcheck_is_reachable_as_dendrite_autograd_gradcheck():
    assert dendrite.autograd.gradcheck is gradcheck
