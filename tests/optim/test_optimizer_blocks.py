"""Optimizers update a block at a time (dendrite/optim/blocks.py): same bits, no parameter-sized temporary."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import dendrite
from dendrite import optim
from dendrite.optim import blocks

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, maximize=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.25, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9)),
    ("RMSprop", dict(lr=0.01)),
    ("Adadelta", dict(weight_decay=0.01)),
]
SHAPES = [(3, blocks.BLOCK + 7), (5,), (2 * blocks.BLOCK,)]  # several blocks, one, exactly two


def _trajectory(name: str, options: dict) -> list:
    rng = np.random.default_rng(0)
    params = [dendrite.nn.Parameter(dendrite.tensor(rng.standard_normal(shape).astype(np.float32)))
              for shape in SHAPES]
    optimizer = getattr(optim, name)(params, **options)
    for _ in range(3):
        for param in params:
            param.grad = dendrite.tensor(rng.standard_normal(param.shape).astype(np.float32))
        optimizer.step()
    return [param.detach().numpy().copy() for param in params]


@pytest.mark.parametrize("name, options", CONFIGS, ids=[f"{n}-{sorted(o)}" for n, o in CONFIGS])
def test_blocks_give_the_bits_of_the_whole_array_update(name, options, monkeypatch):
    blocked = _trajectory(name, options)
    monkeypatch.setattr(blocks, "BLOCK", 10**12)  # every array in one piece: the whole-array form
    whole = _trajectory(name, options)
    for ours, reference in zip(blocked, whole):
        assert ours.view(np.uint32).tobytes() == reference.view(np.uint32).tobytes()


@pytest.mark.parametrize("name, options", CONFIGS[:1] + CONFIGS[4:6], ids=["SGD", "Adam", "AdamW"])
def test_a_step_allocates_no_parameter_sized_temporary(name, options):
    param = dendrite.nn.Parameter(dendrite.zeros(512, 784))  # 1.6 MB of float32
    param.grad = dendrite.ones(512, 784)
    optimizer = getattr(optim, name)([param], **options)
    optimizer.step()  # the state (Adam's moments) is made on the first step
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        optimizer.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - start < param.numel() * 4 // 4, f"{name}.step allocated {peak - start} bytes at its peak"


def test_blocks_fall_back_to_whole_arrays_when_they_cannot_be_sliced_alike():
    fortran = np.asfortranarray(np.ones((300, 300)))
    pieces = list(blocks.blocks(fortran, np.ones((300, 300))))
    assert len(pieces) == 1 and pieces[0][0] is fortran
    flat = list(blocks.blocks(np.ones(2 * blocks.BLOCK + 1), None))
    assert [piece[0].size for piece in flat] == [blocks.BLOCK, blocks.BLOCK, 1]
    assert all(piece[1] is None for piece in flat)
