/**
 * One image file in, one prediction out, as seed 002's `predict` script does
 * with OpenCV: decode (PNG via `pngjs`, JPEG via `jpeg-js`), grayscale,
 * resize to the model's input, optionally invert to white-on-black like MNIST,
 * normalise, predict.
 *
 * @example
 * ```ts
 * import { predictImageFile } from "./image_file.ts";
 * // const r = await predictImageFile(model, "notebooks/images/digit-7.png");
 * // console.log(r.classIndex, r.probability);
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import * as tf from "../tf.ts";
import type { Normalization } from "../data/mod.ts";
import {
  argmaxRows,
  type PredictOutput,
  predictProbabilities,
} from "./predict.ts";

/**
 * Pixel scaling: the data layer's presets (`toTensors`), so a file is
 * normalised exactly like the training images: "none" keeps 0..255, "unit"
 * maps to 0..1, "centered" to -0.5..0.5 (seed 004's `x / 255 - 0.5`), and
 * `{ mean, std }` applies `(x / 255 - mean) / std` (seed 002:
 * `{ mean: 0.1307, std: 0.3081 }`; one number or one per channel).
 */
export type NormalizePreset = Normalization;

/** A decoded image: interleaved 8-bit pixels, row-major. */
export interface DecodedImage {
  /** Pixel bytes, `height * width * channels` long. */
  data: Uint8Array;
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
  /** 1 (gray), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 3 | 4;
  /** The file format it came from. */
  format: "png" | "jpeg";
}

function _formatOf(bytes: Uint8Array): "png" | "jpeg" | undefined {
  if (
    bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 &&
    bytes[2] === 0x4e && bytes[3] === 0x47
  ) return "png";
  if (
    bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 &&
    bytes[2] === 0xff
  ) return "jpeg";
  return undefined;
}

/**
 * Largest image {@linkcode decodeImage} accepts, in pixels (25 megapixels,
 * e.g. 5000x5000): decoding takes 4 bytes per pixel and more, and a model
 * input is a few dozen pixels wide.
 */
export const MAX_IMAGE_PIXELS = 25_000_000;

/**
 * Width and height from a PNG or JPEG header, without decoding the pixels;
 * undefined when the header cannot be read (the decoder then reports it).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { encodeImage, imageSize } from "./image_file.ts";
 * const png = encodeImage({ data: new Uint8Array(6), height: 2, width: 3, channels: 1 }, "png");
 * assert.deepEqual(imageSize(png), { width: 3, height: 2 });
 * ```
 */
export function imageSize(
  bytes: Uint8Array,
): { width: number; height: number } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = _formatOf(bytes);
  if (format === "png") {
    // The IHDR chunk comes first: width and height at bytes 16..23.
    if (bytes.length < 24) return undefined;
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (format === "jpeg") {
    // Walk the segments up to a start-of-frame marker (SOF0..SOF15 but the
    // DHT, JPG and DAC markers C4, C8, CC), which holds height then width.
    let at = 2;
    while (at + 9 <= bytes.length) {
      if (bytes[at] !== 0xff) return undefined;
      const marker = bytes[at + 1];
      if (marker === 0xff) {
        at++;
        continue;
      }
      const length = view.getUint16(at + 2);
      if (
        marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 &&
        marker !== 0xc8 && marker !== 0xcc
      ) {
        return {
          height: view.getUint16(at + 5),
          width: view.getUint16(at + 7),
        };
      }
      at += 2 + length;
    }
  }
  return undefined;
}

/**
 * Decodes PNG or JPEG bytes to RGBA. `name` only appears in error messages.
 *
 * @example
 * ```ts
 * import { decodeImage } from "./image_file.ts";
 * // const img = decodeImage(await Deno.readFile("a.png"), "a.png");
 * ```
 */
