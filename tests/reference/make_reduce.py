"""Fixtures for tests/ops/reduce_test.cpp and tests/ops/softmax_test.cpp: PyTorch reductions,
softmax and log_softmax over several shapes, dims, views and dtypes.
Run: /usr/bin/python3 tests/reference/make_reduce.py

Each entry of "cases" names an op, an input tensor, a view the test applies in etna before
reducing ("plain", "transposed" = transpose(0, -1), "strided" = every 2nd row, "expr" =
x * 2 - 1), dims (null = all elements, an int, or a list), keepdim, op arguments and the key
of the expected output."""
import math

import torch

from fixture_util import write

torch.manual_seed(0)
inf, nan = math.inf, math.nan



def q(x):
    """Rounds to multiples of 1/64: exact in float32 with short decimal forms (small JSON)."""
    return torch.round(x * 64) / 64


inputs = {
    "a": q(torch.randn(3, 4, 5)),
    "b": q(torch.randn(37, 19)),  # odd sizes: SIMD tails on every row
    "w": q(torch.randn(2, 19, 11)),
    "v": q(torch.randn(7)),
    "s": torch.tensor(0.75),
    "p": 1 + q(0.1 * torch.randn(3, 4, 5)),  # products stay near 1
    "d": torch.randn(5, 33, dtype=torch.float64),
    "i": torch.randint(-9, 10, (4, 6)),
    "i32": torch.randint(-9, 10, (3, 5), dtype=torch.int32),
    # ties: argmax/argmin must return the first occurrence
    "ties": torch.tensor([[1, 5, 5, 0], [2, 2, 2, 2], [0, -1, 7, -1]], dtype=torch.float32),
    # NaN is the max and the min (and argmax/argmin point at the first one)
    "nan": torch.tensor([[1, nan, 3, nan], [4, 5, -6, 7], [nan, 0, inf, -inf]],
                        dtype=torch.float32),
}


def view(x, name):
    if name == "transposed":
        return x.transpose(0, -1)
    if name == "strided":
        return x[::2]
    if name == "expr":
        return x * 2 - 1
    return x


def call(op, x, dims, keepdim, arg):
    kw = {} if dims is None else {"dim": dims, "keepdim": keepdim}
    if op == "sum":
        return x.sum(**kw)
    if op == "prod":
        if dims is None:
            return x.prod()
        return x.prod(dims, keepdim=keepdim)
    if op == "mean":
        return x.mean(**kw)
    if op == "max":
        return x.amax() if dims is None else x.amax(**kw)
    if op == "min":
        return x.amin() if dims is None else x.amin(**kw)
    if op == "argmax":
        return x.argmax(**kw)
    if op == "argmin":
        return x.argmin(**kw)
    if op in ("var", "std"):
        fn = torch.var if op == "var" else torch.std
        return fn(x, dim=dims, correction=int(arg), keepdim=keepdim)
    if op == "logsumexp":
        return torch.logsumexp(x, dims, keepdim=keepdim)
    if op == "norm":
        if dims is None:
            return torch.linalg.vector_norm(x, arg)
        return torch.linalg.vector_norm(x, arg, dim=dims, keepdim=keepdim)
    if op == "softmax":
        return torch.softmax(x, dims)
    if op == "log_softmax":
        return torch.log_softmax(x, dims)
    raise ValueError(op)


cases = []
entries = dict(inputs)


def case(op, inp, dims=None, keepdim=False, view_name="plain", arg=None, rtol=1e-5, atol=1e-5):
    keepdim = keepdim and dims is not None  # all-element reductions take no keepdim
    out = call(op, view(inputs[inp], view_name), dims, keepdim, arg)
    if out.dtype == torch.float32 and rtol >= 1e-6:
        # 8 significant digits are far inside the tolerance and halve the file.
        out = out.double().apply_(lambda v: float(f"{v:.8g}"))
    key = f"out.{len(cases)}"
    entries[key] = out
    # Defaults are left out to keep the file small: view "plain", keepdim false, tolerances 1e-5.
    c = {"op": op, "input": inp, "dims": dims, "out": key}
    if view_name != "plain":
        c["view"] = view_name
    if keepdim:
        c["keepdim"] = True
    if rtol != 1e-5 or atol != 1e-5:
        c["rtol"], c["atol"] = rtol, atol
    if arg is not None:
        c["arg"] = arg if math.isfinite(arg) else "inf"
    cases.append(c)


