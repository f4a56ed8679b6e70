/**
 * Executes one notebook top to bottom in a fresh Deno kernel started in the
 * notebook's folder, and returns the executed notebook with a per-cell
 * account (status, seconds, error). Execution stops at the first failing
 * cell, as in Jupyter's "run all" with stop-on-error.
 *
 * A notebook written for another kernel (its kernelspec is not `deno`) is
 * refused before any kernel starts. A promise rejected without a handler
 * in a cell (`(async () => { throw e })()`), which the Deno kernel would
 * swallow, fails the cell that is running when it surfaces, with the
 * error shown in that cell.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { dataLocationEnv } from "../../lib/config.ts";
import { DEFAULT_SCALE, type Scale } from "../../lib/experiments/scale.ts";
import { KernelClient } from "./client.ts";
import { joinText, type Notebook, readNotebook } from "./nbformat.ts";
import type { CellOutputs } from "./outputs.ts";

/**
 * The kernel name the project's notebooks ask for (`deno task kernel`
 * installs it under this name).
 *
 * @example
 * ```ts
 * console.log(DENO_KERNEL_NAME); // "deno"
 * ```
 */
export const DENO_KERNEL_NAME = "deno";

/**
 * Why `notebook` cannot run in the Deno kernel, or null when it can: its
 * kernelspec names another kernel (e.g. `python3`), or it has none and its
 * language is not TypeScript/JavaScript.
 *
 * @example
 * ```ts
 * const problem = kernelProblem(await readNotebook("x.ipynb"));
 * if (problem) throw new Error(problem);
 * ```
 */
export function kernelProblem(notebook: Notebook): string | null {
  const spec = notebook.metadata?.kernelspec as
    | { name?: unknown; display_name?: unknown }
    | undefined;
  const language = (notebook.metadata?.language_info as
    | { name?: unknown }
    | undefined)?.name;
  const fix = `; this runner executes notebooks in the project's Deno kernel ` +
    `(kernelspec name "${DENO_KERNEL_NAME}"): run it with its own kernel, ` +
    "or set its kernel to Deno in Jupyter (Kernel > Change kernel) and save";
  if (spec && typeof spec === "object" && spec.name !== undefined) {
    if (spec.name === DENO_KERNEL_NAME) return null;
    const shown = typeof spec.display_name === "string"
      ? ` (${spec.display_name})`
      : "";
    return `its kernelspec is "${String(spec.name)}"${shown}, not ` +
      `"${DENO_KERNEL_NAME}"${fix}`;
  }
  if (
    typeof language === "string" &&
    !/^(typescript|javascript)$/i.test(language)
  ) {
    return `it has no kernelspec and its language is "${language}"${fix}`;
  }
  return null;
}

/**
 * Runs once in each kernel before the notebook: a promise rejected without
 * a handler is shown as an error of the running cell (the Deno kernel
 * otherwise drops it without a word, and the cell passes).
 */
const _REPORT_UNHANDLED_REJECTIONS = `globalThis.addEventListener(
  "unhandledrejection",
  (event) => {
    event.preventDefault();
    const reason = event.reason;
    const error = reason instanceof Error ? reason : null;
    Deno.jupyter.broadcast("error", {
      ename: "Uncaught (in promise) " + (error?.name ?? "Error"),
      evalue: error ? error.message : String(reason),
      traceback: [error?.stack ?? String(reason)],
    });
  },
);`;

/** Scales the notebooks understand (env var `CNN_SCALE`): the library's. */
export type { Scale };

/** Options for {@linkcode executeNotebook}. */
export interface ExecuteNotebookOptions {
  /** Value of `CNN_SCALE` for the kernel. Default: `"quick"`. */
  scale?: Scale;
  /** Per-cell limit in seconds; 0 = none. Default: 600. */
  timeoutSeconds?: number;
  /** Quiet time after a cell's idle status, in ms. Default: 200. */
  graceMs?: number;
  /**
   * A cell that finished but keeps printing for this long times out, in
   * seconds; 0 = never. Default: 30.
   */
  printingAfterIdleSeconds?: number;
  /** Extra environment for the kernel. Default: none. */
  env?: Record<string, string>;
  /** Called before and after each code cell (for progress lines). */
  onCell?: (event: CellEvent) => void;
}

