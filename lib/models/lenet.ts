/**
 * Seed 000's LeNet (Kannada-MNIST): the d2l-style sequential LeNet with
 * sigmoid activations and max pooling.
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

/** Arguments of {@linkcode buildLenet}. */
export interface LenetArgs {
  /** Input `[height, width, channels]`; sides >= 16. Default: `[28, 28, 1]`. */
  inputShape?: ImageShape;
  /** Number of classes. Default: 10. */
  numClasses?: number;
  /**
   * Activation of the output layer. Default: "sigmoid" (the tutorial's; the
   * sparse categorical cross-entropy then normalises the outputs by their sum,
   * as Keras does). "softmax" gives proper probabilities.
   */
  outputActivation?: "sigmoid" | "softmax";
  /** Seed for the initial weights. Default: unseeded. */
  seed?: number;
  /** Model name. Default: "lenet". */
  name?: string;
}

/**
 * Seed 000's sequential LeNet: conv 6@5x5 sigmoid, max-pool 2/2, conv 16@5x5
 * sigmoid, max-pool 2/2, flatten, dense 120, 84 and 10, all sigmoid
 * (44,426 parameters on 28x28x1).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildLenet } from "./lenet.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = buildLenet();
 * assert.equal(model.countParams(), 44426);
 * ```
 */
export function buildLenet(args: LenetArgs = {}): tf.Sequential {
  const inputShape = _checkInputShape(
    args.inputShape ?? [28, 28, 1],
    "lenet",
    16,
    "two valid 5x5 convolutions and two 2x2 poolings",
  );
  const numClasses = _checkInt(args.numClasses ?? 10, "lenet: numClasses");
  const s = new _Seeder(args.seed);
  return tf.sequential({
    name: args.name ?? "lenet",
    layers: [
      tf.layers.conv2d({
        name: "conv1",
        filters: 6,
        kernelSize: 5,
        activation: "sigmoid",
        inputShape,
        kernelInitializer: s.glorot(),
      }),
      tf.layers.maxPooling2d({ name: "pool1", poolSize: 2, strides: 2 }),
      tf.layers.conv2d({
        name: "conv2",
        filters: 16,
        kernelSize: 5,
        activation: "sigmoid",
        kernelInitializer: s.glorot(),
      }),
      tf.layers.maxPooling2d({ name: "pool2", poolSize: 2, strides: 2 }),
      tf.layers.flatten({ name: "flatten" }),
      tf.layers.dense({
        name: "dense1",
        units: 120,
        activation: "sigmoid",
        kernelInitializer: s.glorot(),
      }),
      tf.layers.dense({
        name: "dense2",
        units: 84,
        activation: "sigmoid",
        kernelInitializer: s.glorot(),
      }),
      tf.layers.dense({
        name: "dense3",
        units: numClasses,
        activation: args.outputActivation ?? "sigmoid",
        kernelInitializer: s.glorot(),
      }),
    ],
  });
}
