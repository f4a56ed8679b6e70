/**
 * The figure object every plot function returns: standalone SVG text that
 * displays in the Deno Jupyter kernel and saves as `.svg` or `.png` (rasterised
 * with resvg compiled to WebAssembly, so no system packages are needed).
 *
 * In the kernel a figure shows as `image/png` (drawn at 2x its CSS size, so it
 * stays sharp) with a `text/plain` alt text, as matplotlib's inline backend
 * does. SVG is not in the bundle by default: Jupyter renders SVG only in a
 * notebook trusted on the reader's machine (a cloned or downloaded notebook is
 * not), and nbconvert's HTML export sanitizes untrusted SVG into empty boxes.
 * {@linkcode displayFigure} with `{ svg: true }` adds it for trusted use;
 * saved files stay SVG (or PNG, by the file name).
 *
 * Observable Plot runs server-side against a `document` from linkedom; its
 * serialised SVG lacks `xmlns`, which standalone files need, so every figure
 * is wrapped in an outer `<svg xmlns=...>` holding the title and the panels.
 *
 * @example
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * import { composeFigure, plotDocument } from "./figure.ts";
 * const panel = Plot.plot({
 *   document: plotDocument(),
 *   marks: [Plot.dot([{ x: 1, y: 2 }], { x: "x", y: "y" })],
 * });
 * const fig = composeFigure([panel], { title: "One dot" });
 * await fig.save(`${await Deno.makeTempDir()}/one-dot.svg`);
 * ```
 *
 * @module
 */
import { parseHTML } from "linkedom";
import { base64, type SaveOptions, svgToPng } from "../_raster.ts";

export { type SaveOptions, svgToPng };

/** The symbol the Deno Jupyter kernel calls to get rich output. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display");

/**
 * The MIME bundle a figure displays as: PNG (base64) and alt text, plus the
 * SVG when asked for.
 */
export interface FigureBundle {
  /** The figure rasterised at {@linkcode BundleOptions.scale}, base64. */
  "image/png": string;
  /** Alt text: what frontends without images show. */
  "text/plain": string;
  /** The SVG itself, only with `svg: true`. */
  "image/svg+xml"?: string;
}

/** Options of {@linkcode figureBundle}, {@linkcode Figure.bundle} and {@linkcode displayFigure}. */
export interface BundleOptions {
  /**
   * Also put the SVG in the bundle. Frontends prefer it where the notebook is
   * trusted and fall back to the PNG elsewhere, but nbconvert's HTML export
   * of an untrusted notebook picks the SVG and sanitizes it into empty boxes,
   * so use it only for notebooks you keep trusted. Default: false.
   */
  svg?: boolean;
  /** PNG zoom over the figure's CSS size. Default: 2. */
  scale?: number;
  /** Alt text. Default: {@linkcode figureAltText} of the SVG. */
  alt?: string;
}

/** A rendered figure: SVG text that Jupyter displays and scripts save. */
export interface Figure {
  /** Standalone SVG document (with `xmlns`). */
  readonly svg: string;
  /** Width in CSS pixels. */
  readonly width: number;
  /** Height in CSS pixels. */
  readonly height: number;
  /** Alt text: the figure's title and panel titles, in words. */
  readonly alt: string;
  /** Rich output for the Deno Jupyter kernel: PNG at 2x and the alt text. */
  [JUPYTER_DISPLAY](): Promise<FigureBundle>;
  /** The display bundle, with options (e.g. `{ svg: true }` for trusted use). */
  bundle(options?: BundleOptions): Promise<FigureBundle>;
  /** Writes `.svg` (text) or `.png` (rasterised), chosen by the extension. */
  save(path: string, options?: SaveOptions): Promise<void>;
  /** Rasterises to PNG bytes. */
  toPng(options?: SaveOptions): Promise<Uint8Array>;
}

const SVG_NS = "http://www.w3.org/2000/svg";
const _TITLE_FONT_SIZE = 16;
const _TITLE_LINE_HEIGHT = 20;

let _document: Document | undefined;

/**
 * A server-side DOM `document` for Observable Plot's `document` option.
 *
 * @example
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * import { plotDocument } from "./figure.ts";
 * const svg = Plot.plot({ document: plotDocument(), marks: [Plot.frame()] });
 * ```
 */
export function plotDocument(): Document {
  _document ??= parseHTML("<!DOCTYPE html><html><body></body></html>")
    .document as unknown as Document;
  return _document;
}

