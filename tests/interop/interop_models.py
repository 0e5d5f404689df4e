"""Twin models for the interop tests: one definition, built with ``dendrite.nn`` or ``torch.nn``.

dendrite follows PyTorch's module names, constructor arguments and state_dict keys, so
each builder takes the ``nn`` namespace and returns the same architecture; weights
therefore move between the twins by name, without renaming.
"""

from __future__ import annotations

import numpy as np


def mlp(nn):
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(),
                         nn.Linear(16, 4))


def cnn(nn):
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, stride=1), nn.BatchNorm2d(16), nn.LeakyReLU(0.1), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(16 * 2 * 2, 5),
    )


def resnet(nn):
    class Block(nn.Module):
        def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels_out)
            self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels_out)
            self.relu = nn.ReLU()
            self.downsample = None
            if stride != 1 or channels_in != channels_out:
                self.downsample = nn.Sequential(
                    nn.Conv2d(channels_in, channels_out, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(channels_out))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class ResNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
            self.layer1 = Block(8, 8, 1)
            self.layer2 = Block(8, 16, 2)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(16, 10)

        def forward(self, x):
            x = self.layer2(self.layer1(self.stem(x)))
            return self.fc(self.pool(x).flatten(1))

    return ResNet()


def lstm_classifier(nn):
    class LSTMClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(20, 8)
            self.lstm = nn.LSTM(8, 12, num_layers=2, batch_first=True)
            self.head = nn.Linear(12, 3)

        def forward(self, tokens):
            output, _ = self.lstm(self.embedding(tokens))
            return self.head(output[:, -1])

    return LSTMClassifier()


def gru_classifier(nn):
    class GRUClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gru = nn.GRU(6, 10, batch_first=True)
            self.head = nn.Linear(10, 4)

        def forward(self, x):
            _, h_n = self.gru(x)
            return self.head(h_n[-1])

    return GRUClassifier()


def decoder(nn):
    return nn.Sequential(
        nn.Linear(8, 16 * 4 * 4), nn.ReLU(), nn.Unflatten(1, (16, 4, 4)),
        nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),
    )


# name -> (builder, example input shape, integer vocabulary size or None for float input)
MODELS = {
    "mlp": (mlp, (5, 3, 4), None),
    "cnn": (cnn, (4, 3, 12, 12), None),
    "resnet": (resnet, (3, 3, 16, 16), None),
    "lstm": (lstm_classifier, (4, 7), 20),
    "gru": (gru_classifier, (4, 9, 6), None),
    "decoder": (decoder, (3, 8), None),
}


def example(name: str, batch: int | None = None, seed: int = 0) -> np.ndarray:
    _, shape, vocabulary = MODELS[name]
    shape = shape if batch is None else (batch,) + shape[1:]
    rng = np.random.default_rng(seed)
    if vocabulary is not None:
        return rng.integers(0, vocabulary, shape).astype(np.int64)
    return rng.standard_normal(shape).astype(np.float32)


def warm_up_batchnorm(model, forward, name: str, steps: int = 3) -> None:
    """Give BatchNorm layers non-trivial running statistics: a few train-mode passes, then eval().

    ``forward(model, array)`` runs the model on a NumPy input (either library).
    """
    model.train()
    for step in range(steps):
        forward(model, example(name, seed=100 + step) * 1.5 + 0.5 if MODELS[name][2] is None
                else example(name, seed=100 + step))
    model.eval()
