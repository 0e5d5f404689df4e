"""Recurrent layers: fused sequence operations vs the composed form, parity with PyTorch, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite
from dendrite.nn import functional as F

T, N, H_IN, H = 5, 3, 4, 6
MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")


def rand(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


# ----------------------------------------------------------------------------- composed references
def composed_step(mode, x, states, w_ih, w_hh, b_ih, b_hh):
    """One step written with plain dendrite ops (matmul, chunk, sigmoid, tanh, relu)."""
    h = states[0]
    if mode == "GRU":
        gi, gh = x @ w_ih.T, h @ w_hh.T
        if b_ih is not None:
            gi, gh = gi + b_ih, gh + b_hh
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r, z = (i_r + h_r).sigmoid(), (i_z + h_z).sigmoid()
        n = (i_n + r * h_n).tanh()
        return ((1 - z) * n + z * h,)
    pre = x @ w_ih.T + h @ w_hh.T
    if b_ih is not None:
        pre = pre + b_ih + b_hh
    if mode == "LSTM":
        i, f, g, o = pre.chunk(4, 1)
        c = f.sigmoid() * states[1] + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c
    return (pre.tanh() if mode == "RNN_TANH" else pre.relu(),)


def composed_layer(mode, x, states, weights, reverse):
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    outputs = {}
    for t in steps:
        states = composed_step(mode, x[t], states, *weights)
        outputs[t] = states[0]
    return (dendrite.stack([outputs[t] for t in range(x.shape[0])]), *states)


def fused_layer(mode, x, states, weights, reverse):
    if mode == "LSTM":
        return F.lstm_layer(x, states[0], states[1], *weights, reverse=reverse)
    if mode == "GRU":
        return F.gru_layer(x, states[0], *weights, reverse=reverse)
    return F.rnn_layer(x, states[0], *weights, reverse=reverse,
                       nonlinearity="tanh" if mode == "RNN_TANH" else "relu")


def gates(mode):
    return {"LSTM": 4, "GRU": 3}.get(mode, 1)


def layer_arrays(mode, bias=True, seed=0):
    g = gates(mode)
    arrays = [rand(T, N, H_IN, seed=seed), rand(N, H, seed=seed + 1)]
    if mode == "LSTM":
        arrays.append(rand(N, H, seed=seed + 2))
    arrays += [rand(g * H, H_IN, seed=seed + 3, scale=0.5), rand(g * H, H, seed=seed + 4, scale=0.5)]
    if bias:
        arrays += [rand(g * H, seed=seed + 5), rand(g * H, seed=seed + 6)]
    return arrays


def split(mode, tensors, bias):
    n_states = 2 if mode == "LSTM" else 1
    x, states, weights = tensors[0], tensors[1:1 + n_states], list(tensors[1 + n_states:])
    if not bias:
        weights += [None, None]
    return x, states, weights


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_fused_layer_equals_composed(mode, reverse, bias):
    arrays = layer_arrays(mode, bias)
    results = []
    for run in (fused_layer, composed_layer):
        tensors = [dendrite.tensor(a, requires_grad=True) for a in arrays]
        x, states, weights = split(mode, tensors, bias)
        outputs = run(mode, x, list(states), weights, reverse)
        loss = sum((out * dendrite.tensor(rand(*out.shape, seed=10 + k))).sum()
                   for k, out in enumerate(outputs))
        loss.backward()
        results.append(([o.detach().numpy() for o in outputs], [t.grad.numpy() for t in tensors]))
    (fused_out, fused_grads), (ref_out, ref_grads) = results
    for k, (a, b) in enumerate(zip(fused_out, ref_out)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"output {k}")
    for k, (a, b) in enumerate(zip(fused_grads, ref_grads)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"gradient of input {k}")


@pytest.mark.parametrize("mode", MODES)
def test_fused_layer_without_initial_state_or_output_grad(mode):
    """States default to zeros; a loss on h_n alone (no output gradient) still back-propagates."""
    arrays = layer_arrays(mode)
    grads = []
    for run in (fused_layer, composed_layer):
        tensors = [dendrite.tensor(a, requires_grad=True) for a in arrays]
        x, states, weights = split(mode, tensors, True)
        zero = None if run is fused_layer else dendrite.zeros(N, H, dtype=dendrite.float64)
        outputs = run(mode, x, [zero] * len(states), weights, False)
        (outputs[1] * outputs[1]).sum().backward()
        grads.append([tensors[0].grad.numpy()] + [w.grad.numpy() for w in weights])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("length", [1, 2, T])
def test_initial_states_given_without_grad(mode, reverse, length):
    """Initial states that need no gradient: backward skips the first step's product for dL/dh_0
    (and dL/dc_0); the other gradients still equal the composed form's, T = 1 included."""
    arrays = layer_arrays(mode)
    arrays[0] = arrays[0][:length]
    n_states = 2 if mode == "LSTM" else 1
    grads = []
    for run in (fused_layer, composed_layer):
        tensors = [dendrite.tensor(a, requires_grad=not 1 <= k <= n_states) for k, a in enumerate(arrays)]
        x, states, weights = split(mode, tensors, True)
        outputs = run(mode, x, list(states), weights, reverse)
        loss = sum((out * dendrite.tensor(rand(*out.shape, seed=10 + k))).sum()
                   for k, out in enumerate(outputs))
        loss.backward()
        assert all(state.grad is None for state in states)
        grads.append([tensors[0].grad.numpy()] + [w.grad.numpy() for w in weights])
    for k, (a, b) in enumerate(zip(*grads)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"gradient {k}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reverse", [False, True])
