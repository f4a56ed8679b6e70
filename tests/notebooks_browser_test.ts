/**
 * Opens an executed, signed notebook in the classic Jupyter Notebook server
 * through headless Chromium and checks that its SVG figure is rendered, and
 * that an unsigned copy's is not (so the check can fail). Set
 * `NOTEBOOK_SCREENSHOT=path.png` to keep a screenshot of the page.
 * Also opens the committed reference notebooks untrusted (no signature, as
 * in a fresh clone) and counts the figures each page shows: all of them.
 * Skipped when Debian's `jupyter-notebook` or `chromium` is missing.
 */

import assert from "node:assert/strict";
import { runNotebooks } from "../scripts/notebooks.ts";
import {
  joinText,
  readNotebook,
  serializeNotebook,
} from "../scripts/jupyter/mod.ts";
import { goodNotebook, writeNotebooks } from "./notebooks_fixtures.ts";
import {
  chromium,
  hasNotebookServer,
  type NotebookServer,
  outputPngs,
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

Deno.test({
  name:
    "the committed reference notebooks show every figure when opened untrusted (classic Notebook, headless Chromium)",
  ignore: !hasNotebookServer(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "nb-browser-ref-" });
    let server: NotebookServer | undefined;
    try {
      const reference = new URL("../notebooks/reference/", import.meta.url)
        .pathname;
      const served = `${dir}/served`;
      await Deno.mkdir(served);
      const names = [...Deno.readDirSync(reference)].map((e) => e.name)
        .filter((n) => n.endsWith(".ipynb")).sort();
      assert.equal(names.length, 5, `reference notebooks: ${names}`);
      for (const name of names) {
        await Deno.copyFile(`${reference}${name}`, `${served}/${name}`);
      }
      // A fresh Jupyter data dir holds no signature: every notebook is
      // untrusted, as in a fresh clone. Nothing is signed or trusted here.
      server = await startNotebookServer(served, `${dir}/jupyter-data`, dir);
      for (const name of names) {
        const nb = await readNotebook(`${served}/${name}`);
        // Figures: outputs with an image in any format (PNG or SVG), and
        // the training charts inside HTML outputs (inline SVG or PNG).
        const data = nb.cells.flatMap((c) => c.outputs ?? []).flatMap((o) =>
          "data" in o ? [o.data as Record<string, unknown>] : []
        );
        const images = data.filter((d) =>
          Object.keys(d).some((mime) =>
            mime.startsWith("image/")
          )
        ).length;
        const charts = data.map((d) =>
          joinText(d["text/html"] as string[] | undefined)
        ).filter((html) => /<svg xmlns|<img src="data:image\/png/.test(html))
          .length;
        const expected = images + charts;
        assert.ok(expected > 0, `${name} has no figure to show`);
        const dom = await chromium(dir, [
          "--dump-dom",
          `${server.base}/notebooks/${encodeURIComponent(name)}`,
        ]);
        assert.match(dom, /Not Trusted/, `${name} was opened trusted`);
        const shown = outputPngs(dom);
        assert.equal(
          shown.length,
          expected,
          `${name}: the page shows ${shown.length} of ${expected} figures`,
        );
        assert.ok(shown.every((src) => src.length > 1000), `${name}: empty`);
      }
    } finally {
      await server?.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
