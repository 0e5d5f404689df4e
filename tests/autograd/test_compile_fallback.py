"""dendrite.compile falls back to eager mode on what it cannot replay, and the results stay right.

Each test shows the fallback (``stats``, ``explain()``) and checks the values against eager mode.
"""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
import dendrite.nn.functional as F
from dendrite import nn


def _calls(function, *args, times: int = 5):
    return [function(*args) for _ in range(times)]


def _bits(tensor) -> bytes:
    return tensor.array.tobytes()


X = dendrite.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))


@pytest.mark.parametrize("body, reason", [
    (lambda x: x * x.sum().item(), "reads a tensor's values in Python (item)"),
    (lambda x: x * 2 if bool((x > 0).all()) else x, "reads a tensor's values"),
    (lambda x: x.abs() * 2, "Abs is not marked replayable"),
    (lambda x: x.clamp(min=0.0) * 2, "Clamp is not marked replayable"),
    (lambda x: (x * 1).add_(1), "writes a tensor in place"),
    (lambda x: x * dendrite.randn(4, 3), "made on each call"),
    (lambda x: [(x * 2).sum().item()], "reads a tensor's values"),
    (lambda x: x, "returns a tensor it did not compute"),
    (lambda x: (x * 2).reshape(12), "or a view of one"),
])
def test_what_cannot_be_replayed_runs_eagerly_with_the_same_results(body, reason):
    compiled = dendrite.compile(body)
    dendrite.manual_seed(0)
    expected = _calls(body, X)
    dendrite.manual_seed(0)
    got = _calls(compiled, X)
    for ours, theirs in zip(got, expected):
        if isinstance(theirs, list):
            assert ours == theirs
        else:
            assert _bits(ours) == _bits(theirs)
    assert compiled.stats["replayed"] == 0 and reason in compiled.explain(), compiled.explain()


def test_backward_and_optimizer_step_inside_run_eagerly_and_train_the_same():
    def train(compiled):
        dendrite.manual_seed(0)
        model = nn.Linear(3, 2)
        optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            return loss

        step = dendrite.compile(step) if compiled else step
        for _ in range(5):
            step(X, dendrite.tensor([0, 1, 1, 0]))
        return step, [_bits(p) for p in model.parameters()]

    compiled, parameters = train(True)
    assert parameters == train(False)[1]
    assert compiled.stats["replayed"] == 0 and "calls backward()" in compiled.explain()


def test_a_module_hook_makes_the_call_eager_and_runs_every_time():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    seen = []
    model[1].register_forward_hook(lambda module, args, output: seen.append(output.shape))
    compiled = dendrite.compile(lambda x: model(x).sum())
    values = _calls(compiled, X)
    assert len(seen) == 5 and compiled.stats["replayed"] == 0
    assert "hooks on ReLU" in compiled.explain()
    assert all(_bits(value) == _bits(model(X).sum()) for value in values)


def test_anomaly_mode_runs_eagerly():
    compiled = dendrite.compile(lambda x: (x * 2).exp())
    with dendrite.autograd.detect_anomaly():
        _calls(compiled, X)
    assert compiled.stats == {"recorded": 0, "checked": 0, "replayed": 0, "eager": 5}


def test_a_python_value_that_differs_between_the_first_two_calls_is_refused():
    scale = [1.0]

    def scaled(x):
        scale[0] += 1.0
        return x * scale[0]

    compiled = dendrite.compile(scaled)
    values = [compiled(X).array[0, 0] for _ in range(4)]
    assert values == [-2.0, -3.0, -4.0, -5.0]
    assert compiled.stats["replayed"] == 0 and "differently" in compiled.explain()


def test_a_python_value_that_changes_later_is_caught_by_check_every():
    """What the recording cannot see: a closure value that is stable for a while, then changes."""
    scale = [2.0]
    compiled = dendrite.compile(lambda x: x * scale[0], check_every=2)
    assert [compiled(X).array[0, 0] for _ in range(4)] == [-2.0] * 4  # recorded, checked, replayed
    scale[0] = 3.0
    assert compiled(X).array[0, 0] == -2.0  # a plain replay cannot know (docs/compile.md)
    assert compiled(X).array[0, 0] == -3.0  # the check every 2nd replay sees it: eager from now on
    assert compiled(X).array[0, 0] == -3.0 and "other values than eager" in compiled.explain()


