/**
 * Evaluation of trained classifiers: loss and accuracy on any split,
 * batched predictions with probabilities, confusion matrices (counts, row
 * percentages, a nodejs-polars DataFrame), per-class accuracy, the most
 * confused pairs, prediction of a single PNG/JPEG file, and model save/load
 * as `file://` folders (re-exported from `lib/models/io.ts`).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { confusionMatrix, evaluateModel, mostConfused } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({
 *   layers: [tf.layers.dense({ units: 3, inputShape: [2], activation: "softmax" })],
 * });
 * const r = await evaluateModel(model, { xs: tf.zeros([4, 2]), ys: [0, 1, 2, 0] });
 * const cm = confusionMatrix(r.labels, r.predictions, { numClasses: 3 });
 * assert.ok(r.accuracy >= 0 && r.accuracy <= 1);
 * console.log(mostConfused(cm));
 * ```
 *
 * @module
 */
export {
  type ClassAccuracy,
  type ConfusedPair,
  type ConfusionMatrix,
  confusionMatrix,
  confusionMatrixFromCounts,
  type ConfusionMatrixOptions,
  confusionTable,
  mostConfused,
  type MostConfusedOptions,
  perClassAccuracy,
} from "./metrics.ts";
export {
  type ClassPredictions,
  evaluateModel,
  type EvaluateOptions,
  type Evaluation,
  type LabelledTensors,
  predictClasses,
  type PredictOptions,
  type PredictOutput,
  predictProbabilities,
  type Probabilities,
} from "./predict.ts";
export {
  type DecodedImage,
  decodeImage,
  encodeImage,
  type ImagePrediction,
  imageSize,
  MAX_IMAGE_PIXELS,
  normalizePixels,
  type NormalizePreset,
  predictImageFile,
  type PredictImageFileOptions,
  type PreprocessedImage,
  preprocessImage,
  type PreprocessImageOptions,
  readImageFile,
  writeImageFile,
  type WriteImageOptions,
} from "./image_file.ts";
export {
  loadModel,
  type LoadModelOptions,
  registerFileRouter,
  saveModel,
  type SaveModelOptions,
} from "../models/io.ts";
