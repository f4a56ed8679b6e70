/**
 * Progress display while training: a one-line bar (ETA, loss, accuracy,
 * samples/s) redrawn with `\r` in a terminal, plain periodic lines when
 * stderr is not a terminal (CI, logs), and in the Deno Jupyter kernel an
 * output updated in place with the text and a live loss/accuracy chart.
 *
 * Every mode keeps one compact line per finished epoch, for every epoch of
 * the run (loss and accuracy to 4 significant digits, the epoch's time): only
 * the current-batch line is redrawn, so a saved notebook or log holds the
 * whole run. In Jupyter a long run continues in a new output every
 * `linesPerOutput` epochs, so no output grows past a screenful, and the chart
 * is saved as a PNG image (inline SVG while training), which notebooks show
 * untrusted too.
 *
 * The terminal side (stderr, redraw in place, durations) is the library's one
 * progress-text system in `../_progress.ts`, which downloads use too.
 *
 * @example
 * ```ts
 * import { createProgress } from "./progress.ts";
 * const progress = createProgress({ mode: "lines" });
 * ```
 *
 * @module
 */
import type { EpochRecord } from "./types.ts";
import { RunningMean } from "./running_mean.ts";
import {
  formatDuration,
  StatusLine,
  stderrIsTerminal,
  writeStderr,
} from "../_progress.ts";
import { svgImage } from "../_raster.ts";

/**
 * The live chart as a finished run's saved output holds it: a PNG `<img>` at
 * the chart's size (untrusted notebooks strip inline SVG and run its labels
 * together). `deno task reference --png-figures` uses it on older outputs.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { chartImage, sparklineSvg } from "./progress.ts";
 * assert.ok((await chartImage(sparklineSvg([]))).startsWith("<img"));
 * ```
 */
export function chartImage(svg: string): Promise<string> {
  return svgImage(svg, "Training curves: loss and accuracy per epoch");
}

export { formatDuration };

/** Where training is when a reporter starts. */
export interface ProgressStart {
  /** Total epochs requested. */
  epochs: number;
  /** First epoch index (0-based) of this run. */
  initialEpoch: number;
  /** Training samples per epoch. */
  samples: number;
  /** Batch size. */
  batchSize: number;
  /** Resumed history, if any. */
  history: readonly EpochRecord[];
}

/** Receives training events and shows them. */
export interface ProgressReporter {
  /** Before the first epoch. */
  start(info: ProgressStart): void | Promise<void>;
  /** Before each epoch (0-based index). */
  epochBegin(epoch: number): void | Promise<void>;
  /** After each batch: its size, loss and accuracy (or null). */
  batch(size: number, loss: number, acc: number | null): void | Promise<void>;
  /** After each epoch, with the whole history so far. */
  epochEnd(
    record: EpochRecord,
    history: readonly EpochRecord[],
  ): void | Promise<void>;
  /** After training, with the reason it stopped early, if any. */
  end(
    history: readonly EpochRecord[],
    stopReason?: string,
  ): void | Promise<void>;
}

/** How to show progress. */
export type ProgressMode = "auto" | "bar" | "lines" | "jupyter" | "none";

/** A media bundle as `Deno.jupyter.display` takes it with `raw: true`. */
export type MediaBundle = Record<string, string | object>;

/** Signature of `Deno.jupyter.display`. */
export type DisplayFunction = (
  bundle: unknown,
  options: { raw?: boolean; update?: boolean; display_id?: string },
) => Promise<void>;

/** Options of {@linkcode createProgress}. */
export interface ProgressOptions {
  /**
   * "auto" (Jupyter in the kernel, "bar" when stderr is a terminal, else
   * "lines"), "bar", "lines", "jupyter" or "none". Default: "auto".
   */
  mode?: ProgressMode;
  /** Sink of terminal text. Default: synchronous write to stderr. */
  write?: (text: string) => void;
  /** Seconds between in-epoch lines in "lines" mode. Default: 10. */
  intervalSeconds?: number;
  /** Seconds between redraws of the bar or the Jupyter output. Default: 0.1 (bar), 1 (Jupyter). */
  refreshSeconds?: number;
  /**
   * Jupyter: draws the chart from the history rows (e.g. a `lib/plot`
   * figure). Default: a small built-in SVG of loss and accuracy.
   */
  render?: (rows: readonly EpochRecord[]) => unknown;
  /** Jupyter: the display function. Default: `Deno.jupyter.display`. */
  display?: DisplayFunction;
  /**
   * Jupyter: epoch lines per output; a longer run continues in a new output
   * below (the chart stays with the last). Default: 50.
   */
  linesPerOutput?: number;
}

