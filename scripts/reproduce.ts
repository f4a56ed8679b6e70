/**
 * `deno task reproduce`: runs the five tutorial experiments through
 * `lib/experiments` and writes a report folder `reports/<timestamp>/`:
 *
 * - `results.md`: what ran (scale, data and its substitutes, backend,
 *   machine, durations), accuracy per test split next to the published
 *   figures, training time, backend and parameters; notes and figures;
 * - `results.json` (everything, machine-readable) and `results.csv` (rows);
 * - `figures/<experiment>/*.svg`;
 * - `notebooks/`: the five notebooks (those of `--only`'s tutorials) executed
 *   by `deno task notebooks` at the same scale and on the same `--backend`
 *   (skipped with `--no-notebooks`); the report lists the backend each used.
 *
 * Usage: `deno task reproduce [--scale smoke|full] [--no-notebooks]
 * [--only 000,003] [--out DIR] [--backend B]`
 *
 * The default scale is `smoke`: tiny subsets and one epoch, to prove the whole
 * pipeline works in minutes on a 2-core CPU; `full` uses the tutorials'
 * settings and takes hours on a CPU. Exits non-zero if any experiment or
 * notebook failed (the report is written either way).
 *
 * @module
 */
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BACKEND_NAMES, initBackend } from "../lib/backend/mod.ts";
import { resolveMirror } from "../lib/data/mod.ts";
import {
  backendFlag,
  folderTimestamp,
  parseCli,
  runCli,
  scaleFlag,
  UsageError,
} from "./_cli.ts";
import {
  type ExperimentResult,
  EXPERIMENTS,
  resultsCsv,
  resultsMarkdown,
  type Scale,
} from "../lib/experiments/mod.ts";

const USAGE =
  "Usage: deno task reproduce [--scale smoke|full] [--no-notebooks] " +
  "[--only 000,003] [--out DIR] [--backend auto|" + BACKEND_NAMES.join("|") +
  "]";

/** One experiment's outcome in the report. */
interface ExperimentOutcome {
  id: string;
  title: string;
  ok: boolean;
  seconds: number;
  error?: string;
  result?: ExperimentResult;
}

/** What the notebook runner did. */
export interface NotebookOutcome {
  ran: boolean;
  ok: boolean;
  seconds: number;
  exitCode: number | null;
  outDir: string;
  note: string;
  /** The TensorFlow.js backend each notebook used, by file name. */
  backends: Record<string, string | null>;
}

async function _machine(): Promise<string> {
  let cpu = "unknown CPU";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = /model name\s*:\s*(.*)/.exec(info)?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux: keep "unknown CPU".
  }
  const cores = navigator.hardwareConcurrency;
  const memory = Deno.systemMemoryInfo();
  const gib = (memory.total / 2 ** 30).toFixed(1);
  return `${Deno.build.os}/${Deno.build.arch}, ${cpu}, ${cores} logical core(s), ` +
    `${gib} GiB RAM; Deno ${Deno.version.deno}, V8 ${Deno.version.v8}`;
}

function _minutes(seconds: number): string {
  return seconds >= 90
    ? `${(seconds / 60).toFixed(1)} min`
    : `${seconds.toFixed(1)} s`;
}

/** Options of {@linkcode runNotebooksStep}. */
export interface NotebooksStepOptions {
  /** `CNN_BACKEND` for the notebooks. Default: inherited. */
  backend?: string;
  /** Absolute paths of the notebooks to run. Default: all of `notebooks/`. */
  paths?: string[];
}

/**
 * Runs the notebooks through `deno task notebooks` at `scale` into `outDir`
 * and reads back which backend each one used.
 *
 * @example
 * ```ts
 * const outcome = await runNotebooksStep("smoke", "reports/now/notebooks", { backend: "wasm" });
 * console.log(outcome.backends);
 * ```
 */
