"""Fixtures for tests/prune: masks torch.nn.utils.prune computes on fixed weights (torch 1.13).
Run with /usr/bin/python3 tests/reference/make_prune.py."""
import torch
import torch.nn.utils.prune as prune

from fixture_util import write

torch.manual_seed(11)
out = {}

# l1_unstructured: a fraction, then a count applied to the remaining elements.
lin = torch.nn.Linear(6, 8)
out["l1.weight"] = lin.weight.detach().clone()
prune.l1_unstructured(lin, "weight", amount=0.3)        # round(14.4) = 14
out["l1.mask1"] = lin.weight_mask.clone()
prune.l1_unstructured(lin, "weight", amount=5)          # 5 more of the 34 left
out["l1.mask2"] = lin.weight_mask.clone()
prune.l1_unstructured(lin, "weight", amount=0.5)        # round(14.5) = 14 (half to even)
out["l1.mask3"] = lin.weight_mask.clone()

# Python's round: 0.25 of 10 elements is round(2.5) = 2.
small = torch.nn.Linear(5, 2)
out["round.weight"] = small.weight.detach().clone()
prune.l1_unstructured(small, "weight", amount=0.25)
out["round.mask"] = small.weight_mask.clone()

# ln_structured n=2 dim=0 on a Conv2d (output channels), twice.
conv = torch.nn.Conv2d(3, 6, 3)
out["ln.conv.weight"] = conv.weight.detach().clone()
prune.ln_structured(conv, "weight", amount=0.34, n=2, dim=0)   # round(2.04) = 2 channels
out["ln.conv.mask1"] = conv.weight_mask.clone()
prune.ln_structured(conv, "weight", amount=0.5, n=2, dim=0)    # 2 of the 4 left
out["ln.conv.mask2"] = conv.weight_mask.clone()

# ln_structured on a Linear: n=2 dim=0 (neurons), n=1 dim=1 (inputs), n=inf dim=0.
for tag, n, dim, amount in [("l2d0", 2, 0, 3), ("l1d1", 1, 1, 0.5), ("linfd0", float("inf"), 0, 0.4)]:
    m = torch.nn.Linear(7, 5)
    out[f"ln.{tag}.weight"] = m.weight.detach().clone()
    prune.ln_structured(m, "weight", amount=amount, n=n, dim=dim)
    out[f"ln.{tag}.mask"] = m.weight_mask.clone()

# global_unstructured over two Linear weights and a bias, one threshold.
a, b = torch.nn.Linear(10, 12), torch.nn.Linear(12, 4)
out["global.a.weight"] = a.weight.detach().clone()
out["global.b.weight"] = b.weight.detach().clone()
out["global.b.bias"] = b.bias.detach().clone()
params = [(a, "weight"), (b, "weight"), (b, "bias")]
prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=0.6)
out["global.a.mask1"] = a.weight_mask.clone()
out["global.b.mask1"] = b.weight_mask.clone()
out["global.b.bias_mask1"] = b.bias_mask.clone()
prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=20)
out["global.a.mask2"] = a.weight_mask.clone()
out["global.b.mask2"] = b.weight_mask.clone()
out["global.b.bias_mask2"] = b.bias_mask.clone()

write("prune", out)
