/**
 * Helpers for opening executed notebooks in the classic Jupyter Notebook
 * server through headless Chromium (Debian `jupyter-notebook`, `chromium`).
 */

import assert from "node:assert/strict";
import { writeKernelspec } from "../scripts/jupyter/mod.ts";

export const PYTHON = "/usr/bin/python3";
export const CHROMIUM = "/usr/bin/chromium";

export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

export function hasNotebookServer(): boolean {
  if (!exists(PYTHON) || !exists(CHROMIUM)) return false;
  try {
    return new Deno.Command(PYTHON, {
      args: ["-c", "import notebook.notebookapp"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

export async function waitForServer(url: string, server: Deno.ChildProcess) {
  let exited = false;
  server.status.then(() => exited = true);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the notebook server did not start (${url})`);
}

export async function chromium(dir: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(CHROMIUM, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${dir}/chromium-${crypto.randomUUID()}`,
      "--virtual-time-budget=15000",
      "--window-size=1100,900",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr).slice(-2000));
  return new TextDecoder().decode(out.stdout);
}

/** The SVG elements inside the page's output areas. */
export function outputSvgs(dom: string): string[] {
  const areas = dom.split('class="output_subarea').slice(1);
  return areas.flatMap((area) => area.match(/<svg[\s\S]*?<\/svg>/g) ?? []);
}

/** A running classic Notebook server serving `notebookDir`. */
export interface NotebookServer {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Stops the server (and the kernels pages started). */
  close(): Promise<void>;
}

/**
 * Starts the classic Notebook server on a free port over `notebookDir`, with
 * Jupyter's data dir `dataDir` (where the runner recorded its signatures) and
 * the project's kernelspec, all other Jupyter folders under `scratch`.
 */
export async function startNotebookServer(
  notebookDir: string,
  dataDir: string,
  scratch: string,
): Promise<NotebookServer> {
  await writeKernelspec(`${scratch}/jupyter-path`);
  const port = freePort();
  const server = new Deno.Command(PYTHON, {
    args: [
      "-m",
      "notebook",
      "--no-browser",
      "--allow-root",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      "--NotebookApp.token=",
      "--NotebookApp.password=",
      `--notebook-dir=${notebookDir}`,
    ],
    env: {
      JUPYTER_DATA_DIR: dataDir,
      JUPYTER_PATH: `${scratch}/jupyter-path`,
      JUPYTER_CONFIG_DIR: `${scratch}/jupyter-config`,
      JUPYTER_RUNTIME_DIR: `${scratch}/jupyter-runtime`,
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  const close = async () => {
    // SIGTERM lets the server shut down the kernel the page started.
    server.kill("SIGTERM");
    await server.status;
  };
  try {
    await waitForServer(`${base}/api`, server);
  } catch (e) {
    await close();
    throw e;
  }
  return { base, close };
}
