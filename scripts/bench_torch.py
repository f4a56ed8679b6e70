"""PyTorch twins for `deno task bench`: the models the notebooks train, built
as in PyTorch (same layers, shapes, activations and output), trained on
random data with the recipe the bench passes (optimizer, learning rate,
batch size), one JSON line per thread setting:
{"model", "engine", "threads", "train_samples_per_s", "infer_samples_per_s",
"params", "torch_version", "cpu_capability"}. Warm-up batches are excluded
from timing; each training step reads its loss (`loss.item()`), as the
notebooks' loops and Keras' fit do.

Usage: /usr/bin/python3 scripts/bench_torch.py --model lenet5 --samples 1920 \
    --batch 32 --optimizer sgd --lr 0.01 --threads 1,2
"""

import argparse
import json
import os
import time

import torch
from torch import nn


class ScaledTanh(nn.Module):
    """LeCun's squashing function A * tanh(S * x) (lenet5-1998)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class TrainableSubsampling(nn.Module):
    """Sum over 2x2 windows, times a per-map coefficient, plus a bias."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.coefficient = nn.Parameter(torch.full((channels,), 0.25))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sums = nn.functional.avg_pool2d(x, 2) * 4
        return sums * self.coefficient[:, None, None] + \
            self.bias[:, None, None]


