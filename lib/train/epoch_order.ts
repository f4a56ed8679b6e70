/**
 * Seeded batch order: a sample permutation that depends only on (seed,
 * epoch), so a resumed run shuffles exactly like an uninterrupted one, and a
 * loop written in a notebook can visit the samples in `fitModel`'s order.
 *
 * Kept as the project's own code on purpose: tfjs offers no seeded
 * shuffle (`tf.data` shuffles with its own unseedable stream and `model.fit`
 * reshuffles with `Math.random`), and the permutation must be a pure
 * function of (seed, epoch) for resumes to repeat bit for bit.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { epochPermutation } from "./epoch_order.ts";
 * const a = epochPermutation(10, 42, 3);
 * const b = epochPermutation(10, 42, 3);
 * assert.ok(a.join() === b.join());
 * ```
 *
 * @module
 */

import { shuffledIndices } from "../data/split.ts";

/** Mixes seed and epoch into one 32-bit seed (splitmix-style). */
function _mix(seed: number, epoch: number): number {
  let h =
    (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>>
    0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Fisher-Yates permutation of 0..n-1 for this seed and epoch: the batch order
 * `fitModel` and `trainLoop` use with a `seed`, so a loop written elsewhere
 * (a notebook) can visit the samples in exactly the same order.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { epochPermutation } from "./epoch_order.ts";
 * const order = epochPermutation(60000, 1, 0); // epoch 0's sample order
 * assert.equal(order.length, 60000);
 * ```
 */
export function epochPermutation(
  n: number,
  seed: number,
  epoch: number,
): Int32Array {
  // Same mulberry32 Fisher-Yates as the data layer; values are < 2^31, so
  // viewing the buffer as int32 (what tf.tensor1d wants) is exact.
  return new Int32Array(shuffledIndices(n, _mix(seed, epoch)).buffer);
}

/** This epoch's sample order: seeded shuffled, or 0..n-1 unshuffled. */
export function epochOrder(
  n: number,
  shuffle: boolean,
  seed: number,
  epoch: number,
): Int32Array {
  return shuffle
    ? epochPermutation(n, seed, epoch)
    : Int32Array.from({ length: n }, (_, i) => i);
}

/** A fresh random 32-bit seed for runs that did not ask for one. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
