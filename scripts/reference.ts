/**
 * `deno task reference`: folds the outcome of full-scale runs into the
 * committed reference run, `notebooks/reference/`, experiment by experiment.
 * The reference is meant to come from one run of all five notebooks at one
 * commit (about an hour on a 2-core CPU); `tests/reference_test.ts` checks
 * that its rows name a single commit.
 *
 * Usage: `deno task reference RUN_DIR... [--ref DIR] [--command TEXT]
 * [--commit HASH]`, or
 * `deno task reference --png-figures NOTEBOOK...`
 *
 * Each RUN_DIR is a report of `deno task reproduce --scale full` (it holds
 * `results/<experiment>.results.json` and `notebooks/<notebook>.ipynb`). For
 * every experiment found there, the reference's rows of that experiment are
 * replaced by the new ones, each stamped with when, how (`--command`, default
 * "deno task reproduce --scale full") and on which machine it was produced;
 * the executed notebook is copied beside `results.json`, its figures are
 * written to `figures/` (SVG where the output holds it, else PNG; the
 * experiment's older figures are removed), and `results.md` is rewritten
 * from all rows. Each row also keeps the commit the run's code was at (from
 * the report, or `--commit` for reports made before it was recorded) and its
 * notebook's wall time; `produced` sums them up ({@linkcode referenceProvenance}).
 *
 * `--png-figures` migrates notebooks executed before figures displayed as
 * PNG: each `image/svg+xml` output is rasterised with the library's renderer
 * and gets the alt text, so its bundle is the one a figure displays as now
 * (`figureBundle` of `lib/plot`), and the notebook shows its figures when
 * opened untrusted. The SVG files in `figures/` stay as they are.
 *
 * @module
 */
import { basename, join } from "node:path";
import { type NotebookResults, percentText } from "../lib/experiments/mod.ts";
import { markdownCell } from "../lib/experiments/results.ts";
import { type BundleOptions, figureBundle } from "../lib/plot/figure.ts";
import { chartImage } from "../lib/train/progress.ts";
import {
  joinText,
  type Notebook,
  readNotebook,
  serializeNotebook,
} from "./jupyter/mod.ts";
import { parseCli, pathFlag, runCli, UsageError } from "./_cli.ts";
import { machineDescription, REFERENCE_PATH } from "./reproduce.ts";

const USAGE =
  "usage: deno task reference RUN_DIR... [--ref DIR] [--command TEXT] [--commit HASH]\n" +
  "       deno task reference --png-figures NOTEBOOK...";

/** One row of `notebooks/reference/results.json`. */
export interface ReferenceRecord extends Record<string, unknown> {
  experiment: string;
  model: string;
  split: string;
  accuracy: number;
  /** When the notebook wrote this row (ISO time). */
  produced_at: string;
  /** The command that produced it. */
  produced_by: string;
  /** The machine it ran on. */
  machine: string;
  /** Scale and seed of the run. */
  scale: string;
  seed: number;
  /** The commit the run's code was at (absent in rows folded before it was recorded). */
  commit?: string;
  /** Wall time of the whole notebook that produced the row, in seconds. */
  notebook_seconds?: number;
}

/** What a report's own `results.json` says of one notebook run. */
export interface RunStamp {
  /** The command that produced it. */
  command: string;
  /** The machine it ran on. */
  machine: string;
  /** The commit of the code, when known. */
  commit?: string;
  /** Wall time of each notebook, by experiment id. */
  notebookSeconds?: Record<string, number>;
}

/** `notebooks/reference/results.json`. */
export interface ReferenceFile {
  /** What the file is, in words. */
  produced: Record<string, string>;
  /** Every experiment's rows. */
  rows: ReferenceRecord[];
}

/** Writes `text` to `path` through a temporary file and a rename. */
async function _writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}

/**
 * Replaces the rows of each experiment in `results` and returns the merged
 * rows, in experiment order.
 *
 * @example
 * ```ts
 * import { mergeReferenceRows } from "./reference.ts";
 * console.log(mergeReferenceRows([], [], { command: "x", machine: "y" }));
 * ```
 */
