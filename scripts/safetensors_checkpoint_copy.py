#!/usr/bin/env python3
"""Rewrites a laplex checkpoint step directory with the real `safetensors`
library, for tests/apps/eval_e2e_test.cpp: every .safetensors file of SRC is
loaded (tensors and metadata) and saved again into DST by safetensors' own
writer, so laplex-eval can be shown to load a checkpoint that Python wrote.
Prints `name dtype shape` for each tensor it read.

Usage: safetensors_checkpoint_copy.py SRC_STEP_DIR DST_STEP_DIR
"""
import os
import sys

from safetensors import safe_open
from safetensors.numpy import load_file, save_file


def main(src, dst):
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        if not name.endswith(".safetensors"):
            continue
        tensors = load_file(os.path.join(src, name))
        with safe_open(os.path.join(src, name), framework="numpy") as f:
            meta = f.metadata() or {}
        for key in sorted(tensors):
            print(name, key, tensors[key].dtype, list(tensors[key].shape))
        save_file(tensors, os.path.join(dst, name), metadata=meta)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
