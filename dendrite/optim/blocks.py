"""Element-wise updates a block at a time, so that no temporary is as large as the parameter.

An update such as ``param -= lr * grad`` makes ``lr * grad`` first: in NumPy a
new array as large as the parameter (PyTorch's ``param.add_(grad, alpha=-lr)``
makes none). Every optimizer's update is element-wise, so it can run on
matching slices of the parameter, its gradient and its state, one block of
``BLOCK`` elements after the other: each temporary is then at most one block
(and stays in the CPU's cache), and every element goes through the same
operations in the same order, so the results are bit for bit those of the
whole-array form.

    for p, g in blocks(param, grad):   # flat views, BLOCK elements each
        p -= lr * g
"""

from __future__ import annotations

from collections.abc import Iterator

from dendrite.backend import namespace, xp

__all__ = ["BLOCK", "add_scaled_", "blocks", "subtract_scaled_"]

# Elements per block: 128 KiB of float32, several blocks fit in a core's L2 cache.
BLOCK = 1 << 15


def blocks(*arrays) -> Iterator[tuple]:
    """Matching flat views of ``arrays`` (NumPy arrays of one shape), ``BLOCK`` elements at a time.

    Arrays that cannot be sliced alike as flat views (shapes differ, one is not
    C-contiguous) or that are no larger than one block come back whole, once.
    Writing into a view writes into its array. A ``None`` (an optional buffer
    that is not used) stays ``None`` in every block.

    Example:
        >>> import numpy
        >>> param, grad = numpy.ones(5), numpy.full(5, 2.0)
        >>> for p, g in blocks(param, grad):
        ...     p -= 0.5 * g
        >>> param.tolist()
        [0.0, 0.0, 0.0, 0.0, 0.0]
    """
    first = arrays[0]
    size = first.size
    if size <= BLOCK or not all(a is None or (a.shape == first.shape and a.flags.c_contiguous)
                                for a in arrays):
        yield arrays
        return
    flats = [None if a is None else a.reshape(-1) for a in arrays]  # views: all are C-contiguous
    for start in range(0, size, BLOCK):
        stop = start + BLOCK
        yield tuple(None if flat is None else flat[start:stop] for flat in flats)


def add_scaled_(target, scale: float, source) -> None:
    """``target += scale * source`` in place, with no temporary larger than one block.

    Rounded as the one-line form (the product, then the sum), element for element.

    Example:
        >>> import numpy
        >>> buffer = numpy.ones(3, numpy.float32)
        >>> add_scaled_(buffer, 0.5, numpy.full(3, 2.0, numpy.float32))
        >>> buffer.tolist()
        [2.0, 2.0, 2.0]
    """
    if target.size <= BLOCK:  # the common small parameter: no generator
        target += scale * source
        return
    scratch = None
    for t, s in blocks(target, source):
        if t is target:  # whole (not sliceable alike)
            target += scale * source
            return
        if scratch is None:
            scratch = namespace(target).empty(BLOCK, xp.result_type(s, scale))  # on target's device
        product = scratch[:s.size]
        xp.multiply(s, scale, out=product)
        t += product


def subtract_scaled_(target, scale: float, source) -> None:
    """``target -= scale * source`` in place, with no temporary larger than one block.

    The same numbers as ``add_scaled_(target, -scale, source)``: negating is exact.

    Example:
        >>> import numpy
        >>> param = numpy.ones(3, numpy.float32)
        >>> subtract_scaled_(param, 0.25, numpy.full(3, 2.0, numpy.float32))
        >>> param.tolist()
        [0.5, 0.5, 0.5]
    """
    add_scaled_(target, -scale, source)
