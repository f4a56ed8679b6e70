/**
 * Obtains the registry's files: from the cache if already verified, else from
 * a local mirror folder, else from the network (streamed, with progress and
 * retries). Data lands in a temporary file that is renamed into the cache only
 * after its size and checksum match, so a truncated or wrong file is never used
 * and never left looking valid.
 *
 * Where to look is an option of every function here (`dataDir`, `mirror`,
 * `offline`), never read from the environment: the CLIs and notebooks parse
 * `CNN_DATA_DIR`, `CNN_DATA_MIRROR` and `CNN_DATA_OFFLINE` once, with
 * `runConfigFromEnv()` (`lib/config.ts`), and pass `config.data` on.
 *
 * @example
 * ```ts
 * import { fetchFile } from "./fetch.ts";
 * import { DATASETS } from "./registry.ts";
 * const result = await fetchFile(DATASETS.mnist.files[0], { mirror: "../shared/datasets" });
 * console.log(result.path, result.source);
 * ```
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { _hasherFor, _hashFile } from "./_hash.ts";
import { _message } from "./_bytes.ts";
import { ownerFromTag, ownerTag, processAlive } from "../_process.ts";
import {
  type DownloadProgress,
  downloadProgress as _stderrProgress,
  type ProgressCallback,
} from "../_progress.ts";
import {
  CacheWriteError,
  ChecksumMismatchError,
  DataUnavailableError,
} from "./errors.ts";
import type { DataFile } from "./registry.ts";

export type { DownloadProgress, ProgressCallback };

/** Where files are looked for and stored; shared by every data function. */
export interface DataLocationOptions {
  /** Cache folder. Default: `data/` at the project root. */
  dataDir?: string;
  /**
   * Local mirror folder, tried before the network; `null` disables it.
   * Default: none.
   */
  mirror?: string | null;
}

/** Options of {@linkcode fetchFile}. */
export interface FetchFileOptions extends DataLocationOptions {
  /** Never use the network. Default: false. */
  offline?: boolean;
  /** Attempts per URL on transient failures (network errors, 5xx, cut transfers). Default: 3. */
  attempts?: number;
  /** Wait before the first retry, doubled on each further one, in ms. Default: 500. */
  retryDelayMs?: number;
  /** Give up on a transfer that receives nothing for this long, in ms. Default: 60000. */
  idleTimeoutMs?: number;
  /** Progress display: true = stderr, false = none, or a callback. Default: true. */
  progress?: boolean | ProgressCallback;
}

/** Where {@linkcode fetchFile} found a file. */
export interface FetchResult {
  /** Path of the verified file in the cache. */
  path: string;
  /** "cache" (already there), "mirror" (copied), or "network" (downloaded). */
  source: "cache" | "mirror" | "network";
  /** The mirror path or URL it came from (the cache path for "cache"). */
  from: string;
}

/**
 * The cache folder in use: the option (relative to the working directory),
 * else `data/` at the project root. (`CNN_DATA_DIR` reaches it through
 * `runConfigFromEnv().data` in `lib/config.ts`.)
 *
 * @example
 * ```ts
 * import { resolveDataDir } from "./fetch.ts";
 * console.log(resolveDataDir()); // e.g. /home/me/cnn/data
 * ```
 */
export function resolveDataDir(options: DataLocationOptions = {}): string {
  if (options.dataDir) return resolve(options.dataDir);
  const here = new URL("../../data", import.meta.url);
  return here.protocol === "file:"
    ? fileURLToPath(here)
    : resolve(Deno.cwd(), "data");
}

/**
 * The mirror folder in use, or undefined: the option (relative to the
 * working directory; `null` or unset = none). (`CNN_DATA_MIRROR` reaches it
 * through `runConfigFromEnv().data` in `lib/config.ts`.)
 *
 * @example
 * ```ts
 * import { resolveMirror } from "./fetch.ts";
 * console.log(resolveMirror({ mirror: "../shared/datasets" }));
 * ```
 */
export function resolveMirror(
  options: DataLocationOptions = {},
): string | undefined {
  return options.mirror ? resolve(options.mirror) : undefined;
}

