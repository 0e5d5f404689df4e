"""Learning-rate schedulers against PyTorch: the same sequences, chaining, state dicts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import dendrite

EPOCHS = 40


class Counter:
    """A callable object (not a function), so its attributes go into state dicts."""

    def __init__(self, base: float) -> None:
        self.base = base

    def __call__(self, epoch: int) -> float:
        return self.base**epoch


SCHEDULES = {
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda epoch: 1 / (1 + epoch)),
    "LambdaLR-per-group": lambda s, o: s.LambdaLR(o, [lambda e: 0.9**e, lambda e: 1.0 + 0.1 * e]),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lambda epoch: 0.95 if epoch % 2 else 0.9),
    "StepLR": lambda s, o: s.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[3, 10, 10, 25], gamma=0.3),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=6),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=12),
    "LinearLR-decay": lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=30),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=20, power=2.0),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=10),
    "CosineAnnealingLR-eta_min": lambda s, o: s.CosineAnnealingLR(o, T_max=15, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=5),
    "CosineAnnealingWarmRestarts-mult": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                                   eta_min=1e-3),
    "CyclicLR": lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR-triangular2": lambda s, o: s.CyclicLR(o, base_lr=[0.01, 0.001], max_lr=0.1, step_size_up=3,
                                                    step_size_down=5, mode="triangular2"),
    "CyclicLR-exp_range": lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=5, mode="exp_range", gamma=0.95),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=EPOCHS),
    "OneCycleLR-linear": lambda s, o: s.OneCycleLR(o, max_lr=[1.0, 0.5], epochs=4, steps_per_epoch=10,
                                                   anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-three_phase": lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=EPOCHS + 5,
                                                        three_phase=True, div_factor=10.0,
                                                        final_div_factor=100.0),
    "OneCycleLR-no-momentum": lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=EPOCHS,
                                                        cycle_momentum=False),
    "SequentialLR": lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.2, total_iters=5), s.CosineAnnealingLR(o, T_max=30)],
        milestones=[5]),
    "SequentialLR-three": lambda s, o: s.SequentialLR(
        o, [s.ConstantLR(o, factor=0.5, total_iters=4), s.ExponentialLR(o, gamma=0.8),
            s.StepLR(o, step_size=3, gamma=0.5)], milestones=[6, 20]),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler(
        [s.ConstantLR(o, factor=0.1, total_iters=4), s.ExponentialLR(o, gamma=0.9)]),
}


def make_optimizer(lib, name: str = "SGD"):
    params = [lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(3))]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.02}]
    if name == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return getattr(lib.optim, name)(groups, lr=0.1)


def momentum_of(group: dict) -> float:
    return group["betas"][0] if "betas" in group else group.get("momentum", 0.0)


def record(lib, build, optimizer_name="SGD", epochs=EPOCHS, stepper=None):
    """Learning rates (and momentum) of both groups after construction and after every step."""
    optimizer = make_optimizer(lib, optimizer_name)
    schedule = build(lib.optim.lr_scheduler, optimizer)
    rows = []
    for epoch in range(epochs + 1):
        rows.append([g["lr"] for g in optimizer.param_groups] + schedule.get_last_lr()
                    + [momentum_of(g) for g in optimizer.param_groups])
        if epoch < epochs:
            optimizer.step()
            schedule.step() if stepper is None else stepper(schedule, epoch)
    return np.array(rows, dtype=np.float64)


def assert_same_sequence(ours, theirs, what: str) -> None:
    # The same arithmetic in the same order: equal to within a few units in the last place.
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15, err_msg=what)


@pytest.mark.parametrize("key", list(SCHEDULES))
def test_sequence_matches_torch(key):
    optimizer_name = "Adam" if key == "OneCycleLR-linear" else "SGD"
    epochs = EPOCHS + 5 if "three_phase" in key else EPOCHS
    ours = record(dendrite, SCHEDULES[key], optimizer_name, epochs)
    theirs = record(torch, SCHEDULES[key], optimizer_name, epochs)
    assert_same_sequence(ours, theirs, key)
    assert np.ptp(ours[:, 0]) > 0, "the schedule should change the learning rate"


@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_one_cycle_cycles_each_optimizers_momentum(optimizer_name):
    build = SCHEDULES["OneCycleLR"]
    ours = record(dendrite, build, optimizer_name)
    assert_same_sequence(ours, record(torch, build, optimizer_name), optimizer_name)
    assert ours[:, -1].min() == pytest.approx(0.85) and ours[:, -1].max() == pytest.approx(0.95)


def test_two_schedulers_on_one_optimizer_compose():
    def build(s, o):
        return [s.ExponentialLR(o, gamma=0.9), s.MultiStepLR(o, milestones=[5, 12], gamma=0.5),
                s.CosineAnnealingLR(o, T_max=8)]

    def run(lib):
        optimizer = make_optimizer(lib)
        schedules = build(lib.optim.lr_scheduler, optimizer)
        lrs = []
        for _ in range(30):
            optimizer.step()
            for schedule in schedules:
                schedule.step()
            lrs.append([g["lr"] for g in optimizer.param_groups])
        return np.array(lrs)

    assert_same_sequence(run(dendrite), run(torch), "chained by hand")


def test_cosine_warm_restarts_with_fractional_epochs():
    def stepper(schedule, epoch):
        for batch in range(4):
            schedule.step(epoch + batch / 4)

    build = SCHEDULES["CosineAnnealingWarmRestarts-mult"]
    assert_same_sequence(record(dendrite, build, stepper=stepper), record(torch, build, stepper=stepper),
                         "fractional epochs")


@pytest.mark.parametrize("key", ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
                                 "PolynomialLR", "CosineAnnealingLR"])
def test_explicit_epoch_uses_the_closed_form(key):
    def stepper(schedule, epoch):
        schedule.step((epoch * 7) % 23)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = record(dendrite, SCHEDULES[key], stepper=stepper)
        theirs = record(torch, SCHEDULES[key], stepper=stepper)
    assert_same_sequence(ours, theirs, key)


PLATEAU_METRICS = [1.0, 0.9, 0.9, 0.95, 0.9, 0.91, 0.92, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7999, 0.8, 0.81,
                   0.79, 0.79, 0.79, 0.79, 0.79, 0.79, 0.5] + [0.6] * 14


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(factor=0.5, patience=2),
    dict(factor=0.5, patience=1, cooldown=2),
    dict(mode="max", factor=0.3, patience=1),
    dict(factor=0.5, patience=0, threshold=0.05, threshold_mode="abs", min_lr=0.004),
    dict(mode="max", factor=0.5, patience=1, threshold=0.01, threshold_mode="abs", min_lr=[0.01, 0.001]),
    dict(factor=0.1, patience=0, eps=0.05),
], ids=str)
def test_reduce_on_plateau_matches_torch(kwargs):
    def run(lib):
        optimizer = make_optimizer(lib)
        schedule = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
        lrs = []
        for metric in PLATEAU_METRICS:
            optimizer.step()
            schedule.step(metric)
            lrs.append([g["lr"] for g in optimizer.param_groups] + schedule.get_last_lr()
                       + [schedule.num_bad_epochs, schedule.cooldown_counter])
        return np.array(lrs)

    ours = run(dendrite)
    assert_same_sequence(ours, run(torch), str(kwargs))
    assert ours[-1, 0] < ours[0, 0], "the metric plateaus, so the learning rate must drop"


@pytest.mark.parametrize("key", ["LambdaLR", "MultiStepLR", "CosineAnnealingLR", "OneCycleLR", "SequentialLR",
                                 "CosineAnnealingWarmRestarts-mult", "ChainedScheduler", "CyclicLR"])
def test_state_dict_round_trip_continues_identically(key):
    build = SCHEDULES[key]
    optimizer = make_optimizer(dendrite)
    schedule = build(dendrite.optim.lr_scheduler, optimizer)
    for _ in range(13):
        optimizer.step()
        schedule.step()
    saved_optimizer, saved_schedule = optimizer.state_dict(), schedule.state_dict()
    assert "optimizer" not in saved_schedule
    expected = []
    for _ in range(15):
        optimizer.step()
        schedule.step()
        expected.append(schedule.get_last_lr())

    resumed_optimizer = make_optimizer(dendrite)
    resumed = build(dendrite.optim.lr_scheduler, resumed_optimizer)
    resumed_optimizer.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved_schedule)
    got = []
    for _ in range(15):
        resumed_optimizer.step()
        resumed.step()
        got.append(resumed.get_last_lr())
    assert got == expected


def test_reduce_on_plateau_state_dict_round_trip():
    optimizer = make_optimizer(dendrite)
    schedule = dendrite.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1, cooldown=1)
    for metric in PLATEAU_METRICS[:10]:
        schedule.step(metric)
    saved_optimizer, saved_schedule = optimizer.state_dict(), schedule.state_dict()
    expected = []
    for metric in PLATEAU_METRICS[10:]:
        schedule.step(metric)
        expected.append(schedule.get_last_lr())
    resumed_optimizer = make_optimizer(dendrite)
    resumed = dendrite.optim.lr_scheduler.ReduceLROnPlateau(resumed_optimizer)
    resumed_optimizer.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved_schedule)
    got = []
    for metric in PLATEAU_METRICS[10:]:
        resumed.step(metric)
        got.append(resumed.get_last_lr())
    assert got == expected


def test_lambda_objects_keep_their_attributes_in_state_dicts():
    optimizer = make_optimizer(dendrite)
    schedule = dendrite.optim.lr_scheduler.LambdaLR(optimizer, [Counter(0.5), lambda e: 1.0])
    saved = schedule.state_dict()
    assert saved["lr_lambdas"] == [{"base": 0.5}, None]
    saved["lr_lambdas"][0]["base"] = 0.25
    schedule.load_state_dict(saved)
    optimizer.step()
    schedule.step()
    assert schedule.get_last_lr()[0] == pytest.approx(0.1 * 0.25)


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(momentum=0.9)), ("Adam", {}), ("RMSprop", {})])
def test_parameter_trajectory_under_a_schedule_matches_torch(name, kwargs):
    rng = np.random.default_rng(0)
    start = rng.standard_normal((4, 3))
    trajectories = []
    for lib in (dendrite, torch):
        w = lib.nn.Parameter(lib.tensor(start.copy()))
        optimizer = getattr(lib.optim, name)([w], lr=0.05, **kwargs)
        s = lib.optim.lr_scheduler
        schedule = s.SequentialLR(optimizer, [s.LinearLR(optimizer, start_factor=0.1, total_iters=4),
                                              s.CosineAnnealingLR(optimizer, T_max=12)], milestones=[4])
        path = []
        for _ in range(16):
            values = w.detach().numpy()
            w.grad = lib.tensor(2 * values + np.sin(values))
            optimizer.step()
            schedule.step()
            path.append(w.detach().numpy().copy())
        trajectories.append(np.array(path))
    np.testing.assert_allclose(trajectories[0], trajectories[1], rtol=1e-10, atol=1e-12)


def test_errors_and_warnings():
    s = dendrite.optim.lr_scheduler
    optimizer = make_optimizer(dendrite)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        s.StepLR(object(), step_size=1)
    with pytest.raises(KeyError, match="initial_lr"):
        s.StepLR(optimizer, step_size=1, last_epoch=3)
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        s.SequentialLR(optimizer, [s.ExponentialLR(optimizer, 0.9)], milestones=[3])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        s.ChainedScheduler([s.ReduceLROnPlateau(optimizer)])
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        s.LambdaLR(optimizer, [lambda e: 1.0])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        s.ReduceLROnPlateau(optimizer, factor=2.0)
    with pytest.raises(ValueError, match="momentum or beta1"):
        s.OneCycleLR(dendrite.optim.Adagrad([dendrite.nn.Parameter(dendrite.ones(1))]), max_lr=1.0,
                     total_steps=3)
    cycled = make_optimizer(dendrite)
    one_cycle = s.OneCycleLR(cycled, max_lr=1.0, total_steps=2)
    cycled.step()
    one_cycle.step()
    one_cycle.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        one_cycle.step()

    fresh = make_optimizer(dendrite)
    schedule = s.StepLR(fresh, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        schedule.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        schedule.get_lr()


def test_scheduler_sets_initial_lr_once():
    optimizer = make_optimizer(dendrite)
    dendrite.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    assert [g["initial_lr"] for g in optimizer.param_groups] == [0.1, 0.02]
    second = dendrite.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    assert second.base_lrs == [0.1, 0.02]
