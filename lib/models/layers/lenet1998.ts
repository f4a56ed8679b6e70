/**
 * The layers of the original LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998,
 * "Gradient-based learning applied to document recognition") that Keras and
 * tfjs do not ship: the scaled tanh squashing function, the trainable
 * subsampling layers S2/S4, C3's partial connection table and the Euclidean
 * RBF output layer. All are built from standard differentiable tfjs ops
 * (reshape, sum, matMul, conv2d, tanh, sub, square), so gradients exist on
 * every backend, and all are registered for serialisation.
 *
 * @module
 */
import * as tf from "../../tf.ts";
import { seededRandom } from "../../data/split.ts";

import type { LayerArgs } from "../types.ts";

function _single(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  return (Array.isArray(inputShape[0])
    ? inputShape[0]
    : inputShape) as tf.Shape;
}

function _one(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

// ---------------------------------------------------------------------------

/** Arguments of {@linkcode ScaledTanh}. */
export interface ScaledTanhArgs extends LayerArgs {
  /** Amplitude A of `A * tanh(S * x)`. Default: 1.7159 (the paper's). */
  amplitude?: number;
  /** Slope S of `A * tanh(S * x)`. Default: 2/3 (the paper's). */
  slope?: number;
}

/**
 * The paper's squashing function `f(a) = A tanh(S a)` with A = 1.7159 and
 * S = 2/3, chosen so that f(±1) = ±1 and the gain is close to 1 there.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../../tf.ts";
 * import { initBackend } from "../../backend/init.ts";
 * import { ScaledTanh } from "./lenet1998.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const y = new ScaledTanh().apply(tf.tensor1d([1])) as tf.Tensor;
 * assert.ok(Math.abs((await y.data())[0] - 1) < 1e-3); // 1.7159 tanh(2/3) ~ 1
 * ```
 */
export class ScaledTanh extends tf.layers.Layer {
  /** Name under which the class is registered for (de)serialisation. */
  static className = "ScaledTanh";
  /** Output amplitude A of `A * tanh(S * x)`. */
  readonly amplitude: number;
  /** Slope S of `A * tanh(S * x)`. */
  readonly slope: number;

  /** Creates the layer; see the args interface for each option and its default. */
  constructor(args: ScaledTanhArgs = {}) {
    super(args);
    this.amplitude = args.amplitude ?? 1.7159;
    this.slope = args.slope ?? 2 / 3;
  }

  /** The forward pass (tfjs `Layer.call`). */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() =>
      tf.mul(tf.tanh(tf.mul(_one(inputs), this.slope)), this.amplitude)
    );
  }

  /** The serialisable configuration (tfjs `Layer.getConfig`). */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      amplitude: this.amplitude,
      slope: this.slope,
    };
  }
}
tf.serialization.registerClass(ScaledTanh);

// ---------------------------------------------------------------------------

/** Arguments of {@linkcode TrainableSubsampling}. */
export interface TrainableSubsamplingArgs extends LayerArgs {
  /** Side of the non-overlapping pooling window. Default: 2. */
  poolSize?: number;
  /**
   * Initial value of every map's coefficient. Default: 0.25 (so the layer
   * starts as an average pooling).
   */
  initialCoefficient?: number;
}

/**
 * LeNet-5's S2/S4: each unit sums a non-overlapping `poolSize`² window of
 * its feature map, multiplies by a trainable coefficient and adds a
 * trainable bias (one coefficient and one bias per map: 2 x channels
 * parameters). The squashing function is a separate {@linkcode ScaledTanh}.
 * Height and width must be multiples of `poolSize`.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../../tf.ts";
 * import { initBackend } from "../../backend/init.ts";
 * import { TrainableSubsampling } from "./lenet1998.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const s2 = new TrainableSubsampling({ inputShape: [28, 28, 6] });
 * const m = tf.sequential({ layers: [s2] });
 * assert.deepEqual(m.outputShape, [null, 14, 14, 6]);
 * assert.equal(m.countParams(), 12);
 * ```
 */
export class TrainableSubsampling extends tf.layers.Layer {
  /** Name under which the class is registered for (de)serialisation. */
  static className = "TrainableSubsampling";
  /** Side of the square, non-overlapping pooling window. */
  readonly poolSize: number;
  /** Starting value of the per-channel trainable coefficient. */
  readonly initialCoefficient: number;
  private coefficient?: tf.LayerVariable;
  private bias?: tf.LayerVariable;