export function mergeReferenceRows(
  existing: readonly ReferenceRecord[],
  results: readonly NotebookResults[],
  stamp: RunStamp,
): ReferenceRecord[] {
  const replaced = new Set(results.map((r) => r.experiment));
  const rows = existing.filter((r) => !replaced.has(r.experiment));
  for (const result of results) {
    for (const row of result.rows) {
      rows.push({
        ...row,
        produced_at: result.written_at,
        produced_by: stamp.command,
        machine: stamp.machine,
        scale: result.scale,
        seed: result.seed,
        ...(stamp.commit ? { commit: stamp.commit } : {}),
        ...(stamp.notebookSeconds?.[result.experiment] !== undefined
          ? { notebook_seconds: stamp.notebookSeconds[result.experiment] }
          : {}),
      });
    }
  }
  return rows.sort((a, b) => a.experiment.localeCompare(b.experiment));
}

/**
 * The reference table in Markdown: accuracy per test split beside the
 * published figure and the gap to it, epochs, training time, backend, date,
 * scale and the data actually used.
 *
 * @example
 * ```ts
 * import { referenceMarkdown } from "./reference.ts";
 * console.log(referenceMarkdown({ produced: {}, rows: [] }));
 * ```
 */
export function referenceMarkdown(reference: ReferenceFile): string {
  const header = [
    "experiment",
    "model",
    "split",
    "accuracy",
    "published",
    "gap",
    "epochs",
    "train time",
    "backend",
    "scale",
    "produced",
    "data",
  ];
  const lines = [
    "# Reference run at full scale",
    "",
    "The tutorials' settings, on the data this machine has (substitutes are " +
    "named in the data column). Each row says when and how it was produced; " +
    "the executed notebooks and their figures are beside this file. Rebuild " +
    "it from one commit: `deno task reproduce --scale full` (all five " +
    "notebooks), then `deno task reference <report dir>`.",
    "",
    ...Object.entries(reference.produced).map(([k, v]) => `- ${k}: ${v}`),
    "",
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
  ];
  for (const r of reference.rows) {
    const published = r.published_accuracy;
    const gap = typeof published === "number"
      ? `${(100 * (r.accuracy - published)).toFixed(2)} pp`
      : "—";
    const seconds = Number(r.train_seconds ?? NaN);
    lines.push(
      `| ${
        [
          r.experiment,
          r.model,
          r.split,
          percentText(r.accuracy, { missing: "—" }),
          r.published ?? "",
          gap,
          r.epochs ?? "",
          Number.isFinite(seconds) ? `${(seconds / 60).toFixed(1)} min` : "—",
          r.backend ?? "",
          r.scale,
          `${r.produced_at.slice(0, 10)}: ${r.produced_by}`,
          r.data_note ?? "",
        ].map(markdownCell).join(" | ")
      } |`,
    );
  }
  const machines = [...new Set(reference.rows.map((r) => r.machine))];
  lines.push("", "Machines:", ...machines.map((m) => `- ${m}`), "");
  return lines.join("\n");
}

/**
 * The figures of an executed notebook, in order: the SVG where the output
 * holds one (trusted displays, older runs), else the PNG.
 */
async function _figures(
  path: string,
): Promise<{ ext: "svg" | "png"; bytes: Uint8Array }[]> {
  const nb = await readNotebook(path);
  const figures: { ext: "svg" | "png"; bytes: Uint8Array }[] = [];
  for (const cell of nb.cells) {
    for (const output of cell.outputs ?? []) {
      const data = (output as { data?: Record<string, unknown> }).data;
      const svg = data?.["image/svg+xml"];
      const png = data?.["image/png"];
      if (svg !== undefined) {
        figures.push({
          ext: "svg",
          bytes: new TextEncoder().encode(joinText(svg as string | string[])),
        });
      } else if (png !== undefined) {
        const base64 = joinText(png as string | string[]).replace(/\s/g, "");
        figures.push({
          ext: "png",
          bytes: Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)),
        });
      }
    }
  }
  return figures;
}