function _escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/**
 * Rough advance width of one character in em: wide for CJK and full-width
 * forms, narrower for the rest (DejaVu Sans Bold averages about 0.62em on
 * mixed Latin text). Figures are SVG, so no font metrics are at hand.
 */
function _charEm(ch: string): number {
  const code = ch.codePointAt(0) ?? 0;
  if (code >= 0x2e80 && code <= 0xffef) return 1;
  if (ch === " ") return 0.32;
  return 0.62;
}

function _textEm(text: string): number {
  let em = 0;
  for (const ch of text) em += _charEm(ch);
  return em;
}

/**
 * Greedy word wrap of `text` into lines at most `maxEm` em wide (estimated).
 * Words wider than a line, such as CJK runs without spaces, are broken
 * between characters.
 */
function _wrapText(text: string, maxEm: number): string[] {
  const lines: string[] = [];
  let line = "";
  const pushWord = (word: string) => {
    const candidate = line ? `${line} ${word}` : word;
    if (_textEm(candidate) <= maxEm) {
      line = candidate;
      return;
    }
    if (line) lines.push(line);
    line = "";
    // The word alone may still be too wide: break it between characters.
    for (const ch of word) {
      if (line && _textEm(line + ch) > maxEm) {
        lines.push(line);
        line = "";
      }
      line += ch;
    }
  };
  for (const word of text.trim().split(/\s+/)) if (word) pushWord(word);
  if (line) lines.push(line);
  return lines;
}

/** Reads a numeric attribute, failing loudly when Plot gave something odd. */
function _size(el: Element, name: "width" | "height"): number {
  const v = Number(el.getAttribute(name));
  if (!Number.isFinite(v) || v <= 0) {
    throw new Error(
      `plot panel has no usable ${name} (${el.getAttribute(name)})`,
    );
  }
  return v;
}

/** Options of {@linkcode composeFigure}. */
export interface ComposeOptions {
  /**
   * Title drawn above the panels, word-wrapped to the figure width (the top
   * margin grows by one line per extra line). Default: none.
   */
  title?: string;
  /** Panels per row. Default: all in one row. */
  columns?: number;
  /** Titles drawn above each panel. Default: none. */
  panelTitles?: string[];
  /** Gap between panels in pixels. Default: 16. */
  gap?: number;
  /** Background colour (also what PNGs get). Default: "white". */
  background?: string;
  /**
   * Alt text, stored as the SVG's `<title>`. Default: the title and the
   * panel titles (see {@linkcode figureAltText}).
   */
  alt?: string;
}

/**
 * Lays out Observable Plot SVG elements in a grid under a title and returns
 * a {@linkcode Figure}.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as Plot from "@observablehq/plot";
 * import { composeFigure, plotDocument } from "./figure.ts";
 * const doc = plotDocument();
 * const a = Plot.plot({ document: doc, width: 200, height: 150, marks: [Plot.frame()] });
 * const fig = composeFigure([a, a], { title: "Two frames", panelTitles: ["a", "b"] });
 * assert.ok(fig.svg.startsWith("<svg xmlns"));
 * ```
 */
