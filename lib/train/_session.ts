// The epoch driver shared by fitModel and trainLoop: resume, callbacks,
// progress, checkpoints, epoch log and history. Each front end only says
// how to run one epoch.
import * as tf from "../tf.ts";
import type {
  BatchLogs,
  EpochRecord,
  TrainCallback,
  TrainData,
  TrainState,
} from "./types.ts";
import { getLearningRate } from "./optimizer.ts";
import { interruptible } from "./interrupt.ts";
import { epochLog, TrainingDivergedError } from "./callbacks.ts";
import {
  checkpointCallback,
  type CheckpointLock,
  type CheckpointState,
  latestCheckpoint,
  loadCheckpoint,
  lockCheckpointDir,
  removeOrphanedCheckpoints,
} from "./checkpoint.ts";
import { historyColumns, historyFrame } from "./history.ts";
import {
  createProgress,
  type ProgressOptions,
  type ProgressReporter,
} from "./progress.ts";

export type { CommonTrainOptions, TrainResult } from "./options.ts";
import type { CommonTrainOptions, TrainResult } from "./options.ts";

/** Per-epoch numbers an epoch runner reports. */
export interface EpochOutcome {
  loss: number;
  acc: number | null;
  val_loss: number | null;
  val_acc: number | null;
  /** Seconds spent on training batches (validation excluded). */
  trainSeconds: number;
}

/**
 * Handed to an epoch runner: call after each batch (once the optimizer has
 * updated the weights); true means stop. `weightSum` is the sum of all the
 * model's weights ({@linkcode weightSumTensor}) when the runner read it with
 * the loss; without it the hook reads it itself.
 */
export type BatchHook = (
  batch: number,
  logs: BatchLogs,
  weightSum?: number,
) => Promise<boolean>;

/**
 * The sum of every weight of `model` as a float32 scalar: NaN or infinite
 * exactly when some weight is (or the weights are absurdly large). One Sum
 * per weight tensor; read it with the batch's loss.
 */
export function weightSumTensor(model: tf.LayersModel): tf.Scalar {
  return tf.tidy(() => {
    const sums = model.weights.map((w) => {
      const v = w.read();
      return tf.sum(v.dtype === "float32" ? v : tf.cast(v, "float32"));
    });
    return (sums.length ? tf.addN(sums) : tf.scalar(0)) as tf.Scalar;
  });
}

/** Counts the weights that are not finite, and names the first tensor holding one. */
async function _nonFinite(
  model: tf.LayersModel,
): Promise<{ count: number; total: number; first: string | null }> {
  let count = 0;
  let total = 0;
  let first: string | null = null;
  for (const w of model.weights) {
    const values = await w.read().data();
    total += values.length;
    let here = 0;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) here++;
    }
    if (here && first === null) first = w.name;
    count += here;
  }
  return { count, total, first };
}

/** Training data split into train/validation, with tensors owned here. */
export interface PreparedData {
  train: TrainData;
  validation: TrainData | null;
  /** Tensors created by the split, disposed at the end. */
  owned: tf.Tensor[];
}

/** The optimizer to train with: the given one, else the compiled model's. */
export function trainingOptimizer(
  model: tf.LayersModel,
  optimizer: tf.Optimizer | undefined,
  what: string,
): tf.Optimizer {
  const chosen = optimizer ??
    (model as { optimizer?: tf.Optimizer }).optimizer;
  if (!chosen) {
    throw new Error(
      `${what}: no optimizer; pass options.optimizer (e.g. tf.train.adam()) or compile the model`,
    );
  }
  return chosen;
}

export function checkData(data: TrainData, what: string): void {
  if (
    !data || !(data.xs instanceof tf.Tensor) || !(data.ys instanceof tf.Tensor)
  ) {
    throw new Error(`${what}: expected { xs, ys } tensors`);
  }
  const n = data.xs.shape[0];
  if (data.xs.rank < 1 || n === 0) {
    throw new Error(`${what}: xs has no samples (shape [${data.xs.shape}])`);
  }
  if (data.ys.shape[0] !== n) {
    throw new Error(
      `${what}: xs has ${n} samples but ys has ${
        data.ys.shape[0]
      }; they must match`,
    );
  }
}

