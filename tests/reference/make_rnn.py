"""Reference values for etna's recurrent layers (tests/rnn/): RNN (tanh, relu), LSTM, GRU and
their cells in float64, with outputs, final states and the gradients of
loss = sum(output * r_out) + sum(h_n * r_h) (+ sum(c_n * r_c)) with respect to the input, the
initial states and every parameter. Variable lengths go through
pack_padded_sequence(enforce_sorted=False) / pad_packed_sequence, which is the semantics etna's
lengths argument reproduces. Run with /usr/bin/python3 (torch 1.13)."""
import json
import os
import struct

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from fixture_util import FIXTURE_DIR, write

torch.manual_seed(0)
D = torch.float64
IN, H, L, N = 3, 4, 5, 3

MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
CELLS = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}


def sequence_case(name, kind, out, num_layers=1, bidirectional=False, batch_first=False,
                  nonlinearity="tanh", bias=True, lengths=None, unbatched=False, with_h0=True):
    kwargs = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
                  bias=bias)
    if kind == "rnn":
        kwargs["nonlinearity"] = nonlinearity
    m = MODULES[kind](IN, H, **kwargs).to(D)
    dirs = 2 if bidirectional else 1
    x_shape = [L, IN] if unbatched else ([N, L, IN] if batch_first else [L, N, IN])
    x = torch.randn(*x_shape, dtype=D, requires_grad=True)
    s_shape = [num_layers * dirs, H] if unbatched else [num_layers * dirs, N, H]
    h0 = torch.randn(*s_shape, dtype=D, requires_grad=True)
    c0 = torch.randn(*s_shape, dtype=D, requires_grad=True)
    state = None
    if with_h0:
        state = (h0, c0) if kind == "lstm" else h0
    if lengths is not None:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first,
                                      enforce_sorted=False)
        y, st = m(packed, state)
        y, _ = pad_packed_sequence(y, batch_first=batch_first, total_length=L)
    else:
        y, st = m(x, state)
    h_n, c_n = st if kind == "lstm" else (st, None)
    r_out = torch.randn_like(y)
    r_h = torch.randn_like(h_n)
    loss = (y * r_out).sum() + (h_n * r_h).sum()
    if c_n is not None:
        r_c = torch.randn_like(c_n)
        loss = loss + (c_n * r_c).sum()
    loss.backward()
    p = name + "."
    out[p + "config"] = dict(kind=kind, num_layers=num_layers, bidirectional=bidirectional,
                             batch_first=batch_first, nonlinearity=nonlinearity, bias=bias,
                             lengths=lengths, unbatched=unbatched, with_h0=with_h0)
    out[p + "names"] = [n for n, _ in m.named_parameters()]
    out[p + "x"] = x
    out[p + "x.grad"] = x.grad
    if with_h0:
        out[p + "h0"] = h0
        out[p + "h0.grad"] = h0.grad
        if kind == "lstm":
            out[p + "c0"] = c0
            out[p + "c0.grad"] = c0.grad
    out[p + "output"] = y
    out[p + "h_n"] = h_n
    out[p + "r_out"] = r_out
    out[p + "r_h"] = r_h
    if c_n is not None:
        out[p + "c_n"] = c_n
        out[p + "r_c"] = r_c
    for n, t in m.named_parameters():
        out[p + "param." + n] = t
        out[p + "grad." + n] = t.grad
    return m


