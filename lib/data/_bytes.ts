/**
 * Private byte helpers: gzip decompression through the platform's
 * `DecompressionStream` (no library needed: Deno ships it), reading a stream
 * into one preallocated buffer (the IDX reader stops decompressing once it
 * has the images a limit asks for), and short error texts. The zip and tar
 * containers are read by fflate and modern-tar (`npz.ts`, `tar.ts`).
 *
 * @module
 */
import { DataFormatError } from "./errors.ts";

/** Options of {@linkcode _readStream}. */
export interface _ReadStreamOptions {
  /** Expected total size, to allocate once. Default: grow as needed. */
  sizeHint?: number;
  /** Stop (and cancel the stream) after this many bytes. Default: read all. */
  maxBytes?: number;
}

/** Reads a byte stream into one buffer, growing it only when the hint was short. */
export async function _readStream(
  stream: ReadableStream<Uint8Array>,
  options: _ReadStreamOptions = {},
): Promise<Uint8Array> {
  const max = options.maxBytes ?? Infinity;
  let buffer = new Uint8Array(
    Math.min(max, Math.max(options.sizeHint ?? 1 << 16, 1)),
  );
  let length = 0;
  const reader = stream.getReader();
  try {
    while (length < max) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, max - length);
      if (length + take > buffer.length) {
        const grown = new Uint8Array(
          Math.min(max, Math.max(buffer.length * 2, length + take)),
        );
        grown.set(buffer.subarray(0, length));
        buffer = grown;
      }
      buffer.set(value.subarray(0, take), length);
      length += take;
    }
    if (length >= max) await reader.cancel();
  } finally {
    reader.releaseLock();
  }
  // A view keeps the whole buffer alive; copy only if much of it is unused.
  return length * 2 < buffer.length
    ? buffer.slice(0, length)
    : buffer.subarray(0, length);
}

function _streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      // Hand the data over in 1 MiB chunks so decompression can start early.
      const chunk = 1 << 20;
      for (let i = 0; i < bytes.length; i += chunk) {
        controller.enqueue(
          bytes.subarray(i, Math.min(bytes.length, i + chunk)),
        );
      }
      controller.close();
    },
  });
}

/** The platform's decompressor, typed for byte streams. */
export function _decompressor(
  format: "gzip" | "deflate-raw",
): TransformStream<Uint8Array, Uint8Array> {
  // DecompressionStream is declared over BufferSource; Uint8Array chunks are fine.
  return new DecompressionStream(format) as unknown as TransformStream<
    Uint8Array,
    Uint8Array
  >;
}

/** Whether bytes start with the gzip magic number. */
export function _isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Options of {@linkcode _gunzip}. */
export interface _GunzipOptions {
  /** Name used in error messages. Default: "data". */
  label?: string;
  /** Stop after this many decompressed bytes. Default: decompress all. */
  maxBytes?: number;
}

/**
 * Decompresses a gzip file with the platform's `DecompressionStream`, into a
 * buffer sized from the gzip trailer so the data is not copied again.
 */
export async function _gunzip(
  bytes: Uint8Array,
  options: _GunzipOptions = {},
): Promise<Uint8Array> {
  const label = options.label ?? "data";
  if (!_isGzip(bytes)) {
    throw new DataFormatError(
      `${label}: not a gzip file (starts with ${
        _hex(bytes.subarray(0, 4))
      }). ` +
        "Delete it and fetch it again.",
    );
  }
  // ISIZE: uncompressed size mod 2^32 of the last member, a good first guess.
  const sizeHint = bytes.length >= 18
    ? new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4)
      .getUint32(0, true)
    : undefined;
  try {
    return await _readStream(
      _streamOf(bytes).pipeThrough(_decompressor("gzip")),
      { sizeHint, maxBytes: options.maxBytes },
    );
  } catch (e) {
    throw new DataFormatError(
      `${label}: corrupt or truncated gzip data (${_message(e)}). ` +
        "Delete the file and fetch it again.",
    );
  }
}

/** Hex of a few bytes, for error messages. */
export function _hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ") ||
    "(nothing)";
}

/** The message of anything thrown. */
export function _message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
