/**
 * The parts of the Jupyter notebook format (nbformat v4) the runner reads and
 * writes, kept as plain JSON values so a notebook round-trips unchanged.
 *
 * @module
 */

/** A JSON value as stored in a notebook. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A JSON object as stored in a notebook. */
export type JsonObject = { [key: string]: JsonValue };

/** Multi-line text: nbformat stores it as one string or a list of lines. */
export type MultilineText = string | string[];

/** A MIME bundle, e.g. `{"text/plain": "1", "image/svg+xml": "<svg…"}`. */
export type MimeBundle = { [mime: string]: JsonValue };

/** One output of a code cell (nbformat v4). */
export type Output =
  | { output_type: "stream"; name: string; text: MultilineText }
  | {
    output_type: "display_data";
    data: MimeBundle;
    metadata: JsonObject;
  }
  | {
    output_type: "execute_result";
    execution_count: number | null;
    data: MimeBundle;
    metadata: JsonObject;
  }
  | {
    output_type: "error";
    ename: string;
    evalue: string;
    traceback: string[];
  };

/** A notebook cell (nbformat v4). */
export interface Cell {
  /** `"code"`, `"markdown"` or `"raw"`. */
  cell_type: string;
  /** Cell id (nbformat 4.5 and later). */
  id?: string;
  /** The cell's text. */
  source: MultilineText;
  /** Cell metadata. */
  metadata: JsonObject;
  /** Outputs (code cells only). */
  outputs?: Output[];
  /** Execution count (code cells only). */
  execution_count?: number | null;
  /** Any other field is kept as read. */
  [key: string]: unknown;
}

/** A notebook (nbformat v4). */
export interface Notebook {
  /** The cells in order. */
  cells: Cell[];
  /** Notebook metadata (kernelspec, language_info, …). */
  metadata: JsonObject;
  /** Major format version; the runner accepts only 4. */
  nbformat: number;
  /** Minor format version. */
  nbformat_minor: number;
}

/**
 * Joins nbformat multi-line text into one string.
 *
 * @example
 * ```ts
 * joinText(["a\n", "b"]); // "a\nb"
 * ```
 */
export function joinText(text: MultilineText | undefined): string {
  if (text === undefined) return "";
  return Array.isArray(text) ? text.join("") : text;
}

/**
 * Parses notebook JSON text, checking it is nbformat v4.
 *
 * @example
 * ```ts
 * const nb = parseNotebook(await Deno.readTextFile("notebooks/001_mnist_lenet5.ipynb"));
 * ```
 */
