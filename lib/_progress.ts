/**
 * The one progress-text system of the library, shared by training
 * (`train/progress.ts`) and downloads (`data/fetch.ts`): where the text goes
 * (synchronous writes to stderr), whether it can be redrawn in place (a
 * terminal) or must be plain lines (logs, CI, notebooks), and how durations
 * are written.
 *
 * A {@linkcode StatusLine} is a line that a terminal redraws with `\r` (at
 * most every `refreshSeconds`) and that `commit` turns into a kept line; off
 * a terminal only committed lines are written, so a log holds each finished
 * step once.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { StatusLine } from "./_progress.ts";
 * const out: string[] = [];
 * const line = new StatusLine({ write: (t) => out.push(t), terminal: false });
 * line.redraw("50%");
 * line.commit("done");
 * assert.deepEqual(out, ["done\n"]);
 * ```
 *
 * @module
 */

/**
 * True when stderr is a terminal (false without the permission to ask).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { stderrIsTerminal } from "./_progress.ts";
 * assert.equal(typeof stderrIsTerminal(), "boolean");
 * ```
 */
export function stderrIsTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

const _encoder = new TextEncoder();

/**
 * Writes all of `text` to stderr synchronously (so progress interleaves
 * correctly with other output even while the event loop is busy).
 *
 * @example
 * ```ts
 * import { writeStderr } from "./_progress.ts";
 * writeStderr("working...\n");
 * ```
 */
export function writeStderr(text: string): void {
  const bytes = _encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stderr.writeSync(bytes.subarray(written));
  }
}

/**
 * A duration for people: "1h02m", "3m05s", "12s", "0.4s".
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { formatDuration } from "./_progress.ts";
 * assert.equal(formatDuration(185), "3m05s");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) {
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  }
  return `${Math.floor(s / 3600)}h${
    String(Math.floor((s % 3600) / 60)).padStart(2, "0")
  }m`;
}

/** Options of {@linkcode StatusLine}. */
export interface StatusLineOptions {
  /** Sink of the text. Default: {@linkcode writeStderr}. */
  write?: (text: string) => void;
  /** Redraw in place with `\r`. Default: {@linkcode stderrIsTerminal}. */
  terminal?: boolean;
  /** Least time between two redraws, in seconds. Default: 0.1. */
  refreshSeconds?: number;
}

/**
 * One line of progress: redrawn in place on a terminal, kept when committed.
 *
 * @example
 * ```ts
 * import { StatusLine } from "./_progress.ts";
 * const line = new StatusLine({ terminal: false, write: () => {} });
 * line.redraw("step 1");
 * ```
 */
export class StatusLine {
  /** Whether lines are redrawn in place (a terminal). */
  readonly terminal: boolean;
  readonly #write: (text: string) => void;
  readonly #refresh: number;
  #last = -Infinity;

  /** A status line writing to `options.write` (stderr by default). */
  constructor(options: StatusLineOptions = {}) {
    this.#write = options.write ?? writeStderr;
    this.terminal = options.terminal ?? stderrIsTerminal();
    this.#refresh = (options.refreshSeconds ?? 0.1) * 1000;
  }

  /**
   * Shows `text` as the current state: on a terminal, in place of the last
   * one (throttled, unless `force`); elsewhere nothing (see `commit`).
   */
  redraw(text: string, force = false): void {
    if (!this.terminal) return;
    const now = performance.now();
    if (!force && now - this.#last < this.#refresh) return;
    this.#last = now;
    this.#write(`\r${text}\x1b[K`);
  }

  /** Writes `text` as a kept line (replacing the redrawn one on a terminal). */
  commit(text: string): void {
    this.#write(this.terminal ? `\r${text}\x1b[K\n` : `${text}\n`);
    this.#last = -Infinity;
  }

  /** Writes a kept line as is (no redraw bookkeeping). */
  line(text: string): void {
    this.#write(`${text}\n`);
  }
}

/** One progress report of a download. */
export interface DownloadProgress {
  /** File being downloaded. */
  file: string;
  /** URL it comes from. */
  url: string;
  /** Bytes received so far. */
  received: number;
  /** Bytes expected in all. */
  total: number;
  /** Whether the transfer has ended (successfully or not). */
  done: boolean;
}

/** Receives progress reports. */
export type ProgressCallback = (progress: DownloadProgress) => void;

const _MB = 1e6;

/**
 * The default download display on a {@linkcode StatusLine}: one
 * self-updating line on a terminal; elsewhere (logs, notebooks) the URL when
 * the transfer starts, a line per tenth of the file and one at the end.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { downloadProgress } from "./_progress.ts";
 * const lines: string[] = [];
 * const show = downloadProgress({ terminal: false, write: (t) => lines.push(t) });
 * show({ file: "a.gz", url: "https://x/a.gz", received: 0, total: 10, done: false });
 * show({ file: "a.gz", url: "https://x/a.gz", received: 10, total: 10, done: true });
 * assert.equal(lines.length, 2);
 * ```
 */
export function downloadProgress(
  options: StatusLineOptions = {},
): ProgressCallback {
  const status = new StatusLine(options);
  const started = performance.now();
  let lastTenth = -1;
  return (p) => {
    const seconds = (performance.now() - started) / 1000;
    const percent = p.total ? Math.floor((100 * p.received) / p.total) : 0;
    const rate = seconds > 0 ? p.received / _MB / seconds : 0;
    const text = `${p.file}: ${percent}% ${(p.received / _MB).toFixed(1)}/${
      (p.total / _MB).toFixed(1)
    } MB ${rate.toFixed(1)} MB/s`;
    if (status.terminal) {
      if (p.done) status.commit(text);
      else status.redraw(text);
      return;
    }
    const tenth = Math.floor(percent / 10);
    if (p.received === 0) status.line(`downloading ${p.url}`);
    else if (p.done || tenth > lastTenth) status.line(text);
    lastTenth = tenth;
  };
}
