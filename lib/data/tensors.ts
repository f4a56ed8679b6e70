/**
 * From `ImageSplit` typed arrays to TensorFlow.js tensors: NHWC float32 images
 * with a normalisation preset and optional resizing, labels as int32 classes or
 * float32 one-hot rows; whole splits or a generator of (shuffled) batches that
 * never materialises the full float32 copy.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { toTensors } from "./tensors.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * // A toy split of 100 blank 2x2 images labelled 0-9 (loadSplit gives real ones).
 * const test = {
 *   dataset: "toy", split: "test", images: new Uint8Array(100 * 4),
 *   labels: Uint8Array.from({ length: 100 }, (_, i) => i % 10), count: 100,
 *   height: 2, width: 2, channels: 1, classNames: [..."0123456789"], sources: [],
 * };
 * const { xs, ys } = toTensors(test, { normalize: { mean: 0.1307, std: 0.3081 }, resize: 32 });
 * assert.deepEqual([xs.shape, ys.shape], [[100, 32, 32, 1], [100]]);
 * xs.dispose();
 * ys.dispose();
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import { type ImageSplit, shuffledIndices } from "./split.ts";

/**
 * Pixel normalisation presets: "none" keeps 0..255, "unit" is x/255,
 * "centered" is x/255 - 0.5 (the CIFAR-10 tutorial), and `{ mean, std }` is
 * (x/255 - mean) / std as torchvision's `Normalize` (numbers, or one per channel).
 */
export type Normalization =
  | "none"
  | "unit"
  | "centered"
  | { mean: number | readonly number[]; std: number | readonly number[] };

/** Options of {@linkcode toTensors}. */
export interface ToTensorsOptions {
  /** Pixel normalisation. Default: "unit" (x/255). */
  normalize?: Normalization;
  /** Resize images to `resize x resize` pixels (e.g. 32 for 28x28 digits). Default: keep the size. */
  resize?: number;
  /**
   * How to resize: "bilinear" interpolation (torchvision's `Resize`, which
   * the LeNet tutorial uses) or "pad" with background around the centre
   * (LeCun's 1998 setup; only to a larger size). Default: "bilinear".
   */
  resizeMethod?: "bilinear" | "pad";
  /** Labels as float32 one-hot rows `[N, classes]` instead of int32 `[N]`. Default: false. */
  oneHot?: boolean;
}

/** Images and labels as tensors. */
export interface TensorPair {
  /** Images, `[N, height, width, channels]` float32. */
  xs: tf.Tensor4D;
  /** Labels: int32 `[N]`, or float32 one-hot `[N, classes]`. */
  ys: tf.Tensor;
}

/** Per-channel scale and offset: value = pixel * scale[c] + offset[c]. */
function _affine(
  normalize: Normalization,
  channels: number,
): { scale: Float32Array; offset: Float32Array } {
  const scale = new Float32Array(channels);
  const offset = new Float32Array(channels);
  const perChannel = (v: number | readonly number[], name: string) => {
    const values = typeof v === "number" ? new Array(channels).fill(v) : v;
    if (values.length !== channels) {
      throw new Error(
        `normalize.${name} has ${values.length} values for ${channels} channels.`,
      );
    }
    return values;
  };
  if (typeof normalize === "object") {
    const mean = perChannel(normalize.mean, "mean");
    const std = perChannel(normalize.std, "std");
    for (let c = 0; c < channels; c++) {
      if (!(std[c] > 0)) {
        throw new Error(`normalize.std must be > 0, got ${std[c]}.`);
      }
      scale[c] = 1 / (255 * std[c]);
      offset[c] = -mean[c] / std[c];
    }
    return { scale, offset };
  }
  const presets = {
    none: [1, 0],
    unit: [1 / 255, 0],
    centered: [1 / 255, -0.5],
  } as const;
  const preset = presets[normalize];
  if (!preset) {
    throw new Error(
      `Unknown normalisation "${normalize}"; use "none", "unit", "centered" or { mean, std }.`,
    );
  }
  scale.fill(preset[0]);
  offset.fill(preset[1]);
  return { scale, offset };
}

