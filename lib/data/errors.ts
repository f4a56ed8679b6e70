/**
 * Error classes of the data layer, so notebooks and scripts can tell "this
 * file cannot be had here" (fall back to something else) from "this file is
 * wrong" (stop and fix it).
 *
 * @example
 * ```ts
 * import { DataUnavailableError } from "./errors.ts";
 * import { loadSplit } from "./load.ts";
 * try {
 *   await loadSplit("kannada-mnist", "train");
 * } catch (e) {
 *   if (!(e instanceof DataUnavailableError)) throw e;
 *   console.log("training images unavailable:", e.file);
 * }
 * ```
 *
 * @module
 */

/**
 * A file could not be obtained from the cache, the mirror or the network
 * (typically: offline, and the mirror lacks it). The message says where the
 * file can be placed by hand.
 *
 * @example
 * ```ts
 * import { DataUnavailableError } from "./errors.ts";
 * const e = new DataUnavailableError("x.npz", "not available offline", []);
 * console.log(e instanceof Error, e.file); // true "x.npz"
 * ```
 */
export class DataUnavailableError extends Error {
  /** Name of the file that is missing. */
  readonly file: string;
  /**
   * One line per attempt and why it failed. Not enumerable: the message
   * already lists the sources, and printing the error (`console.log`, a
   * notebook's error output) would list them a second time.
   */
  declare readonly attempts: readonly string[];

  /** Makes the error; `message` should say what to do. */
  constructor(file: string, message: string, attempts: readonly string[]) {
    super(message);
    this.name = "DataUnavailableError";
    this.file = file;
    Object.defineProperty(this, "attempts", {
      value: attempts,
      enumerable: false,
    });
  }
}

/**
 * A verified file could not be written into the cache (a read-only or full
 * disk, missing permissions): a problem of this machine, not of the data.
 *
 * @example
 * ```ts
 * import { CacheWriteError } from "./errors.ts";
 * const e = new CacheWriteError("/data/mnist/x.gz", new Error("Permission denied"));
 * console.log(e.message);
 * ```
 */
export class CacheWriteError extends Error {
  /** The path that could not be written. */
  readonly path: string;

  /** Makes the error from the path and the underlying failure. */
  constructor(path: string, cause: unknown) {
    super(
      `cannot write ${path} (${
        cause instanceof Error ? cause.message : String(cause)
      }): make the cache folder writable, or set CNN_DATA_DIR (--dir) to a ` +
        "writable folder",
    );
    this.name = "CacheWriteError";
    this.path = path;
  }
}

/**
 * A file's size or checksum differs from the registry's: it is truncated,
 * corrupted or a different file, and was not used.
 *
 * @example
 * ```ts
 * import { ChecksumMismatchError } from "./errors.ts";
 * const e = new ChecksumMismatchError("a.gz", "sha256 00…", "sha256 ff…", "delete it");
 * console.log(e.expected, e.actual);
 * ```
 */
export class ChecksumMismatchError extends Error {
  /** Path or name of the file that failed verification. */
  readonly file: string;
  /** The expected size and checksum, as text. */
  readonly expected: string;
  /** The actual size and checksum, as text. */
  readonly actual: string;

  /** Makes the error; `advice` says what to do about it. */
  constructor(file: string, expected: string, actual: string, advice: string) {
    super(
      `${file} failed verification: expected ${expected}, got ${actual}. ` +
        advice,
    );
    this.name = "ChecksumMismatchError";
    this.file = file;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * A file's contents do not follow its format (wrong magic number, truncated
 * data, an unsupported dtype...).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { DataFormatError } from "./errors.ts";
 * assert.throws(() => {
 *   throw new DataFormatError("labels.gz: wrong IDX magic number 0x1234");
 * }, { name: "DataFormatError" });
 * ```
 */
export class DataFormatError extends Error {
  /** Makes the error; the message names the file and what was wrong. */
  constructor(message: string) {
    super(message);
    this.name = "DataFormatError";
  }
}
