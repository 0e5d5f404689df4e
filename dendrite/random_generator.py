"""``dendrite.Generator``: a random stream of its own, PyTorch's ``torch.Generator``.

Every random draw in dendrite comes from a NumPy ``Generator`` (PCG64). The
global one lives in :mod:`dendrite.backend` (``backend.generator()``, seeded by
``dendrite.manual_seed``); a :class:`Generator` object wraps *one such NumPy
generator* and is accepted as ``generator=`` wherever PyTorch accepts one
(``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``,
``multinomial``, ``nn.init``, ``DataLoader``, ``random_split``). So:

* the same seed gives the same numbers: ``Generator().manual_seed(0)`` twice
  gives two identical streams;
* a generator is independent of the global one and of every other: drawing
  from it does not move ``dendrite.rand``'s stream, and reseeding the global
  one does not move it;
* ``dendrite.default_generator`` *is* the global stream (it reads
  ``backend.generator()`` on every use), so ``dendrite.manual_seed(s)`` returns
  it, as ``torch.manual_seed`` does.

:func:`numpy_generator` is the one place that turns a ``generator=`` argument
into the NumPy generator to draw from.

The numbers are NumPy's, not PyTorch's: the same seed gives a different
sequence than in PyTorch (the algorithms differ), but the same one every run.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.backend import xp
from dendrite.devices import check_device
from dendrite.tensor_base import TensorBase, wrap

__all__ = ["Generator", "default_generator", "manual_seed", "initial_seed", "seed", "numpy_generator"]

# PyTorch seeds a new Generator() with this constant (c10's default_rng_seed_val); so do we.
DEFAULT_SEED = 67280421310721
# get_state()'s layout: PCG64's 128-bit state and increment, the buffered 32-bit half, the seed.
_STATE_FIELDS = (("state", 16), ("inc", 16), ("has_uint32", 1), ("uinteger", 4), ("seed", 8))
_STATE_BYTES = sum(size for _, size in _STATE_FIELDS)


class Generator:
    """An independent random stream: seed it, save and restore its state, pass it as ``generator=``.

    ``Generator()`` starts from PyTorch's default seed (67280421310721), so an
    unseeded generator repeats too; ``manual_seed(s)`` returns the generator
    itself, for ``g = dendrite.Generator().manual_seed(0)``. Only
    ``device="cpu"`` exists.

    Example:
        >>> import dendrite
        >>> g = dendrite.Generator().manual_seed(0)
        >>> a = dendrite.rand(3, generator=g)
        >>> b = dendrite.rand(3, generator=dendrite.Generator().manual_seed(0))
        >>> a.tolist() == b.tolist(), g.initial_seed(), g.device
        (True, 0, device(type='cpu'))
    """

    def __init__(self, device="cpu") -> None:
        check_device(device, "Generator")
        self._seed, self._numpy = backend.new_generator(DEFAULT_SEED)

    @property
    def device(self):
        """Where this generator's numbers are made: ``device(type='cpu')``.

        Example:
            >>> import dendrite
            >>> dendrite.Generator().device
            device(type='cpu')
        """
        return check_device(None)

    @property
    def numpy(self):
        """The ``numpy.random.Generator`` behind this generator (what the library draws from).

        Example:
            >>> import dendrite
            >>> type(dendrite.Generator().numpy).__name__
            'Generator'
        """
        return self._numpy

    def manual_seed(self, seed: int) -> Generator:
        """Reseed with ``seed`` (an int in [-2**63, 2**64)) and return ``self``.

        Example:
            >>> import dendrite
            >>> g = dendrite.Generator()
            >>> g.manual_seed(3) is g, g.initial_seed()
            (True, 3)
        """
        self._reseed(backend.seed_value(seed, "Generator.manual_seed"))
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy and return the new seed.

        Example:
            >>> import dendrite
            >>> g = dendrite.Generator()
            >>> g.seed() == g.initial_seed()
            True
        """
        self._reseed(None)
        return self.initial_seed()

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with.

        Example:
            >>> import dendrite
            >>> dendrite.Generator().initial_seed()
            67280421310721
        """
        return self._seed

    def get_state(self) -> TensorBase:
        """The full state as a uint8 tensor of shape ``(45,)``, for :meth:`set_state` (exact resume).

        Example:
            >>> import dendrite
            >>> g = dendrite.Generator().manual_seed(0)
            >>> state = g.get_state(); a = dendrite.randn(2, generator=g)
            >>> b = dendrite.randn(2, generator=g.set_state(state))
            >>> a.tolist() == b.tolist(), state.dtype
            (True, dtype('uint8'))
        """
        numpy_state = self.numpy.bit_generator.state
        values = {**numpy_state["state"], "has_uint32": numpy_state["has_uint32"],
                  "uinteger": numpy_state["uinteger"], "seed": self.initial_seed()}
        data = b"".join(int(values[name]).to_bytes(size, "little") for name, size in _STATE_FIELDS)
        return wrap(xp.frombuffer(data, dtype=xp.uint8).copy())

    def set_state(self, new_state) -> Generator:
        """Restore a state from :meth:`get_state` (a uint8 tensor of shape ``(45,)``); returns ``self``.

        Example:
            >>> import dendrite
            >>> g = dendrite.Generator().manual_seed(1)
            >>> state = g.get_state(); a = dendrite.rand(2, generator=g)
            >>> g.set_state(state).initial_seed(), dendrite.rand(2, generator=g).tolist() == a.tolist()
            (1, True)
        """
        if not isinstance(new_state, TensorBase) or new_state.dtype != xp.uint8 \
                or new_state.shape != (_STATE_BYTES,):
            got = (f"a tensor of dtype {new_state.dtype} and shape {new_state.shape}"
                   if isinstance(new_state, TensorBase) else type(new_state).__name__)
            raise TypeError(f"Generator.set_state expects the uint8 tensor of shape ({_STATE_BYTES},) that "
                            f"get_state() returns, got {got}")
        data, values, start = new_state.numpy().tobytes(), {}, 0
        for name, size in _STATE_FIELDS:
            values[name] = int.from_bytes(data[start:start + size], "little")
            start += size
        if values["has_uint32"] > 1 or values["inc"] % 2 == 0:
            raise ValueError("Generator.set_state: this is not a state from get_state() (PCG64's increment "
                             "is always odd and has_uint32 is 0 or 1)")
        self._restore(values["seed"], {
            "bit_generator": "PCG64", "state": {"state": values["state"], "inc": values["inc"]},
            "has_uint32": values["has_uint32"], "uinteger": values["uinteger"]})
        return self

    def clone_state(self) -> Generator:
        """A new generator in the same state: both now give the same numbers, independently.

        Example:
            >>> import dendrite
            >>> g = dendrite.Generator().manual_seed(0)
            >>> twin = g.clone_state()
            >>> dendrite.rand(2, generator=g).tolist() == dendrite.rand(2, generator=twin).tolist()
            True
        """
        twin = Generator()
        return twin.set_state(self.get_state())

    def __repr__(self) -> str:
        return f"<dendrite.Generator object at {id(self):#x}>"

    # What the default generator overrides: where the NumPy generator and its seed live.
    def _reseed(self, seed: int | None) -> None:
        self._seed, self._numpy = backend.new_generator(seed)

    def _restore(self, seed: int, numpy_state: dict) -> None:
        self._seed = seed
        self._numpy.bit_generator.state = numpy_state


class _DefaultGenerator(Generator):
    """The global stream as a Generator: every call reads and writes :mod:`dendrite.backend`'s."""

    def __init__(self) -> None:  # no NumPy generator of its own (and numpy.random stays unloaded)
        pass

    @property
    def numpy(self):
        return backend.generator()

    def initial_seed(self) -> int:
        return backend.initial_seed()

    def _reseed(self, seed: int | None) -> None:
        backend.manual_seed(backend.new_generator(seed)[0])

    def _restore(self, seed: int, numpy_state: dict) -> None:
        backend.manual_seed(seed)
        backend.generator().bit_generator.state = numpy_state


