#!/usr/bin/env python3
"""Interoperability check used by tests/core/safetensors_interop_test.cpp.

Reads IN (written by laplex) with the real `safetensors` library, prints each
tensor as `name dtype shape sum` so the test can compare, and writes OUT with
safetensors' own writer (every tensor doubled, metadata {"origin": "python"})
for laplex to read back.

Usage: safetensors_roundtrip.py IN OUT
"""
import sys

from safetensors.numpy import load_file, save_file
from safetensors import safe_open


def main(src, dst):
    tensors = load_file(src)
    with safe_open(src, framework="numpy") as f:
        meta = f.metadata() or {}
    for name in sorted(tensors):
        t = tensors[name]
        print(name, t.dtype, list(t.shape), repr(float(t.astype("float64").sum())))
    print("metadata", sorted(meta.items()))
    save_file({k: v * 2 for k, v in tensors.items()}, dst, metadata={"origin": "python"})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
