"""Fixtures for tests/nn/loss_test.cpp: every loss of etna/nn/loss.hpp under each option
combination (reductions none/mean/sum, class weights, ignore_index, label smoothing,
probability targets, pos_weight, log_target, margin), with PyTorch's output and the gradients
of sum(output * g) with respect to the input (and the target where PyTorch differentiates it).
Run: /usr/bin/python3 tests/reference/make_losses.py

Each entry of "cases" names the loss, its options (PyTorch's keyword names), the keys of its
tensors ("input", "target", "input2" for cosine_embedding_loss, "weight", "pos_weight"), the
upstream gradient "g", the expected output "out" and gradients "grad_input" / "grad_target"
(absent where the target is not differentiated; for cosine_embedding_loss it is the
gradient of the second input). kl_div's target gradient at p = 0 is NaN in PyTorch 1.13; etna
treats the 0 log 0 = 0 term as constant there (gradient -input), and the fixture stores that. Tensors are float64; labels are int64."""
import torch
import torch.nn.functional as F

from fixture_util import write

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def q(x):
    """Multiples of 1/64: exact in binary, short in JSON."""
    return torch.round(x * 64) / 64


def short(t):
    """8 significant digits (the tests compare with rtol 1e-6)."""
    return t.detach().clone().apply_(lambda v: float(f"{v:.8g}"))


tensors = {
    "x": q(torch.randn(3, 4) * 1.5),
    "t": q(torch.randn(3, 4)),
    "logits": q(torch.randn(5, 4) * 2),
    "labels": torch.tensor([1, 0, 3, 3, 2]),
    "labels_ign": torch.tensor([1, -100, 3, 3, -100]),
    "labels_ign2": torch.tensor([1, 2, 3, 2, 0]),  # with ignore_index = 2
    "probs": short(torch.softmax(torch.randn(5, 4), 1)),
    "cw": torch.tensor([0.5, 2.0, 1.0, 0.25]),
    "logits3": q(torch.randn(2, 4, 3)),  # [N, C, d]
    "labels3": torch.tensor([[0, 3, 1], [2, 2, 0]]),
    "probs3": short(torch.softmax(torch.randn(2, 4, 3), 1)),
    "logits1": q(torch.randn(4)),  # unbatched [C]
    "label0": torch.tensor(2),
    "p": short(torch.sigmoid(torch.randn(3, 4) * 2)),
    "pt": q(torch.rand(3, 4)),
    "bw": torch.tensor([1.0, 0.5, 2.0, 1.5]),
    "z": torch.tensor([[-60.0, -3, 0, 2], [50, 0.5, -0.25, 4], [1, -1, 30, -30]]),
    "posw": torch.tensor([2.0, 0.5, 1.0, 3.0]),
    "lq": short(torch.log_softmax(torch.randn(3, 4), 1)),
    "kp": torch.tensor([[0.25, 0.0, 0.5, 0.25], [0.125, 0.125, 0.5, 0.25], [1.0, 0, 0, 0]]),
    "klt": q(torch.randn(3, 4)),  # log-probability-like targets
    "e1": q(torch.randn(4, 5)),
    "e2": q(torch.randn(4, 5)),
    "ey": torch.tensor([1, -1, -1, 1]),
}
tensors["e2"][3] = 0.0  # a zero vector: cos is 0, not NaN

cases = []
entries = {}


def kl_target_grad(x, p, reduction, g):
    """d/dp of kl_div with etna's convention at p = 0, where PyTorch 1.13 gives NaN: the
    0 log 0 = 0 term is constant there, so only -p x contributes (gradient -x)."""
    p = p.detach().clone().requires_grad_(True)
    safe = torch.where(p > 0, p, torch.ones_like(p))
    point = torch.where(p > 0, p * torch.log(safe), torch.zeros_like(p)) - p * x.detach()
    out = {"none": point, "mean": point.mean(), "sum": point.sum(),
           "batchmean": point.sum() / p.shape[0]}[reduction]
    assert torch.allclose(out, F.kl_div(x.detach(), p.detach(), reduction=reduction))
    return torch.autograd.grad(out, [p], g)[0]


