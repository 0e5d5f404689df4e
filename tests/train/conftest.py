"""Fixtures for the train tests (helpers live in train_helpers.py)."""

from __future__ import annotations

import pytest

from tests.train.train_helpers import make_blobs, make_loader, make_model


@pytest.fixture
def blobs():
    return make_blobs()


@pytest.fixture
def setup(blobs):
    """(model, loss, optimizer, train_loader, val_loader) for a 2-class problem."""
    from dendrite import nn, optim

    points, labels = blobs
    model = make_model()
    loader = make_loader(points[:96], labels[:96])
    val_loader = make_loader(points[96:], labels[96:], shuffle=False)
    return model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), loader, val_loader
