"""Derivatives of a whole function: ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``vhp``, ``hvp``.

PyTorch's ``torch.autograd.functional``, built on :func:`~dendrite.autograd.gradients.grad`:

* ``vjp(f, x, v)``  = vᵀ J, one backward pass;
* ``jvp(f, x, v)``  = J v, by the *double-vjp trick*: ``g(u) = uᵀ J`` is linear in a dummy ``u``,
  so differentiating ``g(u) · v`` with respect to ``u`` gives ``J v`` (two backward passes, the
  second through the first: every op's backward is itself differentiable here);
* ``jacobian(f, x)`` = J, one backward pass per output element (reverse mode), rows ``J[i] = ∂f_i/∂x``;
* ``hessian(f, x)`` = the Jacobian of the gradient of a scalar ``f``;
* ``vhp(f, x, v)`` = vᵀ H and ``hvp(f, x, v)`` = H v (the same numbers when ``f`` is twice
  continuously differentiable: H is symmetric; computed as PyTorch does, ``hvp`` by the double-vjp trick).

Inputs are a tensor or a tuple of tensors; results follow PyTorch's shapes: a Jacobian block of an
output of shape ``O`` with respect to an input of shape ``I`` has shape ``O + I``, and a tuple comes back
wherever a tuple went in. The inputs are detached (so ``f`` sees fresh leaves) unless
``create_graph=True``, which keeps every result differentiable. An output that does not depend on an
input gives zeros there (with ``strict=True``, an error instead).
"""

from __future__ import annotations

from dendrite.autograd.grad_mode import enable_grad
from dendrite.autograd.gradients import grad
from dendrite.tensor_base import TensorBase

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(value, what: str, name: str) -> tuple[bool, tuple]:
    """(was it a tuple?, the tensors as a tuple), or PyTorch's TypeError."""
    is_tuple = isinstance(value, (tuple, list))
    items = tuple(value) if is_tuple else (value,)
    for position, item in enumerate(items):
        if not isinstance(item, TensorBase):
            where = f"{what}[{position}]" if is_tuple else what
            raise TypeError(f"The {where} given to {name} must be either a Tensor or a tuple of Tensors but "
                            f"the value at index {position} has type {type(item).__name__}.")
    return is_tuple, items


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Fresh leaves that require grad (or, with ``create_graph``, views that keep the caller's graph)."""
    return tuple(item.view_as(item) if create_graph and item.requires_grad
                 else item.detach().requires_grad_(True) for item in inputs)


def _finish(items: tuple, create_graph: bool) -> tuple:
    """Results detached unless the caller wants to differentiate them."""
    return tuple(item if create_graph or item is None else item.detach() for item in items)


def _grads(outputs, inputs, grad_outputs, create_graph: bool, strict: bool, name: str, retain=True) -> tuple:
    """``grad`` with unused inputs filled with zeros (or refused under ``strict``)."""
    needed = [out for out in outputs if out.requires_grad]
    if not needed:
        found = (None,) * len(inputs)
    else:
        seeds = [v for out, v in zip(outputs, grad_outputs) if out.requires_grad]
        found = grad(needed, inputs, seeds, retain_graph=retain, create_graph=create_graph, allow_unused=True)
    result = []
    for position, (item, gradient) in enumerate(zip(inputs, found)):
        if gradient is None:
            if strict:
                raise RuntimeError(f"{name}: the output of the user-provided function is independent of "
                                   f"input {position}. This is not allowed in strict mode.")
            gradient = item.new_zeros(item.shape)
        result.append(gradient)
    return tuple(result)


def _call(func, inputs: tuple, name: str) -> tuple[bool, tuple]:
    with enable_grad():
        outputs = func(*inputs)
    return _as_tuple(outputs, "outputs of the user-provided function", name)


def _vectors(v, like: tuple, name: str, what: str) -> tuple:
    """``v`` as a tuple matching ``like`` in shapes (``None``: only for one-element ``like``)."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(f"{name}: the vector v can only be None if the {what} is a single element "
                               f"tensor; it has shapes {[tuple(item.shape) for item in like]}")
        return (like[0].new_ones(like[0].shape),)
    _, vectors = _as_tuple(v, "v", name)
    if len(vectors) != len(like) or any(tuple(a.shape) != tuple(b.shape) for a, b in zip(vectors, like)):
        raise RuntimeError(f"{name}: v has shapes {[tuple(a.shape) for a in vectors]} but the {what} has "
                           f"shapes {[tuple(b.shape) for b in like]}; they must match")
    return vectors


def _jacobian_times(outputs: tuple, inputs: tuple, vectors: tuple, create_graph: bool, strict: bool,
                    name: str) -> tuple:
    """J v, J the Jacobian of ``outputs`` with respect to ``inputs``, by the double-vjp trick (see above)."""
    dummies = tuple(out.new_zeros(out.shape).requires_grad_(True) for out in outputs)
    with enable_grad():
        transposed = _grads(outputs, inputs, dummies, True, strict, name)  # uᵀ J, linear in the dummy u
    return _grads(transposed, dummies, vectors, create_graph, strict, name)


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), vᵀ J)``: the vector-Jacobian product, one backward pass.

    Shapes: ``v`` like the output; the product like the inputs.

    Example:
        >>> import dendrite
        >>> out, product = vjp(lambda x: x ** 2, dendrite.tensor([1.0, 3.0]), dendrite.tensor([1.0, 1.0]))
        >>> product
        tensor([2., 6.])
    """
    is_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
    inputs = _prepare(inputs, create_graph)
    outputs_tuple, outputs = _call(func, inputs, "vjp")
    vectors = _vectors(v, outputs, "vjp", "output of the user-provided function")
    products = _grads(outputs, inputs, vectors, create_graph, strict, "vjp")
    outputs, products = _finish(outputs, create_graph), _finish(products, create_graph)
    return (outputs if outputs_tuple else outputs[0]), (products if is_tuple else products[0])


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), J v)``: the Jacobian-vector product, by the double-vjp trick (module docstring).

    Shapes: ``v`` like the inputs; the product like the output.

    Example:
        >>> import dendrite
        >>> out, product = jvp(lambda x: x ** 2, dendrite.tensor([1.0, 3.0]), dendrite.tensor([1.0, 0.0]))
        >>> product
        tensor([2., 0.])
    """
    is_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
    inputs = _prepare(inputs, create_graph)
    vectors = _vectors(v, inputs, "jvp", "input")
    outputs_tuple, outputs = _call(func, inputs, "jvp")
    products = _jacobian_times(outputs, inputs, vectors, create_graph, strict, "jvp")
    outputs, products = _finish(outputs, create_graph), _finish(products, create_graph)
    return (outputs if outputs_tuple else outputs[0]), (products if outputs_tuple else products[0])


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``, block ``[i][j]`` shaped ``outputs[i].shape + inputs[j].shape``.

    A tensor in and a tensor out give one tensor; tuples give tuples (of tuples). ``vectorize`` is
    accepted and ignored (the rows are computed one backward pass each either way).

    Example:
        >>> import dendrite
        >>> jacobian(lambda x, y: x * y, (dendrite.tensor([2.0]), dendrite.tensor([5.0])))
        (tensor([[5.]]), tensor([[2.]]))
    """
    if strategy != "reverse-mode":
        raise ValueError(f"jacobian: strategy {strategy!r} is not supported; dendrite computes Jacobians in "
                         "'reverse-mode' (one backward pass per output element)")
    is_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    inputs = _prepare(inputs, create_graph)
    outputs_tuple, outputs = _call(func, inputs, "jacobian")
    blocks = []
    for out in outputs:
        flat = out.reshape(-1)
        rows = [item.new_zeros((flat.shape[0], *item.shape)) for item in inputs]
        for index in range(flat.shape[0]):
            seed = flat.new_zeros(flat.shape)
            seed[index] = 1.0
            gradients = _grads((flat,), inputs, (seed,), create_graph, strict, "jacobian")
            for block, gradient in zip(rows, gradients):
                block[index] = gradient
        blocks.append(tuple(_finish(tuple(block.reshape(*out.shape, *item.shape) for block, item
                                          in zip(rows, inputs)), create_graph)))
    if outputs_tuple:
        return tuple(block if is_tuple else block[0] for block in blocks)
    return blocks[0] if is_tuple else blocks[0][0]


