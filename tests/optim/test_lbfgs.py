"""LBFGS against torch.optim.LBFGS in float64: the parameters after every step(closure) agree.

The two libraries round a few operations differently (BLAS dot products sum in another order,
PyTorch's ``add_(alpha=)`` uses fused multiply-adds), so agreement is to rounding, not to the
bit -- and L-BFGS amplifies rounding: 20 iterations per step, each direction built from the
last. How much depends on the trajectory (1e-13 after one step, up to 1e-6 after four on the
MLP). So each case also runs PyTorch from a start nudged by one ulp, and dendrite must stay
within 10x of PyTorch's distance from *itself* (plus 1e-12); a case whose trajectory amplifies
rounding past 1e-6 is refused as testing nothing. A wrong branch anywhere gives O(1) differences.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite
from dendrite.optim.line_search import cubic_interpolate, strong_wolfe


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


class Runs:
    """The same problem optimized three times: by dendrite, by PyTorch, and by PyTorch from a start
    one ulp away (``x (1 + 2^-52)``), which measures how much this trajectory amplifies rounding."""

    def __init__(self, arrays: list[np.ndarray], loss_fn, **options) -> None:
        self.loss_fn = loss_fn
        self.ours = [dendrite.nn.Parameter(dendrite.tensor(a.copy())) for a in arrays]
        self.theirs = [torch.nn.Parameter(torch.tensor(a.copy())) for a in arrays]
        self.nudged = [torch.nn.Parameter(torch.tensor(a * (1 + 2.0 ** -52))) for a in arrays]
        self.runs = [(dendrite, dendrite.optim.LBFGS(self.ours, **options), self.ours)]
        self.runs += [(torch, torch.optim.LBFGS(params, **options), params)
                      for params in (self.theirs, self.nudged)]

    def step(self) -> list[float]:
        losses = []
        for lib, opt, params in self.runs:
            def closure(lib=lib, opt=opt, params=params):
                opt.zero_grad()
                loss = self.loss_fn(lib, params)
                loss.backward()
                return loss
            losses.append(float(opt.step(closure)))
        return losses

    def flat(self, params) -> np.ndarray:
        return np.concatenate([p.detach().numpy().ravel() for p in params])

    def assert_same(self, what: str) -> None:
        """Ours within 10x PyTorch's own spread under a 1-ulp nudge (and 1e-12) of PyTorch's."""
        ours, theirs, nudged = self.flat(self.ours), self.flat(self.theirs), self.flat(self.nudged)
        spread = np.abs(theirs - nudged).max()
        assert spread < 1e-6, f"{what}: this case amplifies rounding by {spread:.1e}; it tests nothing"
        difference = np.abs(ours - theirs).max()
        assert difference <= 10 * spread + 1e-12, (
            f"{what}: dendrite differs from PyTorch by {difference:.2e}, "
            f"PyTorch from itself nudged by {spread:.2e}")


def rosenbrock_runs(start, **options) -> Runs:
    return Runs([np.array(start, dtype=np.float64)], lambda lib, params: rosenbrock(params[0]), **options)


_rng = np.random.default_rng(3)
MLP_X = _rng.standard_normal((32, 3))
MLP_Y = np.sin(MLP_X[:, :1]) + 0.5 * MLP_X[:, 1:2] * MLP_X[:, 2:3]
MLP_WEIGHTS = [_rng.standard_normal(shape) * 0.5 for shape in [(8, 3), (8,), (1, 8), (1,)]]


def mlp_loss(lib, params):
    """A 3-8-1 tanh network regressing a smooth function of its input: mean squared error."""
    hidden = (lib.tensor(MLP_X) @ params[0].T + params[1]).tanh()
    return ((hidden @ params[2].T + params[3] - lib.tensor(MLP_Y)) ** 2).mean()


def mlp_runs(**options) -> Runs:
    return Runs(MLP_WEIGHTS, mlp_loss, **options)


ROSENBROCK_CASES = [
    ([-1.5, 2.0], dict(line_search_fn="strong_wolfe")),
    ([-1.2, 1.0], dict(line_search_fn="strong_wolfe", history_size=3, max_iter=6)),
    ([0.5, -0.5], dict(line_search_fn="strong_wolfe", lr=0.5, max_eval=8)),
    ([-1.5, 2.0], dict(line_search_fn="strong_wolfe", lr=10)),  # long first tries: the zoom phase works
    ([-1.5, 2.0], dict(lr=1, max_iter=5)),
    ([0.1, -0.2], dict(lr=0.1, max_iter=10, history_size=5)),
]


@pytest.mark.parametrize("start, options", ROSENBROCK_CASES)
def test_rosenbrock_matches_torch_after_every_step(start, options):
    runs = rosenbrock_runs(start, **options)
    for step in range(5):
        ours, theirs, _ = runs.step()
        assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-12), f"loss at step {step}"
        runs.assert_same(f"parameters after step {step}")
        state, reference = runs.runs[0][1].state[runs.ours[0]], runs.runs[1][1].state[runs.theirs[0]]
        assert (state["n_iter"], state["func_evals"]) == (reference["n_iter"], reference["func_evals"])


def test_rosenbrock_with_line_search_reaches_the_minimum():
    runs = rosenbrock_runs([-1.5, 2.0], line_search_fn="strong_wolfe")
    for _ in range(6):
        runs.step()
    np.testing.assert_allclose(runs.flat(runs.ours), [1.0, 1.0], atol=1e-5)


@pytest.mark.parametrize("options", [
    dict(),
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", history_size=4, max_iter=10),
    dict(lr=0.5, history_size=5, max_iter=8),
], ids=["fixed-step", "strong-wolfe", "wolfe-short-history", "fixed-short-history"])
def test_mlp_regression_matches_torch_after_every_step(options):
    runs = mlp_runs(**options)
    first = None
    for step in range(4):
        ours, theirs, _ = runs.step()
        first = ours if first is None else first
        assert ours == pytest.approx(theirs, rel=1e-6), f"loss at step {step}"
        runs.assert_same(f"parameters after step {step}")
    assert ours < first / 2  # it did train


def test_state_dict_round_trip_continues_identically():
    runs = mlp_runs(line_search_fn="strong_wolfe", history_size=5)
    for _ in range(2):
        runs.step()
    saved = runs.runs[0][1].state_dict()
    fresh = [dendrite.nn.Parameter(dendrite.tensor(p.detach().numpy().copy())) for p in runs.ours]
    twin = dendrite.optim.LBFGS(fresh, line_search_fn="strong_wolfe", history_size=5)
    twin.load_state_dict(saved)
    runs.step()  # the original goes on

    def closure():
        twin.zero_grad()
        loss = mlp_loss(dendrite, fresh)
        loss.backward()
        return loss
    twin.step(closure)
    np.testing.assert_array_equal(runs.flat(fresh), runs.flat(runs.ours))
    assert len(saved["state"][0]["old_dirs"]) == 5  # the history came along, full


def test_state_dict_is_a_snapshot():
    runs = mlp_runs()
    runs.step()
    saved = runs.runs[0][1].state_dict()
    before = saved["state"][0]["d"].numpy().copy()
    runs.step()
    np.testing.assert_array_equal(saved["state"][0]["d"].numpy(), before)


def test_loads_a_pytorch_lbfgs_state_dict():
    runs = mlp_runs(line_search_fn="strong_wolfe")
    runs.step()
    fresh = [dendrite.nn.Parameter(dendrite.tensor(p.detach().numpy().copy())) for p in runs.theirs]
    ours = dendrite.optim.LBFGS(fresh, line_search_fn="strong_wolfe")
    theirs = runs.runs[1][1]
    ours.load_state_dict(theirs.state_dict())  # torch tensors, and torch's scratch buffer 'al'
    state, reference = ours.state[fresh[0]], theirs.state[runs.theirs[0]]
    assert state["n_iter"] == reference["n_iter"] and "al" not in state
    np.testing.assert_array_equal(state["d"].numpy(), reference["d"].numpy())
    assert len(state["old_dirs"]) == len(reference["old_dirs"]) > 0


def test_load_state_dict_of_another_model_is_refused():
    runs = mlp_runs()
    runs.step()
    other = [dendrite.nn.Parameter(dendrite.ones(size, dtype=dendrite.float64)) for size in (2, 3, 1, 1)]
    message = r"state\['d'\] is float64 of shape \(41,\); expected a flat vector of the 7"
    with pytest.raises(ValueError, match=message):
        dendrite.optim.LBFGS(other).load_state_dict(runs.runs[0][1].state_dict())


def test_a_stationary_start_returns_at_once():
    w = dendrite.nn.Parameter(dendrite.zeros(2, dtype=dendrite.float64))
    opt = dendrite.optim.LBFGS([w])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss
    assert float(opt.step(closure)) == 0.0 and len(calls) == 1 and w.tolist() == [0.0, 0.0]


def test_step_counts_closure_calls_within_max_eval():
    runs = rosenbrock_runs([-1.5, 2.0], line_search_fn="strong_wolfe", max_iter=50, max_eval=12)
    runs.step()
    state = runs.runs[0][1].state[runs.ours[0]]
    assert state["func_evals"] == runs.runs[1][1].state[runs.theirs[0]]["func_evals"]
    assert state["func_evals"] <= 12 + 25  # the line search may finish its own evaluations


def test_errors_name_the_problem():
    w = dendrite.nn.Parameter(dendrite.ones(2))
    with pytest.raises(ValueError, match=r"line_search_fn: 'armijo' \(expected None or 'strong_wolfe'\)"):
        dendrite.optim.LBFGS([w], line_search_fn="armijo")
    with pytest.raises(ValueError, match="learning rate"):
        dendrite.optim.LBFGS([w], lr=-1)
    with pytest.raises(ValueError, match="history_size"):
        dendrite.optim.LBFGS([w], history_size=0)
    with pytest.raises(ValueError, match="parameter groups"):
        dendrite.optim.LBFGS([{"params": [w]}, {"params": [dendrite.nn.Parameter(dendrite.ones(1))]}])
    opt = dendrite.optim.LBFGS([w])
    with pytest.raises(TypeError, match="LBFGS.step needs a closure"):
        opt.step(None)
    with pytest.raises(TypeError, match="the closure returned None"):
        opt.step(lambda: None)


def test_signature_and_defaults_match_torch():
    import inspect

    ours = inspect.signature(dendrite.optim.LBFGS).parameters
    theirs = inspect.signature(torch.optim.LBFGS).parameters
    assert list(ours) == list(theirs)
    for key, parameter in theirs.items():
        if key != "params":
            assert ours[key].default == parameter.default, key
    opt = dendrite.optim.LBFGS([dendrite.nn.Parameter(dendrite.ones(1))], max_iter=8)
    assert opt.defaults["max_eval"] == 10


def test_cubic_interpolation_finds_the_minimum_of_a_cubic():
    # f(x) = x^3 - 3x has its local minimum at x = 1; from samples at 0 and 2 with their slopes
    f, g = (lambda x: x ** 3 - 3 * x), (lambda x: 3 * x ** 2 - 3)
    assert cubic_interpolate(0.0, f(0.0), g(0.0), 2.0, f(2.0), g(2.0)) == pytest.approx(1.0)
    assert cubic_interpolate(2.0, f(2.0), g(2.0), 0.0, f(0.0), g(0.0)) == pytest.approx(1.0)
    assert cubic_interpolate(0.0, f(0.0), g(0.0), 2.0, f(2.0), g(2.0), bounds=(1.5, 3.0)) == 1.5
    # no real minimum (d1^2 < g1 g2): the middle of the bounds
    assert cubic_interpolate(0.0, 0.0, 1.0, 1.0, 2 / 3, 1.0) == 0.5


def test_strong_wolfe_result_satisfies_both_conditions():
    scales = np.array([1.0, 10.0, 100.0])

    def evaluate(x, t, d):
        point = x + t * d
        return float((scales * point ** 4).sum()), 4 * scales * point ** 3

    x = np.array([1.0, -0.5, 0.3])
    loss, grad = evaluate(x, 0.0, x)
    d = -grad
    gtd = float(grad @ d)
    new_loss, new_grad, t, calls = strong_wolfe(evaluate, x, 1.0, d, loss, grad, gtd)
    assert new_loss <= loss + 1e-4 * t * gtd  # sufficient decrease
    assert abs(new_grad @ d) <= 0.9 * abs(gtd)  # curvature
    assert new_loss == evaluate(x, t, d)[0] and calls >= 2


def test_float32_parameters_stay_float32_and_train():
    # Parity in float32 is not testable step by step: PyTorch against itself nudged by one float32
    # ulp already drifts by 1e-3 after two steps of this MLP. What must hold: dtypes, and progress.
    params = [dendrite.nn.Parameter(dendrite.tensor(a.astype(np.float32))) for a in MLP_WEIGHTS]
    opt = dendrite.optim.LBFGS(params, line_search_fn="strong_wolfe")
    x, y = dendrite.tensor(MLP_X.astype(np.float32)), dendrite.tensor(MLP_Y.astype(np.float32))

    def closure():
        opt.zero_grad()
        loss = (((x @ params[0].T + params[1]).tanh() @ params[2].T + params[3] - y) ** 2).mean()
        loss.backward()
        return loss
    first = float(opt.step(closure))
    for _ in range(3):
        last = float(opt.step(closure))
    assert last < first / 4
    assert all(p.dtype == dendrite.float32 for p in params)
    state = opt.state[params[0]]
    assert state["d"].dtype == dendrite.float32 and state["old_dirs"][0].dtype == dendrite.float32
