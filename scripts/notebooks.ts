/**
 * Executes notebooks headlessly with the real Deno kernel, writes the
 * executed notebooks (signed, so Jupyter trusts and renders their figures),
 * an HTML report and a JSON summary, and exits non-zero on any cell error,
 * kernel death or timeout.
 *
 * Usage:
 *
 * ```sh
 * deno task notebooks [--scale smoke|quick|full] [--out DIR] [--timeout S] [--grace MS] [--progress S] [--no-sign] [paths...]
 * ```
 *
 * - `--scale`: value of `CNN_SCALE` in the kernel (default `quick`).
 * - `--out`: output folder (default `reports/notebooks/<UTC timestamp>/`,
 *   created exclusively: a run started in the same second gets `…-2`).
 * - `--timeout`: per-cell limit in seconds, 0 = none (default 600 for
 *   smoke, 1800 for quick, 0 for full).
 * - `--grace`: quiet time after a cell's idle status before its outputs are
 *   final, in ms (default 200; the kernel publishes some outputs after idle).
 * - `--progress`: while a cell runs, print its latest output line (e.g. a
 *   training epoch line) every S seconds (default 10; 0 = only when cells
 *   end).
 * - `--no-sign`: do not record the notebooks as trusted.
 * - `paths`: notebooks to run (default `notebooks/*.ipynb`).
 *
 * The kernel runs in each notebook's folder with `CNN_SCALE` and
 * `NO_COLOR=1` set. The first line printed is the configuration the run
 * uses (scale, seed, backend, data mirror, notebooks, output folder).
 * SIGINT (Ctrl-C) or SIGTERM ends the running kernel with everything it
 * started, and removes its temp folder.
 *
 * @module
 */

import { basename, dirname, join, relative } from "node:path";
import { runConfigFromEnv } from "../lib/config.ts";
import { DEFAULT_SCALE } from "../lib/experiments/scale.ts";
import {
  ensureCellIds,
  executeNotebook,
  type NotebookRun,
  removeOrphanedKernelDirs,
  renderHtmlReport,
  type Scale,
  serializeNotebook,
  signNotebook,
} from "./jupyter/mod.ts";
import {
  folderTimestamp,
  nonNegativeNumber,
  parseCli,
  pathFlag,
  runCli,
  scaleFlag,
} from "./_cli.ts";

/** Options for {@linkcode runNotebooks}. */
export interface RunNotebooksOptions {
  /** `CNN_SCALE` for the kernels. Default: `"quick"`. */
  scale?: Scale;
  /** Output folder. Default: `reports/notebooks/<UTC timestamp>`. */
  outDir?: string;
  /** Per-cell limit in seconds; 0 = none. Default: 600 (smoke), 1800 (quick), 0 (full). */
  timeoutSeconds?: number;
  /**
   * Extra environment for the kernels, e.g. `CNN_RESULTS_DIR` (where the
   * notebooks save their results), `CNN_SEED`, `CNN_BACKEND`. Default: none.
   */
  env?: Record<string, string>;
  /** Quiet time after idle, in ms. Default: 200. */
  graceMs?: number;
  /** Record executed notebooks as trusted. Default: true. */
  sign?: boolean;
  /** Jupyter data directory for signing. Default: Jupyter's own rule. */
  dataDir?: string;
  /** Print progress to stderr. Default: true. */
  progress?: boolean;
  /**
   * While a cell runs, print its latest output line every this many
   * seconds (with `progress`); 0 = never. Default: 10.
   */
  progressSeconds?: number;
}

/** What {@linkcode runNotebooks} did. */
export interface RunNotebooksResult {
  /** True when every notebook ran without a failing cell. */
  ok: boolean;
  /** The output folder. */
  outDir: string;
  /** One run per notebook, in the order given. */
  runs: NotebookRun[];
  /** Paths of the executed notebooks, by input path. */
  written: Map<string, string>;
  /** Path of the HTML report. */
  reportPath: string;
  /** Warnings (e.g. signing failed). */
  warnings: string[];
}

/**
 * The notebooks the runner executes when none are given:
 * `notebooks/*.ipynb` of this repository, sorted, relative to the cwd.
 *
 * @example
 * ```ts
 * const paths = await defaultNotebooks(); // ["notebooks/000_kannada_mnist.ipynb", …]
 * ```
 */
export async function defaultNotebooks(): Promise<string[]> {
  const dir = new URL("../notebooks/", import.meta.url);
  const paths: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".ipynb")) {
        paths.push(relative(Deno.cwd(), join(dir.pathname, entry.name)));
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return paths.sort();
}

/**
 * Creates the folder `path` exclusively and returns it; when it exists
 * already (another run started in the same second), creates `path-2`,
 * `path-3`, … instead. Parent folders are created as needed.
 *
 * @example
 * ```ts
 * const dir = await createUniqueDir("reports/2026-12-07T00-25-54Z");
 * // "reports/2026-12-07T00-25-54Z", or "…Z-2" when that was taken
 * ```
 */
