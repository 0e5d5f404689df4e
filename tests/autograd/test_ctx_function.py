"""PyTorch's ctx contract for ``autograd.Function``: the official examples, run unchanged on both libraries.

Each Function below is written once, inside a maker that takes the library
(``torch`` or ``dendrite``) and returns the class, so the very same source
runs as PyTorch code and as dendrite code; values and gradients are compared
in float64.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import dendrite

torch = pytest.importorskip("torch")


def as_numpy(tensor):
    return tensor.detach().numpy()


def both(make_inputs):
    """The same inputs as dendrite and torch tensors (float64 leaves that require grad)."""
    arrays = make_inputs()
    return ([dendrite.tensor(a, dtype=dendrite.float64, requires_grad=True) for a in arrays],
            [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays])


def close(ours, theirs, rtol=1e-12, atol=1e-14):
    np.testing.assert_allclose(as_numpy(ours), as_numpy(theirs), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------- the tutorial's LegendrePolynomial3
def legendre_class(lib):
    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    return LegendrePolynomial3


def train_legendre(lib, steps: int = 2000):
    """"Learning PyTorch with Examples", PyTorch: Defining new autograd Functions, in float64."""
    LegendrePolynomial3 = legendre_class(lib)
    dtype = lib.float64
    x = lib.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = lib.sin(x)
    a = lib.full((), 0.0, dtype=dtype, requires_grad=True)
    b = lib.full((), -1.0, dtype=dtype, requires_grad=True)
    c = lib.full((), 0.0, dtype=dtype, requires_grad=True)
    d = lib.full((), 0.3, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    losses = []
    for t in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            losses.append(loss.item())
        loss.backward()
        with lib.no_grad():
            # The tutorial writes `a -= learning_rate * a.grad`; sub_ is the same update (see the
            # verbatim test below for `-=`).
            for parameter in (a, b, c, d):
                parameter.sub_(learning_rate * parameter.grad)
                parameter.grad = None
    return losses, [a.item(), b.item(), c.item(), d.item()]


def test_legendre_tutorial_trains_to_the_same_numbers_as_torch():
    ours_losses, ours = train_legendre(dendrite)
    torch_losses, theirs = train_legendre(torch)
    np.testing.assert_allclose(ours_losses, torch_losses, rtol=1e-10)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    # the tutorial's result: y = a + b * P3(c + d x) with b ≈ -2.2085, d ≈ 0.2555, loss ≈ 8.94
    assert ours[1] == pytest.approx(-2.2085, abs=1e-4) and ours[3] == pytest.approx(0.2555, abs=1e-4)
    assert ours_losses[-1] == pytest.approx(8.9436, abs=1e-3)


@pytest.mark.skipif(not hasattr(dendrite.Tensor, "__isub__"),
                    reason="dendrite.Tensor has no in-place `-=` yet (x -= y rebinds x to a new tensor); "
                           "the training test above uses the equivalent sub_")
def test_legendre_tutorial_update_written_with_minus_equals():
    LegendrePolynomial3 = legendre_class(dendrite)
    x = dendrite.linspace(-1.0, 1.0, 5, dtype=dendrite.float64)
    d = dendrite.full((), 0.3, dtype=dendrite.float64, requires_grad=True)
    LegendrePolynomial3.apply(d * x).sum().backward()
    with dendrite.no_grad():
        d -= 1e-3 * d.grad
    assert d.requires_grad and d.is_leaf


def test_legendre_value_and_gradient_match_torch():
    (ours,), (theirs,) = both(lambda: [np.linspace(-2, 2, 7)])
    y_ours, y_theirs = legendre_class(dendrite).apply(ours), legendre_class(torch).apply(theirs)
    close(y_ours, y_theirs)
    assert repr(y_ours.grad_fn) == "<LegendrePolynomial3Backward>"
    y_ours.sum().backward()
    y_theirs.sum().backward()
    close(ours.grad, theirs.grad)


# ---------------------------------------------------------------------- MyReLU in a two-layer network
def relu_class(lib):
    class MyReLU(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    return MyReLU


def train_two_layer_net(lib, steps: int = 30):
    """The older tutorial's two-layer network with MyReLU, on fixed random data, in float64."""
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((16, 10)), dtype=lib.float64)
    y = lib.tensor(rng.standard_normal((16, 3)), dtype=lib.float64)
    w1 = lib.tensor(rng.standard_normal((10, 20)) * 0.3, dtype=lib.float64, requires_grad=True)
    w2 = lib.tensor(rng.standard_normal((20, 3)) * 0.3, dtype=lib.float64, requires_grad=True)
    relu = relu_class(lib).apply
    losses = []
    for _ in range(steps):
        y_pred = relu(x.mm(w1)).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with lib.no_grad():
            w1.sub_(1e-3 * w1.grad)
            w2.sub_(1e-3 * w2.grad)
            w1.grad.zero_()
            w2.grad.zero_()
    return losses, as_numpy(w1), as_numpy(w2)


