#!/usr/bin/python3
"""Draws training loss and test accuracy curves of one or more laplex runs
from their metrics.jsonl into one PNG (Debian's python3-matplotlib).

Usage: plot_metrics.py OUT.png RUN_DIR [RUN_DIR ...]
"""
import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(run_dir):
    train, test = [], []
    path = pathlib.Path(run_dir) / "metrics.jsonl"
    for line in path.read_text().splitlines():
        record = json.loads(line)
        (test if record.get("split") == "test" else train).append(record)
    return train, test


def main(out, runs):
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for run in runs:
        train, test = read(run)
        label = pathlib.Path(run).name
        ax_loss.plot([r["step"] for r in train], [r["loss"] for r in train], label=label)
        if test and "accuracy" in test[0]:
            ax_acc.plot([r["epoch"] + 1 for r in test], [r["accuracy"] for r in test], "o-", label=label)
    ax_loss.set(xlabel="step", ylabel="training loss", yscale="log", title="training loss")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy", title="test accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print("wrote", out)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
