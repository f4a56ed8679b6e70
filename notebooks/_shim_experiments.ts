export * from "../lib/experiments/pipeline.ts";
export * from "../lib/experiments/scale.ts";
export * from "../lib/experiments/results.ts";
export * from "../lib/experiments/published.ts";
export * from "../lib/experiments/settings.ts";
export * from "../lib/experiments/kannada_mnist.ts";
export * from "../lib/experiments/mnist_lenet5.ts";
export * from "../lib/experiments/mnist_lenet_pytorch_style.ts";