export function decodeImage(bytes: Uint8Array, name = "image"): DecodedImage {
  const format = _formatOf(bytes);
  if (format === undefined) {
    const head = Array.from(
      bytes.slice(0, 4),
      (b) => b.toString(16).padStart(2, "0"),
    ).join(" ");
    throw new Error(
      `${name} is not an image this project can read: expected a PNG or JPEG file, ` +
        `but it starts with bytes [${head}]` +
        (bytes.length === 0 ? " (the file is empty)" : ""),
    );
  }
  // Refuse before decoding: a huge image would take gigabytes of memory.
  const size = imageSize(bytes);
  if (size && size.height * size.width > MAX_IMAGE_PIXELS) {
    throw new Error(
      `${name} is ${size.width}x${size.height} pixels (${
        (size.width * size.height / 1e6).toFixed(1)
      } megapixels); images above ${
        MAX_IMAGE_PIXELS / 1e6
      } megapixels (e.g. 5000x5000) are refused: shrink it first`,
    );
  }
  try {
    if (format === "png") {
      const png = PNG.sync.read(
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      );
      return {
        data: new Uint8Array(
          png.data.buffer,
          png.data.byteOffset,
          png.data.byteLength,
        ),
        height: png.height,
        width: png.width,
        channels: 4,
        format,
      };
    }
    const img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
    });
    return {
      data: img.data,
      height: img.height,
      width: img.width,
      channels: 4,
      format,
    };
  } catch (err) {
    throw new Error(
      `${name} looks like a ${format.toUpperCase()} file but could not be decoded ` +
        `(${
          err instanceof Error ? err.message : String(err)
        }); is it truncated or corrupt?`,
    );
  }
}

/**
 * Reads and decodes a PNG or JPEG file, with clear errors for a missing file
 * or one that is not an image.
 *
 * @example
 * ```ts
 * import { readImageFile } from "./image_file.ts";
 * // const img = await readImageFile("notebooks/images/digit-7.png");
 * // console.log(img.width, img.height);
 * ```
 */
export async function readImageFile(path: string | URL): Promise<DecodedImage> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        `image file not found: ${path} (check the path and the working directory ${Deno.cwd()})`,
      );
    }
    if (err instanceof Deno.errors.IsADirectory) {
      throw new Error(`${path} is a directory, not an image file`);
    }
    throw new Error(
      `could not read image file ${path}: ${
        err instanceof Error ? err.message : err
      }`,
    );
  }
  return decodeImage(bytes, String(path));
}

/** Options of {@linkcode writeImageFile}. */
export interface WriteImageOptions {
  /** JPEG quality 1..100 (JPEG only). Default: 90. */
  quality?: number;
}

/**
 * Writes 8-bit pixels (1, 3 or 4 channels) as PNG or JPEG, chosen by the
 * file extension; handy for test fixtures and notebook sample images.
 *
 * @example
 * ```ts
 * import { writeImageFile } from "./image_file.ts";
 * const pixels = new Uint8Array(28 * 28).fill(255);
 * await writeImageFile(`${await Deno.makeTempDir()}/white.png`, { data: pixels, height: 28, width: 28, channels: 1 });
 * ```
 */
export async function writeImageFile(
  path: string,
  image: Pick<DecodedImage, "data" | "height" | "width" | "channels">,
  options: WriteImageOptions = {},
): Promise<void> {
  await Deno.writeFile(
    path,
    encodeImage(
      image,
      path.toLowerCase().match(/\.jpe?g$/) ? "jpeg" : "png",
      options,
    ),
  );
}

/**
 * Encodes 8-bit pixels (1, 3 or 4 channels) as PNG or JPEG bytes.
 *
 * @example
 * ```ts
 * import { encodeImage } from "./image_file.ts";
 * const png = encodeImage({ data: new Uint8Array(4), height: 2, width: 2, channels: 1 }, "png");
 * console.log(png[1] === 0x50); // true ("P")
 * ```
 */
