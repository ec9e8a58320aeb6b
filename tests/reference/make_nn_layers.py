"""Reference values for the typed layers of et::nn (Linear, activations, Flatten, Dropout,
BatchNorm1d/2d, LayerNorm, Embedding): each layer's input, weights, output and the gradients of
sum(out * g) for a fixed random g, its state_dict keys and its printed repr, from torch.nn.
Run with /usr/bin/python3 (python3-torch); writes fixtures/nn_layers.json."""
import torch
import torch.nn as nn

from fixture_util import write

torch.manual_seed(20261127)
out = {}


def rnd(*shape, scale=1.0, shift=0.0):
    # Four decimals: the values read back as the same float32 in C++.
    return torch.round((torch.randn(*shape) * scale + shift) * 1e4) / 1e4


def describe(tag, module):
    """The module's repr and its state_dict keys (parameters, then buffers, as PyTorch orders them)."""
    out[f"{tag}_repr"] = repr(module)
    out[f"{tag}_keys"] = list(module.state_dict().keys())


def run(tag, module, x, params=(), x_requires_grad=True):
    """Forward x through module, backward sum(y * g): records x, g, y, dx and each param's grad."""
    with torch.no_grad():
        for name in params:
            getattr(module, name).copy_(rnd(*getattr(module, name).shape, scale=0.5, shift=1.0
                                            if name == "weight" else 0.0))
            out[f"{tag}_{name}"] = getattr(module, name).detach().clone()
    xs = x.clone().requires_grad_(x_requires_grad)
    y = module(xs)
    g = rnd(*y.shape)
    y.backward(g)
    out[f"{tag}_x"] = x
    out[f"{tag}_g"] = g
    out[f"{tag}_y"] = y.detach()
    if x_requires_grad:
        out[f"{tag}_gx"] = xs.grad
    for name in params:
        out[f"{tag}_g{name}"] = getattr(module, name).grad
    describe(tag, module)


# ---- Linear: [2, 3, 4] -> [2, 3, 5], with and without bias -------------------------------------
run("linear", nn.Linear(4, 5), rnd(2, 3, 4), params=("weight", "bias"))
run("linear_nobias", nn.Linear(4, 5, bias=False), rnd(2, 3, 4), params=("weight",))

# ---- activations on [3, 5] (values away from the kinks at 0) ----------------------------------
acts = {
    "relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(0.2), "leaky_relu_default": nn.LeakyReLU(),
    "elu": nn.ELU(0.5), "elu_default": nn.ELU(), "gelu": nn.GELU(), "gelu_tanh":
    nn.GELU(approximate="tanh"), "silu": nn.SiLU(), "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(),
    "softplus": nn.Softplus(2, 10), "softplus_default": nn.Softplus(), "softmax": nn.Softmax(1),
    "log_softmax": nn.LogSoftmax(1),
}
for tag, module in acts.items():
    x = rnd(3, 5, scale=2.0)
    x = torch.where(x.abs() < 0.05, x + 0.1, x)
    run(tag, module, x)

# ---- Flatten and Identity -------------------------------------------------------------------
run("flatten", nn.Flatten(), rnd(2, 3, 2, 2))
run("flatten_0_2", nn.Flatten(0, 2), rnd(2, 3, 2, 2))
describe("identity", nn.Identity())

# ---- Dropout and AlphaDropout: only repr (the masks come from etna's own generator) ------------
describe("dropout", nn.Dropout())
describe("dropout_02", nn.Dropout(0.2))
describe("alpha_dropout", nn.AlphaDropout())
describe("alpha_dropout_01", nn.AlphaDropout(0.1))

# ---- BatchNorm1d: training forward on [N, C] and [N, C, L], two training steps, eval --------------
for tag, shape in (("bn2", (4, 3)), ("bn3", (4, 3, 5))):
    bn = nn.BatchNorm1d(3, momentum=0.2)
    run(f"{tag}_train", bn, rnd(*shape, scale=2.0, shift=0.5), params=("weight", "bias"))
    x2 = rnd(*shape, scale=1.5, shift=-0.3)  # a second training step
    bn(x2)
    out[f"{tag}_x2"] = x2
    out[f"{tag}_running_mean"] = bn.running_mean.clone()
    out[f"{tag}_running_var"] = bn.running_var.clone()
    out[f"{tag}_num_batches_tracked"] = int(bn.num_batches_tracked)
    bn.eval()
    bn.weight.grad = None
    bn.bias.grad = None
    xs = rnd(*shape, scale=2.0)
    ys = bn(xs.requires_grad_())
    g = rnd(*shape)
    ys.backward(g)
    for k, v in dict(x=xs.detach(), g=g, y=ys.detach(), gx=xs.grad, gweight=bn.weight.grad,
                     gbias=bn.bias.grad).items():
        out[f"{tag}_eval_{k}"] = v

# momentum=None: the running statistics are the cumulative average of the batches' statistics.
bn = nn.BatchNorm1d(3, momentum=None)
for step in range(3):
    x = rnd(5, 3, scale=1.0 + step, shift=step - 1.0)
    out[f"bn_cma_x{step}"] = x
    bn(x)
out["bn_cma_running_mean"] = bn.running_mean.clone()
out["bn_cma_running_var"] = bn.running_var.clone()
describe("bn_cma", bn)
describe("bn", nn.BatchNorm1d(3))
describe("bn_plain", nn.BatchNorm1d(7, eps=1e-3, momentum=0.01, affine=False,
                                    track_running_stats=False))

# BatchNorm2d on [2, 3, 4, 4] (the same code with a longer trailing extent).
run("bn2d_train", nn.BatchNorm2d(3), rnd(2, 3, 4, 4, shift=1.0), params=("weight", "bias"))

# ---- LayerNorm over the last 1 and the last 2 dims of [3, 4, 5] -------------------------------
run("ln1", nn.LayerNorm(5), rnd(3, 4, 5, scale=1.5, shift=0.3), params=("weight", "bias"))
run("ln2", nn.LayerNorm((4, 5), eps=1e-6), rnd(3, 4, 5, scale=1.5), params=("weight", "bias"))
describe("ln_plain", nn.LayerNorm(5, elementwise_affine=False))

# ---- Embedding(10, 3, padding_idx=0) on [2, 4] indices with repeats and the padding row ---------
emb = nn.Embedding(10, 3, padding_idx=0)
with torch.no_grad():
    emb.weight.copy_(rnd(10, 3))
    emb.weight[0].zero_()
idx = torch.tensor([[1, 0, 3, 1], [9, 0, 3, 3]])
y = emb(idx)
g = rnd(*y.shape)
y.backward(g)
out.update(emb_weight=emb.weight.detach().clone(), emb_idx=idx, emb_y=y.detach(), emb_g=g,
           emb_gweight=emb.weight.grad)
describe("emb", emb)
describe("emb_nopad", nn.Embedding(10, 3))
describe("emb_negpad", nn.Embedding(10, 3, padding_idx=-1))

# ---- a typed MLP: Flatten, Linear, ReLU, Dropout, Linear ------------------------------------------
describe("mlp", nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Dropout(),
                              nn.Linear(8, 3)))

write("nn_layers", out)
