#!/usr/bin/python3
"""Peer comparison for laplex-train: trains the exact model, batch, optimizer
and schedule of configs/fashion_mnist_dense_mlp.yaml in PyTorch (Debian's
python3-torch, same thread count) on the same Fashion-MNIST files, and runs
laplex-train on the same config in the same run; prints one row each with
images/s (training only) and test accuracy.

The two alternate --repeats times (laplex, PyTorch, laplex, ...) because a
shared machine's speed drifts within minutes: each pair's ratio is measured
under the same conditions, and the summary is the median over pairs.

Usage: torch_peer_train.py [--epochs N] [--threads T] [--repeats R] [--laplex build/bin/laplex-train]
"""
import argparse
import gzip
import json
import os
import math
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = pathlib.Path("/usr/share/datasets/fashion-mnist")
MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    data = gzip.open(path).read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load(split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(ROOT / f"{prefix}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    y = read_idx(ROOT / f"{prefix}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy((x.reshape(len(x), -1) - MEAN) / STD), torch.from_numpy(y)


def torch_run(epochs, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    xtr, ytr = load("train")
    xte, yte = load("test")
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps_per_epoch = math.ceil(len(xtr) / 128)
    total, warmup = steps_per_epoch * epochs, 100

    def factor(step):  # laplex's cosine schedule with linear warmup
        if step < warmup:
            return step / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / (total - warmup))))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    train_seconds = 0.0
    for epoch in range(epochs):
        order = torch.randperm(len(xtr))
        start = time.perf_counter()
        for b in range(steps_per_epoch):
            idx = order[b * 128:(b + 1) * 128]
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
            sched.step()
        train_seconds += time.perf_counter() - start
    with torch.no_grad():
        accuracy = (model(xte).argmax(1) == yte).float().mean().item()
    return {"framework": f"pytorch {torch.__version__}", "images_per_s": len(xtr) * epochs / train_seconds,
            "test_accuracy": accuracy, "threads": threads}


def laplex_run(binary, epochs):
    with tempfile.TemporaryDirectory() as run_dir:
        config = pathlib.Path(__file__).resolve().parent.parent / "configs/fashion_mnist_dense_mlp.yaml"
        subprocess.run([binary, "--config", str(config), "--device", "cpu", "--set", f"run_dir={run_dir}",
                        "--set", f"train.epochs={epochs}"], check=True, capture_output=True)
        records = [json.loads(l) for l in (pathlib.Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if r["split"] == "train"]
    test = [r for r in records if r["split"] == "test"]
    return {"framework": "laplex", "images_per_s": train[-1]["items_per_s"],
            "test_accuracy": test[-1]["accuracy"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--laplex", default="build/bin/laplex-train")
    args = parser.parse_args()
    ratios = []
    for repeat in range(args.repeats):
        ours, peer = laplex_run(args.laplex, args.epochs), torch_run(args.epochs, args.threads)
        ratio = ours["images_per_s"] / peer["images_per_s"]
        ratios.append(ratio)
        for row in (ours, peer):
            print(json.dumps({"repeat": repeat, **row}))
        print(f"repeat {repeat}: laplex / pytorch images/s {ratio:.2f}", file=sys.stderr)
    print(f"median laplex / pytorch images/s over {len(ratios)} pairs: {statistics.median(ratios):.2f}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
