// The loss and accuracy of the hand-written loops, shared by trainLoop and
// the data-parallel replicas so that both resolve "auto", count correct
// predictions and validate the same way.
import * as tf from "../tf.ts";
import type { TrainData } from "./types.ts";
import type { EpochOutcome } from "./_session.ts";
import { RunningMean } from "./running_mean.ts";

/** Built-in losses of `trainLoop` and `trainDataParallel`. */
export type LossName =
  | "sparseCategoricalCrossentropy"
  | "categoricalCrossentropy"
  | "meanSquaredError";

/** How the loss is computed, as plain data a worker can receive. */
export interface LossSpec {
  /** The loss on the model's output. */
  name: LossName;
  /** Labels `[N]` (true) or one-hot `[N, C]` (false). */
  sparse: boolean;
  /** Number of classes (the model's last output dimension). */
  classes: number;
}

/** The model's class count and whether `ys` holds integer labels. */
export function labelLayout(
  model: tf.LayersModel,
  ys: tf.Tensor,
): { sparse: boolean; classes: number; outShape: (number | null)[] } {
  const outShape = (model.outputs[0]?.shape ?? []) as (number | null)[];
  const classes = outShape[outShape.length - 1] ?? 0;
  const sparse = ys.rank === 1 ||
    (ys.rank === 2 && ys.shape[1] === 1 && classes > 1);
  return { sparse, classes, outShape };
}

/**
 * Resolves a loss name ("auto" by default) against the model and targets;
 * `choices` ends the unknown-loss message with what the caller accepts.
 */
export function resolveLossSpec(
  model: tf.LayersModel,
  ys: tf.Tensor,
  loss: string | undefined,
  what: string,
  choices: string,
): LossSpec {
  const { sparse, classes, outShape } = labelLayout(model, ys);
  const name = loss ?? "auto";
  if (name === "meanSquaredError") return { name, sparse, classes };
  if (
    name !== "auto" && name !== "sparseCategoricalCrossentropy" &&
    name !== "categoricalCrossentropy"
  ) {
    throw new Error(`${what}: unknown loss '${String(name)}'; use ${choices}`);
  }
  const wantSparse = name === "auto"
    ? sparse
    : name === "sparseCategoricalCrossentropy";
  if (wantSparse && !sparse) {
    throw new Error(
      `${what}: sparseCategoricalCrossentropy needs integer labels [N], got ys of shape [${ys.shape}]`,
    );
  }
  if (!wantSparse && ys.rank !== 2) {
    throw new Error(
      `${what}: categoricalCrossentropy needs one-hot targets [N, C], got ys of shape [${ys.shape}]`,
    );
  }
  if (!(classes > 1)) {
    throw new Error(
      `${what}: cross-entropy needs a model output [N, C] with C > 1, got [${outShape}]`,
    );
  }
  return {
    name: wantSparse
      ? "sparseCategoricalCrossentropy"
      : "categoricalCrossentropy",
    sparse: wantSparse,
    classes,
  };
}

/** Mean loss of a batch under a built-in loss. */
export function lossTensor(
  spec: LossSpec,
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
): tf.Scalar {
  if (spec.name === "meanSquaredError") {
    return tf.losses.meanSquaredError(yTrue, yPred) as tf.Scalar;
  }
  // tfjs-layers' categoricalCrossentropy: normalises, clips, -sum(y log p).
  const target = spec.sparse
    ? tf.oneHot(tf.cast(tf.reshape(yTrue, [-1]), "int32"), spec.classes)
    : yTrue;
  return tf.mean(tf.metrics.categoricalCrossentropy(target, yPred));
}

/** Number of correct argmax predictions, or null when accuracy is undefined. */
export function correctTensor(
  layout: { sparse: boolean; classes: number },
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
): tf.Tensor | null {
  if (!(layout.classes > 1)) return null;
  const predicted = tf.argMax(yPred, -1);
  const truth = layout.sparse
    ? tf.cast(tf.reshape(yTrue, [-1]), "int32")
    : tf.argMax(yTrue, -1);
  return tf.sum(tf.cast(tf.equal(predicted, truth), "float32"));
}

/** A batch's mean loss and correct count, as tensors. */
export interface BatchMeasure {
  /** Mean loss of the batch. */
  loss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar;
  /** Correct predictions of the batch, or null without accuracy. */
  correct(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor | null;
}

/** Mean loss and accuracy of the model over `data`, in batches. */
export async function evaluateBatches(
  model: tf.LayersModel,
  measure: BatchMeasure,
  data: TrainData,
  batchSize: number,
): Promise<{ loss: number; acc: number | null }> {
  const n = data.xs.shape[0];
  const loss = new RunningMean();
  let correct = 0;
  let hasAcc = false;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const { l, c } = tf.tidy(() => {
      const cut = (t: tf.Tensor) =>
        tf.slice(t, [start, ...t.shape.slice(1).map(() => 0)], [
          size,
          ...t.shape.slice(1),
        ]);
      const yb = cut(data.ys);
      const pred = model.apply(cut(data.xs), { training: false }) as tf.Tensor;
      return {
        l: measure.loss(yb, pred),
        c: measure.correct(yb, pred) ?? undefined,
      };
    });
    const [lv, cv] = await Promise.all([l.data(), c?.data()]);
    tf.dispose([l, ...(c ? [c] : [])]);
    loss.update(lv[0], size);
    if (cv) {
      correct += cv[0];
      hasAcc = true;
    }
  }
  return { loss: loss.result(), acc: hasAcc ? correct / n : null };
}

/** Running training loss and accuracy of one epoch, fed batch by batch. */
export class EpochMetrics {
  readonly loss = new RunningMean();
  readonly acc = new RunningMean();

  /** Forgets the batches seen so far. */
  reset(): void {
    this.loss.reset();
    this.acc.reset();
  }

  /** Adds one batch's mean loss and accuracy (null: none). */
  update(loss: number, acc: number | null, size: number): void {
    this.loss.update(loss, size);
    if (acc !== null) this.acc.update(acc, size);
  }

  /** The epoch's outcome, with validation results if there were any. */
  outcome(
    val: { loss: number; acc: number | null } | null,
    trainSeconds: number,
  ): EpochOutcome {
    return {
      loss: this.loss.result(),
      acc: this.acc.count > 0 ? this.acc.result() : null,
      val_loss: val ? val.loss : null,
      val_acc: val ? val.acc : null,
      trainSeconds,
    };
  }
}