export function parseNotebook(text: string, name = "notebook"): Notebook {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${name} is not valid JSON: ${(e as Error).message}`);
  }
  const nb = value as Partial<Notebook>;
  if (
    typeof nb !== "object" || nb === null || !Array.isArray(nb.cells) ||
    typeof nb.metadata !== "object"
  ) {
    throw new Error(`${name} is not a Jupyter notebook (no cells/metadata)`);
  }
  if (nb.nbformat !== 4) {
    throw new Error(
      `${name} has nbformat ${nb.nbformat}; only version 4 is supported ` +
        "(convert it with `jupyter nbconvert --to notebook`)",
    );
  }
  return nb as Notebook;
}

/**
 * Reads and parses a notebook file.
 *
 * @example
 * ```ts
 * const nb = await readNotebook("notebooks/001_mnist_lenet5.ipynb");
 * console.log(nb.cells.length);
 * ```
 */
export async function readNotebook(path: string): Promise<Notebook> {
  return parseNotebook(await Deno.readTextFile(path), path);
}

/** Splits text into lines that keep their `\n`, as Jupyter stores them. */
function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.length === 1 && lines[0] === "" ? [] : lines;
}

const SPLIT_MIMES = new Set(["application/javascript", "image/svg+xml"]);

function splitBundle(data: MimeBundle): MimeBundle {
  const out: MimeBundle = {};
  for (const [mime, value] of Object.entries(data)) {
    out[mime] = typeof value === "string" && (mime.startsWith("text/") ||
        SPLIT_MIMES.has(mime))
      ? splitLines(value)
      : value;
  }
  return out;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(compareCodePoints)) {
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}

/**
 * Orders strings by Unicode code point, as Python's `sorted` does.
 *
 * @example
 * ```ts
 * ["b", "a"].sort(compareCodePoints); // ["a", "b"]
 * ```
 */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * Gives every cell of an nbformat >= 4.5 notebook that lacks one a unique
 * `id` (`cell-<n>`), in place; returns how many it added. Jupyter's reader
 * adds random ids to such cells when it opens the file, so a notebook signed
 * without them would no longer match its signature there: Jupyter would call
 * it untrusted and hide its SVG figures.
 *
 * @example
 * ```ts
 * const added = ensureCellIds(nb); // before signing and writing
 * ```
 */
export function ensureCellIds(nb: Notebook): number {
  if (nb.nbformat < 4 || (nb.nbformat === 4 && nb.nbformat_minor < 5)) {
    return 0;
  }
  const taken = new Set(nb.cells.map((c) => c.id).filter((id) => id));
  let added = 0;
  let next = 0;
  for (const cell of nb.cells) {
    if (cell.id) continue;
    while (taken.has(`cell-${next}`)) next++;
    cell.id = `cell-${next}`;
    taken.add(cell.id);
    added++;
  }
  return added;
}

/**
 * Returns the in-memory form nbformat's reader produces: multi-line text
 * joined into strings and transient fields (`metadata.signature`,
 * `orig_nbformat*`, cells' `metadata.trusted`) removed. Signatures are
 * computed over this form.
 *
 * @example
 * ```ts
 * const clean = normalizeNotebook(nb);
 * ```
 */
export function normalizeNotebook(nb: Notebook): Notebook {
  const copy = structuredClone(nb) as Notebook;
  delete copy.metadata.signature;
  delete copy.metadata.orig_nbformat;
  delete copy.metadata.orig_nbformat_minor;
  for (const cell of copy.cells) {
    if (cell.metadata) delete cell.metadata.trusted;
    if (Array.isArray(cell.source)) cell.source = cell.source.join("");
    if (cell.cell_type !== "code") continue;
    for (const output of cell.outputs ?? []) {
      if (
        output.output_type === "display_data" ||
        output.output_type === "execute_result"
      ) {
        for (const [mime, value] of Object.entries(output.data)) {
          if (
            Array.isArray(value) && value.every((v) => typeof v === "string")
          ) {
            output.data[mime] = value.join("");
          }
        }
      } else if (output.output_type === "stream") {
        output.text = joinText(output.text);
      }
    }
  }
  return copy;
}

/**
 * Serialises a notebook the way Jupyter writes it (keys sorted, one-space
 * indent, multi-line text split into lines, trailing newline), so files
 * diff cleanly and read back identically in Python.
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("out.ipynb", serializeNotebook(nb));
 * ```
 */
export function serializeNotebook(nb: Notebook): string {
  const copy = normalizeNotebook(nb);
  for (const cell of copy.cells) {
    cell.source = splitLines(joinText(cell.source));
    for (const output of cell.outputs ?? []) {
      if (
        output.output_type === "display_data" ||
        output.output_type === "execute_result"
      ) {
        output.data = splitBundle(output.data);
      } else if (output.output_type === "stream") {
        output.text = splitLines(joinText(output.text));
      }
    }
  }
  return JSON.stringify(sortKeys(copy), null, 1) + "\n";
}

/**
 * Builds a notebook for the Deno kernel from cell sources; code cells are
 * plain strings, markdown cells are `{ markdown: "…" }`. Used by tests and
 * tools that generate notebooks.
 *
 * @example
 * ```ts
 * const nb = makeNotebook([{ markdown: "# Title" }, 'console.log("hi")']);
 * ```
 */
export function makeNotebook(
  cells: ReadonlyArray<string | { markdown: string }>,
): Notebook {
  return {
    cells: cells.map((cell, i) =>
      typeof cell === "string"
        ? {
          cell_type: "code",
          id: `cell-${i}`,
          source: cell,
          metadata: {},
          outputs: [],
          execution_count: null,
        }
        : {
          cell_type: "markdown",
          id: `cell-${i}`,
          source: cell.markdown,
          metadata: {},
        }
    ),
    metadata: {
      kernelspec: {
        display_name: "Deno",
        language: "typescript",
        name: "deno",
      },
      language_info: {
        codemirror_mode: "typescript",
        file_extension: ".ts",
        mimetype: "text/x.typescript",
        name: "typescript",
        nbconvert_exporter: "script",
        pygments_lexer: "typescript",
        version: "5.9.2",
      },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}
