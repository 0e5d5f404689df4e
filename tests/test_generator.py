"""dendrite.Generator: seeding, state, independence, and generator= wherever PyTorch takes one.

The numbers themselves are NumPy's (PCG64), not PyTorch's (Mersenne Twister), so what is checked
against torch is the *behaviour*: which calls accept a generator, what seeds mean, what is returned.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite
from dendrite import nn
from dendrite.utils.data import DataLoader, TensorDataset, random_split

# Every dendrite function that draws random numbers and takes generator=, with the same call in torch.
DRAWS = {
    "rand": lambda lib, g: lib.rand(2, 3, generator=g),
    "randn": lambda lib, g: lib.randn(4, generator=g),
    "randint": lambda lib, g: lib.randint(0, 100, (5,), generator=g),
    "randint_high_only": lambda lib, g: lib.randint(100, (5,), generator=g),
    "randperm": lambda lib, g: lib.randperm(10, generator=g),
    "normal": lambda lib, g: lib.normal(1.0, 2.0, (3,), generator=g),
    "rand_like": lambda lib, g: lib.rand_like(lib.zeros(3), generator=g),
    "randn_like": lambda lib, g: lib.randn_like(lib.zeros(3), generator=g),
    "randint_like": lambda lib, g: lib.randint_like(lib.zeros(3), 50, generator=g),
    "init.uniform_": lambda lib, g: lib.nn.init.uniform_(lib.zeros(4), generator=g),
    "init.normal_": lambda lib, g: lib.nn.init.normal_(lib.zeros(4), generator=g),
    "init.trunc_normal_": lambda lib, g: lib.nn.init.trunc_normal_(lib.zeros(4), generator=g),
    "init.xavier_uniform_": lambda lib, g: lib.nn.init.xavier_uniform_(lib.zeros(3, 4), generator=g),
    "init.kaiming_normal_": lambda lib, g: lib.nn.init.kaiming_normal_(lib.zeros(3, 4), generator=g),
    "init.orthogonal_": lambda lib, g: lib.nn.init.orthogonal_(lib.zeros(3, 4), generator=g),
    "init.sparse_": lambda lib, g: lib.nn.init.sparse_(lib.zeros(4, 3), 0.5, generator=g),
}


def _values(tensor) -> list:
    return tensor.detach().numpy().tolist()


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_the_same_seed_gives_the_same_numbers(name):
    draw = DRAWS[name]
    first = _values(draw(dendrite, dendrite.Generator().manual_seed(3)))
    assert _values(draw(dendrite, dendrite.Generator().manual_seed(3))) == first
    assert _values(draw(dendrite, dendrite.Generator().manual_seed(4))) != first
    draw(torch, torch.Generator().manual_seed(3))  # torch accepts generator= in the same call


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_a_generator_is_independent_of_the_global_stream(name):
    draw = DRAWS[name]
    dendrite.manual_seed(0)
    expected = dendrite.rand(5).tolist()
    generator = dendrite.Generator().manual_seed(1)
    dendrite.manual_seed(0)
    drawn = _values(draw(dendrite, generator))  # drawing from a generator does not move the global stream
    assert dendrite.rand(5).tolist() == expected
    dendrite.manual_seed(123)  # and reseeding the global stream does not move a generator
    generator.manual_seed(1)
    assert _values(draw(dendrite, generator)) == drawn


def test_two_generators_are_independent():
    a, b = dendrite.Generator().manual_seed(0), dendrite.Generator().manual_seed(0)
    first = dendrite.rand(3, generator=a).tolist()
    dendrite.rand(100, generator=b)  # advancing b leaves a where it was
    assert dendrite.rand(3, generator=a).tolist() != first
    assert dendrite.rand(3, generator=dendrite.Generator().manual_seed(0)).tolist() == first


def test_seeding_follows_torch():
    ours, theirs = dendrite.Generator(), torch.Generator()
    assert ours.initial_seed() == theirs.initial_seed() == 67280421310721  # torch's default seed
    assert ours.manual_seed(5) is ours and theirs.manual_seed(5) is theirs
    for seed in (0, 2**64 - 1, -1, -2**63):  # negatives wrap to 64 bits, as in torch
        assert ours.manual_seed(seed).initial_seed() == theirs.manual_seed(seed).initial_seed()
    for seed, error in ((2**64, ValueError), (-2**63 - 1, ValueError), (1.5, TypeError), ("3", TypeError)):
        with pytest.raises((ValueError, RuntimeError, TypeError)):
            theirs.manual_seed(seed)
        with pytest.raises(error, match="seed"):
            ours.manual_seed(seed)
    fresh = ours.seed()
    assert isinstance(fresh, int) and 0 <= fresh < 2**64 and ours.initial_seed() == fresh
    assert ours.device == dendrite.device("cpu") and repr(ours.device) == repr(theirs.device)
    with pytest.raises(RuntimeError, match="Generator: CUDA is not available"):
        dendrite.Generator(device="cuda")


def test_manual_seed_returns_the_default_generator_as_torch():
    assert torch.manual_seed(0) is torch.default_generator
    default = dendrite.manual_seed(7)
    assert default is dendrite.default_generator and isinstance(default, dendrite.Generator)
    assert dendrite.initial_seed() == default.initial_seed() == 7
    expected = dendrite.rand(4).tolist()
    dendrite.manual_seed(7)
    assert dendrite.rand(4, generator=dendrite.default_generator).tolist() == expected
    dendrite.default_generator.manual_seed(7)  # seeding the object seeds the global stream
    assert dendrite.rand(4).tolist() == expected
    assert dendrite.seed() == dendrite.initial_seed()


@pytest.mark.parametrize("generator", [dendrite.Generator(), dendrite.default_generator])
def test_state_round_trips(generator):
    generator.manual_seed(11)
    dendrite.randn(3, generator=generator)  # mid-stream, with a buffered half of a 64-bit draw
    dendrite.randint(0, 10, (1,), dtype=dendrite.int32, generator=generator)
    state = generator.get_state()
    expected = dendrite.randn(5, generator=generator).tolist()
    generator.manual_seed(99)
    assert generator.set_state(state) is generator and generator.initial_seed() == 11
    assert dendrite.randn(5, generator=generator).tolist() == expected
    other = dendrite.Generator().set_state(state)  # a state moves between generators
    assert dendrite.randn(5, generator=other).tolist() == expected
    assert state.dtype == dendrite.uint8 and state.ndim == 1  # torch's is a ByteTensor too
    assert torch.Generator().get_state().dtype == torch.uint8


def test_clone_state_makes_a_twin():
    generator = dendrite.Generator().manual_seed(2)
    twin = generator.clone_state()
    assert twin is not generator
    assert dendrite.rand(3, generator=twin).tolist() == dendrite.rand(3, generator=generator).tolist()


@pytest.mark.parametrize("state, error, pattern", [
    ([1, 2], TypeError, "uint8 tensor of shape"),
    (dendrite.zeros(45), TypeError, "dtype float32"),
    (dendrite.zeros(3, dtype=dendrite.uint8), TypeError, r"shape \(3,\)"),
    (dendrite.zeros(45, dtype=dendrite.uint8), ValueError, "not a state from get_state"),
])
def test_bad_states_are_refused(state, error, pattern):
    with pytest.raises(error, match=pattern):
        dendrite.Generator().set_state(state)


@pytest.mark.parametrize("call", [
    lambda g: dendrite.rand(2, generator=g), lambda g: dendrite.randperm(3, generator=g),
    lambda g: nn.init.normal_(dendrite.zeros(2), generator=g),
])
def test_a_bad_generator_is_refused_naming_the_call(call):
    with pytest.raises(TypeError):
        torch.rand(2, generator=5)
    with pytest.raises(TypeError, match="argument 'generator' must be a dendrite.Generator, not int"):
        call(5)


def test_a_numpy_generator_is_still_accepted():
    draws = [dendrite.rand(3, generator=np.random.default_rng(0)).tolist() for _ in range(2)]
    assert draws[0] == draws[1]


def test_data_loader_and_random_split_take_a_generator():
    data = TensorDataset(dendrite.arange(20))

    def order(generator):
        return [int(x) for (batch,) in DataLoader(data, batch_size=5, shuffle=True, generator=generator)
                for x in batch.tolist()]

    first = order(dendrite.Generator().manual_seed(0))
    assert first == order(dendrite.Generator().manual_seed(0)) and sorted(first) == list(range(20))
    assert first != list(range(20)) and first != order(dendrite.Generator().manual_seed(1))

    def split(generator):
        return [list(part.indices) for part in random_split(data, [0.5, 0.5], generator=generator)]

    assert split(dendrite.Generator().manual_seed(0)) == split(dendrite.Generator().manual_seed(0))
    torch_data = torch.utils.data.TensorDataset(torch.arange(20))
    torch.utils.data.random_split(torch_data, [0.5, 0.5], generator=torch.Generator().manual_seed(0))
    with pytest.raises(TypeError, match="DataLoader: generator must be a dendrite.Generator"):
        DataLoader(data, shuffle=True, generator="seed")


def test_a_shuffled_loader_advances_its_generator_each_epoch():
    loader = DataLoader(TensorDataset(dendrite.arange(10)), batch_size=10, shuffle=True,
                        generator=dendrite.Generator().manual_seed(0))
    epochs = [next(iter(loader))[0].tolist() for _ in range(2)]
    assert epochs[0] != epochs[1]


def test_the_default_generator_in_a_loader_follows_manual_seed():
    loader = DataLoader(TensorDataset(dendrite.arange(10)), batch_size=10, shuffle=True,
                        generator=dendrite.default_generator)
    dendrite.manual_seed(0)
    first = next(iter(loader))[0].tolist()
    dendrite.manual_seed(0)  # reseeding the global stream after the loader was made still counts
    assert next(iter(loader))[0].tolist() == first
