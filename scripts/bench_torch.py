"""PyTorch reference for `deno task bench`: trains and runs the same models
(LeNet-5 of seed 001, the CIFAR-10 CNN of seed 004) on random data and prints
one JSON line: {"model", "engine", "threads", "train_samples_per_s",
"infer_samples_per_s", "params"}. Warm-up batches are excluded from timing.

Usage: /usr/bin/python3 scripts/bench_torch.py --model lenet5 --samples 1920
"""

import argparse
import json
import os
import time

import torch
from torch import nn


def lenet5() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def cifar_cnn() -> nn.Module:
    lrelu = lambda: nn.LeakyReLU(0.1)  # noqa: E731
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), lrelu(),
        nn.Conv2d(16, 32, 3, padding=1), lrelu(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(32, 32, 3, padding=1), lrelu(),
        nn.Conv2d(32, 64, 3, padding=1), lrelu(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(4096, 256), lrelu(), nn.Dropout(0.5),
        nn.Linear(256, 10), lrelu(),
    )


MODELS = {
    "lenet5": (lenet5, (1, 28, 28), 64),
    "cifar-cnn": (cifar_cnn, (3, 32, 32), 32),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=sorted(MODELS), default="lenet5")
    parser.add_argument("--samples", type=int, default=1920)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    build, shape, batch = MODELS[args.model]
    device = torch.device(args.device)
    model = build().to(device)
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()  # softmax + cross-entropy, as Keras does
    steps = max(1, args.samples // batch)
    xs = torch.rand((steps * batch, *shape), device=device)
    ys = torch.randint(0, 10, (steps * batch,), device=device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    def train_steps(n: int) -> None:
        model.train()
        for i in range(n):
            x = xs[i * batch:(i + 1) * batch]
            y = ys[i * batch:(i + 1) * batch]
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        sync()

    train_steps(min(3, steps))  # warm-up, not timed
    start = time.perf_counter()
    train_steps(steps)
    train_s = time.perf_counter() - start

    model.eval()
    infer_batch = 256
    with torch.no_grad():
        model(xs[:infer_batch])
        sync()
        start = time.perf_counter()
        for i in range(0, steps * batch, infer_batch):
            model(xs[i:i + infer_batch]).argmax(1)
        sync()
        infer_s = time.perf_counter() - start
    print(json.dumps({
        "model": args.model,
        "engine": "pytorch",
        "device": args.device,
        "threads": args.threads,
        "torch_version": torch.__version__,
        "params": params,
        "train_samples_per_s": steps * batch / train_s,
        "infer_samples_per_s": steps * batch / infer_s,
    }))


if __name__ == "__main__":
    main()
