/**
 * The options {@linkcode fitModel} and {@linkcode trainLoop} share, and the
 * result both return.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import type { CommonTrainOptions } from "./options.ts";
 * const options: CommonTrainOptions = { epochs: 5, batchSize: 64, seed: 42 };
 * assert.ok(options.epochs === 5);
 * ```
 *
 * @module
 */
import type pl from "nodejs-polars";
import type { EpochRecord, TrainCallback, TrainData } from "./types.ts";
import type { HistoryColumn } from "./history.ts";
import type { TrainingDivergedError as _TrainingDivergedError } from "./callbacks.ts";
import type {
  ProgressMode,
  ProgressOptions,
  ProgressReporter,
} from "./progress.ts";

/** Options shared by {@linkcode fitModel} and {@linkcode trainLoop}. */
export interface CommonTrainOptions {
  /** Total epochs; a resumed run continues up to this number. Default: 1. */
  epochs?: number;
  /** Samples per batch. Default: 32. */
  batchSize?: number;
  /** Validation inputs and targets, evaluated after each epoch. Default: none. */
  validationData?: TrainData;
  /**
   * Fraction (0..1) of the training samples, taken from the END before any
   * shuffling (as Keras does), used for validation instead. Default: 0.
   */
  validationSplit?: number;
  /** Shuffle the training samples every epoch. Default: true. */
  shuffle?: boolean;
  /**
   * Seed of the shuffling: each epoch's order depends only on (seed, epoch),
   * so seeded runs and resumed runs see the same batches. Default: none
   * (fitModel lets tfjs shuffle; trainLoop draws a random seed).
   */
  seed?: number;
  /** Callbacks, run in order. Default: []. */
  callbacks?: TrainCallback[];
  /** Progress display: a mode, options, or a reporter. Default: "auto". */
  progress?: ProgressMode | ProgressOptions | ProgressReporter;
  /** Write a checkpoint here after every epoch. Default: none. */
  checkpointDir?: string;
  /** Keep only the newest N checkpoints. Default: all. */
  keepCheckpoints?: number;
  /**
   * Continue from the newest checkpoint in `checkpointDir` (weights,
   * optimizer state, learning rate, history); starts afresh when there is
   * none. Default: false.
   */
  resume?: boolean;
  /**
   * Resume from a checkpoint that has no `manifest.json` (its files cannot
   * be checked for changes). Default: false (refused).
   */
  allowUnverifiedCheckpoint?: boolean;
  /** Append every epoch's record to this `.csv` or `.jsonl` file. Default: none. */
  logPath?: string;
  /**
   * After every batch, check that the loss and every weight are finite; at
   * the first that is not, stop and throw a {@linkcode TrainingDivergedError}
   * naming the epoch and batch (the partial epoch is not recorded, no
   * checkpoint is written). The weights are checked with one sum per weight
   * tensor, read together with the loss where the loop reads it anyway.
   * Default: true.
   */
  checkFinite?: boolean;
}

/** What {@linkcode fitModel} and {@linkcode trainLoop} return. */
export interface TrainResult {
  /**
   * One row per finished epoch (resumed ones included); the `epoch` column is
   * 1-based, as printed.
   */
  history: pl.DataFrame;
  /** The same rows as plain objects. */
  records: EpochRecord[];
  /** The same history as plain column arrays. */
  columns: Record<HistoryColumn, (number | null)[]>;
  /** Epoch index (0-based) this call started at: > 0 after a resume. */
  initialEpoch: number;
  /** Epochs run by this call. */
  epochsRun: number;
  /** Why training stopped before `epochs`, or null. */
  stopReason: string | null;
  /**
   * What a resume did: the checkpoint it continued from and a line for each
   * setting that differs from the checkpoint's run; [] without a resume.
   */
  resumeNotes: string[];
  /** Wall-clock seconds of this call. */
  seconds: number;
}
