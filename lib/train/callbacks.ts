/**
 * Callbacks usable with both {@linkcode fitModel} and {@linkcode trainLoop}:
 * early stopping, learning-rate schedules, stop on NaN and an epoch log file
 * (TensorBoard logs: `tensorBoard` in `./tensorboard.ts`).
 *
 * @example
 * ```ts
 * import { earlyStopping, exponentialDecay, scheduleLearningRate, stopOnNaN } from "./callbacks.ts";
 * const callbacks = [
 *   earlyStopping({ monitor: "val_loss", patience: 5 }),
 *   scheduleLearningRate(exponentialDecay(5e-3, 0.9)), // seed 004
 *   stopOnNaN(),
 * ];
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import {
  type BatchLogs,
  type EpochRecord,
  HISTORY_COLUMNS,
  type TrainCallback,
  type TrainState,
} from "./types.ts";
import { getLearningRate, setLearningRate } from "./optimizer.ts";

/** A column of {@linkcode EpochRecord} that can be monitored. */
export type MonitorName = "loss" | "acc" | "val_loss" | "val_acc";

/** Options of {@linkcode earlyStopping}. */
export interface EarlyStoppingOptions {
  /** Quantity to watch. Default: "val_loss". */
  monitor?: MonitorName;
  /** "min", "max", or "auto" (max for accuracies, min otherwise). Default: "auto". */
  mode?: "min" | "max" | "auto";
  /** Epochs without improvement before stopping. Default: 0. */
  patience?: number;
  /** Smallest change that counts as an improvement. Default: 0. */
  minDelta?: number;
  /** Put back the weights of the best epoch when training ends. Default: false. */
  restoreBestWeights?: boolean;
}

/** The early-stopping callback, with what it observed. */
export class EarlyStoppingCallback implements TrainCallback {
  /** Quantity watched. */
  readonly monitor: MonitorName;
  /** Whether smaller or larger is better. */
  readonly mode: "min" | "max";
  /** Epochs without improvement tolerated. */
  readonly patience: number;
  /** Smallest change that counts as improvement. */
  readonly minDelta: number;
  /** Whether to restore the best weights at the end. */
  readonly restoreBestWeights: boolean;
  /** Best value seen. */
  best: number = NaN;
  /** Epoch number (1-based, as in the history) of the best value, or -1. */
  bestEpoch: number = -1;
  /** Epoch number (1-based) after which training was stopped, or -1. */
  stoppedEpoch: number = -1;
  #wait = 0;
  #bestWeights: tf.Tensor[] | null = null;

  /**
   * See {@linkcode earlyStopping}.
   *
   * @example
   * ```ts
   * import { strict as assert } from "node:assert";
   * import { EarlyStoppingCallback } from "./callbacks.ts";
   * const stop = new EarlyStoppingCallback({ monitor: "val_acc", patience: 2 });
   * assert.ok(stop.mode === "max");
   * ```
   */
  constructor(options: EarlyStoppingOptions = {}) {
    const {
      monitor = "val_loss",
      mode = "auto",
      patience = 0,
      minDelta = 0,
      restoreBestWeights = false,
    } = options;
    if (!["loss", "acc", "val_loss", "val_acc"].includes(monitor)) {
      throw new Error(
        `earlyStopping: monitor must be loss, acc, val_loss or val_acc, got '${monitor}'`,
      );
    }
    if (!Number.isInteger(patience) || patience < 0) {
      throw new Error(
        `earlyStopping: patience must be an integer >= 0, got ${patience}`,
      );
    }
    if (!Number.isFinite(minDelta)) {
      throw new Error(
        `earlyStopping: minDelta must be a finite number, got ${minDelta}`,
      );
    }
    this.monitor = monitor;
    this.mode = mode === "auto"
      ? (monitor.endsWith("acc") ? "max" : "min")
      : mode;
    this.patience = patience;
    this.minDelta = Math.abs(minDelta);
    this.restoreBestWeights = restoreBestWeights;
  }

