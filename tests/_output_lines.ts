/**
 * How long each output of an executed notebook is, as a reader meets it, and
 * which outputs are walls of text. Used by tests/notebooks_nbconvert_test.ts
 * on smoke-executed notebooks; point it at any executed notebooks, e.g. the
 * reference run once it is rerun:
 *
 *     deno run -A tests/_output_lines.ts notebooks/reference/*.ipynb
 *
 * prints each output longer than 60 lines and exits 1 when there is one.
 *
 * Counting: consecutive stream outputs of one stream are one box (Jupyter
 * shows them so); a rich output counts the longest of its text forms (plain
 * text lines, Markdown lines, HTML table rows); figures count 0.
 */
import {
  joinText,
  type Notebook,
  readNotebook,
} from "../scripts/jupyter/mod.ts";

/** The most lines an output may have. */
export const MAX_OUTPUT_LINES = 60;

/** An output longer than allowed. */
export interface LongOutput {
  /** Cell index in the notebook. */
  cell: number;
  /** Lines the reader sees. */
  lines: number;
  /** Its first line, to find it. */
  first: string;
}

function _lines(text: string): number {
  return text === "" ? 0 : text.replace(/\n$/, "").split("\n").length;
}

function _text(value: unknown): string {
  return value === undefined ? "" : joinText(value as string | string[]);
}

/**
 * Lines of each output box of `nb`'s code cells, in order.
 *
 * @example
 * ```ts ignore
 * const boxes = outputLines(await readNotebook("out/001_mnist_lenet5.ipynb"));
 * ```
 */
export function outputLines(
  nb: Notebook,
): { cell: number; lines: number; first: string }[] {
  const boxes: { cell: number; lines: number; first: string }[] = [];
  nb.cells.forEach((cell, index) => {
    let stream: { name: string; text: string } | undefined;
    const flush = () => {
      if (stream) {
        boxes.push({
          cell: index,
          lines: _lines(stream.text),
          first: stream.text.split("\n")[0],
        });
      }
      stream = undefined;
    };
    for (const output of cell.outputs ?? []) {
      if (output.output_type === "stream") {
        const text = _text(output.text);
        if (stream && stream.name === output.name) stream.text += text;
        else {
          flush();
          stream = { name: output.name, text };
        }
        continue;
      }
      flush();
      if (!("data" in output)) continue;
      const data = output.data as Record<string, unknown>;
      if (Object.keys(data).some((mime) => mime.startsWith("image/"))) {
        continue;
      }
      const plain = _text(data["text/plain"]);
      const markdown = _text(data["text/markdown"]);
      const rows = (_text(data["text/html"]).match(/<tr[\s>]/g) ?? []).length;
      boxes.push({
        cell: index,
        lines: Math.max(_lines(plain), _lines(markdown), rows),
        first: (plain || markdown).split("\n")[0],
      });
    }
    flush();
  });
  return boxes;
}

/**
 * The outputs of `nb` longer than `maxLines` lines.
 *
 * @example
 * ```ts ignore
 * console.log(longOutputs(nb)); // [] when every output fits a screen
 * ```
 */
export function longOutputs(
  nb: Notebook,
  maxLines = MAX_OUTPUT_LINES,
): LongOutput[] {
  return outputLines(nb).filter((box) => box.lines > maxLines);
}

if (import.meta.main) {
  let long = 0;
  for (const path of Deno.args) {
    for (const box of longOutputs(await readNotebook(path))) {
      long++;
      console.log(
        `${path}: cell ${box.cell}: ${box.lines} lines (${
          box.first.slice(0, 60)
        })`,
      );
    }
  }
  if (long > 0) {
    console.log(`${long} output(s) longer than ${MAX_OUTPUT_LINES} lines`);
  }
  Deno.exit(long > 0 ? 1 : 0);
}
