/**
 * Per-epoch checkpoints, written atomically (a temporary folder renamed into
 * place), and resume from the last finished epoch as seed 004 does with its
 * `cifar.{epoch:03d}.hdf5` files and `initial_epoch`.
 *
 * A checkpoint is a folder `epoch-0003` (3 epochs finished) holding
 * `weights.json`/`weights.bin` (all model weights, in `model.weights` order),
 * `optimizer.json`/`optimizer.bin` (the optimizer's accumulated state),
 * `state.json` (last finished epoch, learning rate, the history so far) and
 * `manifest.json` (size and SHA-256 of every other file). A resume refuses a
 * checkpoint whose files changed since they were written, or whose weights
 * are not finite or beyond {@linkcode MAX_CHECKPOINT_WEIGHT}, naming the file.
 * Folders a killed run left half-written (`.tmp-epoch-*`) are removed by the
 * next run that uses the folder.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { latestCheckpoint, loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
 * const optimizer = tf.train.adam(1e-3);
 * const dir = await Deno.makeTempDir();
 * await saveCheckpoint(dir, model, { optimizer, epoch: 1, history: [] });
 * const last = await latestCheckpoint(dir);
 * if (last) await loadCheckpoint(last.path, model, { optimizer });
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import * as tf from "../tf.ts";
import type { EpochRecord, TrainCallback, TrainState } from "./types.ts";
import {
  getLearningRate,
  getOptimizerState,
  setLearningRate,
  setOptimizerState,
} from "./optimizer.ts";
import {
  readTensorFile,
  type TensorEntry,
  writeTensorFile,
} from "./_tensor_file.ts";

/** What `state.json` of a checkpoint holds. */
export interface CheckpointState {
  /**
   * Epochs finished (the 1-based number of the last one); training resumes
   * at the 0-based epoch index `epoch`, as Keras's `initial_epoch`.
   */
  epoch: number;
  /** Learning rate at the end of that epoch, or null. */
  learningRate: number | null;
  /** Class name of the optimizer whose state was saved, or null. */
  optimizer: string | null;
  /** Records of all epochs up to and including `epoch`. */
  history: EpochRecord[];
  /** Shuffle seed of the run, if any. */
  seed?: number;
  /** ISO time of writing. */
  savedAt: string;
}

/** A checkpoint found on disk. */
export interface CheckpointInfo {
  /** Folder of the checkpoint. */
  path: string;
  /** Epochs finished (1-based number of the last finished epoch). */
  epoch: number;
}

/** Options of {@linkcode saveCheckpoint}. */
export interface SaveCheckpointOptions {
  /** Epochs finished (1-based number of the last finished epoch), >= 1. */
  epoch: number;
  /** History up to `epoch`. Default: []. */
  history?: EpochRecord[];
  /** Optimizer whose state to save. Default: none (weights only). */
  optimizer?: tf.Optimizer;
  /** Shuffle seed to record. Default: none. */
  seed?: number;
  /** Keep only the newest N checkpoints in the folder. Default: all. */
  keep?: number;
}

/** Options of {@linkcode loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /** Optimizer to restore state and learning rate into. Default: none. */
  optimizer?: tf.Optimizer;
}

const _PREFIX = "epoch-";
const _MANIFEST = "manifest.json";
const _MANIFEST_FORMAT = "cnn-checkpoint/1";

/**
 * Largest absolute weight a checkpoint may hold and still be resumed from.
 * Trained weights stay far below it (batch-norm variances of raw 0..255
 * pixels reach about 6.5e4); a value beyond it means training diverged.
 */
export const MAX_CHECKPOINT_WEIGHT = 1e6;

/** What `manifest.json` of a checkpoint holds. */
interface _Manifest {
  format: string;
  files: Record<string, { size: number; sha256: string }>;
}

async function _sha256(
  path: string,
): Promise<{ sha256: string; size: number }> {
  const bytes = await Deno.readFile(path);
  return {
    sha256: createHash("sha256").update(bytes).digest("hex"),
    size: bytes.length,
  };
}

