/**
 * Readers of CIFAR-10's binary version: records of 1 label byte followed by
 * 1024 red, 1024 green and 1024 blue bytes (32x32, row-major), read from the
 * official `cifar-10-binary.tar.gz` or from a folder of loose batch files of
 * any record count. Images come out NHWC.
 *
 * Kept as the project's own code: the record layout is fixed and tiny, the
 * npm packages that read CIFAR-10 bundle a downloader or a Node-only image
 * stack, and this reader checks the loose batches against the mirror's
 * `SHA256SUMS` and reads only the members a limit needs. The tar container
 * around the batches is modern-tar's (`tar.ts`).
 *
 * @example
 * ```ts
 * import { loadCifarFolder } from "./cifar.ts";
 * const test = await loadCifarFolder("../shared/datasets/cifar10-subset", "test");
 * console.log(test.count, test.height, test.width, test.channels); // 1000 32 32 3
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { _decompressor } from "./_bytes.ts";
import { _sha256 } from "./_hash.ts";
import { ChecksumMismatchError, DataFormatError } from "./errors.ts";
import { DATASETS } from "./registry.ts";
import type { ImageSplit } from "./split.ts";
import { readTarEntries } from "./tar.ts";

/**
 * Bytes per CIFAR-10 record: 1 label + 3 x 32 x 32 pixels.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { CIFAR_RECORD_BYTES } from "./cifar.ts";
 * assert.equal(CIFAR_RECORD_BYTES, 1 + 32 * 32 * 3); // a label byte, then the pixels
 * // so a batch file of 30,730,000 bytes holds 10,000 records
 * ```
 */
export const CIFAR_RECORD_BYTES = 3073;
const _PIXELS = 1024;

/** CIFAR records decoded to NHWC images and labels. */
export interface CifarRecords {
  /** Pixels, NHWC (`count x 32 x 32 x 3`), uint8. */
  images: Uint8Array;
  /** Labels 0..9. */
  labels: Uint8Array;
  /** Number of records. */
  count: number;
}

/** Options of the CIFAR readers. */
export interface ReadCifarOptions {
  /** Name of the data, for error messages. Default: "CIFAR-10 records". */
  label?: string;
  /** Keep only the first `limit` records. Default: all. */
  limit?: number;
}

/** Decodes `count` records from `raw` into `out` starting at image `at`. */
function _decodeInto(
  raw: Uint8Array,
  count: number,
  out: CifarRecords,
  at: number,
  label: string,
): void {
  for (let r = 0; r < count; r++) {
    const record = raw.subarray(r * CIFAR_RECORD_BYTES);
    const y = record[0];
    if (y > 9) {
      throw new DataFormatError(
        `${label}: record ${r} has label ${y}; CIFAR-10 labels are 0..9. ` +
          "Is this really a CIFAR-10 binary batch (not CIFAR-100, whose records are 3074 bytes)?",
      );
    }
    out.labels[at + r] = y;
    const base = (at + r) * _PIXELS * 3;
    for (let p = 0; p < _PIXELS; p++) {
      out.images[base + 3 * p] = record[1 + p];
      out.images[base + 3 * p + 1] = record[1 + _PIXELS + p];
      out.images[base + 3 * p + 2] = record[1 + 2 * _PIXELS + p];
    }
  }
}

function _recordCount(size: number, label: string): number {
  if (size % CIFAR_RECORD_BYTES !== 0) {
    throw new DataFormatError(
      `${label}: ${size} bytes is not a whole number of ${CIFAR_RECORD_BYTES}-byte ` +
        "CIFAR-10 records: the file is truncated or not a CIFAR-10 binary batch.",
    );
  }
  return size / CIFAR_RECORD_BYTES;
}

/**
 * Decodes CIFAR-10 binary records (a `*.bin` batch file's bytes). Throws
 * {@linkcode DataFormatError} when the size is not a multiple of 3073 bytes or
 * a label is above 9.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { CIFAR_RECORD_BYTES, parseCifarRecords } from "./cifar.ts";
 * // Two records (a batch file's bytes, e.g. `await Deno.readFile("test_batch.bin")`).
 * const bytes = new Uint8Array(2 * CIFAR_RECORD_BYTES);
 * bytes[CIFAR_RECORD_BYTES] = 7; // the second record's label
 * const { images, labels, count } = parseCifarRecords(bytes, { limit: 10 });
 * assert.equal(count, 2);
 * assert.deepEqual([...labels], [0, 7]);
 * assert.equal(images.length, 2 * 32 * 32 * 3);
 * ```
 */
export function parseCifarRecords(
  bytes: Uint8Array,
  options: ReadCifarOptions = {},
): CifarRecords {
  const label = options.label ?? "CIFAR-10 records";
  const total = _recordCount(bytes.length, label);
  const count = Math.min(total, Math.max(0, options.limit ?? total));
  const out = {
    images: new Uint8Array(count * _PIXELS * 3),
    labels: new Uint8Array(count),
    count,
  };
  _decodeInto(bytes, count, out, 0, label);
  return out;
}

/**
 * Reads the given batch members from a CIFAR-10 `.tar.gz` as a stream, in
 * the given order, stopping as soon as `limit` records are in hand.
 *
 * @example
 * ```ts ignore
 * import { readCifarArchive } from "./cifar.ts";
 * const test = await readCifarArchive(
 *   "data/cifar10/cifar-10-binary.tar.gz",
 *   ["cifar-10-batches-bin/test_batch.bin"],
 * );
 * console.log(test.count); // 10000
 * ```
 */