def test_my_relu_trains_a_two_layer_net_like_torch():
    ours = train_two_layer_net(dendrite)
    theirs = train_two_layer_net(torch)
    assert ours[0][-1] < 0.8 * ours[0][0]  # it does learn
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- Exp saving its output
def exp_class(lib):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            result, = ctx.saved_tensors
            return grad_output * result

    return Exp


def test_exp_saving_its_output_matches_torch():
    (ours,), (theirs,) = both(lambda: [np.array([-1.0, 0.0, 0.5])])
    y_ours, y_theirs = exp_class(dendrite).apply(ours), exp_class(torch).apply(theirs)
    close(y_ours, y_theirs)
    (y_ours * y_ours).sum().backward()
    (y_theirs * y_theirs).sum().backward()
    close(ours.grad, theirs.grad)


def test_a_saved_output_comes_back_linked_to_the_node():
    x = dendrite.tensor([0.0], requires_grad=True)
    y = exp_class(dendrite).apply(x)
    (saved,) = y.grad_fn.saved_tensors
    assert saved.grad_fn is y.grad_fn and saved.requires_grad
    assert np.shares_memory(saved.array, y.array)


# ---------------------------------------------------------------------- two outputs
def sincos_class(lib):
    class SinCos(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, grad_sin, grad_cos):
            x, = ctx.saved_tensors
            return grad_sin * x.cos() - grad_cos * x.sin()

    return SinCos


@pytest.mark.parametrize("use", ["both", "first", "second"])
def test_two_outputs_get_their_own_gradients_like_torch(use):
    (ours,), (theirs,) = both(lambda: [np.array([0.3, -1.2, 2.0])])
    for lib, x in ((dendrite, ours), (torch, theirs)):
        s, c = sincos_class(lib).apply(x)
        assert s.grad_fn is c.grad_fn
        loss = {"both": s * 2 + c * c, "first": s * 2, "second": c * c}[use].sum()
        loss.backward()  # an unused output's gradient arrives as zeros (materialize_grads)
    close(ours.grad, theirs.grad)


