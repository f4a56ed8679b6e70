/**
 * Seed 000: Kannada-MNIST with the sequential LeNet, the custom CNN and
 * MobileNet, each evaluated on the Kannada test set and on Dig-MNIST (digits
 * written by non-native writers), with confusion matrices for both.
 *
 * The offline mirror lacks the training images: {@linkcode loadKannadaData}
 * then trains on a seeded 70% of the official test split and tests on the
 * other 30%, and says so in its description and every result row.
 *
 * @example
 * ```ts ignore
 * import { KANNADA_MODELS, loadKannadaData } from "./kannada_mnist.ts";
 * const data = await loadKannadaData("smoke");
 * console.log(KANNADA_MODELS, data.description);
 * ```
 *
 * @module
 */
import { dataLimits, type ExperimentData, loadExperimentData } from "./data.ts";
import type { Scale } from "./scale.ts";

/** Id of this experiment in reports. */
export const KANNADA_ID = "000-kannada-mnist";

/** The models of seed 000, in the tutorial's order. */
export const KANNADA_MODELS: readonly string[] = [
  "lenet",
  "kannada-cnn",
  "mobilenet",
];

/** Options of {@linkcode loadKannadaData}. */
export interface LoadKannadaDataOptions {
  /** Data cache folder. Default: the data layer's. */
  dataDir?: string;
  /** Local dataset mirror (`runConfigFromEnv().data.mirror`). Default: none. */
  mirror?: string | null;
  /** Never use the network. Default: false. */
  offline?: boolean;
  /** Models the data is for (decides the smoke limits). Default: {@linkcode KANNADA_MODELS}. */
  models?: readonly string[];
}

/**
 * Kannada-MNIST's training split and its two test splits, "test" and "dig".
 * Where the training images cannot be had offline it trains on part of the
 * official test split (see the module doc); `description` says so.
 *
 * @example
 * ```ts ignore
 * import { loadKannadaData } from "./kannada_mnist.ts";
 * const data = await loadKannadaData("smoke");
 * console.log(data.description, data.substitute);
 * ```
 */
export async function loadKannadaData(
  scale: Scale,
  options: LoadKannadaDataOptions = {},
): Promise<ExperimentData> {
  return await loadExperimentData("kannada-mnist", {
    ...dataLimits(options.models ?? KANNADA_MODELS, scale),
    testSplits: ["test", "dig"],
    dataDir: options.dataDir,
    mirror: options.mirror,
    offline: options.offline,
  });
}
