"""A small CNN trained in PyTorch, for the check that a PyTorch model loads into the equivalent
etna network and gives the same outputs (examples/transfer_learning.cpp and
tests/io/transfer_pytorch_test.cpp).

Run with the repository's venv (torch from Debian's python3-torch, safetensors from PyPI):
    .venv/bin/python tests/reference/make_transfer_model.py [--data /usr/share/datasets/fashion-mnist]
Writes into tests/reference/fixtures/:
  transfer_model.safetensors     model.state_dict() by safetensors.torch.save_file (PyTorch's
                                 names: "0.weight", "1.running_mean", "1.num_batches_tracked"...)
  transfer_model_io.safetensors  "input" [8, 1, 28, 28] (8 normalised test images) and "output"
                                 [8, 10], the model's logits for them in eval mode
The etna twin is, layer for layer:
  Sequential<Conv2d<1, 4, 3, {.padding = 1}>, BatchNorm2d<4>, ReLU, MaxPool2d<2>,
             Conv2d<4, 8, 3, {.padding = 1}>, BatchNorm2d<8>, ReLU, MaxPool2d<2>,
             Flatten, Linear<392, 10>>
"""
import argparse
import gzip
import os

import numpy as np
import torch
from safetensors.torch import save_file

FIXTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
MEAN, STD = 0.2860, 0.3530  # the Fashion-MNIST training set's, as examples/fashion_mnist.cpp


def read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load(data_dir, split, count):
    images = read_idx(os.path.join(data_dir, f"{split}-images-idx3-ubyte.gz"), 16)
    labels = read_idx(os.path.join(data_dir, f"{split}-labels-idx1-ubyte.gz"), 8)
    x = torch.tensor(images[: count * 784].reshape(count, 1, 28, 28), dtype=torch.float32)
    y = torch.tensor(labels[:count], dtype=torch.int64)
    return (x / 255.0 - MEAN) / STD, y


def model():
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8 * 7 * 7, 10))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    torch.manual_seed(0)
    x, y = load(args.data, "train", 1024)
    net = model()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    net.train()
    for epoch in range(3):  # a few hundred images are enough for non-trivial weights and stats
        for i in range(0, len(x), 64):
            loss = torch.nn.functional.cross_entropy(net(x[i:i + 64]), y[i:i + 64])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    test_x, _ = load(args.data, "t10k", 8)
    with torch.no_grad():
        out = net(test_x)
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    save_file(state, os.path.join(FIXTURE_DIR, "transfer_model.safetensors"),
              metadata={"source": "tests/reference/make_transfer_model.py"})
    save_file({"input": test_x.contiguous(), "output": out.contiguous()},
              os.path.join(FIXTURE_DIR, "transfer_model_io.safetensors"))
    print("keys:", ", ".join(state))
    print("test-batch predictions:", out.argmax(1).tolist())


if __name__ == "__main__":
    main()