/** Progress event for one code cell. */
export interface CellEvent {
  /** `start` before the request, `end` after it finished. */
  phase: "start" | "end";
  /** The notebook path. */
  path: string;
  /** 1-based position among all cells. */
  cellNumber: number;
  /** Total number of cells. */
  cellCount: number;
  /** The account of the cell (on `end`). */
  run?: CellRun;
  /**
   * The live outputs of the running cell (on `start`, once the request is
   * sent): `outputs.latestLine` is its latest progress line.
   */
  outputs?: CellOutputs;
}

/** How one cell ran. */
export interface CellRun {
  /** 1-based position among all cells (markdown included), as shown in Jupyter. */
  cellNumber: number;
  /** First non-empty line of the source, for reports. */
  firstLine: string;
  /** `ok`, `error`, `timeout`, `dead` (kernel died) or `skipped` (after a failure). */
  status: "ok" | "error" | "timeout" | "dead" | "skipped";
  /** Seconds the cell took (0 when skipped). */
  seconds: number;
  /** Output messages that arrived after the kernel reported idle. */
  afterIdle: number;
  /** One-line error description when the cell failed. */
  message?: string;
  /** The error's traceback, if the kernel sent one. */
  traceback?: string[];
}

/** The outcome of executing one notebook. */
export interface NotebookRun {
  /** The notebook path as given. */
  path: string;
  /** `ok` when every code cell ran without error. */
  status: "ok" | "failed";
  /** Wall time in seconds, kernel start and shutdown included. */
  seconds: number;
  /** The scale the notebook ran at. */
  scale: Scale;
  /** One entry per code cell. */
  cells: CellRun[];
  /** The executed notebook (outputs and execution counts filled in). */
  notebook: Notebook;
  /** `notebook.ipynb, cell 7: Error: boom` when it failed. */
  failure?: string;
  /** Output messages applied after their cell was done (late race). */
  lateMessages: number;
  /** True when the file could not be read as a notebook (nothing ran). */
  unreadable?: boolean;
  /**
   * The TensorFlow.js backend active when the notebook finished (null when
   * it loaded none, or the kernel was dead or stuck).
   */
  backend?: string | null;
}

/**
 * Executes a notebook file and returns the run (it does not write files).
 *
 * @example
 * ```ts
 * const run = await executeNotebook("notebooks/001_mnist_lenet5.ipynb", { scale: "smoke" });
 * if (run.status !== "ok") console.error(run.failure);
 * ```
 */
