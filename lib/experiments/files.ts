/**
 * Where a notebook keeps the files it writes besides its results
 * (TensorBoard logs, checkpoints, saved weights): one fixed folder per
 * experiment that a reader can find and that the next run reuses, instead
 * of a new temporary folder per run that nobody removes.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { notebookFilesDir } from "./files.ts";
 * const root = await Deno.makeTempDir();
 * const dir = await notebookFilesDir("001-mnist-lenet5", { resultsDir: null, root });
 * assert.equal(dir, `${root}/001-mnist-lenet5`);
 * ```
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Options of {@linkcode notebookFilesDir}. */
export interface NotebookFilesDirOptions {
  /**
   * The run's results folder (`RunConfig.resultsDir`; `deno task reproduce`
   * sets `CNN_RESULTS_DIR=<report>/results`); the files then go to
   * `<report>/files/<experiment>`, beside the executed notebooks. Default:
   * none (the files go under {@linkcode NotebookFilesDirOptions.root}).
   */
  resultsDir?: string | null;
  /**
   * Folder of the per-experiment folders when there is no results folder.
   * Default: `reports/files` in the project (git-ignored).
   */
  root?: string;
}

/**
 * Creates (if needed) and returns the absolute path of the folder where the
 * notebook of `experiment` writes its files: `<report>/files/<experiment>`
 * when `deno task reproduce` runs it, else `reports/files/<experiment>` in
 * the project. The folder is reused from run to run: a cell that writes a
 * subfolder (`tensorboard/`, `checkpoints/`) empties that subfolder first,
 * so it holds one run and the cell can run again.
 *
 * @example
 * ```ts
 * import { notebookFilesDir } from "./files.ts";
 * import { runConfigFromEnv } from "../config.ts";
 * const config = runConfigFromEnv();
 * const files = await notebookFilesDir("001-mnist-lenet5", {
 *   resultsDir: config.resultsDir,
 * });
 * const logs = `${files}/tensorboard`;
 * ```
 */
export async function notebookFilesDir(
  experiment: string,
  options: NotebookFilesDirOptions = {},
): Promise<string> {
  if (!/^[\w.-]+$/.test(experiment) || /^\.+$/.test(experiment)) {
    throw new Error(
      `notebookFilesDir: the experiment id must be a plain folder name (letters, digits, "_", "-", "."), got ${
        JSON.stringify(experiment)
      }`,
    );
  }
  const resultsDir = options.resultsDir;
  const root = resultsDir
    ? join(dirname(resolve(resultsDir)), "files")
    : resolve(
      options.root ??
        fileURLToPath(new URL("../../reports/files", import.meta.url)),
    );
  const dir = join(root, experiment);
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Empties `dir` (removes it with its contents, then creates it again) and
 * returns it: what a notebook cell does before writing a run's logs or
 * checkpoints, so the folder holds that run alone and the cell can run
 * again.
 *
 * @example
 * ```ts
 * import { freshDir } from "./files.ts";
 * const dir = await freshDir(`${await Deno.makeTempDir()}/logs`);
 * ```
 */
export async function freshDir(dir: string): Promise<string> {
  await Deno.remove(dir, { recursive: true }).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}