/**
 * Where a registry file lives in the cache: `<dataDir>/<dataset>/<name>`.
 *
 * @example
 * ```ts
 * import { cachePath } from "./fetch.ts";
 * import { DATASETS } from "./registry.ts";
 * console.log(cachePath(DATASETS.cifar10.files[0]));
 * ```
 */
export function cachePath(
  file: DataFile,
  options: DataLocationOptions = {},
): string {
  return join(resolveDataDir(options), file.dataset, file.name);
}

/** Describes the expected size and checksum of a file. */
function _expected(file: DataFile): string {
  const sum = file.sha256
    ? `sha256 ${file.sha256}`
    : `git blob sha1 ${file.gitBlobSha1}`;
  return `${file.size} bytes, ${sum}`;
}

interface _Stamp {
  size: number;
  mtimeMs: number;
  digest: string;
}

async function _stat(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

async function _remove(path: string): Promise<void> {
  await Deno.remove(path).catch(() => {});
}

/** The state of a file in the cache, from {@linkcode checkCachedFile}. */
export interface CachedFileStatus {
  /** "verified", "missing", or "corrupt" (wrong size or checksum). */
  state: "verified" | "missing" | "corrupt";
  /** Cache path. */
  path: string;
  /** What is wrong, for "corrupt". */
  problem?: string;
  /** Actual size and checksum, for "corrupt". */
  actual?: string;
}

/** Options of {@linkcode checkCachedFile}. */
export interface CheckCachedFileOptions extends DataLocationOptions {
  /**
   * Hash the file even when its `.verified` stamp vouches for it (what
   * `deno task data --verify` does). Default: false.
   */
  rehash?: boolean;
}

/**
 * Checks a cached file against the registry. A small `<file>.verified` stamp
 * records size, mtime and digest so an unchanged file is not re-hashed; a file
 * whose size or mtime changed is always hashed again. A file that exists but
 * cannot be read is "corrupt", never "missing". When the stamp cannot be
 * written (a read-only cache) a warning is printed and the file still counts
 * as verified.
 *
 * @example
 * ```ts
 * import { checkCachedFile } from "./fetch.ts";
 * import { DATASETS } from "./registry.ts";
 * const status = await checkCachedFile(DATASETS.mnist.files[0]);
 * console.log(status.state); // "verified" | "missing" | "corrupt"
 * ```
 */
export async function checkCachedFile(
  file: DataFile,
  options: CheckCachedFileOptions = {},
): Promise<CachedFileStatus> {
  const path = cachePath(file, options);
  let info: Deno.FileInfo | undefined;
  try {
    info = await _stat(path);
  } catch (e) {
    // A file where a folder of the path belongs: this file cannot be there.
    if (e instanceof Deno.errors.NotADirectory) {
      return { state: "missing", path };
    }
    return {
      state: "corrupt",
      path,
      problem: `unreadable: ${_message(e)}`,
      actual: "unreadable",
    };
  }
  if (!info) return { state: "missing", path };
  const hasher = _hasherFor(file);
  if (info.size !== file.size) {
    return {
      state: "corrupt",
      path,
      problem: `${info.size} bytes instead of ${file.size}`,
      actual: `${info.size} bytes`,
    };
  }
  const mtimeMs = info.mtime?.getTime() ?? 0;
  if (!options.rehash) {
    try {
      const stamp: _Stamp = JSON.parse(
        await Deno.readTextFile(`${path}.verified`),
      );
      if (
        stamp.size === info.size && stamp.mtimeMs === mtimeMs &&
        stamp.digest === hasher.expected
      ) {
        return { state: "verified", path };
      }
    } catch {
      // No stamp or an unreadable one: hash the file.
    }
  }
  let digest: string;
  let size: number;
  try {
    ({ digest, size } = await _hashFile(path, hasher));
  } catch (e) {
    // It is there but cannot be read (permissions, a folder): not "missing".
    return {
      state: "corrupt",
      path,
      problem: `unreadable: ${_message(e)}`,
      actual: "unreadable",
    };
  }
  if (digest !== hasher.expected || size !== file.size) {
    await _remove(`${path}.verified`);
    return {
      state: "corrupt",
      path,
      problem: `${hasher.kind} mismatch`,
      actual: `${size} bytes, ${hasher.kind} ${digest}`,
    };
  }
  await _writeStamp(path, digest);
  return { state: "verified", path };
}

// The stamp only saves re-hashing next time: failing to write it (a
// read-only cache) is worth a warning, not an error.
async function _writeStamp(path: string, digest: string): Promise<void> {
  try {
    const info = await Deno.stat(path);
    const stamp: _Stamp = {
      size: info.size,
      mtimeMs: info.mtime?.getTime() ?? 0,
      digest,
    };
    await Deno.writeTextFile(
      `${path}.verified`,
      JSON.stringify(stamp) + "\n",
    );
  } catch (e) {
    console.warn(
      `warning: could not write ${path}.verified (${
        _message(e)
      }); the file is verified but will be hashed again next time`,
    );
  }
}

/** Untagged download leftovers (older versions) older than this are orphans. */
const _ORPHAN_AGE_MS = 10 * 60 * 1000;

/** `<file>.<pid>-<start>.<random>.tmp`: a download in progress, tagged with its writer. */
const _TAGGED_TMP = /\.(\d+-\d+)\.[0-9a-f]{8}\.tmp$/;

// A temporary file names its writer (PID and start time): one whose writer
// is gone is removed at once, a live writer's (another run fetching the same
// file) is kept. Untagged ones, written by older versions, are removed once
// untouched for 10 minutes (a live transfer writes at least every idle
// timeout, 60 s by default).
async function _removeOrphanedDownloads(dest: string): Promise<void> {
  const folder = dirname(dest);
  const prefix = `${dest.slice(folder.length + 1)}.`;
  try {
    for await (const entry of Deno.readDir(folder)) {
      if (!entry.isFile || !entry.name.startsWith(prefix)) continue;
      const path = join(folder, entry.name);
      const tagged = _TAGGED_TMP.exec(entry.name);
      if (
        tagged && entry.name.length === prefix.length + tagged[0].length - 1
      ) {
        const owner = ownerFromTag(tagged[1]);
        if (owner && !processAlive(owner)) await Deno.remove(path);
        continue;
      }
      if (!/^\.[0-9a-f]{8}\.tmp$/.test(entry.name.slice(prefix.length - 1))) {
        continue;
      }
      const info = await Deno.stat(path);
      const age = Date.now() - (info.mtime?.getTime() ?? 0);
      if (age > _ORPHAN_AGE_MS) await Deno.remove(path);
    }
  } catch {
    // No folder yet, or a read-only cache: nothing to clean.
  }
}

/** A failed attempt; `transient` ones are retried. */
class _AttemptError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly actual?: string,
  ) {
    super(message);
  }
}

