/**
 * Seed 003: LeNet variants on Fashion-MNIST trained with the hand-written
 * GradientTape-style loop (Adam, batch 100, running-mean metrics), and the
 * comparison it draws: bigger layers fit better but train slower. Variants:
 * the tutorial's large (32/64 filters, dense 512) and small (6/16, dense 128)
 * networks, each in its 'valid' (Sequential) and 'same' (model class) form.
 *
 * @example
 * ```ts ignore
 * import { loadFashionData } from "./fashion_mnist_variants.ts";
 * const data = await loadFashionData("smoke");
 * console.log(data.train.classNames, data.description);
 * ```
 *
 * @module
 */
import { dataLimits, type ExperimentData, loadExperimentData } from "./data.ts";
import type { Scale } from "./scale.ts";

/** Id of this experiment in reports. */
export const FASHION_ID = "003-fashion-mnist-variants";

/** Options of {@linkcode loadFashionData}. */
export interface LoadFashionDataOptions {
  /** Data cache folder. Default: the data layer's. */
  dataDir?: string;
  /** Local dataset mirror (`runConfigFromEnv().data.mirror`). Default: none. */
  mirror?: string | null;
  /** Never use the network. Default: false. */
  offline?: boolean;
}

/**
 * Fashion-MNIST's training and test splits (subsets at smoke scale).
 *
 * @example
 * ```ts ignore
 * import { loadFashionData } from "./fashion_mnist_variants.ts";
 * const data = await loadFashionData("smoke");
 * console.log(data.train.classNames); // ["T-shirt/top", "Trouser", ...]
 * ```
 */
export async function loadFashionData(
  scale: Scale,
  options: LoadFashionDataOptions = {},
): Promise<ExperimentData> {
  return await loadExperimentData("fashion-mnist", {
    ...dataLimits(["fashion-lenet-large", "fashion-lenet-small"], scale),
    dataDir: options.dataDir,
    mirror: options.mirror,
    offline: options.offline,
  });
}
