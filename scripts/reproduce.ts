/**
 * `deno task reproduce`: executes the five tutorial notebooks once (with the
 * real Deno kernel, through `scripts/notebooks.ts`) and builds its report
 * from the results each notebook saved as data, so every model trains once
 * and the report shows the numbers the notebooks show. It writes
 * `reports/<timestamp>/`:
 *
 * - `results.md`: what ran (scale, seed, data and its substitutes, backend
 *   per notebook, machine, durations), accuracy per model and test split
 *   next to the committed full-scale reference run
 *   (`notebooks/reference/results.json`) and the published figures; notes;
 * - `results.json` (everything, machine-readable) and `results.csv` (rows);
 * - `notebooks/`: the executed, signed notebooks with their figures, an HTML
 *   report and `summary.json`;
 * - `results/<experiment>.results.json`: what each notebook saved.
 *
 * Usage: `deno task reproduce [--scale smoke|quick|full] [--only 000,003]
 * [--out DIR] [--mirror DIR] [--backend B] [--seed N] [--reference FILE]`
 *
 * The first line printed is the configuration (scale, seed, backend, data
 * mirror, notebooks, output folder). Before any kernel starts, the data of
 * every selected notebook is fetched once through the library's loaders
 * (cache, `--mirror` or `CNN_DATA_MIRROR`, downloads; the labelled
 * substitutes where the official files cannot be had): when some is
 * missing, one message says what and how to point at a mirror, and nothing
 * runs. The report folder is created exclusively (`reports/<UTC
 * timestamp>`, or `…-2` when a run started in the same second has it).
 * While a cell runs, its latest output line is printed every 10 s.
 *
 * The default scale is `quick`: all the training data (or its labelled
 * offline substitute) and a few epochs, so the models learn clearly
 * (MobileNet after notebook 000 recomputes its BatchNormalization
 * statistics, see lib/experiments/settings.ts); the five notebooks
 * took 10.3 minutes on a 2-core CPU (README). `smoke` only proves
 * that everything runs (seconds per model); `full` uses the tutorials'
 * settings (hours on a CPU). Exits non-zero if any notebook failed or saved
 * no results (the report is written either way).
 *
 * @module
 */
import { join, relative, resolve } from "node:path";
import { BACKEND_NAMES } from "../lib/backend/mod.ts";
import {
  DEFAULT_SCALE,
  type ExperimentInfo,
  EXPERIMENTS,
  findExperiment,
  type NotebookResults,
  percentText,
  type ResultRow,
  resultsCsv,
  resultsMarkdown,
  type Scale,
} from "../lib/experiments/mod.ts";
import { runConfigFromEnv } from "../lib/config.ts";
import { markdownCell } from "../lib/experiments/results.ts";
import { DataUnavailableError } from "../lib/data/errors.ts";
import type { ExperimentData } from "../lib/experiments/data.ts";
import {
  KANNADA_ID,
  loadKannadaData,
} from "../lib/experiments/kannada_mnist.ts";
import {
  loadMnistData,
  MNIST_LENET5_ID,
} from "../lib/experiments/mnist_lenet5.ts";
import {
  loadPyTorchStyleData,
  PYTORCH_STYLE_ID,
} from "../lib/experiments/mnist_lenet_pytorch_style.ts";
import {
  FASHION_ID,
  loadFashionData,
} from "../lib/experiments/fashion_mnist_variants.ts";
import { CIFAR_ID, loadCifarData } from "../lib/experiments/cifar10_cnn.ts";
import { DEFAULT_SEED } from "../lib/train/seed.ts";
import {
  backendFlag,
  folderTimestamp,
  parseCli,
  pathFlag,
  runCli,
  scaleFlag,
  usageCheck,
  UsageError,
} from "./_cli.ts";
import { createUniqueDir, describeRun, runNotebooks } from "./notebooks.ts";

const USAGE =
  "Usage: deno task reproduce [--scale smoke|quick|full] [--only 000,003] " +
  "[--out DIR] [--mirror DIR] [--backend auto|" + BACKEND_NAMES.join("|") +
  "] [--seed N] [--reference FILE]";

