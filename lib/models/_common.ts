/**
 * Private helpers shared by the model builders: argument checks and seeded
 * initialisers.
 *
 * @module
 */
import * as tf from "../tf.ts";

import type { ImageShape, Initializer } from "./types.ts";
export type { ImageShape, Initializer, Padding } from "./types.ts";

/** Throws unless `n` is an integer >= `min`. */
export function _checkInt(value: number, what: string, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(
      `${what} must be an integer >= ${min}, got ${value}.`,
    );
  }
  return value;
}

/** Throws unless `p` lies in [0, 1). */
export function _checkRate(value: number, what: string): number {
  if (!(value >= 0 && value < 1)) {
    throw new Error(`${what} must be in [0, 1), got ${value}.`);
  }
  return value;
}

/**
 * Validates an `[height, width, channels]` input shape and that both sides are
 * at least `minSide`, so a too-small input fails here with a message naming
 * the model instead of deep inside tfjs with a negative dimension.
 */
export function _checkInputShape(
  shape: readonly number[],
  model: string,
  minSide: number,
  why: string,
): ImageShape {
  if (
    !Array.isArray(shape) || shape.length !== 3 ||
    !shape.every((d) => Number.isInteger(d) && d > 0)
  ) {
    throw new Error(
      `${model}: inputShape must be [height, width, channels] of positive ` +
        `integers, got ${JSON.stringify(shape)}.`,
    );
  }
  const [h, w] = shape;
  if (h < minSide || w < minSide) {
    throw new Error(
      `${model}: input ${h}x${w} is too small; height and width must be at ` +
        `least ${minSide} (${why}). Resize the images first, e.g. ` +
        `toTensors(split, { resize: ${minSide} }).`,
    );
  }
  return [shape[0], shape[1], shape[2]];
}

/**
 * Hands out seeded initialisers so a model built with the same seed starts
 * from the same weights (each layer gets its own derived seed). Without a
 * seed `glorot()` is still Glorot-uniform, as in Keras (tfjs's default is
 * Glorot-normal), and `seed()` returns `undefined`.
 * Dropout layers are deliberately NOT seeded: tfjs' seeded dropout draws the
 * same mask on every call, so the network learns that one mask (measured:
 * 100% training accuracy in training mode, 50% in inference mode).
 */
export class _Seeder {
  #next: number;
  readonly seeded: boolean;

  constructor(seed?: number) {
    this.seeded = seed !== undefined;
    this.#next = seed ?? 0;
  }

  /**
   * Glorot-uniform (the Keras default for kernels), seeded if a seed was
   * given. Always explicit: tfjs's own default is Glorot-normal.
   */
  glorot(): Initializer {
    return tf.initializers.glorotUniform({
      seed: this.seeded ? this.#bump() : undefined,
    });
  }

  /** Raw next seed (for custom layers), or undefined. */
  seed(): number | undefined {
    return this.seeded ? this.#bump() : undefined;
  }

  #bump(): number {
    // Distinct, well spread seeds per layer.
    this.#next = (this.#next * 1103515245 + 12345) % 2147483647;
    return this.#next;
  }
}
