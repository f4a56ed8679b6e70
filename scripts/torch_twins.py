"""A notebook's training recipe in PyTorch, with Keras' initialisation, as a
yardstick for the accuracy our TensorFlow.js recipe reaches (scripts/seeds.ts
runs the two side by side over several seeds).

The architectures and losses are the benchmark's twins (scripts/bench_torch.py:
001's LeNet-5 with softmax cross-entropy, 003's sigmoid LeNets with Keras'
cross-entropy on probabilities). The weights start as Keras and TensorFlow.js
start them (Glorot-uniform kernels, zero biases), not with PyTorch's default.
Images are scaled to [0, 1] as the notebooks scale them. Every epoch visits
the training images in a new random order; with --patience, the test loss is
computed after each epoch and training stops as Keras' EarlyStopping stops it
(monitor val_loss, min_delta 0, the final weights kept). One thread.

Usage:
  CNN_DATA_MIRROR=../shared/datasets python3 scripts/torch_twins.py \\
      --model lenet5 --optimizer sgd --lr 0.01 --batch 32 --epochs 80 \\
      --patience 5 [--limit N] 1 2 3

Each positional argument is a seed; one JSON line per seed: seed, accuracy
(0..1), epochs (trained), seconds.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import MODELS, OPTIMIZERS  # noqa: E402

# The dataset each twin trains on: its folder in the mirror.
DATASETS = {
    "lenet5": "mnist",
    "fashion-lenet-small": "fashion-mnist",
    "fashion-lenet-large": "fashion-mnist",
}


def keras_init(model: nn.Module) -> None:
    """Glorot-uniform kernels and zero biases, as Keras' Conv2D and Dense."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def load(folder: str, split: str, limit: int | None):
    prefix = "train" if split == "train" else "t10k"

    def idx(name: str, offset: int) -> np.ndarray:
        with gzip.open(os.path.join(folder, name)) as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)

    x = idx(f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    y = idx(f"{prefix}-labels-idx1-ubyte.gz", 8)
    if limit:
        x, y = x[:limit], y[:limit]
    return (torch.tensor(x, dtype=torch.float32) / 255.0,
            torch.tensor(y, dtype=torch.long))


def mean_loss(model, loss_fn, x, y, batch=1000) -> float:
    with torch.no_grad():
        total = 0.0
        for i in range(0, len(x), batch):
            total += loss_fn(model(x[i:i + batch]), y[i:i + batch]).item() * \
                len(x[i:i + batch])
    return total / len(x)


def accuracy(model, x, y, batch=1000) -> float:
    with torch.no_grad():
        right = 0
        for i in range(0, len(x), batch):
            right += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum()
    return int(right) / len(x)


def train_one(args, seed, data) -> dict:
    (xtr, ytr), (xte, yte) = data
    torch.manual_seed(seed)
    build, _shape, loss_fn = MODELS[args.model]
    model = build()
    keras_init(model)
    opt = OPTIMIZERS[args.optimizer](model.parameters(), lr=args.lr)
    best, wait, trained = float("inf"), 0, 0
    start = time.time()
    for _ in range(args.epochs):
        model.train()
        order = torch.randperm(len(xtr))
        for i in range(0, len(xtr), args.batch):
            b = order[i:i + args.batch]
            opt.zero_grad()
            loss_fn(model(xtr[b]), ytr[b]).backward()
            opt.step()
        trained += 1
        if args.patience:
            model.eval()
            val = mean_loss(model, loss_fn, xte, yte)
            if val < best:
                best, wait = val, 0
            else:
                wait += 1
                if wait >= args.patience:
                    break
    model.eval()
    return {"seed": seed, "accuracy": accuracy(model, xte, yte),
            "epochs": trained, "seconds": round(time.time() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=sorted(DATASETS), required=True)
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS),
                        required=True)
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--patience", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first N images (tests: all)")
    parser.add_argument("--test-limit", type=int, default=None)
    parser.add_argument("seeds", type=int, nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)
    mirror = os.environ.get("CNN_DATA_MIRROR", "../shared/datasets")
    folder = os.path.join(mirror, DATASETS[args.model])
    data = (load(folder, "train", args.limit),
            load(folder, "test", args.test_limit))
    for seed in args.seeds:
        print(json.dumps(train_one(args, seed, data)), flush=True)


if __name__ == "__main__":
    main()