export async function executeNotebook(
  path: string,
  options: ExecuteNotebookOptions = {},
): Promise<NotebookRun> {
  const scale = options.scale ?? DEFAULT_SCALE;
  const timeoutMs = (options.timeoutSeconds ?? 600) * 1000;
  const started = performance.now();
  const cells: CellRun[] = [];
  let failure: string | undefined;
  const name = path.split("/").at(-1) ?? path;
  let notebook: Notebook;
  try {
    notebook = await readNotebook(path);
  } catch (e) {
    // One unreadable notebook fails itself, not the batch it is in.
    return {
      path,
      status: "failed",
      seconds: (performance.now() - started) / 1000,
      scale,
      cells,
      notebook: { cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 },
      unreadable: true,
      failure: `${name}: cannot read the notebook: ${(e as Error).message}`,
      lateMessages: 0,
    };
  }
  const problem = kernelProblem(notebook);
  if (problem) {
    return {
      path,
      status: "failed",
      seconds: (performance.now() - started) / 1000,
      scale,
      cells,
      notebook,
      unreadable: true,
      failure: `${name}: refused: ${problem}`,
      lateMessages: 0,
    };
  }
  for (const cell of notebook.cells) {
    if (cell.cell_type !== "code") continue;
    cell.outputs = [];
    cell.execution_count = null;
  }
  let kernel: KernelClient;
  try {
    kernel = await KernelClient.start({
      cwd: dirname(resolve(path)),
      // Data paths made absolute here: the kernel runs in the notebook's folder.
      env: {
        ...dataLocationEnv(),
        ...options.env,
        CNN_SCALE: scale,
        NO_COLOR: "1",
      },
    });
  } catch (e) {
    return {
      path,
      status: "failed",
      seconds: (performance.now() - started) / 1000,
      scale,
      cells,
      notebook,
      failure: `${name}: ${(e as Error).message}`,
      lateMessages: 0,
    };
  }
  let stuck = false;
  let backend: string | null = null;
  try {
    const setup = await kernel.execute(_REPORT_UNHANDLED_REJECTIONS, {
      timeoutMs: 30_000,
      storeHistory: false,
      graceMs: 50,
    });
    if (setup.status !== "ok") {
      failure = `${name}: the kernel could not be prepared: ${setup.message}`;
      stuck = setup.status === "timeout";
    }
    for (const [index, cell] of notebook.cells.entries()) {
      if (cell.cell_type !== "code") continue;
      const source = joinText(cell.source);
      const cellNumber = index + 1;
      const firstLine = source.split("\n").find((l) => l.trim())?.trim() ?? "";
      if (failure) {
        cells.push({
          cellNumber,
          firstLine,
          status: "skipped",
          seconds: 0,
          afterIdle: 0,
        });
        continue;
      }
      if (!source.trim()) continue;
      const result = await kernel.execute(source, {
        timeoutMs,
        graceMs: options.graceMs,
        printingAfterIdleMs: (options.printingAfterIdleSeconds ?? 30) * 1000,
        onStart: (outputs) =>
          options.onCell?.({
            phase: "start",
            path,
            cellNumber,
            cellCount: notebook.cells.length,
            outputs,
          }),
      });
      // The live outputs array: late messages still land in the notebook.
      cell.outputs = result.cell.outputs;
      cell.execution_count = result.executionCount;
      const run: CellRun = {
        cellNumber,
        firstLine,
        status: result.status,
        seconds: result.seconds,
        afterIdle: result.afterIdle,
        message: result.message,
        traceback: result.cell.error?.traceback,
      };
      cells.push(run);
      if (result.status !== "ok") {
        failure = `${name}, cell ${cellNumber}: ${result.message}`;
      }
      if (result.status === "timeout") stuck = true;
      options.onCell?.({
        phase: "end",
        path,
        cellNumber,
        cellCount: notebook.cells.length,
        run,
      });
    }
    // A kernel stuck in a timed-out cell (or still printing) cannot shut
    // down cleanly: kill it at once.
    if (!stuck) {
      await kernel.drain(options.graceMs ?? 200);
      backend = await _activeBackend(kernel);
    }
  } finally {
    await kernel.shutdown({ kill: stuck });
  }
  return {
    path,
    status: failure ? "failed" : "ok",
    seconds: (performance.now() - started) / 1000,
    scale,
    cells,
    notebook,
    failure,
    lateMessages: kernel.lateMessages,
    backend,
  };
}

/**
 * The TensorFlow.js backend the notebook's code left active, read from
 * tfjs's global engine without loading anything (null when the notebook
 * never loaded TensorFlow.js).
 */
async function _activeBackend(kernel: KernelClient): Promise<string | null> {
  const probe = await kernel.execute(
    "(globalThis as { _tfengine?: { backendName?: string } })._tfengine" +
      "?.backendName ?? null;",
    { timeoutMs: 10_000, storeHistory: false },
  );
  const result = probe.cell.outputs.find((o) =>
    o.output_type === "execute_result"
  );
  if (probe.status !== "ok" || result?.output_type !== "execute_result") {
    return null;
  }
  const text = joinText(result.data["text/plain"] as string | string[]);
  const name = text.trim().replace(/^"(.*)"$/, "$1");
  return name === "null" || name === "undefined" ? null : name;
}
