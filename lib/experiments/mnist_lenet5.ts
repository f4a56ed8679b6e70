/**
 * Seed 001: LeNet-5 on MNIST as a Keras model class, optionally with the
 * tutorial's hand-written convolution layer (`SimpleConv2D`), trained with
 * SGD (lr 0.01, batch 32, up to 80 epochs) and early stopping on the test
 * loss (patience 5), with a per-epoch log.
 *
 * @example
 * ```ts ignore
 * import { loadMnistData } from "./mnist_lenet5.ts";
 * const data = await loadMnistData("smoke");
 * console.log(data.description);
 * ```
 *
 * @module
 */
import { dataLimits, type ExperimentData, loadExperimentData } from "./data.ts";
import type { Scale } from "./scale.ts";

/** Id of this experiment in reports. */
export const MNIST_LENET5_ID = "001-mnist-lenet5";

/** Options of {@linkcode loadMnistData}. */
export interface LoadMnistDataOptions {
  /** Data cache folder. Default: the data layer's. */
  dataDir?: string;
  /** Local dataset mirror (`runConfigFromEnv().data.mirror`). Default: none. */
  mirror?: string | null;
  /** Never use the network. Default: false. */
  offline?: boolean;
  /** Model the data is for (decides the smoke limits). Default: "lenet5". */
  model?: string;
}

/**
 * MNIST's training and test splits (all of them at full scale, the first few
 * hundred at smoke scale).
 *
 * @example
 * ```ts ignore
 * import { loadMnistData } from "./mnist_lenet5.ts";
 * const data = await loadMnistData("smoke");
 * console.log(data.train.count, data.tests.test.count); // 4000 1000
 * ```
 */
export async function loadMnistData(
  scale: Scale,
  options: LoadMnistDataOptions = {},
): Promise<ExperimentData> {
  return await loadExperimentData("mnist", {
    ...dataLimits([options.model ?? "lenet5"], scale),
    dataDir: options.dataDir,
    mirror: options.mirror,
    offline: options.offline,
  });
}
