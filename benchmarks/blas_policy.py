"""dendrite's per-product BLAS thread choice on and off, in one process: training steps of small models.

Each model's training step (as in run.py) alternates between the policy on
(products below ``dendrite.utils.blas.SERIAL_BELOW_FLOPS`` on one thread) and
off (every product on the whole pool, dendrite before the policy), so that the
machine's load hits both alike. Reported: the median step of each and their
ratio (on / off: below 1 means the policy is faster).

    python benchmarks/blas_policy.py
    python benchmarks/blas_policy.py --steps 100 --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import time

import harness  # first: it sets the threads before NumPy loads
from harness import np

MODELS = {  # name: (description, batch, input shape)
    "gru-digits": ("GRU(8, 128) over 8 steps + Linear(128, 10), batch 64 (the gru recipe)", 64, (8, 8)),
    "lenet-digits": ("Conv(1, 16, 3) Pool Conv(16, 32, 3) Pool Linear(128, 10) on 1x8x8, batch 64", 64,
                     (1, 8, 8)),
    "mlp": ("MLP 784-512-512-10, batch 128 (run.py mlp)", 128, (784,)),
    "lstm": ("LSTM(64, 256) over 50 steps + Linear(256, 10), batch 32 (run.py lstm)", 32, (50, 64)),
}


def build(name: str):
    import dendrite
    from dendrite import nn

    dendrite.manual_seed(0)
    if name == "lenet-digits":
        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(128, 10))
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                             nn.Linear(512, 10))
    cell, inputs, hidden = (nn.GRU, 8, 128) if name == "gru-digits" else (nn.LSTM, 64, 256)

    class LastStep(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.head = cell(inputs, hidden, batch_first=True), nn.Linear(hidden, 10)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    return LastStep()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(MODELS), help="models to run")
    parser.add_argument("--steps", type=int, default=60, help="timed steps per setting")
    parser.add_argument("--threads", default="2", help="the BLAS pool (default 2)")
    args = parser.parse_args(argv)
    import dendrite
    from dendrite.utils import blas

    dendrite.set_num_threads(int(args.threads))
    threshold = blas.SERIAL_BELOW_FLOPS
    print(harness.machine().split(", PyTorch")[0] + f", BLAS pool {args.threads}, serial below "
          f"{threshold / 1e6:g} MFLOP", flush=True)
    for name in args.only or list(MODELS):
        description, batch, shape = MODELS[name]
        rng = np.random.default_rng(0)
        x = rng.standard_normal((batch, *shape)).astype(np.float32)
        runner = harness.Runner(dendrite, build(name), x, rng.integers(0, 10, batch))
        times = {True: [], False: []}
        for index in range(args.steps + 2):
            for policy in (True, False) if index % 2 else (False, True):
                blas.SERIAL_BELOW_FLOPS = threshold if policy else 0
                start = time.perf_counter()
                runner.step()
                if index >= 2:
                    times[policy].append(time.perf_counter() - start)
        on, off = statistics.median(times[True]), statistics.median(times[False])
        print(f"{name:>13}  policy on {on * 1e3:9.3f} ms   off (whole pool) {off * 1e3:9.3f} ms   "
              f"ratio {on / off:5.2f}   {description}", flush=True)
    blas.SERIAL_BELOW_FLOPS = threshold
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
