// The epoch driver shared by fitModel and trainLoop: resume, callbacks,
// progress, checkpoints, epoch log and history. Each front end only says
// how to run one epoch.
import * as tf from "../tf.ts";
import type { BatchLogs, EpochRecord, TrainData, TrainState } from "./types.ts";
import { getLearningRate } from "./optimizer.ts";
import { interruptible } from "./interrupt.ts";
import { epochLog } from "./callbacks.ts";
import {
  checkpointCallback,
  latestCheckpoint,
  loadCheckpoint,
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

/** Handed to an epoch runner: call after each batch; true means stop. */
export type BatchHook = (batch: number, logs: BatchLogs) => Promise<boolean>;

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
  const { epochs = 1, batchSize = 32, checkpointDir, resume = false } = options;
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new Error(`${what}: epochs must be an integer >= 1, got ${epochs}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(
      `${what}: batchSize must be an integer >= 1, got ${batchSize}`,
    );
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
  if (checkpointDir) {
    for (const path of await removeOrphanedCheckpoints(checkpointDir)) {
      console.warn(`removed ${path}, left half-written by an interrupted run`);
    }
  }
  if (resume && checkpointDir) {
    const last = await latestCheckpoint(checkpointDir);
    if (last) {
      const saved = await loadCheckpoint(last.path, model, { optimizer });
      state.history = saved.history.slice();
      state.initialEpoch = saved.epoch;
    }
  }
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
    return await _runEpochs();
  } finally {
    interrupt.dispose();
  }

  async function _runEpochs(): Promise<TrainResult> {
    for (const c of callbacks) await c.onTrainBegin?.(state);
    await progress.start({
      epochs,
      initialEpoch: state.initialEpoch,
      samples,
      batchSize,
      history: state.history,
    });

    let epochsRun = 0;
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
      const onBatch: BatchHook = async (batch, logs) => {
        batchesDone = batch + 1;
        await progress.batch(logs.size, logs.loss, logs.acc);
        for (const c of callbacks) await c.onBatchEnd?.(batch, logs, state);
        // A timer turn now and then: the batches themselves may only await
        // promises, and the SIGINT listener needs a macrotask to run.
        await interrupt.shouldStop();
        return state.stopTraining;
      };
      const outcome = await runEpoch(epoch, onBatch, state);
      if (interrupt.stopRequested) {
        const batches = Math.ceil(samples / batchSize);
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
    await progress.end(state.history, state.stopReason);
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
      stopReason: state.stopTraining
        ? state.stopReason ?? "stopped by a callback"
        : null,
      seconds: (performance.now() - started) / 1000,
    };
  }
}