def _scalar(func, name: str):
    """``func`` checked to return one single-element tensor."""
    def checked(*inputs):
        output = func(*inputs)
        if isinstance(output, (tuple, list)):
            if len(output) != 1:
                raise RuntimeError(f"{name}: the function given to {name} should return a single Tensor, "
                                   f"got {len(output)} outputs")
            output = output[0]
        if not isinstance(output, TensorBase) or output.numel() != 1:
            shape = tuple(output.shape) if isinstance(output, TensorBase) else type(output).__name__
            raise RuntimeError(f"{name}: the Tensor returned by the function given to {name} should contain "
                               f"a single element, got {shape}")
        return output.reshape(())
    return checked


def _gradient_of_scalar(func, inputs: tuple, strict: bool, name: str) -> tuple:
    """(``func(*inputs)``, its gradient with a graph): what hessian, vhp and hvp differentiate again."""
    with enable_grad():
        output = _scalar(func, name)(*inputs)
        return output, _grads((output,), inputs, (None,), True, strict, name)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar ``func``: block ``[i][j]`` has shape ``inputs[i].shape + inputs[j].shape``.

    Example:
        >>> import dendrite
        >>> hessian(lambda x: (x ** 3).sum(), dendrite.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    is_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*args):
        return _gradient_of_scalar(func, args, strict, "hessian")[1]

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      strategy=outer_jacobian_strategy)  # a tuple (per gradient) of tuples (per input)
    return result if is_tuple else result[0][0]


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), vᵀ H)`` for a scalar ``func``: two backward passes.

    Example:
        >>> import dendrite
        >>> x, v = dendrite.tensor([1.0, 2.0]), dendrite.tensor([1.0, 1.0])
        >>> out, product = vhp(lambda x: (x ** 3).sum(), x, v)
        >>> out, product
        (tensor(9.), tensor([ 6., 12.]))
    """
    is_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
    inputs = _prepare(inputs, create_graph)
    vectors = _vectors(v, inputs, "vhp", "input")
    output, gradients = _gradient_of_scalar(func, inputs, strict, "vhp")
    products = _grads(gradients, inputs, vectors, create_graph, strict, "vhp")
    output, products = _finish((output,), create_graph)[0], _finish(products, create_graph)
    return output, (products if is_tuple else products[0])


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), H v)`` for a scalar ``func``, by the double-vjp trick (as PyTorch computes it).

    Example:
        >>> import dendrite
        >>> x, v = dendrite.tensor([1.0, 2.0]), dendrite.tensor([1.0, 0.0])
        >>> out, product = hvp(lambda x: (x ** 3).sum(), x, v)
        >>> product
        tensor([6., 0.])
    """
    is_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
    inputs = _prepare(inputs, create_graph)
    vectors = _vectors(v, inputs, "hvp", "input")
    output, gradients = _gradient_of_scalar(func, inputs, strict, "hvp")
    products = _jacobian_times(gradients, inputs, vectors, create_graph, strict, "hvp")  # H: the gradient's J
    output, products = _finish((output,), create_graph)[0], _finish(products, create_graph)
    return output, (products if is_tuple else products[0])
