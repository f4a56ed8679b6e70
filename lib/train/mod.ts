/**
 * Training: `fitModel` (tfjs's `model.fit` with the project's progress,
 * callbacks, checkpoints and history) and `trainLoop` (seed 003's
 * hand-written GradientTape-style loop), sharing callbacks (early stopping,
 * learning-rate schedules, stop on NaN, checkpoints + resume, epoch log,
 * TensorBoard), progress displays (terminal bar, plain lines, Jupyter live
 * output) and a nodejs-polars history.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/mod.ts";
 * import { earlyStopping, exponentialDecay, fitModel, scheduleLearningRate } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const runDir = await Deno.makeTempDir(); // e.g. "runs/demo" in a project
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: "softmax" })] });
 * model.compile({ optimizer: tf.train.adamax(5e-3), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
 * const xs = tf.randomNormal([90, 4]);
 * const ys = tf.tensor1d(Array.from({ length: 90 }, (_, i) => i % 3), "int32");
 * const result = await fitModel(model, { xs, ys }, {
 *   epochs: 10, batchSize: 16, validationSplit: 0.2, seed: 1,
 *   callbacks: [scheduleLearningRate(exponentialDecay(5e-3, 0.9)), earlyStopping({ patience: 3 })],
 *   checkpointDir: runDir, resume: true, logPath: `${runDir}/epochs.csv`,
 * });
 * console.log(result.history.toString());
 * ```
 *
 * @module
 */
export {
  type BatchLogs,
  type EpochRecord,
  HISTORY_COLUMNS,
  type TrainCallback,
  type TrainData,
  type TrainState,
} from "./types.ts";
export { RunningMean } from "./running_mean.ts";
export {
  type BatchNormRecalibration,
  recalibrateBatchNorm,
  type RecalibrateBatchNormOptions,
} from "./batch_norm.ts";
export { DEFAULT_SEED, globalSeed, setGlobalSeed } from "./seed.ts";
export { epochPermutation } from "./epoch_order.ts";
export {
  getLearningRate,
  getOptimizerState,
  type OptimizerStateEntry,
  setLearningRate,
  setOptimizerState,
} from "./optimizer.ts";
export {
  type DivergenceInfo,
  earlyStopping,
  type EarlyStoppingCallback,
  type EarlyStoppingOptions,
  epochLog,
  type EpochLogOptions,
  exponentialDecay,
  type LearningRateSchedule,
  type MonitorName,
  scheduleLearningRate,
  stopOnNaN,
  TrainingDivergedError,
} from "./callbacks.ts";
export {
  EventFileWriter,
  type Histogram,
  histogramOf,
  type HistogramOfOptions,
  kerasGraphJson,
  tensorBoard,
  type TensorBoardCallback,
  type TensorBoardEvent,
  type TensorBoardOptions,
  weightHistograms,
} from "./tensorboard.ts";
export {
  type Interruptible,
  interruptible,
  type InterruptibleOptions,
} from "./interrupt.ts";
export {
  checkpointCallback,
  type CheckpointCallbackOptions,
  type CheckpointInfo,
  type CheckpointState,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  type LoadCheckpointOptions,
  saveCheckpoint,
  type SaveCheckpointOptions,
} from "./checkpoint.ts";
export { type HistoryColumn, historyFrame } from "./history.ts";
export {
  createProgress,
  type DisplayFunction,
  formatEpoch,
  type MediaBundle,
  type ProgressMode,
  type ProgressOptions,
  type ProgressReporter,
  type ProgressStart,
  type SparklineOptions,
} from "./progress.ts";
export type { CommonTrainOptions, TrainResult } from "./options.ts";
export { fitModel, type FitModelOptions } from "./fit.ts";
export {
  type LoopLoss,
  type LossName,
  trainLoop,
  type TrainLoopOptions,
} from "./loop.ts";
export {
  trainDataParallel,
  type TrainDataParallelOptions,
} from "./data_parallel.ts";
