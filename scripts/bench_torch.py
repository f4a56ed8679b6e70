"""PyTorch reference for `deno task bench`: trains and runs the same models
(LeNet-5 of seed 001, the CIFAR-10 CNN of seed 004, MobileNet of seed 000) on random data and prints
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


def mobilenet() -> nn.Module:
    """Keras' MobileNet v1 (alpha 1, 1 input channel) as seed 000 builds it,
    with its head: global average pooling, dense 1024 ReLU, dense 10."""
    def bn(c: int) -> nn.Module:
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    def same_or_keras_pad(stride: int) -> nn.Module:
        # Keras pads stride-2 layers by (0, 1) on each spatial axis.
        return nn.ZeroPad2d((0, 1, 0, 1)) if stride == 2 else nn.Identity()

    layers = [same_or_keras_pad(2), nn.Conv2d(1, 32, 3, 2, bias=False),
              bn(32), nn.ReLU6()]
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
              (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2),
              (1024, 1)]
    c = 32
    for filters, stride in blocks:
        layers += [same_or_keras_pad(stride),
                   nn.Conv2d(c, c, 3, stride, padding=1 if stride == 1 else 0,
                             groups=c, bias=False),
                   bn(c), nn.ReLU6(),
                   nn.Conv2d(c, filters, 1, bias=False), bn(filters),
                   nn.ReLU6()]
        c = filters
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 1024),
               nn.ReLU(), nn.Linear(1024, 10)]
    return nn.Sequential(*layers)


# model: (builder, input shape, batch size, optimizer, learning rate), as the
# tutorials train them.
MODELS = {
    "lenet5": (lenet5, (1, 28, 28), 64, torch.optim.Adam, 1e-3),
    "cifar-cnn": (cifar_cnn, (3, 32, 32), 32, torch.optim.Adamax, 5e-3),
    "mobilenet": (mobilenet, (1, 32, 32), 8, torch.optim.Adam, 1e-3),
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
    build, shape, batch, optimizer_class, lr = MODELS[args.model]
    device = torch.device(args.device)
    model = build().to(device)
    params = sum(p.numel() for p in model.parameters())
    optimizer = optimizer_class(model.parameters(), lr=lr)
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
