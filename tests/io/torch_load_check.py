"""The reverse PyTorch round trip of tests/io/module_io_test.cpp: loads a state_dict written by
et::io::save into the torch twin (tests/reference/module_io_models.py) with
load_state_dict(strict=True), runs the committed input in eval mode and compares with the output
etna computed (a safetensors file with tensor "y"). Exit status 1 with a message on mismatch.
usage: torch_load_check.py MODEL STATE.safetensors OUTPUT.safetensors FIXTURES.json"""
import json
import os
import sys

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from module_io_models import MODELS  # noqa: E402

name, state_path, output_path, fixtures_path = sys.argv[1:5]
model = MODELS[name]()
model.load_state_dict(load_file(state_path), strict=True)
model.eval()
with open(fixtures_path) as f:
    entry = json.load(f)[name + "_x"]
x = torch.tensor(entry["data"], dtype=torch.float32).reshape(entry["shape"])
with torch.no_grad():
    y = model(x)
expected = load_file(output_path)["y"]
if y.shape != expected.shape or not torch.allclose(y, expected, rtol=1e-5, atol=1e-5):
    print(f"{name}: torch's output differs from etna's: max |diff| "
          f"{(y - expected).abs().max().item() if y.shape == expected.shape else 'shape'}\n"
          f"torch {y}\netna {expected}")
    sys.exit(1)
print(f"{name}: torch output matches etna's ({tuple(y.shape)})")
