/**
 * Grids of small images (samples with their labels and predictions, conv
 * filters) drawn with Observable Plot's `image` mark; each image is embedded
 * as a PNG data URI, so a 10x10 grid of 28x28 digits stays a small SVG
 * instead of 78,400 `<rect>` cells.
 *
 * @example
 * ```ts
 * import { imageGrid } from "./images.ts";
 * const images = new Uint8Array(4 * 28 * 28).map((_, i) => i % 255);
 * const fig = imageGrid({ images, count: 4, height: 28, width: 28, channels: 1 }, {
 *   trueLabels: [1, 2, 3, 4],
 *   predictedLabels: [1, 2, 0, 4],
 * });
 * await fig.save(`${await Deno.makeTempDir()}/grid.svg`);
 * ```
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import * as tf from "../tf.ts";
import { encodeImage } from "../eval/image_file.ts";
import { composeFigure, type Figure, plotDocument } from "./figure.ts";

/** A batch of images in NHWC order, e.g. an `ImageSplit` from the data layer. */
export interface ImageBatch {
  /** Pixels, `count * height * width * channels` values (uint8 0..255 or floats). */
  images: ArrayLike<number>;
  /** Number of images. Default: `images.length / (height * width * channels)`. */
  count?: number;
  /** Image height. */
  height: number;
  /** Image width. */
  width: number;
  /** Channels: 1 (gray) or 3 (RGB). */
  channels: number;
}

/** Colour of a title whose prediction is right. */
export const RIGHT_COLOR = "#1a7f37";
/** Colour of a title whose prediction is wrong. */
export const WRONG_COLOR = "#cf222e";

/** Options of {@linkcode imageGrid}. */
export interface ImageGridOptions {
  /** Which images to show, by index. Default: the first `limit`. */
  indices?: readonly number[];
  /** Most images shown when `indices` is not given. Default: 32. */
  limit?: number;
  /** Images per row. Default: 8. */
  columns?: number;
  /** True class per image of the batch (indexed like the batch). Default: none. */
  trueLabels?: ArrayLike<number>;
  /** Predicted class per image of the batch. Default: none. */
  predictedLabels?: ArrayLike<number>;
  /** Probability of the prediction per image of the batch. Default: none. */
  scores?: ArrayLike<number>;
  /** Class names, index = class. Default: the class index as text. */
  classNames?: readonly string[];
  /** Custom title per shown image (overrides labels). Default: built from labels. */
  titles?: readonly string[];
  /** Displayed size of each image in pixels. Default: 64. */
  cellSize?: number;
  /**
   * Value range mapped to black..white: `[min, max]`, or "auto" (0..255 for
   * `Uint8Array`, otherwise each image's own min..max). Default: "auto".
   */
  range?: [number, number] | "auto";
  /** Figure title. Default: none. */
  title?: string;
}

/**
 * Reads an image tensor (`[N, H, W, C]`, `[H, W, C]` or `[H, W]`) into an
 * {@linkcode ImageBatch}; asynchronously, as WebGPU requires.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { tensorImages } from "./images.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const batch = await tensorImages(tf.zeros([2, 4, 4, 1]));
 * assert.equal(batch.count, 2);
 * ```
 */
export async function tensorImages(t: tf.Tensor): Promise<ImageBatch> {
  const shape = t.rank === 3
    ? [1, ...t.shape]
    : t.rank === 2
    ? [1, ...t.shape, 1]
    : t.shape;
  if (shape.length !== 4) {
    throw new Error(
      `images must be [N, H, W, C], [H, W, C] or [H, W]; got [${
        t.shape.join(", ")
      }]`,
    );
  }
  return {
    images: await t.data() as Float32Array,
    count: shape[0],
    height: shape[1],
    width: shape[2],
    channels: shape[3],
  };
}

/**
 * Scales one image to 8-bit pixels and returns it as a PNG data URI.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { imageDataUri } from "./images.ts";
 * const uri = imageDataUri(new Float32Array([0, 1, 1, 0]), 2, 2, 1, [0, 1]);
 * assert.ok(uri.startsWith("data:image/png;base64,"));
 * ```
 */
