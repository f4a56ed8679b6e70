/**
 * The five tutorial experiments as one registry: id, tutorial number,
 * notebook and title, so scripts can run their notebooks (or some) by id.
 *
 * @example
 * ```ts
 * import { EXPERIMENTS, findExperiment } from "./experiments.ts";
 * console.log(EXPERIMENTS.map((e) => e.id));
 * console.log(findExperiment("002").notebook);
 * ```
 *
 * @module
 */
import { CIFAR_ID } from "./cifar10_cnn.ts";
import { FASHION_ID } from "./fashion_mnist_variants.ts";
import { KANNADA_ID } from "./kannada_mnist.ts";
import { MNIST_LENET5_ID } from "./mnist_lenet5.ts";
import { PYTORCH_STYLE_ID } from "./mnist_lenet_pytorch_style.ts";

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
}

/** The five experiments, in the tutorials' order. */
export const EXPERIMENTS: readonly ExperimentInfo[] = [
  {
    id: KANNADA_ID,
    tutorial: "000",
    notebook: "notebooks/000_kannada_mnist.ipynb",
    title: "Kannada-MNIST: LeNet, custom CNN and MobileNet",
  },
  {
    id: MNIST_LENET5_ID,
    tutorial: "001",
    notebook: "notebooks/001_mnist_lenet5.ipynb",
    title:
      "MNIST: LeNet-5 class with a hand-written conv layer, SGD, early stopping",
  },
  {
    id: PYTORCH_STYLE_ID,
    tutorial: "002",
    notebook: "notebooks/002_lenet_pytorch_style.ipynb",
    title: "MNIST: PyTorch-style LeNet on 32x32, Adam, save/load, image files",
  },
  {
    id: FASHION_ID,
    tutorial: "003",
    notebook: "notebooks/003_fashion_mnist_variants.ipynb",
    title:
      "Fashion-MNIST: LeNet variants, hand-written loop, speed/accuracy/size",
  },
  {
    id: CIFAR_ID,
    tutorial: "004",
    notebook: "notebooks/004_cifar10_cnn.ipynb",
    title: "CIFAR-10: CNN, Adamax with decay, checkpoints, stimuli",
  },
];

/**
 * The experiment with id `id` (or its tutorial number, "000".."004").
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { findExperiment } from "./experiments.ts";
 * assert.equal(findExperiment("004").id, "004-cifar10-cnn");
 * ```
 */
export function findExperiment(id: string): ExperimentInfo {
  const info = EXPERIMENTS.find((e) => e.id === id || e.tutorial === id);
  if (!info) {
    throw new Error(
      `Unknown experiment "${id}". Known: ${
        EXPERIMENTS.map((e) => `${e.tutorial} (${e.id})`).join(", ")
      }.`,
    );
  }
  return info;
}
