"""Bad arguments fail early with messages that name the operation, what was wrong and the shapes."""

from __future__ import annotations

import pytest

import dendrite


def _t(*shape, dtype=None):
    return dendrite.zeros(*shape, dtype=dtype)


@pytest.mark.parametrize(
    "expression, error, pattern",
    [
        (lambda: _t(2, 3) + _t(4), RuntimeError, r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
        (lambda: _t(2, 3) * _t(3, 2), RuntimeError, r"mul: shapes \(2, 3\) and \(3, 2\) cannot be broadcast"),
        (lambda: _t(2, 3) / _t(2, 2), RuntimeError, r"div: shapes \(2, 3\) and \(2, 2\)"),
        (lambda: dendrite.maximum(_t(2), _t(3)), RuntimeError, r"maximum: shapes \(2,\) and \(3,\)"),
        (lambda: _t(2) == _t(3), RuntimeError, r"eq: shapes \(2,\) and \(3,\)"),
        (
            lambda: dendrite.where(_t(2) > 0, _t(3), _t(2)),
            RuntimeError,
            r"where: condition \(2,\), input \(3,\)",
        ),
        (lambda: _t(2, 3) @ _t(2, 3), RuntimeError, r"matmul: shapes cannot be multiplied \(2x3 and 2x3\)"),
        (lambda: _t(3) @ _t(4), RuntimeError, r"matmul: shapes cannot be multiplied \(3 and 4\)"),
        (lambda: _t(2, 3, 4) @ _t(5, 4, 2), RuntimeError, r"matmul: batch dimensions \(2,\) and \(5,\)"),
        (
            lambda: _t(2, 3) @ _t(3, dtype=dendrite.float64),
            RuntimeError,
            r"matmul: expected both operands to have the same dtype",
        ),
        (lambda: _t(2) @ 3.0, TypeError, r"matmul\(\): argument 'other' must be a Tensor, not float"),
        (lambda: dendrite.bmm(_t(2, 3, 4), _t(3, 4, 5)), RuntimeError, r"bmm: batch sizes differ"),
        (lambda: dendrite.mm(_t(3), _t(3, 2)), RuntimeError, r"mm: expected 2-D tensors, got shapes \(3,\)"),
        (
            lambda: dendrite.cat([_t(2, 3), _t(3, 2)], dim=1),
            RuntimeError,
            r"cat: sizes of tensors must match except in dimension 1. Expected \(2, 3\) .* "
            r"got \(3, 2\) for tensor number 1",
        ),
        (lambda: dendrite.cat([]), RuntimeError, r"cat\(\): expected a non-empty list"),
        (lambda: dendrite.cat(_t(2)), TypeError, r"cat\(\): expected a sequence of tensors"),
        (lambda: dendrite.stack([_t(2), _t(3)]), RuntimeError, r"stack expects each tensor to be equal size"),
        (
            lambda: _t(2, 3).reshape(4, 2),
            RuntimeError,
            r"reshape: shape \[4, 2\] is invalid for input of shape \(2, 3\)",
        ),
        (
            lambda: _t(2, 3).sum(dim=2),
            IndexError,
            r"Dimension out of range \(expected to be in range of \[-2, 1\]",
        ),
        (lambda: _t(2, 3).expand(4, 3), RuntimeError, r"expand: the expanded size of the tensor \(4\)"),
        (lambda: _t(2, 3).permute(1, 0, 2), RuntimeError, r"permute: the number of dims \(3\)"),
        (lambda: _t(5).split([2, 2]), RuntimeError, r"split: split sizes \[2, 2\] must sum exactly to 5"),
        (lambda: _t(3)[_t(2)], IndexError, r"tensors used as indices must be long, int or bool"),
        (lambda: _t(3)[5], IndexError, r"index 5 is invalid for a tensor of shape \(3,\)"),
        (
            lambda: dendrite.gather(_t(3, 4), 1, dendrite.tensor([0, 1])),
            RuntimeError,
            r"gather: index \(2,\) must have",
        ),
        (lambda: dendrite.gather(_t(3, 4), 1, _t(3, 1)), TypeError, r"gather: index must be an integer"),
        (lambda: -dendrite.tensor([True]), RuntimeError, r"neg: negating a bool tensor is not supported"),
        (lambda: dendrite.tensor([2]) ** -1, RuntimeError, r"integers to negative integer powers"),
        (lambda: dendrite.tensor([1, 2]).mean(), RuntimeError, r"mean\(\): could not infer output dtype"),
        (lambda: dendrite.where(_t(2), _t(2), _t(2)), TypeError, r"where: condition must be a bool tensor"),
        (lambda: _t(2) + "a", TypeError, r"^add\(\): an operand must be a Tensor or a number, not str"),
        (lambda: dendrite.tensor([1, 2], requires_grad=True), RuntimeError, r"only floating-point tensors"),
        (lambda: dendrite.clamp(_t(2)), RuntimeError, r"clamp: at least one of 'min' or 'max'"),
        (lambda: dendrite.softmax(_t(2, 3), None), TypeError, r"softmax\(\) needs an explicit dim"),
        (lambda: _t(2, 3).max(), None, None),
        (lambda: dendrite.zeros(0).max(), IndexError, r"max\(\): cannot reduce over a zero-size dimension"),
        (
            lambda: _t(2, 3).item(),
            RuntimeError,
            r"a Tensor with 6 elements cannot be converted to a Python scalar",
        ),
        (lambda: bool(_t(2)), RuntimeError, r"Boolean value of Tensor with 2 elements is ambiguous"),
        (lambda: _t(2).to("cuda"), RuntimeError, r"to: CUDA is not available"),
        (lambda: dendrite.zeros(2, device="cuda:0"), RuntimeError, r"zeros: CUDA is not available"),
        (lambda: dendrite.tensor([[1.0, 2.0], [3.0]]), ValueError, r"could not make a tensor from this list"),
    ],
)
def test_error_message(expression, error, pattern):
    if error is None:
        expression()  # a valid call in the middle of the table, so the table itself is checked
        return
    with pytest.raises(error, match=pattern):
        expression()


def test_backward_on_a_non_scalar_needs_a_gradient():
    y = dendrite.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(
        RuntimeError, match=r"grad can be implicitly created only for scalar outputs.*\(2, 3\)"
    ):
        y.backward()


def test_backward_gradient_of_the_wrong_shape():
    y = dendrite.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"gradient 0 has shape \(3,\) but output 0 has shape \(2, 3\)"):
        y.backward(dendrite.ones(3))


def test_backward_without_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        (dendrite.ones(2) * 2).sum().backward()


def test_in_place_on_a_leaf_that_requires_grad():
    w = dendrite.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add_: a leaf Variable that requires grad is being used in an in-place operation"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match=r"__setitem__: a leaf Variable that requires grad"):
        w[0] = 3.0
    with dendrite.no_grad():
        w.add_(1.0)  # fine outside the graph (an optimizer step)
    assert w.tolist() == [2.0, 2.0]