  /** Creates the layer; see the args interface for each option and its default. */
  constructor(args: TrainableSubsamplingArgs = {}) {
    super(args);
    this.poolSize = args.poolSize ?? 2;
    if (!Number.isInteger(this.poolSize) || this.poolSize < 1) {
      throw new Error(
        `TrainableSubsampling: poolSize must be a positive integer, got ` +
          `${args.poolSize}.`,
      );
    }
    this.initialCoefficient = args.initialCoefficient ?? 0.25;
  }

  /** Creates the weights for this input shape (tfjs `Layer.build`). */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = _single(inputShape);
    const [, h, w, c] = shape;
    if (shape.length !== 4 || c == null) {
      throw new Error(
        `TrainableSubsampling expects NHWC input with known channels, got ` +
          `${JSON.stringify(shape)}.`,
      );
    }
    if ((h != null && h % this.poolSize) || (w != null && w % this.poolSize)) {
      throw new Error(
        `TrainableSubsampling: height and width (${h}x${w}) must be ` +
          `multiples of poolSize ${this.poolSize}.`,
      );
    }
    this.coefficient = this.addWeight(
      "coefficient",
      [c],
      "float32",
      tf.initializers.constant({ value: this.initialCoefficient }),
      undefined,
      true,
    );
    this.bias = this.addWeight(
      "bias",
      [c],
      "float32",
      tf.initializers.zeros(),
      undefined,
      true,
    );
    this.built = true;
  }

  /** The output shape for an input shape (tfjs `Layer.computeOutputShape`). */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w, c] = _single(inputShape);
    const p = this.poolSize;
    return [n, h == null ? null : h / p, w == null ? null : w / p, c];
  }

  /** The forward pass (tfjs `Layer.call`). */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = _one(inputs);
      const [n, h, w, c] = x.shape;
      const p = this.poolSize;
      // Window sums through reshape + sum: differentiable on every backend
      // (no pooling-gradient kernel needed).
      const sums = tf.sum(
        tf.reshape(x, [n, h / p, p, w / p, p, c]),
        [2, 4],
      );
      return tf.add(
        tf.mul(sums, this.coefficient!.read()),
        this.bias!.read(),
      );
    });
  }

  /** The serialisable configuration (tfjs `Layer.getConfig`). */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      poolSize: this.poolSize,
      initialCoefficient: this.initialCoefficient,
    };
  }
}
tf.serialization.registerClass(TrainableSubsampling);

// ---------------------------------------------------------------------------

/**
 * Table I of the paper: for each of C3's 16 feature maps, the S2 maps (0..5)
 * it reads. Maps 0-5 read 3 contiguous maps, 6-11 read 4 contiguous maps,
 * 12-14 read 4 non-contiguous maps, 15 reads all 6: 60 connections, so
 * 60 x 25 weights + 16 biases = 1,516 parameters.
 */
export const LENET5_C3_TABLE: readonly (readonly number[])[] = [
  [0, 1, 2],
  [1, 2, 3],
  [2, 3, 4],
  [3, 4, 5],
  [0, 4, 5],
  [0, 1, 5],
  [0, 1, 2, 3],
  [1, 2, 3, 4],
  [2, 3, 4, 5],
  [0, 3, 4, 5],
  [0, 1, 4, 5],
  [0, 1, 2, 5],
  [0, 1, 3, 4],
  [1, 2, 4, 5],
  [0, 2, 3, 5],
  [0, 1, 2, 3, 4, 5],
];

/** Arguments of {@linkcode PartialConv2D}. */
export interface PartialConv2DArgs extends LayerArgs {
  /**
   * For each output map, the input maps it is connected to. Default:
   * {@linkcode LENET5_C3_TABLE}. The number of output maps is its length.
   */
  connections?: readonly (readonly number[])[];
  /** Square kernel side. Default: 5. */
  kernelSize?: number;
  /** Add one bias per output map. Default: true. */
  useBias?: boolean;
  /** Seed of the uniform kernel initialiser. Default: unseeded. */
  seed?: number;
}

/**
 * A 'valid' stride-1 convolution in which each output map only sees the
 * input maps listed in a connection table (LeNet-5's C3). Only the connected
 * kernels are parameters: they are stored compactly as
 * `[kernelSize, kernelSize, connections]` and scattered into a full kernel
 * by a constant 0/1 matrix product before a standard `conv2d`.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../../tf.ts";
 * import { initBackend } from "../../backend/init.ts";
 * import { PartialConv2D } from "./lenet1998.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const m = tf.sequential({ layers: [new PartialConv2D({ inputShape: [14, 14, 6] })] });
 * assert.deepEqual(m.outputShape, [null, 10, 10, 16]);
 * assert.equal(m.countParams(), 1516);
 * ```
 */