# ---------------------------------------------------------------------- mark_non_differentiable
def sort_class(lib):
    class Sort(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values, indices = x.sort()
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(indices)
            return values, indices

        @staticmethod
        def backward(ctx, grad_values, grad_indices):
            indices, = ctx.saved_tensors
            ctx.seen = grad_indices  # zeros of the indices' shape and dtype, as in torch
            return lib.zeros_like(grad_values).scatter(0, indices, grad_values)

    return Sort


def test_mark_non_differentiable_indices_like_torch():
    (ours,), (theirs,) = both(lambda: [np.array([3.0, -1.0, 2.0, 0.5])])
    results = []
    for lib, x in ((dendrite, ours), (torch, theirs)):
        values, indices = sort_class(lib).apply(x)
        assert values.requires_grad and not indices.requires_grad and indices.grad_fn is None
        (values * lib.arange(4, dtype=lib.float64)).sum().backward()
        results.append((values, indices, values.grad_fn.seen))
    (v1, i1, seen1), (v2, i2, seen2) = results
    close(v1, v2)
    assert i1.tolist() == i2.tolist()
    assert seen1.tolist() == seen2.tolist() == [0, 0, 0, 0]
    assert str(seen1.dtype) == str(seen2.dtype).replace("torch.", "")
    close(ours.grad, theirs.grad)


def test_integer_outputs_do_not_require_grad_and_get_integer_zero_gradients():
    seen = {}
    def run(lib):
        class Floor(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.floor().long(), x * 2

            @staticmethod
            def backward(ctx, grad_int, grad_float):
                seen[lib.__name__] = grad_int.tolist()
                return grad_float * 2

        x = lib.tensor([1.5, 2.5], dtype=lib.float64, requires_grad=True)
        whole, doubled = Floor.apply(x)
        assert not whole.requires_grad
        doubled.sum().backward()
        assert x.grad.tolist() == [2.0, 2.0]

    for lib in (dendrite, torch):
        run(lib)
    assert seen["dendrite"] == seen["torch"] == [0, 0]


# ---------------------------------------------------------------------- needs_input_grad, None gradients
def linear_class(lib, computed: list):
    class Linear(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input, weight, bias=None):
            ctx.save_for_backward(input, weight, bias)
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            computed.append(ctx.needs_input_grad)
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    return Linear


@pytest.mark.parametrize("wants", [(True, True, True), (False, True, True), (True, False, False),
                                   (False, False, True)])
def test_needs_input_grad_lets_backward_skip_work_like_torch(wants):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)]
    grads, computed = {}, {}
    def run(lib):
        computed[lib.__name__] = []
        tensors = [lib.tensor(a, dtype=lib.float64, requires_grad=w) for a, w in zip(arrays, wants)]
        linear_class(lib, computed[lib.__name__]).apply(*tensors).pow(2).sum().backward()
        grads[lib.__name__] = [None if t.grad is None else t.grad.numpy() for t in tensors]

    for lib in (dendrite, torch):
        run(lib)
    assert computed["dendrite"] == computed["torch"] == [wants]
    for mine, reference in zip(grads["dendrite"], grads["torch"]):
        assert (mine is None) == (reference is None)
        if mine is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-12)


def test_needs_input_grad_is_set_under_no_grad_too_like_torch():
    seen = {}
    def run(lib):
        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                seen[lib.__name__] = ctx.needs_input_grad
                return x * k

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output, None

        with lib.no_grad():
            y = Probe.apply(lib.ones(2, requires_grad=True), 3)
        assert not y.requires_grad and y.grad_fn is None

    for lib in (dendrite, torch):
        run(lib)
    assert seen["dendrite"] == seen["torch"] == (True, False)


