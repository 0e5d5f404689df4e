"""Run under ``mpirun -n K``: DistributedTrainer (batch B per rank) vs Trainer (batch K·B), and more.

``python trainer_match.py OUT_DIR``. Rank 0 trains the single-process reference first; then
every rank trains a differently seeded model with a :class:`DistributedTrainer` whose
callbacks would write per-rank files (only rank 0's may appear); then a second fit in which
only the last rank asks to stop after epoch 1. Rank 0 writes OUT_DIR/result.json.
"""

import json
import sys
from pathlib import Path

import numpy as np

import dendrite
from dendrite import distributed as dist
from dendrite import nn, optim
from dendrite.data import DataLoader, TensorDataset
from dendrite.train import CSVLogger, LambdaCallback, Trainer
from dendrite.train.checkpoint_state import TrainingCheckpoint

# 65 samples: rank 0 gets 33 (batches 8, 8, 8, 8, 1), rank 1 32 (8, 8, 8, 8 and a weight-0 repeat)
BATCH, EPOCHS, SAMPLES = 8, 3, 65


def build(seed: int):
    dendrite.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 12), nn.ReLU(), nn.Linear(12, 3)).double()


def loaders(dataset, batch, replicas=None, rank=None):
    sampler = dist.DistributedSampler(dataset, num_replicas=replicas, rank=rank, seed=5, pad=False)
    return DataLoader(dataset, batch_size=batch, sampler=sampler), DataLoader(dataset, batch_size=20)


def main(out: str) -> None:
    out = Path(out)
    dist.init()
    rank, size = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(1)
    points = rng.normal(size=(SAMPLES, 4))
    dataset = TensorDataset(points, (points[:, 0] + points[:, 1] > 0).astype(np.int64) + (points[:, 2] > 1))
    result = {}
    if rank == 0:
        model = build(100)
        train_loader, val_loader = loaders(dataset, BATCH * size, 1, 0)
        optimizer = optim.Adam(model.parameters(), lr=0.02)
        trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, progress=False)
        result["reference"] = trainer.fit(train_loader, EPOCHS, val_loader).history
    model = build(100 + rank)
    train_loader, val_loader = loaders(dataset, BATCH)
    callbacks = [CSVLogger(out / f"log-rank{rank}.csv"), TrainingCheckpoint(out / f"checkpoint-rank{rank}")]
    trainer = dist.DistributedTrainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.02),
                                      callbacks=callbacks, progress=True)
    history = trainer.fit(train_loader, EPOCHS, val_loader).history
    last = size - 1
    stopper = LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(trainer, "stop_training", epoch >= 1))
    trainer.callbacks = [stopper] if rank == last else []
    stopped = trainer.fit(train_loader, 5, val_loader).history
    dist.barrier()
    if rank == 0:
        result.update(distributed=history, epochs_after_stop=len(stopped["loss"]),
                      stop_reason=trainer.stop_reason, files=sorted(path.name for path in out.iterdir()))
        (out / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
