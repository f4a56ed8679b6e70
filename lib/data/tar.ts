/**
 * A streaming reader of tar archives (ustar, with GNU long names and pax
 * paths), so a member of a large `.tar.gz` can be read without holding the
 * whole archive in memory.
 *
 * @example
 * ```ts
 * import { readTarEntries } from "./tar.ts";
 * const file = await Deno.open("data/cifar10/cifar-10-binary.tar.gz");
 * const tar = file.readable.pipeThrough(new DecompressionStream("gzip"));
 * for await (const entry of readTarEntries(tar)) console.log(entry.name, entry.size);
 * ```
 *
 * @module
 */
import { _message, _StreamReader } from "./_bytes.ts";
import { DataFormatError } from "./errors.ts";

/** One member of a tar archive, readable while the iteration is on it. */
export interface TarEntry {
  /** Path inside the archive. */
  name: string;
  /** Size of the member's data in bytes. */
  size: number;
  /** "file", "directory", or "other" (links, devices...). */
  type: "file" | "directory" | "other";
  /** Reads the whole member (only before the iteration moves on). */
  bytes(): Promise<Uint8Array>;
  /** Streams the member into `target` at `offset` (only before moving on). */
  readInto(target: Uint8Array, offset?: number): Promise<void>;
}

/** Options of {@linkcode readTarEntries}. */
export interface ReadTarOptions {
  /** Name of the archive, for error messages. Default: "tar archive". */
  label?: string;
}

const _BLOCK = 512;

function _text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
}

function _octal(block: Uint8Array, start: number, length: number): number {
  if (block[start] & 0x80) {
    // GNU base-256 encoding for sizes of 8 GiB and more.
    let value = block[start] & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + block[start + i];
    return value;
  }
  const text = _text(block, start, length).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function _checksumOk(block: Uint8Array): boolean {
  const stored = _octal(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < _BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** Turns a failure of the underlying stream (bad gzip data) into a clear error. */
async function _wrap<T>(label: string, promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (e) {
    throw new DataFormatError(
      `${label}: cannot read the archive (${_message(e)}). ` +
        "It is corrupt or truncated: delete it and fetch it again.",
    );
  }
}

/**
 * Iterates over the members of a tar stream. Throws
 * {@linkcode DataFormatError} on a corrupt header or a truncated archive.
 * Leaving the loop early cancels the stream.
 *
 * @example
 * ```ts
 * import { readTarEntries } from "./tar.ts";
 * const tar = (await Deno.open("batches.tar")).readable;
 * for await (const entry of readTarEntries(tar, { label: "batches.tar" })) {
 *   if (entry.name.endsWith("test_batch.bin")) {
 *     console.log((await entry.bytes()).length);
 *     break;
 *   }
 * }
 * ```
 */
export async function* readTarEntries(
  stream: ReadableStream<Uint8Array>,
  options: ReadTarOptions = {},
): AsyncGenerator<TarEntry> {
  const label = options.label ?? "tar archive";
  const reader = new _StreamReader(stream);
  const header = new Uint8Array(_BLOCK);
  let longName: string | undefined;
  const truncated = () =>
    new DataFormatError(
      `${label}: truncated archive (ended at byte ${reader.position}). ` +
        "Delete it and fetch it again.",
    );
  const read = async (target: Uint8Array, offset: number, length: number) => {
    if (await _wrap(label, reader.readInto(target, offset, length)) < length) {
      throw truncated();
    }
  };
  try {
    while (true) {
      const got = await _wrap(label, reader.readInto(header, 0, _BLOCK));
      if (got === 0) return; // End of stream without end-of-archive blocks.
      if (got < _BLOCK) {
        throw new DataFormatError(
          `${label}: truncated archive (partial header at byte ${
            reader.position - got
          }).`,
        );
      }
      if (header.every((b) => b === 0)) return; // End-of-archive marker.
      if (!_checksumOk(header)) {
        throw new DataFormatError(
          `${label}: corrupt tar header at byte ${
            reader.position - _BLOCK
          } (checksum mismatch). Delete the archive and fetch it again.`,
        );
      }
      const size = _octal(header, 124, 12);
      const flag = String.fromCharCode(header[156] || 0x30);
      let name = _text(header, 0, 100);
      if (_text(header, 257, 5) === "ustar") {
        const prefix = _text(header, 345, 155);
        if (prefix) name = `${prefix}/${name}`;
      }
      const padding = (_BLOCK - (size % _BLOCK)) % _BLOCK;
      if (flag === "L" || flag === "x" || flag === "g") {
        const body = new Uint8Array(size);
        await read(body, 0, size);
        await _wrap(label, reader.skip(padding));
        const text = new TextDecoder().decode(body);
        if (flag === "L") longName = text.replace(/\0+$/, "");
        if (flag === "x") {
          const path = /\d+ path=([^\n]*)\n/.exec(text);
          if (path) longName = path[1];
        }
        continue;
      }
      if (longName !== undefined) {
        name = longName;
        longName = undefined;
      }
      let consumed = false;
      const take = () => {
        if (consumed) {
          throw new Error(`${label}:${name}: member data was already read.`);
        }
        consumed = true;
      };
      yield {
        name,
        size,
        type: flag === "0" || flag === "7"
          ? "file"
          : flag === "5"
          ? "directory"
          : "other",
        async bytes() {
          take();
          const body = new Uint8Array(size);
          await read(body, 0, size);
          return body;
        },
        async readInto(target: Uint8Array, offset = 0) {
          take();
          if (offset + size > target.length) {
            throw new RangeError(
              `${label}:${name}: ${size} bytes do not fit at offset ${offset}.`,
            );
          }
          await read(target, offset, size);
        },
      };
      if (!consumed) {
        if (await _wrap(label, reader.skip(size)) < size) throw truncated();
      }
      if (await _wrap(label, reader.skip(padding)) < padding) throw truncated();
    }
  } finally {
    await reader.cancel();
  }
}
