"""L-BFGS: a quasi-Newton method that builds a curvature model from the last few steps.

Newton's method steps by ``-H^-1 g`` (``H`` the Hessian). BFGS never forms ``H``: it keeps an
approximation of ``H^-1`` updated from each step ``s = x_new - x`` and gradient change
``y = g_new - g``. *Limited-memory* BFGS keeps only the last ``history_size`` pairs
``(s_i, y_i)`` and applies the approximation to the gradient with the **two-loop recursion**
(Nocedal & Wright, algorithm 7.4), with ``rho_i = 1 / (y_i . s_i)``::

    q = -g
    for i = newest .. oldest:   alpha_i = rho_i (s_i . q);   q = q - alpha_i y_i
    r = gamma q                 gamma = (s . y) / (y . y) of the newest pair: the initial H^-1
    for i = oldest .. newest:   beta_i = rho_i (y_i . r);    r = r + (alpha_i - beta_i) s_i
    d = r                       the search direction, ~ -H^-1 g

A pair is only kept when ``y . s > 1e-10`` (positive curvature), which keeps the approximation
positive definite, so ``d`` descends. The step along ``d`` is ``lr`` (the first iteration
``min(1, 1 / sum|g|) lr``), or the one found by the strong-Wolfe line search
(:mod:`dendrite.optim.line_search`) when ``line_search_fn="strong_wolfe"``.

One ``step(closure)`` runs up to ``max_iter`` such iterations, calling the closure (which
recomputes the loss and its gradients) at most about ``max_eval`` times; it stops early when
the gradient, the step or the change in loss falls under its tolerance. This is PyTorch's
``torch.optim.LBFGS`` (itself from minFunc), branch for branch, so the parameters after each
``step`` are PyTorch's to rounding.

All parameters are handled as one flat vector (the concatenation of every parameter), so the
optimizer has one parameter group and its state is one entry, stored, as in PyTorch, under the
first parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dendrite import backend
from dendrite.backend import xp
from dendrite.optim.line_search import strong_wolfe
from dendrite.optim.optimizer import Optimizer, check_option
from dendrite.tensor import Tensor, wrap

__all__ = ["LBFGS"]

_FLAT = ("d", "prev_flat_grad")  # state entries that are one flat vector
_HISTORY = ("old_dirs", "old_stps")  # state entries that are lists of flat vectors
_SCALARS = ("t", "H_diag", "prev_loss")


def _as_float(loss) -> float:
    if loss is None:
        raise TypeError("LBFGS: the closure returned None; it must return the loss "
                        "(zero_grad, compute the loss, loss.backward(), return loss)")
    return float(loss)


class LBFGS(Optimizer):
    """Limited-memory BFGS, as ``torch.optim.LBFGS``; ``step`` needs a closure.

    Args:
        params: the tensors to optimize (one group only: L-BFGS treats them as one vector).
        lr: the step length along the L-BFGS direction (default 1), or the line search's first try.
        max_iter: most iterations per ``step`` (default 20).
        max_eval: most closure calls per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when ``max |g| <= tolerance_grad`` (default 1e-7).
        tolerance_change: stop when the step, or the change of the loss, is smaller (default 1e-9).
        history_size: how many ``(s, y)`` pairs to remember (default 100); memory is
            ``(2 history_size + 2) x`` the parameters.
        line_search_fn: ``None`` (fixed step ``lr``) or ``"strong_wolfe"``.

    ``step(closure)``: the closure clears the gradients, computes the loss, calls
    ``backward()`` and returns the loss; ``step`` returns the loss of its *first* evaluation.

    Example:
        >>> import dendrite
        >>> x = dendrite.nn.Parameter(dendrite.tensor([-1.5, 2.0], dtype=dendrite.float64))
        >>> opt = dendrite.optim.LBFGS([x], line_search_fn="strong_wolfe")
        >>> def closure():   # the Rosenbrock function, minimum 0 at (1, 1)
        ...     opt.zero_grad()
        ...     loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        ...     loss.backward()
        ...     return loss
        >>> for _ in range(5):
        ...     _ = opt.step(closure)
        >>> [round(value, 4) for value in x.tolist()]
        [1.0, 1.0]
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        check_option("LBFGS", lr >= 0.0, "learning rate", lr, "lr >= 0")
        check_option("LBFGS", isinstance(max_iter, int) and max_iter >= 1, "max_iter", max_iter,
                     "an int >= 1")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        check_option("LBFGS", isinstance(max_eval, int) and max_eval >= 1, "max_eval", max_eval,
                     "an int >= 1, or None for max_iter * 5 // 4")
        check_option("LBFGS", isinstance(history_size, int) and history_size >= 1, "history_size",
                     history_size, "an int >= 1")
        check_option("LBFGS", line_search_fn in (None, "strong_wolfe"), "line_search_fn", line_search_fn,
                     "None or 'strong_wolfe'")
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): it treats all "
                             "parameters as one vector; pass one list of tensors")
        self._params: list[Tensor] = self.param_groups[0]["params"]

    # ------------------------------------------------------------------ the flat vector
    def _gather_flat_grad(self):
        """Every parameter's gradient, flattened and joined: shape ``(n,)`` (zeros where none)."""
        return xp.concatenate([p.grad.array.reshape(-1) if p.grad is not None
                               else backend.namespace(p.array).zeros(
                                   p.numel(), p.array.dtype) for p in self._params])

    def _add_grad(self, step_size, direction) -> None:
        """``x += step_size * direction``, parameter by parameter, in place."""
        offset = 0
        for p in self._params:
            count = p.numel()
            p.array[...] += step_size * direction[offset: offset + count].reshape(p.shape)
            offset += count

    def _directional_evaluate(self, closure, x: list, t, d):
        """The loss and flat gradient at ``x + t d``; the parameters are put back to ``x``."""
        self._add_grad(t, d)
        loss = self._loss(closure)
        flat_grad = self._gather_flat_grad()
        for p, saved in zip(self._params, x):
            p.array[...] = saved
        return loss, flat_grad

    def _loss(self, closure) -> float:
        return _as_float(self._evaluate(closure))

    # ------------------------------------------------------------------ one step
    def step(self, closure: Callable[[], Any]):  # type: ignore[override]
        """Run up to ``max_iter`` L-BFGS iterations; returns the closure's first loss.

        Example:
            >>> import dendrite
            >>> w = dendrite.nn.Parameter(dendrite.tensor([4.0], dtype=dendrite.float64))
            >>> opt = dendrite.optim.LBFGS([w])
            >>> def closure():
            ...     opt.zero_grad()
            ...     loss = ((w - 1) ** 2).sum()
            ...     loss.backward()
            ...     return loss
            >>> float(opt.step(closure)), round(w.item(), 6)
            (9.0, 1.0)
        """
        if not callable(closure):
            raise TypeError("LBFGS.step needs a closure: a function that clears the gradients, computes the "
                            "loss, calls loss.backward() and returns the loss; L-BFGS evaluates it several "
                            f"times per step (got {type(closure).__name__})")
        if len(self.param_groups) != 1:
            raise ValueError(f"LBFGS works on one parameter group, but has {len(self.param_groups)}")
        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        original_loss = self._evaluate(closure)
        loss = _as_float(original_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if xp.abs(flat_grad).max() <= tolerance_grad:
            return original_loss  # already at a stationary point

        # The history, as flat arrays (the state holds tensors wrapping them, without copies).
        d = state["d"].array if "d" in state else None
        t = state.get("t")
        old_dirs = [v.array for v in state.get("old_dirs", [])]
        old_stps = [v.array for v in state.get("old_stps", [])]
        ro = list(state.get("ro", []))
        H_diag = state.get("H_diag")
        prev_flat_grad = state["prev_flat_grad"].array if "prev_flat_grad" in state else None
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # ---- the direction d ~ -H^-1 g
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad  # change of the gradient
                s = d * t  # the step taken
                ys = y.dot(s)
                if ys > 1e-10:  # positive curvature: remember the pair
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)  # gamma, the scale of the initial inverse Hessian
                d = self._two_loop(flat_grad, old_dirs, old_stps, ro, H_diag)

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            # ---- the step length t
            t = min(1.0, 1.0 / xp.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)  # the slope along d
            if gtd > -tolerance_change:
                break  # d no longer descends

            evaluations = 0
            if line_search_fn is not None:
                x_init = [p.array.copy() for p in self._params]

                def evaluate(x, step_size, direction):
                    return self._directional_evaluate(closure, x, step_size, direction)

                loss, flat_grad, t, evaluations = strong_wolfe(
                    evaluate, x_init, t, d, loss, flat_grad, float(gtd), max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                optimal = xp.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                optimal = False
                if n_iter != max_iter:
                    # Not after the last iteration: with mini-batches the loss would be stale anyway.
                    loss = self._loss(closure)
                    flat_grad = self._gather_flat_grad()
                    optimal = xp.abs(flat_grad).max() <= tolerance_grad
                    evaluations = 1
            current_evals += evaluations
            state["func_evals"] += evaluations

            # ---- stop?
            if n_iter == max_iter or current_evals >= max_eval or optimal:
                break
            if xp.abs(d * t).max() <= tolerance_change:
                break  # the step is negligible
            if abs(loss - prev_loss) < tolerance_change:
                break  # the loss no longer changes

        state["d"], state["t"] = wrap(d), float(t)
        state["old_dirs"] = [wrap(v) for v in old_dirs]
        state["old_stps"] = [wrap(v) for v in old_stps]
        state["ro"] = [float(value) for value in ro]
        state["H_diag"] = float(H_diag)
        state["prev_flat_grad"], state["prev_loss"] = wrap(prev_flat_grad), float(prev_loss)
        return original_loss

    @staticmethod
    def _two_loop(flat_grad, old_dirs: list, old_stps: list, ro: list, H_diag):
        """The two-loop recursion: ``-H^-1 g`` from the pairs ``(s_i, y_i)`` (see the module docstring)."""
        alphas = [0.0] * len(old_dirs)
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):  # newest to oldest
            alphas[i] = old_stps[i].dot(q) * ro[i]
            q -= alphas[i] * old_dirs[i]
        r = q * H_diag
        for i in range(len(old_dirs)):  # oldest to newest
            beta = old_dirs[i].dot(r) * ro[i]
            r += (alphas[i] - beta) * old_stps[i]
        return r

    # ------------------------------------------------------------------ state dicts
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from :meth:`state_dict`, or from ``torch.optim.LBFGS.state_dict()``.

        The history vectors are checked against the total number of parameters and cast to
        the parameters' dtype; PyTorch's scratch buffer ``al`` is not needed and is dropped.

        Example:
            >>> import dendrite
            >>> w = dendrite.nn.Parameter(dendrite.ones(3))
            >>> opt = dendrite.optim.LBFGS([w])
            >>> def closure():
            ...     opt.zero_grad()
            ...     loss = (w * w).sum()
            ...     loss.backward()
            ...     return loss
            >>> _ = opt.step(closure)
            >>> twin = dendrite.optim.LBFGS([dendrite.nn.Parameter(dendrite.ones(3))])
            >>> twin.load_state_dict(opt.state_dict())
            >>> twin.state_dict()["state"][0]["n_iter"] == opt.state_dict()["state"][0]["n_iter"]
            True
        """
        if not isinstance(state_dict, dict) or not isinstance(state_dict.get("state"), dict):
            raise ValueError("LBFGS.load_state_dict expects a dict with keys 'state' and 'param_groups' "
                             "(as returned by state_dict())")
        super().load_state_dict({**state_dict, "state": {}})
        self._params = self.param_groups[0]["params"]
        first = state_dict["param_groups"][0]["params"][0]
        saved = state_dict["state"].get(first)
        if saved is None:
            return
        if not isinstance(saved, dict):
            raise ValueError(f"LBFGS.load_state_dict: state[{first!r}] is a {type(saved).__name__}, "
                             "not a dict")
        self.state[self._params[0]] = self._restore(saved)

    def _restore(self, saved: dict) -> dict[str, Any]:
        total = sum(p.numel() for p in self._params)
        dtype = self._params[0].array.dtype

        def vector(value, where: str):
            array = value.array if isinstance(value, Tensor) else backend.asarray(value)
            if array.shape != (total,) or array.dtype.kind not in "biuf":
                raise ValueError(f"LBFGS.load_state_dict: {where} is {array.dtype} of shape "
                                 f"{tuple(array.shape)}; expected a flat vector of the {total} parameters: "
                                 "this state belongs to another model")
            return wrap(xp.array(array, dtype=dtype, copy=True))

        state: dict[str, Any] = {}
        for key, value in saved.items():
            if key in _FLAT:
                state[key] = vector(value, f"state[{key!r}]")
            elif key in _HISTORY:
                state[key] = [vector(item, f"state[{key!r}][{index}]") for index, item in enumerate(value)]
            elif key == "ro":
                state[key] = [float(item) for item in value]
            elif key in _SCALARS:
                state[key] = float(value)
            elif key in ("func_evals", "n_iter"):
                state[key] = int(value)
            elif key != "al":  # PyTorch's scratch buffer for the two-loop recursion
                raise ValueError(f"LBFGS.load_state_dict: unknown state entry {key!r}; expected "
                                 "func_evals, n_iter, d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, "
                                 "prev_loss")
        return state
