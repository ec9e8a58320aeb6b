"""Fixtures for tests/autograd/reduce_test.cpp and tests/autograd/softmax_test.cpp: the input
gradients PyTorch computes for every reduction, softmax and log_softmax on Vars, given an
input, a view, dims, keepdim, an op argument and an upstream gradient.
Run: /usr/bin/python3 tests/reference/make_autograd_reduce.py

Each entry of "cases" names an op, an input (float64), a view the test applies in etna before
the op ("plain"; "transposed" = a Var whose value is the input transposed(0, -1), the gradient
then compared with the expected one transposed the same way; "expr" = x * 2 - 1), dims (null =
all elements, an int, or a list), keepdim, the op argument (correction for var/std, p for
norm, "inf" for infinity), the upstream gradient key "g" and the expected gradient key "grad"
(with respect to the untransposed input).

etna's conventions, reproduced here with PyTorch's own autograd:
- max/min over all elements split the gradient evenly among tied extrema (torch.max()); over
  a dim or a list of dims it goes to the first extremum in row-major order of the reduced
  dims (torch.max(dim)'s index; for a list, argmax of the reduced dims flattened);
- amax/amin split evenly among ties for any dims (torch.amax)."""
import math

import torch

from fixture_util import write

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
inf = math.inf


def q(x):
    """Rounds to multiples of 1/64: exact in binary with short decimal forms (small JSON)."""
    return torch.round(x * 64) / 64


def short(t):
    """12 significant digits: far inside the tests' tolerance, and half the file."""
    return t.detach().clone().apply_(lambda v: float(f"{v:.12g}"))


inputs = {
    "a": q(torch.randn(3, 4, 5)),
    "b": q(torch.randn(6, 7)),
    "v": q(torch.randn(7)),
    "s": torch.tensor(0.75),
    "p": 1 + q(0.2 * torch.randn(3, 4, 5)),  # products stay near 1
    # prod with one zero in a row (its gradient is the product of the others) and two zeros
    "pz": torch.tensor([[0.0, 2, 3, 4], [0, 0, 3, 1], [1, 2, -3, 0.5]]),
    # ties: max/min split evenly over all elements, go to the first one along a dim
    "ties": torch.tensor([[1.0, 5, 5, 0], [2, 2, 2, 2], [0, -1, 7, -1]]),
    "ties3": torch.randint(0, 3, (2, 3, 4)).double(),
    # |x| ties for the infinity norm, with both signs
    "absties": torch.tensor([[-5.0, 5, 1, 0], [2, -2, 2, -2], [0, -1, 7, -7]]),
    # std 0 (constant row) has a zero gradient; a zero row has a zero 2-norm gradient
    "const": torch.tensor([[1.5, 1.5, 1.5], [1, 2, 4], [-3, -3, -3]]),
    "zrow": torch.tensor([[0.0, 0, 0], [1, -2, 2], [0, 3, 0]]),
    # large magnitudes: softmax, log_softmax and logsumexp stay finite
    "big": torch.tensor([[1000.0, 1001, 1002, 999], [-1000, -1001, -1002, -998],
                         [1000, -1000, 0, 500]]),
    "y": q(torch.randn(3, 4, 21) * 3),
}


def view(x, name):
    if name == "transposed":
        return x.transpose(0, -1)
    if name == "expr":
        return x * 2 - 1
    return x


def first_extreme(x, dims, keepdim, largest):
    """torch.max(dim)'s values generalised to a list of dims: the first extremum of the reduced
    dims flattened row-major, gathered so that autograd sends the gradient to its index."""
    if isinstance(dims, int):
        out = x.max(dims, keepdim) if largest else x.min(dims, keepdim)
        return out.values
    rank = x.dim()
    red = sorted(d % rank for d in dims)
    kept = [d for d in range(rank) if d not in red]
    kept_shape = [x.shape[d] for d in kept]
    rows = x.permute(kept + red).reshape(math.prod(kept_shape), -1)
    idx = rows.argmax(1) if largest else rows.argmin(1)
    out = rows.gather(1, idx[:, None]).reshape(kept_shape)
    if keepdim:
        for d in red:
            out = out.unsqueeze(d)
    return out


def call(op, x, dims, keepdim, arg):
    all_dims = dims is None or dims == []
    if dims == []:  # etna's [] is every dim; spell it out (PyTorch's [] varies by op)
        dims = list(range(x.dim()))
    kw = {} if dims is None else {"dim": dims, "keepdim": keepdim}
    if op == "sum":
        return x.sum(**kw)
    if op == "mean":
        return x.mean(**kw)
    if op == "prod":
        return x.prod() if dims is None else x.prod(dims, keepdim=keepdim)
    if op in ("max", "min"):
        if all_dims:
            return (x.max() if op == "max" else x.min()) if not keepdim else \
                (x.amax(dims, True) if op == "max" else x.amin(dims, True))
        return first_extreme(x, dims, keepdim, op == "max")
    if op == "amax":
        return x.amax() if dims is None else x.amax(**kw)
    if op == "amin":
        return x.amin() if dims is None else x.amin(**kw)
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


