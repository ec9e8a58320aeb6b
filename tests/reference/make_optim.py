"""Reference values for tests/optim: parameter trajectories of every optimizer and option
combination, learning-rate sequences of every scheduler, and clip_grad results. Run with
Debian's /usr/bin/python3 (python3-torch 1.13):

    /usr/bin/python3 tests/reference/make_optim.py   # writes fixtures/optim.json

Trajectories: two parameters w [2, 3] and b [4] start from fixed weights; step k applies the
fixed gradients grads_w[k], grads_b[k] (no model needed) and records both parameters, 20 steps,
computed in float64. maximize is PyTorch 2's definition (the gradient is negated before weight
decay); torch 1.13's SGD applied weight decay before negating, so maximize cases are computed
as maximize=False on negated gradients, which is the PyTorch 2 result for every optimizer.
Values are rounded to 8 significant digits to keep the file small."""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_util  # noqa: E402

torch.manual_seed(0)
STEPS = 20


def r8(t):
    return torch.tensor([float("%.8g" % v) for v in t.reshape(-1).tolist()], dtype=torch.float64).reshape(t.shape)


init_w = r8(torch.randn(2, 3))
init_b = r8(torch.randn(4))
grads_w = r8(torch.randn(STEPS, 2, 3))
grads_b = r8(torch.randn(STEPS, 4))
out = {"init_w": init_w, "init_b": init_b, "grads_w": grads_w, "grads_b": grads_b}

# name: (optimizer, options in etna's names, lr of a second group holding b or None)
CASES = {
    "sgd": ("SGD", {"lr": 0.1}, None),
    "sgd_wd": ("SGD", {"lr": 0.1, "weight_decay": 0.1}, None),
    "sgd_momentum": ("SGD", {"lr": 0.05, "momentum": 0.9}, None),
    "sgd_dampening": ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}, None),
    "sgd_nesterov": ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05}, None),
    "sgd_maximize": ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}, None),
    "sgd_groups": ("SGD", {"lr": 0.1, "momentum": 0.9}, 0.01),
    "adam": ("Adam", {"lr": 0.01}, None),
    "adam_betas_eps": ("Adam", {"lr": 0.02, "beta1": 0.8, "beta2": 0.95, "eps": 1e-3}, None),
    "adam_wd": ("Adam", {"lr": 0.01, "weight_decay": 0.1}, None),
    "adam_amsgrad": ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05}, None),
    "adam_maximize": ("Adam", {"lr": 0.01, "maximize": True, "weight_decay": 0.1}, None),
    "adam_groups": ("Adam", {"lr": 0.01}, 0.001),
    "adamw": ("AdamW", {"lr": 0.01}, None),
    "adamw_wd": ("AdamW", {"lr": 0.01, "weight_decay": 0.3}, None),
    "adamw_amsgrad": ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "beta2": 0.9}, None),
    "adamw_maximize": ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}, None),
    "rmsprop": ("RMSprop", {"lr": 0.01}, None),
    "rmsprop_alpha_wd": ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-4, "weight_decay": 0.1}, None),
    "rmsprop_centered": ("RMSprop", {"lr": 0.01, "centered": True}, None),
    "rmsprop_momentum": ("RMSprop", {"lr": 0.01, "momentum": 0.9}, None),
    "rmsprop_centered_momentum": ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.01}, None),
    "rmsprop_maximize": ("RMSprop", {"lr": 0.01, "maximize": True, "momentum": 0.3}, None),
    "rmsprop_groups": ("RMSprop", {"lr": 0.01}, 0.05),
    "adagrad": ("Adagrad", {"lr": 0.1}, None),
    "adagrad_decay": ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1}, None),
    "adagrad_init_acc": ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}, None),
    "adagrad_maximize": ("Adagrad", {"lr": 0.1, "maximize": True}, None),
    "adagrad_groups": ("Adagrad", {"lr": 0.1}, 0.5),
}


def torch_options(options):
    o = {k: v for k, v in options.items() if k not in ("beta1", "beta2", "maximize")}
    if "beta1" in options or "beta2" in options:
        o["betas"] = (options.get("beta1", 0.9), options.get("beta2", 0.999))
    return o


case_list = []
for name, (kind, options, second_lr) in CASES.items():
    w = init_w.clone().requires_grad_(True)
    b = init_b.clone().requires_grad_(True)
    cls = getattr(torch.optim, kind)
    opts = torch_options(options)
    if second_lr is None:
        opt = cls([w, b], **opts)
    else:
        opt = cls([{"params": [w]}, {"params": [b], "lr": second_lr}], **opts)
    sign = -1.0 if options.get("maximize") else 1.0
    ws, bs = [], []
    for k in range(STEPS):
        w.grad = sign * grads_w[k].clone()
        b.grad = sign * grads_b[k].clone()
        opt.step()
        ws.append(w.detach().clone())
        bs.append(b.detach().clone())
    out[name + "/w"] = r8(torch.stack(ws))
    out[name + "/b"] = r8(torch.stack(bs))
    case_list.append({"name": name, "optimizer": kind, "options": options,
                      "second_lr": second_lr if second_lr is not None else 0.0})
out["optimizer_cases"] = case_list

