/**
 * Parser of NumPy's `.npy` format: a magic string, a version, a header (a
 * Python dict literal with `descr`, `fortran_order` and `shape`), then the raw
 * elements.
 *
 * @example
 * ```ts ignore
 * import { parseNpy } from "./npy.ts";
 * const bytes = await Deno.readFile("labels.npy");
 * const array = parseNpy(bytes, { label: "labels.npy" });
 * console.log(array.dtype, array.shape);
 * ```
 *
 * @module
 */
import { _hex } from "./_bytes.ts";
import { DataFormatError } from "./errors.ts";

/** Element types the parser understands (NumPy names). */
export type NpyDtype =
  | "bool"
  | "uint8"
  | "int8"
  | "uint16"
  | "int16"
  | "uint32"
  | "int32"
  | "uint64"
  | "int64"
  | "float32"
  | "float64";

/** Typed arrays a `.npy` file can decode to. */
export type NpyData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** A decoded `.npy` array, always in C (row-major) order. */
export interface NpyArray {
  /** NumPy element type. */
  dtype: NpyDtype;
  /** Shape, outermost first. */
  shape: number[];
  /** Elements in row-major order (Fortran-order files are reordered). */
  data: NpyData;
  /** Whether the file stored the data in Fortran (column-major) order. */
  fortranOrder: boolean;
}

/** Options of {@linkcode parseNpy}. */
export interface ParseNpyOptions {
  /** Name of the array, for error messages. Default: "npy data". */
  label?: string;
}

type _Ctor = {
  new (length: number): NpyData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NpyData;
  BYTES_PER_ELEMENT: number;
};

const _KINDS: Record<string, { dtype: NpyDtype; ctor: _Ctor }> = {
  b1: { dtype: "bool", ctor: Uint8Array },
  u1: { dtype: "uint8", ctor: Uint8Array },
  i1: { dtype: "int8", ctor: Int8Array },
  u2: { dtype: "uint16", ctor: Uint16Array },
  i2: { dtype: "int16", ctor: Int16Array },
  u4: { dtype: "uint32", ctor: Uint32Array },
  i4: { dtype: "int32", ctor: Int32Array },
  u8: { dtype: "uint64", ctor: BigUint64Array },
  i8: { dtype: "int64", ctor: BigInt64Array },
  f4: { dtype: "float32", ctor: Float32Array },
  f8: { dtype: "float64", ctor: Float64Array },
};

const _MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/**
 * Parses a `.npy` file. Throws {@linkcode DataFormatError} on a wrong magic
 * string, an unsupported dtype, or too little or too much data.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { parseNpy } from "./npy.ts";
 * const header = "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }";
 * const padded = header.padEnd(118, " ") + "\n";
 * const bytes = new Uint8Array([
 *   0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length, 0,
 *   ...new TextEncoder().encode(padded), 4, 2,
 * ]);
 * assert.deepEqual([...parseNpy(bytes).data], [4, 2]);
 * ```
 */
export function parseNpy(
  bytes: Uint8Array,
  options: ParseNpyOptions = {},
): NpyArray {
  const label = options.label ?? "npy data";
  if (bytes.length < 10 || _MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new DataFormatError(
      `${label}: not a .npy array (starts with ${
        _hex(bytes.subarray(0, 6))
      }, expected 93 4e 55 4d 50 59 = "\\x93NUMPY").`,
    );
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) {
      throw new DataFormatError(`${label}: truncated .npy header.`);
    }
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new DataFormatError(`${label}: unsupported .npy version ${major}.`);
  }
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) {
    throw new DataFormatError(
      `${label}: truncated .npy header (${bytes.length} of ${dataStart} bytes).`,
    );
  }
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(headerStart, dataStart),
  );
  const descr = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeText) {
    throw new DataFormatError(
      `${label}: unreadable .npy header ${JSON.stringify(header.trim())}.`,
    );
  }
  const kind = _KINDS[descr[2]];
  if (!kind) {
    throw new DataFormatError(
      `${label}: unsupported dtype '${descr[1]}${descr[2]}' (supported: ${
        Object.keys(_KINDS).join(", ")
      }).`,
    );
  }
  const shape = shapeText[1].split(",").map((s) => s.trim()).filter((s) =>
    s !== ""
  ).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new DataFormatError(`${label}: bad shape (${shapeText[1]}).`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const size = kind.ctor.BYTES_PER_ELEMENT;
  const available = bytes.length - dataStart;
  if (available !== count * size) {
    throw new DataFormatError(
      `${label}: .npy data ${
        available < count * size ? "truncated" : "has trailing bytes"
      }: shape [${shape.join(", ")}] of ${kind.dtype} needs ${
        count * size
      } bytes, ${available} follow the header.`,
    );
  }
  const body = bytes.subarray(dataStart);
  const bigEndian = descr[1] === ">" && size > 1;
  let data = _decode(kind.ctor, body, count, bigEndian);
  const fortranOrder = fortran[1] === "True";
  if (fortranOrder && shape.length > 1) data = _fortranToC(data, shape);
  return { dtype: kind.dtype, shape, data, fortranOrder };
}

function _decode(
  ctor: _Ctor,
  body: Uint8Array,
  count: number,
  bigEndian: boolean,
): NpyData {
  const size = ctor.BYTES_PER_ELEMENT;
  if (!bigEndian) {
    // A typed array view needs an aligned offset; copy only when it is not.
    const aligned = body.byteOffset % size === 0 ? body : body.slice();
    return new ctor(aligned.buffer, aligned.byteOffset, count);
  }
  const swapped = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) {
    for (let b = 0; b < size; b++) {
      swapped[i * size + b] = body[i * size + size - 1 - b];
    }
  }
  return new ctor(swapped.buffer, 0, count);
}

/** Reorders column-major data into row-major order. */
function _fortranToC(data: NpyData, shape: number[]): NpyData {
  const ctor = data.constructor as _Ctor;
  const out = new ctor(data.length);
  const ndim = shape.length;
  // Fortran strides: the first index varies fastest.
  const strides = new Array<number>(ndim);
  let stride = 1;
  for (let d = 0; d < ndim; d++) {
    strides[d] = stride;
    stride *= shape[d];
  }
  const index = new Array<number>(ndim).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0;
    for (let d = 0; d < ndim; d++) f += index[d] * strides[d];
    (out as Uint8Array)[c] = (data as Uint8Array)[f];
    // Advance the row-major multi-index: the last index varies fastest.
    for (let d = ndim - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}
