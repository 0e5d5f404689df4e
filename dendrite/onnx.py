"""``dendrite.onnx``: write a model as an ONNX file that onnxruntime (or any ONNX runtime) can run.

Needs the ``onnx`` package (``pip install "dendrite[onnx]"``); it is imported when
``export`` is called, never by ``import dendrite``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

__all__ = ["export", "supported_operations"]


def _exporter():
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ImportError('dendrite.onnx needs the onnx package: pip install "dendrite[onnx]"') from None
    from dendrite.interop import onnx_export

    return onnx_export


def export(model, example_input, path: str | os.PathLike | None, opset: int = 17, input_names=None,
           output_names=None, dynamic_batch: bool = True,
           batch_axes: Sequence[int | None] | Mapping[str, int | None] | None = None):
    """Export ``model`` to ONNX by tracing it on ``example_input``; returns the ``onnx.ModelProto``.

    The model runs once in eval mode (and again on a slightly different input, to find the
    batch-dependent dimensions and to refuse values that would be frozen wrongly); every
    recorded operation becomes ONNX nodes and every parameter and buffer an initializer named
    by its ``state_dict`` key. ``example_input`` is a tensor or a tuple of arguments, each a tensor
    or a tuple of tensors (``(x, (h0, c0))`` for an LSTM); the graph has one input per tensor, in
    order (integer inputs, such as token ids, become int64 graph inputs). With ``dynamic_batch``
    the batch dimension of every input is symbolic (``"batch"``), so the file runs on any batch
    size: axis 0, except for an input passed straight to an ``nn.RNN``/``nn.LSTM``/``nn.GRU`` as its
    hidden state (``(D*num_layers, N, H)``) or as a time-major sequence (``(T, N, F)``): axis 1.
    ``batch_axes`` overrides that: a list with one axis (or ``None``: no batch) per graph input, or
    a dict ``{input name: axis}``. Outputs (returned states included) get ``"batch"`` wherever their
    size follows the batch.
    Names default to ``input``/``output`` (``input_0``, ``input_1``... for several). The file
    is written atomically; ``path=None`` only returns the model. An operation without an
    ONNX form raises ``OnnxExportError`` naming it and the module it ran in.

    Shapes: the graph's inputs have the example inputs' shapes (``"batch"`` for dimension 0 with
    ``dynamic_batch``); its outputs have the shapes the model returned for them.

    Example:
        >>> import dendrite
        >>> from dendrite import nn
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> proto = dendrite.onnx.export(model, dendrite.randn(3, 4), "mlp.onnx")
        >>> [node.op_type for node in proto.graph.node]
        ['Gemm', 'Relu', 'Gemm']
        >>> [d.dim_param or d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim]
        ['batch', 2]
        >>> lstm = nn.LSTM(4, 8, num_layers=2)            # time-major, state in and out
        >>> x, h0, c0 = dendrite.randn(5, 3, 4), dendrite.zeros(2, 3, 8), dendrite.zeros(2, 3, 8)
        >>> proto = dendrite.onnx.export(lstm, (x, (h0, c0)), "lstm.onnx", input_names=["x", "h0", "c0"],
        ...                              output_names=["y", "h_n", "c_n"])
        >>> [[d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in proto.graph.input]
        [[5, 'batch', 4], [2, 'batch', 8], [2, 'batch', 8]]
    """
    return _exporter().export(model, example_input, path, opset=opset, input_names=input_names,
                              output_names=output_names, dynamic_batch=dynamic_batch, batch_axes=batch_axes)


def supported_operations() -> list[str]:
    """The dendrite operations (``module.Function`` names) that have an ONNX form, sorted.

    Example:
        >>> import dendrite.onnx
        >>> "linear.Linear" in dendrite.onnx.supported_operations()
        True
    """
    return _exporter().supported_operations()
