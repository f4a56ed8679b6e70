/**
 * A running (weighted) mean, the tfjs counterpart of `tf.metrics.Mean` in
 * seed 003's hand-written loop: feed it each batch's value, read the mean.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { RunningMean } from "./running_mean.ts";
 * const loss = new RunningMean();
 * loss.update(0.5, 32);
 * loss.update(0.3, 32);
 * assert.equal(loss.result(), 0.4);
 * ```
 *
 * @module
 */

/** A weighted running mean of plain numbers. */
export class RunningMean {
  #sum = 0;
  #weight = 0;

  /**
   * Adds `value` with `weight` (e.g. a batch mean and the batch size).
   *
   * @example
   * ```ts
   * import { RunningMean } from "./running_mean.ts";
   * const acc = new RunningMean();
   * acc.update(1, 10);
   * ```
   */
  update(value: number, weight = 1): void {
    if (!(weight >= 0)) {
      throw new Error(
        `RunningMean.update: weight must be >= 0, got ${weight}`,
      );
    }
    this.#sum += value * weight;
    this.#weight += weight;
  }

  /**
   * The mean so far, NaN before any update.
   *
   * @example
   * ```ts
   * import { strict as assert } from "node:assert";
   * import { RunningMean } from "./running_mean.ts";
   * assert.equal(new RunningMean().result(), NaN);
   * ```
   */
  result(): number {
    return this.#weight === 0 ? NaN : this.#sum / this.#weight;
  }

  /**
   * Total weight seen (the sample count when weights are batch sizes).
   *
   * @example
   * ```ts
   * import { strict as assert } from "node:assert";
   * import { RunningMean } from "./running_mean.ts";
   * const m = new RunningMean();
   * m.update(2, 3);
   * assert.equal(m.count, 3);
   * ```
   */
  get count(): number {
    return this.#weight;
  }

  /**
   * Forgets everything (start of a new epoch).
   *
   * @example
   * ```ts
   * import { RunningMean } from "./running_mean.ts";
   * const m = new RunningMean();
   * m.update(1);
   * m.reset();
   * ```
   */
  reset(): void {
    this.#sum = 0;
    this.#weight = 0;
  }
}
