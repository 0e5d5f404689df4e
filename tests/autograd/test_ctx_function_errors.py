"""Misuse of the ctx contract: each mistake is a clear error naming the Function (checked against torch).

Where PyTorch also refuses, the same code runs on both libraries and both must
raise; where dendrite is stricter (a contract mix, an array returned from a
ctx-style forward), the test says so.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import dendrite

torch = pytest.importorskip("torch")

LIBRARIES = pytest.mark.parametrize("lib", [dendrite, torch], ids=["dendrite", "torch"])


def function_class(lib, forward, backward, name="Custom"):
    return type(name, (lib.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(backward)})


def leaf(lib, *shape):
    return lib.ones(*shape, dtype=lib.float64, requires_grad=True)


# ---------------------------------------------------------------------- what backward returns
@LIBRARIES
def test_too_few_gradients_names_the_function_and_both_counts(lib):
    Bad = function_class(lib, lambda ctx, a, b: a * b, lambda ctx, grad: grad, name="Bad")
    message = "function BadBackward returned an incorrect number of gradients (expected 2, got 1)"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        Bad.apply(leaf(lib, 2), leaf(lib, 2)).sum().backward()


@LIBRARIES
def test_too_many_gradients_is_an_error_unless_the_extra_ones_are_none(lib):
    Extra = function_class(lib, lambda ctx, a: a * 2, lambda ctx, grad: (grad * 2, None, None), name="Extra")
    x = leaf(lib, 2)
    Extra.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    TooMany = function_class(lib, lambda ctx, a: a * 2, lambda ctx, grad: (grad, grad), name="TooMany")
    with pytest.raises(RuntimeError, match=re.escape("TooManyBackward returned an incorrect number of "
                                                     "gradients (expected 1, got 2)")):
        TooMany.apply(leaf(lib, 2)).sum().backward()


@LIBRARIES
def test_a_gradient_for_a_non_tensor_argument_is_refused(lib):
    Bad = function_class(lib, lambda ctx, a, k: a * k, lambda ctx, grad: (grad, grad), name="Scale")
    with pytest.raises(RuntimeError, match="ScaleBackward returned a gradient different than None at "
                                           "position 2, but the corresponding forward input was not a"):
        Bad.apply(leaf(lib, 2), 3.0).sum().backward()


@LIBRARIES
def test_a_gradient_that_is_not_a_tensor_is_refused(lib):
    Bad = function_class(lib, lambda ctx, a: a * 2, lambda ctx, grad: 3, name="Number")
    with pytest.raises((RuntimeError, TypeError), match="int"):
        Bad.apply(leaf(lib, 2)).sum().backward()


def test_an_array_gradient_is_refused_with_a_hint():
    Bad = function_class(dendrite, lambda ctx, a: a * 2, lambda ctx, grad: grad.numpy() * 2, name="Arr")
    with pytest.raises(TypeError, match=r"ArrBackward returned a ndarray as gradient 0 \(an array: wrap it "
                                        r"with dendrite.tensor"):
        Bad.apply(leaf(dendrite, 2)).sum().backward()


@LIBRARIES
def test_a_gradient_of_the_wrong_shape_names_both_shapes(lib):
    Bad = function_class(lib, lambda ctx, a: a * 2, lambda ctx, grad: lib.ones(3, dtype=lib.float64),
                         name="Shape")
    message = ("Function ShapeBackward returned an invalid gradient at index 0 - got [3] but expected shape "
               "compatible with [2]")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        Bad.apply(leaf(lib, 2)).sum().backward()


@LIBRARIES
def test_a_missing_backward_is_reported_when_backward_runs(lib):
    class ForwardOnly(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    y = ForwardOnly.apply(leaf(lib, 2))  # forward alone is fine
    assert y.tolist() == [2.0, 2.0]
    with pytest.raises(NotImplementedError, match="must implement either the backward or vjp method"):
        y.sum().backward()


# ---------------------------------------------------------------------- what forward does with ctx
@LIBRARIES
def test_save_for_backward_refuses_a_non_tensor(lib):
    def forward(ctx, a):
        ctx.save_for_backward(a, 3)
        return a * 2

    Bad = function_class(lib, forward, lambda ctx, grad: grad)
    with pytest.raises(TypeError, match="save_for_backward can only save .*argument 1 is of type int"):
        Bad.apply(leaf(lib, 2))


def test_save_for_backward_accepts_none():
    def forward(ctx, a):
        ctx.save_for_backward(a, None)
        return a * 2

    def backward(ctx, grad):
        a, nothing = ctx.saved_tensors
        assert nothing is None
        return grad * 2

    x = leaf(dendrite, 2)
    function_class(dendrite, forward, backward).apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_forward_returning_an_array_is_refused():
    # PyTorch passes a NumPy array through (without any graph); in dendrite it is almost always a
    # mix-up with the array contract, so it is refused.
    Bad = function_class(dendrite, lambda ctx, a: a.detach().numpy() * 2, lambda ctx, grad: grad, name="Np")
    with pytest.raises(TypeError, match="Np.forward returned a ndarray: PyTorch's ctx contract returns"):
        Bad.apply(leaf(dendrite, 2))
    Listed = function_class(dendrite, lambda ctx, a: [a * 2], lambda ctx, grad: grad, name="Listed")
    with pytest.raises(TypeError, match=r"Listed.forward returned a list.*a tuple of them"):
        Listed.apply(leaf(dendrite, 2))


@LIBRARIES
def test_numbers_and_none_returned_by_forward_pass_through_like_torch(lib):
    Three = function_class(lib, lambda ctx, a: 3.0, lambda ctx, grad: grad)
    Nothing = function_class(lib, lambda ctx, a: None, lambda ctx, grad: grad)
    assert Three.apply(leaf(lib, 2)) == 3.0 and Nothing.apply(leaf(lib, 2)) is None


@LIBRARIES
def test_mark_dirty_of_an_input_that_is_not_returned(lib):
    def forward(ctx, a):
        a.mul_(2)
        ctx.mark_dirty(a)
        return a * 1

    Bad = function_class(lib, forward, lambda ctx, grad: grad)
    with pytest.raises(RuntimeError, match="marked as dirty during the forward method were not returned"):
        Bad.apply(leaf(lib, 2) * 1)


@LIBRARIES
def test_mark_dirty_of_a_leaf_that_requires_grad(lib):
    def forward(ctx, a):
        ctx.mark_dirty(a)
        return a

    Bad = function_class(lib, forward, lambda ctx, grad: grad)
    with pytest.raises(RuntimeError, match="a leaf .* that requires grad has been used in an in-place"):
        Bad.apply(leaf(lib, 2))


def test_mark_dirty_and_mark_non_differentiable_take_the_right_tensors():
    def dirty_forward(ctx, a):
        other = a * 1
        ctx.mark_dirty(other)
        return other

    with pytest.raises(ValueError, match="Custom: mark_dirty takes the inputs forward changed in place"):
        function_class(dendrite, dirty_forward, lambda ctx, grad: grad).apply(leaf(dendrite, 2))

    def non_output_forward(ctx, a):
        ctx.mark_non_differentiable(a)  # torch ignores this silently; it marks nothing
        return a * 2

    with pytest.raises(ValueError, match="mark_non_differentiable takes outputs of forward"):
        function_class(dendrite, non_output_forward, lambda ctx, grad: grad).apply(leaf(dendrite, 2))

    def number_forward(ctx, a):
        ctx.mark_non_differentiable(3)
        return a * 2

    with pytest.raises(TypeError, match="mark_non_differentiable takes tensors, but argument 0 is of type"):
        function_class(dendrite, number_forward, lambda ctx, grad: grad).apply(leaf(dendrite, 2))


def test_saved_tensors_after_they_were_freed():
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * 2

    y = function_class(dendrite, forward, lambda ctx, grad: grad * 2).apply(leaf(dendrite, 2))
    y.sum().backward()
    with pytest.raises(RuntimeError, match="access saved tensors after they have already been freed"):
        _ = y.grad_fn.saved_tensors


# ---------------------------------------------------------------------- apply is the only door
@LIBRARIES
def test_the_legacy_instance_call_is_refused(lib):
    Doubler = function_class(lib, lambda ctx, a: a * 2, lambda ctx, grad: grad * 2, name="Doubler")
    with pytest.warns(DeprecationWarning) if lib is torch else pytest.raises(RuntimeError, match=(
            "Doubler should not be instantiated.*call it on the class itself, Doubler.apply")):
        instance = Doubler()
    if lib is torch:  # torch only warns at instantiation, then refuses the call
        with pytest.raises(RuntimeError, match="Legacy autograd function"):
            instance(leaf(lib, 2))


@LIBRARIES
def test_calling_forward_directly_without_ctx_is_a_plain_type_error_as_in_torch(lib):
    Doubler = function_class(lib, lambda ctx, a: a * 2, lambda ctx, grad: grad * 2)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'a'"):
        Doubler.forward(leaf(lib, 2))


def test_setup_context_apply_with_wrong_arguments_names_the_function():
    class Scale(dendrite.autograd.Function):
        @staticmethod
        def forward(x, factor):
            return x * factor

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.factor = inputs[1]

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.factor, None

    with pytest.raises(TypeError, match="Scale.apply: missing a required argument: 'factor'"):
        Scale.apply(leaf(dendrite, 2))
    with pytest.raises(TypeError, match="Scale.apply: .*unexpected keyword argument 'scale'"):
        Scale.apply(leaf(dendrite, 2), 2.0, scale=3.0)


def test_a_keyword_skipping_a_required_parameter_names_it():
    class Three(dendrite.autograd.Function):
        @staticmethod
        def forward(ctx, x, factor, shift=0.0):
            return x * factor + shift

        @staticmethod
        def backward(ctx, grad):
            return grad, None, None

    with pytest.raises(TypeError, match="Three.apply: missing required argument 'factor'"):
        Three.apply(leaf(dendrite, 2), shift=1.0)


# ---------------------------------------------------------------------- one contract per class
def _define(namespace: dict, base=None):
    return type("Mixed", (base or dendrite.autograd.Function,), namespace)


def _forward(ctx, x):
    return x * 2


def _backward(ctx, grad):
    return grad * 2


CONTRACT_MIXES = {
    "static forward, instance backward": (
        {"forward": staticmethod(_forward), "backward": _backward},
        "Mixed.forward is a @staticmethod (PyTorch's ctx contract) but Mixed.backward is not"),
    "instance forward, static backward": (
        {"forward": lambda self, x: x * 2, "backward": staticmethod(_backward)},
        "Mixed.backward is a @staticmethod (PyTorch's ctx contract) but Mixed.forward is not"),
    "ctx forward without staticmethod": (
        {"forward": _forward, "backward": _backward},
        "Mixed.forward(ctx, ...) is written for PyTorch's ctx contract but is not a @staticmethod"),
    "setup_context with an instance forward": (
        {"forward": lambda self, x: x, "setup_context": staticmethod(lambda ctx, inputs, output: None)},
        "Mixed defines setup_context, so Mixed.forward must be a '@staticmethod def forward"),
    "setup_context with a forward taking ctx": (
        {"forward": staticmethod(_forward), "setup_context": staticmethod(lambda ctx, inputs, output: None)},
        "Mixed defines setup_context, so its forward does not receive ctx"),
    "setup_context not static": (
        {"forward": staticmethod(lambda x: x), "setup_context": lambda ctx, inputs, output: None},
        "Mixed.setup_context must be a '@staticmethod"),
    "backward and vjp": (
        {"forward": staticmethod(_forward), "backward": staticmethod(_backward),
         "vjp": staticmethod(_backward)},
        "implementing both 'backward' and 'vjp'"),
    "forward without ctx": (
        {"forward": staticmethod(lambda: None), "backward": staticmethod(_backward)},
        "Mixed.forward takes no arguments: PyTorch's ctx contract passes ctx first"),
}


@pytest.mark.parametrize("case", list(CONTRACT_MIXES))
def test_a_class_mixing_the_two_contracts_is_refused_at_definition(case):
    namespace, message = CONTRACT_MIXES[case]
    with pytest.raises(TypeError, match=re.escape(message)):
        _define(namespace)


def test_an_array_contract_class_cannot_extend_a_ctx_contract_class():
    CtxBase = _define({"forward": staticmethod(_forward), "backward": staticmethod(_backward)})
    message = "Mixed writes dendrite's array contract but extends a Function that uses PyTorch's ctx contract"
    with pytest.raises(TypeError, match=message):
        _define({"forward": lambda self, x: x, "backward": lambda self, grad: grad}, base=CtxBase)


def test_a_ctx_contract_class_can_be_subclassed_in_the_same_contract():
    Base = _define({"forward": staticmethod(_forward), "backward": staticmethod(_backward)})

    class Child(Base):
        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    x = leaf(dendrite, 2)
    y = Child.apply(x)
    assert repr(y.grad_fn) == "<ChildBackward>"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_vjp_may_stand_for_backward_as_in_torch():
    Vjp = _define({"forward": staticmethod(_forward), "vjp": staticmethod(_backward)})
    x = leaf(dendrite, 2)
    Vjp.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_the_engine_still_refuses_a_second_backward_through_a_ctx_node():
    Twice = _define({"forward": staticmethod(_forward), "backward": staticmethod(_backward)})
    y = Twice.apply(leaf(dendrite, 2))
    y.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time: Mixed"):
        y.sum().backward()
    assert np.array_equal(y.detach().numpy(), [2.0, 2.0])
