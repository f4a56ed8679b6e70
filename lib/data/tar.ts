/**
 * Reads the members of a tar stream one by one, so a member of a large
 * `.tar.gz` (the official CIFAR-10 archive) is read without holding the whole
 * archive in memory. The tar format itself (ustar, GNU long names, pax
 * headers, header checksums, truncation) is parsed by modern-tar, a maintained
 * zero-dependency streaming tar library on web streams (`@std/tar`, Deno's own,
 * is on JSR, which these machines cannot reach); this module adapts its
 * entries to the data layer: a member is read once, whole or into a buffer
 * the caller preallocated, and every failure is a {@linkcode DataFormatError}
 * naming the archive.
 *
 * Archives must end with tar's end-of-archive blocks (GNU tar, Python's
 * `tarfile` and and this project's tests write them): an archive cut at a member
 * boundary counts as truncated.
 *
 * @example
 * ```ts ignore
 * import { readTarEntries } from "./tar.ts";
 * const file = await Deno.open("data/cifar10/cifar-10-binary.tar.gz");
 * const tar = file.readable.pipeThrough(new DecompressionStream("gzip"));
 * for await (const entry of readTarEntries(tar)) console.log(entry.name, entry.size);
 * ```
 *
 * @module
 */
import { createTarDecoder, type TarHeader } from "modern-tar";
import { _message } from "./_bytes.ts";
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

function _type(header: TarHeader): TarEntry["type"] {
  if (header.type === "file") return "file";
  if (header.type === "directory") return "directory";
  return "other";
}

/**
 * Iterates over the members of a tar stream. Throws
 * {@linkcode DataFormatError} on a corrupt header, a truncated archive or a
 * failing source stream (bad gzip data). Leaving the loop early cancels the
 * stream.
 *
 * @example
 * ```ts ignore
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
  const entries = stream.pipeThrough(createTarDecoder({ strict: true }))
    .getReader();
  // Where the next member's header starts (exact for plain ustar members;
  // pax and long-name headers add blocks the decoder does not report).
  let position = 0;
  const failure = (e: unknown): DataFormatError => {
    if (e instanceof DataFormatError) return e;
    const message = _message(e);
    if (/\btar header\b/i.test(message)) {
      return new DataFormatError(
        `${label}: corrupt tar header at byte ${position} (${message}). ` +
          "Delete the archive and fetch it again.",
      );
    }
    if (/\btar archive is truncated\b/i.test(message)) {
      return new DataFormatError(
        `${label}: truncated archive (after byte ${position}). ` +
          "Delete it and fetch it again.",
      );
    }
    return new DataFormatError(
      `${label}: cannot read the archive (${message}). ` +
        "It is corrupt or truncated: delete it and fetch it again.",
    );
  };
  try {
    while (true) {
      let next;
      try {
        next = await entries.read();
      } catch (e) {
        throw failure(e);
      }
      if (next.done) return;
      const { header, body } = next.value;
      const name = header.name;
      const size = header.size;
      let consumed = false;
      const take = () => {
        if (consumed) {
          throw new Error(`${label}:${name}: member data was already read.`);
        }
        consumed = true;
      };
      const readInto = async (target: Uint8Array, offset: number) => {
        let at = offset;
        try {
          for await (const chunk of body) {
            if (at + chunk.length > offset + size) {
              throw new DataFormatError(
                `${label}:${name}: member holds more than its ${size} bytes.`,
              );
            }
            target.set(chunk, at);
            at += chunk.length;
          }
        } catch (e) {
          throw failure(e);
        }
        if (at - offset < size) {
          throw new DataFormatError(
            `${label}: truncated archive (${name} ended after ${
              at - offset
            } of ${size} bytes). Delete it and fetch it again.`,
          );
        }
      };
      yield {
        name,
        size,
        type: _type(header),
        async bytes() {
          take();
          const out = new Uint8Array(size);
          await readInto(out, 0);
          return out;
        },
        async readInto(target: Uint8Array, offset = 0) {
          take();
          if (offset + size > target.length) {
            throw new RangeError(
              `${label}:${name}: ${size} bytes do not fit at offset ${offset}.`,
            );
          }
          await readInto(target, offset);
        },
      };
      if (!consumed) {
        consumed = true;
        try {
          await body.cancel();
        } catch (e) {
          throw failure(e);
        }
      }
      position += _BLOCK + Math.ceil(size / _BLOCK) * _BLOCK;
    }
  } finally {
    await entries.cancel().catch(() => {});
  }
}
