"""Reference values for tests/core: arange/linspace/eye, and PyTorch's repr of a set of tensors
(printing). Run with Debian's /usr/bin/python3 (python3-torch 1.13):

    /usr/bin/python3 tests/reference/make_core.py   # writes fixtures/core.json

Each printed case stores the tensor (shape, dtype, data) and repr(tensor) with "torch."
removed ("dtype=torch.float64" -> "dtype=float64"), which is how etna prints dtypes."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_util  # noqa: E402

out = {}


def encode(t):
    """fixture_util.encode, with float32 values shortened to 9 significant digits (exact)."""
    e = fixture_util.encode(t)
    if t.dtype == torch.float32:
        e["data"] = [v if isinstance(v, str) else float("%.9g" % v) for v in e["data"]]
    return e


# ---- factories ----------------------------------------------------------------------------
ARANGE = {  # name: (start, end, step, dtype)
    "arange_0_10": (0, 10, 1, torch.float32),
    "arange_half": (1, 2.5, 0.5, torch.float32),
    "arange_down": (10, 0, -3, torch.float32),
    "arange_tenths": (0, 1, 0.1, torch.float32),
    "arange_neg_f64": (-1, 1, 0.3, torch.float64),
    "arange_i64": (0, 10, 3, torch.int64),
    "arange_i32_down": (5, -5, -2, torch.int32),
    "arange_long": (-3.5, 100, 0.25, torch.float32),
}
for name, (start, end, step, dtype) in ARANGE.items():
    out[name] = encode(torch.arange(start, end, step, dtype=dtype))
    out[name]["args"] = [start, end, step]
LINSPACE = {
    "linspace_0_1_5": (0, 1, 5, torch.float32),
    "linspace_sym_7": (-1, 1, 7, torch.float32),
    "linspace_one": (2, 3, 1, torch.float32),
    "linspace_zero": (0, 1, 0, torch.float32),
    "linspace_down": (3, -2, 11, torch.float32),
    "linspace_100": (-7.3, 12.9, 100, torch.float32),
    "linspace_100_f64": (-7.3, 12.9, 100, torch.float64),
}
for name, (start, end, steps, dtype) in LINSPACE.items():
    out[name] = encode(torch.linspace(start, end, steps, dtype=dtype))
    out[name]["args"] = [start, end, steps]
out["eye_3"] = encode(torch.eye(3))
out["eye_2_4"] = encode(torch.eye(2, 4))
out["eye_4_2"] = encode(torch.eye(4, 2))

# ---- printing -----------------------------------------------------------------------------
g = torch.Generator().manual_seed(1234)
nan, inf = float("nan"), float("inf")


def randn(*shape, dtype=torch.float32):
    return torch.randn(shape, generator=g, dtype=dtype)


PRINT = {
    "decimals": torch.tensor([[1.5, -2.25], [3.125, 0.1]]),
    "decimals_1d": torch.tensor([0.1, 0.25, -3.5]),
    "integral": torch.tensor([1.0, 2.0, -3.0]),
    "integral_wide": torch.tensor([1000.0, -5.0, 0.0]),
    "zeros": torch.zeros(2, 2),
    "sci_small": torch.tensor([1e-5, 1.0]),
    "sci_large": torch.tensor([1e10, 1.0, -2.5]),
    "sci_ratio_int": torch.tensor([1.0, 10000.0]),
    "sci_neg": torch.tensor([-1.5e-5, 2.0e5]),
    "int_1e8": torch.tensor([1e8, 1.0]),
    "int_above_1e8": torch.tensor([123456789.0]),
    "nonfinite_int": torch.tensor([nan, 1.0, inf]),
    "nonfinite_dec": torch.tensor([nan, 1.5, -inf]),
    "zero_nan": torch.tensor([0.0, nan]),
    "only_nonfinite": torch.tensor([nan, inf, -inf]),
    "neg_zero": torch.tensor([-0.0, 1.5]),
    "int64": torch.tensor([1, -20, 300]),
    "int64_2d": torch.tensor([[1, 2, 3], [-4, 50, 600]]),
    "int32": torch.tensor([1, 2, 3], dtype=torch.int32),
    "bool": torch.tensor([True, False, True]),
    "bool_2d": torch.tensor([[True], [False]]),
    "float64": torch.tensor([1.5, 2.0], dtype=torch.float64),
    "float64_int": torch.tensor([1.0, 2.0], dtype=torch.float64),
    "scalar": torch.tensor(3.5),
    "scalar_int": torch.tensor(7),
    "scalar_f64": torch.tensor(2.5, dtype=torch.float64),
    "scalar_bool": torch.tensor(True),
    "scalar_sci": torch.tensor(1.5e-7),
    "empty": torch.zeros(0),
    "empty_2d": torch.zeros(0, 3),
    "empty_3d_int64": torch.zeros(2, 0, 4, dtype=torch.int64),
    "empty_int32": torch.zeros(0, dtype=torch.int32),
    "empty_f64_2d": torch.zeros(3, 0, dtype=torch.float64),
    "three_d": randn(2, 3, 4),
    "four_d": randn(2, 1, 2, 3),
    "wrap_1d": randn(30),
    "wrap_2d": randn(3, 20),
    "wrap_int": torch.arange(40) * 1000,
    "wrap_f64_suffix": randn(2, 8, dtype=torch.float64),
    "suffix_f64_1d": randn(9, dtype=torch.float64),
    "suffix_i32": torch.arange(25, dtype=torch.int32) * 7,
    "summarized_1d": torch.arange(2000),
    "summarized_2d": randn(30, 40),
    "summarized_3d": torch.arange(1100.0).reshape(11, 10, 10) / 8,
    "summarized_rows": randn(1001, 1),
    "summarized_f64": randn(3, 400, dtype=torch.float64),
}
names = []
for name, t in PRINT.items():
    entry = encode(t)
    entry["repr"] = repr(t).replace("torch.", "")
    out["print_" + name] = entry
    names.append(name)
out["print_cases"] = names
base = randn(3, 4)
out["print_transposed_base"] = encode(base)
out["print_transposed_repr"] = repr(base.t()).replace("torch.", "")

os.makedirs(fixture_util.FIXTURE_DIR, exist_ok=True)
fixture_util.write("core", out)
