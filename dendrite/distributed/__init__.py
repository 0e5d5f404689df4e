"""``dendrite.distributed``: data-parallel training over MPI (mpi4py), with ``torch.distributed``'s names.

Run the same script on K processes with MPI's launcher::

    mpirun -n 4 python train.py            # or: mpirun -n 4 dendrite train mlp --data digits --distributed

and in it::

    from dendrite import distributed as dist
    dist.init()
    model = dist.DistributedDataParallel(model)              # rank 0's weights everywhere
    loader = DataLoader(data, batch_size=B, sampler=dist.DistributedSampler(data, seed=0))
    ...  loss.backward()                                     # gradients averaged over the K ranks

or let :class:`DistributedTrainer` do the wrapping, the agreeing and the rank-0-only files.
K ranks with batch B per rank follow single-process training with batch K·B step for step:
see ``docs/distributed.md`` (what matches, the scaling model, the limits).

Needs the extra ``pip install "dendrite[mpi]"`` (mpi4py and Open MPI); ``import dendrite``
never imports mpi4py, and this package imports it only in :func:`init`.

Example:
    >>> from dendrite import distributed as dist
    >>> dist.init(); dist.get_rank(), dist.get_world_size()    # a plain process: rank 0 of 1
    (0, 1)
"""

from dendrite.distributed.communication import (
    DistributedError,
    ReduceOp,
    all_reduce,
    barrier,
    broadcast,
    get_rank,
    get_world_size,
    init,
    init_process_group,
    is_available,
    is_initialized,
)
from dendrite.distributed.parallel import (
    DistributedDataParallel,
    broadcast_optimizer_state,
    broadcast_parameters,
)
from dendrite.distributed.sampler import DistributedSampler
from dendrite.distributed.trainer import DistributedTrainer, synchronise_metric

__all__ = [
    "init", "init_process_group", "is_available", "is_initialized", "get_rank", "get_world_size", "barrier",
    "all_reduce", "broadcast", "ReduceOp", "DistributedError", "DistributedDataParallel",
    "broadcast_parameters", "broadcast_optimizer_state", "DistributedSampler", "DistributedTrainer",
    "synchronise_metric",
]
