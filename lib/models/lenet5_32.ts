/**
 * Seed 002's PyTorch LeNet (MNIST resized to 32x32, log-softmax output).
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
import { pytorchDefaultInit } from "./init.ts";

/** Arguments of {@linkcode buildLenet5_32}. */
export interface Lenet5_32Args {
  /** Input `[height, width, channels]`; sides >= 16. Default: `[32, 32, 1]`. */
  inputShape?: ImageShape;
  /** Number of classes. Default: 10. */
  numClasses?: number;
  /**
   * Apply a ReLU after the second convolution. Default: false: the seed's
   * `forward` goes conv2 -> maxpool2 without activation (its prose says
   * every conv has a ReLU; the code is what was trained).
   */
  reluAfterConv2?: boolean;
  /** Seed for the initial weights. Default: unseeded. */
  seed?: number;
  /** Model name. Default: "lenet5-32". */
  name?: string;
}

/**
 * Seed 002's `LeNet(nn.Module)`: conv 6@5x5 valid, ReLU, max-pool 2/2,
 * conv 16@5x5 valid, max-pool 2/2, flatten (400), fc 120 ReLU, fc 84 ReLU,
 * fc 10, log-softmax (61,706 parameters on 32x32x1), every weight and bias
 * drawn as PyTorch draws them by default (see `pytorchDefaultInit`). The output is
 * log-probabilities: train it with a negative log-likelihood (see
 * `classificationLoss("log-probabilities")`), or with softmax cross-entropy
 * on the output as the seed does (log_softmax is idempotent there).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildLenet5_32 } from "./lenet5_32.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = buildLenet5_32();
 * assert.deepEqual(model.outputShape, [null, 10]);
 * assert.equal(model.countParams(), 61706);
 * ```
 */
export function buildLenet5_32(args: Lenet5_32Args = {}): tf.Sequential {
  const inputShape = _checkInputShape(
    args.inputShape ?? [32, 32, 1],
    "lenet5-32",
    16,
    "two valid 5x5 convolutions and two 2x2 poolings",
  );
  const numClasses = _checkInt(args.numClasses ?? 10, "lenet5-32: numClasses");
  const s = new _Seeder(args.seed);
  const init = (fanIn: number) => pytorchDefaultInit(fanIn, { seed: s.seed() });
  // Two valid 5x5 convolutions, each followed by a 2x2 pooling.
  const side = (n: number) => Math.floor((Math.floor((n - 4) / 2) - 4) / 2);
  const flatUnits = side(inputShape[0]) * side(inputShape[1]) * 16;
  return tf.sequential({
    name: args.name ?? "lenet5-32",
    layers: [
      tf.layers.conv2d({
        name: "conv1",
        filters: 6,
        kernelSize: 5,
        activation: "relu",
        inputShape,
        ...init(5 * 5 * inputShape[2]),
      }),
      tf.layers.maxPooling2d({ name: "maxpool1", poolSize: 2, strides: 2 }),
      tf.layers.conv2d({
        name: "conv2",
        filters: 16,
        kernelSize: 5,
        activation: args.reluAfterConv2 ? "relu" : "linear",
        ...init(5 * 5 * 6),
      }),
      tf.layers.maxPooling2d({ name: "maxpool2", poolSize: 2, strides: 2 }),
      tf.layers.flatten({ name: "flatten" }),
      tf.layers.dense({
        name: "fc1",
        units: 120,
        activation: "relu",
        ...init(flatUnits),
      }),
      tf.layers.dense({
        name: "fc2",
        units: 84,
        activation: "relu",
        ...init(120),
      }),
      tf.layers.dense({
        name: "fc3",
        units: numClasses,
        ...init(84),
      }),
      // "logSoftmax" is a registered tfjs activation missing from its type.
      tf.layers.activation({
        name: "log_softmax",
        activation: "logSoftmax" as "softmax",
      }),
    ],
  });
}