export function imageDataUri(
  pixels: ArrayLike<number>,
  height: number,
  width: number,
  channels: number,
  range: [number, number],
): string {
  if (channels !== 1 && channels !== 3) {
    throw new Error(
      `images must have 1 or 3 channels to draw, got ${channels}`,
    );
  }
  const [lo, hi] = range;
  const span = hi - lo || 1;
  const data = new Uint8Array(height * width * channels);
  for (let i = 0; i < data.length; i++) {
    const v = (pixels[i] - lo) / span;
    data[i] = Number.isFinite(v)
      ? Math.round(255 * Math.min(1, Math.max(0, v)))
      : 0;
  }
  const png = encodeImage(
    { data, height, width, channels: channels as 1 | 3 },
    "png",
  );
  let binary = "";
  for (let i = 0; i < png.length; i++) binary += String.fromCharCode(png[i]);
  return `data:image/png;base64,${btoa(binary)}`;
}

function _minMax(
  values: ArrayLike<number>,
  start: number,
  end: number,
): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : [0, 1];
}

/** One tile of {@linkcode tileGrid}: an image and the text above it. */
export interface Tile {
  /** The image, as a data URI (see {@linkcode imageDataUri}) or a URL. */
  src: string;
  /** Text above the image; "\n" breaks lines. */
  title: string;
  /** Colour of the text. Default: "black". */
  color?: string;
}

/** Options of {@linkcode tileGrid}. */
export interface TileGridOptions {
  /** Tiles per row. Default: 8. */
  columns?: number;
  /** Displayed size of each image in pixels. Default: 64. */
  cellSize?: number;
  /** Figure title. Default: none. */
  title?: string;
}

/**
 * Images in a grid, each under its title: the tutorials' loop of
 * `fig.add_subplot` panels, written as one Plot panel with an `image` and a
 * `text` mark. Notebook 004 writes the same function in a cell (a test keeps
 * the two equal); {@linkcode imageGrid} builds its tiles from labels.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { imageDataUri, tileGrid } from "./images.ts";
 * const src = imageDataUri([0, 255, 255, 0], 2, 2, 1, [0, 255]);
 * const fig = tileGrid([{ src, title: "cat" }, { src, title: "dog", color: "red" }]);
 * assert.ok(fig.svg.includes("<image"));
 * ```
 */
export function tileGrid(
  tiles: readonly Tile[],
  options: TileGridOptions = {},
): Figure {
  const { columns = 8, cellSize = 64, title } = options;
  const lines = Math.max(
    0,
    ...tiles.map((t) => t.title ? t.title.split("\n").length : 0),
  );
  const titleHeight = lines * 13 + (lines ? 4 : 0);
  // Wide enough for the longest title line (about 6.6 px per character at
  // 11 px), so neighbouring titles such as "true: automobile" never overlap.
  const longest = Math.max(
    0,
    ...tiles.flatMap((t) => t.title.split("\n").map((l) => l.length)),
  );
  const cellW = Math.max(cellSize, Math.ceil(longest * 6.6)) + 12;
  const cellH = cellSize + titleHeight + 12;
  const cols = Math.min(columns, tiles.length);
  const data = tiles.map((t, i) => ({
    ...t,
    x: (i % cols) * cellW + cellW / 2,
    y: Math.floor(i / cols) * cellH + 6, // top of the title
  }));
  const panel = Plot.plot({
    document: plotDocument(),
    width: Math.max(cols * cellW, 120),
    height: Math.ceil(tiles.length / cols) * cellH,
    margin: 0,
    x: { type: "identity", axis: null },
    y: { type: "identity", axis: null },
    marks: [
      Plot.image(data, {
        x: "x",
        y: (d) => d.y + titleHeight + cellSize / 2,
        src: "src",
        width: cellSize,
        height: cellSize,
        imageRendering: "pixelated",
        preserveAspectRatio: "none",
      }),
      Plot.text(data, {
        x: "x",
        y: "y",
        text: "title",
        fill: (d) => d.color ?? "black",
        lineAnchor: "top",
        fontSize: 11,
      }),
    ],
  }) as unknown as Element;
  return composeFigure([panel], { title, gap: 8 });
}