  #improved(value: number): boolean {
    if (Number.isNaN(this.best)) return !Number.isNaN(value);
    return this.mode === "min"
      ? value < this.best - this.minDelta
      : value > this.best + this.minDelta;
  }

  #observe(record: EpochRecord, stopped = false): boolean {
    const value = record[this.monitor];
    // An epoch cut short by another callback has no validation: not an error.
    if (value === null && stopped) return false;
    if (value === null) {
      throw new Error(
        `earlyStopping: monitor '${this.monitor}' has no value in epoch ${record.epoch}; pass validation data or monitor 'loss'/'acc'`,
      );
    }
    if (this.#improved(value)) {
      this.best = value;
      this.bestEpoch = record.epoch;
      this.#wait = 0;
      return true;
    }
    this.#wait += 1;
    return false;
  }

  /** Replays resumed history so patience counts across the interruption. */
  onTrainBegin(state: TrainState): void {
    this.best = NaN;
    this.bestEpoch = -1;
    this.stoppedEpoch = -1;
    this.#wait = 0;
    this.#disposeBest();
    for (const record of state.history) this.#observe(record);
  }

  /** Tracks the best epoch and stops after `patience` epochs without gain. */
  onEpochEnd(_epoch: number, record: EpochRecord, state: TrainState): void {
    if (state.stopTraining && record[this.monitor] === null) return;
    if (this.#observe(record, state.stopTraining)) {
      if (this.restoreBestWeights) {
        this.#disposeBest();
        this.#bestWeights = state.model.weights.map((w) => tf.clone(w.read()));
      }
    } else if (this.#wait >= this.patience) {
      this.stoppedEpoch = record.epoch;
      state.stopTraining = true;
      state.stopReason ??=
        `early stopping: ${this.monitor} did not improve for ${this.#wait} epoch(s); best ${
          this.best.toPrecision(4)
        } at epoch ${this.bestEpoch}`;
    }
  }

  /** Restores the best weights when asked to and they are not current. */
  onTrainEnd(state: TrainState): void {
    const last = state.history[state.history.length - 1];
    if (this.#bestWeights && last && last.epoch !== this.bestEpoch) {
      state.model.setWeights(this.#bestWeights);
    }
    this.#disposeBest();
  }

  #disposeBest(): void {
    if (this.#bestWeights) tf.dispose(this.#bestWeights);
    this.#bestWeights = null;
  }
}

/**
 * Stops training when `monitor` stops improving (Keras's `EarlyStopping`).
 * Stops once `patience` consecutive epochs failed to beat the best value by
 * more than `minDelta`; with `restoreBestWeights`, puts the best epoch's
 * weights back at the end. On resume, patience counts the resumed history.
 *
 * @example
 * ```ts
 * import { earlyStopping } from "./callbacks.ts";
 * const stop = earlyStopping({ monitor: "val_loss", patience: 5, restoreBestWeights: true });
 * ```
 */
export function earlyStopping(
  options: EarlyStoppingOptions = {},
): EarlyStoppingCallback {
  return new EarlyStoppingCallback(options);
}

/** A learning rate as a function of the 0-based epoch (and the current rate). */
export type LearningRateSchedule = (
  epoch: number,
  currentRate: number,
) => number;

/**
 * Seed 004's schedule: `lr0 * rate ** epoch`.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { exponentialDecay } from "./callbacks.ts";
 * const schedule = exponentialDecay(5e-3, 0.9);
 * assert.ok(Math.abs(schedule(2, 0) - 0.00405) < 1e-12); // 5e-3 * 0.9 ** 2
 * ```
 */
export function exponentialDecay(
  lr0: number,
  rate: number,
): LearningRateSchedule {
  const ok = (v: number) => Number.isFinite(v) && v > 0;
  if (!ok(lr0) || !ok(rate)) {
    throw new Error(
      `exponentialDecay: lr0 and rate must be finite numbers > 0, got lr0=${lr0}, rate=${rate}`,
    );
  }
  return (epoch) => lr0 * rate ** epoch;
}

/**
 * A callback setting the optimizer's learning rate to `schedule(epoch, lr)`
 * before every epoch (Keras's `LearningRateScheduler`). The new rate really
 * reaches the optimizer's update (see `setLearningRate`).
 *
 * @example
 * ```ts
 * import { exponentialDecay, scheduleLearningRate } from "./callbacks.ts";
 * const callback = scheduleLearningRate(exponentialDecay(5e-3, 0.9));
 * ```
 */
export function scheduleLearningRate(
  schedule: LearningRateSchedule,
): TrainCallback {
  return {
    onEpochBegin(epoch: number, state: TrainState) {
      const current = getLearningRate(state.optimizer);
      if (current === null) {
        throw new Error(
          `scheduleLearningRate: ${state.optimizer.getClassName()} has no learning rate to schedule`,
        );
      }
      const next = schedule(epoch, current);
      if (!Number.isFinite(next) || next < 0) {
        throw new Error(
          `scheduleLearningRate: the schedule returned ${next} for epoch ${epoch}; it must be a finite number >= 0`,
        );
      }
      setLearningRate(state.optimizer, next);
    },
  };
}

/** Where and how training diverged, for {@linkcode TrainingDivergedError}. */
export interface DivergenceInfo {
  /** 1-based epoch in which it happened. */
  epoch: number;
  /** Epochs asked for. */
  epochs: number;
  /** 1-based batch after which it was seen. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** The batch's loss. */
  loss: number;
  /** Learning rate of the epoch, or null when unknown. */
  learningRate: number | null;
  /** Weights that are NaN or infinite, of how many, and the first tensor holding one. */
  weights: { count: number; total: number; first: string | null };
}

