/**
 * Rewrites the generated blocks of `README.md` and `notebooks/README.md`
 * from the committed data they show, so no figure in them is typed by hand.
 * README.md:
 *
 * - `results`: the full-scale reference (`notebooks/reference/results.json`);
 * - `commands`: the two commands' measured times (`docs/timings.json`);
 * - `tasks`: every task of `deno.json`, with its line from {@linkcode TASKS};
 * - `speed`: the bench against PyTorch and the SIMD kernels' ceiling
 *   (`docs/benchmarks.json`, `speedBlock` of `bench_docs.ts`), with the
 *   reference's training time beside PyTorch's estimate.
 *
 * notebooks/README.md: `reference` and `twins` (the reference run, the
 * PyTorch twins over seeds) and `config` (the run configuration's variables,
 * `RUN_CONFIG_VARIABLES` in `lib/config.ts`).
 *
 * A block is the text between `<!-- generated:NAME ... -->` and
 * `<!-- /generated:NAME -->`. `tests/docs_test.ts` fails when a block differs
 * from what this script would write.
 *
 * Usage: `deno task docs` (rewrite) or `deno task docs --check` (exit 1 when
 * a block is stale).
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RUN_CONFIG_VARIABLES, type RunConfigVariable } from "../lib/config.ts";
import { parseCli, runCli } from "./_cli.ts";
import { BENCH_DOCS, type BenchReport, speedBlock } from "./bench_docs.ts";
import { formatMarkdown } from "./_markdown.ts";
import { referenceProvenance } from "./reference.ts";
import { mean } from "./seeds.ts";
import { readTimings, type Timing, timingText } from "./timings.ts";

const repo = fileURLToPath(new URL("../", import.meta.url));

/** What each deno task does, for the README's Scripts table. */
export const TASKS: Record<string, string> = {
  test:
    "all checks and tests (format, lint, types, @example blocks, doc lint, notebooks' code, every suite), ending `N passed, N failed`; `--quick` skips the static checks",
  data:
    "`<names...|all> [--mirror DIR] [--offline]`: fetch and verify datasets; `--list` shows the cache, `--verify` re-hashes it",
  bench:
    "training and inference speed of the nine notebook recipes beside their PyTorch twins, in one run; `--quick`, `--json`, `--profile`, `--write-docs`",
  "bench-docs":
    "regenerate `docs/benchmarks.md` from `docs/benchmarks.json` (`--check` compares)",
  train:
    "`--model M [--dataset D] [--scale S] [--epochs N] ...`: train any model on any dataset from the command line; `--list` shows the models",
  notebooks:
    "`[--scale S] [--progress S] [paths...]`: execute notebooks headlessly with the real kernel; writes executed, signed notebooks",
  reproduce:
    "`[--scale S] [--seed N] [--only 000,003] [--backend B] [--mirror DIR]`: checks the data, then runs the five notebooks once; report in `reports/<timestamp>/`",
  kernel: "install the project-local Jupyter kernelspec into `.jupyter/`",
  "build-kernels":
    "rebuild `lib/backend/kernels/*.wasm` from the C sources (needs `clang` and `lld`)",
  "backend-readme":
    "regenerate `lib/backend/README.md` from the backend's kernel manifest",
  reference:
    "`<report dir>`: add a full-scale run's rows and notebooks to `notebooks/reference/`; `--png-figures` migrates old SVG-only figures",
  docs:
    "rewrite the generated blocks of README.md and notebooks/README.md from the committed JSON",
  timings:
    "`NAME -- COMMAND...`: run a command and record its wall time in `docs/timings.json` (the README's durations)",
};

/**
 * The README's two commands, each with how long it took when last measured
 * (`docs/timings.json`, written by `deno task timings`), or how to measure
 * it where none is recorded.
 *
 * @example
 * ```ts
 * import { commandsBlock } from "./docs.ts";
 * const t = { command: "x", seconds: 600, commit: "abc1234", date: "2026-12-07T00:00:00Z", machine: "m" };
 * console.assert(commandsBlock({ "reproduce-quick": t, test: t }).includes("10 min on 2 cores"));
 * ```
 */
