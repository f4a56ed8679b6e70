/**
 * Batched predictions and evaluation of a classifier on any split, without
 * leaking tensors: whatever the model outputs (probabilities, log-probabilities
 * such as seed 002's log-softmax, or scores such as logits) is turned into
 * probabilities.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { evaluateModel } from "./predict.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({
 *   layers: [tf.layers.dense({ units: 2, inputShape: [3], activation: "softmax" })],
 * });
 * const xs = tf.randomNormal([8, 3]);
 * const ys = tf.tensor1d([0, 1, 0, 1, 0, 1, 0, 1], "int32");
 * const result = await evaluateModel(model, { xs, ys });
 * assert.equal(result.predictions.length, 8);
 * ```
 *
 * Every function that reads tensors is async and reads with `await t.data()`:
 * WebGPU (the backend of a machine with a GPU) cannot read synchronously in
 * Deno.
 *
 * @module
 */
import * as tf from "../tf.ts";
import { type OutputKind, toProbabilities } from "../models/losses.ts";

/**
 * How to read the model's output: the models' own {@linkcode OutputKind}
 * ("probabilities", "log-probabilities" such as seed 002's log-softmax,
 * "scores" such as logits or the 1998 LeNet-5's negative RBF distances), or
 * "auto" to decide from the first batch: rows in [0, 1] summing to 1 are
 * probabilities, rows <= 0 whose exponentials sum to 1 are log-probabilities,
 * anything else is scores (softmax applied).
 */
export type PredictOutput = "auto" | OutputKind;

/** Options shared by the prediction functions. */
export interface PredictOptions {
  /** Samples per forward pass. Default: 256. */
  batchSize?: number;
  /** How to read the model's output. Default: "auto". */
  output?: PredictOutput;
}

/** What {@linkcode predictProbabilities} returns. */
export interface Probabilities {
  /** Row-major `[count, numClasses]` class probabilities. */
  values: Float32Array;
  /** Number of samples. */
  count: number;
  /** Number of classes (the model's last output dimension). */
  numClasses: number;
  /** How the model's output was read (never "auto"). */
  output: OutputKind;
}

/** What {@linkcode predictClasses} returns. */
export interface ClassPredictions {
  /** Predicted class (argmax) per sample. */
  classes: Int32Array;
  /** Probability of the predicted class per sample. */
  scores: Float32Array;
}

function _checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  }
}

function _checkInput(model: tf.LayersModel, xs: tf.Tensor): void {
  const expected = model.inputs[0]?.shape;
  if (!expected) return;
  if (expected.length !== xs.rank) {
    throw new Error(
      `the model expects input of shape [${
        expected.map((d) => d ?? "batch").join(", ")
      }] but got a rank-${xs.rank} tensor [${xs.shape.join(", ")}]; ` +
        `pass a batch (add the leading sample axis) resized to the model's input`,
    );
  }
  for (let i = 1; i < expected.length; i++) {
    if (expected[i] !== null && expected[i] !== xs.shape[i]) {
      throw new Error(
        `the model expects input of shape [${
          expected.map((d) => d ?? "batch").join(", ")
        }] but got [${xs.shape.join(", ")}]; resize or reshape the images ` +
          `(e.g. toTensors(split, { resize: ${expected[1]} }))`,
      );
    }
  }
}

/** Guesses how to read one batch of model output (see {@linkcode OutputKind}). */
function _detectOutput(
  out: Float32Array | Int32Array | Uint8Array,
  numClasses: number,
): OutputKind {
  const rows = Math.min(out.length / numClasses, 64);
  let probs = true;
  let logProbs = true;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    let expSum = 0;
    for (let c = 0; c < numClasses; c++) {
      const v = out[r * numClasses + c];
      if (v < 0 || v > 1) probs = false;
      if (v > 1e-6) logProbs = false;
      sum += v;
      expSum += Math.exp(v);
    }
    if (Math.abs(sum - 1) > 1e-3) probs = false;
    if (Math.abs(expSum - 1) > 1e-3) logProbs = false;
  }
  return probs ? "probabilities" : logProbs ? "log-probabilities" : "scores";
}

