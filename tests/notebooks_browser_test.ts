/**
 * Opens an executed, signed notebook in the classic Jupyter Notebook server
 * through headless Chromium and checks that its SVG figure is rendered, and
 * that an unsigned copy's is not (so the check can fail). Set
 * `NOTEBOOK_SCREENSHOT=path.png` to keep a screenshot of the page.
 * Skipped when Debian's `jupyter-notebook` or `chromium` is missing.
 */

import assert from "node:assert/strict";
import { runNotebooks } from "../scripts/notebooks.ts";
import { readNotebook, serializeNotebook } from "../scripts/jupyter/mod.ts";
import { goodNotebook, writeNotebooks } from "./notebooks_fixtures.ts";
import {
  chromium,
  hasNotebookServer,
  type NotebookServer,
  outputSvgs,
  startNotebookServer,
} from "./notebooks_browser_fixtures.ts";

Deno.test({
  name:
    "executed notebook renders its SVG figure in Jupyter Notebook (headless Chromium)",
  ignore: !hasNotebookServer(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "nb-browser-" });
    let server: NotebookServer | undefined;
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
      server = await startNotebookServer(served, data, dir);
      const base = server.base;
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
      await server?.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
