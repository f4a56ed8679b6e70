/**
 * Installs a project-local Jupyter kernelspec for the Deno kernel in
 * `.jupyter/kernels/deno/` (git-ignored), running this checkout's deno,
 * and prints how to start JupyterLab or Notebook with it. Nothing is
 * written to the user-wide Jupyter folders, so other checkouts and other
 * deno versions are unaffected. `CNN_DATA_DIR` and `CNN_DATA_MIRROR`, when
 * set, are recorded in the kernelspec as absolute paths (resolved against
 * the directory `deno task kernel` was started from), because the kernel
 * runs in the notebook's folder.
 *
 * Usage: `deno task kernel [--name NAME] [--display NAME]`
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { dataLocationEnv } from "../lib/config.ts";
import { writeKernelspec } from "./jupyter/mod.ts";
import { parseCli, runCli } from "./_cli.ts";

/** Options for {@linkcode installKernel}. */
export interface InstallKernelOptions {
  /** Folder to use as `JUPYTER_PATH`. Default: `<repo>/.jupyter`. */
  jupyterPath?: string;
  /** Kernel name. Default: `"deno"` (the name the notebooks ask for). */
  name?: string;
  /** Display name. Default: `"Deno (cnn project)"`. */
  displayName?: string;
  /**
   * Environment recorded in the kernelspec. Default: `CNN_DATA_DIR` and
   * `CNN_DATA_MIRROR` as absolute paths, when set.
   */
  env?: Record<string, string>;
}

/**
 * Writes the kernelspec and returns the `JUPYTER_PATH` folder and the file.
 *
 * @example
 * ```ts
 * const { jupyterPath } = await installKernel();
 * console.log(`JUPYTER_PATH=${jupyterPath} jupyter lab`);
 * ```
 */
export async function installKernel(
  options: InstallKernelOptions = {},
): Promise<{ jupyterPath: string; file: string; env: Record<string, string> }> {
  const repo = dirname(dirname(fileURLToPath(import.meta.url)));
  const jupyterPath = options.jupyterPath ?? join(repo, ".jupyter");
  const env = options.env ?? dataLocationEnv();
  const file = await writeKernelspec(jupyterPath, {
    name: options.name,
    displayName: options.displayName ?? "Deno (cnn project)",
    env: Object.keys(env).length ? env : undefined,
  });
  return { jupyterPath, file, env };
}

const USAGE = "usage: deno task kernel [--name NAME] [--display NAME]";

async function main(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, {
    name: { type: "string" },
    display: { type: "string" },
  });
  const name = values.name;
  const { jupyterPath, file, env } = await installKernel({
    name,
    displayName: values.display,
  });
  const recorded = Object.entries(env).map(([k, v]) => `  ${k}=${v}\n`)
    .join("");
  console.log(`Installed the Deno kernelspec: ${file}
  (runs ${Deno.execPath()}; run \`deno task kernel\` again after upgrading deno)
${
    recorded
      ? `Recorded for the kernel (absolute; rerun to change):\n${recorded}`
      : ""
  }
Start Jupyter with this project's kernel, from the repository root:

  JUPYTER_PATH=${jupyterPath} jupyter lab
  JUPYTER_PATH=${jupyterPath} jupyter notebook    # classic Notebook

and open notebooks/*.ipynb (kernel "${name ?? "deno"}"). Set CNN_SCALE=smoke or
CNN_SCALE=full in that shell to choose the scale the notebooks run at.
Check with: JUPYTER_PATH=${jupyterPath} jupyter kernelspec list`);
  return 0;
}

if (import.meta.main) runCli(USAGE, main);