export async function readCifarArchive(
  path: string,
  members: readonly string[],
  options: ReadCifarOptions = {},
): Promise<CifarRecords> {
  const label = options.label ?? path;
  const limit = options.limit ?? Infinity;
  const raw = new Map<string, Uint8Array>();
  // Records available from the start of `members`, in order, so far.
  const prefixCount = () => {
    let n = 0;
    for (const m of members) {
      const bytes = raw.get(m);
      if (!bytes) break;
      n += bytes.length / CIFAR_RECORD_BYTES;
    }
    return n;
  };
  const file = await Deno.open(path, { read: true });
  const tar = file.readable.pipeThrough(_decompressor("gzip"));
  for await (const entry of readTarEntries(tar, { label })) {
    if (!members.includes(entry.name)) continue;
    const name = `${label}:${entry.name}`;
    _recordCount(entry.size, name);
    raw.set(entry.name, await entry.bytes());
    if (raw.size === members.length || prefixCount() >= limit) break;
  }
  const missing = members.filter((m) => !raw.has(m));
  if (missing.length && prefixCount() < limit) {
    throw new DataFormatError(
      `${label}: the archive lacks ${missing.join(", ")}. ` +
        "Is it the binary version of CIFAR-10 (cifar-10-binary.tar.gz)?",
    );
  }
  const total = Math.min(limit, prefixCount());
  const out = {
    images: new Uint8Array(total * _PIXELS * 3),
    labels: new Uint8Array(total),
    count: total,
  };
  let at = 0;
  for (const m of members) {
    const bytes = raw.get(m);
    if (!bytes || at >= total) break;
    const n = Math.min(bytes.length / CIFAR_RECORD_BYTES, total - at);
    _decodeInto(bytes, n, out, at, `${label}:${m}`);
    raw.delete(m); // Let each raw batch go as soon as it is decoded.
    at += n;
  }
  return out;
}

/** Options of {@linkcode loadCifarFolder}. */
export interface LoadCifarFolderOptions {
  /** Keep only the first `limit` records. Default: all. */
  limit?: number;
  /**
   * Check each file against a `SHA256SUMS` list in the folder or its parent
   * when one lists it (as the shared mirror's does). Default: true.
   */
  verify?: boolean;
}

const _PATTERNS: Record<"train" | "test", RegExp> = {
  train: /^data_batch_(\d+)[^/]*\.bin$/,
  test: /^test_batch[^/]*\.bin$/,
};

async function _checksumList(
  dir: string,
): Promise<Map<string, { sha256: string; base: string }>> {
  const sums = new Map<string, { sha256: string; base: string }>();
  for (const base of [dir, join(dir, "..")]) {
    let text: string;
    try {
      text = await Deno.readTextFile(join(base, "SHA256SUMS"));
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      const m = /^([0-9a-f]{64})\s+(?:\d+\s+)?\*?(.+)$/.exec(line.trim());
      if (m) sums.set(join(base, m[2]), { sha256: m[1], base });
    }
  }
  return sums;
}

/**
 * Loads a CIFAR-10 split from a folder of loose binary batch files
 * (`data_batch_*.bin` for "train", `test_batch*.bin` for "test"), of any
 * record count, such as the mirror's `cifar10-subset`. The split's `note`
 * says it is not the official archive.
 *
 * @example
 * ```ts
 * import { loadCifarFolder } from "./cifar.ts";
 * const train = await loadCifarFolder("../shared/datasets/cifar10-subset", "train");
 * console.log(train.count, train.note);
 * ```
 */
export async function loadCifarFolder(
  dir: string,
  split: "train" | "test",
  options: LoadCifarFolderOptions = {},
): Promise<ImageSplit> {
  const pattern = _PATTERNS[split];
  if (!pattern) {
    throw new Error(
      `loadCifarFolder: split must be "train" or "test", not "${split}".`,
    );
  }
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && pattern.test(entry.name)) names.push(entry.name);
  }
  if (names.length === 0) {
    throw new DataFormatError(
      `${dir}: no CIFAR-10 ${split} batch files (${pattern.source}) in this folder.`,
    );
  }
  names.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const sums = options.verify === false ? new Map() : await _checksumList(dir);
  const limit = options.limit ?? Infinity;
  const parts: CifarRecords[] = [];
  const sources: string[] = [];
  const checked: string[] = [];
  let total = 0;
  for (const name of names) {
    if (total >= limit) break;
    const path = join(dir, name);
    const bytes = await Deno.readFile(path);
    const listed = sums.get(path);
    if (listed) {
      const actual = _sha256(bytes);
      if (actual !== listed.sha256) {
        throw new ChecksumMismatchError(
          path,
          `sha256 ${listed.sha256} (from ${join(listed.base, "SHA256SUMS")})`,
          `sha256 ${actual}, ${bytes.length} bytes`,
          "The file is corrupt or was replaced; restore it from its source.",
        );
      }
      checked.push(name);
    }
    const part = parseCifarRecords(bytes, {
      label: path,
      limit: limit - total,
    });
    parts.push(part);
    sources.push(path);
    total += part.count;
  }
  let { images, labels } = parts[0];
  if (parts.length > 1) {
    images = new Uint8Array(total * _PIXELS * 3);
    labels = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      images.set(part.images, at * _PIXELS * 3);
      labels.set(part.labels, at);
      at += part.count;
    }
  }
  const official = DATASETS.cifar10.splits[split].count;
  return {
    dataset: "cifar10",
    split,
    images,
    labels,
    count: total,
    height: 32,
    width: 32,
    channels: 3,
    classNames: DATASETS.cifar10.classNames,
    sources,
    note:
      `CIFAR-10 ${split}: ${total} records from loose batch files in ${dir} ` +
      `(${names.join(", ")}), not the official ${official}-image split` +
      (checked.length ? "; checked against SHA256SUMS" : "; no checksum list") +
      ".",
  };
}
