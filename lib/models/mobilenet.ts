/**
 * MobileNet v1 as Keras' `tf.keras.applications.MobileNet` builds it (seed
 * 000 uses it with `input_shape=(32, 32, 1), include_top=False,
 * weights=None`, then adds global average pooling, dense 1024 ReLU and a
 * softmax layer).
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

/** Arguments of {@linkcode buildMobileNet}. */
export interface MobileNetArgs {
  /**
   * Input `[height, width, channels]`; height and width must be >= 32 (Keras'
   * rule for MobileNet). Default: `[32, 32, 1]` (the seed's).
   */
  inputShape?: ImageShape;
  /** Width multiplier: every layer has `trunc(filters * alpha)` filters. Default: 1. */
  alpha?: number;
  /** Depth multiplier of the depthwise convolutions. Default: 1. */
  depthMultiplier?: number;
  /**
   * Add the seed's classification head (global average pooling, dense
   * `denseUnits` ReLU, dense `numClasses` softmax). false returns Keras'
   * `include_top=False` base alone. Default: true.
   */
  head?: boolean;
  /** Units of the head's hidden dense layer. Default: 1024. */
  denseUnits?: number;
  /** Number of classes. Default: 10. */
  numClasses?: number;
  /** Seed for the initial weights. Default: unseeded. */
  seed?: number;
  /** Model name. Default: "mobilenet". */
  name?: string;
}

/** Keras' 13 depthwise-separable blocks: pointwise filters and stride. */
export const MOBILENET_BLOCKS: readonly { filters: number; stride: 1 | 2 }[] = [
  { filters: 64, stride: 1 },
  { filters: 128, stride: 2 },
  { filters: 128, stride: 1 },
  { filters: 256, stride: 2 },
  { filters: 256, stride: 1 },
  { filters: 512, stride: 2 },
  { filters: 512, stride: 1 },
  { filters: 512, stride: 1 },
  { filters: 512, stride: 1 },
  { filters: 512, stride: 1 },
  { filters: 512, stride: 1 },
  { filters: 1024, stride: 2 },
  { filters: 1024, stride: 1 },
];

/**
 * MobileNet v1 (Howard et al. 2017) laid out exactly as Keras does, layer
 * names included: `conv1` (3x3, stride 2, 'same', no bias) + `conv1_bn` +
 * `conv1_relu` (ReLU6), then 13 blocks `conv_dw_i` (3x3 depthwise, no bias;
 * stride-2 blocks are preceded by `conv_pad_i`, a ((0,1),(0,1)) zero padding,
 * and use 'valid') + BN + ReLU6 + `conv_pw_i` (1x1, no bias) + BN + ReLU6.
 * BatchNormalization uses Keras' defaults (momentum 0.99, epsilon 1e-3).
 *
 * Parameters with alpha 1 on 32x32x1: the base (Keras `include_top=False`)
 * has 3,228,288 = Keras' published 3,228,864 for 3 input channels minus the
 * 576 first-layer weights of the two missing channels (21,888 of them are
 * BN moving statistics, not trainable); the seed's head adds 1,049,600 +
 * 10,250 for 4,288,138 in all.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildMobileNet } from "./mobilenet.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const base = buildMobileNet({ head: false });
 * assert.equal(base.countParams(), 3228288);
 * assert.deepEqual(base.outputShape, [null, 1, 1, 1024]);
 * ```
 */
export function buildMobileNet(args: MobileNetArgs = {}): tf.LayersModel {
  const inputShape = _checkInputShape(
    args.inputShape ?? [32, 32, 1],
    "mobilenet",
    32,
    "Keras' MobileNet requires inputs no smaller than 32x32",
  );
  const alpha = args.alpha ?? 1;
  if (!(alpha > 0) || !Number.isFinite(alpha)) {
    throw new Error(
      `mobilenet: alpha must be a positive number, got ${alpha}.`,
    );
  }
  const depthMultiplier = _checkInt(
    args.depthMultiplier ?? 1,
    "mobilenet: depthMultiplier",
  );
  const numClasses = _checkInt(args.numClasses ?? 10, "mobilenet: numClasses");
  const denseUnits = _checkInt(
    args.denseUnits ?? 1024,
    "mobilenet: denseUnits",
  );
  const width = (filters: number) => {
    const f = Math.trunc(filters * alpha);
    if (f < 1) {
      throw new Error(
        `mobilenet: alpha ${alpha} leaves a layer with no filters; use a ` +
          `larger alpha.`,
      );
    }
    return f;
  };
  const s = new _Seeder(args.seed);

  const input = tf.input({ shape: inputShape, name: "input_1" });
  let x = tf.layers.conv2d({
    name: "conv1",
    filters: width(32),
    kernelSize: 3,
    strides: 2,
    padding: "same",
    useBias: false,
    kernelInitializer: s.glorot(),
  }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: "conv1_bn" }).apply(
    x,
  ) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: "conv1_relu", maxValue: 6 }).apply(
    x,
  ) as tf.SymbolicTensor;

  MOBILENET_BLOCKS.forEach(({ filters, stride }, i) => {
    const id = i + 1;
    if (stride === 2) {
      x = tf.layers.zeroPadding2d({
        name: `conv_pad_${id}`,
        padding: [[0, 1], [0, 1]],
      }).apply(x) as tf.SymbolicTensor;
    }
    x = tf.layers.depthwiseConv2d({
      name: `conv_dw_${id}`,
      kernelSize: 3,
      padding: stride === 1 ? "same" : "valid",
      depthMultiplier,
      strides: stride,
      useBias: false,
      depthwiseInitializer: s.glorot(),
    }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: `conv_dw_${id}_bn` }).apply(
      x,
    ) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `conv_dw_${id}_relu`, maxValue: 6 }).apply(
      x,
    ) as tf.SymbolicTensor;
    x = tf.layers.conv2d({
      name: `conv_pw_${id}`,
      filters: width(filters),
      kernelSize: 1,
      padding: "same",
      useBias: false,
      kernelInitializer: s.glorot(),
    }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: `conv_pw_${id}_bn` }).apply(
      x,
    ) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `conv_pw_${id}_relu`, maxValue: 6 }).apply(
      x,
    ) as tf.SymbolicTensor;
  });

  if (args.head ?? true) {
    x = tf.layers.globalAveragePooling2d({ name: "global_average_pooling2d" })
      .apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({
      name: "dense",
      units: denseUnits,
      activation: "relu",
      kernelInitializer: s.glorot(),
    }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({
      name: "predictions",
      units: numClasses,
      activation: "softmax",
      kernelInitializer: s.glorot(),
    }).apply(x) as tf.SymbolicTensor;
  }
  return tf.model({
    inputs: input,
    outputs: x,
    name: args.name ?? "mobilenet",
  });
}
