"""``Function``: one differentiable operation, forward and backward side by side.

A subclass implements::

    class Exp(Function):
        def forward(self, x):              # arrays in, array out
            self.result = np.exp(x)        # save what backward needs on self
            return self.result

        def backward(self, grad_output):   # dL/d(output) in
            return grad_output * self.result   # dL/d(input) out, one per input

``Exp.apply(tensor)`` runs ``forward`` on the tensors' arrays and, when a
graph is being recorded, links the output tensor to this node so that
``backward`` can later be called by the engine. Positional inputs may be
tensors or plain values (scalars, arrays); keyword arguments are options and
never receive gradients. ``backward`` returns one gradient per positional
input (``None`` where there is none); a single array is accepted for a
one-input function. ``self.needs_input_grad[i]`` tells whether input ``i``
wants a gradient, so expensive unneeded gradients can be skipped.

Functions with several outputs set ``n_outputs``; their ``forward`` returns a
tuple and their ``backward`` receives a tuple of output gradients in which
outputs that received no gradient are ``None``.

Only floating-point outputs join the graph: an integer or boolean result
(``x.long()``, an index) is a plain leaf that does not require grad, as in
PyTorch.

This is dendrite's *array contract*, the one every operation uses. The same
class also takes PyTorch's *ctx contract*, for code ported from PyTorch:
``@staticmethod forward(ctx, *args)`` on tensors and ``@staticmethod
backward(ctx, *grad_outputs)``, with ``ctx.save_for_backward`` (or a static
``forward(*args)`` plus ``setup_context(ctx, inputs, output)``). A static
``forward`` selects it when the class is defined, and such a class gets its
own ``apply`` (:mod:`dendrite.autograd.ctx_function`), so the ``apply`` below
stays the array contract's fast path.
"""

from __future__ import annotations

from dendrite.autograd.ctx_function import check_contract
from dendrite.autograd.ctx_function import once_differentiable as once_differentiable  # torch's import path
from dendrite.autograd.function_ctx import FunctionCtx as FunctionCtx  # torch's import path
from dendrite.autograd.grad_mode import state
from dendrite.autograd.versions import clock, mark_view
from dendrite.backend import as_result, namespace, ndarray
from dendrite.devices import device_of, same_device_message
from dendrite.tensor_base import TensorBase, wrap