/** Writes a stream to `tmp` while hashing; checks size and checksum. */
async function _saveVerified(
  stream: ReadableStream<Uint8Array>,
  file: DataFile,
  tmp: string,
  onBytes: (received: number) => void,
): Promise<void> {
  const hasher = _hasherFor(file);
  let out: Deno.FsFile;
  try {
    out = await Deno.open(tmp, { write: true, create: true, truncate: true });
  } catch (e) {
    await stream.cancel().catch(() => {});
    throw new CacheWriteError(tmp, e);
  }
  let received = 0;
  try {
    for await (const chunk of stream) {
      received += chunk.length;
      if (received > file.size) {
        throw new _AttemptError(
          `more than the expected ${file.size} bytes: a different file`,
          false,
          `more than ${file.size} bytes`,
        );
      }
      hasher.update(chunk);
      try {
        for (let done = 0; done < chunk.length;) {
          done += await out.write(chunk.subarray(done));
        }
      } catch (e) {
        throw new CacheWriteError(tmp, e);
      }
      onBytes(received);
    }
  } catch (e) {
    if (e instanceof _AttemptError || e instanceof CacheWriteError) throw e;
    throw new _AttemptError(
      `transfer interrupted after ${received} of ${file.size} bytes (${
        _message(e)
      })`,
      true,
    );
  } finally {
    out.close();
  }
  if (received < file.size) {
    throw new _AttemptError(
      `transfer ended after ${received} of ${file.size} bytes (truncated)`,
      true,
      `${received} bytes (truncated)`,
    );
  }
  const digest = hasher.digest();
  if (digest !== hasher.expected) {
    throw new _AttemptError(
      `${hasher.kind} mismatch: got ${digest}`,
      false,
      `${received} bytes, ${hasher.kind} ${digest}`,
    );
  }
}

