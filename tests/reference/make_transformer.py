"""Reference values for et::nn's Transformer layers (tests/transformer/*_test.cpp):
TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder/Decoder and Transformer from
torch.nn (1.13), each with random weights (all of them, biases and LayerNorms included, so that
every path shows), its inputs and masks, the output and the gradients of sum(out * g) for a fixed
random g with respect to the inputs and every parameter (in float64, so that the C++ tests in
double can compare tightly), its state_dict keys and its repr.

Run with /usr/bin/python3 (python3-torch) or the repository's .venv/bin/python; writes
fixtures/transformer_layers.json and fixtures/transformer_stacks.json, and, when the safetensors
package is importable (.venv), fixtures/transformer_model.safetensors: a small nn.Transformer's
state_dict as safetensors.torch.save_file writes it (float32), for the et::io::load check.
The models are in eval mode (dropout off; PyTorch's masks come from another generator). With
gradients enabled PyTorch 1.13 takes the reference ("slow") path of the layers, never the
fused nested-tensor one, which zeroes padded positions."""
import os

import torch
import torch.nn as nn

from fixture_util import FIXTURE_DIR, write

torch.manual_seed(20261127)

D_MODEL, NHEAD, FF = 8, 2, 12


def rnd(*shape, scale=1.0, shift=0.0):
    # Four decimals: the inputs and weights read back exactly in the C++ tests' float copies too.
    return (torch.round((torch.randn(*shape) * scale + shift) * 1e4) / 1e4).double()