async function _writeManifest(folder: string): Promise<void> {
  const manifest: _Manifest = { format: _MANIFEST_FORMAT, files: {} };
  const names: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    if (entry.isFile && entry.name !== _MANIFEST) names.push(entry.name);
  }
  for (const name of names.sort()) {
    manifest.files[name] = await _sha256(`${folder}/${name}`);
  }
  await Deno.writeTextFile(
    `${folder}/${_MANIFEST}`,
    JSON.stringify(manifest, null, 1),
  );
}

/** Refuses a checkpoint whose files are not what its manifest recorded. */
async function _verifyManifest(path: string): Promise<void> {
  let manifest: _Manifest;
  try {
    manifest = JSON.parse(await Deno.readTextFile(`${path}/${_MANIFEST}`));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      // Written before checkpoints had manifests: the weights are still
      // checked for finite values.
      console.warn(
        `warning: ${path} has no ${_MANIFEST} (written by an older version); ` +
          "its files cannot be checked for changes",
      );
      return;
    }
    throw new Error(
      `loadCheckpoint: ${path}/${_MANIFEST} is damaged (${
        (error as Error).message
      }); delete ${path} to resume from the checkpoint before it`,
    );
  }
  if (manifest?.format !== _MANIFEST_FORMAT || !manifest.files) {
    throw new Error(
      `loadCheckpoint: ${path}/${_MANIFEST} is not a ${_MANIFEST_FORMAT} manifest`,
    );
  }
  for (const [name, want] of Object.entries(manifest.files)) {
    const file = `${path}/${name}`;
    let got;
    try {
      got = await _sha256(file);
    } catch (error) {
      throw new Error(
        `loadCheckpoint: ${file} is missing or unreadable (${
          (error as Error).message
        }); delete ${path} to resume from the checkpoint before it`,
      );
    }
    if (got.size !== want.size || got.sha256 !== want.sha256) {
      throw new Error(
        `loadCheckpoint: ${file} changed since it was written ` +
          `(${got.size} bytes, sha256 ${
            got.sha256.slice(0, 12)
          }..., the manifest ` +
          `says ${want.size} bytes, ${
            want.sha256.slice(0, 12)
          }...); delete ${path} ` +
          "to resume from the checkpoint before it",
      );
    }
  }
}

/** Refuses weights or optimizer state that are not finite or are absurd. */
function _checkValues(
  file: string,
  entries: readonly TensorEntry[],
  bound: number,
): void {
  for (const e of entries) {
    for (let i = 0; i < e.values.length; i++) {
      const v = e.values[i];
      if (!Number.isFinite(v) || Math.abs(v) > bound) {
        throw new Error(
          `loadCheckpoint: ${file} holds ${v} in '${e.name}'[${i}] ` +
            (Number.isFinite(v) ? `(beyond +-${bound})` : "(not finite)") +
            ": training had diverged when it was written; resume from an " +
            "earlier checkpoint or restart with a lower learning rate",
        );
      }
    }
  }
}

/**
 * Removes what a killed run left in a checkpoint folder: half-written
 * `.tmp-epoch-*` folders and `epoch-*.old-*` folders of an interrupted
 * replace. Returns the removed paths. Training calls it before it starts.
 *
 * @example
 * ```ts
 * import { removeOrphanedCheckpoints } from "./checkpoint.ts";
 * console.log(await removeOrphanedCheckpoints(await Deno.makeTempDir())); // []
 * ```
 */
export async function removeOrphanedCheckpoints(
  dir: string,
): Promise<string[]> {
  const removed: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (
        entry.isDirectory &&
        (/^\.tmp-epoch-/.test(entry.name) ||
          /^epoch-\d+\.old-/.test(entry.name))
      ) {
        await Deno.remove(`${dir}/${entry.name}`, { recursive: true });
        removed.push(`${dir}/${entry.name}`);
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return removed;
    throw error;
  }
  return removed;
}

function _folderName(epoch: number): string {
  return `${_PREFIX}${String(epoch).padStart(4, "0")}`;
}