export class PartialConv2D extends tf.layers.Layer {
  /** Name under which the class is registered for (de)serialisation. */
  static className = "PartialConv2D";
  /** For each output map, the input maps it reads (the C3 table). */
  readonly connections: number[][];
  /** Side of the square convolution kernel. */
  readonly kernelSize: number;
  /** Whether each output map has a bias. */
  readonly useBias: boolean;
  /** Seed of the kernel initialiser, if any. */
  readonly seed?: number;
  private kernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;
  private scatter?: Float32Array;
  private inputChannels = 0;

  /** Creates the layer; see the args interface for each option and its default. */
  constructor(args: PartialConv2DArgs = {}) {
    super(args);
    this.connections = (args.connections ?? LENET5_C3_TABLE).map((c) => [
      ...c,
    ]);
    if (
      this.connections.length === 0 ||
      this.connections.some((c) =>
        c.length === 0 || !c.every((i) => Number.isInteger(i) && i >= 0) ||
        new Set(c).size !== c.length
      )
    ) {
      throw new Error(
        "PartialConv2D: connections must list, for each output map, a " +
          "non-empty set of distinct input map indices.",
      );
    }
    this.kernelSize = args.kernelSize ?? 5;
    this.useBias = args.useBias ?? true;
    this.seed = args.seed;
  }

  /** Number of (input map, output map) pairs that are connected. */
  get connectionCount(): number {
    return this.connections.reduce((s, c) => s + c.length, 0);
  }

  /** Creates the weights for this input shape (tfjs `Layer.build`). */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = _single(inputShape);
    const channels = shape[3];
    if (shape.length !== 4 || channels == null) {
      throw new Error(
        `PartialConv2D expects NHWC input with known channels, got ` +
          `${JSON.stringify(shape)}.`,
      );
    }
    const maxIndex = Math.max(...this.connections.flat());
    if (maxIndex >= channels) {
      throw new Error(
        `PartialConv2D: the connection table uses input map ${maxIndex} but ` +
          `the input has only ${channels} channels.`,
      );
    }
    this.inputChannels = channels;
    const filters = this.connections.length;
    const k = this.kernelSize;
    const nConn = this.connectionCount;
    // Scatter matrix: compact connection index -> (input map, output map).
    this.scatter = new Float32Array(nConn * channels * filters);
    let row = 0;
    this.connections.forEach((inputs, out) => {
      for (const inp of inputs) {
        this.scatter![row * channels * filters + inp * filters + out] = 1;
        row++;
      }
    });
    // Glorot-style limit using the average fan-in/fan-out of the table.
    const fanIn = (k * k * nConn) / filters;
    const fanOut = (k * k * nConn) / channels;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    this.kernel = this.addWeight(
      "kernel",
      [k, k, nConn],
      "float32",
      tf.initializers.randomUniform({
        minval: -limit,
        maxval: limit,
        seed: this.seed,
      }),
      undefined,
      true,
    );
    if (this.useBias) {
      this.bias = this.addWeight(
        "bias",
        [filters],
        "float32",
        tf.initializers.zeros(),
        undefined,
        true,
      );
    }
    this.built = true;
  }

  /** The output shape for an input shape (tfjs `Layer.computeOutputShape`). */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w] = _single(inputShape);
    const k = this.kernelSize;
    return [
      n,
      h == null ? null : h - k + 1,
      w == null ? null : w - k + 1,
      this.connections.length,
    ];
  }

  /** The forward pass (tfjs `Layer.call`). */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = _one(inputs) as tf.Tensor4D;
      const k = this.kernelSize;
      const nConn = this.connectionCount;
      const filters = this.connections.length;
      const c = this.inputChannels;
      const scatter = tf.tensor2d(this.scatter!, [nConn, c * filters]);
      const full = tf.reshape(
        tf.matMul(tf.reshape(this.kernel!.read(), [k * k, nConn]), scatter),
        [k, k, c, filters],
      ) as tf.Tensor4D;
      const z = tf.conv2d(x, full, 1, "valid");
      return this.bias ? tf.add(z, this.bias.read()) : z;
    });
  }

  /** The serialisable configuration (tfjs `Layer.getConfig`). */
  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      connections: this.connections,
      kernelSize: this.kernelSize,
      useBias: this.useBias,
    };
    if (this.seed !== undefined) config.seed = this.seed;
    return { ...super.getConfig(), ...config };
  }
}
tf.serialization.registerClass(PartialConv2D);

// ---------------------------------------------------------------------------