def save_state_dict(module, name):
    """module.state_dict() as safetensors (what safetensors.torch.save_file writes: a little-endian
    u64 header length, the JSON header, then the raw tensors), without needing that package."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for key, t in module.state_dict().items():
        data = t.detach().contiguous().numpy().tobytes()
        header[key] = {"dtype": "F64", "shape": list(t.shape),
                       "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path = os.path.join(FIXTURE_DIR, name + ".safetensors")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    print(f"wrote {path}")


def cell_case(name, kind, out, nonlinearity="tanh", unbatched=False, bias=True):
    kwargs = dict(bias=bias)
    if kind == "rnn":
        kwargs["nonlinearity"] = nonlinearity
    m = CELLS[kind](IN, H, **kwargs).to(D)
    x = torch.randn(*([IN] if unbatched else [N, IN]), dtype=D, requires_grad=True)
    h = torch.randn(*([H] if unbatched else [N, H]), dtype=D, requires_grad=True)
    c = torch.randn(*([H] if unbatched else [N, H]), dtype=D, requires_grad=True)
    if kind == "lstm":
        h1, c1 = m(x, (h, c))
    else:
        h1, c1 = m(x, h), None
    r_h = torch.randn_like(h1)
    loss = (h1 * r_h).sum()
    if c1 is not None:
        r_c = torch.randn_like(c1)
        loss = loss + (c1 * r_c).sum()
    loss.backward()
    p = name + "."
    out[p + "config"] = dict(kind=kind, nonlinearity=nonlinearity, unbatched=unbatched, bias=bias)
    out[p + "names"] = [n for n, _ in m.named_parameters()]
    out[p + "x"] = x
    out[p + "x.grad"] = x.grad
    out[p + "h0"] = h
    out[p + "h0.grad"] = h.grad
    out[p + "h_n"] = h1
    out[p + "r_h"] = r_h
    if kind == "lstm":
        out[p + "c0"] = c
        out[p + "c0.grad"] = c.grad
        out[p + "c_n"] = c1
        out[p + "r_c"] = r_c
    for n, t in m.named_parameters():
        out[p + "param." + n] = t
        out[p + "grad." + n] = t.grad


basic = {}
sequence_case("rnn_tanh", "rnn", basic)
sequence_case("rnn_relu_2l", "rnn", basic, num_layers=2, nonlinearity="relu")
sequence_case("lstm", "lstm", basic)
sequence_case("lstm_2l", "lstm", basic, num_layers=2, with_h0=False)
# Its state_dict is also saved as a PyTorch safetensors file, for et::io::load.
save_state_dict(sequence_case("lstm_bi_bf", "lstm", basic, bidirectional=True, batch_first=True),
                "rnn_lstm_bi_state_dict")
sequence_case("lstm_nobias", "lstm", basic, bias=False)
sequence_case("gru", "gru", basic)
sequence_case("gru_2l_bi", "gru", basic, num_layers=2, bidirectional=True)
sequence_case("lstm_unbatched", "lstm", basic, bidirectional=True, unbatched=True)
sequence_case("gru_unbatched", "gru", basic, unbatched=True, with_h0=False)
write("rnn", basic)

varlen = {}
LENGTHS = [3, 5, 2]  # unsorted, one full-length sequence
sequence_case("rnn_tanh_len", "rnn", varlen, lengths=LENGTHS)
sequence_case("rnn_relu_bi_len", "rnn", varlen, bidirectional=True, nonlinearity="relu",
              lengths=LENGTHS)
sequence_case("lstm_len", "lstm", varlen, lengths=LENGTHS)
sequence_case("lstm_2l_bi_len", "lstm", varlen, num_layers=2, bidirectional=True,
              lengths=LENGTHS)
sequence_case("lstm_bi_bf_len", "lstm", varlen, bidirectional=True, batch_first=True,
              lengths=[2, 4, 1])
sequence_case("gru_2l_bi_len", "gru", varlen, num_layers=2, bidirectional=True, lengths=LENGTHS)
cell_case("rnn_cell", "rnn", varlen)
cell_case("rnn_cell_relu", "rnn", varlen, nonlinearity="relu", unbatched=True)
cell_case("lstm_cell", "lstm", varlen)
cell_case("lstm_cell_nobias", "lstm", varlen, unbatched=True, bias=False)
cell_case("gru_cell", "gru", varlen)
write("rnn_varlen", varlen)
