"""Reference values for the joining, indexing and padding ops (tests/ops/join_test.cpp,
indexing_test.cpp, pad_test.cpp). Run with Debian's /usr/bin/python3 (python3-torch).
Data are small integers stored as float32, so every expected value is exact and the JSON short."""
import torch
import torch.nn.functional as F

from fixture_util import write

torch.manual_seed(0)
E = {}


def ints(*shape, lo=-9, hi=10):
    return torch.randint(lo, hi, shape).float()


# ---- concat / stack / split / chunk ----
a, b, c = ints(2, 3), ints(2, 4), ints(1, 3)
E.update(cat_a=a, cat_b=b, cat_c=c)
E["cat_ab_dim1"] = torch.cat([a, b], 1)
E["cat_ac_dim0"] = torch.cat([a, c], 0)
x, y, z = ints(2, 3, 4), ints(2, 1, 4), ints(2, 2, 4)
E.update(cat3_x=x, cat3_y=y, cat3_z=z)
E["cat3_xyz_dim1"] = torch.cat([x, y, z], 1)
E["cat3_xx_dim2"] = torch.cat([x, x], -1)
p, q = ints(3, 4), ints(5, 4)  # concatenated as transposed (non-contiguous) views
E.update(cat_p=p, cat_q=q)
E["cat_pt_qt_dim1"] = torch.cat([p.t(), q.t()], 1)
i1, i2 = torch.randint(-100, 100, (2, 2), dtype=torch.int32), torch.randint(-100, 100, (2, 1), dtype=torch.int32)
E.update(cat_i1=i1, cat_i2=i2, cat_i12_dim1=torch.cat([i1, i2], 1))
s0, s1, s2 = ints(2, 3), ints(2, 3), ints(2, 3)
E.update(stack_s0=s0, stack_s1=s1, stack_s2=s2)
for d in (0, 1, 2, -1, -3):
    E[f"stack_dim{d}"] = torch.stack([s0, s1, s2], d)
sp = ints(5, 4)
E["split_in"] = sp
for k, piece in enumerate(torch.split(sp, 2, 0)):
    E[f"split2_dim0_{k}"] = piece
for k, piece in enumerate(torch.split(sp, [1, 3], -1)):
    E[f"split13_dim1_{k}"] = piece
ch = ints(3, 6)
E["chunk_in"] = ch
E["chunk4_count"] = len(torch.chunk(ch, 4, 1))
for k, piece in enumerate(torch.chunk(ch, 4, 1)):
    E[f"chunk4_dim1_{k}"] = piece

# ---- index_select / gather / scatter_add / index_add / one_hot ----
xs = ints(4, 5)
E["is_x"] = xs
E["is_idx0"] = torch.tensor([3, 0, 3])
E["is_dim0"] = torch.index_select(xs, 0, E["is_idx0"])
E["is_idx1"] = torch.tensor([4, 4, 1, 0, 2, 1])
E["is_dim1"] = torch.index_select(xs, 1, E["is_idx1"])
E["is_dimm1_t"] = torch.index_select(xs.t(), -1, E["is_idx0"])  # transposed input
x3 = ints(2, 4, 3)
E["is_x3"] = x3
E["is_idx3"] = torch.tensor([1, 1, 3, 0, 2])
E["is_x3_dim1"] = torch.index_select(x3, 1, E["is_idx3"])

g = ints(3, 4)
E["g_x"] = g
E["g_idx1"] = torch.randint(0, 4, (3, 2))
E["g_dim1"] = torch.gather(g, 1, E["g_idx1"])
E["g_idx0"] = torch.randint(0, 3, (2, 4))
E["g_dim0"] = torch.gather(g, 0, E["g_idx0"])
E["g_idx0_t"] = torch.randint(0, 4, (2, 3))
E["g_dim0_t"] = torch.gather(g.t(), 0, E["g_idx0_t"])  # transposed input [4, 3]
g3 = ints(2, 3, 4)
E["g3_x"] = g3
E["g3_idx"] = torch.randint(0, 3, (2, 2, 3))  # smaller than the input outside dim 1
E["g3_dim1"] = torch.gather(g3, 1, E["g3_idx"])
E["g3_idxl"] = torch.randint(0, 4, (1, 3, 6))
E["g3_dimm1"] = torch.gather(g3, -1, E["g3_idxl"])

