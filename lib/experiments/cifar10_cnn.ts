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
 * ```ts ignore
 * import { loadCifarData } from "./cifar10_cnn.ts";
 * const data = await loadCifarData("smoke");
 * console.log(data.description, data.substitute);
 * ```
 *
 * @module
 */
import type * as tf from "../tf.ts";
import { type FilterStimuli, filterStimuli } from "../plot/mod.ts";
import { dataLimits, type ExperimentData, loadExperimentData } from "./data.ts";
import type { Scale } from "./scale.ts";

/** Id of this experiment in reports. */
export const CIFAR_ID = "004-cifar10-cnn";

/** Options of {@linkcode loadCifarData}. */
export interface LoadCifarDataOptions {
  /** Data cache folder. Default: the data layer's. */
  dataDir?: string;
  /** Local dataset mirror (`runConfigFromEnv().data.mirror`). Default: none. */
  mirror?: string | null;
  /** Never use the network. Default: false. */
  offline?: boolean;
}

/**
 * CIFAR-10's training and test splits: the official archive when it can be
 * had, else the mirror's `cifar10-subset` (4,000 training and 1,000 test
 * images), labelled as a substitute.
 *
 * @example
 * ```ts ignore
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
    offline: options.offline,
  });
}

/** Options of {@linkcode cifarStimuli}. */
export interface CifarStimuliOptions {
  /**
   * Layer to visualise: the activation after a convolution, as seed 004
   * does. Default: "leaky_re_lu_1" (after the first convolution).
   */
  layer?: string;
  /** Stimuli to find per layer. Default: 16 (seed 004's 2x8 grid). */
  count?: number;
  /** Gradient-ascent steps. Default: 20 (seed 004). */
  iterations?: number;
  /** Seed of the starting noise (filter f uses seed + f). Default: 0. */
  seed?: number;
}

/**
 * Seed 004's maximum-stimulus search on one conv layer's activation: noise
 * x0.1 start, mean activation of a filter, gradient over its L2 norm, step 1,
 * 20 iterations, filters whose loss stays at or below 0 skipped (and
 * listed). Notebook 004 writes the same search in its cells; a test keeps
 * them equal.
 *
 * @example
 * ```ts
 * import { cifarStimuli } from "./cifar10_cnn.ts";
 * // const { stimuli, skipped } = await cifarStimuli(trained.model, { layer: "leaky_re_lu_2" });
 * ```
 */
export async function cifarStimuli(
  model: tf.LayersModel,
  options: CifarStimuliOptions = {},
): Promise<FilterStimuli> {
  return await filterStimuli(model, {
    layer: options.layer ?? "leaky_re_lu_1",
    count: options.count ?? 16,
    iterations: options.iterations ?? 20,
    step: 1,
    noise: 0.1,
    seed: options.seed ?? 0,
  });
}

/**
 * Names of the layers seed 004 visualises: each LeakyReLU that directly
 * follows a convolution (its `conv_activation_layers`).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildCifarCnn } from "../models/mod.ts";
 * import { cifarStimulusLayers } from "./cifar10_cnn.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const layers = cifarStimulusLayers(buildCifarCnn()); // ["leaky_re_lu_1", ..., "leaky_re_lu_4"]
 * assert.ok(layers.length > 0 && layers.every((name) => name.startsWith("leaky_re_lu")));
 * ```
 */
export function cifarStimulusLayers(model: tf.LayersModel): string[] {
  return model.layers
    .filter((layer, i) =>
      layer.getClassName() === "LeakyReLU" &&
      model.layers[i - 1]?.getClassName() === "Conv2D"
    )
    .map((layer) => layer.name);
}
