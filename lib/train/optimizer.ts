/**
 * Reading and changing what tfjs keeps private in its optimizers: the
 * learning rate (a protected field; SGD and Momentum also cache it in a
 * scalar, refreshed by their `setLearningRate`) and the accumulated state
 * (moments, iteration counters) so a checkpoint can resume training exactly.
 *
 * Pinned to tfjs-core 4.22.0: Adamax has no `getWeights`/`setWeights` there,
 * and Adam recomputes its bias-correction scalars with `pow` on restore, which
 * differs in the last bits from the running product it keeps while training;
 * both are read and written directly here so a resumed run repeats exactly.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { getLearningRate, setLearningRate } from "./optimizer.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const optimizer = tf.train.adamax(5e-3);
 * setLearningRate(optimizer, 1e-3);
 * assert.equal(getLearningRate(optimizer), 0.001);
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";

/**
 * The tfjs-core version whose private optimizer fields this module reads and
 * writes (`learningRate`, `iterations_`, the accumulator arrays, `accBeta1`...).
 */
export const TFJS_PINNED_VERSION = "4.22.0";

/**
 * Throws unless `installed` is {@linkcode TFJS_PINNED_VERSION}: with another
 * tfjs the private fields may have moved, and restoring a checkpoint would
 * silently resume from the wrong state.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { checkTfjsVersion } from "./optimizer.ts";
 * checkTfjsVersion(tf.version_core); // passes with the pinned tfjs
 * ```
 */
export function checkTfjsVersion(installed: string = tf.version_core): void {
  if (installed !== TFJS_PINNED_VERSION) {
    throw new Error(
      `lib/train/optimizer.ts reads private fields of tfjs-core ${TFJS_PINNED_VERSION}, ` +
        `but tfjs-core ${installed} is installed; pin "@tensorflow/tfjs-core" to ` +
        `npm:@tensorflow/tfjs-core@${TFJS_PINNED_VERSION} in deno.json, or check the ` +
        `optimizer fields of ${installed} and update TFJS_PINNED_VERSION`,
    );
  }
}

/** One tensor of optimizer state as plain data (no tensor to dispose). */
export interface OptimizerStateEntry {
  /** Name (tfjs's own, or `field:<name>` for private scalars). */
  name: string;
  /** Element type. */
  dtype: "float32" | "int32";
  /** Shape. */
  shape: number[];
  /** Values, row-major. */
  values: Float32Array | Int32Array;
}

interface _NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface _Accumulated {
  originalName: string;
  variable: tf.Variable;
}

// Private scalar variables tfjs optimizers keep outside getWeights().
const _SCALAR_FIELDS = ["accBeta1", "accBeta2", "iteration"] as const;

type _Fields = Record<string, unknown>;

/**
 * The learning rate the optimizer uses now, or null if it has none.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { getLearningRate } from "./optimizer.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * assert.equal(getLearningRate(tf.train.sgd(0.1)), 0.1);
 * ```
 */
export function getLearningRate(optimizer: tf.Optimizer): number | null {
  checkTfjsVersion();
  const lr = (optimizer as unknown as _Fields).learningRate;
  return typeof lr === "number" ? lr : null;
}

/**
 * Sets the learning rate used by the optimizer's next update.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { getLearningRate, setLearningRate } from "./optimizer.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const optimizer = tf.train.momentum(0.1, 0.9);
 * setLearningRate(optimizer, 0.01);
 * assert.equal(getLearningRate(optimizer), 0.01);
 * ```
 */
export function setLearningRate(
  optimizer: tf.Optimizer,
  learningRate: number,
): void {
  checkTfjsVersion();
  if (!Number.isFinite(learningRate) || learningRate < 0) {
    throw new Error(
      `setLearningRate: the learning rate must be a finite number >= 0, got ${learningRate}`,
    );
  }
  const fields = optimizer as unknown as _Fields & {
    setLearningRate?: (lr: number) => void;
  };
  if (typeof fields.learningRate !== "number") {
    throw new Error(
      `setLearningRate: ${optimizer.getClassName()} has no numeric learningRate field; use an optimizer from tf.train`,
    );
  }
  // SGD and Momentum cache -lr in a kept scalar; their setter refreshes it.
  if (typeof fields.setLearningRate === "function") {
    fields.setLearningRate(learningRate);
  } else {
    fields.learningRate = learningRate;
  }
}

function _accumulatedArrays(
  optimizer: tf.Optimizer,
): [string, _Accumulated[]][] {
  const out: [string, _Accumulated[]][] = [];
  for (const [key, value] of Object.entries(optimizer as unknown as _Fields)) {
    if (
      Array.isArray(value) &&
      value.every((v) =>
        v != null && typeof v === "object" && "variable" in v &&
        v.variable instanceof tf.Variable
      )
    ) {
      out.push([key, value as _Accumulated[]]);
    }
  }
  return out;
}

async function _toEntry(
  name: string,
  tensor: tf.Tensor,
): Promise<OptimizerStateEntry> {
  if (tensor.dtype !== "float32" && tensor.dtype !== "int32") {
    throw new Error(
      `optimizer state '${name}' has dtype ${tensor.dtype}; only float32 and int32 are supported`,
    );
  }
  const values = await tensor.data() as Float32Array | Int32Array;
  return {
    name,
    dtype: tensor.dtype,
    shape: tensor.shape.slice(),
    values: values.slice(),
  };
}

