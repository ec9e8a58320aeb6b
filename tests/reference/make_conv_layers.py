"""Reference values for the convolutional layers of et::nn (Conv2d with padding modes, Conv1d,
ConvTranspose2d with output_size, the pooling layers, GroupNorm, Upsample, a small CNN): each
layer's input, weights, output and the gradients of sum(out * g) for a fixed random g, its
state_dict keys and its printed repr, from torch.nn. Run with /usr/bin/python3 (python3-torch);
writes fixtures/conv_layers.json."""
import torch
import torch.nn as nn

from fixture_util import write

torch.manual_seed(20261128)
out = {}


def rnd(*shape, scale=1.0, shift=0.0):
    # Four decimals: the values read back as the same float32 in C++.
    return torch.round((torch.randn(*shape) * scale + shift) * 1e4) / 1e4


def describe(tag, module):
    out[f"{tag}_repr"] = repr(module)
    out[f"{tag}_keys"] = list(module.state_dict().keys())


def run(tag, module, x, forward=None):
    """Sets every parameter to rounded random values, runs forward and backward of sum(y * g)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(rnd(*p.shape, scale=0.5))
            out[f"{tag}_{name}"] = p.detach().clone()
    xs = x.clone().requires_grad_(True)
    y = forward(module, xs) if forward else module(xs)
    g = rnd(*y.shape)
    y.backward(g)
    out[f"{tag}_x"] = x
    out[f"{tag}_g"] = g
    out[f"{tag}_y"] = y.detach()
    out[f"{tag}_gx"] = xs.grad
    for name, p in module.named_parameters():
        out[f"{tag}_g{name}"] = p.grad
    describe(tag, module)


# ---- convolution layers with padding modes and options ------------------------------------------
run("conv_reflect", nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), rnd(2, 3, 5, 6))
run("conv_circular_same",
    nn.Conv2d(2, 3, (3, 2), padding="same", dilation=(1, 2), padding_mode="circular"),
    rnd(1, 2, 5, 7))
run("conv_replicate_groups",
    nn.Conv2d(4, 6, 3, stride=2, padding=(1, 2), groups=2, bias=False, padding_mode="replicate"),
    rnd(2, 4, 7, 6))
run("conv1d_replicate", nn.Conv1d(2, 3, 3, padding=2, padding_mode="replicate"), rnd(2, 2, 9))
run("conv1d_same", nn.Conv1d(4, 2, 4, padding="same", dilation=2, groups=2), rnd(2, 4, 10))
run("convT", nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), rnd(2, 3, 4, 4),
    forward=lambda m, x: m(x, output_size=[8, 8]))
run("convT_groups", nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0),
                                       output_padding=(1, 0), groups=2, dilation=1),
    rnd(1, 4, 3, 5))

# ---- pooling, group norm, upsampling, channel dropout (reprs) -----------------------------------
run("maxpool", nn.MaxPool2d(3, stride=2, padding=1), rnd(2, 3, 7, 8))
run("maxpool_ceil", nn.MaxPool2d((2, 3), stride=2, dilation=(1, 2), ceil_mode=True),
    rnd(1, 2, 7, 9))
run("avgpool", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), rnd(2, 3, 7, 8))
run("adaptive_avg", nn.AdaptiveAvgPool2d((3, 2)), rnd(2, 3, 7, 5))
run("adaptive_max", nn.AdaptiveMaxPool2d(2), rnd(2, 3, 5, 5))
run("groupnorm", nn.GroupNorm(2, 6), rnd(2, 6, 3, 4))
run("groupnorm_noaffine", nn.GroupNorm(3, 6, eps=1e-3, affine=False), rnd(2, 6, 5))
run("upsample_nearest", nn.Upsample(scale_factor=2), rnd(1, 2, 3, 4))
run("upsample_bilinear", nn.Upsample(size=(5, 7), mode="bilinear", align_corners=True),
    rnd(1, 2, 3, 4))
describe("dropout2d", nn.Dropout2d(0.25))
describe("maxpool2", nn.MaxPool2d(2))
describe("avgpool2", nn.AvgPool2d(2))
describe("conv_plain", nn.Conv2d(1, 6, 5))
describe("conv_full", nn.Conv2d(4, 8, (3, 5), stride=(2, 1), padding="same" if False else (1, 2),
                                dilation=2, groups=4, bias=False, padding_mode="reflect"))
describe("conv_same", nn.Conv2d(2, 2, 3, padding="same"))
describe("conv1d_plain", nn.Conv1d(16, 33, 3, stride=2))
describe("convT_full", nn.ConvTranspose2d(4, 8, 3, stride=2, padding=1, output_padding=1,
                                          groups=2, bias=False, dilation=2))
describe("adaptive_avg1", nn.AdaptiveAvgPool2d(1))

# ---- a small CNN end to end: conv, relu, pool, conv, batch norm (training), global pool, linear --
cnn = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                    nn.Flatten(), nn.Linear(3, 4))
run("cnn", cnn, rnd(4, 1, 8, 8))
out["cnn_running_mean"] = cnn[4].running_mean
out["cnn_running_var"] = cnn[4].running_var
cnn.eval()
with torch.no_grad():
    out["cnn_eval_y"] = cnn(out["cnn_x"])

write("conv_layers", out)