/**
 * Training diverged: the loss or some weights became NaN or infinite. Thrown
 * by `fitModel`, `trainLoop` and `trainDataParallel` at the first batch
 * where it happens (their `checkFinite` option); the message names the epoch
 * and batch and what to do.
 *
 * @example
 * ```ts
 * import { TrainingDivergedError } from "./callbacks.ts";
 * const e = new TrainingDivergedError({
 *   epoch: 1, epochs: 3, batch: 2, batches: 4, loss: NaN, learningRate: 10,
 *   weights: { count: 5, total: 5, first: "dense/kernel" },
 * });
 * console.log(e.message);
 * ```
 */
export class TrainingDivergedError extends Error {
  /** Where and how it diverged. */
  readonly info: DivergenceInfo;
  /** Creates the error with its message from `info`. */
  constructor(info: DivergenceInfo) {
    const { weights } = info;
    const bad = weights.count
      ? `${weights.count.toLocaleString("en-US")} of ${
        weights.total.toLocaleString("en-US")
      } weights are NaN or infinite (the first in '${weights.first}')`
      : "";
    const cause = Number.isFinite(info.loss)
      ? `the loss is still ${
        info.loss.toPrecision(6)
      } but ${bad} (a clipped loss can hide it)`
      : `the loss is ${info.loss}` + (bad ? ` and ${bad}` : "");
    const lr = info.learningRate === null
      ? "lower the learning rate"
      : `lower the learning rate (it is ${info.learningRate}; try ${
        Number((info.learningRate / 10).toPrecision(3))
      })`;
    super(
      `training diverged in epoch ${info.epoch}/${info.epochs}, batch ` +
        `${info.batch}/${info.batches}: ${cause}. Training stopped; the model's ` +
        `weights are unusable. ${
          lr[0].toUpperCase() + lr.slice(1)
        } and train again (or resume from a checkpoint written before this ` +
        "epoch); also check the inputs for NaN values.",
    );
    this.name = "TrainingDivergedError";
    this.info = info;
  }
}

/**
 * A callback stopping training at the first NaN or infinite batch loss
 * (Keras's `TerminateOnNaN`), ending the run normally with a `stopReason`.
 * The training functions already stop with a {@linkcode TrainingDivergedError}
 * on a non-finite loss or weight; this callback matters with
 * `checkFinite: false`.
 *
 * @example
 * ```ts
 * import { stopOnNaN } from "./callbacks.ts";
 * const callbacks = [stopOnNaN()];
 * ```
 */
export function stopOnNaN(): TrainCallback {
  let epoch = 0;
  const check = (loss: number, where: string, state: TrainState) => {
    if (!Number.isFinite(loss) && !state.stopTraining) {
      state.stopTraining = true;
      state.stopReason =
        `loss is ${loss} at ${where}; training stopped: lower the learning rate`;
    }
  };
  return {
    onEpochBegin(e: number) {
      epoch = e;
    },
    onBatchEnd(batch: number, logs: BatchLogs, state: TrainState) {
      check(logs.loss, `batch ${batch + 1} of epoch ${epoch + 1}`, state);
    },
    onEpochEnd(e: number, record: EpochRecord, state: TrainState) {
      check(record.loss, `epoch ${e + 1}`, state);
    },
  };
}

/** Options of {@linkcode epochLog}. */
export interface EpochLogOptions {
  /** "csv" or "jsonl" (one JSON object a line). Default: from the extension, else "csv". */
  format?: "csv" | "jsonl";
}

function _csvCell(value: number | null): string {
  return value === null ? "" : String(value);
}

/**
 * A callback writing every epoch's record to `path` (CSV with a header, or
 * JSON lines). The file is rewritten at the start with any resumed history,
 * so it always matches the run's history; then one line per epoch.
 *
 * @example
 * ```ts
 * import { epochLog } from "./callbacks.ts";
 * const log = epochLog("runs/lenet5/epochs.csv");
 * ```
 */
export function epochLog(
  path: string,
  options: EpochLogOptions = {},
): TrainCallback {
  const format = options.format ?? (/\.jsonl?$/i.test(path) ? "jsonl" : "csv");
  if (format !== "csv" && format !== "jsonl") {
    throw new Error(
      `epochLog: format must be "csv" or "jsonl", got '${format}'`,
    );
  }
  const line = (r: EpochRecord) =>
    format === "csv"
      ? HISTORY_COLUMNS.map((c) => _csvCell(r[c])).join(",") + "\n"
      : JSON.stringify(r) + "\n";
  return {
    async onTrainBegin(state: TrainState) {
      const dir = path.replace(/[\\/][^\\/]*$/, "");
      if (dir !== path && dir !== "") {
        await Deno.mkdir(dir, { recursive: true });
      }
      const header = format === "csv" ? HISTORY_COLUMNS.join(",") + "\n" : "";
      await Deno.writeTextFile(path, header + state.history.map(line).join(""));
    },
    async onEpochEnd(_epoch: number, record: EpochRecord) {
      await Deno.writeTextFile(path, line(record), { append: true });
    },
  };
}
