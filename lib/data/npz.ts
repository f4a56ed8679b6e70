/**
 * Reader of NumPy's `.npz` archives: a zip file of `.npy` arrays, each entry
 * stored or deflated. Decompression uses the platform's `DecompressionStream`.
 *
 * @example
 * ```ts
 * import { parseNpz } from "./npz.ts";
 * const bytes = await Deno.readFile("data/kannada-mnist/y_dig_MNIST.npz");
 * const arrays = await parseNpz(bytes, { label: "y_dig_MNIST.npz" });
 * console.log([...arrays.keys()]); // ["arr_0"]
 * ```
 *
 * @module
 */
import { crc32 } from "node:zlib";
import { _inflateRaw } from "./_bytes.ts";
import { DataFormatError } from "./errors.ts";
import { type NpyArray, parseNpy } from "./npy.ts";

/** One entry of a zip archive's central directory. */
export interface ZipEntry {
  /** Path inside the archive. */
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  /** Size of the stored bytes. */
  compressedSize: number;
  /** Size after decompression. */
  size: number;
  /** CRC-32 of the decompressed bytes. */
  crc32: number;
  /** Offset of the entry's local header. */
  localHeaderOffset: number;
}

/** Options of {@linkcode parseNpz} and {@linkcode listZipEntries}. */
export interface ParseNpzOptions {
  /** Name of the archive, for error messages. Default: "npz data". */
  label?: string;
}

const _EOCD = 0x06054b50;
const _CENTRAL = 0x02014b50;
const _LOCAL = 0x04034b50;

/**
 * Lists a zip archive's entries from its central directory. Throws
 * {@linkcode DataFormatError} when the archive is not a zip or is truncated.
 *
 * @example
 * ```ts
 * import { listZipEntries } from "./npz.ts";
 * const bytes = await Deno.readFile("arrays.npz");
 * for (const e of listZipEntries(bytes)) console.log(e.name, e.size);
 * ```
 */
export function listZipEntries(
  bytes: Uint8Array,
  options: ParseNpzOptions = {},
): ZipEntry[] {
  const label = options.label ?? "npz data";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  // The end-of-central-directory record sits in the last 22 + 65535 bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557); i--) {
    if (view.getUint32(i, true) === _EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new DataFormatError(
      `${label}: not a zip/npz archive, or truncated (no end-of-central-directory record). ` +
        "Delete the file and fetch it again.",
    );
  }
  const count = view.getUint16(eocd + 10, true);
  const directorySize = view.getUint32(eocd + 12, true);
  const directoryOffset = view.getUint32(eocd + 16, true);
  if (directoryOffset + directorySize > eocd) {
    throw new DataFormatError(
      `${label}: zip central directory points outside the file (truncated or corrupt).`,
    );
  }
  const entries: ZipEntry[] = [];
  let p = directoryOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > eocd || view.getUint32(p, true) !== _CENTRAL) {
      throw new DataFormatError(`${label}: corrupt zip central directory.`);
    }
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    const entry: ZipEntry = {
      name: new TextDecoder().decode(
        bytes.subarray(p + 46, p + 46 + nameLength),
      ),
      method: view.getUint16(p + 10, true),
      crc32: view.getUint32(p + 16, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      localHeaderOffset: view.getUint32(p + 42, true),
    };
    _applyZip64(entry, view, p + 46 + nameLength, extraLength);
    entries.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Reads 64-bit sizes/offsets from a zip64 extra field (NumPy forces zip64). */
function _applyZip64(
  entry: ZipEntry,
  view: DataView,
  start: number,
  length: number,
): void {
  let p = start;
  while (p + 4 <= start + length) {
    const id = view.getUint16(p, true);
    const size = view.getUint16(p + 2, true);
    if (id === 0x0001) {
      let q = p + 4;
      const next = () => {
        const value = Number(view.getBigUint64(q, true));
        q += 8;
        return value;
      };
      if (entry.size === 0xffffffff) entry.size = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localHeaderOffset === 0xffffffff) {
        entry.localHeaderOffset = next();
      }
    }
    p += 4 + size;
  }
}

/**
 * Extracts one zip entry's bytes, inflating it if needed and checking its
 * CRC-32. Stored entries come back as views into `bytes` (no copy).
 *
 * @example
 * ```ts
 * import { listZipEntries, readZipEntry } from "./npz.ts";
 * const bytes = await Deno.readFile("arrays.npz");
 * const first = await readZipEntry(bytes, listZipEntries(bytes)[0]);
 * console.log(first.length);
 * ```
 */
export async function readZipEntry(
  bytes: Uint8Array,
  entry: ZipEntry,
  options: ParseNpzOptions = {},
): Promise<Uint8Array> {
  const label = `${options.label ?? "npz data"}:${entry.name}`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const p = entry.localHeaderOffset;
  if (p + 30 > bytes.length || view.getUint32(p, true) !== _LOCAL) {
    throw new DataFormatError(`${label}: corrupt zip local header.`);
  }
  const start = p + 30 + view.getUint16(p + 26, true) +
    view.getUint16(p + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) {
    throw new DataFormatError(`${label}: entry data truncated.`);
  }
  const stored = bytes.subarray(start, end);
  let data: Uint8Array;
  if (entry.method === 0) data = stored;
  else if (entry.method === 8) {
    data = await _inflateRaw(stored, entry.size, label);
  } else {
    throw new DataFormatError(
      `${label}: unsupported zip compression method ${entry.method} (only stored and deflated).`,
    );
  }
  if (data.length !== entry.size) {
    throw new DataFormatError(
      `${label}: entry is ${data.length} bytes, the directory says ${entry.size}.`,
    );
  }
  const crc = crc32(data) >>> 0;
  if (crc !== entry.crc32) {
    throw new DataFormatError(
      `${label}: CRC-32 mismatch (expected ${entry.crc32.toString(16)}, got ${
        crc.toString(16)
      }): the archive is corrupt. Delete it and fetch it again.`,
    );
  }
  return data;
}

/**
 * Parses every `.npy` array of an `.npz` archive, keyed by name without the
 * `.npy` suffix (`np.savez` names positional arrays `arr_0`, `arr_1`, ...).
 *
 * @example
 * ```ts
 * import { parseNpz } from "./npz.ts";
 * const bytes = await Deno.readFile("data/kannada-mnist/X_dig_MNIST.npz");
 * const images = (await parseNpz(bytes)).get("arr_0")!;
 * console.log(images.shape); // [10240, 28, 28]
 * ```
 */
export async function parseNpz(
  bytes: Uint8Array,
  options: ParseNpzOptions = {},
): Promise<Map<string, NpyArray>> {
  const label = options.label ?? "npz data";
  const arrays = new Map<string, NpyArray>();
  for (const entry of listZipEntries(bytes, options)) {
    if (!entry.name.endsWith(".npy")) continue;
    const data = await readZipEntry(bytes, entry, options);
    arrays.set(
      entry.name.slice(0, -4),
      parseNpy(data, { label: `${label}:${entry.name}` }),
    );
  }
  if (arrays.size === 0) {
    throw new DataFormatError(`${label}: the archive holds no .npy arrays.`);
  }
  return arrays;
}
