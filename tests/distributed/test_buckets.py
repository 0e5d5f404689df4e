"""Gradient buckets: PyTorch's assignment rule (``torch.distributed._compute_bucket_assignment_by_size``).

PyTorch's DDP assigns its buckets (after the first step) in the order the gradients become ready,
the first bucket capped at 1 MiB; dendrite assigns them once, in reverse registration order (the
order backward reaches a feed-forward model's parameters) with the same rule, so for these models the
buckets are PyTorch's. No MPI needed.
"""

from __future__ import annotations

import pytest

import dendrite
from dendrite.distributed.parallel import FIRST_BUCKET_BYTES, bucket_assignment

torch = pytest.importorskip("torch")
torch_distributed = pytest.importorskip("torch.distributed")

MB = 1024 * 1024


def _mlp(library, dtype_change: bool = False):
    model = library.nn.Sequential(library.nn.Linear(784, 512), library.nn.ReLU(), library.nn.Linear(512, 512),
                                  library.nn.ReLU(), library.nn.Linear(512, 10))
    if dtype_change:  # a float64 layer in the middle: buckets hold one dtype each
        model[2].double()
    return model


def _cnn(library, dtype_change: bool = False):
    layers = library.nn
    model = layers.Sequential(layers.Conv2d(1, 32, 5, padding=2), layers.ReLU(), layers.MaxPool2d(2),
                              layers.Conv2d(32, 64, 5, padding=2), layers.ReLU(), layers.MaxPool2d(2),
                              layers.Flatten(), layers.Linear(3136, 256), layers.ReLU(),
                              layers.Linear(256, 10))
    if dtype_change:  # a float64 layer in the middle: buckets hold one dtype each
        model[7].double()
    return model


@pytest.mark.parametrize("build", [_mlp, _cnn])
@pytest.mark.parametrize("limits", [(FIRST_BUCKET_BYTES, 25 * MB), (2000, 2000), (MB // 4, MB)])
@pytest.mark.parametrize("dtype_change", [False, True])
def test_buckets_are_pytorchs_for_the_reversed_parameters(build, limits, dtype_change):
    if not torch_distributed.is_available():
        pytest.skip("this PyTorch build has no torch.distributed")
    first, cap = limits
    ours = list(build(dendrite, dtype_change).parameters())
    position = {id(parameter): index for index, parameter in enumerate(reversed(ours))}
    mine = [[position[id(parameter)] for parameter in bucket]
            for bucket in bucket_assignment(ours, cap / MB, first)]
    theirs = list(reversed(list(build(torch, dtype_change).parameters())))
    expected, _ = torch_distributed._compute_bucket_assignment_by_size(theirs, [first, cap])
    assert mine == expected


def test_a_given_cap_applies_to_the_first_bucket_too():
    parameters = list(_mlp(dendrite).parameters())
    assert [len(bucket) for bucket in bucket_assignment(parameters, 25.0)] == [4, 2]  # 1 MiB first bucket
    assert [len(bucket) for bucket in bucket_assignment(parameters, 25.0, None)] == [6]