export function encodeImage(
  image: Pick<DecodedImage, "data" | "height" | "width" | "channels">,
  format: "png" | "jpeg",
  options: WriteImageOptions = {},
): Uint8Array {
  const { data, height, width, channels } = image;
  if (data.length !== height * width * channels) {
    throw new Error(
      `encodeImage: ${data.length} bytes do not make a ${height}x${width}x${channels} image`,
    );
  }
  const rgba = new Uint8Array(height * width * 4);
  for (let i = 0; i < height * width; i++) {
    const s = i * channels;
    rgba[i * 4] = data[s];
    rgba[i * 4 + 1] = channels >= 3 ? data[s + 1] : data[s];
    rgba[i * 4 + 2] = channels >= 3 ? data[s + 2] : data[s];
    rgba[i * 4 + 3] = channels === 4 ? data[s + 3] : 255;
  }
  if (format === "jpeg") {
    const out = jpeg.encode(
      { data: rgba, width, height },
      options.quality ?? 90,
    );
    return new Uint8Array(out.data);
  }
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer);
  const out = PNG.sync.write(png, channels === 1 ? { colorType: 0 } : {});
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Options of {@linkcode preprocessImage} and {@linkcode predictImageFile}. */
export interface PreprocessImageOptions {
  /** Output side in pixels (square), or `[height, width]`. Default: the model's input size (predictImageFile), else 28. */
  size?: number | [number, number];
  /** 1 = grayscale (ITU-R 601 luminance, as OpenCV and PIL), 3 = RGB. Default: the model's input channels, else 1. */
  channels?: 1 | 3;
  /**
   * Make the digit white on black like MNIST: `true`, `false`, or "auto"
   * (invert when the image border is lighter than mid-grey). Default: "auto".
   */
  invert?: boolean | "auto";
  /** Pixel scaling after resizing. Default: "unit". */
  normalize?: NormalizePreset;
  /**
   * Interpolation of the resize: "bilinear", or "nearest" (OpenCV's
   * `INTER_NEAREST`, which seed 002's prediction script uses). Default:
   * "bilinear".
   */
  resizeMethod?: "bilinear" | "nearest";
  /** Gray level that transparent pixels are composited over, 0..255. Default: 255 (white paper). */
  background?: number;
}

/** An image ready for the model, from {@linkcode preprocessImage}. */
export interface PreprocessedImage {
  /** `[1, height, width, channels]` float32 input; the caller disposes it. */
  tensor: tf.Tensor4D;
  /** The resized pixels before normalisation, 0..255, `height * width * channels`. */
  pixels: Uint8Array;
  /** Output height. */
  height: number;
  /** Output width. */
  width: number;
  /** Output channels. */
  channels: 1 | 3;
  /** Whether the image was inverted. */
  inverted: boolean;
  /**
   * Whether every pixel had the same value after compositing over the
   * background (e.g. a fully transparent drawing): nothing to recognise.
   */
  blank: boolean;
}

/**
 * Applies a {@linkcode NormalizePreset} to a tensor of 0..255 values.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { normalizePixels } from "./image_file.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const x = normalizePixels(tf.tensor1d([0, 255]), "centered");
 * assert.deepEqual([...await x.data()], [-0.5, 0.5]);
 * ```
 */
export function normalizePixels(
  x: tf.Tensor,
  preset: NormalizePreset,
): tf.Tensor {
  return tf.tidy(() => {
    const f = tf.cast(x, "float32");
    if (preset === "none") return f;
    if (preset === "unit") return tf.div(f, 255);
    if (preset === "centered") return tf.sub(tf.div(f, 255), 0.5);
    if (typeof preset === "object" && preset !== null) {
      const channels = x.shape[x.rank - 1] ?? 1;
      const perChannel = (v: number | readonly number[], name: string) => {
        const values = typeof v === "number" ? [v] : [...v];
        if (values.length !== 1 && values.length !== channels) {
          throw new Error(
            `normalize.${name} has ${values.length} values for ${channels} channels`,
          );
        }
        if (values.some((n) => !Number.isFinite(n))) {
          throw new Error(`normalize.${name} must be finite numbers`);
        }
        return values;
      };
      const mean = perChannel(preset.mean, "mean");
      const std = perChannel(preset.std, "std");
      if (std.some((v) => !(v > 0))) {
        throw new Error("normalize.std must be > 0");
      }
      return tf.div(
        tf.sub(tf.div(f, 255), tf.tensor1d(mean)),
        tf.tensor1d(std),
      );
    }
    throw new Error(
      `unknown normalize preset ${
        JSON.stringify(preset)
      }; use "none", "unit", "centered" or { mean, std } with std > 0`,
    );
  });
}

