/**
 * Fitting a dataset's images to a model's input: the plan (build for the
 * images' own shape where the model allows, resize or convert channels where
 * its architecture needs it, from the registry's `input` requirements) and
 * the tensors it gives.
 *
 * @example
 * ```ts
 * import { planModelInput } from "./input.ts";
 * console.log(planModelInput("mobilenet", { height: 28, width: 28, channels: 1 }).note);
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import type { ImageSplit, Normalization } from "../data/mod.ts";
import { toTensors } from "../data/mod.ts";
import {
  isModelName,
  MODEL_NAMES,
  modelInfo,
  type ModelName,
} from "../models/mod.ts";

/**
 * Checks that `name` is a model of the registry and returns it typed.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { parseModelName } from "./input.ts";
 * assert.equal(parseModelName("lenet5"), "lenet5");
 * ```
 */
export function parseModelName(name: string): ModelName {
  if (isModelName(name)) return name;
  throw new Error(
    `Unknown model "${name}". Known models: ${MODEL_NAMES.join(", ")} ` +
      "(`deno task train --list` shows them with their parameter counts).",
  );
}

/** How a dataset's images are fitted to a model's input. */
export interface ModelInputPlan {
  /** Input shape the model is built for, `[height, width, channels]`. */
  shape: [number, number, number];
  /** Side images are resized to, or null to keep them. */
  resize: number | null;
  /** How: bilinear interpolation, or padding around the centre (LeNet-5 1998). */
  resizeMethod: "bilinear" | "pad";
  /** Channel conversion: keep, grey to RGB (repeat) or RGB to grey (mean). */
  channels: "keep" | "gray-to-rgb" | "rgb-to-gray";
  /** What was adapted and why ("" when the images go in as they are). */
  note: string;
}

/**
 * Decides how images of `height`x`width`x`channels` go into `model`: the model
 * is built for the images' own shape where its builder allows it; images are
 * resized only where the architecture needs a size (lenet5-32 and mobilenet
 * take 32x32 as their tutorials do; lenet5-1998 takes exactly 32x32x1).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { planModelInput } from "./input.ts";
 * assert.deepEqual(planModelInput("lenet5-32", { height: 28, width: 28, channels: 1 }).shape, [32, 32, 1]);
 * ```
 */
export function planModelInput(
  model: string,
  image: { height: number; width: number; channels: number },
): ModelInputPlan {
  const info = modelInfo(parseModelName(model));
  const spec = info.input;
  let { height, width } = image;
  let channels = image.channels;
  let resize: number | null = null;
  let conversion: ModelInputPlan["channels"] = "keep";
  const notes: string[] = [];
  if (spec.side !== null && (height !== spec.side || width !== spec.side)) {
    resize = spec.side;
    notes.push(
      `images ${
        spec.resizeMethod === "pad" ? "padded" : "resized"
      } ${height}x${width} -> ` +
        `${spec.side}x${spec.side} (${spec.why})`,
    );
    height = width = spec.side;
  } else if (Math.min(height, width) < spec.minSide) {
    resize = spec.minSide;
    notes.push(
      `images resized ${height}x${width} -> ${spec.minSide}x${spec.minSide} ` +
        `(${model} needs at least ${spec.minSide})`,
    );
    height = width = spec.minSide;
  }
  if (spec.channels !== null && channels !== spec.channels) {
    conversion = spec.channels === 3 ? "gray-to-rgb" : "rgb-to-gray";
    notes.push(
      conversion === "gray-to-rgb"
        ? `grey images repeated to 3 channels (${model} takes RGB)`
        : `RGB images averaged to grey (${model} takes one channel)`,
    );
    channels = spec.channels;
  }
  const tutorial = info.inputShape;
  if (
    spec.flexible &&
    (tutorial[0] !== height || tutorial[1] !== width ||
      tutorial[2] !== channels)
  ) {
    notes.push(
      `model built for ${height}x${width}x${channels} input (tutorial: ` +
        `${tutorial.join("x")}), so its parameter count differs`,
    );
  }
  return {
    shape: [height, width, channels],
    resize,
    resizeMethod: spec.resizeMethod,
    channels: conversion,
    note: notes.join("; "),
  };
}

/** Options of {@linkcode toModelTensors}. */
export interface ToModelTensorsOptions {
  /** Pixel normalisation. Default: "unit" (x / 255). */
  normalize?: Normalization;
  /** One-hot targets instead of int32 labels. Default: false. */
  oneHot?: boolean;
}

/**
 * The split's images as a float32 `[N, h, w, c]` tensor fitted to `plan`
 * (resized, channels converted, normalised) and its labels (int32 `[N]` or
 * one-hot `[N, classes]`). The caller disposes both.
 *
 * @example
 * ```ts ignore
 * import { loadSplit } from "../data/mod.ts";
 * import { planModelInput, toModelTensors } from "./input.ts";
 * const test = await loadSplit("mnist", "test", { limit: 10 });
 * const { xs, ys } = toModelTensors(test, planModelInput("lenet5-32", test));
 * console.log(xs.shape, ys.shape); // [10, 32, 32, 1] [10]
 * xs.dispose(); ys.dispose();
 * ```
 */
export function toModelTensors(
  split: ImageSplit,
  plan: ModelInputPlan,
  options: ToModelTensorsOptions = {},
): { xs: tf.Tensor4D; ys: tf.Tensor } {
  const pair = toTensors(split, {
    normalize: options.normalize ?? "unit",
    resize: plan.resize ?? undefined,
    resizeMethod: plan.resizeMethod,
    oneHot: options.oneHot ?? false,
  });
  if (plan.channels === "keep") return pair;
  // Scalar normalisations commute with repeating or averaging channels.
  const xs = tf.tidy(() =>
    plan.channels === "gray-to-rgb"
      ? tf.tile(pair.xs, [1, 1, 1, 3])
      : tf.mean(pair.xs, 3, true)
  ) as tf.Tensor4D;
  pair.xs.dispose();
  return { xs, ys: pair.ys };
}
