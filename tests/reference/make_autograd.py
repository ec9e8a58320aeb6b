"""Fixtures for tests/autograd/pytorch_reference_test.cpp: random compositions of element-wise
ops, matmul, sum and mean in float64, with their inputs and torch.autograd gradients.
Run: /usr/bin/python3 tests/reference/make_autograd.py"""
import torch
import torch.nn.functional as F

from fixture_util import write

torch.manual_seed(0)
dt = torch.float64
entries = {}


def case(name, inputs, fn):
    """Stores inputs, the scalar loss fn(**inputs) and d loss / d input for every input."""
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    loss = fn(**leaves)
    grads = torch.autograd.grad(loss, list(leaves.values()))
    for (k, v), g in zip(leaves.items(), grads):
        entries[f"{name}.{k}"] = v
        entries[f"{name}.grad_{k}"] = g
    entries[f"{name}.loss"] = loss


# A 2-layer MLP regression loss: tanh hidden layer, mean squared error.
case("mlp", {
    "x": torch.randn(8, 5, dtype=dt), "w1": torch.randn(5, 16, dtype=dt) * 0.5,
    "b1": torch.randn(16, dtype=dt) * 0.1, "w2": torch.randn(16, 3, dtype=dt) * 0.5,
    "b2": torch.randn(3, dtype=dt) * 0.1, "t": torch.randn(8, 3, dtype=dt),
}, lambda x, w1, b1, w2, b2, t: torch.mean(torch.square(torch.tanh(x @ w1 + b1) @ w2 + b2 - t)))

# GELU / softplus / tanh chain over three broadcast shapes.
case("gelu_chain", {
    "a": torch.randn(4, 1, 3, dtype=dt), "b": torch.randn(5, 1, dtype=dt),
    "c": torch.randn(3, dtype=dt),
}, lambda a, b, c: torch.sum(F.gelu(a * b + c) * F.softplus(b - a) + torch.tanh(c * a)) / 7)

# Logistic regression: sigmoid of a matmul, binary cross-entropy written out.
case("bce", {
    "x": torch.randn(16, 6, dtype=dt), "w": torch.randn(6, 1, dtype=dt),
    "t": (torch.rand(16, 1, dtype=dt) > 0.5).to(dt),
}, lambda x, w, t: -torch.mean(t * torch.log(torch.sigmoid(x @ w))
                               + (1 - t) * torch.log(1 - torch.sigmoid(x @ w))))

# Reductions over dims feeding further element-wise ops.
case("reduce_mix", {"a": torch.randn(3, 4, 5, dtype=dt), "b": torch.randn(4, 1, dtype=dt)},
     lambda a, b: torch.mean(torch.square(torch.sum(torch.exp(-a * a) * torch.sin(b), dim=1))
                             + torch.mean(a * b, dim=(0, 2), keepdim=True).sum()))

# Activations, powers and maximum on a chain with a batched matmul in the middle.
case("act_chain", {
    "a": torch.randn(2, 3, 4, dtype=dt), "w": torch.randn(4, 5, dtype=dt),
    "e": torch.rand(2, 3, 5, dtype=dt) + 0.5,
}, lambda a, w, e: torch.sum(torch.pow(F.silu(a @ w).abs() + 0.5, e)
                             * torch.maximum(F.elu(a @ w), F.leaky_relu(a @ w, 0.1))
                             + F.gelu(a @ w, approximate="tanh")
                             - torch.sqrt(torch.clamp(a @ w, -1.0, 1.0) + 2.0)))

write("autograd", entries)
