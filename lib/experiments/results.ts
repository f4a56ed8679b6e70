/**
 * Result rows of the experiments, the table they form (a nodejs-polars
 * DataFrame) and its Markdown rendering with the published figures beside our
 * accuracies; shared by the notebooks' last cell and `deno task reproduce`.
 *
 * @example
 * ```ts
 * import { resultsMarkdown, type ResultRow } from "./results.ts";
 * const rows: ResultRow[] = [];
 * console.log(resultsMarkdown(rows));
 * ```
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Scale } from "./scale.ts";

/** One trained model evaluated on one test split. */
export interface ResultRow {
  /** Experiment id, e.g. "000-kannada-mnist". */
  experiment: string;
  /** Model name of the registry, e.g. "lenet5". */
  model: string;
  /** Dataset name, e.g. "kannada-mnist". */
  dataset: string;
  /** Test split the accuracy is measured on ("test", "dig"). */
  split: string;
  /** Accuracy on that split, 0..1. */
  accuracy: number;
  /** Number of test images evaluated. */
  test_samples: number;
  /** Number of training images. */
  train_samples: number;
  /** Epochs actually trained (early stopping may end sooner than asked). */
  epochs: number;
  /** Wall-clock seconds of training (evaluation excluded). */
  train_seconds: number;
  /** TensorFlow.js backend that ran it. */
  backend: string;
  /** Trainable + non-trainable parameters of the model. */
  params: number;
  /** The published figure for this dataset/split, as text ("" when none). */
  published: string;
  /** The published accuracy (0..1), or null. */
  published_accuracy: number | null;
  /** What data was really used (substitutes, subsets); "" when the official split. */
  data_note: string;
}

/** The columns of {@linkcode resultsTable}, in order. */
export const RESULT_COLUMNS = [
  "experiment",
  "model",
  "dataset",
  "split",
  "accuracy",
  "test_samples",
  "train_samples",
  "epochs",
  "train_seconds",
  "backend",
  "params",
  "published",
  "published_accuracy",
  "data_note",
] as const;

/**
 * The rows as a nodejs-polars DataFrame with the {@linkcode RESULT_COLUMNS}
 * (displays as a table in the Deno Jupyter kernel).
 *
 * @example
 * ```ts
 * import { resultsTable } from "./results.ts";
 * const df = resultsTable([]);
 * console.log(df.columns);
 * ```
 */
export function resultsTable(rows: readonly ResultRow[]): pl.DataFrame {
  const columns: Record<string, unknown[]> = {};
  for (const name of RESULT_COLUMNS) {
    columns[name] = rows.map((r) => r[name]);
  }
  if (rows.length === 0) {
    return pl.DataFrame(
      Object.fromEntries(RESULT_COLUMNS.map((c) => [c, [] as string[]])),
    );
  }
  // Nulls in published_accuracy need an explicit float series.
  return pl.DataFrame(
    RESULT_COLUMNS.map((name) =>
      name === "published_accuracy"
        ? pl.Series(name, columns[name] as (number | null)[], pl.Float64)
        : pl.Series(name, columns[name])
    ),
  );
}

/** Options of {@linkcode resultsMarkdown}. */
export interface ResultsMarkdownOptions {
  /** Include the data-note column. Default: true. */
  notes?: boolean;
}

/** Options of {@linkcode percentText}. */
export interface PercentTextOptions {
  /** Text for a missing or non-finite value. Default: "" (an empty cell). */
  missing?: string;
}

/**
 * A 0..1 accuracy as a percentage with two decimals ("98.96%"), or
 * `options.missing` when it is not a finite number.
 *
 * @example
 * ```ts
 * import { percentText } from "./results.ts";
 * console.log(percentText(0.98961), percentText(null, { missing: "—" })); // 98.96% —
 * ```
 */
export function percentText(
  value: unknown,
  options: PercentTextOptions = {},
): string {
  return typeof value === "number" && Number.isFinite(value)
    ? `${(100 * value).toFixed(2)}%`
    : options.missing ?? "";
}

/**
 * Any value as the text of one Markdown table cell: pipes escaped, line
 * breaks turned into spaces, null and undefined empty.
 *
 * @example
 * ```ts
 * import { markdownCell } from "./results.ts";
 * console.log(markdownCell("a|b\nc")); // a\|b c
 * ```
 */
