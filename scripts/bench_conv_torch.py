#!/usr/bin/python3
"""PyTorch peer of `laplex-bench conv`: forward + backward of the layers of
the Fashion-MNIST CNN and one training step of the whole CNN with a dense
head, on the CPU with the given thread count, the same shapes and the same
gradients (ones for a layer's output, cross-entropy for the step). Prints one
JSON line: {"ms": {case: median ms}, "threads": n, "torch": version}.

Usage: bench_conv_torch.py THREADS REPEATS BATCH
"""
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def median_ms(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main(threads, repeats, b):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    conv1, conv2 = torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.Conv2d(32, 64, 3, padding=1)
    bn1, bn2 = torch.nn.BatchNorm2d(32), torch.nn.BatchNorm2d(64)
    head = torch.nn.Linear(3136, 10)
    image = torch.randn(b, 1, 28, 28)
    features = torch.randn(b, 32, 14, 14, requires_grad=True)
    maps = torch.randn(b, 32, 28, 28, requires_grad=True)
    labels = torch.tensor([(i * 7) % 10 for i in range(b)])

    def ones_backward(y):
        y.backward(torch.ones_like(y))

    def block(x, conv, bn):
        return F.max_pool2d(F.relu(bn(conv(x))), 2)

    cases = {
        "conv1": lambda: ones_backward(conv1(image)),
        "conv2": lambda: ones_backward(conv2(features)),
        "batchnorm": lambda: ones_backward(bn1(maps)),
        "maxpool": lambda: ones_backward(F.max_pool2d(maps, 2)),
        "cnn-step": lambda: F.cross_entropy(
            head(block(block(image, conv1, bn1), conv2, bn2).reshape(b, 3136)), labels).backward(),
    }
    ms = {name: median_ms(fn, repeats) for name, fn in cases.items()}
    print(json.dumps({"ms": ms, "threads": threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
