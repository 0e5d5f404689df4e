"""watch(model, optimizer): healthy loops stay quiet, injected loop bugs are caught, objects are restored."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
import dendrite.nn.functional as F
from dendrite import nn
from dendrite.doctor import Watch, watch

RNG = np.random.default_rng(0)
X = RNG.normal(size=(256, 4)).astype("float32")
Y = (X[:, 0] + X[:, 1] > 0).astype("int64")
IMAGES = RNG.normal(size=(64, 1, 8, 8)).astype("float32")
IMAGE_LABELS = (IMAGES.mean(axis=(1, 2, 3)) > 0).astype("int64")


def mlp(dropout: bool = False, batchnorm: bool = False) -> nn.Module:
    dendrite.manual_seed(0)
    layers = [nn.Linear(4, 16)] + ([nn.BatchNorm1d(16)] if batchnorm else []) + [nn.ReLU()]
    layers += ([nn.Dropout(0.2)] if dropout else []) + [nn.Linear(16, 2)]
    return nn.Sequential(*layers)


def cnn() -> nn.Module:
    dendrite.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))


def batches(steps: int, inputs=X, labels=Y, size: int = 32):
    for step in range(steps):
        start = (step * size) % len(inputs)
        yield step, dendrite.tensor(inputs[start:start + size]), dendrite.tensor(labels[start:start + size])


def run(model, optimizer, pattern: str = "standard", steps: int = 120, inputs=X, labels=Y, size=32,
        **options):
    """One of the loop patterns people write (healthy ones and buggy ones), under watch."""
    with watch(model, optimizer, **options) as w:
        for step, x, y in batches(steps, inputs, labels, size):
            loss = F.cross_entropy(model(x), y)
            if pattern == "standard":
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            elif pattern == "model-zero-grad":
                model.zero_grad()
                loss.backward()
                optimizer.step()
            elif pattern == "zeros-not-none":
                optimizer.zero_grad(set_to_none=False)
                loss.backward()
                optimizer.step()
            elif pattern == "manual-none":
                for param in model.parameters():
                    param.grad = None
                loss.backward()
                optimizer.step()
            elif pattern == "accumulate-4":
                (loss / 4).backward()
                if (step + 1) % 4 == 0:
                    optimizer.step()
                    optimizer.zero_grad()
            elif pattern == "log-loss":
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                w.log_loss(loss)
            elif pattern == "no-zero-grad":
                loss.backward()
                optimizer.step()
            elif pattern == "zero-grad-before-step":
                loss.backward()
                optimizer.zero_grad()
                optimizer.step()
    return w


HEALTHY = [
    (mlp, lambda p: dendrite.optim.Adam(p, lr=1e-2), "standard"),
    (mlp, lambda p: dendrite.optim.SGD(p, lr=0.1), "standard"),
    (mlp, lambda p: dendrite.optim.SGD(p, lr=0.05, momentum=0.9), "model-zero-grad"),
    (mlp, lambda p: dendrite.optim.Adam(p, lr=1e-3), "zeros-not-none"),
    (mlp, lambda p: dendrite.optim.SGD(p, lr=0.1), "manual-none"),
    (mlp, lambda p: dendrite.optim.Adam(p, lr=1e-2), "accumulate-4"),
    (mlp, lambda p: dendrite.optim.SGD(p, lr=0.1), "log-loss"),
    (lambda: mlp(dropout=True, batchnorm=True), lambda p: dendrite.optim.Adam(p, lr=1e-2), "standard"),
]


@pytest.mark.parametrize("make_model, make_optimizer, pattern", HEALTHY)
def test_healthy_loops_are_quiet(make_model, make_optimizer, pattern):
    model = make_model()
    w = run(model, make_optimizer(model.parameters()), pattern, steps=200)
    report = w.report()
    assert report.ok and report.findings == [], str(report)
    assert w.record.steps == (50 if pattern == "accumulate-4" else 200)
    assert set(report.passed) >= {"missing-zero-grad", "no-gradient", "nan-loss", "lr-too-high"}


def test_a_healthy_cnn_with_adam_is_quiet():
    model = cnn()
    w = run(model, dendrite.optim.Adam(model.parameters(), lr=1e-2), steps=80, inputs=IMAGES,
            labels=IMAGE_LABELS, size=16)
    assert w.report().findings == [], str(w.report())


def test_missing_zero_grad_is_caught_with_growing_gradients():
    model = mlp()
    report = run(model, dendrite.optim.SGD(model.parameters(), lr=0.01), "no-zero-grad", steps=30).report()
    finding = next(f for f in report.findings if f.code == "missing-zero-grad")
    assert finding.severity == "error" and not report.ok
    assert finding.evidence["steps_with_stale_gradient"] == 29 and finding.evidence["zero_grad_calls"] == 0
    assert finding.evidence["grad_norm_last"] > 3 * finding.evidence["grad_norm_first"]


def test_zero_grad_between_backward_and_step_means_no_gradient():
    model = mlp()
    report = run(model, dendrite.optim.SGD(model.parameters(), lr=0.1), "zero-grad-before-step", 10).report()
    finding = next(f for f in report.findings if f.code == "no-gradient")
    assert "between backward() and step()" in finding.title
    assert "missing-zero-grad" not in report.codes()


def test_a_detached_layer_has_no_gradient():
    model = mlp()

    class Detached(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.unused = model, nn.Linear(4, 4)

        def forward(self, x):
            return self.body(self.unused(x).detach())

    net = Detached()
    report = run(net, dendrite.optim.Adam(net.parameters(), lr=1e-2), steps=20).report()
    finding = next(f for f in report.findings if f.code == "no-gradient")
    assert finding.evidence["never_a_gradient"] == ["unused.bias", "unused.weight"]


def test_parameters_missing_from_the_optimizer():
    model = mlp()
    optimizer = dendrite.optim.SGD(model[0].parameters(), lr=0.1)
    report = run(model, optimizer, steps=5).report()
    finding = next(f for f in report.findings if f.code == "params-not-in-optimizer")
    assert finding.evidence == {"parameters": ["2.weight", "2.bias"], "count": 2}


def test_training_in_eval_mode_with_batchnorm():
    model = mlp(dropout=True, batchnorm=True)
    model.eval()
    report = run(model, dendrite.optim.Adam(model.parameters(), lr=1e-2), steps=10).report()
    finding = next(f for f in report.findings if f.code == "eval-mode")
    assert finding.severity == "error" and finding.evidence["eval_steps"] == 10
    assert finding.evidence["layers"] == ["BatchNorm1d", "Dropout"]


def test_evaluation_between_steps_is_not_eval_mode():
    model = mlp(dropout=True)
    optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
    with watch(model, optimizer) as w:
        for _, x, y in batches(10):
            model.train()
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
            model.eval()
            with dendrite.no_grad():
                model(x)
    assert "eval-mode" not in w.report().codes()


def test_a_huge_learning_rate_diverges():
    model = mlp()
    report = run(model, dendrite.optim.SGD(model.parameters(), lr=10.0), steps=60).report()
    finding = next(f for f in report.findings if f.code == "lr-too-high")
    assert finding.severity == "error" and finding.evidence["loss_peak"] > 10 * finding.evidence["loss_first"]


def test_a_step_that_makes_the_weights_infinite_is_named():
    model = mlp()
    x = dendrite.tensor(X[:32] * 1e10)
    optimizer = dendrite.optim.SGD(model.parameters(), lr=1e30)
    with np.errstate(all="ignore"), watch(model, optimizer) as w:
        for _ in range(3):
            optimizer.zero_grad()
            F.cross_entropy(model(x), dendrite.tensor(Y[:32])).backward()
            optimizer.step()
    report = w.report()
    nan = next(f for f in report.findings if f.code == "nan-loss")
    assert nan.evidence["step"] == 1 and nan.evidence["kind"] == "optimizer-step"
    assert "optimizer.step()" in nan.evidence["where"]  # the user's line
    assert "lr-too-high" in report.codes() and "clip_grad_norm_" in nan.fix


def test_nan_in_the_data_is_caught_at_the_forward():
    model = mlp()
    optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
    data = X.copy()
    data[40, 2] = np.nan
    with np.errstate(all="ignore"):
        w = run(model, optimizer, steps=4, inputs=data)
    finding = next(f for f in w.report().findings if f.code == "nan-in-data")
    assert finding.evidence["step"] == 1 and finding.evidence["what"] == "data"


def test_a_nan_loss_under_anomaly_names_the_operation():
    model = mlp()
    optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(dendrite.autograd.AnomalyError):
        with np.errstate(all="ignore"), watch(model, optimizer, anomaly=True) as w:
            for _, x, y in batches(3):
                optimizer.zero_grad()
                F.nll_loss(F.softmax(model(x) * 1e4, dim=1).log(), y).backward()
                optimizer.step()
    assert not dendrite.autograd.is_anomaly_enabled()
    finding = next(f for f in w.report().findings if f.code == "nan-loss")
    assert finding.evidence["kind"] == "log-of-zero" and "F.log_softmax" in finding.fix


def test_a_nan_loss_without_anomaly_says_how_to_find_it():
    model = mlp()
    optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
    with np.errstate(all="ignore"), watch(model, optimizer) as w:
        for _, x, y in batches(3):
            optimizer.zero_grad()
            loss = F.nll_loss(F.softmax(model(x) * 1e4, dim=1).log(), y)
            loss.backward()
            optimizer.step()
    finding = next(f for f in w.report().findings if f.code == "nan-loss")
    assert finding.evidence["what"] in ("loss", "gradients") and "trace_nan" in finding.fix


def test_a_flat_loss_is_a_plateau_warning():
    model = mlp()
    report = run(model, dendrite.optim.SGD(model.parameters(), lr=1e-6), steps=80).report()
    assert report.codes() == {"loss-plateau"} and report.ok


def test_objects_are_restored_exactly_even_after_an_error():
    model = mlp()
    optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
    own_step = optimizer.step  # a user's own instance attribute must come back too
    optimizer.step = own_step
    optimizer_before, model_before = dict(vars(optimizer)), dict(vars(model))
    hooks_before = dict(model._forward_hooks)
    with pytest.raises(KeyError):
        with watch(model, optimizer) as w:
            assert optimizer.step is not own_step and "zero_grad" in vars(model)
            assert w.active
            raise KeyError("boom")
    assert not w.active
    assert vars(optimizer) == optimizer_before and vars(model) == model_before
    assert optimizer.step is own_step and "zero_grad" not in vars(optimizer)
    assert model.zero_grad.__func__ is type(model).zero_grad and dict(model._forward_hooks) == hooks_before
    assert not dendrite.autograd.engine.backward_observers
    model(dendrite.ones(2, 4)).sum().backward()  # no longer observed
    assert w.record.backward_calls == 0


def test_watch_arguments_are_checked():
    model = mlp()
    with pytest.raises(TypeError, match="watch: optimizer must be a dendrite.optim optimizer.*str 'adam'"):
        watch(model, "adam")
    with pytest.raises(TypeError, match="watch: model must be a dendrite.nn.Module"):
        watch([1, 2], dendrite.optim.SGD(model.parameters(), lr=0.1))
    w = Watch(None, dendrite.optim.SGD(model.parameters(), lr=0.1))
    with w, pytest.raises(RuntimeError, match="already running"):
        w.start()
    with pytest.raises(ValueError, match="expected a scalar loss"):
        w.log_loss(dendrite.ones(3))
    with pytest.raises(TypeError, match="expected a loss tensor or a number"):
        w.log_loss("0.5")


def test_report_says_what_it_could_not_judge():
    model = mlp()
    optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
    with watch(model, optimizer) as w:
        pass
    assert set(w.report().skipped) == {"loss checks", "step checks"}


def test_a_check_too_short_to_judge_is_skipped_not_passed():
    model = mlp()
    optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
    x, y = dendrite.randn(32, 4), dendrite.tensor(np.arange(32) % 2)
    with watch(model, optimizer) as w:
        for _ in range(10):  # fewer losses than the plateau check needs
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
    report = w.report()
    assert "loss-plateau" in report.skipped and "loss-plateau" not in report.passed
    assert "missing-zero-grad" in report.passed


def test_an_extra_backward_cleared_before_the_next_step_is_not_missing_zero_grad():
    model = mlp()  # GAN-style: a second loss reaches these weights after their step, then zero_grad
    optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
    with watch(model, optimizer) as w:
        for _, x, y in batches(20):
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
            model(x).square().mean().backward()  # lands on the stepped gradients...
            for param in model.parameters():  # ...which the user clears by hand
                param.grad = None
    assert w.report().findings == []


def test_a_zero_grad_that_does_nothing_is_still_missing_zero_grad():
    model = mlp()
    optimizer = dendrite.optim.SGD(model.parameters(), lr=0.01)
    optimizer.zero_grad = lambda set_to_none=True: None  # a broken override
    report = run(model, optimizer, "standard", steps=10).report()
    assert "missing-zero-grad" in report.codes()