/**
 * Runs the model over `xs` in batches and returns class probabilities.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { predictProbabilities } from "./predict.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({
 *   layers: [tf.layers.dense({ units: 3, inputShape: [2], activation: "softmax" })],
 * });
 * const p = await predictProbabilities(model, tf.zeros([4, 2]));
 * assert.equal(p.values.length, 12);
 * ```
 */
export async function predictProbabilities(
  model: tf.LayersModel,
  xs: tf.Tensor,
  options: PredictOptions = {},
): Promise<Probabilities> {
  const batchSize = options.batchSize ?? 256;
  _checkBatchSize(batchSize);
  _checkInput(model, xs);
  const count = xs.shape[0];
  let kind = options.output ?? "auto";
  let numClasses = 0;
  let values = new Float32Array(0);
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const raw = tf.tidy(() => {
      const batch = tf.slice(xs, start, size);
      const out = model.predict(batch);
      if (Array.isArray(out)) {
        throw new Error(
          "the model has several outputs; evaluation expects a single classifier output",
        );
      }
      return out.rank === 2 ? out : tf.reshape(out, [size, -1]);
    });
    try {
      if (numClasses === 0) {
        numClasses = raw.shape[1]!;
        values = new Float32Array(count * numClasses);
        if (kind === "auto") {
          kind = _detectOutput(await raw.data() as Float32Array, numClasses);
        }
      }
      const probs = toProbabilities(kind as OutputKind, raw);
      try {
        values.set(await probs.data() as Float32Array, start * numClasses);
      } finally {
        probs.dispose();
      }
    } finally {
      raw.dispose();
    }
  }
  return {
    values,
    count,
    numClasses,
    output: kind === "auto" ? "probabilities" : kind,
  };
}

/**
 * Predicted class (argmax) and its probability for each sample.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { predictClasses } from "./predict.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({
 *   layers: [tf.layers.dense({ units: 3, inputShape: [2], activation: "softmax" })],
 * });
 * const { classes, scores } = await predictClasses(model, tf.zeros([4, 2]));
 * assert.equal(classes.length, 4);
 * console.log(classes, scores);
 * ```
 */
export async function predictClasses(
  model: tf.LayersModel,
  xs: tf.Tensor,
  options: PredictOptions = {},
): Promise<ClassPredictions> {
  return argmaxRows(await predictProbabilities(model, xs, options));
}

/**
 * Argmax and maximum of each row of a {@linkcode Probabilities} table.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { argmaxRows } from "./predict.ts";
 * const r = argmaxRows({
 *   values: new Float32Array([0.2, 0.8, 0.9, 0.1]),
 *   count: 2,
 *   numClasses: 2,
 *   output: "probabilities",
 * });
 * assert.deepEqual([...r.classes], [1, 0]);
 * ```
 */
export function argmaxRows(probs: Probabilities): ClassPredictions {
  const { values, count, numClasses } = probs;
  const classes = new Int32Array(count);
  const scores = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    let bestValue = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      const v = values[i * numClasses + c];
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    classes[i] = best;
    scores[i] = bestValue;
  }
  return { classes, scores };
}

/** Labelled samples: images and their labels (int class indices or one-hot rows). */
export interface LabelledTensors {
  /** Input batch, e.g. `[N, 28, 28, 1]` from `toTensors`. */
  xs: tf.Tensor;
  /** Labels: int32 `[N]`, one-hot `[N, classes]`, or a plain array of class indices. */
  ys: tf.Tensor | ArrayLike<number>;
}

/** Options of {@linkcode evaluateModel}. */
export interface EvaluateOptions extends PredictOptions {}

/** What {@linkcode evaluateModel} returns. */
export interface Evaluation {
  /**
   * Mean categorical cross-entropy, `-log p(true class)` with p clipped to
   * [1e-7, 1] as Keras does.
   */
  loss: number;
  /** Share of samples whose argmax equals the label, 0..1. */
  accuracy: number;
  /** Number of samples. */
  count: number;
  /** True class per sample. */
  labels: Int32Array;
  /** Predicted class per sample (feed to `confusionMatrix`). */
  predictions: Int32Array;
  /** Probability of the predicted class per sample. */
  scores: Float32Array;
}

