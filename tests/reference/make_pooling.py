"""Reference values for et::nn::functional's pooling and interpolate: for each case the input x,
a random upstream gradient g, the output y and the input gradient gx (and max pooling's indices)
from PyTorch. Run with /usr/bin/python3; writes fixtures/pooling.json."""
import json
import os

import torch
import torch.nn.functional as F

from fixture_util import FIXTURE_DIR

torch.manual_seed(20261127)
out = {}


def rnd(*shape):
    # Four decimals: the values parse back to the same float32 in C++ (and ties are unlikely).
    return torch.round(torch.randn(*shape) * 1e4) / 1e4


def put(name, t):
    t = t.detach().contiguous()
    if t.dtype == torch.int64:
        data = t.reshape(-1).tolist()
    else:
        # NaN and infinities as strings (strict JSON), the rest to 7 significant digits.
        data = [float("%.7g" % v) if abs(v) < float("inf") else str(v)
                for v in t.reshape(-1).tolist()]
    out[name] = {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": data}


def case(name, shape, fn, x=None):
    x = rnd(*shape) if x is None else x
    xs = x.clone().requires_grad_()
    y = fn(xs)
    idx = None
    if isinstance(y, tuple):
        y, idx = y
    g = rnd(*y.shape)
    y.backward(g)
    put(name + "_x", x)
    put(name + "_g", g)
    put(name + "_y", y)
    put(name + "_gx", xs.grad)
    if idx is not None:
        put(name + "_idx", idx)


# max_pool2d
case("mp_k2s2", (2, 2, 6, 8), lambda x: F.max_pool2d(x, 2))
case("mp_k3s2p1", (2, 2, 7, 8), lambda x: F.max_pool2d(x, 3, 2, 1))
case("mp_dil2", (1, 2, 9, 9), lambda x: F.max_pool2d(x, 3, 1, 1, dilation=2))
case("mp_ceil", (1, 2, 7, 8), lambda x: F.max_pool2d(x, 3, 2, ceil_mode=True))
case("mp_nonsq", (2, 1, 7, 9), lambda x: F.max_pool2d(x, (2, 3), (1, 2), (1, 1)))
case("mp_unbatched", (3, 6, 6), lambda x: F.max_pool2d(x, 2))
case("mp_idx", (1, 2, 7, 7),
     lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True))
nan_x = rnd(1, 1, 4, 4)
nan_x[0, 0, 1, 1] = float("nan")
nan_x[0, 0, 0, 0] = float("nan")
nan_x[0, 0, 3, 2] = float("-inf")
nan_x[0, 0, 3, 3] = float("-inf")
y, idx = F.max_pool2d(nan_x, 2, return_indices=True)
put("mp_nan_x", nan_x)
put("mp_nan_y", y)
put("mp_nan_idx", idx)
y, idx = F.max_pool2d(nan_x, 3, 1, 1, return_indices=True)  # the general (non-2x2) path
put("mp_nan3_y", y)
put("mp_nan3_idx", idx)

# avg_pool2d
case("ap_pad", (2, 2, 7, 8), lambda x: F.avg_pool2d(x, 3, 2, 1))
case("ap_pad_excl", (2, 2, 7, 8), lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False))
case("ap_ceil", (1, 2, 7, 8), lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True))
case("ap_ceil_excl", (1, 2, 7, 8),
     lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False))
case("ap_div", (1, 2, 7, 8), lambda x: F.avg_pool2d(x, 3, 2, 1, divisor_override=5))
case("ap_unbatched", (3, 6, 6), lambda x: F.avg_pool2d(x, (2, 3), (2, 1)))

# adaptive pooling
case("aap_exact", (2, 2, 8, 8), lambda x: F.adaptive_avg_pool2d(x, 4))
case("aap_7to3", (1, 2, 7, 7), lambda x: F.adaptive_avg_pool2d(x, 3))
case("aap_5to24", (1, 2, 5, 5), lambda x: F.adaptive_avg_pool2d(x, (2, 4)))
case("aap_unbatched", (2, 6, 5), lambda x: F.adaptive_avg_pool2d(x, 1))
case("amp_exact", (2, 2, 8, 8), lambda x: F.adaptive_max_pool2d(x, 4))
case("amp_7to3", (1, 2, 7, 7), lambda x: F.adaptive_max_pool2d(x, 3))
case("amp_5to24", (1, 2, 5, 5), lambda x: F.adaptive_max_pool2d(x, (2, 4)))

# 1-d forms
case("mp1", (2, 2, 9), lambda x: F.max_pool1d(x, 3, 2, 1))
case("mp1_unbatched", (3, 10), lambda x: F.max_pool1d(x, 2))
case("ap1", (2, 2, 9), lambda x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False))
case("aap1", (2, 2, 10), lambda x: F.adaptive_avg_pool1d(x, 4))

# interpolate
case("nn_size", (2, 1, 4, 5), lambda x: F.interpolate(x, size=(7, 3)))
case("nn_s2", (1, 2, 4, 5), lambda x: F.interpolate(x, scale_factor=2))
case("nn_s15", (1, 2, 4, 6), lambda x: F.interpolate(x, scale_factor=1.5))
case("nn_down", (1, 2, 8, 6), lambda x: F.interpolate(x, scale_factor=0.5))
case("nn_s12", (1, 1, 4, 5), lambda x: F.interpolate(x, scale_factor=(1.2, 1.3)))
case("bl_up", (2, 1, 4, 5), lambda x: F.interpolate(x, size=(7, 9), mode="bilinear"))
case("bl_up_ac", (2, 1, 4, 5),
     lambda x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True))
case("bl_down", (1, 2, 8, 9), lambda x: F.interpolate(x, size=(5, 4), mode="bilinear"))
case("bl_down_ac", (1, 2, 8, 9),
     lambda x: F.interpolate(x, size=(5, 4), mode="bilinear", align_corners=True))
case("bl_s15", (1, 2, 4, 6), lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"))
case("bl_s2_ac", (1, 1, 3, 4),
     lambda x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True))
case("bl_unbatched", (2, 3, 4),
     lambda x: F.interpolate(x[None], size=(5, 7), mode="bilinear")[0])

path = os.path.join(FIXTURE_DIR, "pooling.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"wrote {path} ({len(out)} entries, {os.path.getsize(path)} bytes)")
