#!/usr/bin/python3
"""Writes tests/golden/mlp_golden.json: a small MLP (8-16-4, ReLU) with fixed
weights and inputs, its logits, cross-entropy loss (label smoothing 0.1) and
every gradient, computed by PyTorch on the CPU in float64.
tests/core/golden_mlp_test.cpp runs the same model through laplex in float32
and compares to 1e-5 relative.

Weights and inputs are simple formulas (no torch RNG), so the file documents
itself. Regenerate (Debian's python3-torch): /usr/bin/python3 scripts/golden_mlp.py
"""
import json
import math
import pathlib

import torch


def values(n, a, b):
    return [math.sin(a * i + b) for i in range(n)]


def main():
    torch.set_default_dtype(torch.float64)
    batch, d_in, d_hidden, d_out = 5, 8, 16, 4
    x = torch.tensor(values(batch * d_in, 0.37, 0.1)).reshape(batch, d_in).requires_grad_(True)
    w1 = (0.5 * torch.tensor(values(d_hidden * d_in, 0.73, 0.2))).reshape(d_hidden, d_in)
    b1 = 0.1 * torch.tensor(values(d_hidden, 1.1, 0.3))
    w2 = (0.4 * torch.tensor(values(d_out * d_hidden, 0.51, 0.4))).reshape(d_out, d_hidden)
    b2 = 0.1 * torch.tensor(values(d_out, 0.9, 0.5))
    params = [w1, b1, w2, b2]
    for p in params:
        p.requires_grad_(True)
    targets = torch.tensor([0, 3, 1, 2, 3])
    hidden = torch.relu(x @ w1.T + b1)
    logits = hidden @ w2.T + b2
    loss = torch.nn.functional.cross_entropy(logits, targets, label_smoothing=0.1)
    loss.backward()

    def flat(t):
        return t.detach().flatten().tolist()

    out = {
        "torch_version": torch.__version__,
        "shapes": {"batch": batch, "in": d_in, "hidden": d_hidden, "out": d_out},
        "label_smoothing": 0.1,
        "x": flat(x), "w1": flat(w1), "b1": flat(b1), "w2": flat(w2), "b2": flat(b2),
        "targets": targets.tolist(),
        "logits": flat(logits), "loss": loss.item(),
        "grad_x": flat(x.grad), "grad_w1": flat(w1.grad), "grad_b1": flat(b1.grad),
        "grad_w2": flat(w2.grad), "grad_b2": flat(b2.grad),
    }
    path = pathlib.Path(__file__).resolve().parent.parent / "tests/golden/mlp_golden.json"
    path.write_text(json.dumps(out, indent=1))
    print("wrote", path)


if __name__ == "__main__":
    main()