async function _download(
  url: string,
  file: DataFile,
  tmp: string,
  options: FetchFileOptions,
  progress: ProgressCallback | undefined,
): Promise<void> {
  const controller = new AbortController();
  const idle = options.idleTimeoutMs ?? 60000;
  let timer = setTimeout(() => controller.abort(), idle);
  const report = (received: number, done: boolean) =>
    progress?.({ file: file.name, url, received, total: file.size, done });
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal });
    } catch (e) {
      throw new _AttemptError(`cannot connect (${_message(e)})`, true);
    }
    if (!response.ok) {
      await response.body?.cancel();
      const s = response.status;
      throw new _AttemptError(
        `HTTP ${s} ${response.statusText}`,
        s >= 500 || s === 408 || s === 429,
      );
    }
    if (!response.body) throw new _AttemptError("empty response", true);
    report(0, false);
    try {
      await _saveVerified(response.body, file, tmp, (received) => {
        clearTimeout(timer);
        timer = setTimeout(() => controller.abort(), idle);
        report(received, false);
      });
    } finally {
      const info = await _stat(tmp);
      report(info?.size ?? 0, true);
    }
  } finally {
    clearTimeout(timer);
  }
}

const _inFlight = new Map<string, Promise<FetchResult>>();

/**
 * Makes sure a verified copy of a registry file is in the cache and returns
 * its path: the cache if it verifies, else the mirror, else the URLs (each
 * retried on transient failures). Throws {@linkcode DataUnavailableError} when
 * no source has the file (its message says where to put it by hand) and
 * {@linkcode ChecksumMismatchError} when the only copies found are wrong.
 *
 * @example
 * ```ts ignore
 * import { fetchFile } from "./fetch.ts";
 * import { DATASETS } from "./registry.ts";
 * for (const file of DATASETS.mnist.files) {
 *   console.log((await fetchFile(file)).source);
 * }
 * ```
 */
export function fetchFile(
  file: DataFile,
  options: FetchFileOptions = {},
): Promise<FetchResult> {
  const dest = cachePath(file, options);
  // Loads of several splits may ask for the same file at once: fetch it once.
  let pending = _inFlight.get(dest);
  if (!pending) {
    pending = _fetchFile(file, dest, options).finally(() =>
      _inFlight.delete(dest)
    );
    _inFlight.set(dest, pending);
  }
  return pending;
}

