/**
 * Seed 003's LeNet variants for Fashion-MNIST.
 *
 * @module
 */
import * as tf from "../tf.ts";
import {
  _checkInputShape,
  _checkInt,
  _Seeder,
  type ImageShape,
  type Padding,
} from "./_common.ts";

/** Arguments of {@linkcode buildFashionLenet}. */
export interface FashionLenetArgs {
  /**
   * "large": conv 32 and 64 filters, dense 512 (the seed's first model);
   * "small": conv 6 and 16 filters, dense 128 (its faster variant).
   * Default: "large".
   */
  variant?: "large" | "small";
  /**
   * Padding of the convolutions and poolings: "valid" (the Sequential
   * version) or "same" (the `LeNetModel` subclass version). Default: "valid".
   */
  padding?: Padding;
  /** Input `[height, width, channels]`. Default: `[28, 28, 1]`. */
  inputShape?: ImageShape;
  /** Number of classes. Default: 10. */
  numClasses?: number;
  /** Seed for the initial weights. Default: unseeded. */
  seed?: number;
  /** Model name. Default: "fashion-lenet-large" / "fashion-lenet-small". */
  name?: string;
}

/** Filters of the two convolutions and units of the hidden dense layer. */
export const FASHION_LENET_SIZES = {
  large: { filters: [32, 64], dense: 512 },
  small: { filters: [6, 16], dense: 128 },
} as const;

/**
 * Seed 003's LeNet: conv 5x5 sigmoid, max-pool 2/2, conv 5x5 sigmoid,
 * max-pool 2/2, flatten, dense sigmoid, dense 10 sigmoid. Parameters on
 * 28x28x1: large 582,026 ('valid') / 1,663,370 ('same'); small 36,758
 * ('valid') / 104,342 ('same').
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildFashionLenet } from "./fashion_lenet.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = buildFashionLenet({ variant: "small", padding: "same" });
 * assert.equal(model.countParams(), 104342);
 * ```
 */
export function buildFashionLenet(args: FashionLenetArgs = {}): tf.Sequential {
  const variant = args.variant ?? "large";
  if (variant !== "large" && variant !== "small") {
    throw new Error(
      `fashion-lenet: variant must be "large" or "small", got ${variant}.`,
    );
  }
  const padding = args.padding ?? "valid";
  if (padding !== "valid" && padding !== "same") {
    throw new Error(
      `fashion-lenet: padding must be "valid" or "same", got ${padding}.`,
    );
  }
  const modelName = `fashion-lenet-${variant}`;
  const inputShape = _checkInputShape(
    args.inputShape ?? [28, 28, 1],
    modelName,
    padding === "valid" ? 16 : 1,
    "two valid 5x5 convolutions and two 2x2 poolings",
  );
  const numClasses = _checkInt(
    args.numClasses ?? 10,
    `${modelName}: numClasses`,
  );
  const { filters, dense } = FASHION_LENET_SIZES[variant];
  const s = new _Seeder(args.seed);
  // The subclass version sets zero bias initialisers: tfjs' default anyway.
  return tf.sequential({
    name: args.name ?? modelName,
    layers: [
      tf.layers.conv2d({
        name: "conv1",
        filters: filters[0],
        kernelSize: 5,
        padding,
        activation: "sigmoid",
        inputShape,
        kernelInitializer: s.glorot(),
      }),
      tf.layers.maxPooling2d({
        name: "maxpool1",
        poolSize: 2,
        strides: 2,
        padding,
      }),
      tf.layers.conv2d({
        name: "conv2",
        filters: filters[1],
        kernelSize: 5,
        padding,
        activation: "sigmoid",
        kernelInitializer: s.glorot(),
      }),
      tf.layers.maxPooling2d({
        name: "maxpool2",
        poolSize: 2,
        strides: 2,
        padding,
      }),
      tf.layers.flatten({ name: "flatten" }),
      tf.layers.dense({
        name: "fc1",
        units: dense,
        activation: "sigmoid",
        kernelInitializer: s.glorot(),
      }),
      tf.layers.dense({
        name: "fc2",
        units: numClasses,
        activation: "sigmoid",
        kernelInitializer: s.glorot(),
      }),
    ],
  });
}
