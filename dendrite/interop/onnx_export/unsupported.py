"""The operations the ONNX exporter deliberately does not export, each with the reason.

Every ``Function`` of :mod:`dendrite.ops` and :mod:`dendrite.nn.functional` is
either handled (see ``HANDLERS`` in builder.py) or listed here; a test fails
when a new operation is neither, so adding an op means deciding about its
export. The reason is shown to the user when a model uses one of these.
"""

from __future__ import annotations

from dendrite.nn.functional.conv import ConvWeightGrad
from dendrite.nn.functional.linear import Bilinear
from dendrite.nn.functional.loss_binary import BinaryCrossEntropy, BinaryCrossEntropyWithLogits
from dendrite.nn.functional.loss_classification import CrossEntropy, NLLLoss
from dendrite.nn.functional.loss_distribution import KLDivergence
from dendrite.nn.functional.loss_regression import PointwiseLoss
from dendrite.nn.functional.sparse import EmbeddingBag
from dendrite.ops.cumulative import CumProd
from dendrite.ops.graph_operands import LinearMap
from dendrite.ops.indexing_scatter import IndexAdd, Scatter, ScatterAdd
from dendrite.ops.inplace_fill import Fill
from dendrite.ops.inplace_graph import AsStrided, CopySlices
from dendrite.ops.linalg import DiagEmbed, Diagonal
from dendrite.ops.math import Atan2

_LOSS = "a loss is computed in training, not part of the exported model's forward pass"
_IN_PLACE = "in-place writes (x[i] = v, y.copy_(...)) are not exported; write the model out of place"
_NO_ONNX_OP = "ONNX has no operator for it; compose it from supported operations to export"
_GRADIENT = "recorded only by double backward (create_graph=True): part of a gradient, not of a forward pass"

UNSUPPORTED: dict[type, str] = {
    CumProd: _NO_ONNX_OP + " (ONNX has CumSum only)",
    IndexAdd: "in-graph scatter updates are not exported; export the model that uses their result",
    Scatter: "in-graph scatter updates are not exported; export the model that uses their result",
    ScatterAdd: "in-graph scatter updates are not exported; export the model that uses their result",
    DiagEmbed: _NO_ONNX_OP,
    Diagonal: _NO_ONNX_OP,
    Atan2: _NO_ONNX_OP,
    Fill: _IN_PLACE,
    AsStrided: _IN_PLACE,
    CopySlices: _IN_PLACE,
    Bilinear: _NO_ONNX_OP + " (nn.Bilinear)",
    EmbeddingBag: _NO_ONNX_OP + " (nn.EmbeddingBag: bags of variable length); for bags of equal length, "
                                "export nn.Embedding followed by a sum, mean or max over the bag axis",
    CrossEntropy: _LOSS,
    NLLLoss: _LOSS,
    BinaryCrossEntropy: _LOSS,
    BinaryCrossEntropyWithLogits: _LOSS,
    KLDivergence: _LOSS,
    PointwiseLoss: _LOSS,
    LinearMap: _GRADIENT,
    ConvWeightGrad: _GRADIENT,
}
