"""Port of "Language Translation with nn.Transformer": Seq2SeqTransformer (nn.Transformer encoder-decoder,
TokenEmbedding scaled by sqrt(emb_size), sinusoidal PositionalEncoding registered as a buffer),
generate_square_subsequent_mask with ``masked_fill``, create_mask with padding masks, CrossEntropyLoss with
``ignore_index=PAD_IDX``, Adam(betas=(0.9, 0.98), eps=1e-9), ``pad_sequence``-style batching, and greedy
decoding through ``model.encode``/``model.decode``.

A made-up "language pair" (the target is the source reversed, over a small vocabulary) replaces Multi30k.
Fixed NumPy weights and eval mode (no dropout) give an exact forward/backward; the training then runs in
train mode (dropout draws differ: compared by loss and decoded accuracy).
"""
import json
import math
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    from torch import Tensor
    from torch.nn import Transformer
else:
    import dendrite as torch
    import dendrite.nn as nn
    from dendrite import Tensor
    from dendrite.nn import Transformer

DEVICE = torch.device('cpu')
UNK_IDX, PAD_IDX, BOS_IDX, EOS_IDX = 0, 1, 2, 3
VOCAB = 12


class PositionalEncoding(nn.Module):
    def __init__(self,
                 emb_size: int,
                 dropout: float,
                 maxlen: int = 5000):
        super(PositionalEncoding, self).__init__()
        den = torch.exp(- torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pos_embedding = torch.zeros((maxlen, emb_size))
        pos_embedding[:, 0::2] = torch.sin(pos * den)
        pos_embedding[:, 1::2] = torch.cos(pos * den)
        pos_embedding = pos_embedding.unsqueeze(-2)

        self.dropout = nn.Dropout(dropout)
        self.register_buffer('pos_embedding', pos_embedding)

    def forward(self, token_embedding: Tensor):
        return self.dropout(token_embedding + self.pos_embedding[:token_embedding.size(0), :])


class TokenEmbedding(nn.Module):
    def __init__(self, vocab_size: int, emb_size):
        super(TokenEmbedding, self).__init__()
        self.embedding = nn.Embedding(vocab_size, emb_size)
        self.emb_size = emb_size

    def forward(self, tokens: Tensor):
        return self.embedding(tokens.long()) * math.sqrt(self.emb_size)


class Seq2SeqTransformer(nn.Module):
    def __init__(self,
                 num_encoder_layers: int,
                 num_decoder_layers: int,
                 emb_size: int,
                 nhead: int,
                 src_vocab_size: int,
                 tgt_vocab_size: int,
                 dim_feedforward: int = 512,
                 dropout: float = 0.1):
        super(Seq2SeqTransformer, self).__init__()
        self.transformer = Transformer(d_model=emb_size,
                                       nhead=nhead,
                                       num_encoder_layers=num_encoder_layers,
                                       num_decoder_layers=num_decoder_layers,
                                       dim_feedforward=dim_feedforward,
                                       dropout=dropout)
        self.generator = nn.Linear(emb_size, tgt_vocab_size)
        self.src_tok_emb = TokenEmbedding(src_vocab_size, emb_size)
        self.tgt_tok_emb = TokenEmbedding(tgt_vocab_size, emb_size)
        self.positional_encoding = PositionalEncoding(
            emb_size, dropout=dropout)

    def forward(self,
                src: Tensor,
                trg: Tensor,
                src_mask: Tensor,
                tgt_mask: Tensor,
                src_padding_mask: Tensor,
                tgt_padding_mask: Tensor,
                memory_key_padding_mask: Tensor):
        src_emb = self.positional_encoding(self.src_tok_emb(src))
        tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
        outs = self.transformer(src_emb, tgt_emb, src_mask, tgt_mask, None,
                                src_padding_mask, tgt_padding_mask, memory_key_padding_mask)
        return self.generator(outs)

    def encode(self, src: Tensor, src_mask: Tensor):
        return self.transformer.encoder(self.positional_encoding(
                            self.src_tok_emb(src)), src_mask)

    def decode(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor):
        return self.transformer.decoder(self.positional_encoding(
                          self.tgt_tok_emb(tgt)), memory,
                          tgt_mask)


def generate_square_subsequent_mask(sz):
    mask = (torch.triu(torch.ones((sz, sz), device=DEVICE)) == 1).transpose(0, 1)
    mask = mask.float().masked_fill(mask == 0, float('-inf')).masked_fill(mask == 1, 0.0)
    return mask


def create_mask(src, tgt):
    src_seq_len = src.shape[0]
    tgt_seq_len = tgt.shape[0]

    tgt_mask = generate_square_subsequent_mask(tgt_seq_len)
    src_mask = torch.zeros((src_seq_len, src_seq_len), device=DEVICE).type(torch.bool)

    src_padding_mask = (src == PAD_IDX).transpose(0, 1)
    tgt_padding_mask = (tgt == PAD_IDX).transpose(0, 1)
    return src_mask, tgt_mask, src_padding_mask, tgt_padding_mask


rng = np.random.default_rng(0)


def make_pairs(n):
    pairs = []
    for _ in range(n):
        words = list(rng.integers(4, VOCAB, int(rng.integers(3, 7))))
        pairs.append(([BOS_IDX] + words + [EOS_IDX], [BOS_IDX] + words[::-1] + [EOS_IDX]))
    return pairs


def collate_fn(batch):
    longest_src = max(len(s) for s, _ in batch)
    longest_tgt = max(len(t) for _, t in batch)
    src = [s + [PAD_IDX] * (longest_src - len(s)) for s, _ in batch]
    tgt = [t + [PAD_IDX] * (longest_tgt - len(t)) for _, t in batch]
    # (seq, batch) as pad_sequence gives them
    return torch.tensor(src, dtype=torch.long).T, torch.tensor(tgt, dtype=torch.long).T


torch.manual_seed(0)
transformer = Seq2SeqTransformer(2, 2, 32, 4, VOCAB, VOCAB, 64, dropout=0.1)
# The tutorial's xavier_uniform_ for the matrices, drawn from NumPy; LayerNorm weights 1, biases 0.
with torch.no_grad():
    for name, p in transformer.named_parameters():
        if p.dim() > 1:
            bound = math.sqrt(6.0 / (p.shape[0] + p.shape[1]))
            p.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))
        else:
            p.fill_(1.0 if name.endswith("weight") else 0.0)
