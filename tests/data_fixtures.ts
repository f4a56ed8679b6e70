/**
 * Builders of small dataset files for the data tests: gzip, IDX, NPY, zip
 * (stored and deflated entries), tar and CIFAR-10 records, plus a synthetic
 * `ImageSplit`, and whether the real-data mirror holds a dataset. Everything
 * is generated here; no fixture files are checked in.
 *
 * @example
 * ```ts
 * import { gzip, idxBytes } from "./data_fixtures.ts";
 * const labels = await gzip(idxBytes(0x08, [3], new Uint8Array([1, 2, 3])));
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { crc32 } from "node:zlib";
import type { ImageSplit } from "../lib/data/mod.ts";
import { runConfigFromEnv } from "../lib/config.ts";

/**
 * Whether the dataset mirror (`CNN_DATA_MIRROR`) holds `dataset`'s folder;
 * tests that need the real data skip when it does not.
 */
export function mirrorHas(dataset: string): boolean {
  const mirror = runConfigFromEnv().data.mirror;
  if (mirror === undefined) return false;
  try {
    return Deno.statSync(join(mirror, dataset)).isDirectory;
  } catch {
    return false;
  }
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function _transform(
  bytes: Uint8Array,
  stream: CompressionStream,
): Promise<Uint8Array> {
  const input = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
  const piped = input.pipeThrough(
    stream as unknown as TransformStream<Uint8Array, Uint8Array>,
  );
  return new Uint8Array(await new Response(piped).arrayBuffer());
}

/** Gzips bytes with the platform's `CompressionStream`. */
export function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return _transform(bytes, new CompressionStream("gzip"));
}

/** Raw-deflates bytes (a zip entry's data). */
export function deflateRaw(bytes: Uint8Array): Promise<Uint8Array> {
  return _transform(bytes, new CompressionStream("deflate-raw"));
}

/** An IDX file: magic 00 00 <type> <ndim>, big-endian dims, then `body`. */
export function idxBytes(
  type: number,
  dims: number[],
  body: Uint8Array,
): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  return concat(header, body);
}

/** A `.npy` file (version 1.0) with the given descr, shape and raw data. */
export function npyBytes(
  descr: string,
  shape: number[],
  data: Uint8Array,
  fortranOrder = false,
): Uint8Array {
  const shapeText = shape.length === 1
    ? `(${shape[0]},)`
    : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${
    fortranOrder ? "True" : "False"
  }, 'shape': ${shapeText}, }`;
  // NumPy pads the header with spaces so the data starts 64-byte aligned.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, " ") + "\n";
  const prefix = new Uint8Array([
    0x93,
    0x4e,
    0x55,
    0x4d,
    0x50,
    0x59,
    1,
    0,
    0,
    0,
  ]);
  new DataView(prefix.buffer).setUint16(8, header.length, true);
  return concat(prefix, new TextEncoder().encode(header), data);
}

/** One entry for {@linkcode zipBytes}. */
export interface ZipInput {
  /** Path in the archive. */
  name: string;
  /** Uncompressed content. */
  data: Uint8Array;
  /** Deflate the entry (method 8) instead of storing it (method 0). */
  deflate?: boolean;
}

/** A minimal zip archive (no zip64, no data descriptors), like `np.savez`. */
export async function zipBytes(entries: ZipInput[]): Promise<Uint8Array> {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = new TextEncoder().encode(entry.name);
    const stored = entry.deflate ? await deflateRaw(entry.data) : entry.data;
    const crc = crc32(entry.data) >>> 0;
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, entry.deflate ? 8 : 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, stored.length, true);
    lv.setUint32(22, entry.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, entry.deflate ? 8 : 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, stored.length, true);
    cv.setUint32(24, entry.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local, stored);
    centrals.push(central);
    offset += local.length + stored.length;
  }
  const directory = concat(...centrals);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, directory.length, true);
  ev.setUint32(16, offset, true);
  return concat(...locals, directory, end);
}

/** A ustar archive of regular files, ended by two zero blocks. */
export function tarBytes(entries: { name: string; data: Uint8Array }[]) {
  const parts: Uint8Array[] = [];
  for (const { name, data } of entries) {
    const header = new Uint8Array(512);
    const put = (text: string, at: number) =>
      header.set(new TextEncoder().encode(text), at);
    put(name, 0);
    put("0000644\0", 100);
    put("0000000\0", 108);
    put("0000000\0", 116);
    put(data.length.toString(8).padStart(11, "0") + "\0", 124);
    put("00000000000\0", 136);
    put("        ", 148);
    header[156] = 0x30; // "0": regular file
    put("ustar\0", 257);
    put("00", 263);
    const sum = header.reduce((a, b) => a + b, 0);
    put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    parts.push(header, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  return concat(...parts);
}

/**
 * CIFAR-10 records: record `i` has label `labels[i]` and every pixel's red,
 * green and blue bytes set to `(i + 1) * 3 + channel` mod 256, except pixel
 * `p` of channel `c`, which is `(p + c) % 256` in record 0 (to check the layout).
 */
export function cifarRecords(labels: number[]): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  labels.forEach((label, i) => {
    const r = out.subarray(i * 3073, (i + 1) * 3073);
    r[0] = label;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) {
        r[1 + c * 1024 + p] = i === 0 ? (p + c) % 256 : ((i + 1) * 3 + c) % 256;
      }
    }
  });
  return out;
}

/** A synthetic split: image `i` has every pixel equal to `pixel(i)`. */
export function syntheticSplit(
  count: number,
  shape: [number, number, number] = [4, 4, 1],
  pixel: (i: number, p: number) => number = (i) => i % 256,
): ImageSplit {
  const [height, width, channels] = shape;
  const size = height * width * channels;
  const images = new Uint8Array(count * size);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 10;
    for (let p = 0; p < size; p++) images[i * size + p] = pixel(i, p);
  }
  return {
    dataset: "synthetic",
    split: "train",
    images,
    labels,
    count,
    height,
    width,
    channels,
    classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    sources: [],
  };
}
