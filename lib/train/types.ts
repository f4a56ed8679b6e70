/**
 * Shapes shared by {@linkcode fitModel}, {@linkcode trainLoop} and the
 * callbacks: one record per finished epoch, the mutable training state the
 * callbacks see, and the callback interface itself.
 *
 * @example
 * ```ts
 * import type { TrainCallback } from "./types.ts";
 * const printer: TrainCallback = {
 *   onEpochEnd: (epoch, record) => console.log(epoch, record.loss),
 * };
 * ```
 *
 * @module
 */
import type * as tf from "../tf.ts";

/** Training inputs and targets: images NHWC (or any rank) and labels. */
export interface TrainData {
  /** Inputs, first axis = samples. */
  xs: tf.Tensor;
  /**
   * Targets: int32/float32 class labels `[N]` (sparse) or one-hot `[N, C]`.
   */
  ys: tf.Tensor;
}

/** One row of the history: what happened in one finished epoch. */
export interface EpochRecord {
  /**
   * Epoch number, 1-based as printed ("Epoch 1/10" is 1). Callback hooks get
   * the 0-based index, as in Keras and tfjs.
   */
  epoch: number;
  /** Mean training loss over the epoch's samples. */
  loss: number;
  /** Mean training accuracy, or null when the model reports none. */
  acc: number | null;
  /** Validation loss, or null without validation data. */
  val_loss: number | null;
  /** Validation accuracy, or null without validation data. */
  val_acc: number | null;
  /** Learning rate the optimizer used during this epoch (null if unknown). */
  lr: number | null;
  /** Wall-clock seconds of the whole epoch, validation included. */
  seconds: number;
  /** Training throughput of the epoch (validation excluded). */
  samples_per_s: number;
}

/** Column names of the history, in order. */
export const HISTORY_COLUMNS = [
  "epoch",
  "loss",
  "acc",
  "val_loss",
  "val_acc",
  "lr",
  "seconds",
  "samples_per_s",
] as const;

/** What callbacks see and may change while training runs. */
export interface TrainState {
  /** The model being trained. */
  model: tf.LayersModel;
  /** The optimizer applying the updates. */
  optimizer: tf.Optimizer;
  /** Total number of epochs requested (the last epoch index is `epochs - 1`). */
  epochs: number;
  /**
   * 0-based index of the first epoch of this run: 0, or the number of epochs
   * a resumed checkpoint had finished.
   */
  initialEpoch: number;
  /** Batch size. */
  batchSize: number;
  /** Number of training samples per epoch. */
  samples: number;
  /** Records of all finished epochs (resumed ones included), 1-based `epoch`. */
  history: EpochRecord[];
  /** Set to true (with a reason) to stop after the current batch. */
  stopTraining: boolean;
  /** Why training stopped early, if it did. */
  stopReason?: string;
  /** Seed of the batch shuffling, when one was given. */
  seed?: number;
}

/** Per-batch numbers handed to {@linkcode TrainCallback.onBatchEnd}. */
export interface BatchLogs {
  /** Samples in this batch. */
  size: number;
  /** Loss of this batch. */
  loss: number;
  /** Accuracy of this batch, or null. */
  acc: number | null;
}

/**
 * A training callback. Every hook is optional and may be async; the same
 * object works with {@linkcode fitModel} and {@linkcode trainLoop}.
 */
export interface TrainCallback {
  /** Before the first epoch (after a resume has restored `state.history`). */
  onTrainBegin?(state: TrainState): void | Promise<void>;
  /** Before each epoch; `epoch` is the 0-based index. */
  onEpochBegin?(epoch: number, state: TrainState): void | Promise<void>;
  /** After each batch (keep it cheap: it runs once per step). */
  onBatchEnd?(
    batch: number,
    logs: BatchLogs,
    state: TrainState,
  ): void | Promise<void>;
  /**
   * After each epoch, once its record is in `state.history`; `epoch` is the
   * 0-based index, so `record.epoch === epoch + 1`.
   */
  onEpochEnd?(
    epoch: number,
    record: EpochRecord,
    state: TrainState,
  ): void | Promise<void>;
  /** After the last epoch, also when stopped early. */
  onTrainEnd?(state: TrainState): void | Promise<void>;
}
