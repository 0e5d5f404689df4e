"""Checkers for lesson 9, optimization.

1. :func:`largest_stable_lr`: the largest learning rate for which gradient descent converges on a
   quadratic whose curvatures (Hessian eigenvalues) are given: ``2 / max(curvatures)``.
2. :func:`momentum_step`: one step of SGD with momentum written as PyTorch (and ``dendrite.optim.SGD``)
   does it: ``buf = momentum * buf + grad``, ``param = param - lr * buf``.
3. :func:`adam_step`: one Adam step with its bias correction, compared with ``dendrite.optim.Adam``.

The reference answers are the real optimisers: each checker steps ``dendrite.optim`` on the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

import dendrite
from dendrite.lessons.verdict import Verdict, correct, exercise, unanswered, wrong

__all__ = ["largest_stable_lr", "momentum_step", "adam_step"]

_GRADS = np.array([[0.5, -2.0, 1.0], [0.3, -1.0, -2.0], [-0.4, 1.5, 0.25], [1.0, 0.0, -0.5]])


def _array(value, shape: tuple[int, ...]) -> np.ndarray | None:
    try:
        if hasattr(value, "numpy"):
            value = value.detach().numpy() if hasattr(value, "detach") else value.numpy()
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array if array.shape == shape else None


def _pair(result, count: int, shape: tuple[int, ...]) -> list[np.ndarray] | str:
    """The learner's tuple of ``count`` arrays, or a message saying what is wrong with it."""
    if not isinstance(result, (tuple, list)) or len(result) != count:
        return f"return a tuple of {count} arrays, got {type(result).__name__}"
    arrays = [_array(item, shape) for item in result]
    if any(array is None for array in arrays):
        return f"each returned value should be an array of shape {shape}, like the parameter"
    return arrays


def _has_placeholder(result) -> bool:
    return isinstance(result, (tuple, list)) and any(item is Ellipsis for item in result)


