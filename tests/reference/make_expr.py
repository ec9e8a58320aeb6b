"""Reference values for tests/expr: every element-wise function's forward value (float32 and
float64) and its gradient (torch.autograd, float64) on inputs with special values, plus
broadcasting cases. Run with Debian's /usr/bin/python3 (python3-torch 1.13):

    /usr/bin/python3 tests/reference/make_expr.py   # writes fixtures/expr.json

Inputs are float32-exact and written beside the outputs; float32 data is written with 9
significant digits (exact round trip) to keep the file small."""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_util  # noqa: E402

N = 67  # co-prime with every SIMD width, so special values land in every lane and the tail
nan, inf = float("nan"), float("inf")


def compact(t):
    """fixture_util.encode, with float32 values shortened to 9 significant digits."""
    e = fixture_util.encode(t)
    if t.dtype == torch.float32:
        e["data"] = [v if isinstance(v, str) else float("%.9g" % v) for v in e["data"]]
    return e


def domain(specials, gen, fill):
    vals = list(specials)
    extra = fill(gen, N - len(vals))
    vals += extra.tolist()
    return torch.tensor(vals, dtype=torch.float32)


g = torch.Generator().manual_seed(20240601)
general = domain(
    [0.0, -0.0, nan, inf, -inf, 1e-3, -1e-3, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0,
     -3.0, 10.0, -10.0, 20.0, -20.0, 25.0, 30.0, -30.0, 88.0, -88.0, 100.0, -100.0, 0.25, -0.75],
    g, lambda g, n: torch.randn(n, generator=g) * 3)
positive = domain(
    [0.0, -0.0, nan, inf, -inf, -1.0, -2.0, 1e-30, 1e-8, 1e-3, 0.5, 1.0, 2.0, 4.0, 10.0, 1e4, 1e30,
     0.999, 1.001],
    g, lambda g, n: torch.exp(torch.randn(n, generator=g) * 2))
# second operands for the binary functions: ties with `general` in a few places, zeros, NaNs
other = domain(
    [1.0, 0.0, 1.0, 2.0, -inf, 0.0, -1e-3, 1e-8, 0.0, 0.5, nan, 1.0, 1.0, -2.0, 3.0, 3.0, inf,
     10.0, 2.0, -0.5, 0.0],
    g, lambda g, n: torch.randn(n, generator=g) * 3)
# pow: non-negative and negative bases, integer and fractional exponents
pow_base = domain(
    [0.0, 0.0, 0.0, 2.0, -2.0, -2.0, -2.0, 1.0, 1.0, nan, 4.0, 0.5, 3.0, 1e-3, 10.0, -0.5, inf],
    g, lambda g, n: torch.exp(torch.randn(n, generator=g)))
pow_exp = domain(
    [0.0, 2.0, -1.0, 0.5, 3.0, 2.0, 0.5, nan, inf, 1.0, -0.5, -2.0, 0.0, 1.5, 3.0, -3.0, 2.0],
    g, lambda g, n: torch.randn(n, generator=g) * 2)

# name -> (domain names, torch function). Functions of several inputs take them in order.
UNARY = {
    "neg": ("general", torch.neg),
    "abs": ("general", torch.abs),
    "sign": ("general", torch.sign),
    "exp": ("general", torch.exp),
    "expm1": ("general", torch.expm1),
    "log": ("positive", torch.log),
    "log1p": ("general", torch.log1p),
    "sqrt": ("positive", torch.sqrt),
    "rsqrt": ("positive", torch.rsqrt),
    "reciprocal": ("positive", torch.reciprocal),
    "square": ("general", torch.square),
    "sin": ("general", torch.sin),
    "cos": ("general", torch.cos),
    "tanh": ("general", torch.tanh),
    "sigmoid": ("general", torch.sigmoid),
    "relu": ("general", torch.relu),
    "leaky_relu": ("general", lambda x: F.leaky_relu(x, 0.01)),
    "leaky_relu_0_2": ("general", lambda x: F.leaky_relu(x, 0.2)),
    "elu": ("general", F.elu),
    "elu_0_5": ("general", lambda x: F.elu(x, 0.5)),
    "gelu": ("general", F.gelu),
    "gelu_tanh": ("general", lambda x: F.gelu(x, approximate="tanh")),
    "silu": ("general", F.silu),
    "softplus": ("general", F.softplus),
    "softplus_b2_t5": ("general", lambda x: F.softplus(x, beta=2.0, threshold=5.0)),
    "clamp": ("general", lambda x: torch.clamp(x, -0.5, 2.0)),
    "clamp_min": ("general", lambda x: torch.clamp_min(x, -0.5)),
    "clamp_max": ("general", lambda x: torch.clamp_max(x, 2.0)),
}
BINARY = {
    "add": (("general", "other"), torch.add),
    "sub": (("general", "other"), torch.sub),
    "mul": (("general", "other"), torch.mul),
    "div": (("general", "other"), torch.div),
    "pow": (("pow_base", "pow_exp"), torch.pow),
    "maximum": (("general", "other"), torch.maximum),
    "minimum": (("general", "other"), torch.minimum),
}
COMPARE = {"eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt,
           "ge": torch.ge}
