"""Interoperability: weights on disk (safetensors, npz, PyTorch files)."""

from dendrite.interop.serialization import WeightsFileError, load, save
