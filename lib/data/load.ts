/**
 * `loadSplit`: one call from a dataset name and split to verified NHWC uint8
 * arrays, whatever the storage format (gzipped IDX, NPZ, CIFAR tar.gz).
 *
 * @example
 * ```ts ignore
 * import { loadSplit } from "./load.ts";
 * const test = await loadSplit("mnist", "test", { limit: 1000 });
 * console.log(test.count, test.height, test.width, test.channels); // 1000 28 28 1
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { loadCifarFolder, readCifarArchive } from "./cifar.ts";
import { DataFormatError, DataUnavailableError } from "./errors.ts";
import {
  fetchFile,
  type FetchFileOptions,
  resolveDataDir,
  resolveMirror,
} from "./fetch.ts";
import { readIdx } from "./idx.ts";
import type { NpyArray } from "./npy.ts";
import { parseNpz } from "./npz.ts";
import {
  type DatasetInfo,
  type DatasetName,
  getDataset,
  getSplit,
  type SplitSource,
} from "./registry.ts";
import type { ImageSplit } from "./split.ts";

/** Options of {@linkcode loadSplit}. */
export interface LoadSplitOptions extends FetchFileOptions {
  /** Keep only the first `limit` images (smoke runs). Default: all. */
  limit?: number;
  /**
   * Storage format to read, for datasets published in several (Kannada-MNIST:
   * "npz" as the tutorial reads it, or "idx"). Default: the registry's first.
   */
  format?: "npz" | "idx";
  /**
   * CIFAR-10 only: when the official archive cannot be had, read the loose
   * batch files of a `cifar10-subset` folder in the mirror or the cache
   * instead (the result's `note` says so). Default: false.
   */
  allowSubset?: boolean;
}

/**
 * Loads a split of a registry dataset as NHWC uint8 images and uint8 labels,
 * fetching and verifying its files first (see `fetchFile`).
 *
 * Throws `DataUnavailableError` when a file cannot be had (catch it to fall
 * back, e.g. to part of the test split), `ChecksumMismatchError` for wrong
 * files, `DataFormatError` for files that do not parse.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { loadSplit } from "./load.ts";
 * const dig = await loadSplit("kannada-mnist", "dig", { mirror: "../shared/datasets" });
 * assert.equal(dig.count, 10240);
 * ```
 */
export async function loadSplit(
  name: DatasetName,
  split: string,
  options: LoadSplitOptions = {},
): Promise<ImageSplit> {
  const info = getDataset(name);
  const splitInfo = getSplit(name, split);
  if (
    options.limit !== undefined &&
    !(Number.isInteger(options.limit) && options.limit >= 0)
  ) {
    throw new RangeError(
      `loadSplit: limit must be a whole number >= 0, not ${options.limit}.`,
    );
  }
  const source = options.format
    ? splitInfo.sources.find((s) => s.format === options.format)
    : splitInfo.sources[0];
  if (!source) {
    throw new Error(
      `${name}/${split} is not published in the "${options.format}" format here ` +
        `(available: ${splitInfo.sources.map((s) => s.format).join(", ")}).`,
    );
  }
  let result: ImageSplit;
  if (source.format === "cifar-tar") {
    try {
      result = await _loadCifar(info, split, source, options);
    } catch (e) {
      if (!(e instanceof DataUnavailableError) || !options.allowSubset) throw e;
      const folder = await _findSubsetFolder(options);
      if (!folder) throw e;
      return await loadCifarFolder(folder, split as "train" | "test", options);
    }
  } else {
    result = source.format === "idx"
      ? await _loadIdx(info, split, source, options)
      : await _loadNpz(info, split, source, options);
  }
  const expected = Math.min(splitInfo.count, options.limit ?? Infinity);
  if (result.count !== expected) {
    throw new DataFormatError(
      `${name}/${split}: read ${result.count} images, expected ${expected}. ` +
        "The files do not match the registry.",
    );
  }
  return result;
}

function _assemble(
  info: DatasetInfo,
  split: string,
  images: Uint8Array,
  labels: Uint8Array,
  sources: string[],
): ImageSplit {
  const [height, width, channels] = info.imageShape;
  const count = labels.length;
  if (images.length !== count * height * width * channels) {
    throw new DataFormatError(
      `${info.name}/${split}: ${images.length} pixel values for ${count} labels ` +
        `of ${height}x${width}x${channels} images (${sources.join(", ")}).`,
    );
  }
  const classes = info.classNames.length;
  for (let i = 0; i < count; i++) {
    if (labels[i] >= classes) {
      throw new DataFormatError(
        `${sources.at(-1)}: label ${
          labels[i]
        } at index ${i} is not a class 0..${classes - 1}.`,
      );
    }
  }
  return {
    dataset: info.name,
    split,
    images,
    labels,
    count,
    height,
    width,
    channels,
    classNames: info.classNames,
    sources,
  };
}

