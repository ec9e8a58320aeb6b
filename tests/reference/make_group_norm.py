"""Reference values for etna::nn::functional::group_norm: forward outputs and the gradients of
x, weight and bias under a random upstream gradient, from PyTorch on identical inputs (computed
in float64 from float32-exact inputs). Run with /usr/bin/python3."""
import torch
import torch.nn.functional as F

from fixture_util import write

torch.manual_seed(20261127)
out = {}


def rnd(*shape, scale=1.0):
    # Four decimals: the values parse back to the same float32 in C++.
    return torch.round(torch.randn(*shape) * scale * 1e4) / 1e4


# (tag, input shape, num_groups, affine): G = 1, 2, C (instance-norm like) on [N, C, H, W],
# a 2-d [N, C] and a 3-d [N, C, L] input, and one case without weight and bias.
CASES = [
    ("g1", (2, 6, 3, 4), 1, True),
    ("g2", (2, 6, 3, 4), 2, True),
    ("gc", (2, 6, 3, 4), 6, True),
    ("nc", (4, 6), 3, True),
    ("ncl", (3, 6, 5), 2, True),
    ("noaffine", (2, 6, 3, 4), 3, False),
]

for tag, shape, groups, affine in CASES:
    C = shape[1]
    x, g = rnd(*shape, scale=1.5) + 0.7, rnd(*shape)
    w, b = rnd(C) + 1.0, rnd(C)
    out.update({f"{tag}_x": x, f"{tag}_g": g})
    out[f"{tag}_groups"] = groups
    xs = x.double().requires_grad_()
    if affine:
        out.update({f"{tag}_w": w, f"{tag}_b": b})
        ws, bs = w.double().requires_grad_(), b.double().requires_grad_()
        y = F.group_norm(xs, groups, ws, bs, eps=1e-5)
    else:
        y = F.group_norm(xs, groups, eps=1e-5)
    y.backward(g.double())
    out[f"{tag}_y"] = y.float()
    out[f"{tag}_gx"] = xs.grad.float()
    if affine:
        out[f"{tag}_gw"] = ws.grad.float()
        out[f"{tag}_gb"] = bs.grad.float()

write("group_norm", out)