/**
 * Turns a decoded image into a model input: alpha composited over
 * `background`, grayscale (or RGB), area-averaged then bilinear resize,
 * optional inversion, normalisation.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { preprocessImage } from "./image_file.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const img = { data: new Uint8Array(56 * 56).fill(255), height: 56, width: 56, channels: 1 as const, format: "png" as const };
 * const p = await preprocessImage(img, { size: 28 });
 * assert.deepEqual(p.tensor.shape, [1, 28, 28, 1]);
 * p.tensor.dispose();
 * ```
 */
export async function preprocessImage(
  image: DecodedImage,
  options: PreprocessImageOptions = {},
): Promise<PreprocessedImage> {
  const [outH, outW] = typeof options.size === "number"
    ? [options.size, options.size]
    : options.size ?? [28, 28];
  if (![outH, outW].every((s) => Number.isInteger(s) && s > 0)) {
    throw new Error(
      `size must be a positive integer or [height, width], got ${
        JSON.stringify(options.size)
      }`,
    );
  }
  const channels = options.channels ?? 1;
  const background = options.background ?? 255;
  const method = options.resizeMethod ?? "bilinear";
  if (method !== "bilinear" && method !== "nearest") {
    throw new Error(
      `resizeMethod must be "bilinear" or "nearest", got ${
        JSON.stringify(method)
      }`,
    );
  }
  const { data, height, width } = image;
  const n = height * width;
  // Flatten to `channels` float channels, compositing alpha over the background.
  const flat = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    const s = i * image.channels;
    const r = data[s];
    const g = image.channels >= 3 ? data[s + 1] : r;
    const b = image.channels >= 3 ? data[s + 2] : r;
    const a = image.channels === 4 ? data[s + 3] / 255 : 1;
    if (channels === 1) {
      const y = 0.299 * r + 0.587 * g + 0.114 * b;
      flat[i] = y * a + background * (1 - a);
    } else {
      flat[i * 3] = r * a + background * (1 - a);
      flat[i * 3 + 1] = g * a + background * (1 - a);
      flat[i * 3 + 2] = b * a + background * (1 - a);
    }
  }
  let lowest = Infinity;
  let highest = -Infinity;
  for (const v of flat) {
    if (v < lowest) lowest = v;
    if (v > highest) highest = v;
  }
  const blank = !(highest - lowest >= 1);
  let inverted = false;
  if (options.invert === true) inverted = true;
  else if (options.invert === undefined || options.invert === "auto") {
    // MNIST digits are white on black: a light border means dark ink on paper.
    let sum = 0;
    let count = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (y === 0 || x === 0 || y === height - 1 || x === width - 1) {
          for (let c = 0; c < channels; c++) {
            sum += flat[(y * width + x) * channels + c];
          }
          count += channels;
        }
      }
    }
    inverted = channels === 1 && sum / count > 127.5;
  }
  const resized = tf.tidy(() => {
    let t = tf.tensor4d(flat, [1, height, width, channels]);
    // Bilinear alone aliases when shrinking a lot: average whole blocks first.
    const factor = Math.min(
      Math.floor(height / outH),
      Math.floor(width / outW),
    );
    if (method === "nearest") {
      t = tf.image.resizeNearestNeighbor(t, [outH, outW]);
    } else {
      if (factor >= 2) t = tf.avgPool(t, factor, factor, "valid");
      t = tf.image.resizeBilinear(t, [outH, outW]);
    }
    t = tf.clipByValue(t, 0, 255);
    return inverted ? tf.sub(255, t) : t;
  });
  let tensor: tf.Tensor4D;
  let pixels: Uint8Array;
  try {
    pixels = Uint8Array.from(
      await resized.data() as Float32Array,
      (v) => Math.round(v),
    );
    tensor = tf.tidy(() =>
      normalizePixels(resized, options.normalize ?? "unit")
    ) as tf.Tensor4D;
  } finally {
    resized.dispose();
  }
  return {
    tensor,
    pixels,
    height: outH,
    width: outW,
    channels,
    inverted,
    blank,
  };
}

