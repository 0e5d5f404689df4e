"""The engine's fast path (one node whose inputs are leaves, engine.py) gives what the general walk gives.

Each case runs twice from the same start: once as ``backward`` chooses, once with the fast path
turned off, and compares every ``.grad`` bit for bit, what hooks saw, and the errors raised. The
cases where the fast path must not be taken (hooks, anomaly mode, captured inputs, a write since
the forward, an inner input) are checked to take the general walk.
"""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
import dendrite.nn.functional as F
from dendrite.autograd import engine


@pytest.fixture(autouse=True)
def _no_hooked_leaves_left_by_other_tests():
    """The fast path is off while any live tensor has a post-accumulate-grad hook (engine.py); a test run
    before this file may leave such tensors in cycles that only the collector frees."""
    import gc

    from dendrite.autograd import accumulate_hooks

    gc.collect()
    assert not accumulate_hooks.hooks_by_leaf, "tensors with post-accumulate-grad hooks are still alive"


def _leaves(seed: int = 0):
    rng = np.random.default_rng(seed)
    w = dendrite.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    b = dendrite.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    x = dendrite.tensor(rng.standard_normal((5, 4)).astype(np.float32))
    y = dendrite.tensor(rng.integers(0, 3, 5))
    return w, b, x, y


def _compiled_loss(w, b):
    return dendrite.compile(lambda x, y: F.cross_entropy(F.relu(F.linear(x, w, b)), y))


def _spy(monkeypatch) -> list:
    """Count the fast path's runs."""
    taken = []
    original = engine._backward_to_leaves

    def spy(*args):
        taken.append(True)
        return original(*args)

    monkeypatch.setattr(engine, "_backward_to_leaves", spy)
    return taken


def _grads(*tensors):
    return [None if t.grad is None else (t.grad.array.dtype, t.grad.array.shape, t.grad.array.tobytes())
            for t in tensors]


def _both_ways(monkeypatch, case):
    """(result with the fast path allowed, result with it off, how often the fast path ran)."""
    taken = _spy(monkeypatch)
    allowed = case()
    count = len(taken)
    with monkeypatch.context() as patch:
        patch.setattr(engine, "_one_node_to_leaves", lambda output, grad: False)
        general = case()
    assert len(taken) == count  # turned off: not taken
    return allowed, general, count


# ------------------------------------------------------------------ taken: the same bits as the walk
def _compiled_steps(existing_grad: bool = False, retain: bool = False):
    def case():
        w, b, x, y = _leaves()
        loss_of = _compiled_loss(w, b)
        results = []
        for _ in range(5):  # recorded, recorded, checked, replayed, replayed
            if not existing_grad:
                w.grad = b.grad = None
            loss = loss_of(x, y)
            loss.backward(retain_graph=retain)
            if retain:
                loss.backward()  # a second pass through the kept graph adds the same again
            results.append(_grads(w, b))
            with dendrite.no_grad():
                w -= 0.1 * w.grad
        assert loss_of.stats["replayed"] == 2
        return results
    return case


@pytest.mark.parametrize("existing_grad", [False, True], ids=["fresh", "accumulated"])
@pytest.mark.parametrize("retain", [False, True], ids=["released", "retained"])
def test_a_compiled_step_takes_the_fast_path_with_the_same_bits(monkeypatch, existing_grad, retain):
    allowed, general, count = _both_ways(monkeypatch, _compiled_steps(existing_grad, retain))
    assert allowed == general
    assert count >= 3 * (2 if retain else 1)  # the checked and replayed steps at least


def test_a_leaf_given_twice_has_its_gradients_summed_first(monkeypatch):
    def case():
        x = dendrite.tensor([1.5, -2.0, 3.0], requires_grad=True)
        x.grad = dendrite.tensor([0.1, 0.2, 0.3])
        (x * x).backward(dendrite.tensor([1.0, 2.0, 3.0]))  # Mul: two gradients for x, one .grad update
        return _grads(x)
    allowed, general, count = _both_ways(monkeypatch, case)
    assert allowed == general and count == 1


def test_one_gradient_array_handed_to_two_leaves_is_not_shared(monkeypatch):
    def case():
        a = dendrite.tensor([1.0, 2.0], requires_grad=True)
        b = dendrite.tensor([3.0, 4.0], requires_grad=True)
        (a + b).backward(dendrite.tensor([1.0, 1.0]))  # Add hands the same array to both
        assert not np.shares_memory(a.grad.array, b.grad.array)
        a.grad.array[0] = 7.0
        return _grads(a, b)
    allowed, general, count = _both_ways(monkeypatch, case)
    assert allowed == general and count == 1


