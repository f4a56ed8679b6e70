/**
 * `trainLoop`: the hand-written training loop of seed 003 in tfjs terms.
 * Where TensorFlow writes
 *
 * ```python
 * with tf.GradientTape() as tape:
 *     pred = model(images); loss = loss_fun(labels, pred)
 * optimizer.apply_gradients(zip(tape.gradient(loss, vars), vars))
 * train_loss(loss); train_acc(labels, pred)
 * ```
 *
 * tfjs has `optimizer.minimize(() => loss, true, vars)` (the tape is the
 * closure); the running means are {@linkcode RunningMean}s. Each step
 * disposes what it made, so the tensor count stays flat across epochs.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { trainLoop } from "./loop.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [4], activation: "softmax" })] });
 * const xs = tf.randomNormal([64, 4]);
 * const ys = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 2), "int32");
 * const result = await trainLoop(model, { xs, ys }, {
 *   optimizer: tf.train.adam(1e-2), epochs: 2, seed: 1, progress: "none",
 * });
 * assert.ok(Number.isFinite(result.records.at(-1)?.loss));
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import type { TrainData } from "./types.ts";
import { epochOrder, randomSeed } from "./epoch_order.ts";
import {
  type CommonTrainOptions,
  prepareData,
  runSession,
  trainingOptimizer,
  type TrainResult,
  weightSumTensor,
} from "./_session.ts";
import {
  type BatchMeasure,
  correctTensor,
  EpochMetrics,
  evaluateBatches,
  labelLayout,
  type LossName,
  lossTensor,
  resolveLossSpec,
} from "./_loss.ts";

export type { LossName };

/** A loss: targets and predictions in, per-sample losses or their mean out. */
export type LoopLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** Options of {@linkcode trainLoop}. */
export interface TrainLoopOptions extends CommonTrainOptions {
  /** Optimizer. Default: the model's, if it was compiled; else required. */
  optimizer?: tf.Optimizer;
  /**
   * Loss on the model's OUTPUT (probabilities for the cross-entropies, as in
   * Keras with `from_logits=False`). Default: "auto": sparse categorical
   * cross-entropy for labels `[N]`, categorical for one-hot `[N, C]`.
   */
  loss?: "auto" | LossName | LoopLoss;
  /**
   * Reset the running means each epoch ("epoch"), or never ("never": seed
   * 003's loop never resets its `tf.metrics.Mean`, so its printed training
   * loss is the mean since the start). Default: "epoch".
   */
  resetMetrics?: "epoch" | "never";
  /** Batch size of the validation pass. Default: max(batchSize, 256). */
  validationBatchSize?: number;
}

interface _Task {
  sparse: boolean;
  loss: LoopLoss;
  classes: number;
}

function _task(
  model: tf.LayersModel,
  ys: tf.Tensor,
  loss: TrainLoopOptions["loss"],
): _Task {
  if (typeof loss === "function") {
    const { sparse, classes } = labelLayout(model, ys);
    return { sparse, loss, classes };
  }
  const spec = resolveLossSpec(
    model,
    ys,
    loss,
    "trainLoop",
    `"auto", sparseCategoricalCrossentropy, categoricalCrossentropy, meanSquaredError or a function`,
  );
  return {
    sparse: spec.sparse,
    loss: (yTrue, yPred) => lossTensor(spec, yTrue, yPred),
    classes: spec.classes,
  };
}

/** The task's mean loss and correct count, per batch. */
function _measure(task: _Task): BatchMeasure {
  return {
    loss: (yTrue, yPred) => {
      const l = task.loss(yTrue, yPred);
      return (l.rank === 0 ? l : tf.mean(l)) as tf.Scalar;
    },
    correct: (yTrue, yPred) => correctTensor(task, yTrue, yPred),
  };
}

