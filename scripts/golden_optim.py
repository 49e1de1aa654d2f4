#!/usr/bin/python3
"""Writes tests/golden/optim_trajectories.json: 20 steps of torch.optim SGD
(momentum, Nesterov), Adam and AdamW, with two parameter groups and a
warmup + cosine schedule, in float64, on a fixed separable quartic loss.
tests/optim/trajectory_test.cpp replays them in laplex.

Regenerate (Debian's python3-torch): /usr/bin/python3 scripts/golden_optim.py
"""
import json
import math
import pathlib

import torch

torch.set_default_dtype(torch.float64)
STEPS = 20


def schedule_factor(step, warmup=3, total=15, min_factor=0.1):
    # Same formula as laplex::optim::Schedule{kind: cosine}.
    if step < warmup:
        return step / warmup
    progress = min(1.0, (step - warmup) / total)
    return min_factor + (1 - min_factor) * 0.5 * (1 + math.cos(math.pi * progress))


def start_values():
    p = [math.sin(0.7 * i + 0.3) * 1.5 for i in range(5)]
    q = [math.cos(0.45 * i - 0.2) for i in range(6)]
    return p, q


def loss_fn(p, q):
    # Coefficients are fixed formulas so the C++ test rebuilds the same loss.
    cp = torch.tensor([0.5 + 0.1 * i for i in range(5)])
    cq = torch.tensor([0.3 + 0.05 * i for i in range(6)]).reshape(2, 3)
    return (0.25 * cp * p**4 - 0.3 * p).sum() + (0.25 * cq * q**4 + 0.2 * q**2 - 0.1 * q).sum()


def run(make_optimizer):
    p0, q0 = start_values()
    p = torch.tensor(p0, requires_grad=True)
    q = torch.tensor(q0, requires_grad=True).reshape(2, 3).detach().requires_grad_(True)
    groups = [{"params": [p], "lr": 0.05, "weight_decay": 0.01},
              {"params": [q], "lr": 0.02, "weight_decay": 0.0}]
    opt = make_optimizer(groups)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule_factor)
    trajectory = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss_fn(p, q).backward()
        opt.step()
        sched.step()
        trajectory.append({"p": p.detach().tolist(), "q": q.detach().flatten().tolist()})
    return trajectory


def main():
    out = {
        "sgd_momentum": run(lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9)),
        "sgd_nesterov": run(lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9, nesterov=True)),
        "adam": run(lambda g: torch.optim.Adam(g, lr=0.05, betas=(0.9, 0.99), eps=1e-8)),
        "adamw": run(lambda g: torch.optim.AdamW(g, lr=0.05, betas=(0.9, 0.99), eps=1e-8)),
        "torch_version": torch.__version__,
    }
    path = pathlib.Path(__file__).resolve().parent.parent / "tests/golden/optim_trajectories.json"
    path.write_text(json.dumps(out, indent=1))
    print("wrote", path)


if __name__ == "__main__":
    main()
