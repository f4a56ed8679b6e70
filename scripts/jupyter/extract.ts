/**
 * Turns a notebook's code cells into one TypeScript module, as the kernel
 * sees them run in order (top-level await allowed), with a line map back to
 * cells so `deno check` and `deno lint` findings can name the cell.
 *
 * @module
 */

import { joinText, type Notebook } from "./nbformat.ts";

/** A notebook's code as one module plus its line map. */
export interface ExtractedCode {
  /** The module text. */
  source: string;
  /** Maps a 1-based line of `source` to the cell and line in that cell. */
  locate(line: number): { cellNumber: number; line: number } | null;
}

/**
 * Concatenates the code cells. Each cell is preceded by a `// cell N`
 * comment line; `export {};` at the end keeps the file a module, so
 * top-level await type-checks.
 *
 * @example
 * ```ts
 * const { source, locate } = extractCode(nb);
 * locate(12); // { cellNumber: 3, line: 2 }
 * ```
 */
export function extractCode(nb: Notebook, header = ""): ExtractedCode {
  const lines: string[] = header ? header.split("\n") : [];
  const starts: { from: number; to: number; cellNumber: number }[] = [];
  for (const [index, cell] of nb.cells.entries()) {
    if (cell.cell_type !== "code") continue;
    const text = joinText(cell.source).replace(/\n$/, "");
    lines.push(`// cell ${index + 1}`);
    const cellLines = text.split("\n");
    // 1-based line numbers in the generated file.
    starts.push({
      from: lines.length + 1,
      to: lines.length + cellLines.length,
      cellNumber: index + 1,
    });
    lines.push(...cellLines);
  }
  lines.push("export {};", "");
  return {
    source: lines.join("\n"),
    locate(line) {
      const hit = starts.find((s) => line >= s.from && line <= s.to);
      return hit
        ? { cellNumber: hit.cellNumber, line: line - hit.from + 1 }
        : null;
    },
  };
}
