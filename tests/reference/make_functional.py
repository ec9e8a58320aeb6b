"""Reference values for et::nn::functional (linear, batch_norm, layer_norm, embedding):
forward outputs and gradients from PyTorch with identical inputs. Run with /usr/bin/python3."""
import json
import os

import torch
import torch.nn.functional as F

from fixture_util import FIXTURE_DIR

torch.manual_seed(20261127)
out = {}


def rnd(*shape, scale=1.0):
    # Four decimals: the values parse back to the same float32 in C++.
    return torch.round(torch.randn(*shape) * scale * 1e4) / 1e4


def put(name, t):
    t = t.detach().contiguous()
    if t.dtype == torch.int64:
        data = t.reshape(-1).tolist()
    else:
        data = [float("%.8g" % v) for v in t.reshape(-1).tolist()]
    out[name] = {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": data}


def grads(y, gout, *leaves):
    y.backward(gout)
    return [leaf.grad for leaf in leaves]


# linear on [2, 3, 4] with weight [5, 4], with and without bias
x, w, b, g = rnd(2, 3, 4), rnd(5, 4), rnd(5), rnd(2, 3, 5)
for k, v in dict(linear_x=x, linear_w=w, linear_b=b, linear_g=g).items():
    put(k, v)
xs, ws, bs = (t.clone().requires_grad_() for t in (x, w, b))
y = F.linear(xs, ws, bs)
put("linear_y", y)
for k, v in zip(("linear_gx", "linear_gw", "linear_gb"), grads(y, g, xs, ws, bs)):
    put(k, v)
xs, ws = (t.clone().requires_grad_() for t in (x, w))
y = F.linear(xs, ws)
put("linear_nobias_y", y)
for k, v in zip(("linear_nobias_gx", "linear_nobias_gw"), grads(y, g, xs, ws)):
    put(k, v)

# batch_norm: training on [4, 3] and [4, 3, 5] (running-stat update), then eval on [4, 3, 5]
for tag, shape in (("bn2", (4, 3)), ("bn3", (4, 3, 5))):
    x, w, b, g = rnd(*shape, scale=2.0) + 0.5, rnd(3), rnd(3), rnd(*shape)
    rm, rv = rnd(3), torch.rand(3).mul(1e4).round().div(1e4) + 0.5
    for k, v in dict(x=x, w=w, b=b, g=g, rm=rm, rv=rv).items():
        put(f"{tag}_{k}", v)
    xs, ws, bs = (t.clone().requires_grad_() for t in (x, w, b))
    rm2, rv2 = rm.clone(), rv.clone()
    y = F.batch_norm(xs, rm2, rv2, ws, bs, training=True, momentum=0.2, eps=1e-5)
    put(f"{tag}_y", y)
    for k, v in zip(("gx", "gw", "gb"), grads(y, g, xs, ws, bs)):
        put(f"{tag}_{k}", v)
    put(f"{tag}_rm_after", rm2)
    put(f"{tag}_rv_after", rv2)
    xs, ws, bs = (t.clone().requires_grad_() for t in (x, w, b))
    y = F.batch_norm(xs, rm, rv, ws, bs, training=False, eps=1e-5)
    put(f"{tag}_eval_y", y)
    for k, v in zip(("gx", "gw", "gb"), grads(y, g, xs, ws, bs)):
        put(f"{tag}_eval_{k}", v)

# layer_norm over the last 1 and the last 2 dims of [3, 4, 5]
x, g = rnd(3, 4, 5, scale=1.5) + 0.3, rnd(3, 4, 5)
put("ln_x", x)
put("ln_g", g)
for tag, shape in (("ln1", (5,)), ("ln2", (4, 5))):
    w, b = rnd(*shape), rnd(*shape)
    put(f"{tag}_w", w)
    put(f"{tag}_b", b)
    xs, ws, bs = (t.clone().requires_grad_() for t in (x, w, b))
    y = F.layer_norm(xs, shape, ws, bs, eps=1e-5)
    put(f"{tag}_y", y)
    for k, v in zip(("gx", "gw", "gb"), grads(y, g, xs, ws, bs)):
        put(f"{tag}_{k}", v)

# embedding with repeated indices, with and without padding_idx
w = rnd(6, 3)
idx = torch.tensor([[1, 2, 1], [0, 5, 1]])
g = rnd(2, 3, 3)
put("emb_w", w)
put("emb_idx", idx)
put("emb_g", g)
for tag, pad in (("emb", None), ("emb_pad", 1)):
    ws = w.clone().requires_grad_()
    y = F.embedding(idx, ws, padding_idx=pad)
    put(f"{tag}_y", y)
    put(f"{tag}_gw", grads(y, g, ws)[0])

path = os.path.join(FIXTURE_DIR, "functional.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"wrote {path} ({len(out)} entries)")
