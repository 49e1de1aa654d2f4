#!/usr/bin/python3
"""PyTorch peer of `laplex-bench mlp-step`: one training step (forward,
cross-entropy, backward, SGD with momentum) of a 784-256-10 ReLU MLP at
batch 128 on the CPU, with the given thread count. Prints one JSON line:
{"ms_per_step": median, "threads": n, "torch": version}.

Usage: bench_mlp_torch.py THREADS STEPS
"""
import json
import statistics
import sys
import time

import torch


def main(threads, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(128, 784)
    y = torch.randint(0, 10, (128,))
    times = []
    for i in range(steps + 20):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if i >= 20:
            times.append((time.perf_counter() - start) * 1e3)
    print(json.dumps({"ms_per_step": statistics.median(times), "threads": threads,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
