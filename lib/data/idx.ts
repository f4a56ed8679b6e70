/**
 * Parser of the IDX format of MNIST-like datasets (optionally gzipped): a
 * magic number giving the element type and number of dimensions, the
 * dimensions as big-endian uint32, then the elements in row-major order.
 *
 * Kept as the project's own code: no maintained npm package reads IDX
 * without also downloading the data or pulling a dataset framework, the
 * format is a dozen lines of header, and this reader returns views into the
 * decompressed bytes (no copy) and stops decompressing once a `limit` is met.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { readIdx } from "./idx.ts";
 * // e.g. `await Deno.readFile("data/mnist/t10k-labels-idx1-ubyte.gz")`; here an
 * // uncompressed IDX file of 3 labels: magic (ubyte, 1 dimension), size, data.
 * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]);
 * const labels = await readIdx(bytes, { label: "t10k-labels" });
 * assert.deepEqual(labels.shape, [3]);
 * ```
 *
 * @module
 */
import { _gunzip, _hex, _isGzip } from "./_bytes.ts";
import { DataFormatError } from "./errors.ts";

/** Element types the IDX format defines. */
export type IdxDtype =
  | "uint8"
  | "int8"
  | "int16"
  | "int32"
  | "float32"
  | "float64";

/** Typed arrays an IDX file can decode to. */
export type IdxData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** A decoded IDX array. */
export interface IdxArray {
  /** Element type from the magic number. */
  dtype: IdxDtype;
  /** Dimensions, outermost first (after `limit`, if one was given). */
  shape: number[];
  /** Elements in row-major order (a view into the input for uint8). */
  data: IdxData;
}

/** Options of {@linkcode parseIdx} and {@linkcode readIdx}. */
export interface ParseIdxOptions {
  /** Name of the file, for error messages. Default: "IDX data". */
  label?: string;
  /** Keep only the first `limit` entries of the outer dimension. Default: all. */
  limit?: number;
}

const _DTYPES: Record<number, { dtype: IdxDtype; bytes: number }> = {
  0x08: { dtype: "uint8", bytes: 1 },
  0x09: { dtype: "int8", bytes: 1 },
  0x0b: { dtype: "int16", bytes: 2 },
  0x0c: { dtype: "int32", bytes: 4 },
  0x0d: { dtype: "float32", bytes: 4 },
  0x0e: { dtype: "float64", bytes: 8 },
};

interface _IdxHeader {
  dtype: IdxDtype;
  elementBytes: number;
  dims: number[];
  headerBytes: number;
}

function _parseHeader(bytes: Uint8Array, label: string): _IdxHeader {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataFormatError(
      `${label}: wrong IDX magic number ${_hex(bytes.subarray(0, 4))} ` +
        "(expected 00 00 <type> <dims>). Is this really an IDX file?",
    );
  }
  const type = _DTYPES[bytes[2]];
  if (!type) {
    throw new DataFormatError(
      `${label}: unknown IDX element type 0x${
        bytes[2].toString(16)
      } (known: 08 09 0b 0c 0d 0e).`,
    );
  }
  const ndim = bytes[3];
  if (ndim === 0) {
    throw new DataFormatError(`${label}: IDX header declares 0 dimensions.`);
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new DataFormatError(
      `${label}: truncated IDX header (${bytes.length} of ${headerBytes} bytes).`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
  const dims = Array.from(
    { length: ndim },
    (_, i) => view.getUint32(4 + 4 * i),
  );
  return {
    dtype: type.dtype,
    elementBytes: type.bytes,
    dims,
    headerBytes,
  };
}

/**
 * Parses uncompressed IDX bytes. Throws {@linkcode DataFormatError} on a wrong
 * magic number, an unknown type, or data shorter or longer than the header says.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { parseIdx } from "./idx.ts";
 * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]);
 * assert.deepEqual([...parseIdx(bytes).data], [7, 9]);
 * ```
 */
export function parseIdx(
  bytes: Uint8Array,
  options: ParseIdxOptions = {},
): IdxArray {
  const label = options.label ?? "IDX data";
  const header = _parseHeader(bytes, label);
  const { dims, elementBytes, headerBytes } = header;
  const inner = dims.slice(1).reduce((a, b) => a * b, 1);
  const declared = dims[0] * inner * elementBytes;
  const available = bytes.length - headerBytes;
  const limited = options.limit !== undefined && options.limit < dims[0];
  const outer = limited ? Math.max(0, Math.floor(options.limit!)) : dims[0];
  const needed = outer * inner * elementBytes;
  if (available < needed || (!limited && available !== declared)) {
    const what = available < needed ? "truncated" : "has trailing bytes";
    throw new DataFormatError(
      `${label}: IDX data ${what}: the header declares shape [${
        dims.join(", ")
      }] (${declared} bytes of ${header.dtype}) but ${available} bytes follow it. ` +
        "Delete the file and fetch it again.",
    );
  }
  const body = bytes.subarray(headerBytes, headerBytes + needed);
  const shape = [outer, ...dims.slice(1)];
  return { dtype: header.dtype, shape, data: _decode(header.dtype, body) };
}

function _decode(dtype: IdxDtype, body: Uint8Array): IdxData {
  if (dtype === "uint8") return body;
  if (dtype === "int8") {
    return new Int8Array(body.buffer, body.byteOffset, body.length);
  }
  // Multi-byte IDX elements are big-endian; decode into aligned native arrays.
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  switch (dtype) {
    case "int16":
      return Int16Array.from(
        { length: body.length / 2 },
        (_, i) => view.getInt16(2 * i),
      );
    case "int32":
      return Int32Array.from(
        { length: body.length / 4 },
        (_, i) => view.getInt32(4 * i),
      );
    case "float32":
      return Float32Array.from(
        { length: body.length / 4 },
        (_, i) => view.getFloat32(4 * i),
      );
    case "float64":
      return Float64Array.from(
        { length: body.length / 8 },
        (_, i) => view.getFloat64(8 * i),
      );
  }
}

/**
 * Decodes an IDX file that may be gzipped (as the official releases are).
 * With `limit`, only the needed prefix is decompressed.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { readIdx } from "./idx.ts";
 * const bytes = await Deno.readFile("data/mnist/train-images-idx3-ubyte.gz");
 * const first100 = await readIdx(bytes, { limit: 100 });
 * assert.deepEqual(first100.shape, [100, 28, 28]);
 * ```
 */
export async function readIdx(
  bytes: Uint8Array,
  options: ParseIdxOptions = {},
): Promise<IdxArray> {
  if (!_isGzip(bytes)) return parseIdx(bytes, options);
  const label = options.label ?? "IDX data";
  let maxBytes: number | undefined;
  if (options.limit !== undefined) {
    // Read the header first to know how many bytes `limit` entries take.
    const head = await _gunzip(bytes, { label, maxBytes: 4 + 4 * 255 });
    const header = _parseHeader(head, label);
    const inner = header.dims.slice(1).reduce((a, b) => a * b, 1);
    const outer = Math.min(header.dims[0], Math.max(0, options.limit));
    maxBytes = header.headerBytes + outer * inner * header.elementBytes;
  }
  return parseIdx(await _gunzip(bytes, { label, maxBytes }), options);
}
