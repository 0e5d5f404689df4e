"""Small models that together use every operation the ONNX exporter knows (test_interop_onnx.py).

``CASES[name] = (forward(module, x), input shape, sub-modules)``: ``Function`` wraps them
into a Module. The first input dimension is the batch.
"""

from __future__ import annotations

import dendrite
import dendrite.nn.functional as F
from dendrite import nn


class Function(nn.Module):
    """A model that applies ``function(self, x)``; keyword modules become its sub-modules."""

    def __init__(self, function, **modules) -> None:
        super().__init__()
        self.function = function
        for name, module in modules.items():
            setattr(self, name, module)

    def forward(self, x):
        return self.function(self, x)


def gelu(s, x):
    return F.gelu(x) + F.gelu(x, approximate="tanh")


def elu_family(s, x):
    return F.elu(x, 0.7) + F.selu(x) + F.celu(x, 1.3)


def smooth_activations(s, x):
    return F.silu(x) + F.mish(x) + F.softplus(x * 3, beta=2.0, threshold=3.0)


def hard_activations(s, x):
    return F.hardtanh(x, -0.5, 0.7) + F.hardsigmoid(x * 3) + F.hardswish(x * 3) + F.relu6(x * 4)


def logsigmoid_threshold(s, x):
    return F.logsigmoid(x) + F.threshold(x, 0.1, -2.0) + F.softsign(x)


def softmax(s, x):
    return F.softmax(x, dim=-1) + F.log_softmax(x, dim=1) + x.logsumexp(1, keepdim=True)


def math(s, x):
    positive = x.abs() + 1
    return (x.exp() + positive.log() + positive.sqrt() + x.sin() * x.cos() + x.tanh() + x.sigmoid()
            + (x * x + 1).rsqrt() + x.exp2() + x.expm1() + positive.log2() + positive.log10()
            + x.abs().log1p())


def arithmetic(s, x):
    return (x + 1) * 2 - x / 3 + x ** 2 + 2 ** x - (1 - x) + 1 / (x.abs() + 1) + (-x)


def rounding(s, x):
    y = x * 3
    return y.floor() + y.ceil() + y.trunc() + y.round() + x.sign() + y.frac() + (x * 30).round(decimals=1)


def clamp_maximum(s, x):
    return x.clamp(-0.5, 0.5) + x.clamp(min=0.1) + dendrite.maximum(x, x * 0.3) + dendrite.minimum(x, -x)


def reductions(s, x):
    return (x.sum(1, keepdim=True) + x.mean(-1, keepdim=True) + x.amax(1, keepdim=True)
            + x.max(1, keepdim=True).values + x.min(dim=1, keepdim=True)[0] + x.var(1, keepdim=True)
            + x.std(1, keepdim=True) + x.norm(dim=1, keepdim=True) + x.sum())


def reshape_permute_cat(s, x):
    batch = x.shape[0]
    pieces = [x.permute(0, 2, 1).reshape(batch, -1), x.flatten(1), x.unsqueeze(1).squeeze(1).view(batch, 12)]
    return dendrite.cat(pieces, 1)


def stack_split_chunk(s, x):
    return dendrite.stack(list(x.chunk(3, dim=1)), dim=2).sum(-1) + x.split([1, 2], dim=1)[0]


def indexing(s, x):
    return (x[:, 1:3, ::2].sum(-1).sum(-1, keepdim=True) + x[..., -1] + x[:, None, 0, 1:].sum(-1)
            + x[:, [0, 2, 2]].sum(-1) + x[:, ::-1, -1])


def flip_roll_repeat_expand(s, x):
    return x.flip(1) + x.roll(1, 1) + x.repeat(1, 2)[:, :6] + x[:, :1].expand(x.shape[0], 6)


def matmul_einsum(s, x):
    return x @ x.transpose(1, 2) + dendrite.einsum("bij,bkj->bik", x, x)


def tril_cumsum(s, x):
    return x.tril() + x.triu(1) + x.cumsum(1)


def comparisons_where(s, x):
    return (dendrite.where(x > 0, x, 0.1 * x) + (x >= 0.5).float() + ((x < 0) & (x > -1)).float()
            + x.masked_fill(x == x.max(), 0.0) + (x != 0).float())


def argmax(s, x):
    return (x.argmax(1, keepdim=True) + x.argmin(1, keepdim=True)).float() + x.argmax().float()


def norms(s, x):
    return s.layer(x) + s.group(x) + s.instance(x) + s.rms(x)


def pooling_1d(s, x):
    return F.avg_pool1d(F.max_pool1d(s.conv(x), 2, ceil_mode=True), 2, padding=1, count_include_pad=False)


def unbatched_conv(s, x):
    return s.conv(x[0]).unsqueeze(0)


def padding(s, x):
    return (F.pad(x, (1, 2, 0, 1))[..., :5, :6] + F.pad(x, (1, 1, 1, 1), mode="reflect")[..., :5, :6]
            + F.pad(x, (2, 0, 0, 1), mode="replicate")[..., :5, :6])