def test_a_strided_gradient_is_stored_as_its_own_array(monkeypatch):
    def case():
        x = dendrite.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=True)
        seed = dendrite.tensor(np.arange(6.0, dtype=np.float32).reshape(3, 2))
        x.t().backward(seed)  # the gradient is a transposed view of the seed
        assert x.grad.array.flags.owndata and not np.shares_memory(x.grad.array, seed.array)
        return _grads(x)
    allowed, general, count = _both_ways(monkeypatch, case)
    assert allowed == general and count == 1


def test_a_gradient_of_another_dtype_is_cast_to_the_leafs(monkeypatch):
    def case():
        x = dendrite.tensor([1.0, 2.0], dtype=dendrite.float64, requires_grad=True)
        x.to(dendrite.float32).sum().backward()  # two nodes: the walk; the cast alone: fast
        y = dendrite.tensor([1.0, 2.0], dtype=dendrite.float64, requires_grad=True)
        y.to(dendrite.float32).backward(dendrite.tensor([1.0, 3.0]))
        return _grads(x, y)
    allowed, general, count = _both_ways(monkeypatch, case)
    assert allowed == general and count == 1


def test_a_second_backward_after_release_raises_the_same_error(monkeypatch):
    def case():
        w, b, x, y = _leaves()
        single = w.sum()
        single.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time") as error:
            single.backward()
        return str(error.value), _grads(w)
    allowed, general, count = _both_ways(monkeypatch, case)
    assert allowed == general and count == 1


# ------------------------------------------------------------------ not taken: the general walk
def _not_taken(monkeypatch, case):
    allowed, general, count = _both_ways(monkeypatch, case)
    assert count == 0
    assert allowed == general
    return allowed


def test_hooks_on_a_leaf_take_the_walk(monkeypatch):
    def case():
        w, b, x, y = _leaves()
        seen = []
        w.register_hook(lambda grad: seen.append(grad.array.tobytes()) or grad * 2)
        (w * 1).backward(dendrite.ones(3, 4))
        return seen, _grads(w)
    seen, _ = _not_taken(monkeypatch, case)
    assert len(seen) == 1


def test_post_accumulate_grad_hooks_take_the_walk(monkeypatch):
    def case():
        w, b, x, y = _leaves()
        seen = []
        handle = b.register_post_accumulate_grad_hook(lambda leaf: seen.append(leaf.grad.array.tobytes()))
        loss_of = _compiled_loss(w, b)
        for _ in range(4):
            loss_of(x, y).backward()
        handle.remove()
        return seen, _grads(w, b)
    seen, _ = _not_taken(monkeypatch, case)
    assert len(seen) == 4


def test_a_hook_or_retained_gradient_on_the_output_takes_the_walk(monkeypatch):
    def case():
        w, b, x, y = _leaves()
        out = w * 3
        out.retain_grad()
        seen = []
        out.register_hook(lambda grad: seen.append(1))
        out.backward(dendrite.ones(3, 4))
        return seen, _grads(w, out)
    _not_taken(monkeypatch, case)


def test_anomaly_mode_takes_the_walk(monkeypatch):
    def case():
        w, b, x, y = _leaves()
        with dendrite.autograd.detect_anomaly():
            w.exp().backward(dendrite.ones(3, 4))
        return _grads(w)
    _not_taken(monkeypatch, case)


def test_autograd_grad_and_backward_inputs_take_the_walk(monkeypatch):
    def case():
        w, b, x, y = _leaves()
        (grad,) = dendrite.autograd.grad(w.exp().sum(), [w])
        w.exp().backward(dendrite.ones(3, 4), inputs=[w])
        return grad.array.tobytes(), _grads(w, b)
    _not_taken(monkeypatch, case)


def test_an_inner_input_takes_the_walk(monkeypatch):
    def case():
        w, b, x, y = _leaves()
        (w * 2).sum().backward()
        return _grads(w)
    _not_taken(monkeypatch, case)


def test_a_write_since_the_forward_takes_the_walk(monkeypatch):
    def case():
        w, b, x, y = _leaves()
        other = dendrite.zeros(2)
        out = w.exp()
        other.add_(1)  # any in-place write: the walk checks the saved values
        out.backward(dendrite.ones(3, 4))
        scale = dendrite.tensor([2.0, 3.0, 4.0, 5.0])
        product = w * scale  # Mul keeps scale for w's gradient
        scale.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as error:
            product.backward(dendrite.ones(3, 4))
        return _grads(w), str(error.value)
    _not_taken(monkeypatch, case)
