"""``gradcheck``: compare backprop's gradients with central finite differences.

For every input element x_i the numerical derivative of each output is
``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``; the analytic one comes from
one backward pass per output element. Run it in float64: in float32 the
rounding error of the difference quotient swamps real bugs.
"""

from __future__ import annotations

import warnings

from dendrite.autograd.functional import grad as autograd_grad
from dendrite.autograd.grad_mode import no_grad
from dendrite.backend import xp
from dendrite.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with the numerical one."""


def _outputs(fn, inputs):
    result = fn(*inputs)
    return [result] if isinstance(result, Tensor) else [r for r in result if isinstance(r, Tensor)]


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Check the gradients of ``fn(*inputs)`` against finite differences.

    ``inputs``: a tensor or a tuple of tensors (float64 recommended); only
    those with ``requires_grad=True`` are checked. On a mismatch the error
    names the input, the element index and both values.

    Example:
        >>> import dendrite
        >>> x = dendrite.randn(3, dtype=dendrite.float64, requires_grad=True)
        >>> dendrite.autograd.gradcheck(lambda t: (t * t).sum(), (x,))
        True
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for i in checked:
        if inputs[i].dtype != xp.float64:
            warnings.warn(
                f"gradcheck: input {i} is {inputs[i].dtype}; use float64 for a meaningful check",
                stacklevel=2,
            )
    outputs = _outputs(fn, inputs)
    for out_index, output in enumerate(outputs):
        flat_size = output.numel()
        analytic = {i: xp.zeros((flat_size, inputs[i].numel())) for i in checked}
        for k in range(flat_size):
            seed = xp.zeros(output.shape, output.dtype)
            seed.reshape(-1)[k] = 1.0
            fresh = _outputs(fn, inputs)[out_index]
            if not fresh.requires_grad:
                continue
            grads = autograd_grad(fresh, [inputs[i] for i in checked], grad_outputs=[Tensor(seed)],
                                  allow_unused=True)
            for i, g in zip(checked, grads):
                if g is not None:
                    analytic[i][k] = g._data.reshape(-1)
        for i in checked:
            data = inputs[i]._data
            flat = data.reshape(-1)
            for j in range(flat.size):
                original = flat[j]
                with no_grad():
                    flat[j] = original + eps
                    plus = _outputs(fn, inputs)[out_index]._data.astype(xp.float64).reshape(-1)
                    flat[j] = original - eps
                    minus = _outputs(fn, inputs)[out_index]._data.astype(xp.float64).reshape(-1)
                flat[j] = original
                numerical = (plus - minus) / (2 * eps)
                for k in range(flat_size):
                    a, n = analytic[i][k, j], numerical[k]
                    if not abs(a - n) <= atol + rtol * abs(n):
                        element = xp.unravel_index(j, data.shape) if data.ndim else ()
                        message = (
                            f"gradcheck failed: d(output {out_index}[{k}]) / d(input {i}"
                            f"{list(element)}): analytic (backward) = {a:.10g}, numerical "
                            f"(finite differences, eps={eps}) = {n:.10g}, difference "
                            f"{abs(a - n):.3g} > atol {atol} + rtol {rtol} * |numerical|"
                        )
                        if raise_exception:
                            raise GradcheckError(message)
                        return False
    return True