transformer = transformer.to(DEVICE)
loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD_IDX)
optimizer = torch.optim.Adam(transformer.parameters(), lr=0.003, betas=(0.9, 0.98), eps=1e-9)

train_pairs, test_pairs = make_pairs(160), make_pairs(16)
results = {}

# Eval mode on one padded batch: logits, loss and a gradient, exact in both libraries.
transformer.eval()
src, tgt = collate_fn(train_pairs[:8])
tgt_input = tgt[:-1, :]
src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
logits = transformer(src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, src_padding_mask)
loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt[1:, :].reshape(-1))
loss.backward()
results["eval_loss"] = loss.item()
results["logits_sum"] = logits.sum().item()
results["generator_grad"] = transformer.generator.weight.grad.abs().sum().item()
transformer.zero_grad()


def train_epoch(model, optimizer):
    model.train()
    losses = 0
    for i in range(0, len(train_pairs), 16):
        src, tgt = collate_fn(train_pairs[i:i + 16])
        tgt_input = tgt[:-1, :]
        src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
        logits = model(src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask,
                       src_padding_mask)
        optimizer.zero_grad()
        tgt_out = tgt[1:, :]
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
        loss.backward()
        optimizer.step()
        losses += loss.item()
    return losses / (len(train_pairs) // 16)


def greedy_decode(model, src, src_mask, max_len, start_symbol):
    src = src.to(DEVICE)
    src_mask = src_mask.to(DEVICE)
    memory = model.encode(src, src_mask)
    ys = torch.ones(1, 1).fill_(start_symbol).type(torch.long).to(DEVICE)
    for i in range(max_len - 1):
        memory = memory.to(DEVICE)
        tgt_mask = (generate_square_subsequent_mask(ys.size(0))
                    .type(torch.bool)).to(DEVICE)
        out = model.decode(ys, memory, tgt_mask)
        out = out.transpose(0, 1)
        prob = model.generator(out[:, -1])
        _, next_word = torch.max(prob, dim=1)
        next_word = next_word.item()

        ys = torch.cat([ys, torch.ones(1, 1).type_as(src.data).fill_(next_word)], dim=0)
        if next_word == EOS_IDX:
            break
    return ys


history = [train_epoch(transformer, optimizer) for epoch in range(20)]
results["first_loss"], results["last_loss"] = history[0], history[-1]
transformer.eval()
correct = total = 0
for source, target in test_pairs:
    src = torch.tensor(source, dtype=torch.long).view(-1, 1)
    num_tokens = src.shape[0]
    src_mask = (torch.zeros(num_tokens, num_tokens)).type(torch.bool)
    tgt_tokens = greedy_decode(transformer, src, src_mask, max_len=num_tokens + 5,
                               start_symbol=BOS_IDX).flatten()
    decoded = tgt_tokens.tolist()
    correct += sum(a == b for a, b in zip(decoded, target))
    total += len(target)
results["token_accuracy"] = correct / total
print("RESULT", json.dumps(results))
