/**
 * The original LeNet-5 of LeCun, Bottou, Bengio and Haffner (1998),
 * "Gradient-based learning applied to document recognition" — no tutorial
 * ships it; seed 002's text describes its layers.
 *
 * @module
 */
import * as tf from "../tf.ts";
import { _checkInt, _Seeder } from "./_common.ts";
import {
  EuclideanRBF,
  LENET5_C3_TABLE,
  PartialConv2D,
  ScaledTanh,
  TrainableSubsampling,
} from "./layers/lenet1998.ts";

/** Arguments of {@linkcode buildLenet5_1998}. */
export interface Lenet5_1998Args {
  /** Number of RBF output units (classes). Default: 10. */
  numClasses?: number;
  /**
   * Output of the RBF layer: "scores" (negative squared distances, usable as
   * logits with softmax cross-entropy; argmax = predicted class) or
   * "distances" (the paper's outputs, smaller = better). Default: "scores".
   */
  output?: "scores" | "distances";
  /** Train the RBF prototypes. Default: false (fixed, as in the paper). */
  trainablePrototypes?: boolean;
  /**
   * Connect C3 to all six S2 maps instead of the paper's table (2,416
   * parameters instead of 1,516). Default: false.
   */
  fullC3?: boolean;
  /** Seed for the initial weights (the RBF codes have their own). Default: unseeded. */
  seed?: number;
  /** Model name. Default: "lenet5-1998". */
  name?: string;
}

/**
 * LeNet-5 as published: input 32x32x1; every layer up to F6 squashed by
 * f(a) = 1.7159 tanh(2a/3).
 *
 * | layer | what | params |
 * | --- | --- | --- |
 * | C1 | conv 6@5x5 -> 28x28x6 | 156 |
 * | S2 | 2x2 sum x coefficient + bias -> 14x14x6 | 12 |
 * | C3 | conv 16@5x5 with Table I's connections -> 10x10x16 | 1,516 |
 * | S4 | 2x2 sum x coefficient + bias -> 5x5x16 | 32 |
 * | C5 | conv 120@5x5 -> 1x1x120 | 48,120 |
 * | F6 | dense 84 | 10,164 |
 * | output | Euclidean RBF, 10 fixed ±1 prototypes | 840 (fixed) |
 *
 * 60,000 trainable parameters (the paper's "60,000"), 60,840 in all.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { buildLenet5_1998 } from "./lenet5_1998.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = buildLenet5_1998();
 * model.compile({
 *   optimizer: "adam",
 *   loss: (y, scores) => tf.losses.softmaxCrossEntropy(y, scores),
 * });
 * ```
 */
export function buildLenet5_1998(
  args: Lenet5_1998Args = {},
): tf.Sequential {
  const numClasses = _checkInt(
    args.numClasses ?? 10,
    "lenet5-1998: numClasses",
  );
  const s = new _Seeder(args.seed);
  return tf.sequential({
    name: args.name ?? "lenet5-1998",
    layers: [
      tf.layers.conv2d({
        name: "C1",
        filters: 6,
        kernelSize: 5,
        inputShape: [32, 32, 1],
        kernelInitializer: s.glorot(),
      }),
      new ScaledTanh({ name: "C1_squash" }),
      new TrainableSubsampling({ name: "S2" }),
      new ScaledTanh({ name: "S2_squash" }),
      new PartialConv2D({
        name: "C3",
        connections: args.fullC3
          ? Array.from({ length: 16 }, () => [0, 1, 2, 3, 4, 5])
          : LENET5_C3_TABLE,
        seed: s.seed(),
      }),
      new ScaledTanh({ name: "C3_squash" }),
      new TrainableSubsampling({ name: "S4" }),
      new ScaledTanh({ name: "S4_squash" }),
      tf.layers.conv2d({
        name: "C5",
        filters: 120,
        kernelSize: 5,
        kernelInitializer: s.glorot(),
      }),
      new ScaledTanh({ name: "C5_squash" }),
      tf.layers.flatten({ name: "flatten" }),
      tf.layers.dense({ name: "F6", units: 84, kernelInitializer: s.glorot() }),
      new ScaledTanh({ name: "F6_squash" }),
      new EuclideanRBF({
        name: "RBF",
        units: numClasses,
        output: args.output ?? "scores",
        trainablePrototypes: args.trainablePrototypes ?? false,
      }),
    ],
  });
}