/**
 * Reads labels as class indices, whatever their form. Refuses (naming the
 * index of the first bad one) labels that are not whole numbers >= 0 (NaN,
 * 1.5, -1; never rounded or truncated), one-hot rows holding NaN or infinite
 * values, and with `numClasses`, labels >= `numClasses`.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { labelsToIndices } from "./predict.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const labels = await labelsToIndices(tf.oneHot(tf.tensor1d([2, 0], "int32"), 3));
 * assert.deepEqual([...labels], [2, 0]);
 * ```
 */
export async function labelsToIndices(
  ys: tf.Tensor | ArrayLike<number>,
  numClasses?: number,
): Promise<Int32Array> {
  const what = "labels";
  if (!(ys instanceof tf.Tensor) || ys.rank === 1) {
    const values = ys instanceof tf.Tensor ? await ys.data() : ys;
    const out = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = Number(values[i]);
      if (!Number.isInteger(v) || v < 0) {
        throw new Error(
          `${what}[${i}] is ${
            values[i]
          }: class labels must be whole numbers >= 0 ` +
            "(class indices, or one-hot rows); fix the labels",
        );
      }
      if (numClasses !== undefined && v >= numClasses) {
        throw new Error(
          `${what}[${i}] is ${v} but the model has ${numClasses} classes ` +
            `(0..${numClasses - 1}); the labels do not belong to this model`,
        );
      }
      out[i] = v;
    }
    return out;
  }
  if (ys.rank === 2) {
    const [n, classes] = ys.shape;
    const values = await ys.data();
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 0; c < classes; c++) {
        const v = values[i * classes + c];
        if (!Number.isFinite(v)) {
          throw new Error(
            `${what}[${i}] (a one-hot row) holds ${v}: one-hot labels must be finite; fix the labels`,
          );
        }
        if (v > values[i * classes + best]) best = c;
      }
      out[i] = best;
    }
    if (numClasses !== undefined && classes !== numClasses) {
      throw new Error(
        `${what} are one-hot rows of ${classes} classes but the model has ${numClasses}`,
      );
    }
    return out;
  }
  throw new Error(
    `labels must be [N] class indices or [N, classes] one-hot rows, got shape [${
      ys.shape.join(", ")
    }]`,
  );
}

/** The number of classes a model outputs, when its output shape says. */
function _outputClasses(model: tf.LayersModel): number | undefined {
  const shape = model.outputs?.[0]?.shape;
  const last = shape?.[shape.length - 1];
  return typeof last === "number" && last > 1 ? last : undefined;
}

/**
 * Loss and accuracy of a classifier on labelled data, computed in batches
 * without tensor leaks; the model does not need to be compiled.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { evaluateModel } from "./predict.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({
 *   layers: [tf.layers.dense({ units: 2, inputShape: [1], activation: "softmax" })],
 * });
 * const r = await evaluateModel(model, { xs: tf.zeros([2, 1]), ys: [0, 1] });
 * assert.equal(r.accuracy, 0.5); // the same input, so the same class, for both
 * console.log(r.loss, r.accuracy);
 * ```
 */
export async function evaluateModel(
  model: tf.LayersModel,
  data: LabelledTensors,
  options: EvaluateOptions = {},
): Promise<Evaluation> {
  let labels: Int32Array;
  try {
    labels = await labelsToIndices(data.ys, _outputClasses(model));
  } catch (e) {
    throw new Error(`evaluateModel: ${(e as Error).message}`);
  }
  const count = data.xs.shape[0];
  if (labels.length !== count) {
    throw new Error(
      `evaluateModel: ${count} inputs but ${labels.length} labels; they must match`,
    );
  }
  if (count === 0) {
    throw new Error("evaluateModel: the split is empty (0 samples)");
  }
  const probs = await predictProbabilities(model, data.xs, options);
  const { classes, scores } = argmaxRows(probs);
  let lossSum = 0;
  let correct = 0;
  for (let i = 0; i < count; i++) {
    const label = labels[i];
    if (label < 0 || label >= probs.numClasses) {
      throw new Error(
        `evaluateModel: label ${label} at sample ${i} is outside the model's ${probs.numClasses} classes`,
      );
    }
    const p = Math.min(
      1,
      Math.max(1e-7, probs.values[i * probs.numClasses + label]),
    );
    lossSum -= Math.log(p);
    if (classes[i] === label) correct++;
  }
  return {
    loss: lossSum / count,
    accuracy: correct / count,
    count,
    labels,
    predictions: classes,
    scores,
  };
}
