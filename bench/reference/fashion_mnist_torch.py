#!/usr/bin/python3
"""PyTorch reference for cpu/epoch/fashion_mnist_mlp: the demo's MLP, optimizer, schedule and
batch size, trained on the same files with one thread. Prints one JSON line per run.

Run with Debian's Python (python3-torch): /usr/bin/python3 bench/reference/fashion_mnist_torch.py
"""
import argparse
import gzip
import json
import struct
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--hidden", default="256,256")
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--schedule", default="onecycle", choices=["none", "cosine", "onecycle"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    mean, std = 0.2860, 0.3530
    def load(split):
        x = read_idx(f"{a.root}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
        y = read_idx(f"{a.root}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
        return torch.from_numpy((x - mean) / std).reshape(-1, 1, 28, 28), torch.from_numpy(y)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    layers, width = [nn.Flatten()], 784
    for h in [int(v) for v in a.hidden.split(",") if v]:
        layers += [nn.Linear(width, h), nn.ReLU()]
        if a.dropout > 0:
            layers.append(nn.Dropout(a.dropout))
        width = h
    layers.append(nn.Linear(width, 10))
    net = nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    steps = (len(xtr) + a.batch_size - 1) // a.batch_size
    sched = None
    if a.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a.epochs * steps)
    elif a.schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.epochs * steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)  # as the etna demo
    epoch_times = []
    for epoch in range(a.epochs):
        net.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(xtr))
        for i in range(steps):
            idx = perm[i * a.batch_size:(i + 1) * a.batch_size]
            loss = loss_fn(net(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched:
                sched.step()
        net.eval()
        with torch.no_grad():
            acc = (net(xte).argmax(1) == yte).float().mean().item()
        # Training and the test-set evaluation, as the etna demo's epoch_time_s.
        epoch_times.append(time.perf_counter() - t0)
        print(f"epoch {epoch + 1}: {epoch_times[-1]:.2f} s, test accuracy {acc:.4f}", flush=True)
    print(json.dumps({"ref": f"pytorch-{torch.__version__}", "epoch_s": sorted(epoch_times)[len(epoch_times) // 2],
                      "test_accuracy": acc, "epochs": a.epochs, "threads": a.threads,
                      "config": vars(a)}))


if __name__ == "__main__":
    main()