export async function createUniqueDir(path: string): Promise<string> {
  await Deno.mkdir(dirname(path), { recursive: true });
  for (let n = 1; n <= 1000; n++) {
    const candidate = n === 1 ? path : `${path}-${n}`;
    try {
      await Deno.mkdir(candidate);
      return candidate;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
  throw new Error(
    `could not create a new folder beside ${path}: 1000 names are taken; ` +
      "remove old ones or pass --out DIR",
  );
}

/** What a run is configured with, for {@linkcode describeRun}. */
export interface RunDescription {
  /** The command, e.g. "reproduce". */
  command: string;
  /** Scale of the notebooks. */
  scale: Scale;
  /** Seed the notebooks get. Default: env `CNN_SEED`, else the library's. */
  seed?: number | string;
  /** Backend asked for. Default: env `CNN_BACKEND`, else "auto". */
  backend?: string;
  /** The dataset mirror. Default: `CNN_DATA_MIRROR` (resolved). */
  mirror?: string | null;
  /** Notebook paths. */
  notebooks: string[];
  /** Output folder. */
  outDir: string;
}

/**
 * One line saying what a run is configured with: scale, seed, backend,
 * data mirror, notebooks and output folder (the first line `reproduce` and
 * `notebooks` print).
 *
 * @example
 * ```ts
 * console.error(describeRun({
 *   command: "notebooks", scale: "smoke", notebooks: ["a.ipynb"], outDir: "out",
 * }));
 * ```
 */
export function describeRun(run: RunDescription): string {
  // What the run does not say comes from the run configuration (CNN_*).
  const config = runConfigFromEnv();
  const mirror = run.mirror === undefined ? config.data.mirror : run.mirror;
  const names = run.notebooks.map((p) => basename(p)).join(" ");
  return `${run.command}: scale ${run.scale}, seed ${
    run.seed ?? config.seed
  }, backend ${run.backend ?? config.backend}, data mirror ${
    mirror ?? "none (the data cache, then downloads)"
  }, notebooks ${names || "none"}, output ${run.outDir}`;
}

/** Per-cell limit in seconds by scale (0 = none: full runs take hours). */
const _DEFAULT_TIMEOUT: Record<Scale, number> = {
  smoke: 600,
  quick: 1800,
  full: 0,
};

/**
 * Runs notebooks one after another and writes the executed copies, the
 * report (`report.html`) and `summary.json` to the output folder.
 *
 * @example
 * ```ts
 * const result = await runNotebooks(["notebooks/001_mnist_lenet5.ipynb"], {
 *   scale: "smoke",
 *   outDir: "reports/now/notebooks",
 * });
 * if (!result.ok) Deno.exit(1);
 * ```
 */
export async function runNotebooks(
  paths: string[],
  options: RunNotebooksOptions = {},
): Promise<RunNotebooksResult> {
  if (paths.length === 0) {
    throw new Error(
      "no notebooks to run: pass .ipynb paths or add notebooks to notebooks/",
    );
  }
  const names = paths.map((p) => basename(p));
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) {
    throw new Error(
      `two notebooks are named ${duplicate}; run them with separate --out folders`,
    );
  }
  const scale = options.scale ?? DEFAULT_SCALE;
  const outDir = options.outDir ??
    await createUniqueDir(join("reports", "notebooks", folderTimestamp()));
  const progress = options.progress ?? true;
  const everyMs = (options.progressSeconds ?? 10) * 1000;
  const log = (line: string) => progress && console.error(line);
  await Deno.mkdir(outDir, { recursive: true });
  const orphans = await removeOrphanedKernelDirs();
  if (orphans.length) {
    log(
      `removed ${orphans.length} kernel folder(s) a killed run left behind`,
    );
  }
  const runs: NotebookRun[] = [];
  const written = new Map<string, string>();
  const warnings: string[] = [];
  for (const path of paths) {
    const name = basename(path);
    log(`${name}: starting kernel (CNN_SCALE=${scale})`);
    let ticker: ReturnType<typeof setInterval> | undefined;
    const run = await executeNotebook(path, {
      scale,
      timeoutSeconds: options.timeoutSeconds ?? _DEFAULT_TIMEOUT[scale],
      graceMs: options.graceMs,
      env: options.env,
      onCell: (event) => {
        clearInterval(ticker);
        if (event.phase === "start" && progress && everyMs > 0) {
          // Long cells (training) are not silent: their latest line, often.
          const started = performance.now();
          ticker = setInterval(() => {
            const line = event.outputs?.latestLine;
            log(
              `${name}: cell ${event.cellNumber}/${event.cellCount} running ` +
                `${((performance.now() - started) / 1000).toFixed(0)} s` +
                (line ? ` — ${_shorten(line)}` : " (no output yet)"),
            );
          }, everyMs);
        }
        if (event.phase === "end" && event.run) {
          const r = event.run;
          log(
            `${name}: cell ${r.cellNumber}/${event.cellCount} ${r.status} ` +
              `${r.seconds.toFixed(1)} s${r.message ? ` — ${r.message}` : ""}`,
          );
        }
      },
    });
    clearInterval(ticker);
    runs.push(run);
    if (run.unreadable) {
      log(`${name}: ${run.failure}`);
      continue;
    }
    const target = join(outDir, name);
    // Jupyter adds ids to id-less cells when it reads the file; sign what it reads.
    ensureCellIds(run.notebook);
    await Deno.writeTextFile(target, serializeNotebook(run.notebook));
    written.set(path, target);
    if (options.sign ?? true) {
      try {
        await signNotebook(run.notebook, { dataDir: options.dataDir });
      } catch (e) {
        warnings.push(
          `could not sign ${target} (Jupyter will not render its SVG until ` +
            `you run \`jupyter trust ${target}\`): ${(e as Error).message}`,
        );
      }
    }
    log(
      `${name}: ${run.status} in ${run.seconds.toFixed(1)} s -> ${target}` +
        (run.failure ? `\n  ${run.failure}` : ""),
    );
  }
  const links = new Map(
    [...written].map(([path, file]) => [path, basename(file)]),
  );
  const reportPath = join(outDir, "report.html");
  await Deno.writeTextFile(
    reportPath,
    renderHtmlReport(runs, {
      title: `Notebooks at ${scale} scale`,
      links,
    }),
  );
  const summary = runs.map((run) => ({
    notebook: run.path,
    executed: written.get(run.path) ?? null,
    status: run.status,
    scale: run.scale,
    backend: run.backend ?? null,
    seconds: Number(run.seconds.toFixed(2)),
    failure: run.failure ?? null,
    lateMessages: run.lateMessages,
    cells: run.cells.map(({ cellNumber, status, seconds, message }) => ({
      cell: cellNumber,
      status,
      seconds: Number(seconds.toFixed(3)),
      message: message ?? null,
    })),
  }));
  await Deno.writeTextFile(
    join(outDir, "summary.json"),
    JSON.stringify(summary, null, 2) + "\n",
  );
  return {
    ok: runs.every((r) => r.status === "ok"),
    outDir,
    runs,
    written,
    reportPath,
    warnings,
  };
}

/** A progress line cut to a terminal's width. */
function _shorten(line: string, max = 160): string {
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

const USAGE =
  "usage: deno task notebooks [--scale smoke|quick|full] [--out DIR] [--timeout S] [--grace MS] [--progress S] [--no-sign] [paths...]";

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli(argv, {
    scale: { type: "string" },
    out: { type: "string" },
    timeout: { type: "string" },
    grace: { type: "string" },
    progress: { type: "string" },
    "no-sign": { type: "boolean" },
  }, { positionals: true });
  const paths = positionals.length
    ? positionals.map((p) => pathFlag(p))
    : await defaultNotebooks();
  const scale = scaleFlag(values.scale, DEFAULT_SCALE);
  const timeoutSeconds = nonNegativeNumber(values.timeout, "--timeout");
  const graceMs = nonNegativeNumber(values.grace, "--grace");
  const progressSeconds = nonNegativeNumber(values.progress, "--progress");
  if (paths.length === 0) {
    throw new Error(
      "no notebooks to run: pass .ipynb paths or add notebooks to notebooks/",
    );
  }
  const outDir = pathFlag(values.out) ??
    await createUniqueDir(join("reports", "notebooks", folderTimestamp()));
  console.error(describeRun({
    command: "notebooks",
    scale,
    notebooks: paths,
    outDir,
  }));
  const result = await runNotebooks(paths, {
    scale,
    outDir,
    timeoutSeconds,
    graceMs,
    progressSeconds,
    sign: !values["no-sign"],
  });
  for (const warning of result.warnings) console.error(`warning: ${warning}`);
  console.log(`report: ${result.reportPath}`);
  const failed = result.runs.filter((r) => r.status !== "ok");
  for (const run of failed) {
    console.error(`FAILED ${run.failure}`);
    const cell = run.cells.find((c) =>
      c.status !== "ok" && c.status !== "skipped"
    );
    const trace = cell?.traceback?.slice(1, 6).join("\n");
    if (trace) console.error(trace);
  }
  console.log(
    `${
      result.runs.length - failed.length
    } of ${result.runs.length} notebooks ran without errors`,
  );
  return failed.length ? 1 : 0;
}

if (import.meta.main) runCli(USAGE, main);
