/**
 * Private progress display for downloads, on stderr: one self-updating line on
 * a terminal, a few plain lines elsewhere (logs, notebooks).
 *
 * @module
 */

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

/** The default display: writes to stderr, throttled. */
export function _stderrProgress(): ProgressCallback {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const started = performance.now();
  let lastShown = -Infinity;
  let lastTenth = -1;
  const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  return (p) => {
    const now = performance.now();
    const seconds = (now - started) / 1000;
    const percent = p.total ? Math.floor((100 * p.received) / p.total) : 0;
    const rate = seconds > 0 ? p.received / _MB / seconds : 0;
    const line = `${p.file}: ${percent}% ${(p.received / _MB).toFixed(1)}/${
      (p.total / _MB).toFixed(1)
    } MB ${rate.toFixed(1)} MB/s`;
    if (tty) {
      if (p.done || now - lastShown > 100) {
        write(`\r\x1b[K${line}${p.done ? "\n" : ""}`);
        lastShown = now;
      }
      return;
    }
    const tenth = Math.floor(percent / 10);
    if (p.received === 0) write(`downloading ${p.url}\n`);
    else if (p.done || tenth > lastTenth) write(`${line}\n`);
    lastTenth = tenth;
  };
}
