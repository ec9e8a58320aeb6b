"""Fixtures for nn::functional::conv2d / conv1d / conv_transpose2d (tests/nn/conv_functional_test.cpp):
forward output and the gradients of x, weight and bias for an upstream gradient g, computed in
float64. Each case stores its arguments; the "cases" entry lists them in order.
Run: /usr/bin/python3 tests/reference/make_conv.py"""
import torch
import torch.nn.functional as F

from fixture_util import write

torch.manual_seed(0)


def short(t):
    """Rounds to 8 significant digits: keeps the file small, exact enough for float32 checks."""
    return torch.tensor([float(f"{v:.8g}") for v in t.reshape(-1).tolist()],
                        dtype=torch.float64).reshape(t.shape)


entries = {}
cases = []


def case(name, op, x_shape, w_shape, bias=True, **kw):
    x = short(torch.randn(*x_shape, dtype=torch.float64)).requires_grad_()
    w = short(torch.randn(*w_shape, dtype=torch.float64) * 0.5).requires_grad_()
    out_ch = w_shape[0] if op != "conv_transpose2d" else w_shape[1] * kw.get("groups", 1)
    b = short(torch.randn(out_ch, dtype=torch.float64)).requires_grad_() if bias else None
    fn = {"conv2d": F.conv2d, "conv1d": F.conv1d, "conv_transpose2d": F.conv_transpose2d}[op]
    y = fn(x, w, b, **kw)
    g = short(torch.randn_like(y))
    y.backward(g)
    entries.update({f"{name}_x": x, f"{name}_w": w, f"{name}_y": short(y), f"{name}_g": g,
                    f"{name}_gx": short(x.grad), f"{name}_gw": short(w.grad)})
    if bias:
        entries[f"{name}_b"] = b
        entries[f"{name}_gb"] = short(b.grad)

    def pair(v):
        return list(v) if isinstance(v, (tuple, list)) else [v, v]
    pad = kw.get("padding", 0)
    entries[f"{name}_args"] = {
        "op": op, "bias": bias, "stride": pair(kw.get("stride", 1)),
        "padding": pad if isinstance(pad, str) else pair(pad),
        "dilation": pair(kw.get("dilation", 1)), "groups": kw.get("groups", 1),
        "output_padding": pair(kw.get("output_padding", 0))}
    cases.append(name)


c2 = "conv2d"
case("basic", c2, [2, 3, 6, 6], [4, 3, 3, 3])
case("stride2_pad1", c2, [2, 3, 7, 7], [4, 3, 3, 3], stride=2, padding=1)
case("pad12_rect_kernel", c2, [1, 3, 5, 6], [4, 3, 2, 3], padding=(1, 2))
case("stride21", c2, [2, 2, 7, 6], [3, 2, 3, 2], stride=(2, 1), padding=(0, 1))
case("same_even_kernel", c2, [2, 2, 5, 5], [3, 2, 4, 4], padding="same")
case("same_dilated", c2, [1, 2, 6, 7], [3, 2, 3, 2], padding="same", dilation=2)
case("valid", c2, [2, 2, 5, 6], [3, 2, 3, 3], padding="valid")
case("dilation2", c2, [2, 3, 8, 8], [4, 3, 3, 3], padding=1, dilation=2)
case("groups2", c2, [2, 4, 5, 5], [6, 2, 3, 3], stride=2, padding=1, groups=2)
case("depthwise", c2, [2, 4, 6, 6], [4, 1, 3, 3], padding=1, groups=4)
case("depthwise_mult2", c2, [2, 3, 7, 7], [6, 1, 3, 3], stride=2, padding=1, groups=3)
case("depthwise_dilated_nobias", c2, [2, 3, 8, 8], [3, 1, 3, 3], bias=False, padding=2,
     dilation=2, groups=3)
case("depthwise_rect_stride", c2, [1, 2, 9, 8], [2, 1, 2, 3], stride=(2, 3), padding=(1, 0),
     groups=2)
case("depthwise_mult2_stride21", c2, [2, 2, 7, 9], [4, 1, 3, 3], stride=(2, 1), padding=1,
     groups=2)
case("depthwise_mult3_gemm", c2, [1, 2, 5, 6], [6, 1, 3, 3], padding=1, groups=2)
case("depthwise_pad_beyond_kernel", c2, [1, 2, 5, 5], [2, 1, 3, 3], padding=3, groups=2)
case("depthwise_wide", c2, [1, 2, 4, 37], [4, 1, 2, 3], padding=(0, 1), groups=2)
case("no_bias", c2, [2, 3, 5, 5], [2, 3, 3, 3], bias=False, padding=1)
case("unbatched", c2, [3, 5, 5], [4, 3, 3, 3], padding=1)
case("pointwise", c2, [2, 4, 5, 5], [3, 4, 1, 1])
case("pointwise_stride2", c2, [2, 4, 5, 5], [3, 4, 1, 1], stride=2)
case("c1d_stride_pad", "conv1d", [2, 3, 10], [4, 3, 3], stride=2, padding=1)
case("c1d_same_dilated", "conv1d", [2, 2, 9], [3, 2, 4], padding="same", dilation=2)
case("c1d_groups", "conv1d", [2, 6, 9], [6, 2, 3], groups=3)
case("c1d_unbatched", "conv1d", [3, 8], [2, 3, 5], bias=False, padding=2)
ct = "conv_transpose2d"
case("t_stride2_pad1_outpad1", ct, [2, 4, 4, 4], [4, 3, 3, 3], stride=2, padding=1,
     output_padding=1)
case("t_groups2", ct, [2, 4, 3, 3], [4, 2, 3, 3], groups=2)
case("t_dilation2", ct, [2, 3, 4, 4], [3, 2, 3, 3], stride=2, dilation=2, output_padding=1)
case("t_outpad_lt_dilation", ct, [1, 2, 4, 4], [2, 2, 2, 2], dilation=3, output_padding=2)
case("t_unbatched_nobias", ct, [3, 4, 5], [3, 2, 2, 3], bias=False, stride=(2, 1),
     padding=(0, 1))

entries["cases"] = cases
write("conv", entries)