/**
 * Replaces every `image/svg+xml`-only figure output of `nb` (in place) by the
 * bundle the library displays figures as ({@linkcode figureBundle}: PNG at 2x
 * and alt text; `options.svg` keeps the SVG too), and the inline SVG chart of
 * each training-progress output (`text/html`) by the PNG `<img>` a finished
 * run saves now ({@linkcode chartImage}). Outputs that already carry a PNG are
 * left alone, so running it twice changes nothing. Returns how many outputs
 * it replaced.
 *
 * @example
 * ```ts ignore
 * import { rasterizeFigures } from "./reference.ts";
 * const nb = await readNotebook("notebooks/reference/004_cifar10_cnn.ipynb");
 * console.log(await rasterizeFigures(nb)); // 9
 * ```
 */
export async function rasterizeFigures(
  nb: Notebook,
  options: BundleOptions = {},
): Promise<number> {
  let replaced = 0;
  for (const cell of nb.cells) {
    for (const output of cell.outputs ?? []) {
      if (
        output.output_type !== "execute_result" &&
        output.output_type !== "display_data"
      ) continue;
      const html = output.data["text/html"];
      if (html !== undefined) {
        const text = joinText(html as string | string[]);
        const chart =
          /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*?<\/svg>$/
            .exec(text);
        if (text.startsWith("<pre") && chart) {
          output.data = {
            ...output.data,
            "text/html": text.slice(0, chart.index) +
              await chartImage(chart[0]),
          };
          replaced++;
        }
      }
      const svg = output.data["image/svg+xml"];
      if (svg === undefined || output.data["image/png"] !== undefined) {
        continue;
      }
      const text = joinText(svg as string | string[]);
      const bundle = await figureBundle(text, options);
      output.data = { ...bundle };
      replaced++;
    }
  }
  return replaced;
}

async function _pngFigures(paths: string[]): Promise<number> {
  if (paths.length === 0) {
    throw new UsageError("name at least one notebook for --png-figures");
  }
  for (const path of paths) {
    const before = (await Deno.stat(path)).size;
    const nb = await readNotebook(path);
    const replaced = await rasterizeFigures(nb);
    if (replaced > 0) await _writeAtomic(path, serializeNotebook(nb));
    const after = (await Deno.stat(path)).size;
    console.log(
      `${path}: ${replaced} output(s) rasterised; ${before} -> ${after} bytes`,
    );
  }
  return 0;
}

/** The commit and the notebooks' wall times a report's `results.json` holds. */
async function _readReport(
  dir: string,
): Promise<{ commit?: string; notebookSeconds: Record<string, number> }> {
  const path = join(dir, "results.json");
  let report: {
    commit?: string | null;
    notebooks?: { experiment: string; seconds: number }[];
  };
  try {
    report = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(
      `${path} cannot be read (${(e as Error).message}): give the folder ` +
        "`deno task reproduce` wrote",
    );
  }
  return {
    commit: report.commit ?? undefined,
    notebookSeconds: Object.fromEntries(
      (report.notebooks ?? []).map((n) => [n.experiment, n.seconds]),
    ),
  };
}

/**
 * Where the reference's rows come from, in words: the commit(s) and, when
 * every experiment's notebook time is known, each notebook's wall time and
 * their total. Goes into `produced` of `results.json` and the README.
 *
 * @example
 * ```ts
 * import { referenceProvenance } from "./reference.ts";
 * const p = referenceProvenance([
 *   { experiment: "001-x", commit: "abc1234", notebook_seconds: 600 },
 * ]);
 * console.assert(p.commits === "abc1234" && p.total_minutes === "10.0");
 * ```
 */
