"""Shared helpers for the fixture generators: run them with Debian's /usr/bin/python3
(python3-torch). Each generator writes one JSON file under tests/reference/fixtures/."""
import json
import math
import os

import torch

FIXTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def encode(t):
    """A tensor as {"shape", "dtype", "data"}; NaN/inf become strings for strict JSON."""
    t = t.detach().cpu().contiguous()
    values = []
    for v in t.reshape(-1).tolist():
        if isinstance(v, float) and not math.isfinite(v):
            values.append("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
        else:
            values.append(v)
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": values}


def write(name, entries):
    """Writes {key: tensor or plain value} to fixtures/<name>.json."""
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    out = {k: (encode(v) if isinstance(v, torch.Tensor) else v) for k, v in entries.items()}
    path = os.path.join(FIXTURE_DIR, name + ".json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {path} ({len(out)} entries)")