export async function runNotebooksStep(
  scale: Scale,
  outDir: string,
  options: NotebooksStepOptions = {},
): Promise<NotebookOutcome> {
  const { backend, paths = [] } = options;
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "notebooks",
      "--scale",
      scale,
      "--out",
      resolve(outDir),
      ...paths,
    ],
    // The notebooks call initBackend(), which reads CNN_BACKEND.
    env: backend ? { CNN_BACKEND: backend } : {},
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await child.status;
  const backends: Record<string, string | null> = {};
  try {
    const summary = JSON.parse(
      await Deno.readTextFile(join(outDir, "summary.json")),
    ) as { notebook: string; backend?: string | null }[];
    for (const s of summary) {
      backends[s.notebook.split("/").at(-1)!] = s.backend ?? null;
    }
  } catch {
    // No summary (the runner failed early): no backends to report.
  }
  return {
    backends,
    ran: true,
    ok: status.success,
    seconds: (performance.now() - started) / 1000,
    exitCode: status.code,
    outDir,
    note: status.success
      ? "every notebook ran without a failing cell"
      : `the notebook runner exited with code ${status.code}; see its report`,
  };
}

/** The notebooks of these tutorials (`notebooks/<seed>_*.ipynb`), absolute. */
async function _notebooksOf(seeds: string[]): Promise<string[]> {
  const dir = fileURLToPath(new URL("../notebooks/", import.meta.url));
  const paths: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (
      entry.name.endsWith(".ipynb") &&
      seeds.some((seed) => entry.name.startsWith(`${seed}_`))
    ) paths.push(join(dir, entry.name));
  }
  return paths.sort();
}

