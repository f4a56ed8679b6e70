/**
 * The hand-written convolution layer of seed 001 (`SimpleConvolutionLayer`),
 * ported to a tfjs-layers `Layer` subclass: Glorot-uniform kernels, an
 * optional bias drawn from N(0, 0.05) as Keras' `'random_normal'`, strides,
 * and a ReLU. It is registered for serialisation, so models using it save
 * and load like any other.
 *
 * @module
 */
import * as tf from "../../tf.ts";

import type { LayerArgs } from "../types.ts";

/** Arguments of {@linkcode SimpleConv2D}. */
export interface SimpleConv2DArgs extends LayerArgs {
  /** Number of kernels (output channels). Default: 32 (the tutorial's). */
  filters?: number;
  /** Kernel height and width. Default: 3 (i.e. `[3, 3]`). */
  kernelSize?: number | [number, number];
  /** Vertical and horizontal strides. Default: 1. */
  strides?: number | [number, number];
  /** Add a bias after the convolution, before the activation. Default: true. */
  useBias?: boolean;
  /**
   * Padding. Default: "valid" (the tutorial's layer only has VALID; "same" is
   * added so seed 001's first LeNet-5 layer can use this class too).
   */
  padding?: "valid" | "same";
  /** Activation after the bias. Default: "relu" (the tutorial's). */
  activation?: "relu" | "linear";
  /** Seed for the kernel and bias initialisers. Default: unseeded. */
  seed?: number;
}

function _pair(v: number | [number, number], what: string): [number, number] {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x) && x > 0)) {
    throw new Error(
      `SimpleConv2D: ${what} must be a positive integer or a pair of them, ` +
        `got ${JSON.stringify(v)}.`,
    );
  }
  return p;
}

/**
 * A minimal trainable 2-D convolution (NHWC), as in seed 001.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../../tf.ts";
 * import { initBackend } from "../../backend/init.ts";
 * import { SimpleConv2D } from "./simple_conv2d.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({
 *   layers: [new SimpleConv2D({ filters: 6, kernelSize: 5, inputShape: [28, 28, 1] })],
 * });
 * assert.deepEqual(model.outputShape, [null, 24, 24, 6]);
 * ```
 */
export class SimpleConv2D extends tf.layers.Layer {
  /** Name under which the class is registered for (de)serialisation. */
  static className = "SimpleConv2D";

  /** Number of output channels. */
  readonly filters: number;
  /** Kernel height and width. */
  readonly kernelSize: [number, number];
  /** Vertical and horizontal strides. */
  readonly strides: [number, number];
  /** Whether a bias is added per output channel. */
  readonly useBias: boolean;
  /** "valid" (no padding) or "same" (output as large as the input / stride). */
  readonly padding: "valid" | "same";
  /** Activation applied after the convolution. */
  readonly activation: "relu" | "linear";
  /** Seed of the kernel initialiser, if any. */
  readonly seed?: number;
  private kernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;

  /** Creates the layer; see the args interface for each option and its default. */
  constructor(args: SimpleConv2DArgs = {}) {
    super(args);
    this.filters = args.filters ?? 32;
    if (!Number.isInteger(this.filters) || this.filters < 1) {
      throw new Error(
        `SimpleConv2D: filters must be a positive integer, got ${args.filters}.`,
      );
    }
    this.kernelSize = _pair(args.kernelSize ?? 3, "kernelSize");
    this.strides = _pair(args.strides ?? 1, "strides");
    this.useBias = args.useBias ?? true;
    this.padding = args.padding ?? "valid";
    if (this.padding !== "valid" && this.padding !== "same") {
      throw new Error(
        `SimpleConv2D: padding must be "valid" or "same", got ${this.padding}.`,
      );
    }
    this.activation = args.activation ?? "relu";
    if (this.activation !== "relu" && this.activation !== "linear") {
      throw new Error(
        `SimpleConv2D: activation must be "relu" or "linear", got ` +
          `${this.activation}.`,
      );
    }
    this.seed = args.seed;
  }

  /** Creates the weights for this input shape (tfjs `Layer.build`). */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape =
      (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (shape.length !== 4 || channels == null) {
      throw new Error(
        `SimpleConv2D expects NHWC input with known channels, got ` +
          `${JSON.stringify(shape)}.`,
      );
    }
    this.kernel = this.addWeight(
      "kernel",
      [...this.kernelSize, channels, this.filters],
      "float32",
      tf.initializers.glorotUniform({ seed: this.seed }),
      undefined,
      true,
    );
    if (this.useBias) {
      this.bias = this.addWeight(
        "bias",
        [this.filters],
        "float32",
        tf.initializers.randomNormal({
          mean: 0,
          stddev: 0.05,
          seed: this.seed === undefined ? undefined : this.seed + 1,
        }),
        undefined,
        true,
      );
    }
    this.built = true;
  }

  /** The output shape for an input shape (tfjs `Layer.computeOutputShape`). */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape =
      (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const out = (size: number | null, i: 0 | 1): number | null => {
      if (size == null) return null;
      return this.padding === "same"
        ? Math.ceil(size / this.strides[i])
        : Math.ceil((size - this.kernelSize[i] + 1) / this.strides[i]);
    };
    return [shape[0], out(shape[1], 0), out(shape[2], 1), this.filters];
  }

  /** The forward pass (tfjs `Layer.call`). */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      let z: tf.Tensor = tf.conv2d(
        x,
        this.kernel!.read() as tf.Tensor4D,
        this.strides,
        this.padding,
      );
      if (this.bias) z = tf.add(z, this.bias.read());
      return this.activation === "relu" ? tf.relu(z) : z;
    });
  }

  /** The serialisable configuration (tfjs `Layer.getConfig`). */
  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      useBias: this.useBias,
      padding: this.padding,
      activation: this.activation,
    };
    if (this.seed !== undefined) config.seed = this.seed;
    return { ...super.getConfig(), ...config };
  }
}
tf.serialization.registerClass(SimpleConv2D);