def test_a_none_gradient_leaves_the_input_without_grad_like_torch():
    def run(lib):
        class OnlyFirst(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                return a * b

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output * 2, None

        a, b = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        OnlyFirst.apply(a, b).sum().backward()
        assert a.grad.tolist() == [2.0, 2.0] and b.grad is None

    for lib in (dendrite, torch):
        run(lib)


def test_non_tensor_arguments_and_keyword_arguments_get_no_gradient():
    def run(lib):
        class Affine(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale, shift=0.0):
                ctx.scale = scale  # an arbitrary attribute on ctx
                return x * scale + shift

            @staticmethod
            def backward(ctx, grad_output):
                # one per argument: the keyword shift=1.0 counts as forward's third input, as in torch
                return grad_output * ctx.scale, None, None

        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = Affine.apply(x, 3.0, shift=1.0)
        assert y.tolist() == [4.0, 7.0] and y.grad_fn.scale == 3.0
        assert y.grad_fn.needs_input_grad == (True, False, False)
        y.sum().backward()
        assert x.grad.tolist() == [3.0, 3.0]

    for lib in (dendrite, torch):
        run(lib)


def test_a_tensor_passed_by_keyword_is_an_input_and_gets_its_gradient_like_torch():
    def run(lib):
        class AddScaled(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale=1.0, shift=None, other=None):
                return x * scale + other

            @staticmethod
            def backward(ctx, grad_output):
                assert ctx.needs_input_grad == (True, False, False, True)
                return grad_output * 2, None, None, grad_output * 3

        x, other = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        AddScaled.apply(x, other=other, scale=2.0, shift=None).sum().backward()
        assert x.grad.tolist() == [2.0, 2.0] and other.grad.tolist() == [3.0, 3.0]

    for lib in (dendrite, torch):
        run(lib)


# ---------------------------------------------------------------------- set_materialize_grads(False)
def test_set_materialize_grads_false_passes_none_like_torch():
    seen = {}
    def run(lib):
        class Pair(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                ctx.save_for_backward(x)
                return x.clone(), x.clone()

            @staticmethod
            def backward(ctx, g1, g2):
                x, = ctx.saved_tensors
                seen.setdefault(lib.__name__, []).append((g1 is None, g2 is None))
                grad_input = lib.zeros_like(x)
                if g1 is not None:
                    grad_input = grad_input + g1
                if g2 is not None:
                    grad_input = grad_input + 3 * g2
                return grad_input

        x = lib.ones(2, requires_grad=True)
        first, second = Pair.apply(x)
        first.sum().backward()
        Pair.apply(x)[1].sum().backward()
        assert x.grad.tolist() == [4.0, 4.0]

    for lib in (dendrite, torch):
        run(lib)
    assert seen["dendrite"] == seen["torch"] == [(False, True), (True, False)]


# ---------------------------------------------------------------------- setup_context (torch 2 style)
def setup_class(lib):
    class MulConstant(lib.autograd.Function):
        @staticmethod
        def forward(tensor, constant=2.0):
            return tensor * constant

        @staticmethod
        def setup_context(ctx, inputs, output):
            tensor, constant = inputs
            ctx.constant = constant
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, grad_output):
            output, = ctx.saved_tensors
            return grad_output * ctx.constant + 0 * output, None

    return MulConstant


@pytest.mark.parametrize("call", [lambda f, x: f.apply(x), lambda f, x: f.apply(x, 3.0),
                                  lambda f, x: f.apply(x, constant=4.0)],
                         ids=["default", "positional", "keyword"])
def test_setup_context_style_matches_torch(call):
    (ours,), (theirs,) = both(lambda: [np.array([1.0, -2.0])])
    y_ours, y_theirs = call(setup_class(dendrite), ours), call(setup_class(torch), theirs)
    close(y_ours, y_theirs)
    y_ours.sum().backward()
    y_theirs.sum().backward()
    close(ours.grad, theirs.grad)


# ---------------------------------------------------------------------- outputs that are inputs
def test_an_input_returned_as_is_comes_back_as_a_new_tensor_sharing_memory():
    def run(lib):
        class Identity(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output * 5

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = Identity.apply(x)
        assert y is not x and y.grad_fn is not None and y.tolist() == x.tolist()
        y.sum().backward()
        assert x.grad.tolist() == [5.0, 5.0]
        with lib.no_grad():
            z = Identity.apply(x)
        assert z is not x and not z.requires_grad
        assert np.shares_memory(y.detach().numpy(), x.detach().numpy())

    for lib in (dendrite, torch):
        run(lib)


def test_mark_dirty_returns_the_input_itself_with_a_new_history_like_torch():
    grads = {}
    def run(lib):
        class Double_(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output * 2

        leaf = lib.tensor([1.0, 3.0], dtype=lib.float64, requires_grad=True)
        inner = leaf * leaf
        out = Double_.apply(inner)
        assert out is inner and out.tolist() == [2.0, 18.0]
        assert type(inner.grad_fn).__name__ == "Double_Backward"
        out.sum().backward()
        grads[lib.__name__] = leaf.grad.tolist()

    for lib in (dendrite, torch):
        run(lib)
    assert grads["dendrite"] == grads["torch"] == [4.0, 12.0]


# ---------------------------------------------------------------------- the node and the graph
def test_grad_fn_reads_through_to_ctx_and_links_to_the_inputs_nodes():
    Exp = exp_class(dendrite)
    x = dendrite.tensor([1.0], requires_grad=True)
    y = Exp.apply(x * 2)
    assert repr(y.grad_fn) == "<ExpBackward>" and y.grad_fn.name == "Exp"
    (parent, index), = y.grad_fn.next_functions
    assert repr(parent) == "<MulBackward>" and index == 0 and parent is y.grad_fn.inputs[0].grad_fn
    assert y.grad_fn.needs_input_grad == (True,)
    assert type(y.grad_fn).__name__ == "ExpBackward"


def test_hooks_and_retain_grad_work_on_ctx_function_outputs():
    x = dendrite.tensor([1.0, 2.0], requires_grad=True)
    s, c = sincos_class(dendrite).apply(x)
    s.retain_grad()
    seen = []
    c.register_hook(lambda grad: seen.append(grad.tolist()))
    (s * 3 + c).sum().backward()
    assert s.grad.tolist() == [3.0, 3.0] and seen == [[1.0, 1.0]]


def test_saved_tensors_are_freed_after_backward_unless_retain_graph():
    x = dendrite.tensor([1.0], dtype=dendrite.float64, requires_grad=True)
    y = exp_class(dendrite).apply(x)
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [2 * math.e]
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        _ = y.grad_fn.saved_tensors
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_a_backward_that_returns_a_saved_input_does_not_alias_the_inputs_grad():
    class HalfSquare(dendrite.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x * x).sum() / 2

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            return x  # d/dx x²/2 = x when grad_output is 1: the very tensor that was saved

    x = dendrite.tensor([1.0, 2.0], requires_grad=True)
    HalfSquare.apply(x).backward()
    HalfSquare.apply(x).backward()  # accumulates into x.grad in place
    assert x.grad.tolist() == [2.0, 4.0] and x.tolist() == [1.0, 2.0]


def test_gradient_of_a_broadcast_shape_is_summed_to_the_input_like_torch():
    def run(lib):
        class Spread(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad_output):
                return lib.ones(3, 1, 2)  # the input's (1, 2) broadcast: summed over the new axis

        x = lib.ones(1, 2, requires_grad=True)
        Spread.apply(x).sum().backward()
        assert x.grad.tolist() == [[3.0, 3.0]]

    for lib in (dendrite, torch):
        run(lib)


def test_nested_ctx_functions_and_array_functions_mix_in_one_graph():
    (ours,), (theirs,) = both(lambda: [np.array([0.2, -0.4, 0.9])])
    for lib, x in ((dendrite, ours), (torch, theirs)):
        y = legendre_class(lib).apply(exp_class(lib).apply(x.tanh()) * 0.5).sin()
        y.sum().backward()
    close(ours.grad, theirs.grad)


def test_gradcheck_passes_on_ctx_functions():
    rng = np.random.default_rng(3)
    x = dendrite.tensor(rng.standard_normal(4), dtype=dendrite.float64, requires_grad=True)
    for cls in (legendre_class(dendrite), exp_class(dendrite), sincos_class(dendrite)):
        assert dendrite.autograd.gradcheck(cls.apply, (x,))
    assert dendrite.autograd.gradcheck(setup_class(dendrite).apply, (x, 1.5))
    weight = dendrite.tensor(rng.standard_normal((2, 4)), dtype=dendrite.float64, requires_grad=True)
    bias = dendrite.tensor(rng.standard_normal(2), dtype=dendrite.float64, requires_grad=True)
    assert dendrite.autograd.gradcheck(linear_class(dendrite, []).apply, (x.reshape(1, 4), weight, bias))


def test_gradcheck_catches_a_wrong_ctx_backward():
    class WrongCube(dendrite.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            return 2 * x ** 2 * grad_output  # should be 3 x²

    x = dendrite.tensor([0.5, 1.5], dtype=dendrite.float64, requires_grad=True)
    where = re.escape("d(output 0[0]) / d(input 0[0])")
    with pytest.raises(dendrite.autograd.GradcheckError, match=where):
        dendrite.autograd.gradcheck(WrongCube.apply, (x,))


class HugeGrad(dendrite.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, grad_output):
        return dendrite.tensor(grad_output.numpy() / 0.0)


def test_anomaly_mode_names_the_ctx_function_that_made_a_nan():
    class BadLog(dendrite.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # through NumPy, so no dendrite operation inside sees the NaN first
            return dendrite.tensor(np.log(x.detach().numpy()))

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    x = dendrite.tensor([-1.0, 1.0], requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"), dendrite.autograd.detect_anomaly():
        with pytest.raises(dendrite.autograd.AnomalyError, match="BadLog produced NaN in its forward"):
            BadLog.apply(x)
        y = HugeGrad.apply(x)
        with pytest.raises(dendrite.autograd.AnomalyError, match="backward of HugeGrad returned Inf"):
            y.sum().backward()


def test_the_array_contract_is_unchanged_and_uses_the_shared_apply():
    from dendrite.autograd.function import Function
    from dendrite.ops.math import Exp

    assert Exp.apply.__func__ is Function.apply.__func__
    assert legendre_class(dendrite).apply.__func__ is not Function.apply.__func__