async function _modelWeights(model: tf.LayersModel): Promise<TensorEntry[]> {
  const out: TensorEntry[] = [];
  for (const w of model.weights) {
    const value = w.read();
    if (value.dtype !== "float32" && value.dtype !== "int32") {
      throw new Error(
        `saveCheckpoint: weight '${w.name}' has dtype ${value.dtype}; only float32 and int32 are supported`,
      );
    }
    const values = (await value.data() as Float32Array | Int32Array).slice();
    out.push({ name: w.name, dtype: value.dtype, shape: value.shape, values });
  }
  return out;
}

/**
 * Writes a checkpoint folder `dir/epoch-NNNN` atomically and returns its path.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { saveCheckpoint } from "./checkpoint.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
 * const path = await saveCheckpoint(await Deno.makeTempDir(), model, { epoch: 5 });
 * console.log(path); // .../epoch-0005
 * ```
 */
export async function saveCheckpoint(
  dir: string,
  model: tf.LayersModel,
  options: SaveCheckpointOptions,
): Promise<string> {
  const { epoch, history = [], optimizer, seed, keep } = options;
  if (!Number.isInteger(epoch) || epoch < 1) {
    throw new Error(
      `saveCheckpoint: epoch (epochs finished) must be an integer >= 1, got ${epoch}`,
    );
  }
  await Deno.mkdir(dir, { recursive: true });
  const final = `${dir}/${_folderName(epoch)}`;
  const tmp = await Deno.makeTempDir({
    dir,
    prefix: `.tmp-${_folderName(epoch)}-`,
  });
  try {
    await writeTensorFile(`${tmp}/weights`, await _modelWeights(model));
    if (optimizer) {
      await writeTensorFile(
        `${tmp}/optimizer`,
        await getOptimizerState(optimizer),
        { className: optimizer.getClassName(), config: optimizer.getConfig() },
      );
    }
    const state: CheckpointState = {
      epoch,
      learningRate: optimizer ? getLearningRate(optimizer) : null,
      optimizer: optimizer ? optimizer.getClassName() : null,
      history,
      seed,
      savedAt: new Date().toISOString(),
    };
    await Deno.writeTextFile(
      `${tmp}/state.json`,
      JSON.stringify(state, null, 1),
    );
    await _writeManifest(tmp);
    await _replaceDir(tmp, final);
  } catch (error) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw error;
  }
  if (keep !== undefined) await _prune(dir, keep);
  return final;
}

