#!/usr/bin/env python3
"""Writes the tiny IDX fixtures of tests/data/idx_test.cpp into fixtures/idx/ (stdlib only).

The good image file holds 3 images of 4x5 pixels; pixel k (row-major over the whole file) is
(37 * k + 11) % 256, except pixel 0 = 0 and pixel 59 = 255. Labels are 7, 0, 9. The other
files are damaged copies, each with one defect. gzip output uses mtime 0, so reruns are
byte-identical.
"""
import gzip
import io
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "idx")


def idx(type_byte, dims, payload):
    header = struct.pack(">BBBB", 0, 0, type_byte, len(dims))
    header += b"".join(struct.pack(">I", d) for d in dims)
    return header + bytes(payload)


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def write(name, data):
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    pixels = [(37 * k + 11) % 256 for k in range(3 * 4 * 5)]
    pixels[0], pixels[59] = 0, 255
    images = idx(0x08, [3, 4, 5], pixels)
    labels = idx(0x08, [3], [7, 0, 9])

    write("images-idx3-ubyte", images)
    write("labels-idx1-ubyte", labels)
    write("images-idx3-ubyte.gz", gz(images))
    write("labels-idx1-ubyte.gz", gz(labels))

    write("truncated-images-idx3-ubyte", images[:16 + 10])  # 26 of 76 bytes
    compressed = gz(images)
    write("truncated-images-idx3-ubyte.gz", compressed[: len(compressed) // 2])
    write("trailing-images-idx3-ubyte", images + b"\x01\x02\x03")
    write("wrong-magic-idx3-ubyte", struct.pack(">I", 0x12345678) + images[4:])
    write("wrong-dims-labels-idx1-ubyte", idx(0x08, [3, 1], [7, 0, 9]))  # magic 0x00000802
    write("float-idx1-ubyte", idx(0x0D, [2], struct.pack(">ff", 0.5, 1.5)))
    write("short-labels-idx1-ubyte", idx(0x08, [2], [7, 0]))  # 2 labels for 3 images

    # An MNIST-layout root: train mixes .gz and plain files; t10k has a label that is no class.
    write("mnist/train-images-idx3-ubyte.gz", gz(images))
    write("mnist/train-labels-idx1-ubyte", labels)
    write("mnist/t10k-images-idx3-ubyte", images)
    write("mnist/t10k-labels-idx1-ubyte.gz", gz(idx(0x08, [3], [1, 12, 3])))


if __name__ == "__main__":
    main()