export function markdownCell(value: unknown): string {
  return String(value ?? "").replaceAll("|", "\\|").replaceAll("\n", " ");
}

/**
 * The rows as a Markdown table: accuracy next to the published figure,
 * training time, backend, parameters and (by default) the data note.
 *
 * @example
 * ```ts
 * import { resultsMarkdown } from "./results.ts";
 * console.log(resultsMarkdown([{
 *   experiment: "001-mnist-lenet5", model: "lenet5", dataset: "mnist",
 *   split: "test", accuracy: 0.98, test_samples: 10000, train_samples: 60000,
 *   epochs: 5, train_seconds: 60, backend: "wasm", params: 61706,
 *   published: "0.95% test error (99.05%)", published_accuracy: 0.9905,
 *   data_note: "",
 * }]));
 * ```
 */
export function resultsMarkdown(
  rows: readonly ResultRow[],
  options: ResultsMarkdownOptions = {},
): string {
  const withNotes = options.notes ?? true;
  const header = [
    "experiment",
    "model",
    "dataset",
    "split",
    "accuracy",
    "published",
    "test n",
    "train n",
    "epochs",
    "train s",
    "backend",
    "params",
    ...(withNotes ? ["data"] : []),
  ];
  const lines = [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
  ];
  for (const r of rows) {
    const cells = [
      r.experiment,
      r.model,
      r.dataset,
      r.split,
      percentText(r.accuracy),
      r.published,
      String(r.test_samples),
      String(r.train_samples),
      String(r.epochs),
      r.train_seconds.toFixed(1),
      r.backend,
      r.params.toLocaleString("en-US"),
      ...(withNotes ? [r.data_note] : []),
    ];
    lines.push(`| ${cells.map(markdownCell).join(" | ")} |`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The rows as CSV text (RFC 4180 quoting), one line per row after the header.
 *
 * @example
 * ```ts
 * import { resultsCsv } from "./results.ts";
 * console.log(resultsCsv([]).trim()); // the header line
 * ```
 */
export function resultsCsv(rows: readonly ResultRow[]): string {
  const quote = (v: unknown) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [RESULT_COLUMNS.join(",")];
  for (const r of rows) {
    lines.push(RESULT_COLUMNS.map((c) => quote(r[c])).join(","));
  }
  return lines.join("\n") + "\n";
}

/** What a notebook writes as data for `deno task reproduce`. */
export interface NotebookResults {
  /** Experiment id, e.g. "001-mnist-lenet5". */
  experiment: string;
  /** Scale the notebook ran at. */
  scale: Scale;
  /** The backend the notebook actually used. */
  backend: string;
  /** The random seed the notebook ran with. */
  seed: number;
  /** One row per model and test split. */
  rows: ResultRow[];
  /** What the reader must know: substitutes, deviations from the tutorial. */
  notes: string[];
  /** ISO time the results were written. */
  written_at: string;
}

/** Options of {@linkcode saveNotebookResults}. */
export interface SaveNotebookResultsOptions {
  /**
   * Folder to write `<experiment>.results.json` into (a notebook passes
   * `runConfigFromEnv().resultsDir`, i.e. `CNN_RESULTS_DIR`). Default: none,
   * and then nothing is written (a reader running the notebook by hand wants
   * no stray files).
   */
  dir?: string;
}

/**
 * Writes a notebook's results as data (`<dir>/<experiment>.results.json`,
 * atomically), so `deno task reproduce` builds its report from what the
 * executed notebooks produced instead of training every model again. Returns
 * the path written, or null when no folder was given.
 *
 * @example
 * ```ts
 * import { saveNotebookResults } from "./results.ts";
 * await saveNotebookResults({
 *   experiment: "001-mnist-lenet5", scale: "smoke", backend: "wasm", seed: 0,
 *   rows: [], notes: [], written_at: new Date().toISOString(),
 * }, { dir: await Deno.makeTempDir() });
 * ```
 */
export async function saveNotebookResults(
  results: NotebookResults,
  options: SaveNotebookResultsOptions = {},
): Promise<string | null> {
  const dir = options.dir;
  if (!dir) return null;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${results.experiment}.results.json`;
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(results, null, 2) + "\n");
  await Deno.rename(tmp, path);
  return path;
}