/**
 * True when running inside the Deno Jupyter kernel.
 *
 * @example
 * ```ts
 * import { inJupyter } from "./progress.ts";
 * console.log(inJupyter()); // false under `deno run`
 * ```
 */
export function inJupyter(): boolean {
  try {
    // Deno.jupyter throws outside `deno jupyter`.
    return typeof (Deno as unknown as { jupyter?: unknown }).jupyter ===
      "object";
  } catch {
    return false;
  }
}

/** A metric to 4 significant digits ("0.01976", "0.9940", "2.303"). */
function _num(value: number | null): string {
  if (value === null) return "-";
  if (!Number.isFinite(value)) return String(value);
  return value === 0 ? "0" : value.toPrecision(4);
}

function _rate(value: number): string {
  return Number.isFinite(value)
    ? Math.round(value).toLocaleString("en-US")
    : "?";
}

/**
 * One compact line summing up a finished epoch, as the reporters print it:
 * loss and accuracy (and their validation twins) to 4 significant digits, the
 * epoch's time, learning rate and throughput.
 *
 * @example
 * ```ts
 * import { formatEpoch } from "./progress.ts";
 * console.log(formatEpoch({ epoch: 1, loss: 0.5, acc: 0.8, val_loss: null,
 *   val_acc: null, lr: 0.001, seconds: 2, samples_per_s: 3000 }, 10));
 * // Epoch 1/10 - 2.0s - loss 0.5000 - acc 0.8000 - lr 0.001 - 3,000 samples/s
 * ```
 */
export function formatEpoch(record: EpochRecord, epochs: number): string {
  const parts = [
    `Epoch ${record.epoch}/${epochs}`,
    formatDuration(record.seconds),
    `loss ${_num(record.loss)}`,
  ];
  if (record.acc !== null) parts.push(`acc ${_num(record.acc)}`);
  if (record.val_loss !== null) parts.push(`val_loss ${_num(record.val_loss)}`);
  if (record.val_acc !== null) parts.push(`val_acc ${_num(record.val_acc)}`);
  if (record.lr !== null) parts.push(`lr ${Number(record.lr.toPrecision(3))}`);
  parts.push(`${_rate(record.samples_per_s)} samples/s`);
  return parts.join(" - ");
}

// Shared bookkeeping: running means within the epoch, timing, ETA.
class _EpochTracker {
  epochs = 0;
  samples = 0;
  epoch = 0;
  seen = 0;
  started = 0;
  readonly loss = new RunningMean();
  readonly acc = new RunningMean();

  begin(epoch: number): void {
    this.epoch = epoch;
    this.seen = 0;
    this.started = performance.now();
    this.loss.reset();
    this.acc.reset();
  }

  add(size: number, loss: number, acc: number | null): void {
    this.seen += size;
    this.loss.update(loss, size);
    if (acc !== null) this.acc.update(acc, size);
  }

  get elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  get rate(): number {
    return this.seen / Math.max(this.elapsed, 1e-9);
  }

  get eta(): number {
    return (this.samples - this.seen) / Math.max(this.rate, 1e-9);
  }

  status(withBar: boolean): string {
    const fraction = this.samples ? Math.min(1, this.seen / this.samples) : 0;
    const parts = [`Epoch ${this.epoch + 1}/${this.epochs}`];
    if (withBar) {
      const width = 20;
      const done = Math.floor(fraction * width);
      parts.push(
        `[${"=".repeat(done)}${done < width ? ">" : ""}${
          ".".repeat(Math.max(0, width - done - 1))
        }]`,
      );
    }
    parts.push(`${this.seen}/${this.samples} (${Math.round(fraction * 100)}%)`);
    parts.push(`ETA ${formatDuration(this.eta)}`);
    parts.push(`loss ${_num(this.loss.result())}`);
    if (this.acc.count > 0) parts.push(`acc ${_num(this.acc.result())}`);
    parts.push(`${_rate(this.rate)} samples/s`);
    return parts.join(" ");
  }
}

