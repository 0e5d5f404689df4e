"""Run under ``mpirun -n K``: DistributedDataParallel with batch B per rank vs one process with batch K·B.

``python ddp_match.py mlp|cnn OUT.json``. Every rank seeds its model differently (so only the
initial broadcast can make them equal); rank 0 also trains the single-process reference (same
initial weights, the sampler's order with ``num_replicas=1``, batch K·B) and writes
``{"max_difference", "max_rank_spread", "steps", "world_size"}`` to OUT.json.
"""

import json
import sys

import numpy as np

import dendrite
from dendrite import distributed as dist
from dendrite import nn, optim
from dendrite.data import DataLoader, TensorDataset

BATCH, EPOCHS, SAMPLES = 6, 2, 48


def build(kind: str, seed: int):
    dendrite.manual_seed(seed)
    if kind == "mlp":
        model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    else:
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3),
                              nn.Tanh(), nn.Flatten(), nn.Linear(6 * 2 * 2, 3))
    return model.double()


def data(kind: str):
    rng = np.random.default_rng(0)
    shape = (SAMPLES, 5) if kind == "mlp" else (SAMPLES, 1, 8, 8)
    return TensorDataset(rng.normal(size=shape), rng.integers(0, 3, SAMPLES))


def train(model, loader, sampler, steps: list, interleave: bool = False) -> None:
    """SGD with momentum; ``interleave``: an unrelated backward between each forward and its backward."""
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)
        for inputs, target in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), target)
            if interleave:  # must not take the place of the model's own backward
                (dendrite.ones(2, requires_grad=True) * 3).sum().backward()
            loss.backward()
            optimizer.step()
            steps.append(float(loss.item()))


class OneHeadUsed(nn.Module):
    def __init__(self):
        super().__init__()
        self.used, self.unused = nn.Linear(2, 1), nn.Linear(2, 1)

    def forward(self, inputs):
        return self.used(inputs)


def unused_parameter_message() -> str:
    """The error of the forward after a backward that left parameters without a gradient."""
    model = dist.DistributedDataParallel(OneHeadUsed())
    model(dendrite.ones(1, 2)).sum().backward()
    try:
        model(dendrite.ones(1, 2))
    except RuntimeError as error:
        return str(error)
    return "no error"


def optimizer_state_agrees(rank: int) -> bool:
    """Rank 0's Adam state (after one step) reaches the others, whose optimizers never stepped."""
    model = build("mlp", seed=1)
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    if rank == 0:
        model(dendrite.ones(2, 5, dtype=dendrite.float64)).sum().backward()
        optimizer.step()
        optimizer.param_groups[0]["lr"] = 0.05
    dist.broadcast_optimizer_state(optimizer)
    state = optimizer.state_dict()
    arrays = [value.detach().numpy() if hasattr(value, "detach") else np.asarray(value, dtype=np.float64)
              for entry in state["state"].values() for value in entry.values()]
    summary = np.array([len(state["state"]), state["param_groups"][0]["lr"],
                        sum(float(np.abs(array).sum()) for array in arrays)])
    low, high = summary.copy(), summary.copy()
    dist.all_reduce(low, "min")
    dist.all_reduce(high, "max")
    return bool(np.array_equal(low, high) and summary[0] == 6 and summary[1] == 0.05 and summary[2] > 0)


def later_buckets(model) -> int:
    """How many buckets hold no parameter of the first layer (all complete before its backward)."""
    first = {id(parameter) for parameter in model.module[0].parameters()}
    return sum(all(id(parameter) not in first for parameter in bucket.parameters)
               for bucket in model._buckets)


def main(kind: str, out: str) -> None:
    dist.init()
    rank, size = dist.get_rank(), dist.get_world_size()
    dataset = data(kind)
    if rank == 0:  # the reference first, before any DistributedDataParallel exists
        reference = build(kind, seed=100)  # rank 0's seed: its weights are broadcast
        sampler = dist.DistributedSampler(dataset, num_replicas=1, rank=0, seed=7)
        train(reference, DataLoader(dataset, batch_size=BATCH * size, sampler=sampler), sampler, [])
    model = dist.DistributedDataParallel(build(kind, seed=100 + rank), bucket_cap_mb=0.001)  # several buckets
    # Overlap: when the gradient reaches the first layer's output (its own backward still to come),
    # the later layers' buckets must already be on their way.
    launched: list = []

    def watch_first_layer(layer, inputs, output) -> None:
        output.register_hook(lambda grad: launched.append(len(model._requests)))

    model.module[0].register_forward_hook(watch_first_layer)
    sampler = dist.DistributedSampler(dataset, seed=7)
    steps: list = []
    train(model, DataLoader(dataset, batch_size=BATCH, sampler=sampler), sampler, steps, interleave=True)
    spread = 0.0
    for parameter in model.module.parameters():  # every rank must hold rank 0's values
        mine = parameter.detach().numpy().copy()
        theirs = mine.copy()
        dist.broadcast(theirs, 0)
        spread = max(spread, float(np.abs(mine - theirs).max()))
    unused = unused_parameter_message()
    optimizer_state = optimizer_state_agrees(rank)
    spread_all = np.array([spread])
    dist.all_reduce(spread_all, "max")
    if rank == 0:
        difference = max(float(np.abs(a.detach().numpy() - b.detach().numpy()).max())
                         for a, b in zip(reference.parameters(), model.module.parameters()))
        with open(out, "w") as file:
            json.dump({"max_difference": difference, "max_rank_spread": float(spread_all[0]),
                       "steps": len(steps), "world_size": size, "buckets": len(model._buckets),
                       "unused": unused, "optimizer_state_agrees": optimizer_state,
                       "launched_before_first_layer": sorted(set(launched)),
                       "buckets_after_first_layer": later_buckets(model)}, file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
