/**
 * A Jupyter kernelspec for the Deno kernel, written into a folder that
 * Jupyter finds through `JUPYTER_PATH` (project-local, not user-wide).
 *
 * @module
 */

import { join } from "node:path";

/** Options for {@linkcode writeKernelspec}. */
export interface WriteKernelspecOptions {
  /** Kernel name (the folder under `kernels/`). Default: `"deno"`. */
  name?: string;
  /** Name shown in the launcher. Default: `"Deno"`. */
  displayName?: string;
  /** The deno binary the kernel runs. Default: `Deno.execPath()`. */
  denoPath?: string;
  /** Environment for the kernel. Default: none. */
  env?: Record<string, string>;
}

/**
 * Writes `<jupyterPath>/kernels/<name>/kernel.json` and returns its path.
 * The notebooks' metadata name the kernel `deno`, so that is the default.
 *
 * @example
 * ```ts
 * const file = await writeKernelspec(".jupyter");
 * // then: JUPYTER_PATH=$PWD/.jupyter jupyter lab
 * ```
 */
export async function writeKernelspec(
  jupyterPath: string,
  options: WriteKernelspecOptions = {},
): Promise<string> {
  const name = options.name ?? "deno";
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new Error(
      `kernel name ${
        JSON.stringify(name)
      } is invalid: use letters, digits, ".", "_" or "-"`,
    );
  }
  const dir = join(jupyterPath, "kernels", name);
  await Deno.mkdir(dir, { recursive: true });
  const spec = {
    argv: [
      options.denoPath ?? Deno.execPath(),
      "jupyter",
      "--kernel",
      "--conn",
      "{connection_file}",
    ],
    display_name: options.displayName ?? "Deno",
    language: "typescript",
    ...(options.env ? { env: options.env } : {}),
  };
  const file = join(dir, "kernel.json");
  await Deno.writeTextFile(file, JSON.stringify(spec, null, 2) + "\n");
  return file;
}