interface _Plan {
  outHeight: number;
  outWidth: number;
  padTop: number;
  padLeft: number;
  bilinear?: number;
}

function _plan(split: ImageSplit, options: ToTensorsOptions): _Plan {
  const { height, width } = split;
  const size = options.resize;
  const none = {
    outHeight: height,
    outWidth: width,
    padTop: 0,
    padLeft: 0,
  };
  if (size === undefined || (size === height && size === width)) return none;
  if (!Number.isInteger(size) || size < 1) {
    throw new Error(`resize must be a whole number of pixels, not ${size}.`);
  }
  if ((options.resizeMethod ?? "bilinear") === "bilinear") {
    return { ...none, bilinear: size };
  }
  if (options.resizeMethod !== "pad") {
    throw new Error(
      `Unknown resizeMethod "${options.resizeMethod}"; use "bilinear" or "pad".`,
    );
  }
  if (size < height || size < width) {
    throw new Error(
      `resizeMethod "pad" only enlarges: cannot pad ${height}x${width} to ${size}.`,
    );
  }
  return {
    outHeight: size,
    outWidth: size,
    padTop: Math.floor((size - height) / 2),
    padLeft: Math.floor((size - width) / 2),
  };
}

/** Normalised float32 pixels of the chosen images, padded if planned. */
function _floatImages(
  split: ImageSplit,
  pick: (i: number) => number,
  n: number,
  normalize: Normalization,
  plan: _Plan,
): Float32Array {
  const { height, width, channels } = split;
  const { scale, offset } = _affine(normalize, channels);
  const { outHeight, outWidth, padTop, padLeft } = plan;
  const outSize = outHeight * outWidth * channels;
  const out = new Float32Array(n * outSize);
  const padded = outHeight !== height || outWidth !== width;
  if (padded) {
    // Background: the normalised value of a 0 pixel, per channel.
    for (let p = 0; p < out.length; p += channels) {
      for (let c = 0; c < channels; c++) out[p + c] = offset[c];
    }
  }
  const rowValues = width * channels;
  for (let i = 0; i < n; i++) {
    const image = pick(i) * height * rowValues;
    for (let y = 0; y < height; y++) {
      const src = image + y * rowValues;
      const dst = i * outSize + ((y + padTop) * outWidth + padLeft) * channels;
      for (let x = 0; x < rowValues; x++) {
        const c = channels === 1 ? 0 : x % channels;
        out[dst + x] = split.images[src + x] * scale[c] + offset[c];
      }
    }
  }
  return out;
}

function _labels(
  split: ImageSplit,
  pick: (i: number) => number,
  n: number,
  oneHot: boolean,
): tf.Tensor {
  const classes = split.classNames.length;
  if (oneHot) {
    const rows = new Float32Array(n * classes);
    for (let i = 0; i < n; i++) rows[i * classes + split.labels[pick(i)]] = 1;
    return tf.tensor2d(rows, [n, classes], "float32");
  }
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = split.labels[pick(i)];
  return tf.tensor1d(ids, "int32");
}

function _pair(
  split: ImageSplit,
  pick: (i: number) => number,
  n: number,
  options: ToTensorsOptions,
): TensorPair {
  const plan = _plan(split, options);
  const pixels = _floatImages(
    split,
    pick,
    n,
    options.normalize ?? "unit",
    plan,
  );
  const shape: [number, number, number, number] = [
    n,
    plan.outHeight,
    plan.outWidth,
    split.channels,
  ];
  const size = plan.bilinear;
  const xs = size === undefined
    ? tf.tensor4d(pixels, shape, "float32")
    : tf.tidy(() =>
      // Half-pixel centres match PIL / torchvision bilinear resizing.
      tf.image.resizeBilinear(
        tf.tensor4d(pixels, shape, "float32"),
        [size, size],
        false,
        true,
      )
    );
  return { xs, ys: _labels(split, pick, n, options.oneHot ?? false) };
}