class Function:
    """Base class of every differentiable operation (see the module docstring).

    Shapes: ``backward`` returns, for each input, a gradient of that input's shape.

    Example:
        >>> import dendrite
        >>> class Square(dendrite.autograd.Function):
        ...     def forward(self, x):
        ...         self.x = x
        ...         return x * x
        ...     def backward(self, grad):
        ...         return 2 * self.x * grad
        >>> x = dendrite.tensor([1.0, 3.0], requires_grad=True)
        >>> y = Square.apply(x)
        >>> y
        tensor([1., 9.], grad_fn=<SquareBackward>)
        >>> y.sum().backward(); x.grad
        tensor([2., 6.])
    """

    n_outputs = 1
    # Set by ``apply`` on nodes that are part of a graph.
    inputs: tuple = ()
    needs_input_grad: tuple = ()
    released = False
    created_at = None  # "file:line in function", recorded in anomaly mode
    # Per-output gradient hooks and retain_grad() requests: {output index: [hook, ...]}.
    output_hooks = None
    retained_outputs = None
    # ``clock.now`` when ``apply`` recorded the node (autograd/versions.py: in-place writes). A node
    # made another way is never checked: it counts as made after every write.
    stamp = float("inf")
    # False for an operation whose backward (and backward_graph) read only what forward saved on
    # ``self``, never ``self.inputs``: its node then holds each non-leaf input as a stand-in (the
    # input's grad_fn and output index, no data), as PyTorch's graph holds edges rather than
    # tensors, so an intermediate that nothing else uses (the pre-activation a ReLU consumed) is
    # freed during forward instead of living until backward.
    keeps_inputs = True
    # True on operations that ``dendrite.compile`` may record and replay (autograd/capture.py): forward
    # and backward read only their arguments, their constant options and what forward saved on self,
    # and the public function in front of ``apply`` decides nothing from tensor values (a value check
    # or a random draw belongs in forward, where a replay runs it again).
    replayable = False

    def __init_subclass__(cls, **kwargs) -> None:
        # Each subclass picks its contract once, here: a @staticmethod forward is PyTorch's ctx
        # contract and gets ctx_function.apply; the array contract keeps the apply below as it is.
        super().__init_subclass__(**kwargs)
        check_contract(cls, Function)

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the operation on tensors (or plain values) and record it for backward; returns tensor(s).

        Example:
            >>> import dendrite
            >>> from dendrite.ops.math import Exp
            >>> Exp.apply(dendrite.tensor([0.0], requires_grad=True))
            tensor([1.], grad_fn=<ExpBackward>)
        """
        node = cls.__new__(cls)
        # One plain loop: for the one or two inputs of a typical op it is about twice as fast
        # as two comprehensions (this is the per-operation overhead of the whole library).
        arrays = []
        needs = []
        for item in inputs:
            if isinstance(item, TensorBase):
                arrays.append(item._data)
                needs.append(item.requires_grad)
            else:
                arrays.append(item)
                needs.append(False)
        requires_grad = state.grad_enabled and True in needs
        node.needs_input_grad = tuple(needs) if requires_grad else (False,) * len(needs)
        try:
            result = node.forward(*arrays, **options)
        except TypeError as error:
            check_same_device(cls, [*arrays, *options.values()], error)  # PyTorch's message, not NumPy's
            raise
        if state.anomaly_enabled:
            from dendrite.autograd.anomaly import check_forward

            check_forward(node, result, inputs)
        if node.n_outputs == 1:
            # NumPy returns scalars (not 0-d arrays) for 0-d results; tensors always hold arrays.
            if type(result) is not ndarray:
                result = as_result(result)  # a CuPy array stays on its device
            if requires_grad and result.dtype.kind == "f":
                node.inputs = inputs if cls.keeps_inputs or state.anomaly_enabled else graph_edges(inputs)
                node.stamp = clock.now
                output = wrap(result, node)
            else:
                output = wrap(result)
            if result.base is not None:  # maybe a view of an input: in-place writes need its base
                mark_view(output, inputs, False)
            return output
        outputs = [array if type(array) is ndarray else as_result(array) for array in result]
        if requires_grad:
            node.inputs = inputs
            node.stamp = clock.now
        else:
            node = None
        return tuple([
            wrap(array, node if array.dtype.kind == "f" else None, index)
            if array.base is None else
            mark_view(wrap(array, node if array.dtype.kind == "f" else None, index), inputs, True)
            for index, array in enumerate(outputs)
        ])

    def forward(self, *arrays, **options):
        """The operation on arrays: the inputs' arrays (and options) in, the output array(s) out.

        Example:
            >>> import numpy as np
            >>> from dendrite.ops.math import Exp
            >>> Exp().forward(np.array([0.0]))
            array([1.])
        """
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, grad_output):
        """Gradients of the inputs from the gradient of the output: one array per input, of its shape.

        Example:
            >>> import numpy as np
            >>> from dendrite.ops.math import Exp
            >>> node = Exp(); _ = node.forward(np.array([0.0]))
            >>> node.backward(np.array([2.0]))
            array([2.])
        """
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def release(self) -> None:
        """Free what was saved for backward, and the links to the inputs (after a backward pass).

        Dropping ``inputs`` lets the intermediate tensors (and their arrays) be
        freed even while the output is still referenced. ``n_outputs`` stays:
        the engine still needs it to explain a second backward.

        Example:
            >>> import dendrite
            >>> y = dendrite.tensor([1.0], requires_grad=True).exp()
            >>> y.grad_fn.release(); y.grad_fn.released, y.grad_fn.inputs
            (True, ())
        """
        n_outputs = self.n_outputs
        created_at = self.created_at
        self.__dict__.clear()
        self.released = True
        if n_outputs != 1:
            self.n_outputs = n_outputs
        if created_at is not None:
            self.created_at = created_at

    @property
    def name(self) -> str:
        """The operation's name as shown in ``grad_fn`` and error messages.

        Example:
            >>> import dendrite
            >>> (dendrite.tensor([1.0], requires_grad=True) * 2).grad_fn.name
            'Mul'
        """
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        """The nodes that produced this node's inputs, as ``(node, output index)``: ``(None, 0)`` for a leaf.

        Example:
            >>> import dendrite
            >>> y = dendrite.tensor([1.0], requires_grad=True).exp() * 2
            >>> y.grad_fn.next_functions
            ((<ExpBackward>, 0), (None, 0))
        """
        return tuple(
            (item._ctx, item._out_index) if isinstance(item, TensorBase) else (None, 0)
            for item in self.inputs
        )

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"




# Data-less arrays of each (shape, dtype) for the stand-ins of graph_edges: zero strides over one element.
_NO_DATA: dict = {}


def graph_edges(inputs: tuple) -> tuple:
    """``inputs`` with each non-leaf tensor replaced by a stand-in that holds its place in the graph only.

    The stand-in has the tensor's ``grad_fn``, output index, shape and dtype (what the backward
    walk reads), and no data: its array is a zero-strided view of one zero. Leaves (which collect
    ``.grad``) and plain values stay as they are. Used for nodes of ``keeps_inputs = False`` ops.

    Example:
        >>> import dendrite
        >>> x = dendrite.ones(2, 3, requires_grad=True)
        >>> y = x * 2
        >>> leaf, edge = graph_edges((x, y))
        >>> leaf is x, edge is y, edge.grad_fn is y.grad_fn, edge.shape, edge.array.strides
        (True, False, True, (2, 3), (0, 0))
    """
    edges = []
    for item in inputs:
        if isinstance(item, TensorBase) and item._ctx is not None:
            data = item._data
            key = (data.shape, data.dtype, type(data))  # the type: a host or a device array
            empty = _NO_DATA.get(key)
            if empty is None:
                if len(_NO_DATA) >= 256:  # many shapes (a sweep): start over rather than grow
                    _NO_DATA.clear()
                module = namespace(data)
                empty = _NO_DATA[key] = module.broadcast_to(module.zeros((), data.dtype), data.shape)
            item = wrap(empty, item._ctx, item._out_index)
        edges.append(item)
    return tuple(edges)


def check_same_device(cls, arrays, error: Exception | None = None) -> None:
    """Raise PyTorch's "Expected all tensors to be on the same device" when ``arrays`` live on two devices,
    and ``NotImplementedError`` naming the operation and the device when the device's array library
    (CuPy) has no implementation of a NumPy function the operation uses (``error`` says so).

    Called only after an operation failed, so the everyday path pays nothing for it.

    Example:
        >>> import numpy as np
        >>> from dendrite.autograd.function import check_same_device
        >>> check_same_device(Function, [np.zeros(2), np.ones(2)])  # one device: nothing to say
    """
    found = []
    for array in arrays:
        if hasattr(array, "dtype") and hasattr(array, "shape"):
            where = device_of(array)
            if where not in found:
                found.append(where)
    name = getattr(cls, "__name__", "an operation").lower()
    if len(found) > 1:
        raise RuntimeError(same_device_message(name, *found[:2]))
    if found and found[0].type != "cpu" and "no implementation found" in str(error):
        raise NotImplementedError(f"{name} is not supported on {found[0]} yet: the GPU array library lacks a "
                                  f"function it uses ({error}); run it on the CPU (x.cpu()) and move the "
                                  f"result back") from error