sb = ints(3, 5)
E["sa_base"] = sb
E["sa_idx1"] = torch.randint(0, 5, (3, 4))  # duplicates accumulate
E["sa_src1"] = ints(3, 4)
E["sa_dim1"] = torch.scatter_add(sb, 1, E["sa_idx1"], E["sa_src1"])
E["sa_idx0"] = torch.randint(0, 3, (6, 5))
E["sa_src0"] = ints(7, 6)  # src larger than the index
E["sa_dim0"] = torch.scatter_add(sb, 0, E["sa_idx0"], E["sa_src0"])
s3 = ints(2, 3, 4)
E["sa3_base"] = s3
E["sa3_idx"] = torch.randint(0, 3, (2, 5, 4))
E["sa3_src"] = ints(2, 5, 4)
E["sa3_dim1"] = torch.scatter_add(s3, 1, E["sa3_idx"], E["sa3_src"])
E["sa3_idxl"] = torch.randint(0, 4, (2, 2, 6))
E["sa3_srcl"] = ints(2, 3, 6)
E["sa3_dimm1"] = torch.scatter_add(s3, -1, E["sa3_idxl"], E["sa3_srcl"])

ib = ints(4, 3)
E["ia_base"] = ib
E["ia_idx0"] = torch.tensor([0, 2, 0, 3, 2])
E["ia_src0"] = ints(5, 3)
E["ia_dim0"] = torch.index_add(ib, 0, E["ia_idx0"], E["ia_src0"])
E["ia_idx1"] = torch.tensor([1, 1, 2])
E["ia_src1"] = ints(4, 3)
E["ia_dim1_alpha"] = torch.index_add(ib, 1, E["ia_idx1"], E["ia_src1"], alpha=2.5)
i3 = ints(2, 4, 3)
E["ia3_base"] = i3
E["ia3_idx"] = torch.tensor([3, 0, 3, 3])
E["ia3_src"] = ints(2, 4, 3)
E["ia3_dim1"] = torch.index_add(i3, 1, E["ia3_idx"], E["ia3_src"])

labels = torch.randint(0, 5, (2, 3))
E["oh_labels"] = labels
E["oh_infer"] = F.one_hot(labels)
E["oh_6"] = F.one_hot(labels, 6)

# ---- pad ----
xp = ints(2, 3, 4, 5)
E["pad_x"] = xp
cases = {
    "c_12": ([1, 2], "constant", 0.5),
    "c_1201": ([1, 2, 0, 1], "constant", 0),
    "c_neg": ([-1, 2, 1, -2], "constant", -3),
    "c_3d": ([1, 1, 0, 2, 1, 0], "constant", 0),
    "c_crop_all": ([-2, -3], "constant", 0),
    "reflect_2311": ([2, 3, 1, 1], "reflect", 0),
    "reflect_2112": ([2, 1, 1, 2], "reflect", 0),
    "reflect_neg": ([-1, 3, 2, -1], "reflect", 0),
    "replicate_3210": ([3, 2, 1, 0], "replicate", 0),
    "replicate_neg": ([-2, 4, 0, -1], "replicate", 0),
    "circular_1221": ([1, 2, 2, 1], "circular", 0),
    "circular_full": ([5, 5, -1, 3], "circular", 0),
}
for name, (pads, mode, value) in cases.items():
    E[f"pad_{name}"] = F.pad(xp, pads, mode, value) if mode == "constant" else F.pad(xp, pads, mode)
E["pad_x3"] = ints(2, 3, 4)
E["pad_x3_reflect_31"] = F.pad(E["pad_x3"], [3, 1], "reflect")
E["pad_x3_replicate_t"] = F.pad(E["pad_x3"].transpose(1, 2), [1, 2], "replicate")  # [2, 4, 3]
E["pad_x5"] = ints(1, 2, 3, 3, 4)
E["pad_x5_reflect_3d"] = F.pad(E["pad_x5"], [1, 2, 2, 0, 1, 1], "reflect")
E["pad_x5_replicate_3d"] = F.pad(E["pad_x5"], [2, 1, 0, 3, 1, 2], "replicate")
E["pad_x5_circular_3d"] = F.pad(E["pad_x5"], [4, 1, 3, 0, 1, 2], "circular")
# Cropping on one side while padding the other: reflect reads the uncropped input, circular
# wraps around what is left after cropping.
E["pad_r5"] = torch.arange(5.).reshape(1, 1, 5)
E["pad_r5_reflect_4m2"] = F.pad(E["pad_r5"], [4, -2], "reflect")
E["pad_r5_circular_3m1"] = F.pad(E["pad_r5"], [3, -1], "circular")
E["pad_r5_circular_m23"] = F.pad(E["pad_r5"], [-2, 3], "circular")

write("shape_ops", E)