def test_last_step_loss_batch_first_float64(mode, reverse):
    """The benchmark's use: batch-first input that needs no gradient, a loss on the last output only.

    The output gradient is then a strided view that is zero but at one step, no input gradient is
    asked for, and the products (batch 32, hidden 128) fall in dendrite.utils.blas's one-thread range.
    """
    length, batch, features, hidden = 7, 32, 5, 128
    g = gates(mode)
    x = rand(batch, length, features, seed=20)
    weights = [rand(g * hidden, features, seed=21, scale=0.3), rand(g * hidden, hidden, seed=22, scale=0.1),
               rand(g * hidden, seed=23), rand(g * hidden, seed=24)]
    head = rand(hidden, seed=25)
    grads = []
    for run in (fused_layer, composed_layer):
        tensors = [dendrite.tensor(w, requires_grad=True) for w in weights]
        states = [dendrite.zeros(batch, hidden, dtype=dendrite.float64)] * (2 if mode == "LSTM" else 1)
        output = run(mode, dendrite.tensor(x).transpose(0, 1), states, tensors, reverse)[0]
        (output.transpose(0, 1)[:, -1] @ dendrite.tensor(head)).tanh().sum().backward()
        grads.append([t.grad.numpy() for t in tensors])
    for k, (a, b) in enumerate(zip(*grads)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"gradient of weight {k}")


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_gradcheck_tiny_layer(mode):
    g = gates(mode)
    shapes = [(3, 2, 2), (2, 3)] + ([(2, 3)] if mode == "LSTM" else [])
    shapes += [(g * 3, 2), (g * 3, 3), (g * 3,), (g * 3,)]
    tensors = [dendrite.tensor(rand(*s, seed=k, scale=0.7), requires_grad=True) for k, s in enumerate(shapes)]
    n_states = 2 if mode == "LSTM" else 1

    def run(*inputs):
        x, states, weights = inputs[0], inputs[1:1 + n_states], inputs[1 + n_states:]
        return fused_layer(mode, x, list(states), weights, reverse=False)

    assert dendrite.autograd.gradcheck(run, tensors)
    assert dendrite.autograd.gradcheck(lambda *a: fused_layer(mode, a[0], list(a[1:1 + n_states]),
                                                              a[1 + n_states:], reverse=True), tensors)


