/**
 * Tables of a model: a compact summary in blocks (repeated blocks collapsed,
 * counts rounded for people), Keras-style per-layer rows and, as seed 000
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

/** Multiply-adds per sample, from {@linkcode countMultiplyAdds}. */
export interface MultiplyAddCounts {
  /** One forward pass: what inference costs. */
  inference: number;
  /**
   * One sample's share of a training step: the forward pass, every weight
   * gradient, and every input gradient but the first weighted layer's (no
   * framework computes the gradient of the images).
   */
  training: number;
}

/** The layers of `model` in order, nested models flattened. */
function _leafLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.flatMap((layer) =>
    layer instanceof tf.LayersModel ? _leafLayers(layer) : [layer]
  );
}

/**
 * Multiply-adds per sample of a model's convolutions and dense layers:
 * each kernel weight (rank 2 or more) meets every output position of its
 * layer once, so a layer costs the kernel's size times its output's
 * positions (height x width for a convolution, depthwise ones included;
 * 1 for a dense layer on vectors). Element-wise work (bias, activations,
 * pooling, normalisation) is not counted. The bench divides samples/s by
 * these to get each engine's sustained multiply-adds a second.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { countMultiplyAdds } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({ layers: [
 *   tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: "same" }),
 *   tf.layers.flatten(),
 *   tf.layers.dense({ units: 10 }),
 * ] });
 * // 3*3*1*4 weights x 64 positions, then 256*10: 2,304 + 2,560.
 * assert.deepEqual(countMultiplyAdds(model), { inference: 4864, training: 12288 });
 * ```
 */
export function countMultiplyAdds(model: tf.LayersModel): MultiplyAddCounts {
  // One figure per layer with a kernel (rank 2 or more); 0 for the rest.
  const perLayer = _leafLayers(model).map((layer) => {
    const out = _firstShape(layer.outputShape).slice(1) as number[];
    const positions = _size(out.slice(0, -1));
    return layer.weights
      .filter((w) => w.shape.length >= 2)
      .reduce((sum, w) => sum + _size(w.shape as number[]) * positions, 0);
  }).filter((macs) => macs > 0);
  const inference = perLayer.reduce((a, b) => a + b, 0);
  return { inference, training: 3 * inference - (perLayer[0] ?? 0) };
}

/**
 * Total, trainable and non-trainable parameter counts.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildMobileNet, countParams } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * assert.deepEqual(countParams(buildMobileNet({ head: false })), {
 *   total: 3228288,
 *   trainable: 3206400,
 *   nonTrainable: 21888,
 * });
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
 * import { initBackend } from "../backend/init.ts";
 * import { buildLenet5, summarizeModel } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
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
 * A parameter count for people: "0", "842", "2.7k", "262k", "1.05M".
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { formatCount } from "./summary.ts";
 * assert.equal(formatCount(3_228_288), "3.23M");
 * ```
 */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  const scaled = (value: number, unit: string) =>
    `${Number(value.toPrecision(3))}${unit}`;
  if (abs < 1000) return String(n);
  if (abs < 999_500) return scaled(n / 1e3, "k");
  if (abs < 999_500_000) return scaled(n / 1e6, "M");
  return scaled(n / 1e9, "G");
}

/** One row of {@linkcode summarizeBlocks}: a block of layers, maybe repeated. */
export interface BlockSummaryRow {
  /** What the block does, e.g. "Depthwise 3x3 + BN + ReLU, Pointwise 1x1 + BN + ReLU". */
  description: string;
  /** Names of the block's layers (of every repeat), in order. */
  layers: string[];
  /** How many identical blocks in a row this row stands for. */
  repeats: number;
  /** Output shape of the (last) block, `null` for the batch dimension. */
  outputShape: (number | null)[];
  /** Weights of one block. */
  params: number;
}

const _ACTIVATIONS = new Set([
  "ReLU",
  "LeakyReLU",
  "ELU",
  "PReLU",
  "Softmax",
  "ThresholdedReLU",
  "Activation",
]);

/**
 * Layers that belong to the layer before them: normalisation, activations,
 * and weightless layers named after it (Keras' `conv1_bn`, `C1_squash`).
 */
function _isFollower(layer: tf.layers.Layer, unit: tf.layers.Layer[]): boolean {
  const name = layer.getClassName();
  if (name === "BatchNormalization" || _ACTIVATIONS.has(name)) return true;
  const head = unit.find((l) => l.getClassName() !== "ZeroPadding2D");
  return layer.countParams() === 0 && head !== undefined &&
    layer.name.startsWith(`${head.name}_`);
}