export function commandsBlock(timings: Record<string, Timing>): string {
  const need = (name: string, command: string) => {
    const timing = timings[name];
    return timing
      ? timingText(timing)
      : `an unmeasured time (record it with \`deno task timings ${name} -- ${command}\`)`;
  };
  return [
    "```sh",
    "deno task reproduce   # the five notebooks once, at quick scale -> reports/<timestamp>/",
    "deno task test        # every check and test suite",
    "```",
    "",
    `\`reproduce\` took ${
      need("reproduce-quick", "deno task reproduce")
    }; \`test\` took ${need("test", "deno task test")}.`,
  ].join("\n");
}

/** One row of `notebooks/reference/results.json` (the fields used here). */
export interface ReferenceRow {
  /** Experiment id, e.g. `001-mnist-lenet5`. */
  experiment: string;
  /** Model name as the notebook reports it. */
  model: string;
  /** Test split: `test`, or `dig` (Dig-MNIST). */
  split: string;
  /** Test accuracy, 0..1. */
  accuracy: number;
  /** The published figure it is compared with. */
  published: string;
  /** Epochs trained. */
  epochs: number;
  /** Training time in seconds. */
  train_seconds: number;
  /** The commit the run's code was at, when recorded. */
  commit?: string;
  /** Wall time of the notebook that produced the row, when recorded. */
  notebook_seconds?: number;
  /** When the row was produced (ISO time). */
  produced_at?: string;
  /** Trainable parameters, when recorded. */
  params?: number;
  /** The published accuracy, 0..1, when there is one. */
  published_accuracy?: number;
  /** The data actually used, when it differs from the tutorial's. */
  data_note?: string;
}

const _pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/**
 * The README's results table: one row per notebook and model, the test
 * accuracy at full scale (Dig-MNIST beside it for Kannada-MNIST), the
 * published figure and the training time; a last line with the commit the
 * rows come from, the notebooks' wall time and the total.
 *
 * @example
 * ```ts
 * import { resultsBlock } from "./docs.ts";
 * const text = resultsBlock([{ experiment: "001-mnist-lenet5", model: "lenet5", split: "test",
 *   accuracy: 0.9886, published: "99.05%", epochs: 23, train_seconds: 234 }]);
 * console.assert(text.includes("98.86%"));
 * ```
 */