domains = {"general": general, "positive": positive, "other": other, "pow_base": pow_base,
           "pow_exp": pow_exp}

out = {}
for name, x in domains.items():
    out["in_" + name] = compact(x)


def forward_and_grads(name, dnames, fn):
    xs = [domains[d] for d in dnames]
    out[name + "_f32"] = compact(fn(*xs))
    xd = [x.double().requires_grad_(True) for x in xs]
    y = fn(*xd)
    out[name + "_f64"] = compact(y)
    grads = torch.autograd.grad(y, xd, torch.ones_like(y), allow_unused=True)
    for i, gr in enumerate(grads):
        out[f"{name}_grad{i}"] = compact(gr)


for name, (d, fn) in UNARY.items():
    forward_and_grads(name, (d,), fn)
for name, (ds, fn) in BINARY.items():
    forward_and_grads(name, ds, fn)
for name, fn in COMPARE.items():
    out[name] = compact(fn(general, other))

# logical ops on masks, where, cast
m1, m2 = general > 0, other > 0
out["logical_and"] = compact(m1 & m2)
out["logical_or"] = compact(m1 | m2)
out["logical_xor"] = compact(m1 ^ m2)
out["logical_not"] = compact(~m1)
out["where_f32"] = compact(torch.where(m1, general, other))
out["where_f64"] = compact(torch.where(m1, general.double(), other.double()))
finite = torch.nan_to_num(general, nan=0.0, posinf=1e6, neginf=-1e6)
out["cast_in"] = compact(finite)
out["cast_i32"] = compact(finite.to(torch.int32))
out["cast_i64"] = compact(finite.to(torch.int64))
out["cast_bool"] = compact(general.to(torch.bool))

# ---- broadcasting ------------------------------------------------------------------------
b = torch.Generator().manual_seed(7)


def rnd(*shape):
    return torch.randn(shape, generator=b).to(torch.float32)


cases = {
    "col_row": (rnd(3, 1), rnd(1, 4)),             # [3,1] + [1,4] -> [3,4]
    "vec_mat": (rnd(5), rnd(2, 5)),                 # [5] + [2,5]
    "scalar0d": (rnd(), rnd(2, 3)),                 # 0-d + [2,3]
    "bias_rows": (rnd(20, 33), rnd(33)),            # bias along rows, many rows
    "column": (rnd(20, 1), rnd(20, 33)),            # inner stride 0
    "three_d": (rnd(4, 1, 5), rnd(3, 1)),           # [4,1,5] + [3,1] -> [4,3,5]
    "zero_size": (rnd(0, 3), rnd(1, 3)),            # [0,3] + [1,3] -> [0,3]
    "zero_size2": (rnd(2, 0), rnd(2, 1)),           # [2,0] + [2,1] -> [2,0]
}
for name, (x, y) in cases.items():
    out[f"bc_{name}_a"] = compact(x)
    out[f"bc_{name}_b"] = compact(y)
    out[f"bc_{name}_add"] = compact(x + y)
    out[f"bc_{name}_fused"] = compact(x * y + torch.exp(x) - torch.tanh(y) / 3)
# non-contiguous operands
base = rnd(6, 8)
out["nc_base"] = compact(base)
other_nc = rnd(8, 6)
out["nc_other"] = compact(other_nc)
out["nc_transposed"] = compact(base.t() * 2 + other_nc)             # [8,6]
out["nc_step"] = compact(base[::2, 1::3] - torch.sin(base[1::2, :3]))  # [3,3] - [3,3]
out["nc_expanded"] = compact(base[:, :1].expand(6, 8) * base + base[2].expand(6, 8))
out["nc_step_bcast"] = compact(base[::2, ::2] + base[5, ::2])       # [3,4] + [4]

os.makedirs(fixture_util.FIXTURE_DIR, exist_ok=True)
path = os.path.join(fixture_util.FIXTURE_DIR, "expr.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"wrote {path} ({len(out)} entries, {os.path.getsize(path)} bytes)")