/** Text reporters: resumed epochs first, live status lines, then why it stopped. */
abstract class _TextProgress implements ProgressReporter {
  protected readonly tracker = new _EpochTracker();
  constructor(readonly write: (text: string) => void) {}
  start(info: ProgressStart): void {
    this.tracker.epochs = info.epochs;
    this.tracker.samples = info.samples;
    for (const r of info.history) {
      this.write(formatEpoch(r, info.epochs) + " (resumed)\n");
    }
  }
  abstract epochBegin(epoch: number): void;
  abstract batch(size: number, loss: number, acc: number | null): void;
  abstract epochEnd(record: EpochRecord): void;
  end(_history: readonly EpochRecord[], stopReason?: string): void {
    if (stopReason) this.write(`Stopped: ${stopReason}\n`);
  }
}

/** Terminal: the batch line redrawn in place with `\r`, epoch lines kept. */
class _BarProgress extends _TextProgress {
  readonly #line: StatusLine;
  constructor(write: (text: string) => void, refresh: number) {
    super(write);
    this.#line = new StatusLine({
      write,
      terminal: true,
      refreshSeconds: refresh,
    });
  }
  epochBegin(epoch: number): void {
    this.tracker.begin(epoch);
  }
  batch(size: number, loss: number, acc: number | null): void {
    this.tracker.add(size, loss, acc);
    this.#line.redraw(this.tracker.status(true));
  }
  epochEnd(record: EpochRecord): void {
    this.#line.commit(formatEpoch(record, this.tracker.epochs));
  }
}

/** Not a terminal: a plain line every `interval` seconds and per epoch. */
class _LineProgress extends _TextProgress {
  #last = 0;
  constructor(
    write: (text: string) => void,
    readonly interval: number,
  ) {
    super(write);
  }
  epochBegin(epoch: number): void {
    this.tracker.begin(epoch);
    this.#last = performance.now();
  }
  batch(size: number, loss: number, acc: number | null): void {
    this.tracker.add(size, loss, acc);
    const now = performance.now();
    if (
      now - this.#last < this.interval * 1000 ||
      this.tracker.seen >= this.tracker.samples
    ) return;
    this.#last = now;
    this.write(this.tracker.status(false) + "\n");
  }
  epochEnd(record: EpochRecord): void {
    this.write(formatEpoch(record, this.tracker.epochs) + "\n");
  }
}

function _escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(
    />/g,
    "&gt;",
  );
}

/** Options of {@linkcode sparklineSvg}. */
export interface SparklineOptions {
  /** Width in pixels. Default: 560. */
  width?: number;
  /** Height in pixels. Default: 170. */
  height?: number;
}

/**
 * A small SVG with two panels, loss and accuracy per epoch (training solid,
 * validation dashed): the default live chart of the Jupyter progress.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { sparklineSvg } from "./progress.ts";
 * const svg = sparklineSvg([]);
 * assert.ok(svg.startsWith("<svg"));
 * ```
 */