/**
 * The whole split as tensors (the caller disposes them). For large splits
 * prefer {@linkcode batches}: MNIST's training set alone is 188 MB as float32.
 *
 * @example
 * ```ts ignore
 * import * as tf from "../tf.ts";
 * import { loadSplit } from "./load.ts";
 * import { toTensors } from "./tensors.ts";
 * const test = await loadSplit("cifar10", "test", { allowSubset: true });
 * const { xs, ys } = toTensors(test, { normalize: "centered", oneHot: true });
 * console.log(xs.shape, ys.shape); // [N, 32, 32, 3] [N, 10]
 * tf.dispose([xs, ys]);
 * ```
 */
export function toTensors(
  split: ImageSplit,
  options: ToTensorsOptions = {},
): TensorPair {
  return _pair(split, (i) => i, split.count, options);
}

/** Options of {@linkcode batches} and {@linkcode batchCount}. */
export interface BatchOptions extends ToTensorsOptions {
  /** Images per batch. Default: 32. */
  batchSize?: number;
  /** Visit images in a seeded random order. Default: false. */
  shuffle?: boolean;
  /** Seed of the order when shuffling (use a new one per epoch). Default: 0. */
  seed?: number;
  /** Skip the last batch if it is smaller than `batchSize`. Default: false. */
  dropRemainder?: boolean;
}

/**
 * How many batches {@linkcode batches} yields for a split.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { batchCount } from "./tensors.ts";
 * // A toy split of 100 blank 2x2 images labelled 0-9 (loadSplit gives real ones).
 * const test = {
 *   dataset: "toy", split: "test", images: new Uint8Array(100 * 4),
 *   labels: Uint8Array.from({ length: 100 }, (_, i) => i % 10), count: 100,
 *   height: 2, width: 2, channels: 1, classNames: [..."0123456789"], sources: [],
 * };
 * assert.equal(batchCount(test, { batchSize: 64 }), 2); // 157 for MNIST's 10,000
 * ```
 */
export function batchCount(
  split: ImageSplit,
  options: BatchOptions = {},
): number {
  const size = options.batchSize ?? 32;
  return options.dropRemainder
    ? Math.floor(split.count / size)
    : Math.ceil(split.count / size);
}

/**
 * Yields the split as batches of tensors, built one batch at a time so the
 * float32 copy of the whole split never exists. The caller disposes each
 * batch's tensors (or wraps the loop body in `tf.tidy`).
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { batches } from "./tensors.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * // A toy split of 100 blank 2x2 images labelled 0-9 (loadSplit gives real ones).
 * const train = {
 *   dataset: "toy", split: "test", images: new Uint8Array(100 * 4),
 *   labels: Uint8Array.from({ length: 100 }, (_, i) => i % 10), count: 100,
 *   height: 2, width: 2, channels: 1, classNames: [..."0123456789"], sources: [],
 * };
 * for (const { xs, ys } of batches(train, { batchSize: 32, shuffle: true, seed: 1 })) {
 *   // model.trainOnBatch(xs, ys) ...
 *   tf.dispose([xs, ys]);
 * }
 * ```
 */
export function* batches(
  split: ImageSplit,
  options: BatchOptions = {},
): Generator<TensorPair> {
  const size = options.batchSize ?? 32;
  if (!Number.isInteger(size) || size < 1) {
    throw new Error(`batchSize must be a whole number >= 1, not ${size}.`);
  }
  _plan(split, options); // Fail on bad options before the first batch.
  const order = options.shuffle
    ? shuffledIndices(split.count, options.seed ?? 0)
    : undefined;
  const count = batchCount(split, options);
  for (let b = 0; b < count; b++) {
    const start = b * size;
    const n = Math.min(size, split.count - start);
    const pick = order
      ? (i: number) => order[start + i]
      : (i: number) => start + i;
    yield _pair(split, pick, n, options);
  }
}
