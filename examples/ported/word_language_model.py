"""Port of pytorch/examples word_language_model: RNNModel (Embedding, LSTM/GRU/RNN_TANH, Linear decoder,
tied weights), init_hidden via weight.new_zeros, repackage_hidden, batchify, get_batch, clip_grad_norm_,
the manual p.data.add_(p.grad, alpha=-lr) update, evaluate with math.exp perplexity.

A small synthetic token stream replaces WikiText-2.
"""
import json
import math
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
else:
    import dendrite as torch
    import dendrite.nn as nn
    import dendrite.nn.functional as F


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super(RNNModel, self).__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ['LSTM', 'GRU']:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            try:
                nonlinearity = {'RNN_TANH': 'tanh', 'RNN_RELU': 'relu'}[rnn_type]
            except KeyError as e:
                raise ValueError("An invalid option for `--model` was supplied") from e
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)

        if tie_weights:
            if nhid != ninp:
                raise ValueError('When using the tied flag, nhid must be equal to emsize')
            self.decoder.weight = self.encoder.weight

        self.init_weights()

        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == 'LSTM':
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        else:
            return weight.new_zeros(self.nlayers, bsz, self.nhid)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).t().contiguous()
    return data


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


bptt = 10


def get_batch(source, i):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i+seq_len]
    target = source[i+1:i+1+seq_len].view(-1)
    return data, target


torch.manual_seed(1111)
rng = np.random.default_rng(0)
ntokens = 16
# A stream where each token mostly determines the next: learnable by an LSTM.
nxt = rng.permutation(ntokens)
stream = [0]
for _ in range(1999):
    stream.append(int(nxt[stream[-1]]) if rng.random() < 0.9 else int(rng.integers(0, ntokens)))
corpus = torch.tensor(stream, dtype=torch.long)
train_data = batchify(corpus[:1600], 8)
val_data = batchify(corpus[1600:], 4)
criterion = nn.NLLLoss()


def evaluate(model, data_source, eval_batch_size):
    model.eval()
    total_loss = 0.
    hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def train(model, lr, clip=0.25):
    model.train()
    total_loss = 0.
    hidden = model.init_hidden(8)
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = get_batch(train_data, i)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        total_loss += loss.item()
    return total_loss / (batch + 1)


results = {}
for rnn_type, tied in [('LSTM', True), ('GRU', False), ('RNN_TANH', False)]:
    model = RNNModel(rnn_type, ntokens, 24, 24, 2, 0.2, tied)
    lr = 5.0
    first_val = evaluate(model, val_data, 4)
    best_val_loss = None
    for epoch in range(1, 5):
        train(model, lr)
        val_loss = evaluate(model, val_data, 4)
        if not best_val_loss or val_loss < best_val_loss:
            best_val_loss = val_loss
        else:
            lr /= 4.0
    results[rnn_type + "_first_val"] = first_val
    results[rnn_type + "_val_loss"] = best_val_loss
    results[rnn_type + "_ppl"] = math.exp(best_val_loss)
    results[rnn_type + "_n_params"] = sum(p.numel() for p in model.parameters())
    results[rnn_type + "_tied"] = model.decoder.weight is model.encoder.weight

print("RESULT", json.dumps(results))