/**
 * Trains with a hand-written loop (seed 003's GradientTape steps): per-epoch
 * seeded shuffling, `optimizer.minimize` per batch, running-mean loss and
 * accuracy, optional validation each epoch; same callbacks, progress,
 * checkpoints and history as {@linkcode fitModel}. With a `seed` (and the
 * same initial weights) runs repeat exactly on the wasm and cpu backends;
 * dropout masks come from `Math.random`, which `setGlobalSeed` seeds.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { trainLoop } from "./loop.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: "softmax" })] });
 * const xs = tf.randomNormal([60, 4]);
 * const ys = tf.tensor1d(Array.from({ length: 60 }, (_, i) => i % 3), "int32");
 * const { history } = await trainLoop(model, { xs, ys }, {
 *   optimizer: tf.train.adam(1e-2), epochs: 3, validationSplit: 0.2,
 * });
 * ```
 */
export async function trainLoop(
  model: tf.LayersModel,
  data: TrainData,
  options: TrainLoopOptions = {},
): Promise<TrainResult> {
  const what = "trainLoop";
  const optimizer = trainingOptimizer(model, options.optimizer, what);
  const prepared = prepareData(data, options, what);
  const measure = _measure(_task(model, prepared.train.ys, options.loss));
  const {
    batchSize = 32,
    shuffle = true,
    resetMetrics = "epoch",
    checkFinite = true,
  } = options;
  const validationBatchSize = options.validationBatchSize ??
    Math.max(batchSize, 256);
  const seed = options.seed ?? randomSeed();
  const { xs, ys } = prepared.train;
  const n = xs.shape[0];
  const metrics = new EpochMetrics();
  const sessionOptions = { ...options, seed };

  try {
    return await runSession(
      model,
      optimizer,
      n,
      sessionOptions,
      what,
      async (epoch, onBatch) => {
        if (resetMetrics === "epoch") metrics.reset();
        // Variables may be replaced (setWeights keeps them, but be safe per epoch).
        const variables = model.trainableWeights.map((w) =>
          w.read() as tf.Variable
        );
        const order = epochOrder(n, shuffle, seed, epoch);
        const trainStart = performance.now();
        let batch = 0;
        for (let start = 0; start < n; start += batchSize, batch++) {
          const size = Math.min(batchSize, n - start);
          const idx = tf.tensor1d(order.subarray(start, start + size), "int32");
          const xb = tf.gather(xs, idx);
          const yb = tf.gather(ys, idx);
          let correct: tf.Tensor | null = null;
          const loss = optimizer.minimize(
            () => {
              const pred = model.apply(xb, { training: true }) as tf.Tensor;
              const c = measure.correct(yb, pred);
              // Kept so it outlives the gradient scope; disposed below.
              correct = c ? tf.keep(c) : null;
              return measure.loss(yb, pred);
            },
            true,
            variables,
          ) as tf.Scalar;
          const kept = correct as tf.Tensor | null;
          // One read per batch: the loss, the correct count and the sum of
          // the updated weights (NaN or infinite once training diverged).
          const readout = tf.tidy(() =>
            tf.stack([
              loss,
              checkFinite ? weightSumTensor(model) : tf.scalar(0),
              kept ? tf.cast(tf.reshape(kept, []), "float32") : tf.scalar(0),
            ])
          );
          const values = await readout.data();
          tf.dispose([idx, xb, yb, loss, readout, ...(kept ? [kept] : [])]);
          const batchAcc = kept ? values[2] / size : null;
          metrics.update(values[0], batchAcc, size);
          const stop = await onBatch(
            batch,
            { size, loss: values[0], acc: batchAcc },
            checkFinite ? values[1] : undefined,
          );
          if (stop) break;
        }
        const trainSeconds = (performance.now() - trainStart) / 1000;
        const val = prepared.validation
          ? await evaluateBatches(
            model,
            measure,
            prepared.validation,
            validationBatchSize,
          )
          : null;
        return metrics.outcome(val, trainSeconds);
      },
    );
  } finally {
    tf.dispose(prepared.owned);
  }
}