/** Options of {@linkcode predictImageFile}. */
export interface PredictImageFileOptions extends PreprocessImageOptions {
  /** Names of the classes, index = class. Default: "0", "1", ... */
  classNames?: readonly string[];
  /** How to read the model's output. Default: "auto". */
  output?: PredictOutput;
}

/** What {@linkcode predictImageFile} returns. */
export interface ImagePrediction {
  /** Predicted class index. */
  classIndex: number;
  /** Predicted class name. */
  className: string;
  /** Probability of the predicted class. */
  probability: number;
  /** Probability of every class. */
  probabilities: Float32Array;
  /** The model input before normalisation (0..255), e.g. to show next to the answer. */
  pixels: Uint8Array;
  /** Input height. */
  height: number;
  /** Input width. */
  width: number;
  /** Input channels. */
  channels: 1 | 3;
  /** Whether the image was inverted to white-on-black. */
  inverted: boolean;
  /** Whether the image was one flat colour after compositing (a warning was printed). */
  blank: boolean;
}

/**
 * Predicts the class of one PNG or JPEG file. Size and channels default to
 * the model's input shape.
 *
 * @example
 * ```ts
 * import { predictImageFile } from "./image_file.ts";
 * // const r = await predictImageFile(model, "notebooks/images/digit-7.png", {
 * //   normalize: { mean: 0.1307, std: 0.3081 },
 * // });
 * // console.log(`${r.className} (${(100 * r.probability).toFixed(1)}%)`);
 * ```
 */
export async function predictImageFile(
  model: tf.LayersModel,
  path: string | URL,
  options: PredictImageFileOptions = {},
): Promise<ImagePrediction> {
  const shape = model.inputs[0]?.shape;
  if (!shape || shape.length !== 4) {
    throw new Error(
      `predictImageFile needs a model with image input [batch, height, width, channels], got ${
        JSON.stringify(shape)
      }`,
    );
  }
  const modelChannels = shape[3];
  if (modelChannels !== null && modelChannels !== 1 && modelChannels !== 3) {
    throw new Error(
      `predictImageFile supports 1 or 3 input channels, the model has ${modelChannels}`,
    );
  }
  const image = await readImageFile(path);
  const pre = await preprocessImage(image, {
    ...options,
    size: options.size ?? [shape[1] ?? 28, shape[2] ?? 28],
    channels: options.channels ?? (modelChannels as 1 | 3 | null) ?? 1,
  });
  if (pre.blank) {
    console.warn(
      `warning: ${path} is blank after compositing on background ${
        options.background ?? 255
      } (every pixel has the same value): the prediction means nothing; ` +
        `is the drawing transparent, or drawn in the background colour?`,
    );
  }
  try {
    const probs = await predictProbabilities(model, pre.tensor, {
      output: options.output,
    });
    const { classes, scores } = argmaxRows(probs);
    const classIndex = classes[0];
    return {
      classIndex,
      className: options.classNames?.[classIndex] ?? String(classIndex),
      probability: scores[0],
      probabilities: probs.values,
      pixels: pre.pixels,
      height: pre.height,
      width: pre.width,
      channels: pre.channels,
      inverted: pre.inverted,
      blank: pre.blank,
    };
  } finally {
    pre.tensor.dispose();
  }
}