function _pair(value: unknown): string {
  const v = Array.isArray(value) ? value : [value, value];
  return `${v[0]}x${v[1]}`;
}

function _stride(value: unknown): string {
  const v = Array.isArray(value) ? value : [value, value];
  return v.every((s) => s === 1 || s === undefined) ? "" : `/${v[0]}`;
}

/** A short label of one layer: "Conv 5x5", "BN", "ReLU", "MaxPool 2x2". */
function _label(layer: tf.layers.Layer): string {
  const name = layer.getClassName();
  // deno-lint-ignore no-explicit-any
  const c = layer.getConfig() as Record<string, any>;
  const act = typeof c.activation === "string" && c.activation !== "linear"
    ? ` + ${c.activation}`
    : "";
  switch (name) {
    case "Conv2D":
      return `${_pair(c.kernelSize) === "1x1" ? "Pointwise" : "Conv"} ${
        _pair(c.kernelSize)
      }${_stride(c.strides)}${act}`;
    case "DepthwiseConv2D":
      return `Depthwise ${_pair(c.kernelSize)}${_stride(c.strides)}${act}`;
    case "Dense":
      return `Dense${act}`;
    case "BatchNormalization":
      return "BN";
    case "Activation":
      return String(c.activation);
    case "MaxPooling2D":
    case "AveragePooling2D":
      return `${name.startsWith("Max") ? "MaxPool" : "AvgPool"} ${
        _pair(c.poolSize)
      }${_stride(c.strides).replace(`/${_pair(c.poolSize)[0]}`, "")}`;
    case "GlobalAveragePooling2D":
      return "GlobalAvgPool";
    case "GlobalMaxPooling2D":
      return "GlobalMaxPool";
    case "ZeroPadding2D":
      return "Pad";
    case "Dropout":
      return `Dropout ${c.rate}`;
    default:
      return name;
  }
}

/** "Separable 3x3/2: Pad + DW + BN + ReLU, PW + BN + ReLU". */
function _separable(
  depthwise: tf.layers.Layer[],
  pointwise: tf.layers.Layer[],
): string {
  const dw = depthwise.find((l) => l.getClassName() === "DepthwiseConv2D")!;
  // deno-lint-ignore no-explicit-any
  const c = dw.getConfig() as Record<string, any>;
  const short = (l: tf.layers.Layer) =>
    l === dw ? "DW" : l === pointwise[0] ? "PW" : _label(l);
  return `Separable ${_pair(c.kernelSize)}${_stride(c.strides)}: ` +
    `${depthwise.map(short).join(" + ")}, ${pointwise.map(short).join(" + ")}`;
}

function _shapeText(shape: (number | null)[]): string {
  return shape.slice(1).map((d) => d ?? "?").join("x");
}

/**
 * The model in blocks a reader can take in: each weighted layer with the
 * normalisation and activation layers that follow it (and the padding before
 * it) is one block; a depthwise convolution followed by a 1x1 convolution is
 * one depthwise-separable block ("Separable 3x3: DW + BN + ReLU, PW + BN +
 * ReLU"); identical blocks in a row (same layers,
 * output shape and parameter count) are one row with a repeat count.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildMobileNet, summarizeBlocks } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const rows = summarizeBlocks(buildMobileNet({ inputShape: [32, 32, 3], numClasses: 10 }));
 * assert.equal(rows.find((r) => r.repeats > 1)?.repeats, 5);
 * ```
 */
export function summarizeBlocks(model: tf.LayersModel): BlockSummaryRow[] {
  const layers = model.layers.filter((l) => l.getClassName() !== "InputLayer");
  // Units: [padding] weighted-or-other layer, then its followers.
  const units: tf.layers.Layer[][] = [];
  let pending: tf.layers.Layer[] = [];
  for (const layer of layers) {
    const name = layer.getClassName();
    const last = units.at(-1);
    if (pending.length === 0 && last && _isFollower(layer, last)) {
      last.push(layer);
    } else if (name === "ZeroPadding2D") {
      pending.push(layer);
    } else {
      units.push([...pending, layer]);
      pending = [];
    }
  }
  if (pending.length > 0) units.push(pending);
  // Blocks: a depthwise unit and the 1x1 convolution after it go together.
  const blocks: tf.layers.Layer[][][] = [];
  for (let i = 0; i < units.length; i++) {
    const core = (u: tf.layers.Layer[]) =>
      u.find((l) => l.getClassName() !== "ZeroPadding2D");
    const next = units[i + 1];
    if (
      core(units[i])?.getClassName() === "DepthwiseConv2D" && next &&
      core(next)?.getClassName() === "Conv2D" &&
      _pair(core(next)!.getConfig().kernelSize) === "1x1"
    ) {
      blocks.push([units[i], next]);
      i++;
    } else blocks.push([units[i]]);
  }
  const rows: BlockSummaryRow[] = [];
  for (const block of blocks) {
    const all = block.flat();
    const description = block.length === 2
      ? _separable(block[0], block[1])
      : block[0].map(_label).join(" + ");
    const outputShape = _firstShape(all[all.length - 1].outputShape);
    const params = all.reduce((s, l) => s + l.countParams(), 0);
    const previous = rows.at(-1);
    if (
      previous && previous.description === description &&
      previous.params === params &&
      _shapeText(previous.outputShape) === _shapeText(outputShape)
    ) {
      previous.repeats++;
      previous.layers.push(...all.map((l) => l.name));
    } else {
      rows.push({
        description,
        layers: all.map((l) => l.name),
        repeats: 1,
        outputShape,
        params,
      });
    }
  }
  return rows;
}

