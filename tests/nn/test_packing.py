"""nn.utils.rnn (padding and packing) and recurrent layers on packed batches, against PyTorch in float64."""

import numpy as np
import pytest

import dendrite
from dendrite import nn
from dendrite.nn.utils import rnn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def pair(array, grad=False):
    ours = dendrite.tensor(array, requires_grad=grad)
    theirs = torch.tensor(array, requires_grad=grad)
    return ours, theirs


def same(ours, theirs, tol=1e-12):
    np.testing.assert_allclose(np.asarray(ours.detach().numpy()), theirs.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[5, 3, 3, 1], [2, 5, 1, 4]])
def test_pack_and_pad_give_pytorchs_values_and_gradients(batch_first, lengths):
    padded = RNG.standard_normal((4, 5, 3) if batch_first else (5, 4, 3))
    (x, tx) = pair(padded, grad=True)
    sorted_ = lengths == sorted(lengths, reverse=True)
    ours = rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=sorted_)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=batch_first,
                                                     enforce_sorted=sorted_)
    same(ours.data, theirs.data)
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    for mine, yours in ((ours.sorted_indices, theirs.sorted_indices),
                        (ours.unsorted_indices, theirs.unsorted_indices)):
        assert (mine is None) == (yours is None) and (mine is None or mine.tolist() == yours.tolist())
    back, back_lengths = rnn.pad_packed_sequence(ours, batch_first=batch_first, padding_value=-2.0,
                                                 total_length=6)
    t_back, t_lengths = torch.nn.utils.rnn.pad_packed_sequence(theirs, batch_first=batch_first,
                                                                padding_value=-2.0, total_length=6)
    same(back, t_back)
    assert back_lengths.tolist() == t_lengths.tolist()
    weights = RNG.standard_normal(tuple(back.shape))
    (back * dendrite.tensor(weights)).sum().backward()
    (t_back * torch.tensor(weights)).sum().backward()
    same(x.grad, tx.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_and_its_inverses(batch_first, side):
    arrays = [RNG.standard_normal((n, 2)) for n in (3, 1, 4)]
    ours = [dendrite.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    padded = rnn.pad_sequence(ours, batch_first=batch_first, padding_value=7.0, padding_side=side)
    t_padded = torch.nn.utils.rnn.pad_sequence(theirs, batch_first=batch_first, padding_value=7.0,
                                               padding_side=side)
    same(padded, t_padded)
    (padded ** 2).sum().backward()
    (t_padded ** 2).sum().backward()
    for mine, yours in zip(ours, theirs):
        same(mine.grad, yours.grad)
    packed = rnn.pack_sequence(ours, enforce_sorted=False)
    t_packed = torch.nn.utils.rnn.pack_sequence(theirs, enforce_sorted=False)
    same(packed.data, t_packed.data)
    for mine, yours in zip(rnn.unpack_sequence(packed), torch.nn.utils.rnn.unpack_sequence(t_packed)):
        same(mine, yours)
    if side == "right":
        lengths = [3, 1, 4]
        for mine, yours in zip(rnn.unpad_sequence(padded, lengths, batch_first=batch_first),
                               torch.nn.utils.rnn.unpad_sequence(t_padded, torch.tensor(lengths),
                                                                 batch_first=batch_first)):
            same(mine, yours)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_layers_on_a_packed_batch_match_pytorch(mode, bidirectional, batch_first, with_state):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, mode)(3, 4, num_layers=2, bidirectional=bidirectional,
                                     batch_first=batch_first).double()
    ours = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=bidirectional,
                             batch_first=batch_first).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    lengths = [2, 5, 1, 5, 3]
    padded = RNG.standard_normal((5, 5, 3))
    x, tx = pair(padded, grad=True)
    packed = rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    t_packed = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=batch_first,
                                                       enforce_sorted=False)
    states = ()
    if with_state:
        shape = (2 * (2 if bidirectional else 1), 5, 4)
        arrays = [RNG.standard_normal(shape) for _ in range(2 if mode == "LSTM" else 1)]
        pairs = [pair(a, grad=True) for a in arrays]
        states = (tuple(p[0] for p in pairs) if mode == "LSTM" else pairs[0][0],
                  tuple(p[1] for p in pairs) if mode == "LSTM" else pairs[0][1])
    output, hidden = ours(packed, *states[:1])
    t_output, t_hidden = theirs(t_packed, *states[1:])
    assert isinstance(output, rnn.PackedSequence)
    same(output.data, t_output.data, 1e-10)
    assert output.batch_sizes.tolist() == t_output.batch_sizes.tolist()
    hidden = hidden if mode == "LSTM" else (hidden,)
    t_hidden = t_hidden if mode == "LSTM" else (t_hidden,)
    for mine, yours in zip(hidden, t_hidden):
        same(mine, yours, 1e-10)
    padded_out, _ = rnn.pad_packed_sequence(output, batch_first=batch_first)
    t_padded_out, _ = torch.nn.utils.rnn.pad_packed_sequence(t_output, batch_first=batch_first)
    weights = RNG.standard_normal(tuple(padded_out.shape))
    loss = (padded_out * dendrite.tensor(weights)).sum() + sum((h * h).sum() for h in hidden)
    t_loss = (t_padded_out * torch.tensor(weights)).sum() + sum((h * h).sum() for h in t_hidden)
    loss.backward()
    t_loss.backward()
    same(x.grad, tx.grad, 1e-10)
    for parameter, t_parameter in zip(ours.parameters(), theirs.parameters()):
        same(parameter.grad, t_parameter.grad, 1e-10)
    if with_state:
        for mine, yours in zip(states[0] if mode == "LSTM" else (states[0],),
                               states[1] if mode == "LSTM" else (states[1],)):
            same(mine.grad, yours.grad, 1e-10)


def test_bad_lengths_and_states_say_what_was_expected():
    x = dendrite.zeros(4, 3, 2)
    with pytest.raises(RuntimeError, match="sorted in decreasing order when `enforce_sorted` is True"):
        rnn.pack_padded_sequence(x, [1, 4, 2])
    with pytest.raises(RuntimeError, match="greater than 0"):
        rnn.pack_padded_sequence(x, [4, 0, 0])
    with pytest.raises(ValueError, match="batch_size"):
        rnn.pack_padded_sequence(x, [4, 2])
    with pytest.raises(ValueError, match="exceeds"):
        rnn.pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(TypeError, match="integers"):
        rnn.pack_padded_sequence(x, dendrite.tensor([4.0, 2.0, 1.0]))
    packed = rnn.pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match="total_length"):
        rnn.pad_packed_sequence(packed, total_length=3)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 3, 5\)"):
        nn.GRU(2, 5)(packed, dendrite.zeros(1, 2, 5))
    with pytest.raises(TypeError, match=r"hx must be a tuple"):
        nn.LSTM(2, 5)(packed, dendrite.zeros(1, 3, 5))
    with pytest.raises(ValueError, match="sequence 1 has shape"):
        rnn.pad_sequence([dendrite.zeros(2, 3), dendrite.zeros(2, 4)])
