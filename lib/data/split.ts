/**
 * The in-memory form of a dataset split (`ImageSplit`: NHWC uint8 images and
 * uint8 labels) and the cheap operations on it: index-range subsets, seeded
 * shuffles, validation splits, label counts.
 *
 * The seeded stream ({@linkcode seededRandom}, mulberry32) is the project's
 * own on purpose: the same seed must give the same subsets and shuffles in
 * every process (a resumed run, a notebook beside a script), it runs without
 * a backend and yields plain numbers (an index shuffle needs no tensors), and
 * the training loops' batch order (`epochPermutation`) draws from it too.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { splitValidation, subsetSplit } from "./split.ts";
 * // A toy split of 100 blank 2x2 images labelled 0-9 (loadSplit gives real ones).
 * const test = {
 *   dataset: "toy", split: "test", images: new Uint8Array(100 * 4),
 *   labels: Uint8Array.from({ length: 100 }, (_, i) => i % 10), count: 100,
 *   height: 2, width: 2, channels: 1, classNames: [..."0123456789"], sources: [],
 * };
 * const firstHalf = subsetSplit(test, 0, 50); // a view, no copy
 * const { train, validation } = splitValidation(firstHalf, { fraction: 0.1, seed: 1 });
 * assert.deepEqual([train.count, validation.count], [45, 5]);
 * ```
 *
 * @module
 */

/** A split of an image dataset as typed arrays. */
export interface ImageSplit {
  /** Dataset name (a registry name, or another source's name). */
  dataset: string;
  /** Split name ("train", "test", "dig", or a derived name like "train[0:5000]"). */
  split: string;
  /** Pixels, NHWC order, uint8 (`count * height * width * channels` values). */
  images: Uint8Array;
  /** Class index of each image. */
  labels: Uint8Array;
  /** Number of images. */
  count: number;
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
  /** Channels per pixel (1 grey, 3 RGB). */
  channels: number;
  /** Class names, indexed by label. */
  classNames: readonly string[];
  /** Files the data was read from. */
  sources: readonly string[];
  /** Set when the data is a substitute for the official split (say so in results). */
  note?: string;
}

/** Values per image of a split. */
function _imageSize(split: ImageSplit): number {
  return split.height * split.width * split.channels;
}

/**
 * The images `start` (inclusive) to `end` (exclusive) of a split, as views into
 * the same buffers (no copy). Indices are clamped to the split; negative ones
 * count from the end, as in `Array.prototype.slice`.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { subsetSplit } from "./split.ts";
 * // A toy split of 100 blank 2x2 images labelled 0-9 (loadSplit gives real ones).
 * const test = {
 *   dataset: "toy", split: "test", images: new Uint8Array(100 * 4),
 *   labels: Uint8Array.from({ length: 100 }, (_, i) => i % 10), count: 100,
 *   height: 2, width: 2, channels: 1, classNames: [..."0123456789"], sources: [],
 * };
 * assert.equal(subsetSplit(test, 0, 10).count, 10);
 * ```
 */
export function subsetSplit(
  split: ImageSplit,
  start: number,
  end: number = split.count,
): ImageSplit {
  const clamp = (i: number) =>
    Math.min(split.count, Math.max(0, i < 0 ? split.count + i : i));
  const from = clamp(Math.trunc(start));
  const to = Math.max(from, clamp(Math.trunc(end)));
  const size = _imageSize(split);
  return {
    ...split,
    split: `${split.split}[${from}:${to}]`,
    images: split.images.subarray(from * size, to * size),
    labels: split.labels.subarray(from, to),
    count: to - from,
  };
}

/**
 * Gathers the given images into a new split (a copy, in the given order).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { takeIndices } from "./split.ts";
 * // A toy split of 100 blank 2x2 images labelled 0-9 (loadSplit gives real ones).
 * const test = {
 *   dataset: "toy", split: "test", images: new Uint8Array(100 * 4),
 *   labels: Uint8Array.from({ length: 100 }, (_, i) => i % 10), count: 100,
 *   height: 2, width: 2, channels: 1, classNames: [..."0123456789"], sources: [],
 * };
 * const evens = takeIndices(test, [0, 2, 4]);
 * assert.deepEqual([...evens.labels], [0, 2, 4]); // labels of images 0, 2 and 4
 * ```
 */
export function takeIndices(
  split: ImageSplit,
  indices: ArrayLike<number>,
  name = `${split.split}[${indices.length} picked]`,
): ImageSplit {
  const size = _imageSize(split);
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    if (!Number.isInteger(j) || j < 0 || j >= split.count) {
      throw new RangeError(
        `takeIndices: index ${j} is outside the split (0..${split.count - 1}).`,
      );
    }
    images.set(split.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = split.labels[j];
  }
  return { ...split, split: name, images, labels, count: indices.length };
}