function _report(args: {
  scale: Scale;
  started: Date;
  seconds: number;
  backendReport: string;
  machine: string;
  mirror: string | undefined;
  outcomes: ExperimentOutcome[];
  notebooks: NotebookOutcome;
  outDir: string;
}): string {
  const { scale, outcomes, notebooks, outDir } = args;
  const rows = outcomes.flatMap((o) => o.result?.rows ?? []);
  const substitutes = outcomes.flatMap((o) =>
    (o.result?.notes ?? []).filter((n) =>
      n.includes("SUBSTITUTE") || /subset/i.test(n)
    )
  );
  const failed = outcomes.filter((o) => !o.ok);
  const scaleText = scale === "smoke"
    ? "**smoke** — tiny subsets (a few hundred to a few thousand images) and one " +
      "epoch per model. These accuracies only show that every pipeline runs end " +
      "to end; they are NOT reproductions of the published figures (models " +
      "that learn slowly, such as the sigmoid LeNets and MobileNet, stay near " +
      "chance, 10%, after one short epoch). Run " +
      "`deno task reproduce --scale full` for the tutorials' settings."
    : "**full** — the tutorials' own settings (epochs, batch sizes, optimizers) " +
      "on all the data available here.";
  const lines = [
    `# Reproduction report (${scale} scale)`,
    "",
    `- Scale: ${scaleText}`,
    `- Data: ${
      args.mirror
        ? `local mirror \`${args.mirror}\` (checksums verified by the data layer)`
        : "the data cache / official downloads"
    }.`,
    ...(substitutes.length
      ? [
        "- Substitutes (read these before the numbers):",
        ...[...new Set(substitutes)].map((s) => `  - ${s}`),
      ]
      : []),
    `- Backend: ${args.backendReport}`,
    `- Machine: ${args.machine}`,
    `- Started ${args.started.toISOString()}; took ${
      _minutes(args.seconds)
    } in all ` +
    `(experiments ${
      _minutes(outcomes.reduce((s, o) => s + o.seconds, 0))
    }, notebooks ${notebooks.ran ? _minutes(notebooks.seconds) : "not run"}).`,
    `- Outcome: ${
      failed.length === 0 && (notebooks.ok || !notebooks.ran)
        ? "everything ran"
        : `FAILURES: ${
          [
            ...failed.map((f) => f.id),
            ...(notebooks.ran && !notebooks.ok ? ["notebooks"] : []),
          ].join(", ")
        }`
    }.`,
    "",
    "## Results",
    "",
    "Accuracy on each test split next to the published figure for that dataset " +
    "(the published figures come from fully trained models on the official splits).",
    "",
    resultsMarkdown(rows),
    "## Experiments",
    "",
  ];
  for (const o of outcomes) {
    lines.push(`### ${o.id}: ${o.title}`, "");
    lines.push(`${o.ok ? "Ran" : "FAILED"} in ${_minutes(o.seconds)}.`, "");
    if (o.error) lines.push("```", o.error, "```", "");
    for (const n of o.result?.notes ?? []) lines.push(`- ${n}`);
    if (o.result?.notes.length) lines.push("");
    for (const f of o.result?.figures ?? []) {
      if (f.path) lines.push(`- [${f.title}](${relative(outDir, f.path)})`);
    }
    lines.push("");
  }
  lines.push("## Notebooks", "");
  lines.push(
    notebooks.ran
      ? `Executed at ${scale} scale into [notebooks/](${
        relative(outDir, notebooks.outDir)
      }/) in ${_minutes(notebooks.seconds)}: ${notebooks.note}.`
      : "Not run (`--no-notebooks`).",
    "",
  );
  const used = Object.entries(notebooks.backends);
  if (used.length) {
    lines.push(
      "| notebook | backend |",
      "| --- | --- |",
      ...used.map(([name, b]) => `| ${name} | ${b ?? "(none)"} |`),
      "",
    );
  }
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, {
    scale: { type: "string" },
    "no-notebooks": { type: "boolean" },
    only: { type: "string" },
    out: { type: "string" },
    backend: { type: "string" },
  });
  const scale = scaleFlag(values.scale, "smoke");
  const only = values.only?.split(",").map((s) => s.trim()).filter((s) => s);
  const selected = only
    ? EXPERIMENTS.filter((e) => only.some((o) => o === e.id || o === e.seed))
    : [...EXPERIMENTS];
  if (only && selected.length !== only.length) {
    throw new UsageError(
      `--only: unknown experiment in "${values.only}". Known: ` +
        `${EXPERIMENTS.map((e) => `${e.seed} (${e.id})`).join(", ")}.`,
    );
  }
  const backendName = backendFlag(values.backend);
  const started = new Date();
  const t0 = performance.now();
  const outDir = values.out ?? join("reports", folderTimestamp(started));
  await Deno.mkdir(outDir, { recursive: true });
  // Without --backend, initBackend reads CNN_BACKEND like the notebooks do.
  const backend = await initBackend({ backend: backendName });
  const machine = await _machine();
  console.error(`reproduce: ${scale} scale -> ${outDir}`);

  const outcomes: ExperimentOutcome[] = [];
  for (const experiment of selected) {
    const s0 = performance.now();
    try {
      const result = await experiment.run({
        scale,
        outDir: join(outDir, "figures", experiment.id),
        log: (line) => console.error(line),
      });
      outcomes.push({
        id: experiment.id,
        title: experiment.title,
        ok: true,
        seconds: (performance.now() - s0) / 1000,
        result,
      });
    } catch (e) {
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      console.error(`[${experiment.id}] FAILED: ${error}`);
      outcomes.push({
        id: experiment.id,
        title: experiment.title,
        ok: false,
        seconds: (performance.now() - s0) / 1000,
        error,
      });
    }
  }

  const notebooks: NotebookOutcome = values["no-notebooks"]
    ? {
      ran: false,
      ok: true,
      seconds: 0,
      exitCode: null,
      outDir: "",
      note: "not run",
      backends: {},
    }
    : await runNotebooksStep(scale, join(outDir, "notebooks"), {
      backend: backendName,
      paths: only ? await _notebooksOf(selected.map((e) => e.seed)) : [],
    });

  const seconds = (performance.now() - t0) / 1000;
  const rows = outcomes.flatMap((o) => o.result?.rows ?? []);
  const mirror = resolveMirror();
  await Deno.writeTextFile(
    join(outDir, "results.md"),
    _report({
      scale,
      started,
      seconds,
      backendReport: backend.report,
      machine,
      mirror,
      outcomes,
      notebooks,
      outDir,
    }),
  );
  await Deno.writeTextFile(join(outDir, "results.csv"), resultsCsv(rows));
  await Deno.writeTextFile(
    join(outDir, "results.json"),
    JSON.stringify(
      {
        scale,
        started: started.toISOString(),
        seconds,
        backend: backend.name,
        backend_report: backend.report,
        machine,
        data_mirror: mirror ?? null,
        rows,
        experiments: outcomes.map((o) => ({
          id: o.id,
          title: o.title,
          ok: o.ok,
          seconds: o.seconds,
          error: o.error ?? null,
          notes: o.result?.notes ?? [],
          figures: o.result?.figures ?? [],
        })),
        notebooks,
      },
      null,
      2,
    ) + "\n",
  );
  const failed = outcomes.filter((o) => !o.ok).length + (notebooks.ok ? 0 : 1);
  console.log(
    `reproduce: ${outDir}/results.md written in ${_minutes(seconds)}` +
      (failed ? `; ${failed} failure(s)` : ""),
  );
  return failed ? 1 : 0;
}

if (import.meta.main) runCli(USAGE, main);