export function sparklineSvg(
  rows: readonly EpochRecord[],
  options: SparklineOptions = {},
): string {
  const { width = 560, height = 170 } = options;
  const panelWidth = (width - 30) / 2;
  const panel = (
    x0: number,
    title: string,
    series: {
      values: (number | null)[];
      color: string;
      dash: string;
      name: string;
    }[],
  ) => {
    const top = 22,
      bottom = height - 22,
      left = x0 + 40,
      right = x0 + panelWidth;
    const finite = series.flatMap((s) => s.values).filter((v): v is number =>
      v !== null && Number.isFinite(v)
    );
    let lo = finite.length ? Math.min(...finite) : 0;
    let hi = finite.length ? Math.max(...finite) : 1;
    if (hi - lo < 1e-12) {
      lo -= 0.5;
      hi += 0.5;
    }
    const n = rows.length;
    const xAt = (i: number) =>
      n <= 1 ? (left + right) / 2 : left + (i / (n - 1)) * (right - left);
    const yAt = (v: number) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
    let out =
      `<text x="${left}" y="14" font-size="12" font-weight="bold">${title}</text>` +
      `<rect x="${left}" y="${top}" width="${right - left}" height="${
        bottom - top
      }" fill="none" stroke="#ccc"/>` +
      `<text x="${left - 4}" y="${top + 4}" font-size="10" text-anchor="end">${
        hi.toPrecision(3)
      }</text>` +
      `<text x="${left - 4}" y="${bottom}" font-size="10" text-anchor="end">${
        lo.toPrecision(3)
      }</text>` +
      `<text x="${left}" y="${height - 6}" font-size="10">epoch ${
        rows[0]?.epoch ?? ""
      }</text>` +
      `<text x="${right}" y="${height - 6}" font-size="10" text-anchor="end">${
        rows[n - 1]?.epoch ?? ""
      }</text>`;
    let legendX = left + 80;
    for (const s of series) {
      const points = s.values.map((v, i) =>
        v !== null && Number.isFinite(v)
          ? `${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}`
          : null
      ).filter((p) => p !== null);
      if (points.length === 0) continue;
      out +=
        `<polyline fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}" points="${
          points.join(" ")
        }"/>`;
      if (points.length === 1) {
        const [cx, cy] = points[0]!.split(",");
        out += `<circle cx="${cx}" cy="${cy}" r="3" fill="${s.color}"/>`;
      }
      out +=
        `<text x="${legendX}" y="14" font-size="10" fill="${s.color}">${s.name}</text>`;
      legendX += 60;
    }
    return out;
  };
  const col = (key: keyof EpochRecord) => rows.map((r) => r[key]);
  const body = panel(0, "loss", [
    { values: col("loss"), color: "#1f77b4", dash: "none", name: "train" },
    {
      values: col("val_loss"),
      color: "#ff7f0e",
      dash: "5,3",
      name: "validation",
    },
  ]) +
    panel(panelWidth + 30, "accuracy", [
      { values: col("acc"), color: "#1f77b4", dash: "none", name: "train" },
      {
        values: col("val_acc"),
        color: "#ff7f0e",
        dash: "5,3",
        name: "validation",
      },
    ]);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">${body}</svg>`;
}

async function _chartHtml(chart: unknown): Promise<string> {
  if (typeof chart === "string") return chart;
  if (chart && typeof chart === "object") {
    // A lib/plot Figure: its SVG live (cheap), a PNG once training ends.
    const figureSvg = (chart as { svg?: unknown }).svg;
    if (typeof figureSvg === "string") return figureSvg;
    const display =
      (chart as Record<symbol, unknown>)[Symbol.for("Jupyter.display")];
    if (typeof display === "function") {
      const bundle = await display.call(chart) as MediaBundle;
      const svg = bundle["image/svg+xml"] ?? bundle["text/html"];
      if (typeof svg === "string") return svg;
      const png = bundle["image/png"];
      if (typeof png === "string") {
        return `<img src="data:image/png;base64,${png}"/>`;
      }
    }
    const outer = (chart as { outerHTML?: unknown }).outerHTML;
    if (typeof outer === "string") return outer;
  }
  return "";
}

/**
 * Jupyter: an output replaced in place with text and chart. Every epoch line
 * stays; after `linesPerOutput` of them the output is closed (text only) and
 * the run continues in a new one.
 */
class _JupyterProgress implements ProgressReporter {
  readonly #t = new _EpochTracker();
  #id = `train-progress-${crypto.randomUUID()}`;
  #shown = false;
  #last = 0;
  #lines: string[] = [];
  #epochLines = 0;
  #rows: readonly EpochRecord[] = [];
  #chart = "";
  constructor(
    readonly display: DisplayFunction,
    readonly refresh: number,
    readonly render?: (rows: readonly EpochRecord[]) => unknown,
    readonly linesPerOutput = 50,
  ) {}