/**
 * A seeded pseudo-random generator (mulberry32) returning floats in [0, 1);
 * the same seed gives the same sequence on every machine.
 *
 * @example
 * ```ts
 * import { seededRandom } from "./split.ts";
 * const random = seededRandom(42);
 * console.log(random(), random());
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seeded random permutation of `0..n-1` (Fisher-Yates).
 *
 * @example
 * ```ts
 * import { shuffledIndices } from "./split.ts";
 * console.log(shuffledIndices(5, 1)); // the same order every run
 * ```
 */
export function shuffledIndices(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const random = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** Options of {@linkcode shuffleSplit}. */
export interface ShuffleSplitOptions {
  /** Seed of the permutation. Default: 0. */
  seed?: number;
}

/**
 * A copy of the split in a seeded random order.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { shuffleSplit } from "./split.ts";
 * // A toy split of 100 blank 2x2 images labelled 0-9 (loadSplit gives real ones).
 * const test = {
 *   dataset: "toy", split: "test", images: new Uint8Array(100 * 4),
 *   labels: Uint8Array.from({ length: 100 }, (_, i) => i % 10), count: 100,
 *   height: 2, width: 2, channels: 1, classNames: [..."0123456789"], sources: [],
 * };
 * const shuffled = shuffleSplit(test, { seed: 7 });
 * assert.deepEqual([...shuffled.labels].sort(), [...test.labels].sort());
 * console.log(shuffled.labels.subarray(0, 10));
 * ```
 */
export function shuffleSplit(
  split: ImageSplit,
  options: ShuffleSplitOptions = {},
): ImageSplit {
  const seed = options.seed ?? 0;
  return takeIndices(
    split,
    shuffledIndices(split.count, seed),
    `${split.split}(shuffled ${seed})`,
  );
}

/** Options of {@linkcode splitValidation}. */
export interface SplitValidationOptions {
  /** Share of the split held out for validation. Default: 0.1 (ignored if `count` is set). */
  fraction?: number;
  /** Exact number of images held out. Default: `round(fraction * split.count)`. */
  count?: number;
  /** Pick the held-out images at random (seeded) rather than the last ones. Default: true. */
  shuffle?: boolean;
  /** Seed of the random pick. Default: 0. */
  seed?: number;
}

/**
 * Splits a split into training and validation parts, like Keras's
 * `validation_split` (last images, `shuffle: false`) or a seeded random pick
 * (default). Without shuffling both parts are views (no copy).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { splitValidation } from "./split.ts";
 * // A toy split of 100 blank 2x2 images labelled 0-9 (loadSplit gives real ones).
 * const test = {
 *   dataset: "toy", split: "test", images: new Uint8Array(100 * 4),
 *   labels: Uint8Array.from({ length: 100 }, (_, i) => i % 10), count: 100,
 *   height: 2, width: 2, channels: 1, classNames: [..."0123456789"], sources: [],
 * };
 * const { train, validation } = splitValidation(test, { count: 20, seed: 1 });
 * assert.deepEqual([train.count, validation.count], [80, 20]);
 * ```
 */
export function splitValidation(
  split: ImageSplit,
  options: SplitValidationOptions = {},
): { train: ImageSplit; validation: ImageSplit } {
  const fraction = options.fraction ?? 0.1;
  const held = options.count ?? Math.round(fraction * split.count);
  if (!Number.isInteger(held) || held < 0 || held > split.count) {
    throw new RangeError(
      `splitValidation: cannot hold out ${held} of ${split.count} images; ` +
        "give a fraction in [0, 1] or a count up to the split size.",
    );
  }
  const keep = split.count - held;
  if (options.shuffle === false) {
    return {
      train: subsetSplit(split, 0, keep),
      validation: subsetSplit(split, keep, split.count),
    };
  }
  // Pick at random, but keep each part in the original order.
  const order = shuffledIndices(split.count, options.seed ?? 0);
  return {
    train: takeIndices(
      split,
      order.subarray(0, keep).sort(),
      `${split.split}(train)`,
    ),
    validation: takeIndices(
      split,
      order.subarray(keep).sort(),
      `${split.split}(validation)`,
    ),
  };
}

/**
 * How many images of each class a split holds.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { labelCounts } from "./split.ts";
 * // A toy split of 100 blank 2x2 images labelled 0-9 (loadSplit gives real ones).
 * const test = {
 *   dataset: "toy", split: "test", images: new Uint8Array(100 * 4),
 *   labels: Uint8Array.from({ length: 100 }, (_, i) => i % 10), count: 100,
 *   height: 2, width: 2, channels: 1, classNames: [..."0123456789"], sources: [],
 * };
 * assert.deepEqual(labelCounts(test), Array(10).fill(10));
 * // MNIST's test split: [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
 * ```
 */
export function labelCounts(split: ImageSplit): number[] {
  const counts = new Array<number>(split.classNames.length).fill(0);
  for (const label of split.labels) counts[label]++;
  return counts;
}
