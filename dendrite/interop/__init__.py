"""Interoperability: weights on disk, PyTorch weights in, transfer learning, ONNX out.

* :func:`save` / :func:`load` -- state dicts and checkpoints, called as ``torch.save``/``torch.load``,
  stored as safetensors (or ``.npz``), never pickled; PyTorch ``.pt`` files are read, not written;
* :func:`compare_with_torch`, :func:`copy_weights_from_torch` -- PyTorch parity (torch loads lazily);
* :func:`freeze` / :func:`unfreeze` -- transfer learning;
* ONNX export lives in :mod:`dendrite.onnx` (``dendrite.onnx.export``), onnx loads lazily.
"""

from dendrite.interop.freeze import freeze, frozen_parameter_names, unfreeze
from dendrite.interop.serialization import WeightsFileError, load, save
from dendrite.interop.torch_compat import TorchComparison, compare_with_torch, copy_weights_from_torch
