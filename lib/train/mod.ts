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
 * await initBackend({ backend: "cpu" });
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: "softmax" })] });
 * model.compile({ optimizer: tf.train.adamax(5e-3), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
 * const xs = tf.randomNormal([90, 4]);
 * const ys = tf.tensor1d(Array.from({ length: 90 }, (_, i) => i % 3), "int32");
 * const result = await fitModel(model, { xs, ys }, {
 *   epochs: 10, batchSize: 16, validationSplit: 0.2, seed: 1,
 *   callbacks: [scheduleLearningRate(exponentialDecay(5e-3, 0.9)), earlyStopping({ patience: 3 })],
 *   checkpointDir: "runs/demo", resume: true, logPath: "runs/demo/epochs.csv",
 * });
 * console.log(result.history.toString());
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./running_mean.ts";
export * from "./batch_norm.ts";
export * from "./seed.ts";
export { epochPermutation } from "./_random.ts";
export * from "./optimizer.ts";
export * from "./callbacks.ts";
export * from "./tensorboard.ts";
export * from "./interrupt.ts";
export * from "./checkpoint.ts";
export * from "./history.ts";
export * from "./progress.ts";
export type { CommonTrainOptions, TrainResult } from "./_session.ts";
export * from "./fit.ts";
export * from "./loop.ts";
export * from "./data_parallel.ts";
