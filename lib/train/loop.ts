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
 * import * as tf from "../tf.ts";
 * import { trainLoop } from "./loop.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [4], activation: "softmax" })] });
 * const xs = tf.randomNormal([64, 4]);
 * const ys = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 2), "int32");
 * const result = await trainLoop(model, { xs, ys }, {
 *   optimizer: tf.train.adam(1e-2), epochs: 2, seed: 1, progress: "none",
 * });
 * console.log(result.records.at(-1)?.loss);
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import type { TrainData } from "./types.ts";
import { RunningMean } from "./running_mean.ts";
import { epochPermutation, randomSeed } from "./_random.ts";
import {
  type CommonTrainOptions,
  prepareData,
  runSession,
  type TrainResult,
} from "./_session.ts";

/** A loss: targets and predictions in, per-sample losses or their mean out. */
export type LossFunction = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** Built-in losses of {@linkcode trainLoop}. */
export type LossName =
  | "sparseCategoricalCrossentropy"
  | "categoricalCrossentropy"
  | "meanSquaredError";

/** Options of {@linkcode trainLoop}. */
export interface TrainLoopOptions extends CommonTrainOptions {
  /** Optimizer. Default: the model's, if it was compiled; else required. */
  optimizer?: tf.Optimizer;
  /**
   * Loss on the model's OUTPUT (probabilities for the cross-entropies, as in
   * Keras with `from_logits=False`). Default: "auto": sparse categorical
   * cross-entropy for labels `[N]`, categorical for one-hot `[N, C]`.
   */
  loss?: "auto" | LossName | LossFunction;
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
  loss: LossFunction;
  classes: number;
}

function _crossentropy(sparse: boolean, classes: number): LossFunction {
  // tfjs-layers' categoricalCrossentropy: normalises, clips, -sum(y log p).
  return (yTrue, yPred) => {
    const target = sparse
      ? tf.oneHot(tf.cast(tf.reshape(yTrue, [-1]), "int32"), classes)
      : yTrue;
    return tf.metrics.categoricalCrossentropy(target, yPred);
  };
}

function _task(
  model: tf.LayersModel,
  ys: tf.Tensor,
  loss: TrainLoopOptions["loss"],
): _Task {
  const outShape = (model.outputs[0]?.shape ?? []) as (number | null)[];
  const classes = outShape[outShape.length - 1] ?? 0;
  const sparse = ys.rank === 1 ||
    (ys.rank === 2 && ys.shape[1] === 1 && classes > 1);
  if (typeof loss === "function") return { sparse, loss, classes };
  const name = loss ?? "auto";
  if (name === "meanSquaredError") {
    return {
      sparse,
      loss: (a, b) => tf.losses.meanSquaredError(a, b),
      classes,
    };
  }
  if (
    name === "auto" || name === "sparseCategoricalCrossentropy" ||
    name === "categoricalCrossentropy"
  ) {
    const wantSparse = name === "auto"
      ? sparse
      : name === "sparseCategoricalCrossentropy";
    if (wantSparse && !sparse) {
      throw new Error(
        `trainLoop: sparseCategoricalCrossentropy needs integer labels [N], got ys of shape [${ys.shape}]`,
      );
    }
    if (!wantSparse && ys.rank !== 2) {
      throw new Error(
        `trainLoop: categoricalCrossentropy needs one-hot targets [N, C], got ys of shape [${ys.shape}]`,
      );
    }
    if (!(classes > 1)) {
      throw new Error(
        `trainLoop: cross-entropy needs a model output [N, C] with C > 1, got [${outShape}]`,
      );
    }
    return {
      sparse: wantSparse,
      loss: _crossentropy(wantSparse, classes),
      classes,
    };
  }
  throw new Error(
    `trainLoop: unknown loss '${
      String(name)
    }'; use "auto", sparseCategoricalCrossentropy, categoricalCrossentropy, meanSquaredError or a function`,
  );
}

/** Number of correct argmax predictions, or null when accuracy is undefined. */
function _correct(
  task: _Task,
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
): tf.Tensor | null {
  if (!(task.classes > 1)) return null;
  const predicted = tf.argMax(yPred, -1);
  const truth = task.sparse
    ? tf.cast(tf.reshape(yTrue, [-1]), "int32")
    : tf.argMax(yTrue, -1);
  return tf.sum(tf.cast(tf.equal(predicted, truth), "float32"));
}