# ---- schedulers: lr after construction, then after each of 30 step() calls ----------------
S = torch.optim.lr_scheduler
SCHED = {  # name: (constructor, options in etna's names, optimizer kind)
    "step": (lambda o: S.StepLR(o, step_size=7, gamma=0.5), {"step_size": 7, "gamma": 0.5}, "SGD"),
    "multistep": (lambda o: S.MultiStepLR(o, milestones=[3, 10, 10, 21], gamma=0.3),
                  {"milestones": [3, 10, 10, 21], "gamma": 0.3}, "SGD"),
    "exponential": (lambda o: S.ExponentialLR(o, gamma=0.9), {"gamma": 0.9}, "SGD"),
    "cosine": (lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), {"T_max": 10, "eta_min": 0.001}, "SGD"),
    "cosine_zero": (lambda o: S.CosineAnnealingLR(o, T_max=30), {"T_max": 30, "eta_min": 0.0}, "SGD"),
    "linear": (lambda o: S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=8),
               {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 8}, "SGD"),
    "linear_default": (lambda o: S.LinearLR(o), {}, "SGD"),
    "onecycle_cos": (lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=30),
                     {"max_lr": 0.5, "total_steps": 30, "three_phase": False, "linear": False}, "SGD"),
    "onecycle_linear": (lambda o: S.OneCycleLR(o, max_lr=0.5, epochs=3, steps_per_epoch=10, anneal_strategy="linear", pct_start=0.4),
                        {"max_lr": 0.5, "total_steps": 30, "three_phase": False, "linear": True, "pct_start": 0.4}, "SGD"),
    "onecycle_three_phase": (lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=31, three_phase=True, div_factor=10, final_div_factor=100),
                             {"max_lr": 0.5, "total_steps": 31, "three_phase": True, "linear": False, "div_factor": 10, "final_div_factor": 100}, "SGD"),
    "onecycle_adam": (lambda o: S.OneCycleLR(o, max_lr=0.01, total_steps=30, base_momentum=0.8, max_momentum=0.9),
                      {"max_lr": 0.01, "total_steps": 30, "three_phase": False, "linear": False, "base_momentum": 0.8, "max_momentum": 0.9}, "Adam"),
}
sched_list = []
for name, (make, options, kind) in SCHED.items():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9) if kind == "SGD" else torch.optim.Adam([p], lr=0.1)
    sched = make(opt)
    lrs, momenta = [sched.get_last_lr()[0]], []

    def momentum():
        g = opt.param_groups[0]
        return g["betas"][0] if "betas" in g else g["momentum"]
    momenta.append(momentum())
    for _ in range(30):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
        momenta.append(momentum())
    sched_list.append({"name": name, "options": options, "optimizer": kind, "lrs": lrs, "momenta": momenta})
out["scheduler_cases"] = sched_list

# ReduceLROnPlateau: lr after each step(metric)
metrics = [1.0, 0.9, 0.95, 0.9, 0.91, 0.92, 0.93, 0.899, 0.8999, 0.9, 0.85, 0.86, 0.87, 0.88, 0.89,
           0.9, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.4, 0.41, 0.42, 0.43, 0.44, 0.45, 0.46, 0.47]
PLATEAU = {
    "plateau_min_rel": {"mode_max": False, "factor": 0.5, "patience": 2, "threshold": 1e-2, "threshold_abs": False},
    "plateau_min_abs_cooldown": {"mode_max": False, "factor": 0.1, "patience": 1, "threshold": 0.02, "threshold_abs": True, "cooldown": 2, "min_lr": 0.0005},
    "plateau_max": {"mode_max": True, "factor": 0.5, "patience": 3, "threshold": 1e-4, "threshold_abs": False, "min_lr": 0.01},
}
plateau_list = []
for name, o in PLATEAU.items():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = S.ReduceLROnPlateau(opt, mode="max" if o["mode_max"] else "min", factor=o["factor"], patience=o["patience"],
                                threshold=o["threshold"], threshold_mode="abs" if o["threshold_abs"] else "rel",
                                cooldown=o.get("cooldown", 0), min_lr=o.get("min_lr", 0.0))
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    plateau_list.append({"name": name, "options": o, "lrs": lrs})
out["plateau_cases"] = plateau_list
out["plateau_metrics"] = metrics

# ---- clip_grad ----------------------------------------------------------------------------
for norm_name, norm_type in (("2", 2.0), ("inf", math.inf)):
    for max_norm in (0.5, 100.0):
        w = init_w.clone().float().requires_grad_(True)
        b = init_b.clone().float().requires_grad_(True)
        w.grad = grads_w[0].float().clone()
        b.grad = grads_b[0].float().clone()
        total = torch.nn.utils.clip_grad_norm_([w, b], max_norm, norm_type=norm_type)
        key = "clip_norm_%s_%g" % (norm_name, max_norm)
        out[key + "/total"] = float(total)
        out[key + "/w"] = w.grad
        out[key + "/b"] = b.grad
w = init_w.clone().float().requires_grad_(True)
w.grad = grads_w[0].float().clone()
torch.nn.utils.clip_grad_value_([w], 0.5)
out["clip_value_0.5/w"] = w.grad
fixture_util.write("optim", out)
