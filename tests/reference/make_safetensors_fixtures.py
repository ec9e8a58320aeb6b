"""Writes small .safetensors files with the reference `safetensors` package, for
tests/io/safetensors_test.cpp to load, plus the values each must hold (safetensors.json).
Run with the tests' venv (scripts/setup-python.sh): .venv/bin/python tests/reference/make_safetensors_fixtures.py
torch (Debian's, seen through --system-site-packages) supplies BF16, which numpy lacks."""
import json
import math
import os
import struct

import numpy as np
import safetensors
import torch
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file as save_torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "safetensors")

DTYPE_NAMES = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
               torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8", torch.bool: "BOOL"}


def plain(v):
    """A JSON value for one element (floats as exact values; inf/nan as strings)."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def expected(tensors):
    out = {}
    for name, t in tensors.items():
        values = t.reshape(-1).to(torch.float64 if t.is_floating_point() else torch.int64).tolist()
        out[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "values": [plain(v) for v in values]}
    return out


def file_order(path):
    """The tensor names in data-offset order, as the file lays them out."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return sorted(header, key=lambda k: header[k]["data_offsets"][0])


def main():
    os.makedirs(OUT, exist_ok=True)
    half_values = [1.0, -2.5, 65504.0, 2.0 ** -24, 2.0 ** -14, -0.0, float("inf"), float("-inf"), float("nan")]
    torch_tensors = {
        "f16": torch.tensor(half_values, dtype=torch.float16),
        "bf16": torch.tensor([1.0, -2.5, 3.0e38, 2.0 ** -133, float("inf"), float("nan")], dtype=torch.bfloat16),
        "f32": torch.arange(-3, 3, dtype=torch.float32).reshape(2, 3) / 4,
        "f64": torch.tensor([[0.1, -1e300], [5e-324, 2.0]], dtype=torch.float64),
        "i64": torch.tensor([-(2 ** 63), 2 ** 63 - 1, 0, -5], dtype=torch.int64),
        "i32": torch.tensor([[-(2 ** 31)], [2 ** 31 - 1]], dtype=torch.int32),
        "u8": torch.tensor([0, 1, 127, 255], dtype=torch.uint8),
        "mask": torch.tensor([[True, False, True]], dtype=torch.bool),
        "scalar": torch.tensor(7.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
        "layer.0.weight": torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float32),
    }
    metadata = {"format": "pt", "note": "written by safetensors " + safetensors.__version__}
    torch_path = os.path.join(OUT, "torch_all_dtypes.safetensors")
    save_torch(torch_tensors, torch_path, metadata=metadata)

    numpy_tensors = {
        "b": np.array([1.5, -2.0], dtype=np.float32),
        "a": np.arange(6, dtype=np.int64).reshape(3, 2),
        "c": np.array([0.5, 65504.0], dtype=np.float16),
    }
    numpy_path = os.path.join(OUT, "numpy_no_metadata.safetensors")
    save_numpy(numpy_tensors, numpy_path)

    fixtures = {
        "safetensors_version": safetensors.__version__,
        "torch_all_dtypes": {"metadata": metadata, "order": file_order(torch_path),
                             "tensors": expected(torch_tensors)},
        "numpy_no_metadata": {"metadata": {}, "order": file_order(numpy_path),
                              "tensors": expected({k: torch.from_numpy(v) for k, v in numpy_tensors.items()})},
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(fixtures, f, indent=1)
    for p in (torch_path, numpy_path):
        print(f"wrote {p} ({os.path.getsize(p)} bytes)")


if __name__ == "__main__":
    main()