/** Options of {@linkcode formatSummary}. */
export interface FormatSummaryOptions {
  /**
   * "blocks": one row per block with repeats collapsed and counts rounded
   * ({@linkcode summarizeBlocks}); "layers": one row per layer with exact
   * counts, as Keras' `model.summary()`. Default: "blocks".
   */
  group?: "blocks" | "layers";
  /** Widest description before it is cut with "…". Default: 60. */
  maxDescription?: number;
}

function _table(header: string[], lines: string[][], right: Set<number>) {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map((l) => l[i].length))
  );
  const row = (cells: string[]) =>
    cells.map((c, i) =>
      right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])
    )
      .join("  ").trimEnd();
  return [
    row(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...lines.map(row),
  ];
}

/**
 * A summary of the model a reader can take in: by default its blocks
 * ({@linkcode summarizeBlocks}: MobileNet's 88 layers in 15 rows) with
 * output shapes and rounded parameter counts, then the totals; with
 * `{ group: "layers" }` one row per layer, as Keras prints it.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildCifarCnn, formatSummary } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const text = formatSummary(buildCifarCnn());
 * assert.ok(text.includes("Total params: 1,084,234 (1.08M)"));
 * ```
 */
export function formatSummary(
  model: tf.LayersModel,
  options: FormatSummaryOptions = {},
): string {
  const fmt = (n: number) => n.toLocaleString("en-US");
  const counts = countParams(model);
  const layerCount = summarizeModel(model).length;
  const input = _shapeText(_firstShape(model.inputs[0].shape));
  let table: string[];
  if (options.group === "layers") {
    table = _table(
      ["Layer (type)", "Output shape", "Params"],
      summarizeModel(model).map((r) => [
        `${r.name} (${r.className})`,
        _shapeText(r.outputShape),
        fmt(r.params),
      ]),
      new Set([2]),
    );
  } else if (options.group === undefined || options.group === "blocks") {
    const max = options.maxDescription ?? 60;
    const cut = (t: string) => t.length > max ? `${t.slice(0, max - 1)}…` : t;
    table = _table(
      ["Block", "Layers", "Output", "Params"],
      summarizeBlocks(model).map((r) => {
        const span = r.layers.length === 1
          ? r.layers[0]
          : `${r.layers[0]} … ${r.layers[r.layers.length - 1]}`;
        return [
          (r.repeats > 1 ? `${r.repeats} x ` : "") + cut(r.description),
          span,
          _shapeText(r.outputShape),
          r.repeats > 1
            ? `${r.repeats} x ${formatCount(r.params)}`
            : formatCount(r.params),
        ];
      }),
      new Set([3]),
    );
  } else {
    throw new Error(
      `formatSummary: group must be "blocks" or "layers", got '${options.group}'`,
    );
  }
  const frozen = counts.nonTrainable > 0
    ? `, non-trainable ${formatCount(counts.nonTrainable)}`
    : "";
  return [
    `Model "${model.name}": ${layerCount} layers, input ${input}`,
    ...table,
    `Total params: ${fmt(counts.total)} (${formatCount(counts.total)}); ` +
    `trainable ${formatCount(counts.trainable)}${frozen}`,
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
 * import { initBackend } from "../backend/init.ts";
 * import { buildLenet, traceLayerShapes } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
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
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { assertInputShape, buildLenet5_32 } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * assert.throws(
 *   () => assertInputShape(buildLenet5_32(), [8, 28, 28, 1]),
 *   /expects images of 32x32x1 but got 28x28x1/,
 * );
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