/**
 * A grid of images titled with their true label, prediction and score; the
 * title is green when the prediction is right and red when wrong (seed 004's
 * "pred / score / true" grid). Given a tensor it returns a promise, because
 * it reads the tensor asynchronously (WebGPU cannot read synchronously).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { imageGrid } from "./images.ts";
 * const fig = imageGrid(
 *   { images: new Uint8Array(2 * 4 * 4), count: 2, height: 4, width: 4, channels: 1 },
 *   { trueLabels: [0, 1], predictedLabels: [0, 0], scores: [0.9, 0.6] },
 * );
 * assert.ok(fig.svg.includes("<image"));
 * ```
 */
export function imageGrid(
  images: ImageBatch,
  options?: ImageGridOptions,
): Figure;
/** The same grid from an image tensor `[N, H, W, C]`, read asynchronously. */
export function imageGrid(
  images: tf.Tensor,
  options?: ImageGridOptions,
): Promise<Figure>;
export function imageGrid(
  images: ImageBatch | tf.Tensor,
  options: ImageGridOptions = {},
): Figure | Promise<Figure> {
  if (images instanceof tf.Tensor) {
    return tensorImages(images).then((batch) => _imageGrid(batch, options));
  }
  return _imageGrid(images, options);
}

function _imageGrid(batch: ImageBatch, options: ImageGridOptions): Figure {
  const { height, width, channels } = batch;
  const size = height * width * channels;
  if (!(size > 0)) {
    throw new Error(`imageGrid: bad image size ${height}x${width}x${channels}`);
  }
  const count = batch.count ?? Math.floor(batch.images.length / size);
  if (batch.images.length < count * size) {
    throw new Error(
      `imageGrid: ${batch.images.length} values are too few for ${count} images of ${height}x${width}x${channels}`,
    );
  }
  const indices = options.indices ??
    Array.from({ length: Math.min(count, options.limit ?? 32) }, (_, i) => i);
  if (indices.length === 0) throw new Error("imageGrid: no images to show");
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= count) {
      throw new Error(
        `imageGrid: index ${i} is outside the batch of ${count} images`,
      );
    }
  }
  const name = (c: number) => options.classNames?.[c] ?? String(c);
  const range = options.range ?? "auto";
  const isBytes = batch.images instanceof Uint8Array ||
    batch.images instanceof Uint8ClampedArray;
  const tiles: Tile[] = indices.map((index, k) => {
    const start = index * size;
    const pixels = Array.prototype.slice.call(
      batch.images,
      start,
      start + size,
    ) as number[];
    const r: [number, number] = range !== "auto"
      ? range
      : isBytes
      ? [0, 255]
      : _minMax(batch.images, start, start + size);
    const src = imageDataUri(pixels, height, width, channels, r);
    const truth = options.trueLabels?.[index];
    const pred = options.predictedLabels?.[index];
    const score = options.scores?.[index];
    let title = options.titles?.[k];
    if (title === undefined) {
      const parts: string[] = [];
      if (pred !== undefined) parts.push(`pred: ${name(pred)}`);
      if (score !== undefined) parts.push(`score: ${score.toFixed(3)}`);
      if (truth !== undefined) parts.push(`true: ${name(truth)}`);
      title = parts.join("\n");
    }
    const color = truth === undefined || pred === undefined
      ? "black"
      : truth === pred
      ? RIGHT_COLOR
      : WRONG_COLOR;
    return { src, title, color };
  });
  return tileGrid(tiles, {
    columns: options.columns,
    cellSize: options.cellSize,
    title: options.title,
  });
}