/**
 * Everything the optimizer has accumulated, as plain arrays (a copy).
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { getOptimizerState } from "./optimizer.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const state = await getOptimizerState(tf.train.adam(1e-3));
 * console.log(state.map((s) => s.name));
 * ```
 */
export async function getOptimizerState(
  optimizer: tf.Optimizer,
): Promise<OptimizerStateEntry[]> {
  checkTfjsVersion();
  const fields = optimizer as unknown as _Fields;
  const entries: OptimizerStateEntry[] = [];
  let named: _NamedTensor[];
  try {
    named = await optimizer.getWeights();
  } catch (error) {
    if (!/not implemented/i.test(String(error))) throw error;
    // Adamax in tfjs 4.22: no getWeights(); read its arrays in tfjs's order.
    const iter = tf.scalar(
      (fields.iterations_ as number | undefined) ?? 0,
      "int32",
    );
    named = [{ name: "iter", tensor: iter }];
    for (const [, arr] of _accumulatedArrays(optimizer)) {
      for (const a of arr) {
        named.push({ name: a.originalName, tensor: a.variable });
      }
    }
  }
  for (const { name, tensor } of named) {
    entries.push(await _toEntry(name, tensor));
    // getWeights() hands out the live variables plus a fresh 'iter' scalar.
    if (!(tensor instanceof tf.Variable)) tensor.dispose();
  }
  for (const field of _SCALAR_FIELDS) {
    const value = fields[field];
    if (value instanceof tf.Tensor) {
      entries.push(await _toEntry(`field:${field}`, value));
    }
  }
  return entries;
}

/**
 * Restores state saved by {@linkcode getOptimizerState} into an optimizer of
 * the same class used on a model with the same weight shapes.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { getOptimizerState, setOptimizerState } from "./optimizer.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const a = tf.train.adam(1e-3);
 * const b = tf.train.adam(1e-3);
 * await setOptimizerState(b, await getOptimizerState(a));
 * ```
 */
export async function setOptimizerState(
  optimizer: tf.Optimizer,
  state: readonly OptimizerStateEntry[],
): Promise<void> {
  checkTfjsVersion();
  const fields = optimizer as unknown as _Fields;
  const weights = state.filter((s) => !s.name.startsWith("field:"));
  const scalars = state.filter((s) => s.name.startsWith("field:"));
  const before = new Set<tf.Variable>();
  for (const [, arr] of _accumulatedArrays(optimizer)) {
    for (const a of arr) before.add(a.variable);
  }
  const named: _NamedTensor[] = weights.map((s) => ({
    name: s.name,
    tensor: tf.tensor(s.values, s.shape, s.dtype),
  }));
  try {
    let native = true;
    try {
      await optimizer.setWeights(named);
    } catch (error) {
      if (!/not implemented/i.test(String(error))) throw error;
      native = false;
    }
    if (!native) _setAccumulatedByHand(optimizer, named, weights);
  } finally {
    tf.dispose(named.map((n) => n.tensor));
  }
  for (const s of scalars) {
    const target = fields[s.name.slice("field:".length)];
    if (target instanceof tf.Variable) {
      tf.tidy(() => target.assign(tf.tensor(s.values, s.shape, s.dtype)));
    }
  }
  // setWeights() replaces the accumulator arrays without disposing the old
  // variables; drop the ones nothing refers to any more.
  const after = new Set<tf.Variable>();
  for (const [, arr] of _accumulatedArrays(optimizer)) {
    for (const a of arr) after.add(a.variable);
  }
  for (const v of before) if (!after.has(v)) v.dispose();
}

// Adamax (tfjs 4.22): iter, then first moments, then weighted inf norms.
function _setAccumulatedByHand(
  optimizer: tf.Optimizer,
  named: _NamedTensor[],
  entries: readonly OptimizerStateEntry[],
): void {
  const fields = optimizer as unknown as _Fields;
  if (
    !("accumulatedFirstMoment" in fields) ||
    !("accumulatedWeightedInfNorm" in fields)
  ) {
    throw new Error(
      `setOptimizerState: ${optimizer.getClassName()} cannot restore its state in this tfjs version`,
    );
  }
  if (named.length === 0 || named[0].name !== "iter") {
    throw new Error("setOptimizerState: state must start with 'iter'");
  }
  // From the plain values: reading the tensor back would be synchronous.
  fields.iterations_ = entries[0].values[0];
  const rest = named.slice(1);
  if (rest.length % 2 !== 0) {
    throw new Error(
      `setOptimizerState: expected pairs of Adamax accumulators, got ${rest.length} tensors`,
    );
  }
  const half = rest.length / 2;
  const wrap = (n: _NamedTensor): _Accumulated => ({
    originalName: n.name,
    variable: n.tensor.variable(false),
  });
  fields.accumulatedFirstMoment = rest.slice(0, half).map(wrap);
  fields.accumulatedWeightedInfNorm = rest.slice(half).map(wrap);
}