export function resultsBlock(rows: readonly ReferenceRow[]): string {
  const models = new Map<string, ReferenceRow[]>();
  for (const row of rows) {
    const key = `${row.experiment}\u0000${row.model}`;
    models.set(key, [...(models.get(key) ?? []), row]);
  }
  const lines = [
    "| notebook | model | test accuracy | published | epochs | training |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  let seconds = 0;
  for (const group of models.values()) {
    const main = group.find((r) => r.split === "test") ?? group[0];
    const others = group.filter((r) => r !== main)
      .map((r) =>
        `${r.split === "dig" ? "Dig-MNIST" : r.split} ${_pct(r.accuracy)}`
      );
    const accuracy = _pct(main.accuracy) +
      (others.length ? ` (${others.join(", ")})` : "");
    lines.push(
      `| ${main.experiment} | ${main.model} | ${accuracy} | ${main.published} | ` +
        `${main.epochs} | ${(main.train_seconds / 60).toFixed(1)} min |`,
    );
    seconds += main.train_seconds;
  }
  const provenance = referenceProvenance(rows);
  const training = `${(seconds / 60).toFixed(0)} min`;
  const oneRun = !provenance.commits.includes(",") &&
    provenance.commits !== "unrecorded" && provenance.total_minutes;
  const dates = [...new Set(rows.map((r) => r.produced_at?.slice(0, 10)))]
    .filter((d) => d).sort();
  lines.push(
    "",
    oneRun
      ? `One run of all ${new Set(rows.map((r) => r.experiment)).size} ` +
        `notebooks at commit ${provenance.commits}` +
        (dates.length ? ` (${dates.join(", ")})` : "") +
        ` on a 2-core CPU: ${provenance.total_minutes} min in all ` +
        `(per notebook, minutes: ${provenance.notebook_minutes}); ` +
        `training alone ${training}.`
      : `Training time of the reference, all models: ${training} on a ` +
        `2-core CPU; the rows come from commit(s) ${provenance.commits}.`,
  );
  return lines.join("\n");
}

/**
 * The table of the run configuration's environment variables (in
 * notebooks/README.md).
 *
 * @example
 * ```ts
 * import { configBlock } from "./docs.ts";
 * const text = configBlock([{ name: "CNN_SEED", field: "seed", description: "default 42" }]);
 * console.assert(text.includes("`CNN_SEED`"));
 * ```
 */
export function configBlock(variables: readonly RunConfigVariable[]): string {
  return [
    "| variable | meaning |",
    "| --- | --- |",
    ...variables.map((v) =>
      `| \`${v.name}\` | ${v.description.replaceAll("|", "\\|")} |`
    ),
  ].join("\n");
}

/**
 * The README's Scripts table: every task of `deno.json`, in its order.
 * Throws when a task has no line in `descriptions`.
 *
 * @example
 * ```ts
 * import { tasksBlock } from "./docs.ts";
 * console.assert(tasksBlock({ test: "x" }, { test: "runs the tests" }).includes("deno task test"));
 * ```
 */
export function tasksBlock(
  tasks: Record<string, string>,
  descriptions: Record<string, string> = TASKS,
): string {
  const missing = Object.keys(tasks).filter((t) => !(t in descriptions));
  if (missing.length) {
    throw new Error(
      `scripts/docs.ts: no README line for task(s) ${missing.join(", ")}; ` +
        "add them to TASKS.",
    );
  }
  return [
    "| command | what it does |",
    "| --- | --- |",
    ...Object.keys(tasks).map((t) =>
      `| \`deno task ${t}\` | ${descriptions[t].replaceAll("|", "\\|")} |`
    ),
  ].join("\n");
}

/**
 * Replaces the body of each `<!-- generated:NAME ... -->` block of `text`
 * with `blocks[NAME]`. Throws when a block of `blocks` is not in the text.
 *
 * @example
 * ```ts
 * import { rewriteBlocks } from "./docs.ts";
 * const text = "a\n<!-- generated:x -->\nold\n<!-- /generated:x -->\nb";
 * console.assert(rewriteBlocks(text, { x: "new" }).includes("\nnew\n"));
 * ```
 */
export function rewriteBlocks(
  text: string,
  blocks: Record<string, string>,
): string {
  let out = text;
  for (const [name, body] of Object.entries(blocks)) {
    const re = new RegExp(
      `(<!-- generated:${name}\\b[^>]*-->\\n)[\\s\\S]*?(<!-- /generated:${name} -->)`,
    );
    if (!re.test(out)) {
      throw new Error(`the document has no generated block "${name}"`);
    }
    out = out.replace(re, (_m, open, close) => `${open}${body}\n${close}`);
  }
  return out;
}

/** The bench recipe a reference row trained: same model name, else same parameter count. */
function _benchModel(
  row: ReferenceRow,
  report: BenchReport,
): string | undefined {
  const models = [...new Set(report.rows.map((r) => r.model))];
  if (models.includes(row.model)) return row.model;
  const same = report.rows.filter((r) => r.params === row.params);
  const names = [...new Set(same.map((r) => r.model))];
  return names.length === 1 ? names[0] : undefined;
}

/**
 * The full-scale reference's training time beside an estimate of
 * PyTorch's for the same recipes: each recipe's training seconds (its
 * test-split row of `notebooks/reference/results.json`) times its
 * training ratio to PyTorch in the bench (our samples/s over PyTorch's).
 * Throws when a row matches no bench recipe.
 *
 * @example
 * ```ts
 * import { referenceSpeedText } from "./docs.ts";
 * const report = JSON.parse(Deno.readTextFileSync("docs/benchmarks.json"));
 * const rows = JSON.parse(Deno.readTextFileSync("notebooks/reference/results.json")).rows;
 * console.log(referenceSpeedText(rows, report));
 * ```
 */
export function referenceSpeedText(
  rows: readonly ReferenceRow[],
  report: BenchReport,
): string {
  let ours = 0;
  let torch = 0;
  for (const row of rows.filter((r) => r.split === "test")) {
    const model = _benchModel(row, report);
    const bench = report.rows.find((r) =>
      r.model === model && r.backend === "wasm"
    );
    if (bench === undefined || bench.ratio_to_pytorch === null) {
      throw new Error(
        `${row.experiment} ${row.model}: no bench recipe with a PyTorch ratio; rerun \`deno task bench --write-docs\``,
      );
    }
    ours += row.train_seconds;
    // The ratio is our samples/s over PyTorch's: the same samples take
    // PyTorch our time times the ratio.
    torch += row.train_seconds * bench.ratio_to_pytorch;
  }
  return `The reference's ${(ours / 60).toFixed(0)} min of training: about ${
    (torch / 60).toFixed(0)
  } min in PyTorch.`;
}

function _speed(rows: readonly ReferenceRow[], report: BenchReport): string {
  return speedBlock(report, { extra: referenceSpeedText(rows, report) });
}

/**
 * The README's generated blocks, from the reference's rows (`rows`, as
 * `notebooks/reference/results.json` holds them) and the other committed
 * files.
 */
export async function generatedBlocks(
  rows: readonly ReferenceRow[],
): Promise<Record<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(join(repo, "deno.json")));
  return {
    results: resultsBlock(rows),
    tasks: tasksBlock(config.tasks),
    commands: commandsBlock(await readTimings()),
    speed: _speed(
      rows,
      JSON.parse(await Deno.readTextFile(BENCH_DOCS.json)) as BenchReport,
    ),
  };
}

