/**
 * Opens an executed, signed notebook in the classic Jupyter Notebook server
 * through headless Chromium and checks that its SVG figure is rendered, and
 * that an unsigned copy's is not (so the check can fail). Set
 * `NOTEBOOK_SCREENSHOT=path.png` to keep a screenshot of the page.
 * Skipped when Debian's `jupyter-notebook` or `chromium` is missing.
 */

import assert from "node:assert/strict";
import { runNotebooks } from "../scripts/notebooks.ts";
import {
  readNotebook,
  serializeNotebook,
  writeKernelspec,
} from "../scripts/_jupyter/mod.ts";
import { goodNotebook, writeNotebooks } from "./notebooks_fixtures.ts";

const PYTHON = "/usr/bin/python3";
const CHROMIUM = "/usr/bin/chromium";

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function hasNotebookServer(): boolean {
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

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitForServer(url: string, server: Deno.ChildProcess) {
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

async function chromium(dir: string, args: string[]): Promise<string> {
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
function outputSvgs(dom: string): string[] {
  const areas = dom.split('class="output_subarea').slice(1);
  return areas.flatMap((area) => area.match(/<svg[\s\S]*?<\/svg>/g) ?? []);
}

Deno.test({
  name:
    "executed notebook renders its SVG figure in Jupyter Notebook (headless Chromium)",
  ignore: !hasNotebookServer(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "nb-browser-" });
    let server: Deno.ChildProcess | undefined;
    try {
      const { good } = await writeNotebooks(dir, { good: goodNotebook() });
      const data = `${dir}/jupyter-data`;
      const served = `${dir}/served`;
      const result = await runNotebooks([good], {
        outDir: served,
        dataDir: data,
        progress: false,
      });
      assert.equal(result.ok, true, result.runs[0].failure);
      // An unsigned copy: same outputs, one changed markdown cell.
      const copy = await readNotebook(`${served}/good.ipynb`);
      copy.cells[0].source = "# An unsigned copy";
      await Deno.writeTextFile(
        `${served}/unsigned.ipynb`,
        serializeNotebook(copy),
      );
      // The project's kernelspec, so the page finds the `deno` kernel.
      await writeKernelspec(`${dir}/jupyter-path`);

      const port = freePort();
      server = new Deno.Command(PYTHON, {
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
          `--notebook-dir=${served}`,
        ],
        env: {
          JUPYTER_DATA_DIR: data,
          JUPYTER_PATH: `${dir}/jupyter-path`,
          JUPYTER_CONFIG_DIR: `${dir}/jupyter-config`,
          JUPYTER_RUNTIME_DIR: `${dir}/jupyter-runtime`,
        },
        stdout: "null",
        stderr: "null",
      }).spawn();
      const base = `http://127.0.0.1:${port}`;
      await waitForServer(`${base}/api`, server);
      const specs = await (await fetch(`${base}/api/kernelspecs`)).json();
      assert.ok("deno" in specs.kernelspecs, "project kernelspec not found");

      const [signedDom, unsignedDom] = await Promise.all([
        chromium(dir, ["--dump-dom", `${base}/notebooks/good.ipynb`]),
        chromium(dir, ["--dump-dom", `${base}/notebooks/unsigned.ipynb`]),
      ]);
      const svgs = outputSvgs(signedDom);
      assert.ok(
        svgs.some((svg) => svg.includes('id="probe-rect"')),
        `no rendered SVG figure in the page; output SVGs: ${svgs.length}`,
      );
      assert.ok(
        !outputSvgs(unsignedDom).some((svg) => svg.includes("probe-rect")),
        "an unsigned notebook's SVG was rendered: the check cannot tell",
      );
      const screenshot = Deno.env.get("NOTEBOOK_SCREENSHOT");
      if (screenshot) {
        await chromium(dir, [
          `--screenshot=${screenshot}`,
          `${base}/notebooks/good.ipynb`,
        ]);
      }
    } finally {
      if (server) {
        // SIGTERM lets the server shut down the kernel the page started.
        server.kill("SIGTERM");
        await server.status;
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
