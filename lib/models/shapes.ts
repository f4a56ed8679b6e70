/**
 * The shape vocabulary the model builders' options share.
 *
 * @example
 * ```ts
 * import type { ImageShape, Padding } from "./shapes.ts";
 * const input: ImageShape = [28, 28, 1];
 * const padding: Padding = "same";
 * console.assert(input.length === 3 && padding === "same");
 * ```
 *
 * @module
 */

/** Padding mode of a convolution or pooling layer. */
export type Padding = "valid" | "same";

/** An image input shape, `[height, width, channels]`. */
export type ImageShape = [number, number, number];
