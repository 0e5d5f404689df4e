"""Run under ``mpirun -n 2``: train with a checkpoint each epoch; the last rank fails at epoch 4's start.

``python rank_dies.py OUT_DIR exit|raise|stall``: ``exit`` ends the last rank with ``os._exit(3)`` (no
Python cleanup, as a crash or a kill would), ``raise`` with an uncaught ``ValueError``, and ``stall``
makes it sleep for a minute (a hung rank) while the others' collectives time out after 2 s.
"""

import os
import sys
import time
from pathlib import Path

import numpy as np

import dendrite
from dendrite import distributed as dist
from dendrite import nn, optim
from dendrite.data import DataLoader, TensorDataset
from dendrite.train import LambdaCallback
from dendrite.train.checkpoint_state import TrainingCheckpoint


def die(how: str) -> None:
    if how == "exit":
        os._exit(3)
    if how == "stall":
        time.sleep(60)
    raise ValueError("this rank failed on purpose")


def main(out: str, how: str) -> None:
    dist.init(timeout=2 if how == "stall" else None)
    rank, last = dist.get_rank(), dist.get_world_size() - 1
    dendrite.manual_seed(0)
    rng = np.random.default_rng(0)
    points = rng.normal(size=(40, 3)).astype(np.float32)
    dataset = TensorDataset(points, (points[:, 0] > 0).astype(np.int64))
    loader = DataLoader(dataset, batch_size=5, sampler=dist.DistributedSampler(dataset))
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    callbacks = [TrainingCheckpoint(Path(out))]
    if rank == last:
        callbacks.append(LambdaCallback(on_epoch_begin=lambda epoch, logs: die(how) if epoch == 3 else None))
    trainer = dist.DistributedTrainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                                      callbacks=callbacks, progress=False)
    trainer.fit(loader, epochs=8)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
