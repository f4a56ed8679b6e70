/**
 * The five tutorial experiments as one registry, so scripts can run them all
 * (or some) by id.
 *
 * @example
 * ```ts
 * import { EXPERIMENTS, runExperiment } from "./experiments.ts";
 * console.log(EXPERIMENTS.map((e) => e.id));
 * const r = await runExperiment("001-mnist-lenet5", { scale: "smoke" });
 * ```
 *
 * @module
 */
import { CIFAR_ID, runCifar10Cnn } from "./cifar10_cnn.ts";
import {
  FASHION_ID,
  runFashionMnistVariants,
} from "./fashion_mnist_variants.ts";
import { KANNADA_ID, runKannadaMnist } from "./kannada_mnist.ts";
import { MNIST_LENET5_ID, runMnistLeNet5 } from "./mnist_lenet5.ts";
import {
  PYTORCH_STYLE_ID,
  runMnistLeNetPyTorchStyle,
} from "./mnist_lenet_pytorch_style.ts";
import type { ExperimentResult } from "./results.ts";
import type { RunExperimentOptions } from "./run.ts";

/** One experiment of the registry. */
export interface ExperimentInfo {
  /** Id, e.g. "000-kannada-mnist" (the tutorial's number first). */
  id: string;
  /** Tutorial file number in `../shared/seeds/` (not a random seed). */
  tutorial: string;
  /** Notebook that shows it step by step. */
  notebook: string;
  /** What it is. */
  title: string;
  /** Runs it end to end. */
  run: (options?: RunExperimentOptions) => Promise<ExperimentResult>;
}

/** The five experiments, in the tutorials' order. */
export const EXPERIMENTS: readonly ExperimentInfo[] = [
  {
    id: KANNADA_ID,
    tutorial: "000",
    notebook: "notebooks/000_kannada_mnist.ipynb",
    title: "Kannada-MNIST: LeNet, custom CNN and MobileNet",
    run: runKannadaMnist,
  },
  {
    id: MNIST_LENET5_ID,
    tutorial: "001",
    notebook: "notebooks/001_mnist_lenet5.ipynb",
    title:
      "MNIST: LeNet-5 class with a hand-written conv layer, SGD, early stopping",
    run: runMnistLeNet5,
  },
  {
    id: PYTORCH_STYLE_ID,
    tutorial: "002",
    notebook: "notebooks/002_lenet_pytorch_style.ipynb",
    title: "MNIST: PyTorch-style LeNet on 32x32, Adam, save/load, image files",
    run: runMnistLeNetPyTorchStyle,
  },
  {
    id: FASHION_ID,
    tutorial: "003",
    notebook: "notebooks/003_fashion_mnist_variants.ipynb",
    title:
      "Fashion-MNIST: LeNet variants, hand-written loop, speed/accuracy/size",
    run: runFashionMnistVariants,
  },
  {
    id: CIFAR_ID,
    tutorial: "004",
    notebook: "notebooks/004_cifar10_cnn.ipynb",
    title: "CIFAR-10: CNN, Adamax with decay, checkpoints, stimuli",
    run: runCifar10Cnn,
  },
];

/**
 * Runs the experiment with id `id` (or its seed number, "000".."004").
 *
 * @example
 * ```ts
 * import { runExperiment } from "./experiments.ts";
 * const r = await runExperiment("002", { scale: "smoke" });
 * console.log(r.title, r.seconds);
 * ```
 */
export async function runExperiment(
  id: string,
  options: RunExperimentOptions = {},
): Promise<ExperimentResult> {
  const info = EXPERIMENTS.find((e) => e.id === id || e.tutorial === id);
  if (!info) {
    throw new Error(
      `Unknown experiment "${id}". Known: ${
        EXPERIMENTS.map((e) => e.id).join(", ")
      } ` +
        "(or their numbers 000..004).",
    );
  }
  return await info.run(options);
}