export function composeFigure(
  panels: (Element | SVGElement)[],
  options: ComposeOptions = {},
): Figure {
  if (panels.length === 0) {
    throw new Error("composeFigure: no panels to lay out");
  }
  const gap = options.gap ?? 16;
  const columns = Math.max(
    1,
    Math.min(options.columns ?? panels.length, panels.length),
  );
  const panelTitleHeight = options.panelTitles?.some((t) => t) ? 20 : 0;
  const svgs = panels.map((p) => {
    const svg = p.tagName.toLowerCase() === "svg" ? p : p.querySelector("svg");
    if (!svg) {
      throw new Error(
        "composeFigure: a panel has no <svg>; do not pass Plot's title/legend options (they wrap the SVG in HTML)",
      );
    }
    return svg;
  });
  const widths = svgs.map((s) => _size(s, "width"));
  const heights = svgs.map((s) => _size(s, "height"));
  const rows = Math.ceil(svgs.length / columns);
  const colWidth = Array.from(
    { length: columns },
    (_, c) => Math.max(...widths.filter((_, i) => i % columns === c)),
  );
  const rowHeight = Array.from(
    { length: rows },
    (_, r) =>
      Math.max(...heights.filter((_, i) => Math.floor(i / columns) === r)),
  );
  const width = Math.ceil(
    colWidth.reduce((a, b) => a + b, 0) + gap * (columns + 1),
  );
  const titleLines = options.title
    ? _wrapText(options.title, (width - 2 * gap) / _TITLE_FONT_SIZE)
    : [];
  const titleHeight = titleLines.length > 0
    ? 30 + _TITLE_LINE_HEIGHT * (titleLines.length - 1)
    : 0;
  const height = Math.ceil(
    titleHeight + rowHeight.reduce((a, b) => a + b + panelTitleHeight, 0) +
      gap * (rows + 1),
  );
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="${SVG_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, system-ui, sans-serif">`,
  );
  const alt = options.alt ?? _describe(options.title, options.panelTitles);
  if (alt) parts.push(`<title>${_escape(alt)}</title>`);
  parts.push(
    `<rect width="100%" height="100%" fill="${
      _escape(options.background ?? "white")
    }"/>`,
  );
  if (titleLines.length > 0) {
    const lines = titleLines.map((line, i) =>
      `<tspan x="${width / 2}" y="${22 + _TITLE_LINE_HEIGHT * i}">${
        _escape(line)
      }</tspan>`
    );
    parts.push(
      `<text aria-label="${
        _escape(options.title ?? "")
      }" text-anchor="middle" font-size="${_TITLE_FONT_SIZE}" font-weight="bold" fill="black">${
        lines.join("")
      }</text>`,
    );
  }
  let y = titleHeight + gap;
  for (let r = 0; r < rows; r++) {
    let x = gap;
    for (let c = 0; c < columns; c++) {
      const i = r * columns + c;
      if (i >= svgs.length) break;
      const panelTitle = options.panelTitles?.[i];
      if (panelTitle) {
        parts.push(
          `<text x="${x + widths[i] / 2}" y="${
            y + 14
          }" text-anchor="middle" font-size="13" fill="black">${
            _escape(panelTitle)
          }</text>`,
        );
      }
      const el = svgs[i];
      el.setAttribute("x", String(x));
      el.setAttribute("y", String(y + panelTitleHeight));
      parts.push(el.outerHTML);
      x += colWidth[c] + gap;
    }
    y += rowHeight[r] + panelTitleHeight + gap;
  }
  parts.push("</svg>");
  return createFigure(parts.join(""), width, height);
}

/** "Figure: title (panels: a; b)" from what composeFigure draws. */
function _describe(title?: string, panelTitles?: string[]): string {
  const panels = (panelTitles ?? []).filter((t) => t);
  const head = title ? `Figure: ${title.trim()}` : "";
  const tail = panels.length > 0 ? `panels: ${panels.join("; ")}` : "";
  if (head && tail) return `${head} (${tail})`;
  return head || (tail ? `Figure (${tail})` : "");
}

function _unescape(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(
    /&quot;/g,
    '"',
  ).replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

/**
 * The alt text of a figure's SVG: its root `<title>` (what
 * {@linkcode composeFigure} writes), else the title text composeFigure drew
 * (older figures), else "Figure", always followed by the size in CSS pixels.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { figureAltText } from "./figure.ts";
 * const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">' +
 *   "<title>Figure: loss per epoch</title></svg>";
 * assert.equal(figureAltText(svg), "Figure: loss per epoch [40x30 image]");
 * ```
 */
export function figureAltText(svg: string): string {
  const root = /^<svg\b[^>]*>/.exec(svg)?.[0] ?? "";
  const size = ["width", "height"].map((name) =>
    new RegExp(`\\s${name}="([0-9.]+)"`).exec(root)?.[1] ?? "?"
  );
  const rest = svg.slice(root.length);
  const title = /^<title>([^<]*)<\/title>/.exec(rest)?.[1];
  const drawn = /^(?:<rect\b[^>]*\/>)?<text aria-label="([^"]*)"/.exec(rest)
    ?.[1];
  const text = title !== undefined
    ? _unescape(title)
    : drawn
    ? `Figure: ${_unescape(drawn)}`
    : "Figure";
  return `${text} [${size[0]}x${size[1]} image]`;
}

/**
 * The Jupyter display bundle of standalone SVG text: PNG at `scale` (2 by
 * default) rendered with resvg, the alt text, and the SVG only with
 * `svg: true`. Figures display through this; `deno task reference` uses it to
 * give committed notebooks' SVG outputs the same bundle.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { figureBundle } from "./figure.ts";
 * const bundle = await figureBundle(
 *   '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>');
 * assert.deepEqual(Object.keys(bundle), ["image/png", "text/plain"]);
 * ```
 */
