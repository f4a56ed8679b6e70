/**
 * scripts/seeds.ts trains a notebook's recipe in TensorFlow.js and its
 * PyTorch twin (Keras' initialisation) over seeds and writes what both
 * reached; `deno task docs` turns the files into the notebooks README's
 * comparison table.
 */
import assert from "node:assert/strict";
import { type SeedsReport, TWIN_MODELS } from "../scripts/seeds.ts";
import { twinRows, twinsBlock } from "../scripts/docs.ts";
import { mirrorHas } from "./data_fixtures.ts";
import { runConfigFromEnv } from "../lib/config.ts";

const torch = (await new Deno.Command("/usr/bin/python3", {
  args: ["-c", "import torch"],
  stdout: "null",
  stderr: "null",
}).output().catch(() => ({ success: false }))).success;

/** Runs scripts/seeds.ts with `args`; its exit code and output. */
function seedsScript(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../scripts/seeds.ts", import.meta.url).pathname,
      ...args,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test({
  name:
    "seeds: both sides train the recipe for each seed and the report holds their accuracies, epochs and the commit",
  // Trains on the first images of the real Fashion-MNIST (the mirror).
  ignore: !torch || !mirrorHas("fashion-mnist"),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const out = `${dir}/seeds.json`;
      const run = await seedsScript([
        "--model",
        "fashion-lenet-small",
        "--seeds",
        "3,4",
        "--epochs",
        "1",
        "--limit",
        "300",
        "--test-limit",
        "100",
        "--out",
        out,
      ], { CNN_DATA_MIRROR: runConfigFromEnv().data.mirror ?? "" });
      const log = new TextDecoder().decode(run.stderr);
      assert.ok(run.success, log);
      const report = JSON.parse(await Deno.readTextFile(out)) as SeedsReport;
      assert.deepEqual(report.seeds, [3, 4]);
      assert.equal(report.notebook, "003");
      assert.equal(report.recipe.optimizer, "adam");
      assert.equal(report.recipe.batchSize, 100);
      assert.equal(report.recipe.trainLimit, 300);
      for (const side of [report.ours, report.pytorch]) {
        assert.equal(side.accuracy.length, 2);
        for (const a of side.accuracy) assert.ok(a >= 0 && a <= 1, `${a}`);
        assert.deepEqual(side.epochs, [1, 1]);
      }
      assert.match(String(report.commit), /^[0-9a-f]{7,}/);
      const [row] = twinRows([JSON.stringify(report)]);
      assert.match(row.recipe, /first 300 training images/);
      assert.match(twinsBlock([row]), /\| 003 \| fashion-lenet-small \|/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("seeds: a model without a twin is refused with the list of those that have one", async () => {
  const run = await seedsScript(["--model", "mobilenet"]);
  assert.equal(run.code, 2);
  assert.match(
    new TextDecoder().decode(run.stderr),
    new RegExp(`--model must be one of ${Object.keys(TWIN_MODELS).join(", ")}`),
  );
});

Deno.test("seeds: the comparison table gives means, ranges and the difference of the means", () => {
  const block = twinsBlock([{
    notebook: "001",
    model: "lenet5",
    recipe: "sgd lr 0.01",
    seeds: [1, 2],
    ours: [0.98, 0.99],
    pytorch: [0.985, 0.995],
    epochs: { ours: [20, 22], pytorch: [18, 25] },
    commit: "abc1234",
  }]);
  assert.match(
    block,
    /\| 001 \| lenet5 \| sgd lr 0\.01 \| 1, 2 \| 98\.50% \(98\.00%–99\.00%\) \| 99\.00% \(98\.50%–99\.50%\) \| -0\.50 pp \| 20, 22; 18, 25 \| abc1234 \|/,
  );
});