def case(op, inp, dims=None, keepdim=False, view_name="plain", arg=None):
    keepdim = keepdim and dims is not None  # all-element reductions take no keepdim
    x = inputs[inp].clone().requires_grad_()
    out = call(op, view(x, view_name), dims, keepdim, arg)
    g = q(torch.randn(out.shape))
    out.backward(g)
    n = len(cases)
    entries[f"g.{n}"] = g
    entries[f"grad.{n}"] = short(x.grad)
    c = {"op": op, "input": inp, "dims": dims, "g": f"g.{n}", "grad": f"grad.{n}"}
    if view_name != "plain":
        c["view"] = view_name
    if keepdim:
        c["keepdim"] = True
    if arg is not None:
        c["arg"] = arg if math.isfinite(arg) else "inf"
    cases.append(c)


def default_arg(op):
    return 1 if op in ("var", "std") else (2.0 if op == "norm" else None)


dim_choices = [None, 0, 1, -1, [0, 2], [2, 0], [], [-1]]
reductions = ["sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std", "logsumexp",
              "norm"]
for op in reductions:
    inp = "p" if op == "prod" else "a"
    for dims in dim_choices:
        if op == "logsumexp" and dims is None:
            continue  # etna and PyTorch take dims for logsumexp ([] = all elements)
        if op == "prod" and isinstance(dims, list):
            continue  # torch.prod takes a single dim
        for keepdim in ([False, True] if dims is not None else [False]):
            case(op, inp, dims, keepdim, arg=default_arg(op))
    for view_name in ["transposed", "expr"]:
        for dims in [None, 1, [0, 2]] if op not in ("prod", "logsumexp") else [1, -1]:
            case(op, inp, dims, False, view_name, arg=default_arg(op))
        case(op, "b", 0, True, view_name, arg=default_arg(op))
    for dims in ([0, -1] if op == "logsumexp" else [None, 0, -1]):
        case(op, "v", dims, True, arg=default_arg(op))
        if op not in ("var", "std"):  # one element: NaN gradients, checked separately
            case(op, "s", dims, dims is not None, arg=default_arg(op))

for corr in [0, 2]:
    for op in ["var", "std"]:
        case(op, "a", [], False, arg=corr)
        case(op, "b", 0, True, arg=corr)
        case(op, "a", [0, 2], False, "transposed", arg=corr)
for p in [1.0, inf, 3.0, 1.5, 0.5]:
    case("norm", "a", None, False, arg=p)
    case("norm", "b", 1, True, arg=p)
    case("norm", "a", [0, 2], False, "transposed", arg=p)
    case("norm", "zrow", 1, False, arg=p)  # a zero row and zero elements: gradient 0 there

# zeros in products, ties in extrema (all elements: even split; dims: first occurrence)
for dims in [None, 0, 1, -1]:
    case("prod", "pz", dims)
    if dims is not None:
        case("prod", "pz", dims, True, "transposed")
for op in ["max", "min", "amax", "amin"]:
    for inp in ["ties", "ties3"]:
        for dims in [None, 0, 1, -1, [], [0, 1]]:
            case(op, inp, dims)
        case(op, inp, 0, True, "transposed")
        case(op, inp, [0, -1], True, "expr")
for dims in [None, 0, 1]:
    case("norm", "absties", dims, False, arg=inf)
for op in ["std", "var"]:
    case(op, "const", 1, arg=1)
    case(op, "const", 0, True, arg=1)
case("norm", "zrow", 1, False, arg=2.0)
case("norm", "zrow", None, False, arg=2.0)
case("logsumexp", "big", 1)
case("logsumexp", "big", [0, 1], True)

# softmax / log_softmax
for op in ["softmax", "log_softmax"]:
    for dims in [0, 1, 2, -1, -2]:
        case(op, "y", dims)
    for dims in [0, 1, -1]:
        case(op, "b", dims)
        case(op, "b", dims, view_name="transposed")
    case(op, "y", 1, view_name="expr")
    case(op, "y", 0, view_name="transposed")
    case(op, "v", 0)
    case(op, "s", 0)
    case(op, "s", -1)
    case(op, "big", 1)
    case(op, "big", 0)

entries["cases"] = cases
write("autograd_reduce", entries)
