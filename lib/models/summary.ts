/**
 * Layer-by-layer tables of a model: Keras-style summaries and, as seed 000
 * does, the output shape of each layer for a random input.
 *
 * @module
 */
import * as tf from "../tf.ts";

/** One row of {@linkcode summarizeModel}. */
export interface LayerSummaryRow {
  /** Layer name. */
  name: string;
  /** tfjs/Keras class name, e.g. "Conv2D". */
  className: string;
  /** Output shape with `null` for the batch dimension. */
  outputShape: (number | null)[];
  /** Number of weights (trainable and not). */
  params: number;
  /** Number of trainable weights. */
  trainableParams: number;
}

/** Totals of {@linkcode countParams}. */
export interface ParamCounts {
  /** All weights, as Keras' "Total params". */
  total: number;
  /** Trainable weights. */
  trainable: number;
  /** Non-trainable weights (e.g. BatchNormalization moving statistics). */
  nonTrainable: number;
}

function _size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function _firstShape(shape: tf.Shape | tf.Shape[]): (number | null)[] {
  return (Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
}

/**
 * Total, trainable and non-trainable parameter counts.
 *
 * @example
 * ```ts
 * import { buildMobileNet, countParams } from "./mod.ts";
 * console.log(countParams(buildMobileNet({ head: false })));
 * // { total: 3228288, trainable: 3206400, nonTrainable: 21888 }
 * ```
 */
export function countParams(model: tf.LayersModel): ParamCounts {
  const trainable = model.trainableWeights.reduce(
    (s, w) => s + _size(w.shape as number[]),
    0,
  );
  const nonTrainable = model.nonTrainableWeights.reduce(
    (s, w) => s + _size(w.shape as number[]),
    0,
  );
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}

/**
 * One row per layer (input layers excluded): name, class, output shape and
 * parameter count, like Keras' `model.summary()`.
 *
 * @example
 * ```ts
 * import { buildLenet5, summarizeModel } from "./mod.ts";
 * for (const row of summarizeModel(buildLenet5())) {
 *   console.log(row.name, row.className, row.outputShape, row.params);
 * }
 * ```
 */
export function summarizeModel(model: tf.LayersModel): LayerSummaryRow[] {
  return model.layers
    .filter((layer) => layer.getClassName() !== "InputLayer")
    .map((layer) => ({
      name: layer.name,
      className: layer.getClassName(),
      outputShape: _firstShape(layer.outputShape),
      params: layer.countParams(),
      trainableParams: layer.trainableWeights.reduce(
        (s, w) => s + _size(w.shape as number[]),
        0,
      ),
    }));
}

/**
 * A Keras-like text table of {@linkcode summarizeModel} plus the totals.
 *
 * @example
 * ```ts
 * import { buildCifarCnn, formatSummary } from "./mod.ts";
 * console.log(formatSummary(buildCifarCnn())); // ... Total params: 1,084,234
 * ```
 */
export function formatSummary(model: tf.LayersModel): string {
  const rows = summarizeModel(model);
  const fmt = (n: number) => n.toLocaleString("en-US");
  const lines = rows.map((r) => [
    `${r.name} (${r.className})`,
    `(${r.outputShape.map((d) => d ?? "None").join(", ")})`,
    fmt(r.params),
  ]);
  const header = ["Layer (type)", "Output Shape", "Param #"];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map((l) => l[i].length)) + 2
  );
  const row = (cells: string[]) =>
    cells.map((c, i) => c.padEnd(widths[i])).join("").trimEnd();
  const rule = "=".repeat(widths.reduce((a, b) => a + b, 0));
  const counts = countParams(model);
  return [
    `Model: "${model.name}"`,
    row(header),
    rule,
    ...lines.map(row),
    rule,
    `Total params: ${fmt(counts.total)}`,
    `Trainable params: ${fmt(counts.trainable)}`,
    `Non-trainable params: ${fmt(counts.nonTrainable)}`,
  ].join("\n");
}

/** One row of {@linkcode traceLayerShapes}. */
export interface LayerTraceRow {
  /** Layer name. */
  name: string;
  /** tfjs/Keras class name. */
  className: string;
  /** Concrete output shape for the traced batch. */
  outputShape: number[];
}

/** Options of {@linkcode traceLayerShapes}. */
export interface TraceLayerShapesOptions {
  /** Batch size of the random input. Default: 1 (as seed 000). */
  batchSize?: number;
  /** Seed of the uniform random input. Default: 0. */
  seed?: number;
}

/**
 * Runs a uniform random input through the model one layer at a time and
 * records each layer's output shape — seed 000's
 * `for layer in net.layers: X = layer(X)`. Works for chain models (every
 * model of this project); inference mode, so dropout is the identity.
 *
 * @example
 * ```ts
 * import { buildLenet, traceLayerShapes } from "./mod.ts";
 * for (const r of traceLayerShapes(buildLenet())) {
 *   console.log(r.name, "output shape\t", r.outputShape);
 * }
 * ```
 */
export function traceLayerShapes(
  model: tf.LayersModel,
  options: TraceLayerShapesOptions = {},
): LayerTraceRow[] {
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${batchSize}.`);
  }
  const inputShape = _firstShape(model.inputs[0].shape).slice(1);
  if (inputShape.some((d) => d == null)) {
    throw new Error(
      `traceLayerShapes needs a fixed input shape, model ${model.name} has ` +
        `${JSON.stringify(inputShape)}.`,
    );
  }
  const rows: LayerTraceRow[] = [];
  tf.tidy(() => {
    let x: tf.Tensor = tf.randomUniform(
      [batchSize, ...(inputShape as number[])],
      0,
      1,
      "float32",
      options.seed ?? 0,
    );
    for (const layer of model.layers) {
      if (layer.getClassName() === "InputLayer") continue;
      const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
      if (inbound.length > 1) {
        throw new Error(
          `traceLayerShapes: layer ${layer.name} has ${inbound.length} ` +
            `inputs; only chain models can be traced layer by layer.`,
        );
      }
      x = layer.apply(x, { training: false }) as tf.Tensor;
      rows.push({
        name: layer.name,
        className: layer.getClassName(),
        outputShape: x.shape,
      });
    }
  });
  return rows;
}

/**
 * Throws a clear error unless `shape` (with or without the batch dimension)
 * matches the model's input shape — call before `predict`/`fit` to get a
 * message that says how to fix the data rather than tfjs' generic one.
 *
 * @example
 * ```ts
 * import { assertInputShape, buildLenet5_32 } from "./mod.ts";
 * assertInputShape(buildLenet5_32(), [8, 28, 28, 1]);
 * // Error: model lenet5-32 expects images of 32x32x1 but got 28x28x1 ...
 * ```
 */
export function assertInputShape(
  model: tf.LayersModel,
  shape: readonly number[],
): void {
  const expected = _firstShape(model.inputs[0].shape).slice(1);
  const got = shape.length === expected.length + 1
    ? shape.slice(1)
    : [...shape];
  const ok = got.length === expected.length &&
    expected.every((d, i) => d == null || d === got[i]);
  if (!ok) {
    const e = expected.map((d) => d ?? "?").join("x");
    const g = got.join("x");
    const hint = expected.length === 3 && got.length === 3
      ? expected[2] !== got[2]
        ? ` Convert the images to ${expected[2]} channel(s).`
        : ` Resize the images, e.g. toTensors(split, { resize: ${
          expected[0]
        } }).`
      : " Pass a batch of NHWC images.";
    throw new Error(
      `model ${model.name} expects images of ${e} but got ${g} ` +
        `(input shape ${JSON.stringify(shape)}).${hint}`,
    );
  }
}
