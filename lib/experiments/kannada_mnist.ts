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
 * ```ts
 * import { KANNADA_MODELS, loadKannadaData } from "./kannada_mnist.ts";
 * const data = await loadKannadaData("smoke");
 * console.log(KANNADA_MODELS, data.description);
 * ```
 *
 * @module
 */
import { type ConfusedPair, mostConfused } from "../eval/mod.ts";
import type { TrainCallback } from "../train/mod.ts";
import { dataLimits, type ExperimentData, loadExperimentData } from "./data.ts";
import {
  evaluateOnSplits,
  type SplitEvaluation,
  type TrainedModel,
} from "./evaluate.ts";
import { trainModel } from "./train_model.ts";
import type { Scale } from "./scale.ts";
import type { TrainSettings } from "./settings.ts";

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
  /** Local dataset mirror. Default: env `CNN_DATA_MIRROR`. */
  mirror?: string | null;
  /** Models the data is for (decides the smoke limits). Default: {@linkcode KANNADA_MODELS}. */
  models?: readonly string[];
}

/**
 * Kannada-MNIST's training split and its two test splits, "test" and "dig".
 * Where the training images cannot be had offline it trains on part of the
 * official test split (see the module doc); `description` says so.
 *
 * @example
 * ```ts
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
  });
}

/** Options of {@linkcode trainKannadaModel}. */
export interface TrainKannadaModelOptions {
  /** Scale of the settings. Default: "smoke". */
  scale?: Scale;
  /** Settings to override (e.g. `{ epochs: 1 }`). Default: none. */
  overrides?: Partial<TrainSettings>;
  /** Show progress (a bar in a terminal, a live chart in Jupyter). Default: false. */
  progress?: boolean;
  /** Extra callbacks. Default: none. */
  callbacks?: TrainCallback[];
}

/**
 * Trains one of seed 000's models ("lenet", "kannada-cnn", "mobilenet") as the
 * tutorial does: Adam, sparse cross-entropy, 5 epochs with 10% validation
 * (LeNet, CNN) or 10 epochs, batch 8, images resized to 32x32 (MobileNet).
 *
 * @example
 * ```ts
 * import { loadKannadaData, trainKannadaModel } from "./kannada_mnist.ts";
 * const data = await loadKannadaData("smoke");
 * const lenet = await trainKannadaModel("lenet", data, { scale: "smoke" });
 * console.log(lenet.trainSeconds);
 * ```
 */
export async function trainKannadaModel(
  name: string,
  data: ExperimentData,
  options: TrainKannadaModelOptions = {},
): Promise<TrainedModel> {
  if (!KANNADA_MODELS.includes(name)) {
    throw new Error(
      `"${name}" is not one of seed 000's models (${
        KANNADA_MODELS.join(", ")
      }).`,
    );
  }
  return await trainModel(name, data, options);
}

/**
 * Accuracy and confusion matrix of a trained model on the Kannada test split
 * and on Dig-MNIST.
 *
 * @example
 * ```ts
 * import { evaluateKannadaModel, loadKannadaData, trainKannadaModel } from "./kannada_mnist.ts";
 * const data = await loadKannadaData("smoke");
 * const trained = await trainKannadaModel("lenet", data);
 * for (const e of evaluateKannadaModel(trained, data)) console.log(e.split, e.accuracy);
 * ```
 */
export function evaluateKannadaModel(
  trained: TrainedModel,
  data: ExperimentData,
): SplitEvaluation[] {
  return evaluateOnSplits(trained, data);
}

/**
 * The most confused (true, predicted) pairs of an evaluation, as the tutorial
 * reads off its Dig-MNIST matrix ("20.3% of the 0s are taken for 9s").
 *
 * @example
 * ```ts
 * import { kannadaConfusions } from "./kannada_mnist.ts";
 * // const pairs = kannadaConfusions(evaluations.find((e) => e.split === "dig")!);
 * ```
 */
export function kannadaConfusions(
  evaluation: SplitEvaluation,
  top = 3,
): ConfusedPair[] {
  return mostConfused(evaluation.confusion, { top });
}
