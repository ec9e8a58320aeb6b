"""Fixtures for tests/ops/matmul_test.cpp: torch.matmul over every rank combination.
Run: /usr/bin/python3 tests/reference/make_matmul.py"""
import torch

from fixture_util import write

torch.manual_seed(0)
cases = {
    "mm": ((5, 7), (7, 3)),
    "odd": ((37, 53), (53, 29)),
    "dot": ((6,), (6,)),
    "vecmat": ((4,), (4, 3)),
    "matvec": ((3, 4), (4,)),
    "bmm": ((2, 3, 4), (2, 4, 5)),
    "broadcast": ((2, 1, 3, 4), (5, 4, 2)),
    "batch_vec": ((2, 3, 4), (4,)),
    "vec_batch": ((4,), (2, 4, 3)),
}
entries = {}
for name, (sa, sb) in cases.items():
    a, b = torch.randn(*sa), torch.randn(*sb)
    entries[name + ".a"], entries[name + ".b"] = a, b
    entries[name + ".out"] = torch.matmul(a, b)
a64, b64 = torch.randn(9, 70, dtype=torch.float64), torch.randn(70, 11, dtype=torch.float64)
entries.update({"f64.a": a64, "f64.b": b64, "f64.out": a64 @ b64})
ai, bi = torch.randint(-5, 5, (4, 6)), torch.randint(-5, 5, (6, 3))
entries.update({"i64.a": ai, "i64.b": bi, "i64.out": ai @ bi})
write("matmul", entries)
