/**
 * Installs a project-local Jupyter kernelspec for the Deno kernel in
 * `.jupyter/kernels/deno/` (git-ignored), running this checkout's deno,
 * and prints how to start JupyterLab or Notebook with it. Nothing is
 * written to the user-wide Jupyter folders, so other checkouts and other
 * deno versions are unaffected.
 *
 * Usage: `deno task kernel [--name NAME] [--display NAME]`
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeKernelspec } from "./_jupyter/mod.ts";

/** Options for {@linkcode installKernel}. */
export interface InstallKernelOptions {
  /** Folder to use as `JUPYTER_PATH`. Default: `<repo>/.jupyter`. */
  jupyterPath?: string;
  /** Kernel name. Default: `"deno"` (the name the notebooks ask for). */
  name?: string;
  /** Display name. Default: `"Deno (cnn project)"`. */
  displayName?: string;
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
): Promise<{ jupyterPath: string; file: string }> {
  const repo = dirname(dirname(fileURLToPath(import.meta.url)));
  const jupyterPath = options.jupyterPath ?? join(repo, ".jupyter");
  const file = await writeKernelspec(jupyterPath, {
    name: options.name,
    displayName: options.displayName ?? "Deno (cnn project)",
  });
  return { jupyterPath, file };
}

if (import.meta.main) {
  const args = [...Deno.args];
  const take = (flag: string) => {
    const i = args.indexOf(flag);
    if (i < 0) return undefined;
    const value = args[i + 1];
    if (value === undefined) {
      console.error(`${flag} needs a value`);
      Deno.exit(2);
    }
    args.splice(i, 2);
    return value;
  };
  const name = take("--name");
  const displayName = take("--display");
  if (args.length) {
    console.error(
      `unknown arguments: ${
        args.join(" ")
      }\nusage: deno task kernel [--name NAME] [--display NAME]`,
    );
    Deno.exit(2);
  }
  const { jupyterPath, file } = await installKernel({ name, displayName });
  console.log(`Installed the Deno kernelspec: ${file}
  (runs ${Deno.execPath()}; run \`deno task kernel\` again after upgrading deno)

Start Jupyter with this project's kernel, from the repository root:

  JUPYTER_PATH=${jupyterPath} jupyter lab
  JUPYTER_PATH=${jupyterPath} jupyter notebook    # classic Notebook

and open notebooks/*.ipynb (kernel "${name ?? "deno"}"). Set CNN_SCALE=smoke or
CNN_SCALE=full in that shell to choose the scale the notebooks run at.
Check with: JUPYTER_PATH=${jupyterPath} jupyter kernelspec list`);
}