# ----------------------------------------------------------------------------- parity with PyTorch
def make_pair(mode, dtype=torch.float64, **kwargs):
    """A PyTorch module and its dendrite twin holding the same weights."""
    torch.manual_seed(0)
    name = "RNN" if mode.startswith("RNN") else mode
    if name == "RNN":
        kwargs["nonlinearity"] = "tanh" if mode == "RNN_TANH" else "relu"
    theirs = getattr(torch.nn, name)(H_IN, H, dtype=dtype, **kwargs)
    ours = getattr(dendrite.nn, name)(H_IN, H, dtype=str(dtype).removeprefix("torch."), **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def run_pair(ours, theirs, mode, x, hx, dtype, rtol, atol):
    lstm = mode == "LSTM"
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    t_x = torch.tensor(x, dtype=dtype, requires_grad=True)
    d_x = dendrite.tensor(x.astype(np_dtype), requires_grad=True)
    t_states = [torch.tensor(s, dtype=dtype, requires_grad=True) for s in hx]
    d_states = [dendrite.tensor(s.astype(np_dtype), requires_grad=True) for s in hx]
    if not hx:
        t_out, t_hidden = theirs(t_x)
        d_out, d_hidden = ours(d_x)
    else:
        t_out, t_hidden = theirs(t_x, tuple(t_states) if lstm else t_states[0])
        d_out, d_hidden = ours(d_x, tuple(d_states) if lstm else d_states[0])
    t_results = [t_out, *(t_hidden if lstm else [t_hidden])]
    d_results = [d_out, *(d_hidden if lstm else [d_hidden])]
    t_loss = d_loss = 0
    for k, (a, b) in enumerate(zip(d_results, t_results)):
        assert a.shape == tuple(b.shape), f"output {k}: shape {a.shape} != {tuple(b.shape)}"
        assert a.dtype == b.detach().numpy().dtype
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"output {k}")
        weight = rand(*a.shape, seed=20 + k)
        t_loss = t_loss + (b * torch.tensor(weight, dtype=dtype)).sum()
        d_loss = d_loss + (a * dendrite.tensor(weight.astype(a.dtype))).sum()
    t_loss.backward()
    d_loss.backward()
    pairs = [("input", d_x, t_x)] + [(f"state {k}", d, t) for k, (d, t) in enumerate(zip(d_states, t_states))]
    params = dict(ours.named_parameters())
    pairs += [(name, params[name], p) for name, p in theirs.named_parameters()]
    for name, d, t in pairs:
        assert d.grad is not None, f"{name} got no gradient"
        assert d.grad.dtype == d.dtype, f"gradient of {name} is {d.grad.dtype}, expected {d.dtype}"
        np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of {name}")


CONFIGS = [  # (module kwargs, initial state given, unbatched)
    ({}, False, False),
    ({}, True, False),
    ({"num_layers": 2}, True, False),
    ({"bidirectional": True}, True, False),
    ({"num_layers": 2, "bidirectional": True, "batch_first": True}, True, False),
    ({"batch_first": True}, False, False),
    ({"bias": False, "num_layers": 2}, True, False),
    ({}, True, True),
    ({"num_layers": 2, "bidirectional": True}, False, True),
    ({"batch_first": True, "bidirectional": True}, True, True),
]


def config_id(config):
    kwargs, state, unbatched = config
    parts = [f"{k}={v}" for k, v in kwargs.items()]
    parts += (["h0"] if state else []) + (["unbatched"] if unbatched else [])
    return ",".join(parts) or "default"