function _meanLoss(task: _Task, yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  const l = task.loss(yTrue, yPred);
  return (l.rank === 0 ? l : tf.mean(l)) as tf.Scalar;
}

async function _evaluate(
  model: tf.LayersModel,
  task: _Task,
  data: TrainData,
  batchSize: number,
): Promise<{ loss: number; acc: number | null }> {
  const n = data.xs.shape[0];
  const loss = new RunningMean();
  let correct = 0;
  let hasAcc = false;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    let c: tf.Tensor | null = null;
    const l = tf.tidy(() => {
      const cut = (t: tf.Tensor) =>
        tf.slice(t, [start, ...t.shape.slice(1).map(() => 0)], [
          size,
          ...t.shape.slice(1),
        ]);
      const xb = cut(data.xs);
      const yb = cut(data.ys);
      const pred = model.apply(xb, { training: false }) as tf.Tensor;
      const counted = _correct(task, yb, pred);
      c = counted ? tf.keep(counted) : null;
      return _meanLoss(task, yb, pred);
    });
    const kept = c as tf.Tensor | null;
    const [lv, cv] = await Promise.all([l.data(), kept?.data()]);
    tf.dispose([l, ...(kept ? [kept] : [])]);
    loss.update(lv[0], size);
    if (cv) {
      correct += cv[0];
      hasAcc = true;
    }
  }
  return { loss: loss.result(), acc: hasAcc ? correct / n : null };
}

/**
 * Trains with a hand-written loop (seed 003's GradientTape steps): per-epoch
 * seeded shuffling, `optimizer.minimize` per batch, running-mean loss and
 * accuracy, optional validation each epoch; same callbacks, progress,
 * checkpoints and history as {@linkcode fitModel}. With a `seed` (and the
 * same initial weights) runs repeat exactly on the CPU backends; dropout
 * masks still come from tfjs's unseeded random source.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { trainLoop } from "./loop.ts";
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
  const optimizer = options.optimizer ??
    (model as { optimizer?: tf.Optimizer }).optimizer;
  if (!optimizer) {
    throw new Error(
      `${what}: no optimizer; pass options.optimizer (e.g. tf.train.adam()) or compile the model`,
    );
  }
  const prepared = prepareData(data, options, what);
  const task = _task(model, prepared.train.ys, options.loss);
  const { batchSize = 32, shuffle = true, resetMetrics = "epoch" } = options;
  const validationBatchSize = options.validationBatchSize ??
    Math.max(batchSize, 256);
  const seed = options.seed ?? randomSeed();
  const { xs, ys } = prepared.train;
  const n = xs.shape[0];
  const trainLoss = new RunningMean();
  const trainAcc = new RunningMean();
  const sessionOptions = { ...options, seed };

  try {
    return await runSession(
      model,
      optimizer,
      n,
      sessionOptions,
      what,
      async (epoch, onBatch) => {
        if (resetMetrics === "epoch") {
          trainLoss.reset();
          trainAcc.reset();
        }
        // Variables may be replaced (setWeights keeps them, but be safe per epoch).
        const variables = model.trainableWeights.map((w) =>
          w.read() as tf.Variable
        );
        const order = shuffle
          ? epochPermutation(n, seed, epoch)
          : Int32Array.from({ length: n }, (_, i) => i);
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
              const c = _correct(task, yb, pred);
              // Kept so it outlives the gradient scope; disposed below.
              correct = c ? tf.keep(c) : null;
              return _meanLoss(task, yb, pred);
            },
            true,
            variables,
          ) as tf.Scalar;
          const kept = correct as tf.Tensor | null;
          const [lv, cv] = await Promise.all([loss.data(), kept?.data()]);
          tf.dispose([idx, xb, yb, loss, ...(kept ? [kept] : [])]);
          const batchAcc = cv ? cv[0] / size : null;
          trainLoss.update(lv[0], size);
          if (batchAcc !== null) trainAcc.update(batchAcc, size);
          if (await onBatch(batch, { size, loss: lv[0], acc: batchAcc })) break;
        }
        const trainSeconds = (performance.now() - trainStart) / 1000;
        const val = prepared.validation
          ? await _evaluate(
            model,
            task,
            prepared.validation,
            validationBatchSize,
          )
          : null;
        return {
          loss: trainLoss.result(),
          acc: trainAcc.count > 0 ? trainAcc.result() : null,
          val_loss: val ? val.loss : null,
          val_acc: val ? val.acc : null,
          trainSeconds,
        };
      },
    );
  } finally {
    tf.dispose(prepared.owned);
  }
}
