"""``gradcheck``, ``gradgradcheck``: compare backprop's gradients with central finite differences.

For every input element x_j the numerical derivative of each output is
``(f(x + eps e_j) - f(x - eps e_j)) / (2 eps)``; the analytic one comes from
one backward pass per output element. Run it in float64: in float32 the
rounding error of the difference quotient swamps real bugs.

``gradgradcheck`` applies the same check to the gradient itself (computed with
``create_graph=True``), as a function of the inputs and of the output gradients:
it checks every ``backward_graph`` the double backward runs through.
"""

from __future__ import annotations

import warnings

from dendrite import backend
from dendrite.autograd.functional import grad as autograd_grad
from dendrite.autograd.grad_mode import enable_grad, no_grad
from dendrite.backend import xp
from dendrite.tensor_base import TensorBase, wrap


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with the numerical one.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([0.0], dtype=dendrite.float64, requires_grad=True)
        >>> try:  # relu's kink: backward says 0 at 0, finite differences say 0.5
        ...     dendrite.autograd.gradcheck(dendrite.relu, (x,))
        ... except dendrite.autograd.GradcheckError as error:
        ...     print(str(error).splitlines()[0])
        gradcheck failed for d(output 0[0]) / d(input 0[0]):
    """


def _outputs(fn, inputs) -> list:
    result = fn(*inputs)
    return [result] if isinstance(result, TensorBase) else [r for r in result if isinstance(r, TensorBase)]


def _analytic(fn, inputs, checked, out_index: int):
    """Jacobian rows of output ``out_index``: ``{input position: (output numel, input numel)}``."""
    output = _outputs(fn, inputs)[out_index]
    size = output.numel()
    jacobian = {i: xp.zeros((size, inputs[i].numel())) for i in checked}
    if not output.requires_grad:
        return jacobian, output.shape
    for k in range(size):
        seed = backend.namespace(output).zeros(output.shape, output.dtype)
        seed.reshape(-1)[k] = 1
        grads = autograd_grad(output, [inputs[i] for i in checked], grad_outputs=[wrap(seed)],
                              retain_graph=True, allow_unused=True)
        for i, g in zip(checked, grads):
            if g is not None:
                jacobian[i][k] = g._data.reshape(-1)
    return jacobian, output.shape


def _numerical_column(fn, inputs, data, element, out_index: int, eps: float):
    """d(output)/d(data[element]) by central differences (``data`` is changed in place and restored)."""
    original = data[element]
    with no_grad():
        data[element] = original + eps
        plus = _outputs(fn, inputs)[out_index]._data.astype(xp.float64).reshape(-1)
        data[element] = original - eps
        minus = _outputs(fn, inputs)[out_index]._data.astype(xp.float64).reshape(-1)
    data[element] = original
    return (plus - minus) / (2 * eps)


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Check the gradients of ``fn(*inputs)`` against finite differences.

    ``inputs``: a tensor or a tuple of tensors (float64 recommended); only
    those with ``requires_grad=True`` are checked. Every tensor output of
    ``fn`` is checked. On a mismatch the error names the output element, the
    input and its element index, and both values.

    Example:
        >>> import dendrite
        >>> x = dendrite.randn(3, dtype=dendrite.float64, requires_grad=True)
        >>> dendrite.autograd.gradcheck(lambda t: (t * t).sum(), (x,))
        True
    """
    inputs = (inputs,) if isinstance(inputs, TensorBase) else tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, TensorBase) and t.requires_grad]
    for i in checked:
        if inputs[i].dtype != xp.float64:
            warnings.warn(
                f"gradcheck: input {i} is {inputs[i].dtype}; use float64 for a meaningful check",
                stacklevel=2,
            )
        if not backend.writeable(inputs[i]._data):
            raise ValueError(f"gradcheck: input {i} is a read-only array; pass a writable copy")
    for out_index in range(len(_outputs(fn, inputs))):
        analytic, out_shape = _analytic(fn, inputs, checked, out_index)
        for i in checked:
            # Index the array itself (not a flattened copy) so non-contiguous inputs work too.
            data = inputs[i]._data
            for j, element in enumerate(xp.ndindex(*data.shape)):
                numerical = _numerical_column(fn, inputs, data, element, out_index, eps)
                for k in range(numerical.size):
                    a, n = analytic[i][k, j], numerical[k]
                    if abs(a - n) <= atol + rtol * abs(n):
                        continue
                    out_element = [int(i) for i in xp.unravel_index(k, out_shape)] if out_shape else []
                    message = (
                        f"gradcheck failed for d(output {out_index}{out_element}) / d(input {i}"
                        f"{list(element)}):\n  analytic (backward) = {a:.10g}\n  numerical (finite "
                        f"differences, eps={eps}) = {n:.10g}\n  difference {abs(a - n):.3g} > atol "
                        f"{atol} + rtol {rtol} * |numerical|"
                    )
                    if raise_exception:
                        raise GradcheckError(message)
                    return False
    return True