  async #draw(status: string, chart = this.#chart): Promise<void> {
    const text = [...this.#lines, status].filter(Boolean).join("\n");
    const bundle = {
      "text/plain": text,
      "text/html": `<pre style="margin:0">${_escape(text)}</pre>${chart}`,
    };
    await this.display(bundle, {
      raw: true,
      display_id: this.#id,
      update: this.#shown,
    });
    this.#shown = true;
    // Let the kernel's socket send the message before the next CPU-bound step.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }

  async #redrawChart(): Promise<void> {
    this.#chart = this.render
      ? await _chartHtml(await this.render(this.#rows))
      : sparklineSvg(this.#rows);
  }

  async start(info: ProgressStart): Promise<void> {
    this.#t.epochs = info.epochs;
    this.#t.samples = info.samples;
    this.#rows = info.history;
    // Resumed epochs are shown too (the last `linesPerOutput` of them).
    this.#lines = info.history.map((r) =>
      formatEpoch(r, info.epochs) + " (resumed)"
    ).slice(-this.linesPerOutput);
    this.#epochLines = this.#lines.length;
    await this.#redrawChart();
    await this.#draw(
      `Training ${info.samples} samples, batch ${info.batchSize}...`,
    );
  }
  epochBegin(epoch: number): void {
    this.#t.begin(epoch);
  }
  async batch(size: number, loss: number, acc: number | null): Promise<void> {
    this.#t.add(size, loss, acc);
    const now = performance.now();
    if (now - this.#last < this.refresh * 1000) return;
    this.#last = now;
    await this.#draw(this.#t.status(true));
  }
  async epochEnd(
    record: EpochRecord,
    history: readonly EpochRecord[],
  ): Promise<void> {
    this.#rows = history.slice();
    if (this.#epochLines >= this.linesPerOutput) {
      // Close this output as it stands (text only) and go on in a new one.
      await this.#draw("(continued below)", "");
      this.#id = `train-progress-${crypto.randomUUID()}`;
      this.#shown = false;
      this.#lines = [];
      this.#epochLines = 0;
    }
    this.#lines.push(formatEpoch(record, this.#t.epochs));
    this.#epochLines++;
    await this.#redrawChart();
    await this.#draw("");
  }
  async end(
    _history: readonly EpochRecord[],
    stopReason?: string,
  ): Promise<void> {
    // What the notebook saves: the chart as a PNG <img>, since untrusted
    // notebooks strip inline SVG (and run its labels together).
    if (this.#chart.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')) {
      try {
        this.#chart = await chartImage(this.#chart);
      } catch {
        // No rasteriser (e.g. resvg's wasm unreadable): keep the SVG.
      }
    }
    await this.#draw(stopReason ? `Stopped: ${stopReason}` : "Done.");
  }
}

/** A reporter that shows nothing. */
class _SilentProgress implements ProgressReporter {
  start(): void {}
  epochBegin(): void {}
  batch(): void {}
  epochEnd(): void {}
  end(): void {}
}

/**
 * The progress reporter for `options.mode` ("auto" picks Jupyter in the
 * kernel, a bar in a terminal, plain lines otherwise).
 *
 * @example
 * ```ts
 * import { createProgress } from "./progress.ts";
 * const lines: string[] = [];
 * const progress = createProgress({ mode: "lines", write: (t) => lines.push(t) });
 * ```
 */
export function createProgress(
  options: ProgressOptions = {},
): ProgressReporter {
  const { write = writeStderr, intervalSeconds = 10, render } = options;
  let mode = options.mode ?? "auto";
  if (mode === "auto") {
    mode = inJupyter() ? "jupyter" : stderrIsTerminal() ? "bar" : "lines";
  }
  const linesPerOutput = options.linesPerOutput ?? 50;
  if (!Number.isInteger(linesPerOutput) || linesPerOutput < 1) {
    throw new Error(
      `createProgress: linesPerOutput must be an integer >= 1, got ${linesPerOutput}`,
    );
  }
  switch (mode) {
    case "none":
      return new _SilentProgress();
    case "bar":
      return new _BarProgress(write, options.refreshSeconds ?? 0.1);
    case "lines":
      return new _LineProgress(write, intervalSeconds);
    case "jupyter": {
      let display = options.display;
      if (!display) {
        if (!inJupyter()) {
          throw new Error(
            'createProgress: mode "jupyter" needs the Deno Jupyter kernel (or a `display` function); use "auto" to pick a terminal display',
          );
        }
        const jupyter =
          (Deno as unknown as { jupyter: { display: DisplayFunction } })
            .jupyter;
        display = (bundle, opts) => jupyter.display(bundle, opts);
      }
      return new _JupyterProgress(
        display,
        options.refreshSeconds ?? 1,
        render,
        linesPerOutput,
      );
    }
    default:
      throw new Error(
        `createProgress: mode must be auto, bar, lines, jupyter or none, got '${mode}'`,
      );
  }
}
