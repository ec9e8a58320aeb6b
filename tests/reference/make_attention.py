"""Reference values for tests/attention: scaled dot-product attention written out with softmax
(torch 1.13 has no F.scaled_dot_product_attention), nn.MultiheadAttention with its weights,
outputs, attention weights and gradients, and the PyTorch tutorial's sinusoidal encoding.
Run: /usr/bin/python3 tests/reference/make_attention.py"""
import math

import torch

from fixture_util import write

torch.manual_seed(0)
out = {}


def rnd(*shape):
    # float32 values, computed on in float64: the C++ float results compare to exact references
    return torch.randn(*shape).double()


def sdpa_ref(q, k, v, bool_mask=None, float_mask=None, causal=False, scale=None):
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ k.transpose(-1, -2) * scale
    if float_mask is not None:
        s = s + float_mask
    if bool_mask is not None:
        s = s.masked_fill(~bool_mask, float("-inf"))
    if causal:
        lq, lk = q.shape[-2], k.shape[-2]
        s = s.masked_fill(torch.ones(lq, lk, dtype=torch.bool).triu(1), float("-inf"))
    p = torch.softmax(s, -1)
    return p @ v, p


def sdpa_case(name, qs, ks, vs, bool_shape=None, float_shape=None, causal=False, scale=None):
    q, k, v = (rnd(*s).requires_grad_() for s in (qs, ks, vs))
    bm = fm = None
    e = {"q": q, "k": k, "v": v}
    if bool_shape is not None:
        bm = torch.rand(*bool_shape) > 0.3
        bm[..., 0] = True  # no fully masked row
        e["bool_mask"] = bm
    if float_shape is not None:
        fm = rnd(*float_shape)
        e["float_mask"] = fm
    o, p = sdpa_ref(q, k, v, bm, fm, causal, scale)
    g = rnd(*o.shape)
    o.backward(g)
    e.update(out=o, weights=p, gout=g, dq=q.grad, dk=k.grad, dv=v.grad)
    if scale is not None:
        e["scale"] = scale
    for key, val in e.items():
        out[f"{name}_{key}"] = val


sdpa_case("sdpa_plain", (2, 3, 4), (2, 5, 4), (2, 5, 6))
sdpa_case("sdpa_bool", (2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), bool_shape=(2, 1, 3, 5))
sdpa_case("sdpa_float", (2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4), float_shape=(3, 5))
sdpa_case("sdpa_causal", (1, 2, 4, 4), (1, 2, 6, 4), (1, 2, 6, 2), causal=True)
sdpa_case("sdpa_bcast", (2, 3, 3, 4), (1, 3, 5, 4), (2, 1, 5, 4), bool_shape=(5,), scale=0.3)
sdpa_case("sdpa_causal_float", (2, 4, 4), (2, 4, 4), (2, 4, 4), float_shape=(2, 1, 4),
          causal=True)


def mha_case(name, e, h, q_shape, kv_shapes, same=None, kdim=None, vdim=None, bias=True,
             batch_first=False, kpm=None, attn_mask=None, average=True):
    torch.manual_seed(len(name))
    m = torch.nn.MultiheadAttention(e, h, bias=bias, kdim=kdim, vdim=vdim,
                                    batch_first=batch_first).double()
    for p in m.parameters():  # non-zero biases too, so their gradients are tested
        with torch.no_grad():
            p.copy_(torch.randn(p.shape) * 0.5)
    q = rnd(*q_shape).requires_grad_()
    if same == "qkv":
        k = v = q
    elif same == "kv":
        k = v = rnd(*kv_shapes[0]).requires_grad_()
    else:
        k = rnd(*kv_shapes[0]).requires_grad_()
        v = rnd(*kv_shapes[1]).requires_grad_()
    o, w = m(q, k, v, key_padding_mask=kpm, attn_mask=attn_mask, need_weights=True,
             average_attn_weights=average)
    g = rnd(*o.shape)
    o.backward(g)
    ent = {"query": q, "out": o, "weights": w, "gout": g, "dquery": q.grad}
    if same != "qkv":
        ent.update(key=k, dkey=k.grad)
    if same is None:
        ent.update(value=v, dvalue=v.grad)
    if kpm is not None:
        ent["kpm"] = kpm
    if attn_mask is not None:
        ent["attn_mask"] = attn_mask
    for pname, p in m.named_parameters():
        ent["p." + pname] = p
        ent["g." + pname] = p.grad
    ent["keys"] = list(m.state_dict().keys())
    for key, val in ent.items():
        out[f"{name}_{key}"] = val


L, S, N, E = 3, 5, 2, 8
mha_case("mha_self", E, 2, (4, N, E), None, same="qkv")
kpm = torch.zeros(N, S, dtype=torch.bool)
kpm[0, 3:] = True
kpm[1, 1] = True
am_bool = torch.rand(L, S) > 0.7
am_bool[:, 0] = False
mha_case("mha_bf_kpm", E, 2, (N, L, E), [(N, S, E)], same="kv", batch_first=True, kpm=kpm,
         attn_mask=am_bool, average=False)
mha_case("mha_float3d", E, 4, (L, N, E), [(S, N, E), (S, N, E)], kpm=kpm,
         attn_mask=rnd(N * 4, L, S))
mha_case("mha_kvdim", E, 4, (N, L, E), [(N, S, 5), (N, S, 7)], kdim=5, vdim=7, batch_first=True)
am_bool3 = torch.rand(N * 2, L, S) > 0.6
am_bool3[..., 0] = False
mha_case("mha_bool3d", E, 2, (L, N, E), [(S, N, E), (S, N, E)], kpm=kpm, attn_mask=am_bool3)
mha_case("mha_float2d", E, 2, (N, S, E), None, same="qkv", batch_first=True, kpm=kpm,
         attn_mask=rnd(S, S), average=False)
mha_case("mha_unbatched", E, 2, (L, E), [(S, E), (S, E)], bias=False,
         attn_mask=am_bool, average=False)


def tutorial_pe(max_len, d_model):
    position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) *
                         (-math.log(10000.0) / d_model))
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term[: d_model // 2])
    return pe


out["pe_10_6"] = tutorial_pe(10, 6)
out["pe_7_5"] = tutorial_pe(7, 5)
write("attention", out)
