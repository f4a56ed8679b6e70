/**
 * The types the model builders' options share: shapes, padding and
 * initialisers.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import type { ImageShape, Padding } from "./types.ts";
 * const input: ImageShape = [28, 28, 1];
 * const padding: Padding = "same";
 * assert.ok(input.length === 3 && padding === "same");
 * ```
 *
 * @module
 */
import type * as tf from "../tf.ts";

/** Padding mode of a convolution or pooling layer. */
export type Padding = "valid" | "same";

/** An image input shape, `[height, width, channels]`. */
export type ImageShape = [number, number, number];

/** A tfjs initializer (the class is not exported by name from tfjs-layers). */
export type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

/**
 * The arguments every tfjs layer takes (`name`, `inputShape`, `trainable`,
 * `dtype`, ...), which the project's custom layers extend.
 */
export type LayerArgs = NonNullable<
  ConstructorParameters<typeof tf.layers.Layer>[0]
>;
