// notebookFilesDir / freshDir: the fixed, reused folder of a notebook's
// files (TensorBoard logs, checkpoints) instead of a temp folder per run.
import assert from "node:assert/strict";
import { join } from "node:path";
import { freshDir, notebookFilesDir } from "../lib/experiments/mod.ts";

Deno.test("notebookFilesDir: beside the report's results, else under the given root; reused, never emptied", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "nb-files-" });
  try {
    const results = join(tmp, "report", "results");
    const a = await notebookFilesDir("001-mnist-lenet5", {
      resultsDir: results,
    });
    assert.equal(a, join(tmp, "report", "files", "001-mnist-lenet5"));
    await Deno.writeTextFile(join(a, "kept"), "x");
    assert.equal(
      await notebookFilesDir("001-mnist-lenet5", { resultsDir: results }),
      a,
    );
    assert.equal(await Deno.readTextFile(join(a, "kept")), "x");
    const b = await notebookFilesDir("004-cifar10-cnn", {
      resultsDir: null,
      root: join(tmp, "root"),
    });
    assert.equal(b, join(tmp, "root", "004-cifar10-cnn"));
    assert.ok((await Deno.stat(b)).isDirectory);
    await assert.rejects(
      () => notebookFilesDir("../escape", { resultsDir: null, root: tmp }),
      /plain folder name/,
    );
    // The default root is the project's git-ignored reports/files.
    const fallback = await notebookFilesDir("nb-files-test", {
      resultsDir: null,
    });
    assert.match(fallback, /\/reports\/files\/nb-files-test$/);
    await Deno.remove(fallback);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("freshDir: empties the folder (or creates it), so a cell can run again", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "nb-fresh-" });
  try {
    const dir = join(tmp, "logs", "train");
    assert.equal(await freshDir(dir), dir);
    await Deno.writeTextFile(join(dir, "old"), "x");
    await freshDir(dir);
    const left: string[] = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assert.deepEqual(left, []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