def randomise(module):
    """Every parameter random: LayerNorm weights near 1, the rest small."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            norm_weight = "norm" in name and name.endswith("weight")
            p.copy_(rnd(*p.shape, scale=0.3, shift=1.0 if norm_weight else 0.0))


def record(out, tag, module, inputs, call):
    """Runs call(*inputs) on module (float64, eval), backward sum(y * g); records the parameters,
    inputs, y, g and the gradients of the inputs and parameters under `tag`."""
    module.double().eval()
    xs = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    y = call(**xs)
    g = rnd(*y.shape)
    y.backward(g)
    for k, v in inputs.items():
        out[f"{tag}.{k}"] = v
        out[f"{tag}.grad.{k}"] = xs[k].grad
    out[f"{tag}.y"] = y.detach()
    out[f"{tag}.g"] = g
    for name, p in module.named_parameters():
        out[f"{tag}.param.{name}"] = p.detach()
        out[f"{tag}.grad.param.{name}"] = p.grad
    out[f"{tag}.keys"] = list(module.state_dict().keys())
    out[f"{tag}.repr"] = repr(module)


def padding_mask(n, length, valid):
    """[n, length] bool, True past each row's valid length (True = ignore, PyTorch's convention)."""
    return torch.arange(length)[None, :] >= torch.tensor(valid)[:, None]


causal = nn.Transformer.generate_square_subsequent_mask  # float [L, L]: -inf above the diagonal

# ---- encoder layers ------------------------------------------------------------------------------
layers = {}
L, N, S = 5, 3, 4  # source length, batch, target length in the decoder cases


def enc_case(tag, batch_first, norm_first, activation, src_mask, kpm, unbatched=False):
    layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF, dropout=0.1, activation=activation,
                                       batch_first=batch_first, norm_first=norm_first)
    randomise(layer)
    if unbatched:
        shape = (L, D_MODEL)
    else:
        shape = (N, L, D_MODEL) if batch_first else (L, N, D_MODEL)
    record(layers, tag, layer, {"src": rnd(*shape)},
           lambda src: layer(src, src_mask=src_mask, src_key_padding_mask=kpm))
    if src_mask is not None:
        layers[f"{tag}.src_mask"] = src_mask
    if kpm is not None:
        layers[f"{tag}.src_key_padding_mask"] = kpm


# post-norm, relu, seq-first; float src_mask (a random additive bias) + key padding mask
enc_case("enc_post_relu", False, False, "relu", rnd(L, L, scale=0.5), padding_mask(N, L, [5, 3, 4]))
# pre-norm, gelu, batch_first; bool mask (True = not allowed; the diagonal always allowed)
bool_mask = (torch.rand(L, L) < 0.4) & ~torch.eye(L, dtype=torch.bool)
enc_case("enc_pre_gelu_bf", True, True, "gelu", bool_mask, padding_mask(N, L, [4, 5, 2]))
# post-norm, gelu, no masks, batch_first
enc_case("enc_post_gelu_bf", True, False, "gelu", None, None)
# pre-norm, relu, seq-first, causal float mask only
enc_case("enc_pre_relu_causal", False, True, "relu", causal(L).double(), None)
# unbatched [L, E] input with a bool mask
enc_case("enc_unbatched", False, False, "relu", bool_mask, None, unbatched=True)


# ---- decoder layers ------------------------------------------------------------------------------
def dec_case(tag, batch_first, norm_first, activation, tgt_mask, memory_mask, tgt_kpm, mem_kpm):
    layer = nn.TransformerDecoderLayer(D_MODEL, NHEAD, FF, dropout=0.1, activation=activation,
                                       batch_first=batch_first, norm_first=norm_first)
    randomise(layer)
    t_shape = (N, S, D_MODEL) if batch_first else (S, N, D_MODEL)
    m_shape = (N, L, D_MODEL) if batch_first else (L, N, D_MODEL)
    record(layers, tag, layer, {"tgt": rnd(*t_shape), "memory": rnd(*m_shape)},
           lambda tgt, memory: layer(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                                     tgt_key_padding_mask=tgt_kpm,
                                     memory_key_padding_mask=mem_kpm))
    for name, m in (("tgt_mask", tgt_mask), ("memory_mask", memory_mask),
                    ("tgt_key_padding_mask", tgt_kpm), ("memory_key_padding_mask", mem_kpm)):
        if m is not None:
            layers[f"{tag}.{name}"] = m


# post-norm, relu: causal float tgt mask + memory key padding mask
dec_case("dec_post_relu", False, False, "relu", causal(S).double(), None, None,
         padding_mask(N, L, [5, 2, 4]))
# pre-norm, gelu, batch_first: bool causal tgt mask, float memory mask, both padding masks
dec_case("dec_pre_gelu_bf", True, True, "gelu",
         torch.triu(torch.ones(S, S, dtype=torch.bool), diagonal=1), rnd(S, L, scale=0.5),
         padding_mask(N, S, [4, 4, 3]), padding_mask(N, L, [3, 5, 5]))
write("transformer_layers", layers)

# ---- stacks and the whole Transformer ---------------------------------------------------------------
stacks = {}
enc_layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, FF, dropout=0.1)
encoder = nn.TransformerEncoder(enc_layer, 2, norm=nn.LayerNorm(D_MODEL))
randomise(encoder)
src_kpm = padding_mask(N, L, [5, 4, 3])
record(stacks, "encoder2", encoder, {"src": rnd(L, N, D_MODEL)},
       lambda src: encoder(src, src_key_padding_mask=src_kpm))
stacks["encoder2.src_key_padding_mask"] = src_kpm

dec_layer = nn.TransformerDecoderLayer(D_MODEL, NHEAD, FF, dropout=0.1, norm_first=True)
decoder = nn.TransformerDecoder(dec_layer, 2, norm=nn.LayerNorm(D_MODEL))
randomise(decoder)
mem_kpm = padding_mask(N, L, [5, 5, 2])
record(stacks, "decoder2", decoder, {"tgt": rnd(S, N, D_MODEL), "memory": rnd(L, N, D_MODEL)},
       lambda tgt, memory: decoder(tgt, memory, tgt_mask=causal(S).double(),
                                   memory_key_padding_mask=mem_kpm))
stacks["decoder2.tgt_mask"] = causal(S).double()
stacks["decoder2.memory_key_padding_mask"] = mem_kpm

# Without a final norm: the keys have no "norm.*".
stacks["encoder_nonorm.keys"] = list(nn.TransformerEncoder(enc_layer, 2).state_dict().keys())

model = nn.Transformer(d_model=D_MODEL, nhead=NHEAD, num_encoder_layers=2, num_decoder_layers=1,
                       dim_feedforward=FF, dropout=0.1, batch_first=True)
randomise(model)
src_kpm = padding_mask(N, L, [5, 3, 4])
tgt_kpm = padding_mask(N, S, [4, 3, 4])
record(stacks, "transformer", model, {"src": rnd(N, L, D_MODEL), "tgt": rnd(N, S, D_MODEL)},
       lambda src, tgt: model(src, tgt, tgt_mask=causal(S).double(),
                              src_key_padding_mask=src_kpm, tgt_key_padding_mask=tgt_kpm,
                              memory_key_padding_mask=src_kpm))
stacks["transformer.tgt_mask"] = causal(S).double()
stacks["transformer.src_key_padding_mask"] = src_kpm
stacks["transformer.tgt_key_padding_mask"] = tgt_kpm
stacks["transformer.memory_key_padding_mask"] = src_kpm
# The defaults' names (6 + 6 layers, d_model 512) without building the big model's values twice.
stacks["transformer_default.keys"] = list(nn.Transformer().state_dict().keys())
write("transformer_stacks", stacks)

# ---- a state_dict file for et::io::load -------------------------------------------------------------
try:
    from safetensors.torch import save_file
except ImportError:
    save_file = None
if save_file is not None:
    small = nn.Transformer(d_model=D_MODEL, nhead=NHEAD, num_encoder_layers=1,
                           num_decoder_layers=1, dim_feedforward=FF, dropout=0.1)
    randomise(small)
    small.float().eval()
    src, tgt = rnd(L, 2, D_MODEL).float(), rnd(S, 2, D_MODEL).float()
    with torch.no_grad():
        y = small(src, tgt, tgt_mask=causal(S))
    path = os.path.join(FIXTURE_DIR, "transformer_model.safetensors")
    save_file({k: v.contiguous() for k, v in small.state_dict().items()}, path)
    save_file({"src": src, "tgt": tgt, "y": y},
              os.path.join(FIXTURE_DIR, "transformer_model_io.safetensors"))
    print(f"wrote {path} and transformer_model_io.safetensors")