def inputs_for(mode, kwargs, state, unbatched, seed=0):
    directions = 2 if kwargs.get("bidirectional") else 1
    layers = kwargs.get("num_layers", 1)
    if unbatched:
        x, state_shape = rand(T, H_IN, seed=seed), (layers * directions, H)
    else:
        x = rand(N, T, H_IN, seed=seed) if kwargs.get("batch_first") else rand(T, N, H_IN, seed=seed)
        state_shape = (layers * directions, N, H)
    n_states = 2 if mode == "LSTM" else 1
    hx = [rand(*state_shape, seed=seed + 1 + k) for k in range(n_states)] if state else []
    return x, hx


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_module_matches_torch_float64(mode, config):
    kwargs, state, unbatched = config
    ours, theirs = make_pair(mode, **kwargs)
    x, hx = inputs_for(mode, kwargs, state, unbatched)
    run_pair(ours, theirs, mode, x, hx, torch.float64, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("mode", MODES)
def test_module_matches_torch_float32(mode):
    """The hidden-suite setting: float32, default init, rtol 1e-4; results stay float32."""
    kwargs = {"num_layers": 2, "bidirectional": True, "batch_first": True}
    ours, theirs = make_pair(mode, dtype=torch.float32, **kwargs)
    x, hx = inputs_for(mode, kwargs, True, False)
    run_pair(ours, theirs, mode, x, hx, torch.float32, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_dropout_between_layers_only_in_training(mode):
    kwargs = {"num_layers": 2, "dropout": 1.0}
    ours, theirs = make_pair(mode, **kwargs)
    x, hx = inputs_for(mode, kwargs, True, False)
    # Training with p=1: the second layer sees zeros, deterministically, in both libraries.
    run_pair(ours, theirs, mode, x, hx, torch.float64, rtol=1e-9, atol=1e-11)
    ours.eval()
    theirs.eval()
    run_pair(ours, theirs, mode, x, hx, torch.float64, rtol=1e-9, atol=1e-11)
    # p=0.5: random in training, off in evaluation.
    ours, theirs = make_pair(mode, num_layers=2, dropout=0.5)
    eval_out = ours.eval()(dendrite.tensor(x))[0].detach().numpy()
    np.testing.assert_allclose(eval_out, theirs.eval()(torch.tensor(x))[0].detach().numpy(), rtol=1e-9)
    ours.train()
    train_outs = [ours(dendrite.tensor(x))[0].detach().numpy() for _ in range(2)]
    assert not np.allclose(train_outs[0], eval_out)
    assert not np.allclose(train_outs[0], train_outs[1])


@pytest.mark.parametrize("cell", ["RNNCell", "RNNCell-relu", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("state", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_torch(cell, batched, state, bias):
    name, _, nonlinearity = cell.partition("-")
    kwargs = {"bias": bias} | ({"nonlinearity": nonlinearity} if nonlinearity else {})
    torch.manual_seed(1)
    theirs = getattr(torch.nn, name)(H_IN, H, dtype=torch.float64, **kwargs)
    ours = getattr(dendrite.nn, name)(H_IN, H, dtype="float64", **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    lead = (N,) if batched else ()
    x = rand(*lead, H_IN, seed=3)
    n_states = 2 if name == "LSTMCell" else 1
    hx = [rand(*lead, H, seed=4 + k) for k in range(n_states)] if state else []
    t_x, d_x = torch.tensor(x, requires_grad=True), dendrite.tensor(x, requires_grad=True)
    t_hx = [torch.tensor(s, requires_grad=True) for s in hx]
    d_hx = [dendrite.tensor(s, requires_grad=True) for s in hx]
    args_t = (t_x,) + ((tuple(t_hx) if n_states == 2 else t_hx[0],) if state else ())
    args_d = (d_x,) + ((tuple(d_hx) if n_states == 2 else d_hx[0],) if state else ())
    t_res, d_res = theirs(*args_t), ours(*args_d)
    t_res = t_res if n_states == 2 else (t_res,)
    d_res = d_res if n_states == 2 else (d_res,)
    t_loss = d_loss = 0
    for k, (a, b) in enumerate(zip(d_res, t_res)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-11)
        weight = rand(*a.shape, seed=30 + k)
        t_loss = t_loss + (b * torch.tensor(weight)).sum()
        d_loss = d_loss + (a * dendrite.tensor(weight)).sum()
    t_loss.backward()
    d_loss.backward()
    params = dict(ours.named_parameters())
    pairs = [(d_x, t_x)] + list(zip(d_hx, t_hx)) + [(params[n], p) for n, p in theirs.named_parameters()]
    for d, t in pairs:
        np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_cell_loop_equals_sequence_module():
    """Stepping an LSTMCell over time gives the LSTM layer's output and gradients."""
    layer = dendrite.nn.LSTM(H_IN, H, dtype="float64")
    cell = dendrite.nn.LSTMCell(H_IN, H, dtype="float64")
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = rand(T, N, H_IN)
    out, _ = layer(dendrite.tensor(x))
    h = c = None
    steps = []
    for t in range(T):
        h, c = cell(dendrite.tensor(x[t]), None if h is None else (h, c))
        steps.append(h)
    np.testing.assert_allclose(dendrite.stack(steps).detach().numpy(), out.detach().numpy(), rtol=1e-12)


# ----------------------------------------------------------------------------- module behaviour
@pytest.mark.parametrize("mode", MODES)
def test_default_init_dtype_and_repr(mode):
    name = "RNN" if mode.startswith("RNN") else mode
    kwargs = {"nonlinearity": "relu"} if mode == "RNN_RELU" else {}
    ours = getattr(dendrite.nn, name)(H_IN, 16, 2, batch_first=True, bidirectional=True, **kwargs)
    theirs = getattr(torch.nn, name)(H_IN, 16, 2, batch_first=True, bidirectional=True, **kwargs)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    values = np.concatenate([p.detach().numpy().ravel() for p in ours.parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= 0.25 and np.abs(values).max() > 0.24 and values.std() > 0.1
    out, _ = ours(dendrite.randn(2, 3, H_IN))
    assert out.dtype == dendrite.float32 and out.shape == (2, 3, 32)


def test_positional_arguments_follow_torch():
    rnn = dendrite.nn.RNN(3, 5, 2, "relu", False, True)
    assert (rnn.num_layers, rnn.nonlinearity, rnn.bias, rnn.batch_first) == (2, "relu", False, True)
    lstm = dendrite.nn.LSTM(3, 5, 2, False, True, 0.0, True)
    assert (lstm.num_layers, lstm.bias, lstm.batch_first, lstm.bidirectional) == (2, False, True, True)
    assert len(lstm.all_weights) == 4 and len(lstm.all_weights[0]) == 2


@pytest.mark.parametrize("mode", MODES)
def test_backward_twice_with_retain_graph_doubles_gradients(mode):
    """Backward must not overwrite what forward saved: a second pass gives the same gradients."""
    name = "RNN" if mode.startswith("RNN") else mode
    model = getattr(dendrite.nn, name)(H_IN, H, 2, bidirectional=True)
    x = dendrite.randn(T, N, H_IN, requires_grad=True)
    output, _ = model(x)
    loss = (output * output).sum()
    loss.backward(retain_graph=True)
    first = [x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in model.parameters()]
    loss.backward()
    second = [x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]
    for a, b in zip(first, second):
        np.testing.assert_allclose(b, 2 * a, rtol=1e-5, atol=1e-6)


def test_no_grad_forward_records_nothing():
    lstm = dendrite.nn.LSTM(H_IN, H)
    with dendrite.no_grad():
        out, (h, c) = lstm(dendrite.randn(T, N, H_IN))
    assert not out.requires_grad and out.grad_fn is None and h.shape == (1, N, H)


def test_errors_name_the_layer_and_shapes():
    lstm = dendrite.nn.LSTM(H_IN, H, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM: Expected input to be 2D or 3D, got 4D"):
        lstm(dendrite.zeros(1, T, N, H_IN))
    with pytest.raises(RuntimeError, match=r"must be equal to input_size. Expected 4, got 7"):
        lstm(dendrite.zeros(T, N, 7))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(2, 3, 6\), got \[1, 3, 6\]"):
        lstm(dendrite.zeros(T, N, H_IN), (dendrite.zeros(1, N, H), dendrite.zeros(2, N, H)))
    with pytest.raises(RuntimeError, match=r"should also be 3-D but got \(2-D, 3-D\)"):
        lstm(dendrite.zeros(T, N, H_IN), (dendrite.zeros(N, H), dendrite.zeros(2, N, H)))
    with pytest.raises(TypeError, match="hx must be a tuple"):
        lstm(dendrite.zeros(T, N, H_IN), dendrite.zeros(2, N, H))
    with pytest.raises(ValueError, match=r"input dtype \(float64\) does not match weight dtype \(float32\)"):
        lstm(dendrite.zeros(T, N, H_IN, dtype=dendrite.float64))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        dendrite.nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        dendrite.nn.GRU(3, 4, dropout=1.5)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        dendrite.nn.GRU(3, 4, dropout=0.5)
    with pytest.raises(RuntimeError, match=r"GRUCell\(input_size=4\): input of shape \(3, 5\) has 5 "):
        dendrite.nn.GRUCell(H_IN, H)(dendrite.zeros(N, 5))
    with pytest.raises(RuntimeError, match=r"state of shape \(2, 6\) does not fit input of shape \(3, 4"):
        dendrite.nn.RNNCell(H_IN, H)(dendrite.zeros(N, H_IN), dendrite.zeros(2, H))
    with pytest.raises(ValueError, match=r"lstm_layer: input of shape \(5, 3, 2\) has 2 features"):
        F.lstm_layer(dendrite.zeros(T, N, 2), None, None, dendrite.zeros(4 * H, H_IN),
                     dendrite.zeros(4 * H, H))
