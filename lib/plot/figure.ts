/**
 * The figure object every plot function returns: standalone SVG text that
 * displays in the Deno Jupyter kernel and saves as `.svg` or `.png` (rasterised
 * with resvg compiled to WebAssembly, so no system packages are needed).
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
 * await fig.save("/tmp/one-dot.svg");
 * ```
 *
 * @module
 */
import { parseHTML } from "linkedom";
import { initWasm, Resvg } from "@resvg/resvg-wasm";

/** The symbol the Deno Jupyter kernel calls to get rich output. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display");

/** Options of {@linkcode Figure.save} and {@linkcode svgToPng}. */
export interface SaveOptions {
  /** PNG only: zoom factor over the SVG's pixel size. Default: 2. */
  scale?: number;
  /** PNG only: background colour. Default: "white". */
  background?: string;
  /**
   * PNG only: font files for text (e.g. `[runConfigFromEnv().plotFont]`,
   * from `CNN_PLOT_FONT`). Default: the first DejaVu Sans / Liberation Sans /
   * Arial found in the usual system folders. Without any font, PNG text is
   * left out (SVG is unaffected).
   */
  fontFiles?: string[];
}

/** A rendered figure: SVG text that Jupyter displays and scripts save. */
export interface Figure {
  /** Standalone SVG document (with `xmlns`). */
  readonly svg: string;
  /** Width in CSS pixels. */
  readonly width: number;
  /** Height in CSS pixels. */
  readonly height: number;
  /** Rich output for the Deno Jupyter kernel. */
  [JUPYTER_DISPLAY](): { "image/svg+xml": string };
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
}

/**
 * Lays out Observable Plot SVG elements in a grid under a title and returns
 * a {@linkcode Figure}.
 *
 * @example
 * ```ts
 * import * as Plot from "@observablehq/plot";
 * import { composeFigure, plotDocument } from "./figure.ts";
 * const doc = plotDocument();
 * const a = Plot.plot({ document: doc, width: 200, height: 150, marks: [Plot.frame()] });
 * const fig = composeFigure([a, a], { title: "Two frames", panelTitles: ["a", "b"] });
 * console.log(fig.svg.startsWith("<svg xmlns")); // true
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

class SvgFigure implements Figure {
  constructor(
    readonly svg: string,
    readonly width: number,
    readonly height: number,
  ) {}

  [JUPYTER_DISPLAY](): { "image/svg+xml": string } {
    return { "image/svg+xml": this.svg };
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
 * await fig.save("/tmp/empty.svg");
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

let _wasmReady: Promise<void> | undefined;

async function _loadWasm(): Promise<Uint8Array> {
  const url = new URL(
    "index_bg.wasm",
    import.meta.resolve("@resvg/resvg-wasm"),
  );
  try {
    return await Deno.readFile(url);
  } catch (err) {
    throw new Error(
      `could not read resvg's WebAssembly from ${url} (${
        err instanceof Error ? err.message : err
      }); ` +
        `run the project with "nodeModulesDir": "auto" so npm packages live in node_modules`,
    );
  }
}

const FONT_CANDIDATES = [
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/TTF/DejaVuSans.ttf",
  "/usr/share/fonts/dejavu/DejaVuSans.ttf",
  "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
  "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
  "/System/Library/Fonts/Supplemental/Arial.ttf",
  "/Library/Fonts/Arial.ttf",
  "C:\\Windows\\Fonts\\arial.ttf",
];

let _fonts: Promise<Uint8Array[]> | undefined;

async function _defaultFonts(): Promise<Uint8Array[]> {
  for (const path of FONT_CANDIDATES) {
    try {
      return [await Deno.readFile(path)];
    } catch {
      // Try the next candidate.
    }
  }
  return [];
}

/**
 * Rasterises standalone SVG to PNG bytes with resvg (WebAssembly).
 *
 * @example
 * ```ts
 * import { svgToPng } from "./figure.ts";
 * const png = await svgToPng(
 *   '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>');
 * console.log(png[1] === 0x50); // true
 * ```
 */
export async function svgToPng(
  svg: string,
  options: SaveOptions = {},
): Promise<Uint8Array> {
  const scale = options.scale ?? 2;
  if (!(scale > 0 && scale <= 16)) {
    throw new Error(`scale must be in (0, 16], got ${scale}`);
  }
  _wasmReady ??= _loadWasm().then((bytes) => initWasm(bytes)).catch((err) => {
    _wasmReady = undefined;
    throw err;
  });
  await _wasmReady;
  const fontBuffers = options.fontFiles
    ? await Promise.all(options.fontFiles.map((f) => Deno.readFile(f)))
    : await (_fonts ??= _defaultFonts());
  const resvg = new Resvg(svg, {
    background: options.background ?? "white",
    fitTo: { mode: "zoom", value: scale },
    // Nearest-neighbour for embedded images: 28x28 digits stay crisp pixels.
    imageRendering: 1,
    font: {
      fontBuffers,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
    },
  });
  try {
    return resvg.render().asPng();
  } finally {
    resvg.free();
  }
}