C3_TABLE = [
    [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
    [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5],
    [0, 1, 2, 5], [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5],
    [0, 1, 2, 3, 4, 5],
]


class PartialConv2d(nn.Module):
    """C3: a 6 -> 16 5x5 convolution whose kernel is scattered from the 60
    connected (input, output) pairs of the paper's table, as the project's
    PartialConv2D does (product with a scatter matrix, then conv2d)."""

    def __init__(self) -> None:
        super().__init__()
        pairs = [(i, o) for o, ins in enumerate(C3_TABLE) for i in ins]
        self.kernel = nn.Parameter(torch.randn(len(pairs), 25) * 0.1)
        scatter = torch.zeros(16 * 6, len(pairs))
        for row, (i, o) in enumerate(pairs):
            scatter[o * 6 + i, row] = 1
        self.register_buffer("scatter", scatter)
        self.bias = nn.Parameter(torch.zeros(16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        full = (self.scatter @ self.kernel).view(16, 6, 5, 5)
        return nn.functional.conv2d(x, full, self.bias)


class EuclideanRBF(nn.Module):
    """Scores = minus squared distances to fixed +-1 prototypes."""

    def __init__(self, dim: int, units: int) -> None:
        super().__init__()
        self.register_buffer(
            "prototypes", torch.randint(0, 2, (units, dim)).float() * 2 - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        diff = x[:, None, :] - self.prototypes[None, :, :]
        return -(diff * diff).sum(-1)


def lenet() -> nn.Module:
    """000's sequential LeNet: sigmoid everywhere, sigmoid outputs."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Sigmoid(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10), nn.Sigmoid(),
    )


def kannada_cnn() -> nn.Module:
    """000's custom CNN: 'same' convs 32-32 (5x5), 64-64 (3x3), dropout."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(),
        nn.Conv2d(32, 32, 5, padding=2), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(3136, 256), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(256, 10),
    )


def lenet5() -> nn.Module:
    """001's Keras LeNet-5: ReLU, 'same' first conv, softmax (in the loss)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def lenet5_32() -> nn.Module:
    """002's PyTorch LeNet on 32x32: no ReLU after conv2, log-softmax."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10), nn.LogSoftmax(-1),
    )


def lenet5_1998() -> nn.Module:
    """LeNet-5 as in the 1998 paper (scaled tanh, trainable subsampling,
    the C3 table, C5 conv, F6 84, RBF scores)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), ScaledTanh(),
        TrainableSubsampling(6), ScaledTanh(),
        PartialConv2d(), ScaledTanh(),
        TrainableSubsampling(16), ScaledTanh(),
        nn.Conv2d(16, 120, 5), ScaledTanh(),
        nn.Flatten(),
        nn.Linear(120, 84), ScaledTanh(),
        EuclideanRBF(84, 10),
    )


def fashion_lenet(filters: tuple, dense: int) -> nn.Module:
    """003's LeNets: 'valid' 5x5 convs, max-pool, all sigmoid."""
    return nn.Sequential(
        nn.Conv2d(1, filters[0], 5), nn.Sigmoid(), nn.MaxPool2d(2),
        nn.Conv2d(filters[0], filters[1], 5), nn.Sigmoid(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * filters[1], dense), nn.Sigmoid(),
        nn.Linear(dense, 10), nn.Sigmoid(),
    )


def cifar_cnn() -> nn.Module:
    """004's CIFAR-10 CNN: LeakyReLU 0.1, dropout, softmax (in the loss)
    after a LeakyReLU, as the tutorial's last layer has one."""
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


def _probabilities_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Keras' cross-entropy on sigmoid outputs: normalise by the sum, clip,
    minus the log of the true class (000's LeNet, 003's LeNets)."""
    p = (out / out.sum(-1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
    return -torch.log(p.gather(1, y[:, None])).mean()


# model: (builder, input [C, H, W], loss). "logits": the model ends before
# its softmax, which the cross-entropy applies (Keras' softmax + CE).
MODELS = {
    "lenet": (lenet, (1, 28, 28), _probabilities_loss),
    "kannada-cnn": (kannada_cnn, (1, 28, 28), nn.CrossEntropyLoss()),
    "mobilenet": (mobilenet, (1, 32, 32), nn.CrossEntropyLoss()),
    "lenet5": (lenet5, (1, 28, 28), nn.CrossEntropyLoss()),
    "lenet5-32": (lenet5_32, (1, 32, 32), nn.NLLLoss()),
    "lenet5-1998": (lenet5_1998, (1, 32, 32), nn.CrossEntropyLoss()),
    "fashion-lenet-large": (lambda: fashion_lenet((32, 64), 512), (1, 28, 28),
                            _probabilities_loss),
    "fashion-lenet-small": (lambda: fashion_lenet((6, 16), 128), (1, 28, 28),
                            _probabilities_loss),
    "cifar-cnn": (cifar_cnn, (3, 32, 32), nn.CrossEntropyLoss()),
}

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamax": torch.optim.Adamax,
    "sgd": torch.optim.SGD,
}


def measure(args: argparse.Namespace, threads: int) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    build, shape, loss_fn = MODELS[args.model]
    device = torch.device(args.device)
    model = build().to(device)
    params = sum(p.numel() for p in model.parameters())
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), lr=args.lr)
    batch = args.batch
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
            loss.item()
        sync()

    # Warm-up, not timed: the warm-up batches, again until --warm-seconds
    # have passed (the bench gives every engine the same warm-up).
    warm_start = time.perf_counter()
    while True:
        train_steps(min(args.warm, steps))
        if time.perf_counter() - warm_start >= args.warm_seconds:
            break
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
            model(xs[i:i + infer_batch]).argmax(1).cpu()
        sync()
        infer_s = time.perf_counter() - start
    capability = getattr(torch.backends, "cpu", None)
    return {
        "model": args.model,
        "engine": "pytorch",
        "device": args.device,
        "threads": threads,
        "torch_version": torch.__version__,
        "cpu_capability": capability.get_cpu_capability()
        if capability else None,
        "params": params,
        "train_samples_per_s": steps * batch / train_s,
        "infer_samples_per_s": steps * batch / infer_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=sorted(MODELS), default="lenet5")
    parser.add_argument("--samples", type=int, default=1920)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS),
                        default="adam")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warm", type=int, default=10,
                        help="training batches run before timing")
    parser.add_argument("--warm-seconds", type=float, default=0,
                        help="repeat the warm-up batches for at least this "
                        "long")
    parser.add_argument("--threads", default=str(os.cpu_count() or 1),
                        help="thread counts to measure, comma-separated")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--params", action="store_true",
                        help="print every twin's trainable parameter count "
                        "as one JSON object and exit")
    args = parser.parse_args()
    if args.params:
        print(json.dumps({
            name: sum(p.numel() for p in build().parameters())
            for name, (build, _, _) in MODELS.items()
        }))
        return
    for threads in [int(t) for t in args.threads.split(",")]:
        print(json.dumps(measure(args, threads)), flush=True)


if __name__ == "__main__":
    main()