export function prepareData(
  data: TrainData,
  options: CommonTrainOptions,
  what: string,
): PreparedData {
  checkData(data, what);
  const { validationData, validationSplit = 0 } = options;
  if (validationData) checkData(validationData, `${what} (validationData)`);
  if (!(validationSplit >= 0 && validationSplit < 1)) {
    throw new Error(
      `${what}: validationSplit must be in [0, 1), got ${validationSplit}`,
    );
  }
  if (validationSplit === 0 || validationData) {
    return { train: data, validation: validationData ?? null, owned: [] };
  }
  const n = data.xs.shape[0];
  const nVal = Math.floor(n * validationSplit);
  if (nVal === 0 || nVal === n) {
    throw new Error(
      `${what}: validationSplit ${validationSplit} of ${n} samples leaves an empty split`,
    );
  }
  const cut = (t: tf.Tensor, start: number, size: number) =>
    tf.slice(t, [start, ...t.shape.slice(1).map(() => 0)], [
      size,
      ...t.shape.slice(1),
    ]);
  const train = {
    xs: cut(data.xs, 0, n - nVal),
    ys: cut(data.ys, 0, n - nVal),
  };
  const validation = {
    xs: cut(data.xs, n - nVal, nVal),
    ys: cut(data.ys, n - nVal, nVal),
  };
  return {
    train,
    validation,
    owned: [train.xs, train.ys, validation.xs, validation.ys],
  };
}

function _progress(option: CommonTrainOptions["progress"]): ProgressReporter {
  if (option === undefined || typeof option === "string") {
    return createProgress({ mode: option ?? "auto" });
  }
  if ("epochEnd" in option && typeof option.epochEnd === "function") {
    return option as ProgressReporter;
  }
  return createProgress(option as ProgressOptions);
}

/** One line per setting of this run that differs from the checkpoint's. */
function _resumeNotes(
  path: string,
  saved: CheckpointState,
  asked: {
    learningRate: number | null;
    optimizer: string;
    batchSize: number;
    samples: number;
    seed: number | undefined;
    epochs: number;
  },
): string[] {
  const notes = [
    `resuming from ${path}: ${saved.epoch} epoch(s) finished, training ` +
    (saved.epoch >= asked.epochs
      ? "none"
      : `epochs ${saved.epoch + 1}..${asked.epochs}`),
  ];
  const startedAt = saved.history[0]?.lr ?? null;
  if (
    asked.learningRate !== null && startedAt !== null &&
    Math.abs(asked.learningRate - startedAt) > 1e-9 * Math.abs(startedAt)
  ) {
    notes.push(
      `learning rate: this run asks for ${asked.learningRate} but the ` +
        `checkpoint's run started at ${startedAt}; training continues at the ` +
        `checkpoint's ${saved.learningRate} (the optimizer's state is resumed ` +
        "with it; a learning-rate schedule still applies). To train at " +
        "another rate from scratch, use another checkpoint folder",
    );
  }
  if (saved.batchSize !== undefined && saved.batchSize !== asked.batchSize) {
    notes.push(
      `batch size: this run uses ${asked.batchSize}, the checkpoint's run ` +
        `used ${saved.batchSize}; the resumed epochs use ${asked.batchSize}`,
    );
  }
  if (saved.samples !== undefined && saved.samples !== asked.samples) {
    notes.push(
      `training data: this run has ${asked.samples} samples, the ` +
        `checkpoint's run had ${saved.samples}; the resumed epochs use this ` +
        "run's data",
    );
  }
  if (
    saved.seed !== undefined && asked.seed !== undefined &&
    saved.seed !== asked.seed
  ) {
    notes.push(
      `seed: this run shuffles with seed ${asked.seed}, the checkpoint's run ` +
        `used ${saved.seed}; the batch order differs from an uninterrupted run`,
    );
  }
  if (saved.epoch >= asked.epochs) {
    notes.push(
      `nothing to train: the checkpoint already holds ${saved.epoch} ` +
        `finished epoch(s) and this run asks for ${asked.epochs}; ask for ` +
        "more epochs to continue (the model now holds the checkpoint's weights)",
    );
  }
  return notes;
}