/** Arguments of {@linkcode EuclideanRBF}. */
export interface EuclideanRBFArgs extends LayerArgs {
  /** Number of RBF units (classes). Default: 10. */
  units?: number;
  /**
   * What the layer outputs. "distances": the paper's y_i = Σ_j (x_j - w_ij)²
   * (smaller is better). "scores": -y_i, usable as logits (argmax = class;
   * softmax cross-entropy on them is the paper's MAP loss with j → ∞).
   * Default: "scores".
   */
  output?: "scores" | "distances";
  /**
   * Train the prototype vectors. Default: false (the paper keeps them fixed,
   * which makes LeNet-5's trainable parameters exactly 60,000).
   */
  trainablePrototypes?: boolean;
  /**
   * Seed of the ±1 prototype codes. Default: 1998. (The paper draws them as
   * stylised 7x12 bitmaps of the characters; we use seeded random ±1 codes.)
   */
  prototypeSeed?: number;
}

/** Deterministic ±1 codes of shape [units, dim] (mulberry32 generator). */
export function rbfPrototypeCodes(
  units: number,
  dim: number,
  seed = 1998,
): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(units * dim);
  for (let i = 0; i < out.length; i++) {
    const r = random();
    out[i] = r < 0.5 ? -1 : 1;
  }
  return out;
}

/**
 * LeNet-5's output layer: one Euclidean radial basis function unit per
 * class, computing the squared distance between the input (F6's 84 states)
 * and the class's prototype vector of ±1 entries.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../../tf.ts";
 * import { initBackend } from "../../backend/init.ts";
 * import { EuclideanRBF } from "./lenet1998.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const m = tf.sequential({ layers: [new EuclideanRBF({ inputShape: [84] })] });
 * assert.deepEqual(m.outputShape, [null, 10]);
 * assert.equal(m.countParams(), 840); // not trainable
 * ```
 */
export class EuclideanRBF extends tf.layers.Layer {
  /** Name under which the class is registered for (de)serialisation. */
  static className = "EuclideanRBF";
  /** Number of RBF units (classes). */
  readonly units: number;
  /** What the layer outputs (config key `output`; `output` itself is tfjs' symbolic output). */
  readonly outputMode: "scores" | "distances";
  /** Whether the prototype codes are trained. */
  readonly trainablePrototypes: boolean;
  /** Seed of the prototype codes. */
  readonly prototypeSeed: number;
  private prototypes?: tf.LayerVariable;

  /** Creates the layer; see the args interface for each option and its default. */
  constructor(args: EuclideanRBFArgs = {}) {
    super(args);
    this.units = args.units ?? 10;
    if (!Number.isInteger(this.units) || this.units < 1) {
      throw new Error(
        `EuclideanRBF: units must be a positive integer, got ${args.units}.`,
      );
    }
    this.outputMode = args.output ?? "scores";
    if (this.outputMode !== "scores" && this.outputMode !== "distances") {
      throw new Error(
        `EuclideanRBF: output must be "scores" or "distances", got ` +
          `${this.outputMode}.`,
      );
    }
    this.trainablePrototypes = args.trainablePrototypes ?? false;
    this.prototypeSeed = args.prototypeSeed ?? 1998;
  }

  /** Creates the weights for this input shape (tfjs `Layer.build`). */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = _single(inputShape);
    const dim = shape[shape.length - 1];
    if (shape.length !== 2 || dim == null) {
      throw new Error(
        `EuclideanRBF expects [batch, features] input, got ` +
          `${JSON.stringify(shape)}.`,
      );
    }
    this.prototypes = this.addWeight(
      "prototypes",
      [this.units, dim],
      "float32",
      tf.initializers.zeros(),
      undefined,
      this.trainablePrototypes,
    );
    const codes = tf.tensor2d(
      rbfPrototypeCodes(this.units, dim, this.prototypeSeed),
      [this.units, dim],
    );
    this.prototypes.write(codes);
    codes.dispose();
    this.built = true;
  }

  /** The output shape for an input shape (tfjs `Layer.computeOutputShape`). */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [_single(inputShape)[0], this.units];
  }

  /** The forward pass (tfjs `Layer.call`). */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = _one(inputs) as tf.Tensor2D;
      const w = this.prototypes!.read() as tf.Tensor2D;
      // [batch, 1, dim] - [1, units, dim] -> squared distances [batch, units]
      const d = tf.sum(
        tf.square(tf.sub(tf.expandDims(x, 1), tf.expandDims(w, 0))),
        2,
      );
      return this.outputMode === "scores" ? tf.neg(d) : d;
    });
  }

  /** The serialisable configuration (tfjs `Layer.getConfig`). */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      output: this.outputMode,
      trainablePrototypes: this.trainablePrototypes,
      prototypeSeed: this.prototypeSeed,
    };
  }
}
tf.serialization.registerClass(EuclideanRBF);
