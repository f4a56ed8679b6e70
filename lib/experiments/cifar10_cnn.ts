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
 * import { runCifar10Cnn } from "./cifar10_cnn.ts";
 * const result = await runCifar10Cnn({ scale: "smoke", outDir: "out/004" });
 * console.log(result.rows[0].accuracy, result.notes);
 * ```
 *
 * @module
 */
import { join } from "node:path";
import type * as tf from "../tf.ts";
import type { Figure } from "../plot/mod.ts";
import { filterGrid, imageGrid } from "../plot/mod.ts";
import { maxStimulus, type Stimulus, stimulusGrid } from "../plot/mod.ts";
import type { TrainCallback } from "../train/mod.ts";
import {
  type ExperimentData,
  loadExperimentData,
  type SplitEvaluation,
  type TrainedModel,
  trainModel,
} from "./pipeline.ts";
import type { ExperimentResult } from "./results.ts";
import { dataLimits, type RunExperimentOptions, runModels } from "./run.ts";
import type { Scale } from "./scale.ts";
import type { TrainSettings } from "./settings.ts";

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

/** Options of {@linkcode trainCifarCnn}. */
export interface TrainCifarCnnOptions {
  /** Scale of the settings. Default: "smoke". */
  scale?: Scale;
  /** Settings to override. Default: none. */
  overrides?: Partial<TrainSettings>;
  /**
   * Folder of per-epoch checkpoints; training resumes from the newest one
   * there (seed 004's `last_finished_epoch`). Default: none.
   */
  checkpointDir?: string;
  /** Show progress. Default: false. */
  progress?: boolean;
  /** Extra callbacks. Default: none. */
  callbacks?: TrainCallback[];
}

/**
 * Trains seed 004's CNN: Adamax with `lr0 * 0.9^epoch`, categorical
 * cross-entropy on one-hot targets, the test split as validation data,
 * checkpoints after every epoch and resume from the newest.
 *
 * @example
 * ```ts
 * import { loadCifarData, trainCifarCnn } from "./cifar10_cnn.ts";
 * const data = await loadCifarData("smoke");
 * const trained = await trainCifarCnn(data, { checkpointDir: "/tmp/cifar-ckpt" });
 * console.log(trained.history.map((r) => r.lr)); // [0.005]
 * ```
 */
export async function trainCifarCnn(
  data: ExperimentData,
  options: TrainCifarCnnOptions = {},
): Promise<TrainedModel> {
  return await trainModel("cifar-cnn", data, options);
}

/** Options of {@linkcode cifarStimuli}. */
export interface CifarStimuliOptions {
  /** Conv layer to visualise. Default: "conv2d_1" (the first). */
  layer?: string;
  /** Filters to visualise. Default: the first 16 (8 at smoke scale). */
  units?: readonly number[];
  /** Gradient-ascent steps. Default: 20 (seed 004). */
  iterations?: number;
}

/**
 * Maximum-stimulus images of a conv layer's filters, found by gradient ascent
 * on the input with a normalised gradient (seed 004's `find_maximum_stimuli`).
 *
 * @example
 * ```ts
 * import { cifarStimuli } from "./cifar10_cnn.ts";
 * // const stimuli = await cifarStimuli(trained.model, { layer: "conv2d_2", units: [0, 1, 2] });
 * ```
 */
export function cifarStimuli(
  model: tf.LayersModel,
  options: CifarStimuliOptions = {},
): Promise<Stimulus[]> {
  return maxStimulus(model, {
    layer: options.layer ?? "conv2d_1",
    units: options.units ?? Array.from({ length: 16 }, (_, i) => i),
    iterations: options.iterations ?? 20,
  });
}

/**
 * Indices of `count` test images spread over the split (first of each stride),
 * for the sample and prediction grids; deterministic.
 *
 * @example
 * ```ts
 * import { sampleIndices } from "./cifar10_cnn.ts";
 * console.log(sampleIndices(1000, 4)); // [0, 250, 500, 750]
 * ```
 */
export function sampleIndices(total: number, count: number): number[] {
  const n = Math.min(total, count);
  return Array.from({ length: n }, (_, i) => Math.floor((i * total) / n));
}

/**
 * The prediction grid of seed 004: images titled with prediction, score and
 * truth (green when right, red when wrong).
 *
 * @example
 * ```ts
 * import { cifarPredictionGrid } from "./cifar10_cnn.ts";
 * // const fig = cifarPredictionGrid(data, evaluations[0]);
 * ```
 */
export function cifarPredictionGrid(
  data: ExperimentData,
  evaluation: SplitEvaluation,
  count = 16,
): Figure {
  const split = data.tests[evaluation.split];
  return imageGrid({
    images: split.images,
    count: evaluation.count,
    height: split.height,
    width: split.width,
    channels: split.channels,
  }, {
    indices: sampleIndices(evaluation.count, count),
    trueLabels: evaluation.labels,
    predictedLabels: evaluation.predictions,
    scores: evaluation.scores,
    classNames: split.classNames,
    title: "Test predictions (pred / score / true)",
  });
}

/**
 * Runs seed 004 end to end: sample grid, training with checkpoints under
 * `outDir` (resumed if present), confusion matrix, prediction grid,
 * first-layer filters and maximum-stimulus images.
 *
 * @example
 * ```ts
 * import { runCifar10Cnn } from "./cifar10_cnn.ts";
 * const r = await runCifar10Cnn({ scale: "smoke" });
 * console.log(r.rows[0].accuracy);
 * ```
 */
export async function runCifar10Cnn(
  options: RunExperimentOptions = {},
): Promise<ExperimentResult> {
  return await runModels({
    id: CIFAR_ID,
    title: "CIFAR-10: CNN with Adamax, lr decay and checkpoints (seed 004)",
    dataset: "cifar10",
    models: ["cifar-cnn"],
    load: (scale, o) =>
      loadCifarData(scale, { dataDir: o.dataDir, mirror: o.mirror }),
    train: (_name, data, o) =>
      trainCifarCnn(data, {
        scale: o.scale,
        overrides: o.overrides,
        progress: o.progress,
        checkpointDir: o.outDir
          ? join(o.outDir, `${CIFAR_ID}-checkpoints`)
          : undefined,
      }),
    after: async (outcome, data, sink, notes) => {
      const train = data.train;
      await sink.add(
        `${CIFAR_ID}-samples`,
        "training samples",
        imageGrid(train, {
          indices: sampleIndices(train.count, 16),
          trueLabels: train.labels,
          classNames: train.classNames,
          title: "CIFAR-10 training samples",
        }),
      );
      const test = outcome.evaluations.find((e) => e.split === "test");
      if (test) {
        await sink.add(
          `${CIFAR_ID}-predictions`,
          "test predictions with scores",
          cifarPredictionGrid(data, test),
        );
      }
      await sink.add(
        `${CIFAR_ID}-filters`,
        "first-layer filters",
        filterGrid(outcome.trained.model, { title: "conv2d_1 filters" }),
      );
      const smoke = outcome.trained.settings.trainLimit !== null;
      const stimuli = await cifarStimuli(outcome.trained.model, {
        units: Array.from({ length: smoke ? 8 : 16 }, (_, i) => i),
      });
      await sink.add(
        `${CIFAR_ID}-stimuli`,
        "maximum-stimulus images of conv2d_1",
        stimulusGrid(stimuli, {
          title: "Maximum stimuli of conv2d_1's filters",
        }),
      );
      const lrs = outcome.trained.history.map((r) => r.lr?.toPrecision(3)).join(
        ", ",
      );
      notes.push(`learning rate per epoch: ${lrs}`);
    },
  }, options);
}