dim_choices = [None, 0, 1, -1, [0, 2], [2, 0, 1], [], [-1]]
for op in ["sum", "mean", "max", "min", "argmax", "argmin", "logsumexp", "var", "std", "norm",
           "prod"]:
    inp = "p" if op == "prod" else "a"
    tol = 1e-4 if op in ("var", "std") else 1e-5
    for dims in dim_choices:
        if op in ("argmax", "argmin") and isinstance(dims, list):
            continue  # PyTorch takes a single dim for these
        if op == "logsumexp" and (dims is None or dims == []):
            continue  # PyTorch requires dims (and mishandles [] with keepdim)
        if op == "prod" and isinstance(dims, list):
            continue  # torch.prod takes a single dim
        for keepdim in ([False, True] if dims is not None else [False]):
            arg = 1 if op in ("var", "std") else (2.0 if op == "norm" else None)
            case(op, inp, dims, keepdim, arg=arg, rtol=tol, atol=tol)
    # every view, on a 3-d and an odd-sized 2-d input
    for view_name in ["transposed", "strided", "expr"]:
        for inp2, dims in [(inp, None), (inp, 1), ("b", 0), ("b", -1), ("w", [0, 2])]:
            if op == "prod" and inp2 != "p":
                continue
            if op in ("argmax", "argmin") and isinstance(dims, list):
                continue
            if op == "logsumexp" and dims is None:
                continue
            arg = 1 if op in ("var", "std") else (2.0 if op == "norm" else None)
            case(op, inp2, dims, False, view_name, arg=arg, rtol=tol, atol=tol)
    # 0-d and 1-d inputs
    for inp2 in ["s", "v"]:
        for dims in [None, 0, -1]:
            if op == "logsumexp" and dims is None:
                continue
            if op in ("var", "std") and inp2 == "s":
                continue  # one element: NaN, covered separately
            arg = 1 if op in ("var", "std") else (2.0 if op == "norm" else None)
            case(op, inp2, dims, True, arg=arg)

# var/std corrections; norm orders; float64
for op in ["var", "std"]:
    for corr in [0, 2]:
        case(op, "a", None, False, arg=corr, rtol=1e-4, atol=1e-5)
        case(op, "b", 0, True, arg=corr, rtol=1e-4, atol=1e-5)
case("var", "s", None, False, arg=1)  # one element, correction 1: NaN
for p in [1.0, inf, 3.0, 0.5]:
    case("norm", "a", None, False, arg=p, rtol=1e-4)
    case("norm", "b", 1, True, arg=p, rtol=1e-4)
    case("norm", "w", [0, 2], False, "transposed", arg=p, rtol=1e-4)
for op in ["sum", "mean", "max", "argmin", "logsumexp", "var", "norm"]:
    for dims in [None, 0, -1]:
        if op == "logsumexp" and dims is None:
            continue
        arg = 1 if op == "var" else (2.0 if op == "norm" else None)
        case(op, "d", dims, False, arg=arg, rtol=1e-12, atol=1e-12)

# integers (sum/prod promote to int64), ties and NaN
for op in ["sum", "prod", "max", "min", "argmax", "argmin"]:
    for inp in ["i", "i32"]:
        for dims in [None, 0, -1]:
            case(op, inp, dims, False, rtol=0, atol=0)
        case(op, inp, 1, False, "transposed", rtol=0, atol=0)
        case(op, inp, None, False, "expr", rtol=0, atol=0)
for op in ["argmax", "argmin", "max", "min"]:
    for inp in ["ties", "nan"]:
        for dims in [None, 0, 1]:
            case(op, inp, dims, False, rtol=0, atol=0)
        case(op, inp, 0, False, "transposed", rtol=0, atol=0)

# softmax / log_softmax
inputs["x"] = q(torch.randn(6, 37) * 3)
inputs["y"] = q(torch.randn(3, 4, 21) * 3)
inputs["big"] = torch.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]])
inputs["inf"] = torch.tensor([[-inf, 0.0, 1.0], [nan, 1.0, 2.0]])
entries.update({k: inputs[k] for k in ["x", "y", "big", "inf"]})
for op in ["softmax", "log_softmax"]:
    for dims in [0, 1, -1]:
        case(op, "x", dims)
        case(op, "x", dims, view_name="transposed")
    for dims in [0, 1, 2, -2]:
        case(op, "y", dims)
    case(op, "y", 1, view_name="expr")
    case(op, "y", 2, view_name="strided")
    case(op, "y", 0, view_name="transposed")
    case(op, "v", 0)
    case(op, "s", 0)
    case(op, "s", -1)
    case(op, "big", 1)
    case(op, "big", 0)
    case(op, "inf", 1)

entries["cases"] = cases
write("reduce", entries)