def _sgd_reference(lr: float, momentum: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """(param, buffer) after each step of dendrite.optim.SGD on the fixed gradients."""
    param = dendrite.nn.Parameter(dendrite.tensor([1.0, 2.0, -1.0], dtype=dendrite.float64))
    opt = dendrite.optim.SGD([param], lr=lr, momentum=momentum)
    states = []
    for grad in _GRADS:
        param.grad = dendrite.tensor(grad, dtype=dendrite.float64)
        opt.step()
        buffer = opt.state[param]["momentum_buffer"]
        states.append((param.detach().numpy().copy(), np.asarray(buffer.numpy(), dtype=np.float64).copy()))
    return states


@exercise("Lesson 9, exercise 2: one step of SGD with momentum")
def momentum_step(answer: Callable) -> Verdict:
    """Check ``answer(param, grad, buf, lr, momentum) -> (new_param, new_buf)`` against ``optim.SGD``.

    ``buf`` starts as zeros. The answer is run for four steps in a row, feeding its own outputs back.

    Example:
        >>> def step(param, grad, buf, lr, momentum):
        ...     buf = momentum * buf + grad
        ...     return param - lr * buf, buf
        >>> momentum_step(step).status
        'correct'
        >>> momentum_step(lambda p, g, b, lr, mu: (p - lr * g, b)).status
        'wrong'
    """
    lr, momentum = 0.1, 0.9
    reference = _sgd_reference(lr, momentum)
    param, buf = np.array([1.0, 2.0, -1.0]), np.zeros(3)
    for step, (grad, (want_param, want_buf)) in enumerate(zip(_GRADS, reference), start=1):
        old_param, old_buf = param, buf
        raw = answer(param.copy(), grad.copy(), buf.copy(), lr, momentum)
        if _has_placeholder(raw):
            return unanswered("your function still returns ... in its result: write the new values, "
                              "then run the cell again")
        result = _pair(raw, 2, (3,))
        if isinstance(result, str):
            return wrong(result + ": (new_param, new_buf)")
        param, buf = result
        if np.allclose(param, want_param, atol=1e-9) and np.allclose(buf, want_buf, atol=1e-9):
            continue
        at = f"at step {step} (lr={lr}, momentum={momentum})"
        if np.allclose(buf, momentum * old_buf + (1 - momentum) * grad, atol=1e-9):
            return wrong(f"{at} your buffer is an average, momentum * buf + (1 - momentum) * grad. PyTorch "
                         "adds the whole gradient (no dampening), so its steps grow to about "
                         "lr * grad / (1 - momentum) on a steady slope")
        if np.allclose(buf, momentum * old_buf - lr * grad, atol=1e-9):
            return wrong(f"{at} your buffer is the velocity form v = momentum * v - lr * grad. "
                         "PyTorch's buffer holds no learning rate and no minus sign: lr multiplies the "
                         "buffer in the parameter's update")
        if np.allclose(param, old_param - lr * grad, atol=1e-9):
            return wrong(f"{at} your step is plain SGD, param - lr * grad: the buffer has no effect. Add "
                         "momentum * buf to the gradient to get the new buffer, and step along the buffer")
        if np.allclose(buf, want_buf, atol=1e-9) and np.allclose(param, old_param - lr * old_buf, atol=1e-9):
            return wrong(f"{at} your buffer is right, but the parameter moved along the old buffer: update "
                         "the buffer first, then step along the new one")
        if np.allclose(buf, want_buf, atol=1e-9) and np.allclose(param, old_param + lr * buf, atol=1e-9):
            return wrong(f"{at} your parameter moves up the slope: subtract lr * buf")
        if np.allclose(buf, want_buf, atol=1e-9):
            return wrong(f"{at} the buffer is right but the new parameter is {np.round(param, 4).tolist()}; "
                         f"expected a step of -lr * buf from {old_param.round(4).tolist()}")
        return wrong(f"{at} the new buffer is {np.round(buf, 4).tolist()}; it should be the old buffer times "
                     "momentum plus the gradient")
    return correct("right: buf = momentum * buf + grad; param -= lr * buf, exactly what "
                   "dendrite.optim.SGD (and torch.optim.SGD) do. On a steady slope the steps grow to "
                   "lr * grad / (1 - momentum): 10 times plain SGD's at momentum 0.9.")


_CURVATURES = ((1.0, 25.0), (4.0,), (0.5, 2.0, 10.0), (3.0, 3.0), (100.0, 0.01))


@exercise("Lesson 9, exercise 1: the largest stable learning rate")
def largest_stable_lr(answer: Callable) -> Verdict:
    """Check ``answer(curvatures)``: the learning rate at which gradient descent stops converging on
    ``f(x) = 0.5 * sum(c_i * x_i^2)`` (``curvatures`` a tuple of the ``c_i > 0``).

    Example:
        >>> largest_stable_lr(lambda curvatures: 2 / max(curvatures)).status
        'correct'
        >>> largest_stable_lr(lambda curvatures: 1 / max(curvatures)).status
        'wrong'
    """
    for curvatures in _CURVATURES:
        raw = answer(tuple(curvatures))
        if isinstance(raw, (str, bool)):
            return wrong(f"for curvatures {curvatures} your function returned {raw!r}; expected one number")
        try:
            got = float(raw.item() if hasattr(raw, "item") else raw)
        except (TypeError, ValueError):
            return wrong(f"for curvatures {curvatures} your function returned {raw!r}; expected one number")
        top = max(curvatures)
        expected = 2 / top
        if math.isclose(got, expected, rel_tol=1e-6):
            continue
        at = f"for curvatures {curvatures} you return {got:.4g}"
        if math.isclose(got, 1 / top, rel_tol=1e-6):
            return wrong(f"{at}: with that rate the steepest direction reaches its minimum in one step, the "
                         "best rate for it; but gradient descent still converges above it, zig-zagging. "
                         "Where does |1 - lr * c| reach 1?")
        if len(set(curvatures)) > 1 and math.isclose(got, 2 / min(curvatures), rel_tol=1e-6):
            return wrong(f"{at}: the flattest direction would be stable, but the steepest one blows up "
                         "first. Which curvature sets the limit?")
        if math.isclose(got, 2 / sum(curvatures), rel_tol=1e-6) or math.isclose(
                got, 2 / float(np.mean(curvatures)), rel_tol=1e-6):
            return wrong(f"{at}: each direction has its own limit, from its own curvature; the rate must "
                         "satisfy all of them at once")
        if math.isclose(got, 2 * top, rel_tol=1e-6) or math.isclose(got, top / 2, rel_tol=1e-6):
            return wrong(f"{at}: a steeper valley needs a smaller step, so the limit falls as the curvature "
                         "grows")
        return wrong(f"{at}. One step multiplies x_i by (1 - lr * c_i): find the largest lr for which every "
                     "factor has size below 1")
    return correct("right: lr < 2 / (largest curvature). On the bowl 0.5 (x^2 + 25 y^2) that is "
                   "2 / 25 = 0.08, while the flat x direction would bear 2: the steep direction caps the "
                   "rate, and the flat one then crawls. That is what momentum and Adam are for.")


def _adam_reference(lr: float, betas: tuple[float, float], eps: float) -> list[np.ndarray]:
    param = dendrite.nn.Parameter(dendrite.tensor([1.0, 2.0, -1.0], dtype=dendrite.float64))
    opt = dendrite.optim.Adam([param], lr=lr, betas=betas, eps=eps)
    params = []
    for grad in _GRADS:
        param.grad = dendrite.tensor(grad, dtype=dendrite.float64)
        opt.step()
        params.append(param.detach().numpy().copy())
    return params


def _adam_variant(lr, betas, eps, correct_m: bool, correct_v: bool, shift: int = 0) -> list[np.ndarray]:
    """Adam by hand with optional bias corrections (``shift=-1``: steps counted from 0), for the hints."""
    beta1, beta2 = betas
    param, m, v, params = np.array([1.0, 2.0, -1.0]), np.zeros(3), np.zeros(3), []
    with np.errstate(divide="ignore", invalid="ignore"):
        for t, grad in enumerate(_GRADS, start=1 + shift):
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad**2
            m_hat = m / (1 - beta1**t) if correct_m else m
            v_hat = v / (1 - beta2**t) if correct_v else v
            param = param - lr * m_hat / (np.sqrt(v_hat) + eps)
            params.append(param)
    return params


@exercise("Lesson 9, exercise 3: Adam's bias correction")
def adam_step(answer: Callable) -> Verdict:
    """Check ``answer(param, grad, m, v, t, lr, beta1, beta2, eps) -> (param, m, v)`` against ``optim.Adam``.

    ``t`` is the step number (1 on the first step); ``m`` and ``v`` start as zeros. Four steps are run
    in a row, feeding the answer's outputs back.

    Example:
        >>> import numpy as np
        >>> def step(param, grad, m, v, t, lr, beta1, beta2, eps):
        ...     m = beta1 * m + (1 - beta1) * grad
        ...     v = beta2 * v + (1 - beta2) * grad**2
        ...     m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        ...     return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
        >>> adam_step(step).status
        'correct'
    """
    lr, betas, eps = 0.1, (0.9, 0.999), 1e-8
    reference = _adam_reference(lr, betas, eps)
    hints = [
        (_adam_variant(lr, betas, eps, False, False), "there is no bias correction: at step 1, "
         "m = 0.1 * grad and v = 0.001 * grad^2 are far smaller than the gradient's real moments because "
         "they started at 0. By what must each be divided so that at t = 1 they equal grad and grad^2, "
         "and the division fades out as t grows?"),
        (_adam_variant(lr, betas, eps, True, False), "only m is corrected: v also started at 0, and since "
         "beta2 is so close to 1, its correction matters for many more steps"),
        (_adam_variant(lr, betas, eps, False, True), "only v is corrected: m also started at 0 and needs "
         "its own correction"),
    ]
    param, m, v = np.array([1.0, 2.0, -1.0]), np.zeros(3), np.zeros(3)
    for t, (grad, want) in enumerate(zip(_GRADS, reference), start=1):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            raw = answer(param.copy(), grad.copy(), m.copy(), v.copy(), t, lr, betas[0], betas[1], eps)
        if _has_placeholder(raw):
            return unanswered("your function still returns ... for the new parameter: write the bias "
                              "correction and the update, then run the cell again")
        result = _pair(raw, 3, (3,))
        if isinstance(result, str):
            return wrong(result + ": (new_param, new_m, new_v)")
        param, m, v = result
        if np.allclose(param, want, rtol=1e-7, atol=1e-9):
            continue
        if not np.isfinite(param).all():
            return wrong(f"at step t={t} your parameter is not finite: does a correction divide by "
                         "1 - beta^t with t = 0? The first step has t = 1")
        for path, hint in hints:
            if np.allclose(param, path[t - 1], rtol=1e-7, atol=1e-9):
                return wrong(f"at step t={t}: {hint}")
        if t == 1:
            return wrong(f"at step t={t} the parameter is {np.round(param, 5).tolist()}, expected another "
                         "value. On the first step, with both corrections, m_hat = grad and "
                         "v_hat = grad^2, so each coordinate moves by about lr against the sign of its "
                         "gradient")
        return wrong(f"at step t={t} the parameter is {np.round(param, 5).tolist()}, expected another value: "
                     "check m, v, both corrections and the step param - lr * m_hat / (sqrt(v_hat) + eps)")
    return correct("right: dividing by 1 - beta^t undoes the pull towards the zeros that m and v start from. "
                   "Without it Adam's first steps are tiny (m is 10 % of the gradient) or, for v alone, "
                   "huge; with it the first step moves every coordinate by about lr.")