export async function figureBundle(
  svg: string,
  options: BundleOptions = {},
): Promise<FigureBundle> {
  const png = await svgToPng(svg, { scale: options.scale ?? 2 });
  const bundle: FigureBundle = {
    "image/png": base64(png),
    "text/plain": options.alt ?? figureAltText(svg),
  };
  if (options.svg) bundle["image/svg+xml"] = svg;
  return bundle;
}

/** Options of {@linkcode displayFigure}. */
export interface DisplayFigureOptions extends BundleOptions {
  /**
   * Sends a `display_data` message. Default: `Deno.jupyter.broadcast` (the
   * Deno Jupyter kernel); pass one to display elsewhere or to test.
   */
  broadcast?: (
    type: "display_data",
    content: Record<string, unknown>,
  ) => Promise<void>;
}

/**
 * Shows a figure in the Deno Jupyter kernel as its own output, with the PNG's
 * CSS size in the output's metadata (so a 2x PNG shows at the figure's size,
 * not twice it). `{ svg: true }` adds the SVG for notebooks you keep trusted.
 * A figure left as a cell's last expression displays too (PNG and alt text,
 * without the size metadata, which that path cannot carry).
 *
 * @example
 * ```ts ignore
 * import { displayFigure, trainingCurves } from "../plot/mod.ts";
 * await displayFigure(trainingCurves(history), { svg: true });
 * ```
 */
export async function displayFigure(
  figure: Figure,
  options: DisplayFigureOptions = {},
): Promise<void> {
  let broadcast = options.broadcast;
  if (!broadcast) {
    let jupyter: { broadcast?: DisplayFigureOptions["broadcast"] } | undefined;
    try {
      // Deno.jupyter throws outside `deno jupyter`.
      jupyter = (Deno as unknown as { jupyter?: typeof jupyter }).jupyter;
    } catch {
      jupyter = undefined;
    }
    if (typeof jupyter?.broadcast !== "function") {
      throw new Error(
        "displayFigure needs the Deno Jupyter kernel; outside it, save the " +
          'figure instead (await figure.save("figure.png"))',
      );
    }
    broadcast = jupyter.broadcast.bind(jupyter);
  }
  const data = await figure.bundle(options);
  await broadcast("display_data", {
    data,
    metadata: { "image/png": { width: figure.width, height: figure.height } },
    transient: {},
  });
}

class SvgFigure implements Figure {
  constructor(
    readonly svg: string,
    readonly width: number,
    readonly height: number,
  ) {}

  get alt(): string {
    return figureAltText(this.svg);
  }

  [JUPYTER_DISPLAY](): Promise<FigureBundle> {
    return this.bundle();
  }

  bundle(options: BundleOptions = {}): Promise<FigureBundle> {
    return figureBundle(this.svg, options);
  }

  toPng(options: SaveOptions = {}): Promise<Uint8Array> {
    return svgToPng(this.svg, options);
  }

  async save(path: string, options: SaveOptions = {}): Promise<void> {
    const lower = path.toLowerCase();
    let bytes: Uint8Array;
    if (lower.endsWith(".svg")) bytes = new TextEncoder().encode(this.svg);
    else if (lower.endsWith(".png")) bytes = await this.toPng(options);
    else {
      throw new Error(
        `cannot save a figure as ${path}: use a .svg or .png file name`,
      );
    }
    // Write then rename, so a reader never sees half a file.
    const tmp = `${path}.${Deno.pid}.tmp`;
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  }
}

/**
 * Wraps standalone SVG text (with `xmlns`) as a {@linkcode Figure}.
 *
 * @example
 * ```ts
 * import { createFigure } from "./figure.ts";
 * const fig = createFigure(
 *   '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>', 10, 10);
 * await fig.save(`${await Deno.makeTempDir()}/empty.svg`);
 * ```
 */
export function createFigure(
  svg: string,
  width: number,
  height: number,
): Figure {
  if (!/^<svg[^>]*\sxmlns="http:\/\/www\.w3\.org\/2000\/svg"/.test(svg)) {
    throw new Error(
      'createFigure: the SVG must start with <svg xmlns="http://www.w3.org/2000/svg" ...>',
    );
  }
  return new SvgFigure(svg, width, height);
}
