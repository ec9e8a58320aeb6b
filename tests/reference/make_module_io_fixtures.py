"""PyTorch-written state_dicts for tests/io/module_io_test.cpp: each model of module_io_models.py
with a fixed seed (the CNN's BatchNorm trained for 3 batches, so running stats and
num_batches_tracked are not the defaults), saved by safetensors.torch.save_file(model.state_dict())
to fixtures/module_io/<name>.safetensors, with an input and torch's eval-mode output in
fixtures/module_io.json. Run with the tests' venv: .venv/bin/python (needs safetensors)."""
import os

import torch
from safetensors.torch import save_file

from fixture_util import FIXTURE_DIR, write
from module_io_models import MODELS

torch.manual_seed(20261127)
out = {}
inputs = {"cnn": (4, 1, 6, 6), "net": (3, 5)}
for name, make in MODELS.items():
    model = make()
    if name == "cnn":
        model.train()
        with torch.no_grad():
            for _ in range(3):
                model(torch.randn(8, 1, 6, 6) * 2 + 0.5)
    model.eval()
    x = torch.randn(*inputs[name])
    with torch.no_grad():
        y = model(x)
    save_file(model.state_dict(), os.path.join(FIXTURE_DIR, "module_io", name + ".safetensors"))
    out[f"{name}_x"] = x
    out[f"{name}_y"] = y
    out[f"{name}_keys"] = list(model.state_dict().keys())
write("module_io", out)