async function _fetchFile(
  file: DataFile,
  dest: string,
  options: FetchFileOptions,
): Promise<FetchResult> {
  const attempts: string[] = [];
  let mismatch: { from: string; actual: string } | undefined;
  await _removeOrphanedDownloads(dest);
  const cached = await checkCachedFile(file, options);
  if (cached.state === "verified") {
    return { path: dest, source: "cache", from: dest };
  }
  if (cached.state === "corrupt") {
    // Never leave a bad file where a good one is expected; keep it for inspection.
    try {
      await Deno.rename(dest, `${dest}.corrupt`);
    } catch (e) {
      throw new ChecksumMismatchError(
        dest,
        _expected(file),
        cached.actual ?? "",
        `(${cached.problem}). It could not be moved aside (${
          _message(e)
        }): delete or replace it by hand.`,
      );
    }
    attempts.push(
      `cache ${dest}: ${cached.problem} (moved to ${dest}.corrupt)`,
    );
    mismatch = { from: dest, actual: cached.actual ?? "" };
  }
  try {
    await Deno.mkdir(dirname(dest), { recursive: true });
  } catch (e) {
    throw new CacheWriteError(dirname(dest), e);
  }
  const tmp = `${dest}.${ownerTag()}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const commit = async () => {
    try {
      await Deno.rename(tmp, dest);
    } catch (e) {
      throw new CacheWriteError(dest, e);
    }
    await _writeStamp(dest, _hasherFor(file).expected);
  };
  try {
    const mirror = resolveMirror(options);
    if (mirror) {
      const candidates = [join(mirror, file.dataset, file.name)];
      candidates.push(join(mirror, file.name));
      let found = false;
      for (const path of candidates) {
        const info = await _stat(path);
        if (!info?.isFile) continue;
        found = true;
        try {
          const source = await Deno.open(path, { read: true });
          await _saveVerified(source.readable, file, tmp, () => {});
          await commit();
          return { path: dest, source: "mirror", from: path };
        } catch (e) {
          if (e instanceof CacheWriteError) throw e;
          attempts.push(`mirror ${path}: ${_message(e)}`);
          // A short or wrong mirror copy is a bad file, not a missing one.
          if (e instanceof _AttemptError && e.actual) {
            mismatch = { from: path, actual: e.actual };
          }
        }
      }
      if (!found) {
        attempts.push(
          `mirror ${mirror}: has no ${join(file.dataset, file.name)}`,
        );
      }
    }
    const offline = options.offline ?? false;
    if (offline) {
      attempts.push("network: not tried (offline mode)");
    } else {
      const progress = options.progress === false
        ? undefined
        : typeof options.progress === "function"
        ? options.progress
        : _stderrProgress();
      const tries = Math.max(1, options.attempts ?? 3);
      for (const url of file.urls) {
        for (let attempt = 1; attempt <= tries; attempt++) {
          try {
            await _download(url, file, tmp, options, progress);
            await commit();
            return { path: dest, source: "network", from: url };
          } catch (e) {
            if (e instanceof CacheWriteError) throw e;
            const transient = e instanceof _AttemptError ? e.transient : true;
            attempts.push(`${url} (attempt ${attempt}): ${_message(e)}`);
            // A cut transfer is the network's fault, not a wrong file.
            if (e instanceof _AttemptError && e.actual && !e.transient) {
              mismatch = { from: url, actual: e.actual };
            }
            await _remove(tmp);
            if (!transient || attempt === tries) break;
            const delay = (options.retryDelayMs ?? 500) * 2 ** (attempt - 1);
            await new Promise((r) => setTimeout(r, delay));
          }
        }
      }
    }
  } finally {
    await _remove(tmp);
  }
  throw _failure(file, dest, attempts, mismatch, resolveMirror(options));
}

/** One line per source: retries of a URL are folded into its line. */
function _sources(attempts: readonly string[]): string[] {
  const lines: string[] = [];
  const byUrl = new Map<string, { index: number; problems: string[] }>();
  for (const a of attempts) {
    const m = /^(\S+) \(attempt \d+\): (.*)$/s.exec(a);
    if (!m) {
      lines.push(a);
      continue;
    }
    const [, url, problem] = m;
    const seen = byUrl.get(url);
    if (seen) seen.problems.push(problem);
    else {
      byUrl.set(url, { index: lines.length, problems: [problem] });
      lines.push("");
    }
  }
  for (const [url, { index, problems }] of byUrl) {
    const distinct = [...new Set(problems)].join("; ");
    lines[index] = `${url}: ${distinct}` +
      (problems.length > 1 ? ` (${problems.length} attempts)` : "");
  }
  return lines;
}

function _failure(
  file: DataFile,
  dest: string,
  attempts: string[],
  mismatch: { from: string; actual: string } | undefined,
  mirror: string | undefined,
): Error {
  const tried = _sources(attempts).map((a) => `  - ${a}`).join("\n");
  const byHand = `Download ${file.urls[0]} by hand and place it at ${dest} ` +
    `(${
      _expected(file)
    }), or set CNN_DATA_MIRROR (or the mirror option) to a ` +
    `folder holding ${join(file.dataset, file.name)}.`;
  if (mismatch) {
    return new ChecksumMismatchError(
      `${file.name} (from ${mismatch.from})`,
      _expected(file),
      mismatch.actual,
      `The file is truncated, corrupted or a different file, and was not used. ` +
        `Sources tried:\n${tried}\n${byHand}`,
    );
  }
  const offline = attempts.every((a) =>
    a.startsWith("mirror") || a.startsWith("cache") ||
    a.startsWith("network: not tried") || a.includes("cannot connect")
  );
  const what = offline ? "is not available offline" : "could not be obtained";
  return new DataUnavailableError(
    file.name,
    `${file.dataset}/${file.name} ${what}${
      mirror ? "" : " (no mirror set)"
    }. Sources tried:\n${tried}\n${byHand}`,
    attempts,
  );
}