/** Runs the epochs; `runEpoch` does the work of one. */
export async function runSession(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  samples: number,
  options: CommonTrainOptions,
  what: string,
  runEpoch: (
    epoch: number,
    onBatch: BatchHook,
    state: TrainState,
  ) => Promise<EpochOutcome>,
): Promise<TrainResult> {
  const started = performance.now();
  const {
    epochs = 1,
    batchSize = 32,
    checkpointDir,
    resume = false,
    checkFinite = true,
  } = options;
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new Error(`${what}: epochs must be an integer >= 1, got ${epochs}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(
      `${what}: batchSize must be an integer >= 1, got ${batchSize}`,
    );
  }
  for (const key of ["checkpointDir", "logPath"] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== "string" || !value.trim())) {
      throw new Error(
        `${what}: ${key} is empty; give a folder path, or leave it out`,
      );
    }
  }
  if (resume && !checkpointDir) {
    throw new Error(
      `${what}: resume needs checkpointDir (where the checkpoints are)`,
    );
  }
  const state: TrainState = {
    model,
    optimizer,
    epochs,
    initialEpoch: 0,
    batchSize,
    samples,
    history: [],
    stopTraining: false,
    seed: options.seed,
  };
  let lock: CheckpointLock | null = null;
  const resumeNotes: string[] = [];
  if (checkpointDir) {
    // One run per folder: a second one would remove the first's
    // half-written checkpoint as debris.
    lock = await lockCheckpointDir(checkpointDir);
    if (lock.tookOverFrom) {
      console.warn(
        `took over the lock of ${checkpointDir} from PID ${lock.tookOverFrom.pid}, which is gone`,
      );
    }
  }
  try {
    if (checkpointDir) {
      for (const path of await removeOrphanedCheckpoints(checkpointDir)) {
        console.warn(
          `removed ${path}, left half-written by an interrupted run`,
        );
      }
    }
    if (resume && checkpointDir) {
      const last = await latestCheckpoint(checkpointDir);
      if (last) {
        const asked = {
          learningRate: getLearningRate(optimizer),
          optimizer: optimizer.getClassName(),
          batchSize,
          samples,
          seed: options.seed,
          epochs,
        };
        const saved = await loadCheckpoint(last.path, model, {
          optimizer,
          allowUnverified: options.allowUnverifiedCheckpoint,
        });
        state.history = saved.history.slice();
        state.initialEpoch = saved.epoch;
        resumeNotes.push(..._resumeNotes(last.path, saved, asked));
        for (const note of resumeNotes) console.warn(`resume: ${note}`);
        if (saved.epoch >= epochs) {
          state.stopReason = resumeNotes.at(-1);
        }
      }
    }
    return await _train();
  } finally {
    await lock?.release();
  }

  async function _train(): Promise<TrainResult> {
    const callbacks = [...(options.callbacks ?? [])];
    if (options.logPath) callbacks.push(epochLog(options.logPath));
    if (checkpointDir) {
      callbacks.push(
        checkpointCallback(checkpointDir, { keep: options.keepCheckpoints }),
      );
    }
    const progress = _progress(options.progress);
    // Ctrl-C or Jupyter's stop button: stop between batches, keep the weights.
    const interrupt = interruptible({
      what: `training (${what})`,
      onInterrupt: () => {
        state.stopTraining = true;
      },
    });
    try {
      return await _runEpochs(callbacks, progress, interrupt);
    } finally {
      interrupt.dispose();
    }
  }

  async function _runEpochs(
    callbacks: TrainCallback[],
    progress: ProgressReporter,
    interrupt: ReturnType<typeof interruptible>,
  ): Promise<TrainResult> {
    for (const c of callbacks) await c.onTrainBegin?.(state);
    await progress.start({
      epochs,
      initialEpoch: state.initialEpoch,
      samples,
      batchSize,
      history: state.history,
    });

    let epochsRun = 0;
    const failure: { diverged: TrainingDivergedError | null } = {
      diverged: null,
    };
    const batches = Math.ceil(samples / batchSize);
    for (
      let epoch = state.initialEpoch;
      epoch < epochs && !state.stopTraining;
      epoch++
    ) {
      for (const c of callbacks) await c.onEpochBegin?.(epoch, state);
      const lr = getLearningRate(optimizer);
      await progress.epochBegin(epoch);
      const epochStart = performance.now();
      let batchesDone = 0;
      const onBatch: BatchHook = async (batch, logs, weightSum) => {
        batchesDone = batch + 1;
        if (checkFinite && !failure.diverged) {
          const sum = Number.isFinite(logs.loss)
            ? weightSum ?? await _readWeightSum(model)
            : NaN;
          if (!Number.isFinite(logs.loss) || !Number.isFinite(sum)) {
            const diverged = new TrainingDivergedError({
              epoch: epoch + 1,
              epochs,
              batch: batch + 1,
              batches,
              loss: logs.loss,
              learningRate: lr,
              weights: await _nonFinite(model),
            });
            failure.diverged = diverged;
            state.stopTraining = true;
            state.stopReason = diverged.message;
            return true;
          }
        }
        await progress.batch(logs.size, logs.loss, logs.acc);
        for (const c of callbacks) await c.onBatchEnd?.(batch, logs, state);
        // A timer turn now and then: the batches themselves may only await
        // promises, and the SIGINT listener needs a macrotask to run.
        await interrupt.shouldStop();
        return state.stopTraining;
      };
      const outcome = await runEpoch(epoch, onBatch, state);
      if (failure.diverged) break;
      if (interrupt.stopRequested) {
        if (batchesDone < batches) {
          // A partial epoch is not a finished one: no record, no checkpoint.
          state.stopReason =
            `interrupted in epoch ${
              epoch + 1
            }/${epochs} after batch ${batchesDone}/${batches}; the model keeps ` +
            `the weights trained so far; this partial epoch is not in the history`;
          break;
        }
        state.stopReason = `interrupted after epoch ${epoch + 1}/${epochs}`;
      }
      const record: EpochRecord = {
        epoch: epoch + 1,
        loss: outcome.loss,
        acc: outcome.acc,
        val_loss: outcome.val_loss,
        val_acc: outcome.val_acc,
        lr,
        seconds: (performance.now() - epochStart) / 1000,
        samples_per_s: samples / Math.max(outcome.trainSeconds, 1e-9),
      };
      state.history.push(record);
      epochsRun++;
      await progress.epochEnd(record, state.history);
      for (const c of callbacks) await c.onEpochEnd?.(epoch, record, state);
    }
    if (interrupt.stopRequested && !state.stopReason) {
      state.stopReason = `interrupted after epoch ${
        state.history.at(-1)?.epoch ?? 0
      }/${epochs}`;
    }
    for (const c of callbacks) await c.onTrainEnd?.(state);
    // The error carries the full message; the display only says where.
    const diverged = failure.diverged as TrainingDivergedError | null;
    await progress.end(
      state.history,
      diverged
        ? `diverged in epoch ${diverged.info.epoch}, batch ${diverged.info.batch} (see the error)`
        : state.stopReason,
    );
    if (diverged) throw diverged;
    if (interrupt.stopRequested && options.progress === "none") {
      console.error(`Stopped: ${state.stopReason}`);
    }
    const records = state.history.slice();
    return {
      history: historyFrame(records),
      records,
      columns: historyColumns(records),
      initialEpoch: state.initialEpoch,
      epochsRun,
      stopReason: state.stopTraining || state.stopReason
        ? state.stopReason ?? "stopped by a callback"
        : null,
      resumeNotes,
      seconds: (performance.now() - started) / 1000,
    };
  }
}

async function _readWeightSum(model: tf.LayersModel): Promise<number> {
  const sum = weightSumTensor(model);
  try {
    return (await sum.data())[0];
  } finally {
    sum.dispose();
  }
}
