/**
 * `fitModel`: Keras-style training through tfjs's own `model.fit`, with the
 * project's progress display, callbacks, checkpoints/resume and a polars
 * history.
 *
 * It calls `model.fit` once per epoch (`initialEpoch: e, epochs: e + 1`):
 * this lets schedules, checkpoints and resume act exactly between epochs.
 * With a `seed`, each epoch's sample order is a seeded permutation gathered
 * here (one extra copy of the training tensors while the epoch runs) and
 * tfjs's own shuffling (Math.random) is off, so runs repeat exactly on the
 * wasm and cpu backends. Dropout masks come from `Math.random`: call
 * `setGlobalSeed(seed)` before building the model and models with dropout
 * repeat exactly too. WebGPU is not bit-exact.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { fitModel } from "./fit.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [4], activation: "softmax" })] });
 * model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
 * const xs = tf.randomNormal([64, 4]);
 * const ys = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 2), "int32");
 * const result = await fitModel(model, { xs, ys }, { epochs: 2, progress: "none" });
 * assert.equal(result.epochsRun, 2);
 * console.log(result.history.toString());
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import type { TrainData } from "./types.ts";
import { epochPermutation } from "./epoch_order.ts";
import {
  type CommonTrainOptions,
  type EpochOutcome,
  prepareData,
  runSession,
  type TrainResult,
} from "./_session.ts";

/** Options of {@linkcode fitModel}. */
export interface FitModelOptions extends CommonTrainOptions {
  /**
   * How often tfjs yields to the event loop with its `nextFrame` (tfjs's
   * `yieldEvery`, given to the callback that bridges tfjs to this loop):
   * "auto" is every 125 ms, counted from the start of each epoch. Interrupts
   * do not depend on it. Default: "auto".
   */
  yieldEvery?: "auto" | "batch" | "epoch" | "never" | number;
}

async function _firstNumber(
  logs: Record<string, unknown>,
  keys: string[],
): Promise<number | null> {
  for (const key of keys) {
    const value = logs[key];
    if (Array.isArray(value) && typeof value[0] === "number") return value[0];
    if (typeof value === "number") return value;
    // Asynchronous: WebGPU cannot read synchronously.
    if (value instanceof tf.Tensor) return (await value.data())[0];
  }
  return null;
}

/**
 * Trains a compiled model with `model.fit`, adding progress, callbacks,
 * checkpoints (`checkpointDir`, `resume`), an epoch log (`logPath`) and a
 * polars history. Integer labels are cast to float32 for tfjs's sparse
 * cross-entropy (which rejects int32).
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { fitModel } from "./fit.ts";
 * import { exponentialDecay, scheduleLearningRate } from "./callbacks.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: "softmax" })] });
 * model.compile({ optimizer: tf.train.adamax(5e-3), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
 * const xs = tf.randomNormal([30, 4]);
 * const ys = tf.oneHot(tf.tensor1d(Array.from({ length: 30 }, (_, i) => i % 3), "int32"), 3);
 * await fitModel(model, { xs, ys }, {
 *   epochs: 3,
 *   callbacks: [scheduleLearningRate(exponentialDecay(5e-3, 0.9))],
 * });
 * ```
 */
export async function fitModel(
  model: tf.LayersModel,
  data: TrainData,
  options: FitModelOptions = {},
): Promise<TrainResult> {
  const what = "fitModel";
  const optimizer = (model as { optimizer?: tf.Optimizer }).optimizer;
  if (!optimizer) {
    throw new Error(
      `${what}: the model is not compiled; call model.compile({ optimizer, loss, metrics: ["accuracy"] }) first`,
    );
  }
  const prepared = prepareData(data, options, what);
  const owned = [...prepared.owned];
  const asFloat = (t: tf.Tensor) => {
    if (t.dtype === "float32") return t;
    const cast = tf.cast(t, "float32");
    owned.push(cast);
    return cast;
  };
  const xs = prepared.train.xs;
  const ys = asFloat(prepared.train.ys);
  const validation = prepared.validation
    ? [prepared.validation.xs, asFloat(prepared.validation.ys)] as [
      tf.Tensor,
      tf.Tensor,
    ]
    : undefined;
  const { batchSize = 32, shuffle = true, seed } = options;
  const n = xs.shape[0];

  try {
    return await runSession(
      model,
      optimizer,
      n,
      options,
      what,
      async (epoch, onBatch) => {
        let epochXs = xs;
        let epochYs = ys;
        const perEpoch: tf.Tensor[] = [];
        if (shuffle && seed !== undefined) {
          [epochXs, epochYs] = tf.tidy(() => {
            const order = tf.tensor1d(
              epochPermutation(n, seed, epoch),
              "int32",
            );
            return [tf.gather(xs, order), tf.gather(ys, order)];
          });
          perEpoch.push(epochXs, epochYs);
        }
        let trainStart = 0;
        let trainEnd = 0;
        // A CustomCallback ignores model.fit's `yieldEvery`: it takes its own.
        const bridge = new tf.CustomCallback({
          onEpochBegin: () => {
            trainStart = performance.now();
          },
          onBatchEnd: async (batch, logs) => {
            trainEnd = performance.now();
            const l = logs ?? {};
            const stop = await onBatch(batch, {
              size: typeof l.size === "number" ? l.size : batchSize,
              loss: typeof l.loss === "number" ? l.loss : NaN,
              acc: typeof l.acc === "number"
                ? l.acc
                : typeof l.accuracy === "number"
                ? l.accuracy
                : null,
            });
            if (stop) model.stopTraining = true;
          },
        }, options.yieldEvery);
        try {
          const h = await model.fit(epochXs, epochYs, {
            epochs: epoch + 1,
            initialEpoch: epoch,
            batchSize,
            shuffle: shuffle && seed === undefined,
            validationData: validation,
            verbose: 0,
            callbacks: [bridge],
          });
          const logs = h.history as Record<string, unknown>;
          const outcome: EpochOutcome = {
            loss: await _firstNumber(logs, ["loss"]) ?? NaN,
            acc: await _firstNumber(logs, ["acc", "accuracy"]),
            val_loss: await _firstNumber(logs, ["val_loss"]),
            val_acc: await _firstNumber(logs, ["val_acc", "val_accuracy"]),
            trainSeconds: (trainEnd - trainStart) / 1000,
          };
          return outcome;
        } finally {
          tf.dispose(perEpoch);
        }
      },
    );
  } finally {
    tf.dispose(owned);
  }
}
