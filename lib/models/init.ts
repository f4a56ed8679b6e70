/**
 * Weight initialisers that reproduce other frameworks' defaults, so a model
 * ported from a tutorial starts from the same distribution as the original.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { pytorchDefaultInit } from "./init.ts";
 * const dense = tf.layers.dense({ units: 84, ...pytorchDefaultInit(120) });
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import type { Initializer } from "./_common.ts";

/** Options of {@linkcode pytorchDefaultInit}. */
export interface PytorchDefaultInitOptions {
  /** Seed of the kernel draw; the bias uses `seed + 1`. Default: unseeded. */
  seed?: number;
}

/** The two initialisers of one layer, ready to spread into its arguments. */
export interface LayerInitializers {
  /** For the layer's weights (`kernelInitializer`). */
  kernelInitializer: Initializer;
  /** For the layer's bias (`biasInitializer`). */
  biasInitializer: Initializer;
}

/**
 * PyTorch's default initialisation of `nn.Conv2d` and `nn.Linear`:
 * `kaiming_uniform_(a=sqrt(5))` for the weights, which works out to
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same uniform range for the
 * bias. `fanIn` is the number of inputs of one output unit: `inUnits` for a
 * dense layer, `kernelHeight * kernelWidth * inChannels` for a convolution.
 * (Keras and tfjs default to Glorot-uniform kernels and zero biases.)
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { pytorchDefaultInit } from "./init.ts";
 * // nn.Conv2d(1, 6, 5): fan_in = 5 * 5 * 1
 * const conv = tf.layers.conv2d({ filters: 6, kernelSize: 5, ...pytorchDefaultInit(25) });
 * ```
 */
export function pytorchDefaultInit(
  fanIn: number,
  options: PytorchDefaultInitOptions = {},
): LayerInitializers {
  if (!Number.isInteger(fanIn) || fanIn < 1) {
    throw new Error(
      `pytorchDefaultInit: fanIn must be a positive integer (inputs per ` +
        `output unit, e.g. 5*5*inChannels for a 5x5 convolution), got ${fanIn}.`,
    );
  }
  const bound = 1 / Math.sqrt(fanIn);
  const { seed } = options;
  return {
    kernelInitializer: tf.initializers.randomUniform({
      minval: -bound,
      maxval: bound,
      seed,
    }),
    biasInitializer: tf.initializers.randomUniform({
      minval: -bound,
      maxval: bound,
      seed: seed === undefined ? undefined : seed + 1,
    }),
  };
}