/** Where a check looks for data (the data layer's defaults when absent). */
export interface DataCheckOptions {
  /** Data cache folder. Default: the data layer's (`data/`). */
  dataDir?: string;
  /** Dataset mirror. Default: none. */
  mirror?: string | null;
  /** Never use the network. Default: false. */
  offline?: boolean;
}

type _DataLoader = (
  scale: Scale,
  options: DataCheckOptions,
) => Promise<ExperimentData>;

/** The loader each notebook calls for its data (the library's, substitutes included). */
const _DATA_LOADERS: Record<string, _DataLoader> = {
  [KANNADA_ID]: loadKannadaData,
  [MNIST_LENET5_ID]: loadMnistData,
  [PYTORCH_STYLE_ID]: loadPyTorchStyleData,
  [FASHION_ID]: loadFashionData,
  [CIFAR_ID]: loadCifarData,
};

/** One notebook whose data cannot be had. */
export interface DataProblem {
  /** The experiment id. */
  experiment: string;
  /** The file that is missing, when the problem is a missing file. */
  file: string | null;
  /** What went wrong (the data layer's message, first line). */
  message: string;
}

/**
 * Fetches the data each experiment's notebook needs, once, through the
 * library's own loaders (cache, mirror, downloads, and the labelled
 * substitutes where official files cannot be had), reading only a few
 * images of each; returns what cannot be had (empty when every notebook
 * can run). The files are verified into the cache, so the notebooks find
 * them there.
 *
 * @example
 * ```ts
 * import { checkExperimentData } from "./reproduce.ts";
 * const problems = await checkExperimentData(["001-mnist-lenet5"]);
 * for (const p of problems) console.error(`${p.experiment}: ${p.message}`);
 * ```
 */
export async function checkExperimentData(
  experiments: readonly string[],
  options: DataCheckOptions = {},
): Promise<DataProblem[]> {
  const problems: DataProblem[] = [];
  for (const experiment of experiments) {
    const load = _DATA_LOADERS[experiment];
    if (!load) continue; // An experiment without registry data.
    try {
      // "smoke": the same files and substitutes, a few images parsed.
      await load("smoke", options);
    } catch (e) {
      problems.push({
        experiment,
        file: e instanceof DataUnavailableError ? e.file : null,
        message: (e instanceof Error ? e.message : String(e)).split("\n")[0]
          .replace(/\s*Sources tried:\s*$/, ""),
      });
    }
  }
  return problems;
}

/**
 * The one message `reproduce` stops with when data is missing: which
 * notebook lacks which file, and how to point at a mirror.
 *
 * @example
 * ```ts
 * import { missingDataMessage } from "./reproduce.ts";
 * console.error(missingDataMessage([{ experiment: "001-mnist-lenet5", file: "x.gz", message: "x.gz is not available offline" }]));
 * ```
 */
export function missingDataMessage(problems: readonly DataProblem[]): string {
  return [
    `the data of ${problems.length} selected notebook(s) cannot be had ` +
    "here, so nothing was run:",
    ...problems.map((p) =>
      `  ${p.experiment}: ${
        p.file && !p.message.includes(p.file) ? `${p.file}: ` : ""
      }${p.message}`
    ),
    "Point at a folder that holds the datasets with --mirror DIR (or " +
    "CNN_DATA_MIRROR=DIR), or fetch them into the cache first with " +
    "`deno task data all --mirror DIR` (`deno task data all` when online); " +
    "`deno task data --list` shows what the cache holds.",
  ].join("\n");
}

/** Where the committed full-scale reference run lives. */
export const REFERENCE_PATH = "notebooks/reference/results.json";

/** One row of the committed reference run (the fields the report uses). */
export interface ReferenceRow {
  /** Experiment id. */
  experiment: string;
  /** Model name. */
  model: string;
  /** Test split. */
  split: string;
  /** Accuracy, 0..1. */
  accuracy: number;
  /** Epochs actually run. */
  epochs?: number;
  /** Seconds of training. */
  train_seconds?: number;
  /** Backend it ran on. */
  backend?: string;
  /** Data used (substitutes). */
  data_note?: string;
}

