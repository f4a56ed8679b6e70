/**
 * SVG to PNG with resvg compiled to WebAssembly (no system packages), shared
 * by the figures (`plot/figure.ts`) and the training progress
 * (`train/progress.ts`, whose saved chart must show in untrusted notebooks),
 * so neither imports the other.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { svgImage } from "./_raster.ts";
 * const img = await svgImage(
 *   '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>', "empty");
 * assert.ok(img.startsWith('<img src="data:image/png;base64,'));
 * ```
 *
 * @module
 */
import { initWasm, Resvg } from "@resvg/resvg-wasm";

/** Options of {@linkcode Figure.save} and {@linkcode svgToPng}. */
export interface SaveOptions {
  /** PNG only: zoom factor over the SVG's pixel size. Default: 2. */
  scale?: number;
  /** PNG only: background colour. Default: "white". */
  background?: string;
  /**
   * PNG only: font files for text (e.g. `[runConfigFromEnv().plotFont]`,
   * from `CNN_PLOT_FONT`). Default: the first DejaVu Sans / Liberation Sans /
   * Arial found in the usual system folders. Without any font, PNG text is left out (SVG is unaffected).
   */
  fontFiles?: string[];
}

/**
 * Base64 of bytes, in chunks (no call-stack limit on large PNGs).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { base64 } from "./_raster.ts";
 * assert.equal(base64(new Uint8Array([1, 2, 3])), "AQID");
 * ```
 */
export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
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
 * import { strict as assert } from "node:assert";
 * import { svgToPng } from "./_raster.ts";
 * const png = await svgToPng(
 *   '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>');
 * assert.ok(png[1] === 0x50);
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

function _escapeAttr(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(
    /</g,
    "&lt;",
  );
}

/**
 * An HTML `<img>` of standalone SVG, rasterised at `scale` (2 by default) and
 * shown at the SVG's own size: what HTML outputs embed instead of inline SVG,
 * which untrusted notebooks strip (leaving its text run together).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { svgImage } from "./_raster.ts";
 * const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="4"></svg>';
 * assert.ok((await svgImage(svg, "a chart")).includes('width="8"'));
 * ```
 */
export async function svgImage(
  svg: string,
  alt: string,
  options: SaveOptions = {},
): Promise<string> {
  const root = /^<svg\b[^>]*>/.exec(svg)?.[0] ?? "";
  const size = (name: string) =>
    new RegExp(`\\s${name}="([0-9.]+)"`).exec(root)?.[1];
  const width = size("width");
  const height = size("height");
  const png = await svgToPng(svg, options);
  return `<img src="data:image/png;base64,${base64(png)}"` +
    (width ? ` width="${width}"` : "") + (height ? ` height="${height}"` : "") +
    ` alt="${_escapeAttr(alt)}"/>`;
}
