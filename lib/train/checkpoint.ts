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
 * checkpoint whose manifest is missing (unless `allowUnverified`) or does not
 * list every file of the format, whose files changed since they were
 * written, whose `state.json` disagrees with its folder name, or whose
 * weights are not finite or beyond {@linkcode MAX_CHECKPOINT_WEIGHT}, naming
 * the file; nothing is loaded into the model before every check passed.
 *
 * Temporary folders carry their writer's PID and start time
 * (`.tmp-epoch-0003-<pid>-<start>-<random>`): the next run removes those whose
 * writer is gone and leaves a live writer's alone. Replacing an existing
 * `epoch-NNNN` moves it aside (`epoch-NNNN.old-*`) before the new one is
 * renamed in; a run killed between the two renames leaves the old copy, which
 * {@linkcode removeOrphanedCheckpoints} puts back. Training takes a lock
 * ({@linkcode lockCheckpointDir}) so that two runs never share a folder.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { latestCheckpoint, loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
 * const optimizer = tf.train.adam(1e-3);
 * const dir = await Deno.makeTempDir();
 * await saveCheckpoint(dir, model, { optimizer, epoch: 1, history: [] });
 * const last = await latestCheckpoint(dir);
 * assert.ok(last);
 * const state = await loadCheckpoint(last.path, model, { optimizer });
 * assert.equal(state.epoch, 1);
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename } from "node:path";
import * as tf from "../tf.ts";
import {
  acquireLock,
  type HeldLock,
  type LockInfo,
  ownerFromTag,
  ownerTag,
  processAlive,
} from "../_process.ts";
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
  /** Batch size of the run, when the trainer recorded it. */
  batchSize?: number;
  /** Training samples per epoch, when the trainer recorded it. */
  samples?: number;
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
  /** Batch size to record (a resume says when it changed). Default: none. */
  batchSize?: number;
  /** Training samples per epoch to record. Default: none. */
  samples?: number;
  /** Keep only the newest N checkpoints in the folder. Default: all. */
  keep?: number;
}

/** Options of {@linkcode loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /** Optimizer to restore state and learning rate into. Default: none. */
  optimizer?: tf.Optimizer;
  /**
   * Load a checkpoint that has no `manifest.json` (so its files cannot be
   * checked for changes); its values are still checked. Default: false
   * (such a checkpoint is refused).
   */
  allowUnverified?: boolean;
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

/** The files a checkpoint must have, given its state. */
function _formatFiles(state: CheckpointState | null): string[] {
  const files = ["state.json", "weights.bin", "weights.json"];
  if (state?.optimizer) files.push("optimizer.bin", "optimizer.json");
  return files;
}

/**
 * Refuses a checkpoint whose files are not what its manifest recorded, whose
 * manifest misses a file of the format, or (unless `allowUnverified`) that
 * has no manifest.
 */
