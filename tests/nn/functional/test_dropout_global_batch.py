"""``global_batch_masks``: K ranks' dropout masks are, row by row, the mask one process draws for the batch.

Rank r of K holds rows r, r + K, ... of the global batch (DistributedSampler's split). Simulated
here in one process by restoring the generator's state before each "rank" (every rank of a real
job has the same state: same seed, same draws); the real 2-rank run is
tests/distributed/test_cli_distributed.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
import dendrite.nn.functional as F
from dendrite.backend import get_rng_state, set_rng_state
from dendrite.nn.functional.dropout import global_batch_masks

VARIANTS = {
    "dropout": lambda x: F.dropout(x, p=0.3),
    "dropout2d": lambda x: F.dropout2d(x, p=0.4),
    "alpha_dropout": lambda x: F.alpha_dropout(x, p=0.2, training=True),
}


def _shares(total: int, ranks: int) -> list[int]:
    return [len(range(rank, total, ranks)) for rank in range(ranks)]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("total, ranks", [(8, 2), (29, 2), (10, 3), (2, 3)])
def test_the_ranks_rows_are_the_single_process_mask_and_the_generators_stay_in_step(variant, total, ranks):
    apply = VARIANTS[variant]
    shape = (3, 4, 4) if variant == "dropout2d" else (5,)
    dendrite.manual_seed(7)
    start = get_rng_state()
    single = apply(dendrite.ones(total, *shape)).numpy()
    after_single = dendrite.rand(3).numpy()  # where the generator went on from
    for rank, local in enumerate(_shares(total, ranks)):
        set_rng_state(start)
        with global_batch_masks(rank, ranks, max(local, 1), total_size=lambda: total):
            mine = apply(dendrite.ones(max(local, 1), *shape)).numpy()
        np.testing.assert_array_equal(mine[:local], single[rank::ranks])
        np.testing.assert_array_equal(dendrite.rand(3).numpy(), after_single)
        if local == 0 and variant == "dropout":  # a weight-0 repeat on a rank with no samples left:
            np.testing.assert_allclose(mine, 1 / 0.7, rtol=1e-6)  # a row past the batch, all kept


def test_inputs_that_are_not_the_batch_and_ordinary_runs_draw_as_before():
    dendrite.manual_seed(3)
    start = get_rng_state()
    plain = F.dropout(dendrite.ones(6, 5), p=0.5).numpy()
    set_rng_state(start)
    with global_batch_masks(0, 2, local_size=4, total_size=8):  # first dimension 6 is not the local batch
        other = F.dropout(dendrite.ones(6, 5), p=0.5).numpy()
    np.testing.assert_array_equal(plain, other)


def test_the_total_is_asked_once_and_only_when_a_dropout_needs_it():
    asked = []

    def total() -> int:
        asked.append(1)
        return 4

    with global_batch_masks(0, 2, local_size=2, total_size=total):
        F.relu(dendrite.ones(2, 3))
    assert asked == []
    with global_batch_masks(0, 2, local_size=2, total_size=total):
        F.dropout(dendrite.ones(2, 3))
        F.dropout(dendrite.ones(2, 3))
    assert asked == [1]
