/**
 * Helpers of the lesson drift tests: a model's layers as comparable configs
 * (names and seeds stripped, since they legitimately differ between a
 * notebook's model and the library's) and weight copying.
 *
 * @module
 */
import * as tf from "../lib/tf.ts";

/** Config keys that differ between two equal models for harmless reasons. */
const _IGNORED = new Set(["name", "seed"]);

function _strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(_strip);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => !_IGNORED.has(k))
        .map(([k, v]) => [k, _strip(v)]),
    );
  }
  return value;
}

/** One layer as the drift tests compare it. */
export interface ComparableLayer {
  /** The layer's class name, after `renames`. */
  className: string;
  /** Its config without names and seeds. */
  config: unknown;
}

/**
 * The model's layers (input layers left out) with their configs from
 * `getConfig()` (what `toJSON()` serialises), names and seeds stripped.
 * `renames` maps class names that are known to be the same class under
 * another name (a notebook's copy of a library layer).
 */
export function comparableLayers(
  model: tf.LayersModel,
  renames: Record<string, string> = {},
): ComparableLayer[] {
  return model.layers
    .filter((l) => l.getClassName() !== "InputLayer")
    .map((l) => {
      const config = { ...l.getConfig() } as Record<string, unknown>;
      // A Sequential's first layer carries the input shape; a functional
      // model has it on its InputLayer instead.
      delete config.batchInputShape;
      delete config.dtype;
      return {
        className: renames[l.getClassName()] ?? l.getClassName(),
        config: _strip(config),
      };
    });
}

/** Copies `from`'s weights into `to` (same shapes in the same order). */
export function copyWeights(from: tf.LayersModel, to: tf.LayersModel): void {
  to.setWeights(from.getWeights());
}

/** Largest absolute difference between two tensors' values. */
export async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = await Promise.all([a.data(), b.data()]);
  if (x.length !== y.length) return Infinity;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/**
 * The model's layer configs as `toJSON()` writes them, names and initialiser
 * seeds stripped: equal for two models built alike.
 *
 * @example
 * ```ts
 * // assert.deepEqual(layerConfigs(notebookModel), layerConfigs(libraryModel));
 * ```
 */
export function layerConfigs(model: tf.LayersModel): unknown {
  const json = model.toJSON(null, false) as { config: { layers: unknown } };
  return _strip(json.config.layers);
}
