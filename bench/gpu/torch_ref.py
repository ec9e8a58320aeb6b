#!/usr/bin/env python3
"""PyTorch on the same GPU, the reference of bench/gpu/etna_gpu_bench.cu: the same cases with
the same shapes, optimizers and losses, eager and captured as CUDA graphs (torch.cuda.graphs),
float32 with TF32 off. Prints one JSON object per case ({"case", "ref_us", "ref"}).
Usage: torch_ref.py [filter]"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device("cuda")
REF = "pytorch-" + torch.__version__.split("+")[0]


def time_us(fn, iters):
    """Median of 7 repetitions of `iters` calls, GPU drained around each (as the etna side)."""
    for _ in range(10):
        fn()
    torch.cuda.synchronize()
    reps = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        torch.cuda.synchronize()
        reps.append((time.perf_counter() - t0) / iters * 1e6)
    reps.sort()
    return reps[len(reps) // 2]


def emit(name, us, **extra):
    print(json.dumps({"case": name, "ref_us": round(us, 2), "ref": REF,
                      "device": torch.cuda.get_device_name(0), **extra}), flush=True)


def chain():
    n = 64 << 20
    a, b, c = (torch.rand(n, device=dev) for _ in range(3))
    y = torch.empty(n, device=dev)
    us = time_us(lambda: torch.add(a * b, torch.exp(c) * 2, out=y), 20)
    emit("gpu/eltwise/chain_64M", us, ref_gbs=round(4 * n * 4 / (us * 1e-6) / 1e9, 1))


def mlp784():
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def tiny():
    return nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                         nn.Linear(64, 1))


def wide():
    layers = []
    for _ in range(4):
        layers += [nn.Linear(64, 64), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(64, 64))


def train(name, make, batch, opt, graph, classify):
    torch.manual_seed(1)
    net = make().to(dev)
    n_out = net[-1].out_features
    if isinstance(net[0], nn.Conv2d):
        x = torch.randn(batch, 1, 28, 28, device=dev)
    else:
        x = torch.randn(batch, net[0].in_features, device=dev)
    labels = torch.randint(0, n_out, (batch,), device=dev)
    y = torch.randn(batch, n_out, device=dev)
    if opt == "sgd":
        o = torch.optim.SGD(net.parameters(), lr=0.01)
    else:
        o = torch.optim.Adam(net.parameters(), lr=1e-3, capturable=graph)

    def step():
        o.zero_grad(set_to_none=True)
        out = net(x)
        loss = F.cross_entropy(out, labels) if classify else F.mse_loss(out, y)
        loss.backward()
        o.step()

    time_step(name, step, o, graph, 200 if batch >= 4096 else 500)


def time_step(name, step, o, graph, iters):
    """Times a whole training step eagerly, or captured once as a CUDA graph and replayed."""
    if not graph:
        emit(name, time_us(step, iters))
        return
    s = torch.cuda.Stream()  # warm-up on a side stream, as torch.cuda.graphs requires
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    o.zero_grad(set_to_none=True)
    with torch.cuda.graph(g):
        step()
    emit(name, time_us(g.replay, iters))


def seq_train(name, kind, graph):
    """The sequence cases of etna_gpu_bench.cu: MSE of the output against a fixed random target,
    SGD lr 0.01. lstm: nn.LSTM(32, 128), x [32, 32, 32] (seq, batch, in; cuDNN).
    transformer: nn.TransformerEncoderLayer(128, 4, 512, dropout 0.1) in train mode, src
    [64, 16, 128] (seq, batch, d)."""
    torch.manual_seed(1)
    if kind == "lstm":
        net = nn.LSTM(32, 128).to(dev)
        x = torch.randn(32, 32, 32, device=dev)
        y = torch.randn(32, 32, 128, device=dev)
    else:
        net = nn.TransformerEncoderLayer(128, 4, dim_feedforward=512, dropout=0.1).to(dev)
        x = torch.randn(64, 16, 128, device=dev)
        y = torch.randn(64, 16, 128, device=dev)
    net.train()
    o = torch.optim.SGD(net.parameters(), lr=0.01)

    def step():
        o.zero_grad(set_to_none=True)
        out = net(x)
        loss = F.mse_loss(out[0] if kind == "lstm" else out, y)
        loss.backward()
        o.step()

    time_step(name, step, o, graph, 200)


def infer():
    torch.manual_seed(1)
    net = mlp784().to(dev).eval()
    x = torch.randn(1, 784, device=dev)

    def run():
        with torch.no_grad():
            net(x)

    emit("gpu/infer/mlp784_b1", time_us(run, 2000))


def main():
    flt = sys.argv[1] if len(sys.argv) > 1 else ""
    cases = [
        ("gpu/eltwise/chain_64M", chain),
        ("gpu/train/mlp784_b64_sgd_eager", lambda n: train(n, mlp784, 64, "sgd", False, True)),
        ("gpu/train/mlp784_b64_sgd_graph", lambda n: train(n, mlp784, 64, "sgd", True, True)),
        ("gpu/train/mlp784_b256_adam_eager", lambda n: train(n, mlp784, 256, "adam", False, True)),
        ("gpu/train/mlp784_b256_adam_graph", lambda n: train(n, mlp784, 256, "adam", True, True)),
        ("gpu/train/mlp784_b4096_sgd_eager", lambda n: train(n, mlp784, 4096, "sgd", False, True)),
        ("gpu/train/mlp784_b4096_sgd_graph", lambda n: train(n, mlp784, 4096, "sgd", True, True)),
        ("gpu/train/lenet_b64_sgd_eager", lambda n: train(n, lenet, 64, "sgd", False, True)),
        ("gpu/train/lenet_b64_sgd_graph", lambda n: train(n, lenet, 64, "sgd", True, True)),
        ("gpu/train/tiny_mlp_b32_sgd_eager", lambda n: train(n, tiny, 32, "sgd", False, False)),
        ("gpu/train/tiny_mlp_b32_sgd_graph", lambda n: train(n, tiny, 32, "sgd", True, False)),
        ("gpu/train/wide_mlp_64x4_b65536", lambda n: train(n, wide, 65536, "sgd", True, False)),
        ("gpu/train/wide_mlp_64x4_b65536_eager",
         lambda n: train(n, wide, 65536, "sgd", False, False)),
        ("gpu/train/lstm_h128_seq32_b32_eager", lambda n: seq_train(n, "lstm", False)),
        ("gpu/train/lstm_h128_seq32_b32_graph", lambda n: seq_train(n, "lstm", True)),
        ("gpu/train/transformer_enc_d128_seq64_b16_eager",
         lambda n: seq_train(n, "transformer", False)),
        ("gpu/train/transformer_enc_d128_seq64_b16_graph",
         lambda n: seq_train(n, "transformer", True)),
        ("gpu/infer/mlp784_b1", infer),
    ]
    for name, fn in cases:
        if flt and flt not in name:
            continue
        try:
            if name == "gpu/eltwise/chain_64M" or name == "gpu/infer/mlp784_b1":
                fn()
            else:
                fn(name)
        except Exception as e:  # a line that says why; the other cases still run
            print(json.dumps({"case": name, "ref": REF, "error": f"{type(e).__name__}: {e}"}),
                  flush=True)


if __name__ == "__main__":
    main()
