"""Reference gradients for views, joins, indexing and padding on Vars (tests/autograd/views_test.cpp,
join_test.cpp, indexing_test.cpp, pad_test.cpp). Each case stores its inputs, the upstream gradient
`<case>_g` and torch's input gradients `<case>_grad_<input>`. Run with Debian's /usr/bin/python3.
Values are small integers in float64, so gradients are sums of integers and exact."""
import torch
import torch.nn.functional as F

from fixture_util import write

torch.manual_seed(7)
E = {}


def ints(*shape, lo=-9, hi=10):
    return torch.randint(lo, hi, shape).double()


def case(name, fn, **inputs):
    """Runs fn(**inputs) with gradients on the float inputs and records the backward of a
    random integer upstream gradient."""
    leaves = {}
    for k, v in inputs.items():
        E[f"{name}_{k}"] = v
        if v.is_floating_point():
            leaves[k] = v.clone().requires_grad_(True)
        else:
            leaves[k] = v
    out = fn(**leaves)
    g = ints(*out.shape)
    out.backward(g)
    E[f"{name}_g"] = g
    for k, v in leaves.items():
        if v.is_floating_point():
            E[f"{name}_grad_{k}"] = v.grad


# ---- views ----
case("view_chain",
     lambda x: x.transpose(0, 2)[1:4:2].reshape(-1, 3).unsqueeze(0).expand(2, 4, 3),
     x=ints(2, 3, 4))
case("view_select",
     lambda x: x[1].t().narrow(0, 1, 2).select(-1, -1).unsqueeze(1).squeeze(),
     x=ints(3, 2, 4))
case("view_permute", lambda x: x.permute(2, 0, 1).flatten(1), x=ints(2, 3, 4))

# ---- joins ----
case("cat", lambda a, b: torch.cat([a, b.t()], -1), a=ints(3, 2), b=ints(4, 3))
case("stack", lambda a, c: torch.stack([a, c, a], 1), a=ints(2, 3), c=ints(2, 3))
case("split_partial",
     lambda x: torch.cat([p for k, p in enumerate(torch.split(x, [1, 2, 1], 1)) if k != 1], 1) * 3,
     x=ints(3, 4))
case("chunk", lambda x: torch.chunk(x, 3, 0)[2], x=ints(5, 2))

# ---- indexing (duplicate indices accumulate; torch differentiates scatter_add only for a src
# shaped like the index, so the larger-src case is covered by gradcheck alone) ----
case("index_select",
     lambda x, index: torch.index_select(x, 1, index),
     x=ints(3, 4), index=torch.tensor([3, 0, 3, 3]))
case("gather",
     lambda x, index: torch.gather(x, 0, index),
     x=ints(3, 4), index=torch.tensor([[0, 2, 2, 1], [0, 0, 2, 1]]))
case("scatter_add",
     lambda x, index, src: torch.scatter_add(x, 1, index, src),
     x=ints(3, 5), index=torch.tensor([[4, 4, 0], [1, 2, 1]]), src=ints(2, 3))

# ---- padding ----
for mode in ("reflect", "replicate", "circular"):
    case(f"pad_{mode}", lambda x, mode=mode: F.pad(x, (2, 1, 1, 2), mode=mode), x=ints(1, 2, 4, 5))
case("pad_constant", lambda x: F.pad(x, (-1, 2, 1, 0), value=3.0), x=ints(2, 3, 4))
case("pad_reflect_crop", lambda x: F.pad(x, (-1, 2, 1, -2), mode="reflect"), x=ints(1, 2, 4, 5))

write("autograd_shape_ops", E)