default_generator = _DefaultGenerator()


def manual_seed(seed: int) -> Generator:
    """Seed the global generator (parameter init, dropout, shuffling) and return it, as PyTorch.

    Example:
        >>> import dendrite
        >>> _ = dendrite.manual_seed(0); a = dendrite.rand(3)
        >>> dendrite.manual_seed(0) is dendrite.default_generator
        True
        >>> dendrite.rand(3).tolist() == a.tolist()
        True
    """
    backend.manual_seed(seed)
    return default_generator


def initial_seed() -> int:
    """The seed of the global generator (the last ``manual_seed``, or one drawn at start).

    Example:
        >>> import dendrite
        >>> _ = dendrite.manual_seed(7); dendrite.initial_seed()
        7
    """
    return backend.initial_seed()


def seed() -> int:
    """Reseed the global generator from the operating system's entropy; return the new seed.

    Example:
        >>> import dendrite
        >>> dendrite.seed() == dendrite.initial_seed()
        True
    """
    return default_generator.seed()


def numpy_generator(generator=None, who: str = ""):
    """The NumPy generator to draw from for a ``generator=`` argument (the global one for ``None``).

    Accepts a :class:`Generator` or, for code written before it existed, a
    ``numpy.random.Generator``; anything else raises ``TypeError`` naming ``who``.

    Example:
        >>> import dendrite
        >>> from dendrite.random_generator import numpy_generator
        >>> g = dendrite.Generator()
        >>> numpy_generator(g) is g.numpy, type(numpy_generator(None)).__name__
        (True, 'Generator')
    """
    if generator is None:
        return backend.generator()
    if isinstance(generator, Generator):
        return generator.numpy
    if isinstance(generator, xp.random.Generator):
        return generator
    prefix = f"{who}(): " if who else ""
    raise TypeError(f"{prefix}argument 'generator' must be a dendrite.Generator, "
                    f"not {type(generator).__name__}")
