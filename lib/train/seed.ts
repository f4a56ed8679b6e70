/**
 * One seed for a whole run, as Python's `random.seed` plus
 * `tf.random.set_seed` give in the tutorials. TensorFlow.js draws every
 * unseeded random number (layer initialisers, dropout masks,
 * `tf.randomNormal`...) from `Math.random`, so replacing `Math.random` with a
 * seeded generator makes model building and training repeat exactly on the
 * same backend, as long as the same operations run in the same order.
 *
 * @example
 * ```ts
 * import { DEFAULT_SEED, setGlobalSeed } from "./seed.ts";
 * setGlobalSeed(DEFAULT_SEED); // or runConfigFromEnv().seed (CNN_SEED)
 * ```
 *
 * @module
 */
import { seededRandom } from "../data/split.ts";

/** The seed used when none is given. */
export const DEFAULT_SEED = 42;

let currentSeed: number | null = null;

/**
 * Makes every later unseeded random draw (including TensorFlow.js's
 * initialisers and dropout) come from a generator seeded with `seed`, an
 * integer in [0, 2^32). Calling it again restarts the sequence.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { setGlobalSeed } from "./seed.ts";
 * setGlobalSeed(7);
 * const a = Math.random();
 * setGlobalSeed(7);
 * assert.ok(Math.random() === a);
 * ```
 */
export function setGlobalSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new RangeError(
      `seed must be an integer in [0, 2^32), got ${seed}; pass e.g. 42`,
    );
  }
  Math.random = seededRandom(seed);
  currentSeed = seed;
}

/**
 * The seed last given to {@linkcode setGlobalSeed}, or null when randomness is
 * unseeded.
 *
 * @example
 * ```ts
 * import { globalSeed } from "./seed.ts";
 * console.log(globalSeed()); // null until setGlobalSeed is called
 * ```
 */
export function globalSeed(): number | null {
  return currentSeed;
}
