"""Port of "NLP From Scratch: Translation with a Sequence to Sequence Network and Attention": EncoderRNN
(Embedding + GRU batch_first), BahdanauAttention (Wa/Ua/Va, torch.bmm), AttnDecoderRNN with teacher
forcing, topk + squeeze().detach(), NLLLoss over log_softmax, two Adams, greedy evaluation.

A tiny synthetic "language" (the target is the source sentence reversed, with a shifted vocabulary)
replaces the French-English pairs.
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch import optim
    from torch.utils.data import DataLoader, RandomSampler, TensorDataset
else:
    import dendrite as torch
    import dendrite.nn as nn
    import dendrite.nn.functional as F
    from dendrite import optim
    from dendrite.utils.data import DataLoader, RandomSampler, TensorDataset

device = torch.device("cpu")
SOS_token = 0
EOS_token = 1
MAX_LENGTH = 7


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super(EncoderRNN, self).__init__()
        self.hidden_size = hidden_size

        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super(BahdanauAttention, self).__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)

        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)

        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super(AttnDecoderRNN, self).__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long, device=device).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        decoder_outputs = []
        attentions = []

        for i in range(MAX_LENGTH):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs
            )
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)

            if target_tensor is not None:
                # Teacher forcing: Feed the target as the next input
                decoder_input = target_tensor[:, i].unsqueeze(1)
            else:
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()

        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
        attentions = torch.cat(attentions, dim=1)

        return decoder_outputs, decoder_hidden, attentions

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input))

        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs)
        input_gru = torch.cat((embedded, context), dim=2)

        output, hidden = self.gru(input_gru, hidden)
        output = self.out(output)

        return output, hidden, attn_weights


# Synthetic pairs: source words 2..9, target word = source word + 8, reversed order.
rng = np.random.default_rng(0)
n_pairs = 256
input_ids = np.zeros((n_pairs, MAX_LENGTH), dtype=np.int32)
target_ids = np.zeros((n_pairs, MAX_LENGTH), dtype=np.int32)
for idx in range(n_pairs):
    n = int(rng.integers(2, MAX_LENGTH))
    src = rng.integers(2, 10, n)
    tgt = src[::-1] + 8
    input_ids[idx, :n] = src
    input_ids[idx, n] = EOS_token
    target_ids[idx, :n] = tgt
    target_ids[idx, n] = EOS_token
input_lang_n_words, output_lang_n_words = 10, 18

torch.manual_seed(0)
train_data = TensorDataset(torch.LongTensor(input_ids).to(device), torch.LongTensor(target_ids).to(device))
train_sampler = RandomSampler(train_data)
train_dataloader = DataLoader(train_data, sampler=train_sampler, batch_size=32)


def train_epoch(dataloader, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion):
    total_loss = 0
    for data in dataloader:
        input_tensor, target_tensor = data

        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()

        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, target_tensor)

        loss = criterion(
            decoder_outputs.view(-1, decoder_outputs.size(-1)),
            target_tensor.view(-1)
        )
        loss.backward()

        encoder_optimizer.step()
        decoder_optimizer.step()

        total_loss += loss.item()

    return total_loss / len(dataloader)


def train(train_dataloader, encoder, decoder, n_epochs, learning_rate=0.001):
    losses = []
    encoder_optimizer = optim.Adam(encoder.parameters(), lr=learning_rate)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=learning_rate)
    criterion = nn.NLLLoss()

    for epoch in range(1, n_epochs + 1):
        losses.append(train_epoch(train_dataloader, encoder, decoder, encoder_optimizer, decoder_optimizer,
                                  criterion))
    return losses


def evaluate(encoder, decoder, input_tensor):
    with torch.no_grad():
        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, decoder_hidden, decoder_attn = decoder(encoder_outputs, encoder_hidden)

        _, topi = decoder_outputs.topk(1)
        decoded_ids = topi.squeeze()
    return decoded_ids, decoder_attn


hidden_size = 32
encoder = EncoderRNN(input_lang_n_words, hidden_size).to(device)
decoder = AttnDecoderRNN(hidden_size, output_lang_n_words).to(device)
losses = train(train_dataloader, encoder, decoder, 12, learning_rate=0.01)

encoder.eval()
decoder.eval()
decoded_ids, attn = evaluate(encoder, decoder, torch.LongTensor(input_ids[:64]))
exact = float((decoded_ids == torch.LongTensor(target_ids[:64])).all(dim=1).float().mean())
token_acc = float((decoded_ids == torch.LongTensor(target_ids[:64])).float().mean())
print("RESULT", json.dumps({"first_loss": losses[0], "last_loss": losses[-1], "token_accuracy": token_acc,
                            "sentence_accuracy": exact, "attn_shape": list(attn.shape),
                            "attn_rows_sum_to_one": bool(torch.allclose(attn.sum(-1),
                                                                        torch.ones(64, MAX_LENGTH)))}))
