/**
 * The published reference figures each experiment is compared with, with
 * their sources, so every results table can print them next to ours.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { PUBLISHED } from "./published.ts";
 * assert.equal(PUBLISHED["mnist-lenet5"].text, "0.95% test error (99.05%)");
 * ```
 *
 * @module
 */

/** One published figure: a test accuracy (or a range) and where it comes from. */
export interface PublishedFigure {
  /** Key in {@linkcode PUBLISHED}. */
  key: string;
  /** Dataset and split the figure is about, e.g. "mnist test". */
  about: string;
  /** Accuracy in 0..1 (the middle of a range), or null when there is none. */
  accuracy: number | null;
  /** Lower and upper end when the source gives a range. */
  range?: readonly [number, number];
  /** The figure as the source states it. */
  text: string;
  /** Who published it. */
  source: string;
}

/** The published figures the issue asks every results table to show. */
export const PUBLISHED: Readonly<Record<string, PublishedFigure>> = {
  "mnist-lenet5": {
    key: "mnist-lenet5",
    about: "mnist test",
    accuracy: 0.9905,
    text: "0.95% test error (99.05%)",
    source:
      "LeCun et al. 1998, Gradient-based learning applied to document recognition (LeNet-5)",
  },
  "kannada-test": {
    key: "kannada-test",
    about: "kannada-mnist test",
    accuracy: 0.968,
    text: "96.8% test accuracy",
    source: "Prabhu 2019, Kannada-MNIST (arXiv:1908.01242), CNN baseline",
  },
  "kannada-dig": {
    key: "kannada-dig",
    about: "kannada-mnist dig",
    accuracy: 0.761,
    text: "76.1% Dig-MNIST accuracy",
    source: "Prabhu 2019, Kannada-MNIST (arXiv:1908.01242), CNN baseline",
  },
  "cifar10-keras-cnn": {
    key: "cifar10-keras-cnn",
    about: "cifar10 test",
    accuracy: 0.75,
    text: "about 75% after 25 epochs",
    source: "Keras example cifar10_cnn.py",
  },
  "fashion-2conv": {
    key: "fashion-2conv",
    about: "fashion-mnist test",
    accuracy: 0.896,
    range: [0.876, 0.916],
    text: "87.6-91.6% (2-conv CNNs)",
    source: "Fashion-MNIST benchmark (zalandoresearch/fashion-mnist README)",
  },
};

/**
 * The published figure to print next to a result on `dataset`/`split`, or
 * undefined when there is none.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { publishedFor } from "./published.ts";
 * assert.equal(publishedFor("kannada-mnist", "dig")?.text, "76.1% Dig-MNIST accuracy");
 * ```
 */
export function publishedFor(
  dataset: string,
  split: string,
): PublishedFigure | undefined {
  if (split !== "test" && split !== "dig") return undefined;
  switch (dataset) {
    case "mnist":
      return split === "test" ? PUBLISHED["mnist-lenet5"] : undefined;
    case "kannada-mnist":
      return split === "test"
        ? PUBLISHED["kannada-test"]
        : PUBLISHED["kannada-dig"];
    case "cifar10":
      return split === "test" ? PUBLISHED["cifar10-keras-cnn"] : undefined;
    case "fashion-mnist":
      return split === "test" ? PUBLISHED["fashion-2conv"] : undefined;
    default:
      return undefined;
  }
}