def adaptive_pooling(s, x):
    return (F.adaptive_avg_pool2d(x, (3, 2)).sum((2, 3)) + F.adaptive_max_pool2d(x, 2).sum((2, 3))
            + F.adaptive_max_pool2d(x, 1).flatten(1))


def interpolate(s, x):
    return (F.interpolate(x, scale_factor=2, mode="nearest")
            + F.interpolate(x, size=(10, 12), mode="bilinear", align_corners=False))


def lstm_zero_state(s, x):
    zeros = dendrite.zeros(1, x.shape[0], 6)  # made in forward, sized by the batch
    return s.lstm(x, (zeros, zeros))[0]


def first_output(s, x):
    return s.layer(x)[0]


CASES = {
    "gelu": (gelu, (4, 6), {}),
    "elu_family": (elu_family, (4, 6), {}),
    "smooth_activations": (smooth_activations, (4, 6), {}),
    "hard_activations": (hard_activations, (4, 6), {}),
    "logsigmoid_threshold": (logsigmoid_threshold, (4, 6), {}),
    "softmax": (softmax, (4, 6), {}),
    "math": (math, (4, 6), {}),
    "arithmetic": (arithmetic, (4, 6), {}),
    "rounding": (rounding, (4, 6), {}),
    "clamp_maximum": (clamp_maximum, (4, 6), {}),
    "reductions": (reductions, (4, 6), {}),
    "reshape_permute_cat": (reshape_permute_cat, (4, 3, 4), {}),
    "stack_split_chunk": (stack_split_chunk, (4, 3), {}),
    "indexing": (indexing, (4, 3, 5), {}),
    "flip_roll_repeat_expand": (flip_roll_repeat_expand, (4, 6), {}),
    "matmul_einsum": (matmul_einsum, (4, 3, 5), {}),
    "tril_cumsum": (tril_cumsum, (4, 4), {}),
    "comparisons_where": (comparisons_where, (4, 6), {}),
    "argmax": (argmax, (4, 6), {}),
    "norms": (norms, (4, 6, 5), dict(layer=nn.LayerNorm(5), group=nn.GroupNorm(3, 6), rms=nn.RMSNorm(5),
                                     instance=nn.InstanceNorm1d(6, affine=True))),
    "batchnorm_without_running_stats": (lambda s, x: s.bn(x), (5, 6),
                                        dict(bn=nn.BatchNorm1d(6, track_running_stats=False))),
    "pooling_1d": (pooling_1d, (2, 3, 11), dict(conv=nn.Conv1d(3, 4, 3, padding=2, dilation=2))),
    "conv_groups_same": (lambda s, x: s.conv(x), (2, 4, 9, 9),
                         dict(conv=nn.Conv2d(4, 8, 3, padding="same", groups=2))),
    "conv_transpose1d": (lambda s, x: s.conv(x), (2, 4, 7),
                         dict(conv=nn.ConvTranspose1d(4, 2, 3, stride=2, output_padding=1))),
    "unbatched_conv": (unbatched_conv, (1, 3, 8, 8), dict(conv=nn.Conv2d(3, 2, 3))),
    "padding": (padding, (2, 3, 5, 6), {}),
    "adaptive_pooling": (adaptive_pooling, (2, 3, 6, 8), {}),
    "interpolate": (interpolate, (2, 3, 5, 6), {}),
    "bidirectional_gru": (first_output, (3, 5, 4),
                          dict(layer=nn.GRU(4, 6, num_layers=2, bidirectional=True, batch_first=True))),
    # Time-major layers get a time-major view of a batch-first input: the model input's batch is axis 0
    # (an input handed straight to a time-major layer has its batch on axis 1: test_onnx_recurrent.py).
    "bidirectional_lstm_state": (lambda s, x: s.lstm(x.transpose(0, 1))[1][1], (3, 5, 4),
                                 dict(lstm=nn.LSTM(4, 6, bidirectional=True))),
    "rnn_relu": (lambda s, x: s.layer(x.transpose(0, 1))[0], (3, 5, 4),
                 dict(layer=nn.RNN(4, 6, nonlinearity="relu", num_layers=2))),
    "lstm_zero_state": (lstm_zero_state, (3, 5, 4), dict(lstm=nn.LSTM(4, 6, batch_first=True))),
    "normalize_prelu": (lambda s, x: F.normalize(x, dim=1) + s.prelu(x), (4, 6), dict(prelu=nn.PReLU())),
    "dropout_eval": (lambda s, x: s.dropout(x) * 2, (4, 6), dict(dropout=nn.Dropout(0.5))),
    "linear_3d": (lambda s, x: s.linear(x), (4, 3, 6), dict(linear=nn.Linear(6, 2))),
    "glu_cast": (lambda s, x: F.glu(x, dim=1) + x[:, :3].double().float(), (4, 6), {}),
}