def _random_like(output, seed: int):
    generator = xp.random.default_rng(seed)
    values = generator.standard_normal(output.shape).astype(output.dtype)
    return wrap(backend.asarray(values)).requires_grad_(True)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True) -> bool:
    """Check second derivatives of ``func(*inputs)``: ``gradcheck`` of its gradient (PyTorch's signature).

    The gradient ``grad(func(*inputs), inputs, grad_outputs, create_graph=True)``
    is a function of the inputs and of ``grad_outputs`` (random, seeded, when
    not given: one tensor per differentiable output, of its shape); its
    Jacobian (Hessian-vector products) is compared with finite differences.
    Use float64.

    Example:
        >>> import dendrite
        >>> x = dendrite.randn(3, dtype=dendrite.float64, requires_grad=True)
        >>> dendrite.autograd.gradgradcheck(lambda t: (t.sin() * t).sum(), (x,))
        True
    """
    inputs = (inputs,) if isinstance(inputs, TensorBase) else tuple(inputs)
    outputs = [output for output in _outputs(func, inputs) if output.requires_grad]
    if grad_outputs is None:
        grad_outputs = [_random_like(output, seed) for seed, output in enumerate(outputs)]
    else:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, TensorBase) else list(grad_outputs)
    if gen_non_contig_grad_outputs:  # the same values, laid out transposed (a non-contiguous view)
        grad_outputs = [wrap(xp.asfortranarray(g._data)).requires_grad_(g.requires_grad)
                        for g in grad_outputs]
    count = len(inputs)
    wanted = [i for i, t in enumerate(inputs) if isinstance(t, TensorBase) and t.requires_grad]

    def first_gradients(*arguments):
        with enable_grad():  # gradcheck's finite differences run under no_grad; this needs the graph
            given = arguments[count:]
            differentiable = [output for output in _outputs(func, arguments[:count]) if output.requires_grad]
            grads = autograd_grad(differentiable, [arguments[i] for i in wanted], grad_outputs=list(given),
                                  create_graph=True, allow_unused=True)
        return tuple(grad for grad in grads if grad is not None)

    # The gradient with a graph (backward_graph) must equal the plain one (backward): two formulas.
    with enable_grad():
        differentiable = [output for output in _outputs(func, inputs) if output.requires_grad]
        plain = autograd_grad(differentiable, [inputs[i] for i in wanted], grad_outputs=list(grad_outputs),
                              allow_unused=True)
    for position, (with_graph, without) in enumerate(zip(first_gradients(*inputs, *grad_outputs),
                                                         [g for g in plain if g is not None])):
        a, b = with_graph._data, without._data
        if not xp.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
            message = (f"gradgradcheck failed: gradient {position} (of those that exist) computed with "
                       f"create_graph=True (backward_graph) differs from backward's by up to "
                       f"{float(xp.nanmax(xp.abs(a - b))):.3g}")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return gradcheck(first_gradients, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
