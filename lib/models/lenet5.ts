/**
 * Seed 001's LeNet-5 (MNIST, Keras style), with either Keras' Conv2D or the
 * tutorial's hand-written convolution layer.
 *
 * @module
 */
import * as tf from "../tf.ts";
import {
  _checkInputShape,
  _checkInt,
  _Seeder,
  type ImageShape,
} from "./_common.ts";
import { SimpleConv2D } from "./layers/simple_conv2d.ts";

/** Arguments of {@linkcode buildLenet5}. */
export interface Lenet5Args {
  /** Input `[height, width, channels]`; sides >= 12. Default: `[28, 28, 1]`. */
  inputShape?: ImageShape;
  /** Number of classes. Default: 10. */
  numClasses?: number;
  /**
   * Convolution class: "conv2d" (tfjs' Conv2D, the tutorial's recommended
   * choice) or "simple" (the tutorial's hand-written `SimpleConvolutionLayer`,
   * here {@linkcode SimpleConv2D}). Same shapes and parameter counts.
   * Default: "conv2d".
   */
  convLayer?: "conv2d" | "simple";
  /** Seed for the initial weights. Default: unseeded. */
  seed?: number;
  /** Model name. Default: "lenet5". */
  name?: string;
}

/**
 * Seed 001's LeNet-5: conv 6@5x5 'same' ReLU, max-pool, conv 16@5x5 ReLU,
 * max-pool, flatten, dense 120 ReLU, 84 ReLU, 10 softmax. Per-layer
 * parameters 156, 2,416, 48,120, 10,164, 850 = 61,706.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildLenet5 } from "./lenet5.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = buildLenet5({ convLayer: "simple" });
 * assert.equal(model.countParams(), 61706);
 * ```
 */
export function buildLenet5(args: Lenet5Args = {}): tf.Sequential {
  const inputShape = _checkInputShape(
    args.inputShape ?? [28, 28, 1],
    "lenet5",
    12,
    "a 'same' conv, a 2x2 pool, a valid 5x5 conv and a 2x2 pool",
  );
  const numClasses = _checkInt(args.numClasses ?? 10, "lenet5: numClasses");
  const convLayer = args.convLayer ?? "conv2d";
  if (convLayer !== "conv2d" && convLayer !== "simple") {
    throw new Error(
      `lenet5: convLayer must be "conv2d" or "simple", got ${convLayer}.`,
    );
  }
  const s = new _Seeder(args.seed);
  const conv = (
    name: string,
    filters: number,
    padding: "same" | "valid",
    first: boolean,
  ): tf.layers.Layer =>
    convLayer === "simple"
      ? new SimpleConv2D({
        name,
        filters,
        kernelSize: 5,
        padding,
        activation: "relu",
        seed: s.seed(),
        ...(first ? { inputShape } : {}),
      })
      : tf.layers.conv2d({
        name,
        filters,
        kernelSize: 5,
        padding,
        activation: "relu",
        kernelInitializer: s.glorot(),
        ...(first ? { inputShape } : {}),
      });
  return tf.sequential({
    name: args.name ?? "lenet5",
    layers: [
      conv("conv1", 6, "same", true),
      tf.layers.maxPooling2d({ name: "pool1", poolSize: 2 }),
      conv("conv2", 16, "valid", false),
      tf.layers.maxPooling2d({ name: "pool2", poolSize: 2 }),
      tf.layers.flatten({ name: "flatten" }),
      tf.layers.dense({
        name: "dense1",
        units: 120,
        activation: "relu",
        kernelInitializer: s.glorot(),
      }),
      tf.layers.dense({
        name: "dense2",
        units: 84,
        activation: "relu",
        kernelInitializer: s.glorot(),
      }),
      tf.layers.dense({
        name: "dense3",
        units: numClasses,
        activation: "softmax",
        kernelInitializer: s.glorot(),
      }),
    ],
  });
}
