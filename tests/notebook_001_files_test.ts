/**
 * Notebook 001 leaves no temporary folder behind (issue 18, item 13): its
 * TensorBoard logs go to the run's files folder (`<report>/files/<id>/
 * tensorboard` beside the results), which the next run empties and reuses;
 * they hold the scalars, a histogram of every weight and the layer graph.
 * Runs the notebook once at smoke scale with the real kernel (about a
 * minute); needs the MNIST mirror.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runNotebooks } from "../scripts/notebooks.ts";
import { mirrorHas } from "./data_fixtures.ts";

async function list(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test({
  name:
    "notebook 001 writes its TensorBoard logs to the report's files folder and leaves no temp folder",
  ignore: !mirrorHas("mnist"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "nb001-files-" });
    try {
      // The kernel's temp folder: whatever it creates there stays visible.
      const kernelTmp = join(dir, "tmp");
      await Deno.mkdir(kernelTmp);
      const report = join(dir, "report");
      const logs = join(report, "files", "001-mnist-lenet5", "tensorboard");
      // A file of an earlier run in the reused folder must be gone afterwards.
      await Deno.mkdir(logs, { recursive: true });
      await Deno.writeTextFile(join(logs, "stale"), "an earlier run");
      const result = await runNotebooks(["notebooks/001_mnist_lenet5.ipynb"], {
        scale: "smoke",
        outDir: join(report, "notebooks"),
        dataDir: join(dir, "jupyter-data"),
        env: {
          TMPDIR: kernelTmp,
          CNN_RESULTS_DIR: join(report, "results"),
        },
        progress: false,
      });
      assert.equal(
        result.ok,
        true,
        result.runs.map((r) => r.failure).join("\n"),
      );
      assert.deepEqual(await list(kernelTmp), [], "the kernel left temp files");
      assert.deepEqual(await list(logs), ["train", "validation"]);
      const [events] = await list(join(logs, "train"));
      assert.match(events, /^events\.out\.tfevents\./);
      const bytes = await Deno.readFile(join(logs, "train", events));
      const text = new TextDecoder("latin1").decode(bytes);
      for (
        const tag of [
          "epoch_loss",
          "conv1/kernel_0",
          "dense3/bias_0",
          "graph_keras_model",
        ]
      ) {
        assert.ok(text.includes(tag), `no ${tag} in the train event file`);
      }
      const executed = await Deno.readTextFile(
        join(report, "notebooks", "001_mnist_lenet5.ipynb"),
      );
      assert.ok(executed.includes(logs), "the notebook does not print where");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
