"""Fixtures for tests/nn/init_test.cpp: PyTorch's own gains (calculate_gain), fans
(_calculate_fan_in_and_fan_out), the std and bound each scaled initialiser of torch.nn.init
derives from them, the default bounds of Linear/Conv layers, and the sign-corrected Q factor
orthogonal_ computes from a fixed matrix.
Run: /usr/bin/python3 tests/reference/make_init.py"""
import math

import torch
import torch.nn.init as init

from fixture_util import write

torch.manual_seed(0)

SHAPES = [[3, 5], [5, 3], [7, 4, 3], [8, 3, 2, 5], [2, 3, 1, 1, 4], [1, 1]]

gains = []
for name, param in [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
                    ("conv_transpose1d", None), ("conv_transpose2d", None),
                    ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
                    ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                    ("leaky_relu", math.sqrt(5)), ("leaky_relu", 0.0), ("selu", None)]:
    gains.append({"nonlinearity": name, "param": param,
                  "gain": init.calculate_gain(name, param)})

fans = []
xavier = []
kaiming = []
layers = []
for shape in SHAPES:
    t = torch.empty(shape)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(t)
    fans.append({"shape": shape, "fan_in": fan_in, "fan_out": fan_out})
    for gain in [1.0, init.calculate_gain("relu"), 0.5]:
        std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
        xavier.append({"shape": shape, "gain": gain, "std": std, "bound": math.sqrt(3.0) * std})
    for a, mode, nl in [(0, "fan_in", "leaky_relu"), (0, "fan_out", "relu"),
                        (math.sqrt(5), "fan_in", "leaky_relu"), (0.1, "fan_out", "leaky_relu"),
                        (0, "fan_in", "tanh"), (0, "fan_in", "linear")]:
        fan = init._calculate_correct_fan(t, mode)
        std = init.calculate_gain(nl, a) / math.sqrt(fan)
        kaiming.append({"shape": shape, "a": a, "mode": mode, "nonlinearity": nl, "std": std,
                        "bound": math.sqrt(3.0) * std})
    # PyTorch's Linear / ConvNd reset_parameters, the bounds they imply.
    w_bound = init.calculate_gain("leaky_relu", math.sqrt(5)) * math.sqrt(3.0 / fan_in)
    layers.append({"shape": shape, "weight_bound": w_bound,
                   "bias_bound": 1 / math.sqrt(fan_in) if fan_in > 0 else 0})

# orthogonal_: q of torch.linalg.qr times sign(diag(r)), for a fixed tall and wide matrix.
def orthogonal_of(a):
    rows, cols = a.shape
    flat = a.t() if rows < cols else a
    q, r = torch.linalg.qr(flat)
    q = q * torch.diag(r, 0).sign()
    return q.t() if rows < cols else q


tall = torch.round(torch.randn(6, 4, dtype=torch.float64) * 64) / 64
wide = torch.round(torch.randn(3, 7, dtype=torch.float64) * 64) / 64
square = torch.round(torch.randn(5, 5, dtype=torch.float64) * 64) / 64

write("init", {"gains": gains, "fans": fans, "xavier": xavier, "kaiming": kaiming,
               "layers": layers,
               "tall": tall, "tall_q": orthogonal_of(tall),
               "wide": wide, "wide_q": orthogonal_of(wide),
               "square": square, "square_q": orthogonal_of(square)})