async function _loadIdx(
  info: DatasetInfo,
  split: string,
  source: SplitSource,
  options: LoadSplitOptions,
): Promise<ImageSplit> {
  const imagesPath = (await fetchFile(source.images, options)).path;
  const labelsPath = (await fetchFile(source.labels!, options)).path;
  const images = await readIdx(await Deno.readFile(imagesPath), {
    label: imagesPath,
    limit: options.limit,
  });
  const labels = await readIdx(await Deno.readFile(labelsPath), {
    label: labelsPath,
    limit: options.limit,
  });
  const [height, width] = info.imageShape;
  if (
    images.dtype !== "uint8" || images.shape.length !== 3 ||
    images.shape[1] !== height || images.shape[2] !== width
  ) {
    throw new DataFormatError(
      `${imagesPath}: expected uint8 images of shape [N, ${height}, ${width}], ` +
        `found ${images.dtype} [${images.shape.join(", ")}].`,
    );
  }
  if (labels.dtype !== "uint8" || labels.shape.length !== 1) {
    throw new DataFormatError(
      `${labelsPath}: expected uint8 labels of shape [N], found ${labels.dtype} [${
        labels.shape.join(", ")
      }].`,
    );
  }
  if (labels.shape[0] !== images.shape[0]) {
    throw new DataFormatError(
      `${imagesPath} holds ${images.shape[0]} images but ${labelsPath} ` +
        `holds ${labels.shape[0]} labels.`,
    );
  }
  return _assemble(
    info,
    split,
    images.data as Uint8Array,
    labels.data as Uint8Array,
    [imagesPath, labelsPath],
  );
}

function _onlyArray(arrays: Map<string, NpyArray>, path: string): NpyArray {
  const array = arrays.get("arr_0") ?? arrays.values().next().value;
  if (!array) throw new DataFormatError(`${path}: no arrays inside.`);
  return array;
}

/** Labels of any integer dtype as uint8, checking the range. */
function _labelsAsUint8(array: NpyArray, path: string): Uint8Array {
  if (array.shape.length !== 1) {
    throw new DataFormatError(
      `${path}: labels should be 1-D, found shape [${array.shape.join(", ")}].`,
    );
  }
  if (array.data instanceof Uint8Array && array.dtype === "uint8") {
    return array.data;
  }
  if (array.dtype.startsWith("float") || array.dtype === "bool") {
    throw new DataFormatError(
      `${path}: labels should be integers, found ${array.dtype}.`,
    );
  }
  const out = new Uint8Array(array.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(array.data[i]);
    if (v < 0 || v > 255) {
      throw new DataFormatError(
        `${path}: label ${v} at index ${i} is invalid.`,
      );
    }
    out[i] = v;
  }
  return out;
}

async function _loadNpz(
  info: DatasetInfo,
  split: string,
  source: SplitSource,
  options: LoadSplitOptions,
): Promise<ImageSplit> {
  const imagesPath = (await fetchFile(source.images, options)).path;
  const labelsPath = (await fetchFile(source.labels!, options)).path;
  const images = _onlyArray(
    await parseNpz(await Deno.readFile(imagesPath), { label: imagesPath }),
    imagesPath,
  );
  const labelsArray = _onlyArray(
    await parseNpz(await Deno.readFile(labelsPath), { label: labelsPath }),
    labelsPath,
  );
  const [height, width, channels] = info.imageShape;
  const shapeOk = images.shape[1] === height && images.shape[2] === width &&
    (images.shape.length === 3 ||
      (images.shape.length === 4 && images.shape[3] === channels));
  if (images.dtype !== "uint8" || !shapeOk) {
    throw new DataFormatError(
      `${imagesPath}: expected uint8 images of shape [N, ${height}, ${width}], ` +
        `found ${images.dtype} [${images.shape.join(", ")}].`,
    );
  }
  let pixels = images.data as Uint8Array;
  let labels = _labelsAsUint8(labelsArray, labelsPath);
  if (labels.length !== images.shape[0]) {
    throw new DataFormatError(
      `${imagesPath} holds ${images.shape[0]} images but ${labelsPath} ` +
        `holds ${labels.length} labels.`,
    );
  }
  if (options.limit !== undefined && options.limit < labels.length) {
    // Copy the prefix so the whole file's buffer can be freed.
    pixels = pixels.slice(0, options.limit * height * width * channels);
    labels = labels.slice(0, options.limit);
  }
  return _assemble(info, split, pixels, labels, [imagesPath, labelsPath]);
}

async function _loadCifar(
  info: DatasetInfo,
  split: string,
  source: SplitSource,
  options: LoadSplitOptions,
): Promise<ImageSplit> {
  const path = (await fetchFile(source.images, options)).path;
  const records = await readCifarArchive(path, source.members!, {
    label: path,
    limit: options.limit,
  });
  return _assemble(info, split, records.images, records.labels, [path]);
}

async function _findSubsetFolder(
  options: LoadSplitOptions,
): Promise<string | undefined> {
  const roots = [resolveMirror(options), resolveDataDir(options)];
  for (const root of roots) {
    if (!root) continue;
    const dir = join(root, "cifar10-subset");
    try {
      if ((await Deno.stat(dir)).isDirectory) return dir;
    } catch {
      // Not there; try the next root.
    }
  }
  return undefined;
}
