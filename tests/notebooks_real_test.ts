/**
 * Executes the project's five notebooks at smoke scale with the real Deno
 * kernel, checks what each shows (figures, a results table beside the
 * published figures, substitutes labelled), then opens two of them in the
 * classic Jupyter Notebook server through headless Chromium and checks that
 * their figures render. Needs the dataset mirror (`CNN_DATA_MIRROR`); the
 * browser part needs Debian's `jupyter-notebook` and `chromium`.
 */

import assert from "node:assert/strict";
import { defaultNotebooks, runNotebooks } from "../scripts/notebooks.ts";
import { type Notebook, readNotebook } from "../scripts/jupyter/mod.ts";
import { runConfigFromEnv } from "../lib/config.ts";
import { mirrorHas } from "./data_fixtures.ts";
import {
  chromium,
  exists,
  hasNotebookServer,
  outputPngs,
  startNotebookServer,
} from "./notebooks_browser_fixtures.ts";

const mirror = runConfigFromEnv().data.mirror;
// Every folder the five notebooks read from.
const hasMirror = ["mnist", "fashion-mnist", "kannada-mnist", "cifar10-subset"]
  .every(mirrorHas);

/** Every output's text and SVG/HTML, joined, per code cell. */
function cellTexts(notebook: Notebook): string[] {
  return notebook.cells.filter((c) => c.cell_type === "code").map((cell) =>
    (cell.outputs ?? []).map((output) => JSON.stringify(output)).join("\n")
  );
}

Deno.test({
  name:
    "the five notebooks run at smoke scale, show figures and results, and render in Jupyter Notebook",
  ignore: !hasMirror,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "nb-real-" });
    try {
      const paths = await defaultNotebooks();
      assert.equal(paths.length, 5, `expected five notebooks, got ${paths}`);
      const data = `${dir}/jupyter-data`;
      const served = `${dir}/served`;
      const result = await runNotebooks(paths, {
        scale: "smoke",
        outDir: served,
        dataDir: data,
        progress: false,
      });
      const failures = result.runs.filter((r) => r.failure).map((r) =>
        r.failure
      );
      assert.equal(result.ok, true, failures.join("\n"));

      for (const path of paths) {
        const name = path.split("/").pop()!;
        const executed = await readNotebook(`${served}/${name}`);
        const texts = cellTexts(executed);
        const all = texts.join("\n");
        assert.match(all, /smoke/, `${name} does not say its scale`);
        assert.ok(
          all.includes("image/png"),
          `${name} shows no figure`,
        );
        const last = texts.filter((t) => t.length > 0).at(-1) ?? "";
        assert.match(
          last,
          /published/i,
          `${name}: the last output is not a results table beside the published figures`,
        );
      }
      const kannada = cellTexts(
        await readNotebook(`${served}/000_kannada_mnist.ipynb`),
      ).join("\n");
      if (
        !exists(`${mirror}/kannada-mnist/X_kannada_MNIST_train.npz`)
      ) {
        assert.match(
          kannada,
          /SUBSTITUTE/,
          "000 trains on a substitute without saying so",
        );
      }

      if (hasNotebookServer()) {
        const server = await startNotebookServer(served, data, dir);
        try {
          for (const name of ["000_kannada_mnist", "004_cifar10_cnn"]) {
            const dom = await chromium(dir, [
              "--dump-dom",
              `${server.base}/notebooks/${name}.ipynb`,
            ]);
            // Figures display as PNG (SVG only on request), so they show
            // whether or not the notebook is trusted.
            const pngs = outputPngs(dom);
            assert.ok(
              pngs.length >= 3,
              `${name}: ${pngs.length} PNG figures rendered in the page`,
            );
          }
        } finally {
          await server.close();
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
