/**
 * Rewrites the generated blocks of `README.md` from the committed data they
 * show, so no figure in the README is typed by hand:
 *
 * - `results`: the full-scale reference (`notebooks/reference/results.json`);
 * - `config`: the run configuration's variables (`RUN_CONFIG_VARIABLES` in
 *   `lib/config.ts`);
 * - `tasks`: every task of `deno.json`, with its line from {@linkcode TASKS}.
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
import { formatMarkdown } from "./_markdown.ts";

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
  docs: "rewrite the README's generated blocks from the committed JSON",
};

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
}

const _pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/**
 * The README's results table: one row per notebook and model, the test
 * accuracy at full scale (Dig-MNIST beside it for Kannada-MNIST), the
 * published figure and the training time; a last line with the total.
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
  lines.push(
    "",
    `Training time of the reference, all models: ${
      (seconds / 60).toFixed(0)
    } min on a 2-core CPU.`,
  );
  return lines.join("\n");
}

/**
 * The README's table of the run configuration's environment variables.
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
      throw new Error(`README.md has no generated block "${name}"`);
    }
    out = out.replace(re, (_m, open, close) => `${open}${body}\n${close}`);
  }
  return out;
}

/** Every generated block, from the committed files. */
export async function generatedBlocks(): Promise<Record<string, string>> {
  const reference = JSON.parse(
    await Deno.readTextFile(
      join(repo, "notebooks", "reference", "results.json"),
    ),
  );
  const config = JSON.parse(await Deno.readTextFile(join(repo, "deno.json")));
  return {
    results: resultsBlock(reference.rows as ReferenceRow[]),
    config: configBlock(RUN_CONFIG_VARIABLES),
    tasks: tasksBlock(config.tasks),
  };
}

/** README.md as `deno task docs` would write it. */
export async function expectedReadme(): Promise<string> {
  const text = await Deno.readTextFile(join(repo, "README.md"));
  return await formatMarkdown(rewriteBlocks(text, await generatedBlocks()));
}

const USAGE = "usage: deno task docs [--check]";

async function main(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, { check: { type: "boolean" } });
  const path = join(repo, "README.md");
  const current = await Deno.readTextFile(path);
  const expected = await expectedReadme();
  if (values.check) {
    if (current === expected) return 0;
    console.error(
      "README.md: generated blocks are stale; run `deno task docs`.",
    );
    return 1;
  }
  if (current !== expected) {
    const tmp = `${path}.tmp`;
    await Deno.writeTextFile(tmp, expected);
    await Deno.rename(tmp, path);
    console.log("README.md: generated blocks rewritten");
  } else {
    console.log("README.md: generated blocks up to date");
  }
  return 0;
}

if (import.meta.main) runCli(USAGE, main);