export function referenceProvenance(
  rows: readonly Pick<
    ReferenceRecord,
    "experiment" | "commit" | "notebook_seconds"
  >[],
): Record<string, string> {
  const commits = [...new Set(rows.map((r) => r.commit ?? "unrecorded"))];
  const seconds = new Map<string, number | undefined>();
  for (const row of rows) seconds.set(row.experiment, row.notebook_seconds);
  const out: Record<string, string> = { commits: commits.join(", ") };
  if ([...seconds.values()].every((s) => typeof s === "number")) {
    out.notebook_minutes = [...seconds.entries()]
      .map(([id, s]) => `${id.slice(0, 3)} ${((s as number) / 60).toFixed(1)}`)
      .join(", ");
    const total = [...seconds.values()].reduce((a, s) => a! + s!, 0)!;
    out.total_minutes = (total / 60).toFixed(1);
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli(argv, {
    ref: { type: "string" },
    command: { type: "string" },
    commit: { type: "string" },
    "png-figures": { type: "boolean" },
  }, { positionals: true });
  if (values["png-figures"]) {
    return await _pngFigures(positionals.map((p) => pathFlag(p)));
  }
  if (positionals.length === 0) {
    throw new UsageError("name at least one run folder");
  }
  const refDir = pathFlag(values.ref) ??
    REFERENCE_PATH.replace(/\/results\.json$/, "");
  const refPath = join(refDir, "results.json");
  await Deno.mkdir(join(refDir, "figures"), { recursive: true });
  let reference: ReferenceFile = { produced: {}, rows: [] };
  try {
    reference = JSON.parse(await Deno.readTextFile(refPath));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new Error(`${refPath} cannot be read: ${(e as Error).message}`);
    }
  }
  const machine = await machineDescription();
  let rows = reference.rows;
  let replaced = 0;
  for (const dir of positionals.map((p) => pathFlag(p))) {
    const results: NotebookResults[] = [];
    for await (const entry of Deno.readDir(join(dir, "results"))) {
      if (!entry.name.endsWith(".results.json")) continue;
      const result = JSON.parse(
        await Deno.readTextFile(join(dir, "results", entry.name)),
      ) as NotebookResults;
      if (result.scale !== "full") {
        throw new Error(
          `${entry.name} in ${dir} ran at ${result.scale} scale; the ` +
            "reference holds full-scale runs only",
        );
      }
      results.push(result);
      const prefix = result.experiment.slice(0, 3);
      // The experiment's figures from an earlier run (maybe SVG, maybe more
      // of them) must not stay beside the new ones.
      for await (const old of Deno.readDir(join(refDir, "figures"))) {
        if (old.name.startsWith(`${result.experiment}-`)) {
          await Deno.remove(join(refDir, "figures", old.name));
        }
      }
      for await (const nb of Deno.readDir(join(dir, "notebooks"))) {
        if (!nb.name.startsWith(prefix) || !nb.name.endsWith(".ipynb")) {
          continue;
        }
        const source = join(dir, "notebooks", nb.name);
        await Deno.copyFile(source, join(refDir, basename(nb.name)));
        const figures = await _figures(source);
        for (const [i, figure] of figures.entries()) {
          const name = `${result.experiment}-${String(i + 1).padStart(2, "0")}`;
          const path = join(refDir, "figures", `${name}.${figure.ext}`);
          const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
          await Deno.writeFile(tmp, figure.bytes);
          await Deno.rename(tmp, path);
        }
        console.error(`${nb.name}: copied, ${figures.length} figure(s)`);
      }
    }
    if (results.length === 0) {
      throw new Error(`${dir}/results holds no results`);
    }
    const report = await _readReport(dir);
    const commit = values.commit ?? report.commit;
    if (!commit) {
      throw new UsageError(
        `${dir}/results.json does not say which commit ran (reports made ` +
          "before it was recorded); give it with --commit HASH",
      );
    }
    rows = mergeReferenceRows(rows, results, {
      command: values.command ?? "deno task reproduce --scale full",
      machine,
      commit,
      notebookSeconds: report.notebookSeconds,
    });
    replaced += results.length;
  }
  reference = {
    produced: {
      what: "notebooks executed at full scale (CNN_SCALE=full)",
      updated: new Date().toISOString(),
      ...referenceProvenance(rows),
    },
    rows,
  };
  await _writeAtomic(refPath, JSON.stringify(reference, null, 2) + "\n");
  await _writeAtomic(join(refDir, "results.md"), referenceMarkdown(reference));
  console.log(
    `${refPath}: ${reference.rows.length} rows (${replaced} ` +
      "experiment(s) replaced)",
  );
  return 0;
}

if (import.meta.main) runCli(USAGE, main);