def test_guards_record_again_for_new_shapes_frozen_parameters_and_eval_mode():
    dendrite.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    compiled = dendrite.compile(lambda x: model(x).sum())

    def agrees(x):
        dendrite.manual_seed(1)
        ours = compiled(x)
        model.zero_grad()
        ours.backward()
        ours_grads = [None if p.grad is None else _bits(p.grad) for p in model.parameters()]
        dendrite.manual_seed(1)
        theirs = model(x).sum()
        model.zero_grad()
        theirs.backward()
        return _bits(ours) == _bits(theirs) and ours_grads == [
            None if p.grad is None else _bits(p.grad) for p in model.parameters()]

    assert all(agrees(X) for _ in range(4))
    assert all(agrees(dendrite.ones(7, 3)) for _ in range(4))  # a new batch size: a key of its own
    model[0].weight.requires_grad_(False)
    assert all(agrees(X) for _ in range(4))
    model.eval()
    assert all(agrees(X) for _ in range(4))
    assert compiled.stats["replayed"] == 4 and compiled.stats["recorded"] == 8


def test_fullgraph_raises_with_the_reason():
    compiled = dendrite.compile(lambda x: x.abs(), fullgraph=True)
    with pytest.raises(RuntimeError, match="fullgraph=True.*Abs is not marked replayable"):
        compiled(X)


def test_arguments_that_cannot_be_guarded_and_too_many_keys_run_eagerly():
    compiled = dendrite.compile(lambda x, scales: x * scales[0], cache_limit=2)
    assert _bits(compiled(X, [2.0])) == _bits(X * 2.0)
    assert "neither a tensor nor hashable" in compiled.explain()
    for scale in (1.0, 2.0, 3.0):
        assert _bits(compiled(X, (scale,))) == _bits(X * scale)
    assert "more than cache_limit=2" in compiled.explain()


def test_a_compiled_function_called_while_recording_runs_eagerly_inside():
    inner = dendrite.compile(lambda x: x * 3)
    outer = dendrite.compile(lambda x: inner(x).exp())
    values = _calls(outer, X)
    assert all(_bits(value) == _bits((X * 3).exp()) for value in values)
    assert outer.stats["replayed"] == 2 and inner.stats["replayed"] == 0


def test_a_replay_checks_new_targets_as_eager_mode_does():
    model = nn.Linear(3, 2)
    compiled = dendrite.compile(lambda x, y: F.cross_entropy(model(x), y))
    for _ in range(4):
        compiled(X, dendrite.tensor([0, 1, 1, 0]))
    assert compiled.stats["replayed"] == 1
    for bad in ([0, 1, 2, 0], [0, -1, 1, 0]):
        with pytest.raises(IndexError, match=r"target -?\d is out of bounds for 2 classes"):
            compiled(X, dendrite.tensor(bad))
    ignored = dendrite.tensor([0, -100, 1, 0])  # ignore_index: the replay masks it as eager mode does
    assert _bits(compiled(X, ignored)) == _bits(F.cross_entropy(model(X), ignored))


def test_onnx_export_traces_a_compiled_module_eagerly(tmp_path):
    pytest.importorskip("onnx")
    model = dendrite.compile(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)))
    _calls(model, X)
    dendrite.onnx.export(model, X, str(tmp_path / "model.onnx"))
    assert model.forward.stats["replayed"] == 2 and model.forward.stats["eager"] == 2


def test_a_function_that_changes_a_module_on_every_call_stays_eager():
    model = nn.Linear(3, 2)

    def counting(x):
        model.calls = getattr(model, "calls", 0) + 1  # a Python side effect a replay would skip
        return model(x)

    compiled = dendrite.compile(counting)
    values = _calls(compiled, X)
    assert model.calls == 5 and compiled.stats == {"recorded": 1, "checked": 0, "replayed": 0, "eager": 4}
    assert "changes a module's attributes" in compiled.explain()
    assert all(_bits(value) == _bits(model(X)) for value in values)