def add(loss, inputs, options, target_grad=False):
    """inputs: tensor keys in call order; the first is the input, the second the target."""
    idx = len(cases)
    args = [tensors[k].clone().requires_grad_(tensors[k].is_floating_point() and
                                              (i == 0 or (i == 1 and target_grad) or
                                               (loss == "cosine_embedding_loss" and i == 1)))
            for i, k in enumerate(inputs)]
    kw = {}
    for k, v in options.items():
        kw[k] = tensors[v] if k in ("weight", "pos_weight") else v
    out = getattr(F, loss)(*args, **kw)
    g = q(torch.randn(out.shape))
    grads = torch.autograd.grad(out, [a for a in args if a.requires_grad], g)
    case = {"loss": loss, "inputs": inputs, "options": options, "g": f"g{idx}",
            "out": f"out{idx}", "grad_input": f"gi{idx}"}
    entries[f"g{idx}"] = g
    entries[f"out{idx}"] = short(out)
    entries[f"gi{idx}"] = short(grads[0])
    if len(grads) > 1:
        case["grad_target"] = f"gt{idx}"
        gt = grads[1]
        if loss == "kl_div" and not options.get("log_target", False):
            gt = kl_target_grad(args[0], args[1], options["reduction"], g)
        entries[f"gt{idx}"] = short(gt)
    cases.append(case)


for red in ("none", "mean", "sum"):
    r = {"reduction": red}
    add("mse_loss", ["x", "t"], r, target_grad=True)
    add("l1_loss", ["x", "t"], r, target_grad=True)
    for beta in (1.0, 0.5, 0.0):
        add("smooth_l1_loss", ["x", "t"], {**r, "beta": beta}, target_grad=True)
    for delta in (1.0, 0.5):
        add("huber_loss", ["x", "t"], {**r, "delta": delta}, target_grad=True)

    add("cross_entropy", ["logits", "labels"], r)
    add("cross_entropy", ["logits", "labels"], {**r, "weight": "cw"})
    add("cross_entropy", ["logits", "labels_ign"], r)
    add("cross_entropy", ["logits", "labels_ign2"], {**r, "ignore_index": 2, "weight": "cw"})
    add("cross_entropy", ["logits", "labels"], {**r, "label_smoothing": 0.1})
    add("cross_entropy", ["logits", "labels_ign"],
        {**r, "label_smoothing": 0.2, "weight": "cw"})
    add("cross_entropy", ["logits", "probs"], r, target_grad=True)
    add("cross_entropy", ["logits", "probs"], {**r, "weight": "cw", "label_smoothing": 0.1},
        target_grad=True)
    add("cross_entropy", ["logits3", "labels3"], {**r, "weight": "cw", "label_smoothing": 0.05})
    add("cross_entropy", ["logits3", "probs3"], r, target_grad=True)
    add("cross_entropy", ["logits1", "label0"], {**r, "label_smoothing": 0.1})

    add("nll_loss", ["logits", "labels"], r)
    add("nll_loss", ["logits", "labels_ign2"], {**r, "weight": "cw", "ignore_index": 2})
    add("nll_loss", ["logits3", "labels3"], {**r, "weight": "cw"})

    add("binary_cross_entropy", ["p", "pt"], r, target_grad=True)
    add("binary_cross_entropy", ["p", "pt"], {**r, "weight": "bw"})
    add("binary_cross_entropy_with_logits", ["z", "pt"], r, target_grad=True)
    add("binary_cross_entropy_with_logits", ["z", "pt"], {**r, "weight": "bw"})
    add("binary_cross_entropy_with_logits", ["z", "pt"], {**r, "pos_weight": "posw"},
        target_grad=True)

    add("kl_div", ["lq", "kp"], r, target_grad=True)
    add("kl_div", ["lq", "klt"], {**r, "log_target": True}, target_grad=True)

    for margin in (0.0, 0.3):
        add("cosine_embedding_loss", ["e1", "e2", "ey"], {**r, "margin": margin})

add("kl_div", ["lq", "kp"], {"reduction": "batchmean"}, target_grad=True)
add("kl_div", ["lq", "klt"], {"reduction": "batchmean", "log_target": True}, target_grad=True)

write("losses", {**tensors, **entries, "cases": cases})