/**
 * The notebooks README's table of the reference run: per notebook and
 * model, the full-scale test accuracy (and the other test splits), the
 * published figure and the gap to it, epochs, training time and the data
 * used, all from `notebooks/reference/results.json`.
 *
 * @example
 * ```ts
 * import { referenceNotesBlock } from "./docs.ts";
 * const text = referenceNotesBlock([{ experiment: "001-mnist-lenet5", model: "lenet5",
 *   split: "test", accuracy: 0.9886, published: "99.05%", published_accuracy: 0.9905,
 *   epochs: 23, train_seconds: 234 }]);
 * console.assert(text.includes("-0.19 pp"));
 * ```
 */
export function referenceNotesBlock(rows: readonly ReferenceRow[]): string {
  const lines = [
    "| notebook | model | split | accuracy | published | gap | epochs | training | data |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const gap = typeof r.published_accuracy === "number"
      ? `${(100 * (r.accuracy - r.published_accuracy)).toFixed(2)} pp`
      : "—";
    const cells = [
      r.experiment,
      r.model,
      r.split === "dig" ? "Dig-MNIST" : r.split,
      _pct(r.accuracy),
      r.published,
      gap,
      String(r.epochs),
      `${(r.train_seconds / 60).toFixed(1)} min`,
      r.data_note || "—",
    ].map((c) => c.replaceAll("|", "\\|").replaceAll("\n", " "));
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/** One row of the PyTorch comparison: a recipe over seeds on both sides. */
export interface TwinRow {
  /** Notebook number, e.g. "001". */
  notebook: string;
  /** Model name. */
  model: string;
  /** The recipe in words. */
  recipe: string;
  /** The seeds (both sides ran these numbers). */
  seeds: number[];
  /** Our test accuracies, per seed. */
  ours: number[];
  /** PyTorch's test accuracies, per seed. */
  pytorch: number[];
  /** Epochs trained per seed, ours then PyTorch's (early stopping). */
  epochs?: { ours: number[]; pytorch: number[] };
  /** The commit ours ran at. */
  commit: string | null;
}

/**
 * The rows of the PyTorch comparison from the committed seed files:
 * `seeds_002.json` (notebook 002's recipe, written by scripts/seeds_002.ts)
 * and every `seeds_<model>.json` (scripts/seeds.ts).
 *
 * @example
 * ```ts ignore
 * const rows = twinRows([await Deno.readTextFile("notebooks/reference/seeds_lenet5.json")]);
 * ```
 */
export function twinRows(texts: readonly string[]): TwinRow[] {
  const rows: TwinRow[] = [];
  for (const text of texts) {
    const r = JSON.parse(text);
    if (Array.isArray(r.variants)) {
      // scripts/seeds_002.ts: the notebook's recipe is the first variant.
      const v = r.variants[0];
      rows.push({
        notebook: "002",
        model: "lenet5-32",
        recipe: `adam lr 0.001, batch 64, ${r.epochs} epochs; ${v.description}`,
        seeds: r.seeds,
        ours: v.accuracy,
        pytorch: r.pytorch.accuracy,
        commit: r.commit ?? null,
      });
      continue;
    }
    const e = r.recipe;
    rows.push({
      notebook: r.notebook,
      model: r.model,
      recipe: `${e.optimizer} lr ${e.learningRate}, batch ${e.batchSize}, ` +
        (e.earlyStoppingPatience
          ? `up to ${e.epochs} epochs, early stopping (patience ${e.earlyStoppingPatience})`
          : `${e.epochs} epochs`) +
        (e.trainLimit ? `, first ${e.trainLimit} training images` : "") +
        (e.testLimit ? `, first ${e.testLimit} test images` : ""),
      seeds: r.seeds,
      ours: r.ours.accuracy,
      pytorch: r.pytorch.accuracy,
      epochs: { ours: r.ours.epochs, pytorch: r.pytorch.epochs },
      commit: r.commit ?? null,
    });
  }
  return rows.sort((a, b) =>
    (a.notebook + a.model).localeCompare(b.notebook + b.model)
  );
}

/**
 * The notebooks README's comparison with PyTorch: per recipe, the mean test
 * accuracy over the seeds on both sides (with the range), the difference of
 * the means, the epochs trained, and the commit.
 *
 * @example
 * ```ts
 * import { twinsBlock } from "./docs.ts";
 * const text = twinsBlock([{ notebook: "001", model: "lenet5", recipe: "sgd", seeds: [1, 2],
 *   ours: [0.98, 0.99], pytorch: [0.99, 0.99], commit: "abc1234" }]);
 * console.assert(text.includes("-0.50 pp"));
 * ```
 */
export function twinsBlock(rows: readonly TwinRow[]): string {
  const span = (xs: number[]) =>
    `${_pct(mean(xs))} (${_pct(Math.min(...xs))}–${_pct(Math.max(...xs))})`;
  const lines = [
    "| notebook | model | recipe | seeds | ours: mean (range) | PyTorch: mean (range) | ours − PyTorch | epochs trained (ours; PyTorch) | commit |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const gap = 100 * (mean(r.ours) - mean(r.pytorch));
    lines.push(
      `| ${
        [
          r.notebook,
          r.model,
          r.recipe,
          r.seeds.join(", "),
          span(r.ours),
          span(r.pytorch),
          `${gap >= 0 ? "+" : ""}${gap.toFixed(2)} pp`,
          r.epochs
            ? `${r.epochs.ours.join(", ")}; ${r.epochs.pytorch.join(", ")}`
            : "as the recipe",
          r.commit ?? "—",
        ].map((c) => c.replaceAll("|", "\\|")).join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}

async function _seedFiles(): Promise<string[]> {
  const dir = join(repo, "notebooks", "reference");
  const names = [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((n) => /^seeds_.+\.json$/.test(n)).sort();
  return await Promise.all(
    names.map((n) => Deno.readTextFile(join(dir, n))),
  );
}

/** Each generated document and its blocks, from the committed files. */
export async function generatedDocuments(): Promise<
  Record<string, Record<string, string>>
> {
  const reference = JSON.parse(
    await Deno.readTextFile(
      join(repo, "notebooks", "reference", "results.json"),
    ),
  );
  const rows = reference.rows as ReferenceRow[];
  return {
    "README.md": await generatedBlocks(rows),
    "notebooks/README.md": {
      reference: referenceNotesBlock(rows),
      twins: twinsBlock(twinRows(await _seedFiles())),
      config: configBlock(RUN_CONFIG_VARIABLES),
    },
  };
}

/**
 * A document (`README.md` or `notebooks/README.md`) as `deno task docs`
 * would write it; `documents` (default: {@linkcode generatedDocuments})
 * lets a caller that checks several documents build the blocks once.
 */
export async function expectedDocument(
  path: string,
  documents?: Record<string, Record<string, string>>,
): Promise<string> {
  const blocks = (documents ?? await generatedDocuments())[path];
  if (!blocks) throw new Error(`${path} has no generated blocks`);
  const text = await Deno.readTextFile(join(repo, path));
  return await formatMarkdown(rewriteBlocks(text, blocks));
}

/** README.md as `deno task docs` would write it. */
export async function expectedReadme(): Promise<string> {
  return await expectedDocument("README.md");
}

const USAGE = "usage: deno task docs [--check]";

async function main(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, { check: { type: "boolean" } });
  let stale = 0;
  const documents = await generatedDocuments();
  for (const name of Object.keys(documents)) {
    const path = join(repo, name);
    const current = await Deno.readTextFile(path);
    const expected = await expectedDocument(name, documents);
    if (current === expected) {
      if (!values.check) console.log(`${name}: generated blocks up to date`);
      continue;
    }
    if (values.check) {
      console.error(
        `${name}: generated blocks are stale; run \`deno task docs\`.`,
      );
      stale++;
      continue;
    }
    const tmp = `${path}.tmp`;
    await Deno.writeTextFile(tmp, expected);
    await Deno.rename(tmp, path);
    console.log(`${name}: generated blocks rewritten`);
  }
  return stale ? 1 : 0;
}

if (import.meta.main) runCli(USAGE, main);
