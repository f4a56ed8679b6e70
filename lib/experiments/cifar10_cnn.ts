/**
 * Seed 004: the CIFAR-10 CNN (conv 16-32-32-64, LeakyReLU 0.1, dropout,
 * 1,084,234 parameters) trained with Adamax (lr 5e-3, times 0.9 each
 * epoch, batch 32, 10 epochs) on one-hot targets with per-epoch checkpoints
 * and resume; a sample grid, the confusion matrix, a prediction grid with
 * scores, first-layer filters and maximum-stimulus images.
 *
 * The offline mirror holds a 4,000/1,000-image subset of CIFAR-10 (not the
 * official archive); the data description and every row say so.
 *
 * @example
 * ```ts
 * import { loadCifarData } from "./cifar10_cnn.ts";
 * const data = await loadCifarData("smoke");
 * console.log(data.description, data.substitute);
 * ```
 *
 * @module
 */
import { dataLimits, type ExperimentData, loadExperimentData } from "./data.ts";
import type { Scale } from "./scale.ts";

/** Id of this experiment in reports. */
export const CIFAR_ID = "004-cifar10-cnn";

/** Options of {@linkcode loadCifarData}. */
export interface LoadCifarDataOptions {
  /** Data cache folder. Default: the data layer's. */
  dataDir?: string;
  /** Local dataset mirror. Default: env `CNN_DATA_MIRROR`. */
  mirror?: string | null;
}

/**
 * CIFAR-10's training and test splits: the official archive when it can be
 * had, else the mirror's `cifar10-subset` (4,000 training and 1,000 test
 * images), labelled as a substitute.
 *
 * @example
 * ```ts
 * import { loadCifarData } from "./cifar10_cnn.ts";
 * const data = await loadCifarData("smoke");
 * console.log(data.description, data.substitute);
 * ```
 */
export async function loadCifarData(
  scale: Scale,
  options: LoadCifarDataOptions = {},
): Promise<ExperimentData> {
  return await loadExperimentData("cifar10", {
    ...dataLimits(["cifar-cnn"], scale),
    dataDir: options.dataDir,
    mirror: options.mirror,
  });
}