async function _verifyManifest(
  path: string,
  allowUnverified: boolean,
): Promise<void> {
  let manifest: _Manifest;
  try {
    manifest = JSON.parse(await Deno.readTextFile(`${path}/${_MANIFEST}`));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      const state = await Deno.stat(`${path}/state.json`).catch(() => null);
      if (!state) {
        throw new Error(
          `loadCheckpoint: ${path} is not a checkpoint folder (no ${_MANIFEST}, ` +
            "no state.json); pass a folder such as epoch-0003 from " +
            "listCheckpoints or latestCheckpoint",
        );
      }
      if (allowUnverified) {
        console.warn(
          `warning: ${path} has no ${_MANIFEST}; loading it unverified as ` +
            "asked (allowUnverified): its files cannot be checked for changes",
        );
        return;
      }
      throw new Error(
        `loadCheckpoint: ${path} has no ${_MANIFEST}, so its files cannot be ` +
          "checked: it was not written completely by this library, or was " +
          `changed since. Delete ${path} to resume from the checkpoint before ` +
          "it, or pass allowUnverified: true to load it anyway",
      );
    }
    throw new Error(
      `loadCheckpoint: ${path}/${_MANIFEST} is damaged (${
        (error as Error).message
      }); delete ${path} to resume from the checkpoint before it`,
    );
  }
  if (
    manifest?.format !== _MANIFEST_FORMAT || !manifest.files ||
    typeof manifest.files !== "object"
  ) {
    throw new Error(
      `loadCheckpoint: ${path}/${_MANIFEST} is not a ${_MANIFEST_FORMAT} manifest`,
    );
  }
  let state: CheckpointState | null = null;
  try {
    state = JSON.parse(await Deno.readTextFile(`${path}/state.json`));
  } catch {
    // Reported below: state.json must be listed and verify.
  }
  const unlisted = _formatFiles(state).filter((f) =>
    !Object.hasOwn(manifest.files, f)
  );
  if (unlisted.length) {
    throw new Error(
      `loadCheckpoint: ${path}/${_MANIFEST} does not list ${
        unlisted.join(", ")
      }, so ${
        unlisted.length > 1 ? "they" : "it"
      } cannot be checked; the manifest is damaged or was edited. Delete ${path} ` +
        "to resume from the checkpoint before it",
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
    if (got.size !== want?.size || got.sha256 !== want?.sha256) {
      throw new Error(
        `loadCheckpoint: ${file} changed since it was written ` +
          `(${got.size} bytes, sha256 ${
            got.sha256.slice(0, 12)
          }..., the manifest ` +
          `says ${want?.size} bytes, ${
            String(want?.sha256).slice(0, 12)
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

const _TMP = /^\.tmp-epoch-\d+-(\d+-\d+)-[0-9a-f]+$/;
const _OLD = /^(epoch-\d+)\.old-[0-9a-f]+$/;

/**
 * Repairs what a killed run left in a checkpoint folder: an `epoch-NNNN`
 * moved aside (`epoch-NNNN.old-*`) by a replace that was killed before the
 * new copy was renamed in is put back; leftover `.old-*` copies next to
 * their replacement are removed; half-written `.tmp-epoch-*` folders are
 * removed when their writer is gone (a live writer's are kept; untagged
 * ones of older versions are removed). Returns the removed
 * paths. Training calls it once it holds the folder's lock.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { removeOrphanedCheckpoints } from "./checkpoint.ts";
 * assert.deepEqual(await removeOrphanedCheckpoints(await Deno.makeTempDir()), []);
 * ```
 */
export async function removeOrphanedCheckpoints(
  dir: string,
): Promise<string[]> {
  const removed: string[] = [];
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) names.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return removed;
    throw error;
  }
  const present = new Set(names);
  for (const name of names.sort()) {
    const path = `${dir}/${name}`;
    const old = _OLD.exec(name);
    if (old) {
      if (!present.has(old[1])) {
        // Killed between the two renames of a replace: the old copy is the
        // complete one left; put it back.
        await Deno.rename(path, `${dir}/${old[1]}`);
        present.add(old[1]);
        console.warn(
          `restored ${dir}/${
            old[1]
          } from ${name}, left by a run killed while replacing it`,
        );
      } else {
        await Deno.remove(path, { recursive: true });
        removed.push(path);
      }
      continue;
    }
    if (!name.startsWith(".tmp-epoch-")) continue;
    const tagged = _TMP.exec(name);
    const owner = tagged ? ownerFromTag(tagged[1]) : null;
    // Untagged: written by an older version, which held no lock; under this
    // run's lock no live writer of this version can own it.
    const orphan = owner ? !processAlive(owner) : true;
    if (orphan) {
      await Deno.remove(path, { recursive: true });
      removed.push(path);
    }
  }
  return removed;
}

/** Name of the lock file of a checkpoint folder. */
export const CHECKPOINT_LOCK = ".lock";

/** A held checkpoint-folder lock. */
export interface CheckpointLock {
  /** The lock file. */
  path: string;
  /** The holder of a lock that was taken over because it was gone, or null. */
  tookOverFrom: { pid: number; since: string } | null;
  /** Releases the lock (removes the lock file). */
  release(): Promise<void>;
}

/**
 * Takes the lock of checkpoint folder `dir` (creating the folder), so that
 * two training runs never write into one folder; training takes it itself.
 * Throws, naming the holder's PID, while another live process holds it; a
 * lock left by a process that is gone is taken over.
 *
 * @example
 * ```ts
 * import { lockCheckpointDir } from "./checkpoint.ts";
 * const lock = await lockCheckpointDir(await Deno.makeTempDir());
 * await lock.release();
 * ```
 */
export async function lockCheckpointDir(dir: string): Promise<CheckpointLock> {
  await Deno.mkdir(dir, { recursive: true });
  const held: HeldLock = await acquireLock(
    `${dir}/${CHECKPOINT_LOCK}`,
    (holder: LockInfo) =>
      `checkpoint folder ${dir} is in use by another run (PID ${holder.pid}, ` +
      `since ${holder.since}); wait for it to finish, stop it, or give this ` +
      "run another checkpoint folder",
  );
  return {
    path: held.path,
    tookOverFrom: held.tookOverFrom
      ? { pid: held.tookOverFrom.pid, since: held.tookOverFrom.since }
      : null,
    release: () => held.release(),
  };
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
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { saveCheckpoint } from "./checkpoint.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
 * const path = await saveCheckpoint(await Deno.makeTempDir(), model, { epoch: 5 });
 * assert.match(path, /epoch-0005$/);
 * ```
 */
export async function saveCheckpoint(
  dir: string,
  model: tf.LayersModel,
  options: SaveCheckpointOptions,
): Promise<string> {
  const { epoch, history = [], optimizer, seed, keep, batchSize, samples } =
    options;
  if (!Number.isInteger(epoch) || epoch < 1) {
    throw new Error(
      `saveCheckpoint: epoch (epochs finished) must be an integer >= 1, got ${epoch}`,
    );
  }
  await Deno.mkdir(dir, { recursive: true });
  const final = `${dir}/${_folderName(epoch)}`;
  const tmp = await Deno.makeTempDir({
    dir,
    // The writer's PID and start time: another run tells a live writer's
    // folder from a killed one's.
    prefix: `.tmp-${_folderName(epoch)}-${ownerTag()}-`,
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
      batchSize,
      samples,
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
// Killed between the two renames, the folder holds `to.old-*` (complete) and
// the new copy's temporary folder; removeOrphanedCheckpoints puts the old
// one back, so a copy of the epoch always survives.
async function _replaceDir(from: string, to: string): Promise<void> {
  let old: string | null = null;
  try {
    await Deno.stat(to);
    old = `${to}.old-${crypto.randomUUID().slice(0, 8).replaceAll("-", "")}`;
    await Deno.rename(to, old);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  try {
    await Deno.rename(from, to);
  } catch (error) {
    if (old) await Deno.rename(old, to).catch(() => {});
    throw error;
  }
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
 * import { strict as assert } from "node:assert";
 * import { listCheckpoints } from "./checkpoint.ts";
 * assert.deepEqual(await listCheckpoints("/nonexistent"), []);
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
 * import { strict as assert } from "node:assert";
 * import { latestCheckpoint } from "./checkpoint.ts";
 * assert.equal(await latestCheckpoint("/nonexistent"), null);
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
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
 * const path = await saveCheckpoint(await Deno.makeTempDir(), model, { epoch: 1 });
 * const state = await loadCheckpoint(path, model);
 * assert.equal(state.epoch, 1);
 * ```
 */
export async function loadCheckpoint(
  path: string,
  model: tf.LayersModel,
  options: LoadCheckpointOptions = {},
): Promise<CheckpointState> {
  // Every check first: the model and optimizer are only touched once the
  // whole checkpoint is known to be good and to fit them.
  await _verifyManifest(path, options.allowUnverified ?? false);
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
  _checkState(path, state);
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
  const { optimizer } = options;
  let saved: TensorEntry[] | null = null;
  if (optimizer && state.optimizer !== null) {
    if (state.optimizer !== optimizer.getClassName()) {
      throw new Error(
        `loadCheckpoint: the checkpoint holds ${state.optimizer} state but the optimizer is ${optimizer.getClassName()}; ` +
          `resume with a ${state.optimizer} optimizer, or start afresh in another folder`,
      );
    }
    saved = (await readTensorFile(`${path}/optimizer`)).entries;
    // Moments may legitimately be large; they must be finite.
    _checkValues(`${path}/optimizer.bin`, saved, Infinity);
  }
  const before = weights.map((w) => tf.clone(w.read()));
  const tensors = entries.map((e) => tf.tensor(e.values, e.shape, e.dtype));
  try {
    model.setWeights(tensors);
    if (optimizer && saved) await setOptimizerState(optimizer, saved);
  } catch (error) {
    // Put the model back as it was: a failed load changes nothing.
    model.setWeights(before);
    throw error;
  } finally {
    tf.dispose(tensors);
    tf.dispose(before);
  }
  if (optimizer && state.learningRate !== null) {
    setLearningRate(optimizer, state.learningRate);
  }
  return state;
}

/** Refuses a state.json that disagrees with its folder or with itself. */
function _checkState(path: string, state: CheckpointState): void {
  const bad = (what: string) =>
    new Error(
      `loadCheckpoint: ${path}/state.json ${what}; the checkpoint was changed ` +
        `or copied into the wrong folder. Delete ${path} to resume from the ` +
        "checkpoint before it",
    );
  if (!Number.isInteger(state?.epoch) || state.epoch < 1) {
    throw bad(`has no valid epoch (got ${JSON.stringify(state?.epoch)})`);
  }
  const m = /^epoch-(\d+)$/.exec(basename(path));
  if (m && Number(m[1]) !== state.epoch) {
    throw bad(
      `says ${state.epoch} epochs finished but the folder is ${basename(path)}`,
    );
  }
  const history = Array.isArray(state.history) ? state.history : null;
  if (history === null) throw bad("has no history list");
  const last = history.at(-1);
  if (last && (last.epoch !== state.epoch || history.length !== state.epoch)) {
    throw bad(
      `says ${state.epoch} epochs finished but its history holds ${history.length} ` +
        `(the last numbered ${last.epoch})`,
    );
  }
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
        batchSize: state.batchSize,
        samples: state.samples,
        keep,
      });
    },
  };
}