/** The committed reference run, as read from its `results.json`. */
export interface Reference {
  /** Path it was read from. */
  path: string;
  /** How and when it was produced (free-form fields). */
  produced: Record<string, unknown>;
  /** Its rows. */
  rows: ReferenceRow[];
}

/** One notebook's part of the report. */
export interface NotebookOutcome {
  /** The experiment. */
  experiment: Pick<ExperimentInfo, "id" | "tutorial" | "notebook" | "title">;
  /** Runner status ("ok", "failed"...). */
  status: string;
  /** Seconds the notebook took. */
  seconds: number;
  /** Why it failed, if it did. */
  failure: string | null;
  /** Path of the executed notebook, relative to the report folder. */
  executed: string | null;
  /** What the notebook saved, or null when it saved nothing. */
  results: NotebookResults | null;
}

/** Everything {@linkcode reportMarkdown} needs. */
export interface ReportInputs {
  /** Scale asked for. */
  scale: Scale;
  /** Seed given to the notebooks. */
  seed: number;
  /** Backend asked for ("auto" unless `--backend`). */
  backend: string;
  /** When it started. */
  started: Date;
  /** Seconds in all. */
  seconds: number;
  /** The machine, in words. */
  machine: string;
  /** The source commit ({@linkcode sourceCommit}); null or absent when unknown. */
  commit?: string | null;
  /** The dataset mirror, if one was set. */
  mirror: string | null;
  /** One per notebook run. */
  notebooks: NotebookOutcome[];
  /** The reference run, or null when none is committed. */
  reference: Reference | null;
}

/**
 * The machine in words: OS, CPU model, cores, memory, Deno and V8 versions.
 *
 * @example
 * ```ts
 * import { machineDescription } from "./reproduce.ts";
 * console.log(await machineDescription());
 * ```
 */
export async function machineDescription(): Promise<string> {
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

/**
 * The commit the project's files are at, as `git` names it (short hash),
 * with " (uncommitted changes)" when tracked files differ from it; null
 * outside a git checkout. A reference run says which code produced it.
 *
 * @example
 * ```ts
 * import { sourceCommit } from "./reproduce.ts";
 * console.log(await sourceCommit()); // e.g. "ff9fcac"
 * ```
 */
export async function sourceCommit(): Promise<string | null> {
  const root = new URL("..", import.meta.url).pathname;
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", {
      args: ["-C", root, ...args],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  };
  try {
    const commit = await git("rev-parse", "--short", "HEAD");
    if (!commit) return null;
    const changes = await git("status", "--porcelain", "--untracked-files=no");
    return changes ? `${commit} (uncommitted changes)` : commit;
  } catch {
    // No git on this machine.
    return null;
  }
}

function _minutes(seconds: number): string {
  return seconds >= 90
    ? `${(seconds / 60).toFixed(1)} min`
    : `${seconds.toFixed(1)} s`;
}

/**
 * Reads the committed reference run; null when the file does not exist.
 * Throws when it exists but is not a reference (a damaged file must not
 * silently drop the comparison).
 *
 * @example
 * ```ts
 * import { readReference } from "./reproduce.ts";
 * const reference = await readReference("notebooks/reference/results.json");
 * console.log(reference?.rows.length ?? "no reference run committed");
 * ```
 */
export async function readReference(path: string): Promise<Reference | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `${path} is not valid JSON (${(e as Error).message}); restore it with ` +
        "`git checkout -- " + path + "` or pass --reference FILE",
    );
  }
  const rows = (json as { rows?: unknown }).rows;
  if (
    !Array.isArray(rows) ||
    !rows.every((r) =>
      typeof r?.experiment === "string" && typeof r?.model === "string" &&
      typeof r?.split === "string" && typeof r?.accuracy === "number"
    )
  ) {
    throw new Error(
      `${path} has no valid "rows" (each needs experiment, model, split and ` +
        "accuracy 0..1)",
    );
  }
  const produced = (json as { produced?: unknown }).produced;
  return {
    path,
    produced: produced && typeof produced === "object"
      ? produced as Record<string, unknown>
      : {},
    rows: rows as ReferenceRow[],
  };
}

