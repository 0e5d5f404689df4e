"""Registry entries: movement, indexing, joining/splitting and linear algebra."""

from __future__ import annotations

import numpy as np

from tests.ops.registry import OpInfo, Sample, indices, mask, randn


def _same(*shapes):
    return [Sample(tuple(randn(*shape) for shape in shapes))]


X34 = [Sample((randn(3, 4),)), Sample((randn(3, 4),), layout="transposed")]
X234 = [Sample((randn(2, 3, 4),)), Sample((randn(2, 3, 4),), layout="strided")]


def _scatter_add_ref(x, index, src):
    result = x.copy()
    for i in range(index.shape[0]):
        for j in range(index.shape[1]):
            result[i, index[i, j]] += src[i, j]
    return result


OPS = [
    # ------------------------------------------------------------------ movement
    OpInfo("reshape", lambda m, x: x.reshape(4, -1), lambda x: x.reshape(4, -1), X34 + X234[:1]),
    OpInfo("reshape_function_tuple", lambda m, x: m.reshape(x, (2, 2, 3)), lambda x: x.reshape(2, 2, 3), X34),
    OpInfo("view", lambda m, x: x.view(-1), lambda x: x.reshape(-1), X34[:1]),
    OpInfo("transpose", lambda m, x: x.transpose(0, 2), lambda x: np.swapaxes(x, 0, 2), X234),
    OpInfo("transpose_negative", lambda m, x: m.transpose(x, -1, -2), lambda x: np.swapaxes(x, -1, -2), X34),
    OpInfo("T", lambda m, x: x.T, lambda x: x.T, X34),
    OpInfo("mT", lambda m, x: x.mT, lambda x: np.swapaxes(x, -1, -2), X234),
    OpInfo("t", lambda m, x: x.t(), lambda x: x.T, X34),
    OpInfo("permute", lambda m, x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), X234),
    OpInfo(
        "permute_function", lambda m, x: m.permute(x, (1, 2, 0)), lambda x: x.transpose(1, 2, 0), X234[:1]
    ),
    OpInfo(
        "unsqueeze",
        lambda m, x, d: x.unsqueeze(d),
        lambda x, d: np.expand_dims(x, d),
        [Sample((randn(3, 4), 0)), Sample((randn(3, 4), -1)), Sample((randn(3, 4), 1)), Sample((randn(), 0))],
    ),
    OpInfo(
        "squeeze",
        lambda m, x, d: x.squeeze() if d is None else x.squeeze(d),
        lambda x, d: np.squeeze(x, d if d is None or x.shape[d] == 1 else ()),
        [Sample((randn(3, 1, 4, 1), None)), Sample((randn(3, 1, 4, 1), 1)), Sample((randn(3, 1, 4, 1), 0))],
    ),
    OpInfo(
        "squeeze_tuple",
        lambda m, x: x.squeeze((1, 3)),
        lambda x: x.reshape(3, 4),
        [Sample((randn(3, 1, 4, 1),))],
    ),
    OpInfo(
        "flatten",
        lambda m, x, start, end: x.flatten(start, end),
        lambda x, start, end: x.reshape(x.shape[:start] + (-1,) + x.shape[end % x.ndim + 1 :]),
        [Sample((randn(2, 3, 4), 0, -1)), Sample((randn(2, 3, 4), 1, -1)), Sample((randn(2, 3, 4), 0, 1))],
    ),
    OpInfo("unflatten", lambda m, x: x.unflatten(1, (2, 2)), lambda x: x.reshape(3, 2, 2), X34[:1]),
    OpInfo(
        "expand",
        lambda m, x: x.expand(2, 3, 4),
        lambda x: np.broadcast_to(x, (2, 3, 4)),
        [Sample((randn(3, 1),)), Sample((randn(1, 4),)), Sample((randn(4),))],
    ),
    OpInfo(
        "expand_minus_one",
        lambda m, x: x.expand(5, -1, 4),
        lambda x: np.broadcast_to(x, (5, 3, 4)),
        [Sample((randn(3, 1),))],
    ),
    OpInfo(
        "expand_as",
        lambda m, x, y: x.expand_as(y) * y,
        lambda x, y: x * y,
        [Sample((randn(3, 1), randn(2, 3, 4)))],
    ),
    OpInfo(
        "broadcast_to",
        lambda m, x: m.broadcast_to(x, (2, 3, 4)),
        lambda x: np.broadcast_to(x, (2, 3, 4)),
        [Sample((randn(3, 1),))],
    ),
    OpInfo("repeat", lambda m, x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3)), X34),
    OpInfo("tile", lambda m, x: m.tile(x, (2,)), lambda x: np.tile(x, (2,)), X34[:1]),
    OpInfo(
        "flip",
        lambda m, x, dims: x.flip(dims),
        lambda x, dims: np.flip(x, dims),
        [Sample((randn(2, 3, 4), (0, 2))), Sample((randn(3, 4), (1,)), layout="transposed")],
    ),
    OpInfo(
        "roll",
        lambda m, x, shifts, dims: m.roll(x, shifts, dims),
        lambda x, shifts, dims: np.roll(x, shifts, dims),
        [Sample((randn(3, 4), 1, 1)), Sample((randn(3, 4), (2, -1), (0, 1))), Sample((randn(3, 4), 5, None))],
    ),
    OpInfo("movedim", lambda m, x: m.movedim(x, 0, 2), lambda x: np.moveaxis(x, 0, 2), X234[:1]),
    OpInfo("narrow", lambda m, x: x.narrow(1, 1, 2), lambda x: x[:, 1:3], X34),
    OpInfo("select", lambda m, x: x.select(1, -1), lambda x: x[:, -1], X34),
    # ------------------------------------------------------------------ indexing
    OpInfo("getitem_basic", lambda m, x: x[1:, ::2, -1], lambda x: x[1:, ::2, -1], X234),
    OpInfo("getitem_int", lambda m, x: x[1], lambda x: x[1], X34),
    OpInfo("getitem_scalar_element", lambda m, x: x[1, -2], lambda x: np.asarray(x[1, -2]), X34[:1]),
    OpInfo(
        "getitem_none_ellipsis", lambda m, x: x[None, ..., 1:3, None], lambda x: x[None, ..., 1:3, None], X234
    ),
    OpInfo("getitem_list_repeats", lambda m, x: x[[0, 2, 0, 0]], lambda x: x[[0, 2, 0, 0]], X34),
    OpInfo(
        "getitem_tensor_index",
        lambda m, x, i: x[i],
        lambda x, i: x[i],
        [Sample((randn(5, 3), indices(5, 7)))],
    ),
    OpInfo(
        "getitem_tensor_index_2d",
        lambda m, x, i: x[:, i],
        lambda x, i: x[:, i],
        [Sample((randn(3, 5), indices(5, 2, 3)))],
    ),
    OpInfo(
        "getitem_two_index_arrays",
        lambda m, x, i, j: x[i, j],
        lambda x, i, j: x[i, j],
        [Sample((randn(3, 4), indices(3, 5), indices(4, 5)))],
    ),
    OpInfo(
        "getitem_mixed",
        lambda m, x, i: x[i, 1:],
        lambda x, i: x[i, 1:],
        [Sample((randn(3, 4), indices(3, 4)))],
    ),
    OpInfo(
        "getitem_bool_mask",
        lambda m, x, k: x[k],
        lambda x, k: x[k],
        [Sample((randn(3, 4), mask(3, 4))), Sample((randn(3, 4), mask(3)), name="rows")],
    ),
    OpInfo("getitem_comparison_mask", lambda m, x: x[x > 0], lambda x: x[x > 0], X34),
    OpInfo(
        "gather",
        lambda m, x, i: m.gather(x, 1, i),
        lambda x, i: np.take_along_axis(x[: i.shape[0]], i, 1),
        [
            Sample((randn(3, 4), indices(4, 3, 5))),
            Sample((randn(3, 4), indices(4, 2, 2)), name="smaller-index"),
        ],
    ),
    OpInfo(
        "gather_dim0",
        lambda m, x, i: x.gather(0, i),
        lambda x, i: np.take_along_axis(x, i, 0),
        [Sample((randn(3, 4), indices(3, 2, 4)))],
    ),
    OpInfo(
        "index_select",
        lambda m, x, i: m.index_select(x, 0, i),
        lambda x, i: x[i],
        [Sample((randn(4, 3), indices(4, 6))), Sample((randn(4, 3), indices(4, 6)), layout="transposed")],
    ),
    OpInfo(
        "masked_select",
        lambda m, x, k: m.masked_select(x, k),
        lambda x, k: x[k],
        [Sample((randn(3, 4), mask(3, 4)))],
    ),
    OpInfo(
        "take",
        lambda m, x, i: m.take(x, i),
        lambda x, i: x.reshape(-1)[i],
        [Sample((randn(3, 4), indices(12, 2, 3)))],
    ),
    OpInfo(
        "take_along_dim",
        lambda m, x, i: m.take_along_dim(x, i, 1),
        lambda x, i: np.take_along_axis(x, i, 1),
        [Sample((randn(3, 4), indices(4, 3, 2)))],
    ),
    OpInfo(
        "scatter_add",
        lambda m, x, i, s: m.scatter_add(x, 1, i, s),
        _scatter_add_ref,
        [Sample((randn(3, 4), indices(4, 3, 5), randn(3, 5)))],
    ),
    OpInfo(
        "scatter_value",
        lambda m, x: x.scatter(1, m.tensor([[0], [2], [3]]), 0.5),
        lambda x: np.where(np.arange(4) == np.array([[0], [2], [3]]), 0.5, x),
        X34[:1],
    ),
    OpInfo(
        "index_add",
        lambda m, x, i, s: x.index_add(0, i, s, alpha=2.0),
        lambda x, i, s: x + 2.0 * np.stack([s[i == r].sum(0) for r in range(x.shape[0])]),
        [Sample((randn(4, 3), np.array([0, 0, 3, 1, 0]), randn(5, 3)))],
    ),
    # ------------------------------------------------------------------ joining and splitting
    OpInfo(
        "cat",
        lambda m, a, b, c: m.cat([a, b, c], dim=1),
        lambda a, b, c: np.concatenate([a, b, c], 1),
        _same((3, 2), (3, 4), (3, 1))
        + [Sample((randn(4, 3), randn(4, 3), randn(4, 3)), layout="transposed")],
    ),
    OpInfo(
        "cat_dim0", lambda m, a, b: m.cat((a, b)), lambda a, b: np.concatenate([a, b]), _same((2, 3), (1, 3))
    ),
    OpInfo(
        "stack",
        lambda m, a, b, c: m.stack([a, b, c], dim=1),
        lambda a, b, c: np.stack([a, b, c], 1),
        _same((3, 4), (3, 4), (3, 4)),
    ),
    OpInfo(
        "stack_last",
        lambda m, a, b: m.stack([a, b], -1),
        lambda a, b: np.stack([a, b], -1),
        _same((3,), (3,)),
    ),
    OpInfo(
        "hstack_vstack",
        lambda m, a, b: (m.hstack([a, b]), m.vstack([a, b])),
        lambda a, b: (np.hstack([a, b]), np.vstack([a, b])),
        _same((2, 3), (2, 3)),
    ),
    OpInfo(
        "chunk",
        lambda m, x: x.chunk(3, dim=1),
        lambda x: tuple(np.split(x, [2, 4], axis=1)),
        [Sample((randn(3, 5),))],
    ),
    OpInfo(
        "split_size",
        lambda m, x: m.split(x, 2),
        lambda x: tuple(np.split(x, [2, 4])),
        [Sample((randn(5, 3),))],
    ),
    OpInfo(
        "split_sections",
        lambda m, x: x.split([1, 3], dim=1),
        lambda x: tuple(np.split(x, [1], axis=1)),
        [Sample((randn(2, 4),))],
    ),
    OpInfo(
        "split_partial_use",
        lambda m, x: x.split(2)[1] * 3.0,
        lambda x: x[2:4] * 3.0,
        [Sample((randn(5, 3),))],
    ),
    OpInfo("unbind", lambda m, x: x.unbind(1), lambda x: tuple(x[:, i] for i in range(x.shape[1])), X34),
    OpInfo(
        "broadcast_tensors",
        lambda m, a, b: m.broadcast_tensors(a, b),
        lambda a, b: tuple(np.broadcast_arrays(a, b)),
        [Sample((randn(3, 1), randn(4)))],
    ),
    OpInfo(
        "meshgrid",
        lambda m, a, b, indexing: m.meshgrid(a, b, indexing=indexing),
        lambda a, b, indexing: tuple(np.meshgrid(a, b, indexing=indexing)),
        [Sample((randn(3), randn(2), "ij")), Sample((randn(3), randn(2), "xy"))],
    ),
    # ------------------------------------------------------------------ linear algebra
    OpInfo(
        "matmul",
        lambda m, a, b: a @ b,
        np.matmul,
        [
            Sample((randn(4), randn(4)), name="vector-vector"),
            Sample((randn(3, 4), randn(4)), name="matrix-vector"),
            Sample((randn(4), randn(4, 5)), name="vector-matrix"),
            Sample((randn(3, 4), randn(4, 5)), name="matrix-matrix"),
            Sample((randn(2, 3, 4), randn(2, 4, 5)), name="batched"),
            Sample((randn(2, 1, 3, 4), randn(5, 4, 2)), name="broadcast-batches"),
            Sample((randn(3, 4), randn(2, 4, 5)), name="matrix-batch"),
            Sample((randn(2, 3, 4), randn(4)), name="batch-vector"),
            Sample((randn(3, 4), randn(4, 5)), layout="transposed"),
        ],
    ),
    OpInfo("matmul_function", lambda m, a, b: m.matmul(a, b), np.matmul, _same((3, 4), (4, 2))),
    OpInfo("mm", lambda m, a, b: m.mm(a, b), np.matmul, _same((3, 4), (4, 2))),
    OpInfo("bmm", lambda m, a, b: m.bmm(a, b), np.matmul, _same((2, 3, 4), (2, 4, 5))),
    OpInfo("mv", lambda m, a, b: m.mv(a, b), np.matmul, _same((3, 4), (4,))),
    OpInfo("dot", lambda m, a, b: m.dot(a, b), np.dot, _same((4,), (4,))),
    OpInfo("outer", lambda m, a, b: m.outer(a, b), np.outer, _same((3,), (4,))),
    OpInfo(
        "addmm",
        lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2.0),
        lambda c, a, b: 0.5 * c + 2 * a @ b,
        _same((2,), (3, 4), (4, 2)),
    ),
    OpInfo(
        "einsum_matmul",
        lambda m, a, b: m.einsum("ij,jk->ik", a, b),
        lambda a, b: a @ b,
        _same((3, 4), (4, 2)),
    ),
    OpInfo(
        "einsum_batched_ellipsis",
        lambda m, a, b: m.einsum("...ij,...jk", a, b),
        np.matmul,
        _same((2, 3, 4), (2, 4, 5)),
    ),
    OpInfo(
        "einsum_reduce_one_operand",
        lambda m, a, b: m.einsum("bij,bk->bk", a, b),
        lambda a, b: np.einsum("bij,bk->bk", a, b),
        _same((2, 3, 4), (2, 5)),
    ),
    OpInfo(
        "einsum_three",
        lambda m, a, b, c: m.einsum("i,ij,j->", a, b, c),
        lambda a, b, c: np.einsum("i,ij,j->", a, b, c),
        _same((3,), (3, 4), (4,)),
    ),
    OpInfo("tril", lambda m, x: m.tril(x), np.tril, X34),
    OpInfo("triu_offset", lambda m, x: x.triu(1), lambda x: np.triu(x, 1), X234),
    OpInfo(
        "diagonal",
        lambda m, x: m.diagonal(x, 1, 0, 2),
        lambda x: np.diagonal(x, 1, 0, 2),
        [Sample((randn(3, 2, 4),))],
    ),
    OpInfo("diag", lambda m, x: m.diag(x), np.diag, [Sample((randn(4),)), Sample((randn(3, 4),))]),
    OpInfo("trace", lambda m, x: m.trace(x), np.trace, X34),
    OpInfo(
        "tensordot",
        lambda m, a, b, dims: m.tensordot(a, b, dims=dims),
        lambda a, b, dims: np.tensordot(a, b, axes=dims),
        [Sample((randn(2, 3, 4), randn(3, 4, 5), 2)), Sample((randn(2, 3), randn(4, 3), ([1], [1])))],
    ),
]
