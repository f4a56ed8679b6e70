/**
 * Seed 004's CIFAR-10 CNN.
 *
 * @module
 */
import * as tf from "../tf.ts";
import {
  _checkInputShape,
  _checkInt,
  _checkRate,
  _Seeder,
  type ImageShape,
} from "./_common.ts";

/** Arguments of {@linkcode buildCifarCnn}. */
export interface CifarCnnArgs {
  /** Input `[height, width, channels]`; sides >= 4. Default: `[32, 32, 3]`. */
  inputShape?: ImageShape;
  /** Number of classes. Default: 10. */
  numClasses?: number;
  /**
   * Negative slope of every LeakyReLU. Default: 0.1 (the seed's; note tfjs'
   * own default is 0.3, so it is always passed explicitly).
   */
  leakyAlpha?: number;
  /** Dropout after each pooling. Default: 0.25. */
  convDropout?: number;
  /** Dropout after the 256-unit dense layer. Default: 0.5. */
  denseDropout?: number;
  /**
   * Seed for the initial weights. Default: unseeded. Dropout masks stay
   * random (a seeded tfjs dropout repeats one mask forever).
   */
  seed?: number;
  /** Model name. Default: "cifar-cnn". */
  name?: string;
}

/**
 * Seed 004's `make_model()`: conv 16 and 32 @3x3 'same' (LeakyReLU 0.1 each),
 * max-pool, dropout 0.25, conv 32 and 64 @3x3 'same' (LeakyReLU), max-pool,
 * dropout 0.25, flatten, dense 256, LeakyReLU, dropout 0.5, dense 10,
 * LeakyReLU, softmax: 1,084,234 parameters on 32x32x3.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildCifarCnn } from "./cifar_cnn.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * assert.equal(buildCifarCnn().countParams(), 1084234);
 * ```
 */
export function buildCifarCnn(args: CifarCnnArgs = {}): tf.Sequential {
  const inputShape = _checkInputShape(
    args.inputShape ?? [32, 32, 3],
    "cifar-cnn",
    4,
    "two 2x2 poolings",
  );
  const numClasses = _checkInt(args.numClasses ?? 10, "cifar-cnn: numClasses");
  const alpha = args.leakyAlpha ?? 0.1;
  if (!(alpha >= 0)) {
    throw new Error(`cifar-cnn: leakyAlpha must be >= 0, got ${alpha}.`);
  }
  const convDropout = _checkRate(args.convDropout ?? 0.25, "convDropout");
  const denseDropout = _checkRate(args.denseDropout ?? 0.5, "denseDropout");
  const s = new _Seeder(args.seed);
  let leaky = 0;
  const act = () =>
    tf.layers.leakyReLU({ name: `leaky_re_lu_${++leaky}`, alpha });
  const conv = (i: number, filters: number) =>
    tf.layers.conv2d({
      name: `conv2d_${i}`,
      filters,
      kernelSize: 3,
      padding: "same",
      kernelInitializer: s.glorot(),
      ...(i === 1 ? { inputShape } : {}),
    });
  return tf.sequential({
    name: args.name ?? "cifar-cnn",
    layers: [
      conv(1, 16),
      act(),
      conv(2, 32),
      act(),
      tf.layers.maxPooling2d({ name: "max_pooling2d_1", poolSize: 2 }),
      tf.layers.dropout({ name: "dropout_1", rate: convDropout }),
      conv(3, 32),
      act(),
      conv(4, 64),
      act(),
      tf.layers.maxPooling2d({ name: "max_pooling2d_2", poolSize: 2 }),
      tf.layers.dropout({ name: "dropout_2", rate: convDropout }),
      tf.layers.flatten({ name: "flatten_1" }),
      tf.layers.dense({
        name: "dense_1",
        units: 256,
        kernelInitializer: s.glorot(),
      }),
      act(),
      tf.layers.dropout({ name: "dropout_3", rate: denseDropout }),
      tf.layers.dense({
        name: "dense_2",
        units: numClasses,
        kernelInitializer: s.glorot(),
      }),
      act(),
      tf.layers.activation({ name: "activation_1", activation: "softmax" }),
    ],
  });
}