/** Options of {@linkcode filterGrid}. */
export interface FilterGridOptions {
  /**
   * Which conv layer when given a model: name or index into `model.layers`.
   * Default: the first layer whose kernel is 4-D (the first convolution).
   */
  layer?: string | number;
  /**
   * Input channel to show when the filters have other than 1 or 3 input
   * channels (with 3, filters are drawn in colour). Default: 0.
   */
  inputChannel?: number;
  /** "filter": scale each filter to its own min..max; "global": one scale for all. Default: "filter". */
  scale?: "filter" | "global";
  /** Filters per row. Default: 8. */
  columns?: number;
  /** Displayed size of each filter in pixels. Default: 48. */
  cellSize?: number;
  /** Figure title. Default: "Filters of <layer name>" or "Filters". */
  title?: string;
}

/**
 * Finds a conv kernel `[kh, kw, in, out]` in a model.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { convKernel } from "./images.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({
 *   layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3 })],
 * });
 * assert.deepEqual(convKernel(model).kernel.shape, [3, 3, 1, 4]);
 * ```
 */
export function convKernel(
  model: tf.LayersModel,
  layer?: string | number,
): { kernel: tf.Tensor; layerName: string } {
  const layers = model.layers;
  let chosen: tf.layers.Layer | undefined;
  if (typeof layer === "number") chosen = layers[layer];
  else if (typeof layer === "string") {
    chosen = layers.find((l) => l.name === layer);
  } else chosen = layers.find((l) => l.getWeights()[0]?.rank === 4);
  if (!chosen) {
    throw new Error(
      `no layer ${
        JSON.stringify(layer ?? "with a 4-D kernel")
      } in the model; layers are: ${layers.map((l) => l.name).join(", ")}`,
    );
  }
  const kernel = chosen.getWeights()[0];
  if (!kernel || kernel.rank !== 4) {
    throw new Error(
      `layer ${chosen.name} has no 4-D conv kernel (its first weight is ${
        kernel ? `[${kernel.shape.join(", ")}]` : "missing"
      }); pick a Conv2D layer`,
    );
  }
  return { kernel, layerName: chosen.name };
}

/**
 * Draws the filters of a convolution (the first one by default) as small
 * images: light = positive weight, dark = negative. Async: it reads the
 * weights with `await kernel.data()` (WebGPU cannot read synchronously).
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { filterGrid } from "./images.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({
 *   layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 6, kernelSize: 5 })],
 * });
 * const fig = await filterGrid(model);
 * await fig.save(`${await Deno.makeTempDir()}/filters.svg`);
 * ```
 */
export async function filterGrid(
  weights: tf.LayersModel | tf.Tensor,
  options: FilterGridOptions = {},
): Promise<Figure> {
  const { kernel, layerName } = weights instanceof tf.Tensor
    ? { kernel: weights, layerName: undefined }
    : convKernel(weights, options.layer);
  if (kernel.rank !== 4) {
    throw new Error(
      `filter weights must be [kh, kw, in, out], got [${
        kernel.shape.join(", ")
      }]`,
    );
  }
  const [kh, kw, inC, outC] = kernel.shape as [number, number, number, number];
  const channel = options.inputChannel ?? 0;
  if (inC !== 1 && inC !== 3 && (channel < 0 || channel >= inC)) {
    throw new Error(
      `inputChannel ${channel} is outside the kernel's ${inC} input channels`,
    );
  }
  const w = await kernel.data() as Float32Array;
  const shown = inC === 3 ? 3 : 1;
  const size = kh * kw * shown;
  const images = new Float32Array(outC * size);
  for (let o = 0; o < outC; o++) {
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        for (let c = 0; c < shown; c++) {
          const src = inC === 3 ? c : inC === 1 ? 0 : channel;
          images[o * size + (y * kw + x) * shown + c] =
            w[((y * kw + x) * inC + src) * outC + o];
        }
      }
    }
  }
  const global = _minMax(images, 0, images.length);
  return imageGrid({
    images,
    count: outC,
    height: kh,
    width: kw,
    channels: shown,
  }, {
    limit: outC,
    columns: options.columns ?? 8,
    cellSize: options.cellSize ?? 48,
    range: options.scale === "global" ? global : "auto",
    titles: Array.from({ length: outC }, (_, i) => `#${i}`),
    title: options.title ?? (layerName ? `Filters of ${layerName}` : "Filters"),
  });
}