// rename() cannot replace a non-empty folder: move the old one aside first.
async function _replaceDir(from: string, to: string): Promise<void> {
  let old: string | null = null;
  try {
    await Deno.stat(to);
    old = `${to}.old-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.rename(to, old);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.rename(from, to);
  if (old) await Deno.remove(old, { recursive: true });
}

async function _prune(dir: string, keep: number): Promise<void> {
  const all = await listCheckpoints(dir);
  for (const c of all.slice(0, Math.max(0, all.length - keep))) {
    await Deno.remove(c.path, { recursive: true });
  }
}

/**
 * All complete checkpoints in `dir`, oldest first ([] when none or no dir).
 *
 * @example
 * ```ts
 * import { listCheckpoints } from "./checkpoint.ts";
 * console.log(await listCheckpoints("/nonexistent")); // []
 * ```
 */
export async function listCheckpoints(dir: string): Promise<CheckpointInfo[]> {
  const out: CheckpointInfo[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const m = /^epoch-(\d+)$/.exec(entry.name);
      if (!entry.isDirectory || !m) continue;
      out.push({ path: `${dir}/${entry.name}`, epoch: Number(m[1]) });
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return out.sort((a, b) => a.epoch - b.epoch);
}

/**
 * The newest complete checkpoint in `dir`, or null.
 *
 * @example
 * ```ts
 * import { latestCheckpoint } from "./checkpoint.ts";
 * console.log(await latestCheckpoint("/nonexistent")); // null
 * ```
 */
export async function latestCheckpoint(
  dir: string,
): Promise<CheckpointInfo | null> {
  const all = await listCheckpoints(dir);
  return all.length ? all[all.length - 1] : null;
}

/**
 * Loads a checkpoint folder into `model` (and the optimizer's state and
 * learning rate when given); returns its `state.json`.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
 * const path = await saveCheckpoint(await Deno.makeTempDir(), model, { epoch: 1 });
 * const state = await loadCheckpoint(path, model);
 * console.log(state.epoch); // 1
 * ```
 */
export async function loadCheckpoint(
  path: string,
  model: tf.LayersModel,
  options: LoadCheckpointOptions = {},
): Promise<CheckpointState> {
  await _verifyManifest(path);
  let state: CheckpointState;
  try {
    state = JSON.parse(await Deno.readTextFile(`${path}/state.json`));
  } catch (error) {
    throw new Error(
      `loadCheckpoint: ${path} is not a checkpoint folder (state.json unreadable: ${
        (error as Error).message
      })`,
    );
  }
  const { entries } = await readTensorFile(`${path}/weights`);
  _checkValues(`${path}/weights.bin`, entries, MAX_CHECKPOINT_WEIGHT);
  const weights = model.weights;
  if (entries.length !== weights.length) {
    throw new Error(
      `loadCheckpoint: ${path} holds ${entries.length} weights but the model has ${weights.length}; build the same architecture before loading`,
    );
  }
  entries.forEach((e, i) => {
    const want = weights[i].shape;
    if (
      want.length !== e.shape.length || want.some((d, k) => d !== e.shape[k])
    ) {
      throw new Error(
        `loadCheckpoint: weight ${i} ('${e.name}') has shape [${e.shape}] but the model's '${
          weights[i].name
        }' is [${want}]`,
      );
    }
  });
  const tensors = entries.map((e) => tf.tensor(e.values, e.shape, e.dtype));
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
  const { optimizer } = options;
  if (optimizer) {
    if (state.optimizer !== null) {
      if (state.optimizer !== optimizer.getClassName()) {
        throw new Error(
          `loadCheckpoint: the checkpoint holds ${state.optimizer} state but the optimizer is ${optimizer.getClassName()}`,
        );
      }
      const saved = await readTensorFile(`${path}/optimizer`);
      // Moments may legitimately be large; they must be finite.
      _checkValues(`${path}/optimizer.bin`, saved.entries, Infinity);
      await setOptimizerState(optimizer, saved.entries);
    }
    if (state.learningRate !== null) {
      setLearningRate(optimizer, state.learningRate);
    }
  }
  return state;
}

/** Options of {@linkcode checkpointCallback}. */
export interface CheckpointCallbackOptions {
  /** Save every N epochs (the last epoch is always saved). Default: 1. */
  every?: number;
  /** Keep only the newest N checkpoints. Default: all. */
  keep?: number;
  /** Save the optimizer state too. Default: true. */
  saveOptimizer?: boolean;
}

/**
 * A callback saving a checkpoint into `dir` after each finished epoch.
 * `fitModel`/`trainLoop` add it themselves when given `checkpointDir`.
 *
 * @example
 * ```ts
 * import { checkpointCallback } from "./checkpoint.ts";
 * const callbacks = [checkpointCallback("runs/cifar/checkpoints", { keep: 3 })];
 * ```
 */
export function checkpointCallback(
  dir: string,
  options: CheckpointCallbackOptions = {},
): TrainCallback & { lastPath: string | null } {
  const { every = 1, keep, saveOptimizer = true } = options;
  if (!Number.isInteger(every) || every < 1) {
    throw new Error(
      `checkpointCallback: every must be an integer >= 1, got ${every}`,
    );
  }
  return {
    lastPath: null,
    async onEpochEnd(epoch: number, _record: EpochRecord, state: TrainState) {
      const last = epoch === state.epochs - 1 || state.stopTraining;
      if ((epoch + 1) % every !== 0 && !last) return;
      this.lastPath = await saveCheckpoint(dir, state.model, {
        epoch: epoch + 1,
        history: state.history,
        optimizer: saveOptimizer ? state.optimizer : undefined,
        seed: state.seed,
        keep,
      });
    },
  };
}
