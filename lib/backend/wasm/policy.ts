/**
 * The dispatch policy of the wasm kernels, in one place: every threshold
 * that decides between the project's C kernels, XNNPACK (through the shipped
 * kernel) and one or two threads, each with the measurement behind it. A
 * threshold changed here changes speed, never numbers beyond float rounding
 * (the differential tests compare every path with tfjs-backend-cpu).
 *
 * @module
 */
import type * as tf from "../../tf.ts";
/**
 * Multiply-adds below which a kernel stays on one thread: a hand-off costs
 * a round trip (10-20 µs).
 */
export const MIN_THREADED_WORK = 1 << 22;

/**
 * Chunks of a threaded matrix product: one per thread, as every chunk
 * streams the whole of one operand (B for rows of A · B, A for columns of
 * A · Bᵀ); with more, small-batch products (MobileNet's pointwise layers
 * on 2x2 images) became memory-bound and slower than one thread.
 */
export const PRODUCT_CHUNKS = 2;

/**
 * How many chunks a threaded kernel's work is cut into: enough that a
 * thread which starts late (a worker waking up, or descheduled under load)
 * leaves its chunks to the other, few enough to keep calls cheap.
 */
export const CHUNKS = 8;

/**
 * Up to this many input channels, the input gradient runs in the SIMD
 * kernels' `conv2d_input_grad` rather than as an XNNPACK convolution, which
 * does poorly producing so few channels (LeNet-5's second layer, 6 input
 * channels: measured ~2.3 ms against ~4 ms); with 16 or 32 (the CIFAR CNN)
 * XNNPACK was as fast or faster, except on inputs much larger than the
 * output (see {@linkcode colsInputGradPays}).
 */
export const COLS_MAX_CHANNELS = 8;

/**
 * From this ratio of input pixels to output pixels, the input gradient
 * runs in `conv2d_input_grad` whatever the channel count (see
 * {@linkcode colsInputGradPays}).
 */
export const COLS_MIN_PIXEL_RATIO = 2;

/**
 * Whether a convolution's input gradient should run as products per
 * output pixel scattered onto the input (`conv2d_input_grad`) rather than
 * as a convolution of the padded output gradient, whatever the channel
 * count: when the input has at least {@linkcode COLS_MIN_PIXEL_RATIO}
 * times the output's pixels (a 'valid' convolution on small maps), the
 * convolution would multiply that many padding zeros. Measured on 2 loaded
 * cores (median of 5, three alternations): lenet5-1998's C5 (1x1 output,
 * 25 input pixels) 0.4-1.9 ms against 7-16 ms; the wide Fashion LeNet's
 * second layer (8x8 from 12x12, 32 channels, batch 100) 76-135 ms against
 * 97-363 ms; 'same' convolutions (the Kannada CNN) stay convolutions.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../../tf.ts";
 * import { colsInputGradPays } from "./policy.ts";
 * const info = tf.backend_util.computeConv2DInfo(
 *   [32, 5, 5, 16], [5, 5, 16, 120], 1, 1, "valid");
 * assert.ok(colsInputGradPays(info));
 * ```
 */
export function colsInputGradPays(info: tf.backend_util.Conv2DInfo): boolean {
  return info.inHeight * info.inWidth >=
    COLS_MIN_PIXEL_RATIO * info.outHeight * info.outWidth;
}

/**
 * Below this many output pixels (the length of each dot product), the
 * SIMD filter gradient loses to XNNPACK's product: each of its register
 * blocks then does too little work (measured: 8 pixels of a 1024x1024 1x1
 * convolution, 7.5 ms against 1.1 ms; 128 pixels of 128x256, 0.27 against
 * 0.54 ms).
 */
export const MIN_SIMD_PIXELS = 64;

/**
 * Up to this many input channels (grey and RGB images), a convolution runs
 * in the SIMD kernels' `conv2d_direct_rows` rather than in XNNPACK, whose packed
 * kernels do poorly with so few: LeNet-5's first layer (1 -> 6 channels,
 * batch 64) measured ~1.6 ms against XNNPACK's ~2.6 ms; at 6 input
 * channels the two were even, and from 16 on too (34 GFLOP/s each). With
 * the kernel thread running, every convolution goes to `conv2d_direct_rows`,
 * on two threads (XNNPACK's runs on one here).
 */
export const DIRECT_MAX_CHANNELS = 3;

/**
 * The filter gradient's shifted-row grid (no SIMD kernels) is used while
 * it has at most this many times the columns of plain im2col; beyond, the
 * zero columns it adds cost more than the row copies save.
 */
export const MAX_GRID_COLUMNS_RATIO = 1.25;

/**
 * The work an element-wise pass (LeakyRelu, the max-pool gradient's few
 * compares) counts per value, in multiply-adds, against
 * {@linkcode MIN_THREADED_WORK}: threaded from 256K values.
 */
export const ELEMENTWISE_WORK_PER_VALUE = 16;

/**
 * The work Tanh counts per value against {@linkcode MIN_THREADED_WORK}:
 * its polynomial, exponential and division cost about 40 vector operations
 * per 4 values, so it is threaded from 64K values. lenet5-1998's first
 * squash (32x28x28x6, 150K values): 383 µs on one thread.
 */
export const TANH_WORK_PER_VALUE = 64;

/**
 * The one-channel convolution kernels (grey images' first layer:
 * `conv2d_one_channel_rows`, `conv2d_filter_grad_one_channel`) count each
 * multiply-add this many times against {@linkcode MIN_THREADED_WORK}: they
 * run at a third of the other kernels' rate (8 loads per 12 multiply-adds),
 * so a hand-off pays from a quarter of the work. LeNet-5's first layer at
 * batch 32 (3.8M multiply-adds), on two threads against one (one process
 * each, alternated twice): forward 0.42 against 0.58-0.60 ms, filter
 * gradient 0.32 against 0.40-0.41 ms.
 */
export const ONE_CHANNEL_WORK_WEIGHT = 4;

/**
 * Weights (B operands, filters) that a product has already seen: XNNPACK
 * keeps the operator it builds around such a tensor, so the next product
 * with it is cheap. A tensor seen for the first time (a trained weight is a
 * new tensor after every step) goes to the SIMD `matmul_nn` instead, which
 * packs nothing.
 */
const seenWeights = new WeakSet<object>();

/** True the first time `weights` is asked about, false after that. */
export function freshWeights(weights: tf.TensorInfo): boolean {
  if (seenWeights.has(weights.dataId)) return false;
  seenWeights.add(weights.dataId);
  return true;
}
