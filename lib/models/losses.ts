/**
 * Loss functions and probability conversions for the three kinds of output
 * the project's models produce.
 *
 * @module
 */
import * as tf from "../tf.ts";

/**
 * What a model's last layer outputs:
 * - "probabilities": softmax (or seed 000/003's sigmoid, which the
 *   cross-entropy normalises by its sum, as Keras does);
 * - "log-probabilities": log-softmax (seed 002);
 * - "scores": unnormalised class scores (logits), e.g. the 1998 LeNet-5's
 *   negative RBF distances.
 */
export type OutputKind = "probabilities" | "log-probabilities" | "scores";

/** A loss usable with `model.compile({ loss })` and in hand-written loops. */
export type LossFunction = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;

function _oneHot(yTrue: tf.Tensor, classes: number): tf.Tensor {
  // Accept int labels [N] or [N, 1] as well as one-hot [N, classes].
  if (
    yTrue.rank === 1 ||
    (yTrue.rank === 2 && yTrue.shape[1] === 1 && classes > 1)
  ) {
    return tf.oneHot(tf.cast(tf.reshape(yTrue, [-1]), "int32"), classes);
  }
  return tf.cast(yTrue, "float32");
}

/**
 * Mean categorical cross-entropy for a model's output kind. `yTrue` may be
 * one-hot `[N, C]` or integer labels `[N]`/`[N, 1]` (note that
 * `model.fit` checks target shapes, so pass one-hot targets there).
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/init.ts";
 * import { buildLenet5_32, classificationLoss } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = buildLenet5_32();
 * model.compile({ optimizer: "adam", loss: classificationLoss("log-probabilities") });
 * ```
 */
export function classificationLoss(kind: OutputKind): LossFunction {
  switch (kind) {
    case "probabilities":
      return (yTrue, yPred) =>
        tf.tidy(() => {
          const y = _oneHot(yTrue, yPred.shape[yPred.rank - 1]);
          const p = tf.clipByValue(
            tf.div(yPred, tf.sum(yPred, -1, true)),
            1e-7,
            1 - 1e-7,
          );
          return tf.mean(tf.neg(tf.sum(tf.mul(y, tf.log(p)), -1))) as tf.Scalar;
        });
    case "log-probabilities":
      return (yTrue, yPred) =>
        tf.tidy(() => {
          const y = _oneHot(yTrue, yPred.shape[yPred.rank - 1]);
          return tf.mean(tf.neg(tf.sum(tf.mul(y, yPred), -1))) as tf.Scalar;
        });
    case "scores":
      return (yTrue, yPred) =>
        tf.tidy(() => {
          const y = _oneHot(yTrue, yPred.shape[yPred.rank - 1]);
          return tf.losses.softmaxCrossEntropy(y, yPred) as tf.Scalar;
        });
    default:
      throw new Error(
        `unknown output kind ${kind}; expected "probabilities", ` +
          `"log-probabilities" or "scores".`,
      );
  }
}

/**
 * Converts a model's raw outputs to class probabilities summing to 1.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { toProbabilities } from "./losses.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const p = toProbabilities("log-probabilities", tf.log(tf.tensor2d([[0.25, 0.75]])));
 * const [a, b] = await p.data();
 * assert.ok(Math.abs(a - 0.25) < 1e-6 && Math.abs(b - 0.75) < 1e-6);
 * ```
 */
export function toProbabilities(
  kind: OutputKind,
  output: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    switch (kind) {
      case "probabilities":
        return tf.div(output, tf.sum(output, -1, true));
      case "log-probabilities":
        return tf.exp(output);
      case "scores":
        return tf.softmax(output);
      default:
        throw new Error(`unknown output kind ${kind}.`);
    }
  });
}