/**
 * Reads what a notebook saved with `saveNotebookResults`; null when it saved
 * nothing (the notebook failed early, or does not save results).
 *
 * @example
 * ```ts
 * import { readNotebookResults } from "./reproduce.ts";
 * console.log(await readNotebookResults("reports/x/results", "001-mnist-lenet5"));
 * ```
 */
export async function readNotebookResults(
  dir: string,
  experiment: string,
): Promise<NotebookResults | null> {
  const path = join(dir, `${experiment}.results.json`);
  try {
    return JSON.parse(await Deno.readTextFile(path)) as NotebookResults;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

const _SCALE_TEXT: Record<Scale, string> = {
  smoke: "**smoke** — tiny subsets and one epoch per model. These accuracies " +
    "only show that every notebook runs end to end; they are NOT " +
    "reproductions (slow learners such as the sigmoid LeNets and MobileNet " +
    "stay near chance, 10%). The default `quick` scale learns.",
  quick: "**quick** — all the training data available here (or its labelled " +
    "substitute) and a few epochs per model, chosen so that the models learn " +
    "clearly and the five notebooks finish within 15 minutes on a 2-core " +
    "CPU (MobileNet is scored after its BatchNormalization statistics are " +
    "recomputed: as fit() leaves it, so short a run scores chance). Fewer " +
    "epochs than the " +
    "tutorials: compare with the reference run at full scale beside each row.",
  full: "**full** — the tutorials' own settings (epochs, batch sizes, " +
    "optimizers) on all the data available here.",
};

/** The comparison table: this run beside the reference run and the paper. */
function _comparison(
  rows: readonly ResultRow[],
  reference: Reference | null,
  scale: Scale,
): string[] {
  const header = [
    "experiment",
    "model",
    "split",
    `this run (${scale})`,
    "epochs",
    "train s",
    "backend",
    "reference (full)",
    "ref. epochs",
    "published",
  ];
  const lines = [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
  ];
  for (const r of rows) {
    const ref = reference?.rows.find((x) =>
      x.experiment === r.experiment && x.model === r.model &&
      x.split === r.split
    );
    lines.push(
      `| ${
        [
          r.experiment,
          r.model,
          r.split,
          percentText(r.accuracy, { missing: "—" }),
          String(r.epochs),
          r.train_seconds.toFixed(1),
          r.backend,
          ref ? percentText(ref.accuracy, { missing: "—" }) : "—",
          ref?.epochs !== undefined ? String(ref.epochs) : "—",
          r.published || "—",
        ].map(markdownCell).join(" | ")
      } |`,
    );
  }
  return lines;
}

/**
 * The report's Markdown: what ran, this run's accuracy per model and split
 * beside the reference run and the published figures, every notebook's
 * outcome and notes, and what repeats exactly.
 *
 * @example
 * ```ts
 * import { reportMarkdown } from "./reproduce.ts";
 * console.log(reportMarkdown({
 *   scale: "quick", seed: 42, backend: "auto", started: new Date(), seconds: 1,
 *   machine: "test", mirror: null, notebooks: [], reference: null,
 * }));
 * ```
 */
export function reportMarkdown(inputs: ReportInputs): string {
  const { scale, notebooks, reference } = inputs;
  const rows = notebooks.flatMap((n) => n.results?.rows ?? []);
  const failed = notebooks.filter((n) => n.status !== "ok" || !n.results);
  const notes = notebooks.flatMap((n) => n.results?.notes ?? []);
  const substitutes = [
    ...new Set([
      ...notes.filter((n) => /SUBSTITUTE|subset/i.test(n)),
      ...rows.map((r) => r.data_note).filter((n) => /SUBSTITUTE/i.test(n)),
    ]),
  ];
  const backends = [
    ...new Set(notebooks.flatMap((n) => n.results ? [n.results.backend] : [])),
  ];
  const lines = [
    `# Reproduction report (${scale} scale)`,
    "",
    `- Scale: ${_SCALE_TEXT[scale]}`,
    `- Seed: ${inputs.seed} (\`CNN_SEED\`): same seed, backend and data give ` +
    "the same weights, losses and accuracies on the wasm and cpu backends; " +
    "WebGPU is not bit-exact (GPU reductions add in varying order).",
    `- Data: ${
      inputs.mirror
        ? `local mirror \`${inputs.mirror}\` (checksums verified by the data layer)`
        : "the data cache / official downloads"
    }.`,
    ...(substitutes.length
      ? [
        "- Substitutes (read these before the numbers):",
        ...substitutes.map((s) => `  - ${s}`),
      ]
      : []),
    `- Backend: asked for \`${inputs.backend}\`; the notebooks used ${
      backends.length ? backends.map((b) => `\`${b}\``).join(", ") : "—"
    } (per notebook below).`,
    `- Machine: ${inputs.machine}`,
    `- Code: ${
      inputs.commit ? `commit ${inputs.commit}` : "commit unknown (no git)"
    }`,
    `- Started ${inputs.started.toISOString()}; took ${
      _minutes(inputs.seconds)
    }.`,
    `- Outcome: ${
      failed.length === 0
        ? "every notebook ran and saved its results"
        : `FAILURES: ${failed.map((f) => f.experiment.id).join(", ")}`
    }.`,
    "",
    "## Results",
    "",
    `Accuracy on each test split in this run, beside the committed reference ` +
    "run at full scale and the published figure (from fully trained models " +
    "on the official splits).",
    "",
    ...(reference
      ? [
        `Reference: \`${reference.path}\`${
          Object.keys(reference.produced).length
            ? ` (${
              Object.entries(reference.produced).map(([k, v]) =>
                `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`
              ).join("; ")
            })`
            : ""
        }; "—" where it has no row for a model.`,
      ]
      : [
        `No reference run is committed (\`${REFERENCE_PATH}\` is absent), so ` +
        'the reference column shows "—".',
      ]),
    "",
    ..._comparison(rows, reference, scale),
    "",
    "### Every column",
    "",
    resultsMarkdown(rows),
    "## Notebooks",
    "",
  ];
  for (const n of notebooks) {
    lines.push(`### ${n.experiment.id}: ${n.experiment.title}`, "");
    const link = n.executed ? `[executed notebook](${n.executed})` : "";
    lines.push(
      `${n.status === "ok" ? "Ran" : `FAILED (${n.status})`} in ${
        _minutes(n.seconds)
      }${
        n.results ? ` on \`${n.results.backend}\`, seed ${n.results.seed}` : ""
      }` +
        `${link ? `: ${link}` : ""}.`,
      "",
    );
    if (n.failure) lines.push("```", n.failure, "```", "");
    if (!n.results) {
      lines.push(
        "It saved no results (`saveNotebookResults` did not run), so it has " +
          "no rows above.",
        "",
      );
    }
    for (const note of n.results?.notes ?? []) lines.push(`- ${note}`);
    if (n.results?.notes.length) lines.push("");
  }
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, {
    scale: { type: "string" },
    only: { type: "string" },
    out: { type: "string" },
    mirror: { type: "string" },
    backend: { type: "string" },
    seed: { type: "string" },
    reference: { type: "string" },
  });
  const scale = scaleFlag(values.scale, DEFAULT_SCALE);
  let selected: ExperimentInfo[] = [...EXPERIMENTS];
  if (values.only !== undefined) {
    const ids = values.only.split(",").map((s) => s.trim()).filter((s) => s);
    try {
      selected = ids.map(findExperiment);
    } catch (e) {
      throw new UsageError(
        `--only: unknown experiment in "${values.only}". ${
          (e as Error).message
        }`,
      );
    }
  }
  const backend = backendFlag(values.backend) ?? "auto";
  // Flags first, then the run configuration (CNN_SEED, CNN_DATA_*).
  const config = usageCheck(() => runConfigFromEnv());
  const seedText = values.seed ?? String(config.seed);
  const seed = seedText.trim() === "" ? DEFAULT_SEED : Number(seedText);
  if (!/^\s*\d+\s*$/.test(seedText || "0") || seed >= 2 ** 32) {
    throw new UsageError(
      `--seed must be a whole number in [0, 2^32), got "${seedText}".`,
    );
  }
  const reference = await readReference(
    pathFlag(values.reference) ?? REFERENCE_PATH,
  );
  const mirror = values.mirror === undefined
    ? config.data.mirror ?? null
    : pathFlag(values.mirror);
  if (mirror !== null) {
    try {
      if (!(await Deno.stat(mirror)).isDirectory) throw new Error();
    } catch {
      throw new UsageError(
        `--mirror ${mirror}: no such folder (give the folder that holds ` +
          "mnist/, fashion-mnist/, …)",
      );
    }
  }
  const started = new Date();
  const t0 = performance.now();
  // Created at once (exclusively), so the first line names the real folder.
  const outDir = pathFlag(values.out) ??
    await createUniqueDir(join("reports", folderTimestamp(started)));
  const root = new URL("..", import.meta.url).pathname;
  const paths = selected.map((e) =>
    relative(Deno.cwd(), join(root, e.notebook))
  );
  console.error(describeRun({
    command: "reproduce",
    scale,
    seed,
    backend,
    mirror,
    notebooks: paths,
    outDir,
  }));
  const problems = await checkExperimentData(
    selected.map((e) => e.id),
    { dataDir: config.data.dataDir, mirror, offline: config.data.offline },
  );
  if (problems.length) {
    // Nothing ran: no empty report folder stays behind.
    if (values.out === undefined) await Deno.remove(outDir).catch(() => {});
    throw new Error(missingDataMessage(problems));
  }
  const resultsDir = resolve(outDir, "results");
  await Deno.mkdir(resultsDir, { recursive: true });
  // Results of an earlier run in the same folder must not stand in for a
  // notebook that fails to save this time.
  for (const experiment of selected) {
    await Deno.remove(join(resultsDir, `${experiment.id}.results.json`))
      .catch(() => {});
  }
  console.error(`reproduce: data checked; writing ${outDir}`);
  const env: Record<string, string> = {
    CNN_RESULTS_DIR: resultsDir,
    CNN_SEED: String(seed),
  };
  if (mirror !== null) env.CNN_DATA_MIRROR = resolve(mirror);
  if (backend !== "auto") env.CNN_BACKEND = backend;
  const run = await runNotebooks(
    paths,
    { scale, outDir: join(outDir, "notebooks"), env },
  );
  for (const warning of run.warnings) console.error(`warning: ${warning}`);
  const notebooks: NotebookOutcome[] = [];
  for (const [i, experiment] of selected.entries()) {
    const r = run.runs[i];
    const executed = run.written.get(r.path);
    notebooks.push({
      experiment,
      status: r.status,
      seconds: r.seconds,
      failure: r.failure ?? null,
      executed: executed ? relative(outDir, executed) : null,
      results: await readNotebookResults(resultsDir, experiment.id),
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  const rows = notebooks.flatMap((n) => n.results?.rows ?? []);
  const machine = await machineDescription();
  const commit = await sourceCommit();
  await Deno.writeTextFile(
    join(outDir, "results.md"),
    reportMarkdown({
      scale,
      seed,
      backend,
      started,
      seconds,
      machine,
      commit,
      mirror,
      notebooks,
      reference,
    }),
  );
  await Deno.writeTextFile(join(outDir, "results.csv"), resultsCsv(rows));
  await Deno.writeTextFile(
    join(outDir, "results.json"),
    JSON.stringify(
      {
        scale,
        seed,
        backend_requested: backend,
        started: started.toISOString(),
        seconds,
        commit,
        machine,
        data_mirror: mirror,
        rows,
        reference: reference ? { ...reference, rows: undefined } : null,
        notebooks: notebooks.map((n) => ({
          experiment: n.experiment.id,
          notebook: n.experiment.notebook,
          executed: n.executed,
          status: n.status,
          seconds: n.seconds,
          failure: n.failure,
          backend: n.results?.backend ?? null,
          saved_results: n.results !== null,
          notes: n.results?.notes ?? [],
        })),
      },
      null,
      2,
    ) + "\n",
  );
  const failed = notebooks.filter((n) => n.status !== "ok" || !n.results);
  console.log(
    `reproduce: ${outDir}/results.md written in ${_minutes(seconds)}` +
      (failed.length ? `; ${failed.length} failure(s)` : ""),
  );
  return failed.length ? 1 : 0;
}

if (import.meta.main) runCli(USAGE, main);
