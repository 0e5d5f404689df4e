"""The strong-Wolfe line search of :class:`~dendrite.optim.LBFGS`, with cubic interpolation.

Given a point ``x``, a descent direction ``d`` and the loss along it, ``phi(t) = f(x + t d)``
with slope ``phi'(t) = grad f(x + t d) . d``, find a step ``t`` that satisfies the *strong
Wolfe conditions* (Nocedal & Wright, *Numerical Optimization*, algorithms 3.5 and 3.6)::

    phi(t) <= phi(0) + c1 t phi'(0)          sufficient decrease (Armijo), c1 = 1e-4
    |phi'(t)| <= c2 |phi'(0)|                 curvature: the slope has flattened, c2 = 0.9

It runs in two phases, as PyTorch's ``torch.optim.lbfgs._strong_wolfe`` (itself a port of
Torch7's ``lswolfe.lua``), whose every branch this follows so the steps are the same:

1. *bracketing*: grow ``t`` (by cubic extrapolation, between ``1.01 t`` and ``10 t``) until
   either ``t`` satisfies both conditions, or an interval ``[t_prev, t]`` is known to contain
   such a point (the loss went up, or the slope turned non-negative);
2. *zoom*: shrink that interval by cubic interpolation until a point satisfies both
   conditions, the interval is shorter than ``tolerance_change``, or the evaluations run out.

Everything here works on flat NumPy arrays; the caller's ``evaluate(x, t, d)`` returns the loss
(a float) and the flat gradient at ``x + t d``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from dendrite.backend import xp

__all__ = ["cubic_interpolate", "strong_wolfe"]


def cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                      bounds: tuple[float, float] | None = None) -> float:
    """The minimizer of the cubic through ``(x1, f1)``, ``(x2, f2)`` with slopes ``g1``, ``g2``.

    With ``x2`` the point farther along::

        d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2)
        d2 = sqrt(d1^2 - g1 g2)
        t  = x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2)

    clipped to ``bounds`` (default: the interval between the two points). When ``d1^2 < g1 g2``
    the cubic has no minimum and the midpoint of the bounds is returned.

    Example:
        >>> # f(x) = (x - 1)^2 sampled at 0 and 3: the cubic is the parabola, minimum at 1
        >>> cubic_interpolate(0.0, 1.0, -2.0, 3.0, 4.0, 4.0)
        1.0
    """
    if bounds is not None:
        low, high = bounds
    else:
        low, high = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            minimum = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            minimum = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(minimum, low), high)
    return (low + high) / 2.0


def strong_wolfe(evaluate: Callable[[xp.ndarray, float, xp.ndarray], tuple[float, xp.ndarray]],
                 x: xp.ndarray, t: float, d: xp.ndarray, loss: float, grad: xp.ndarray, gtd: float,
                 c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9,
                 max_ls: int = 25) -> tuple[float, xp.ndarray, float, int]:
    """Search along ``d`` from ``x`` for a step that satisfies the strong Wolfe conditions.

    Args:
        evaluate: ``evaluate(x, t, d) -> (loss, flat_grad)`` at ``x + t d`` (it must leave the
            parameters at ``x`` afterwards).
        x: the starting point (whatever ``evaluate`` needs to restore it).
        t: the first step to try.
        d: the search direction, flat, shape ``(n,)``.
        loss, grad, gtd: the loss, flat gradient ``(n,)`` and slope ``grad . d`` at ``x``
            (``gtd < 0``: ``d`` descends).
        c1, c2: the Armijo and curvature constants (``0 < c1 < c2 < 1``).
        tolerance_change: stop zooming when the interval times ``max |d|`` is smaller.
        max_ls: the most evaluations to spend.

    Returns:
        ``(loss, flat_grad, t, evaluations)`` at the step found (the best one seen if none
        satisfies both conditions).

    Example:
        >>> from dendrite.backend import xp
        >>> def evaluate(x, t, d):   # f(x) = sum(x^2)
        ...     point = x + t * d
        ...     return float(point @ point), 2 * point
        >>> x = xp.array([3.0, 4.0]); grad = 2 * x; d = -grad
        >>> loss, grad_new, t, calls = strong_wolfe(evaluate, x, 1.0, d, 25.0, grad, float(grad @ d))
        >>> round(t, 6), round(loss, 6), calls   # the exact minimizer x + t d = 0
        (0.5, 0.0, 2)
    """
    d_norm = float(xp.abs(d).max())
    grad = grad.copy()
    loss_new, grad_new = evaluate(x, t, d)
    evaluations = 1
    gtd_new = float(grad_new.dot(d))

    # Phase 1: bracket an interval that contains a point satisfying the conditions.
    t_prev, loss_prev, grad_prev, gtd_prev = 0.0, loss, grad, gtd
    done = False
    iteration = 0
    while iteration < max_ls:
        if loss_new > loss + c1 * t * gtd or (iteration > 1 and loss_new >= loss_prev):
            bracket, bracket_loss = [t_prev, t], [loss_prev, loss_new]
            bracket_grad, bracket_gtd = [grad_prev, grad_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_loss, bracket_grad = [t], [loss_new], [grad_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_loss = [t_prev, t], [loss_prev, loss_new]
            bracket_grad, bracket_gtd = [grad_prev, grad_new.copy()], [gtd_prev, gtd_new]
            break
        # Still descending and still decreasing: extrapolate to a longer step.
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        previous = t
        t = cubic_interpolate(t_prev, loss_prev, gtd_prev, t, loss_new, gtd_new, bounds=(min_step, max_step))
        t_prev, loss_prev, grad_prev, gtd_prev = previous, loss_new, grad_new.copy(), gtd_new
        loss_new, grad_new = evaluate(x, t, d)
        evaluations += 1
        gtd_new = float(grad_new.dot(d))
        iteration += 1
    if iteration >= max_ls:  # out of evaluations while bracketing
        bracket, bracket_loss, bracket_grad = [0.0, t], [loss, loss_new], [grad, grad_new]

    # Phase 2: zoom into the bracket; "low" is its end with the smaller loss.
    insufficient_progress = False
    low, high = (0, 1) if bracket_loss[0] <= bracket_loss[-1] else (1, 0)
    while not done and iteration < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(bracket[0], bracket_loss[0], bracket_gtd[0],
                              bracket[1], bracket_loss[1], bracket_gtd[1])
        # A trial within 10% of an end makes little progress; twice in a row (or at the end
        # itself), move it to 10% inside the interval instead.
        top, bottom = max(bracket), min(bracket)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            if insufficient_progress or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False

        loss_new, grad_new = evaluate(x, t, d)
        evaluations += 1
        gtd_new = float(grad_new.dot(d))
        iteration += 1

        if loss_new > loss + c1 * t * gtd or loss_new >= bracket_loss[low]:
            # Not a sufficient decrease, or no better than the low end: t becomes the high end.
            bracket[high], bracket_loss[high] = t, loss_new
            bracket_grad[high], bracket_gtd[high] = grad_new.copy(), gtd_new
            low, high = (0, 1) if bracket_loss[0] <= bracket_loss[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # both Wolfe conditions hold
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                # The slope at t points back past the low end: the old low becomes the high end.
                bracket[high], bracket_loss[high] = bracket[low], bracket_loss[low]
                bracket_grad[high], bracket_gtd[high] = bracket_grad[low], bracket_gtd[low]
            bracket[low], bracket_loss[low] = t, loss_new
            bracket_grad[low], bracket_gtd[low] = grad_new.copy(), gtd_new

    return bracket_loss[low], bracket_grad[low], bracket[low], evaluations
