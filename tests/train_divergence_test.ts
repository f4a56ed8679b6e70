/**
 * A diverged run stops at once, on every backend and with every trainer,
 * with one message naming the epoch and batch and suggesting a lower
 * learning rate. On wasm, tfjs's ClipByValue maps NaN to its lower bound, so
 * the cross-entropy of NaN predictions stays finite (16.1181): the check
 * must look at the weights too.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  fitModel,
  stopOnNaN,
  trainDataParallel,
  TrainingDivergedError,
  trainLoop,
} from "../lib/train/mod.ts";
import { disposeData, tinyData, tinyModel } from "./train_fixtures.ts";

const TRAINERS = ["fitModel", "trainLoop", "trainDataParallel"] as const;

for (const backend of ["wasm", "cpu"] as const) {
  for (const trainer of TRAINERS) {
    Deno.test(`divergence (${backend}, ${trainer}): lr 1e30 stops with one clear error naming epoch and batch`, async () => {
      await initBackend({ backend, verbose: false });
      const data = tinyData(64);
      const optimizer = tf.train.sgd(1e30);
      const model = tinyModel(trainer === "fitModel" ? optimizer : undefined);
      const before = tf.memory().numTensors;
      let epochsEnded = 0;
      let trainEnded = 0;
      const options = {
        epochs: 3,
        batchSize: 16,
        seed: 1,
        progress: "none" as const,
        callbacks: [{
          onEpochEnd: () => void epochsEnded++,
          onTrainEnd: () => void trainEnded++,
        }],
      };
      const run = trainer === "fitModel"
        ? fitModel(model, data, options)
        : trainer === "trainLoop"
        ? trainLoop(model, data, { ...options, optimizer })
        : trainDataParallel(model, data, { ...options, optimizer, workers: 0 });
      const error = await run.then(
        () => assert.fail("training went on although the weights diverged"),
        (e) => e,
      );
      assert.ok(error instanceof TrainingDivergedError, String(error));
      assert.match(
        error.message,
        /^training diverged in epoch 1\/3, batch \d\/4: .*weights are NaN or infinite/,
      );
      assert.match(error.message, /Lower the learning rate \(it is 1e\+30/);
      assert.equal(error.info.epoch, 1);
      assert.ok(error.info.batch <= 2, `caught late: ${error.message}`);
      assert.equal(epochsEnded, 0, "the partial epoch is not recorded");
      assert.equal(trainEnded, 1, "callbacks are ended (files closed)");
      // Nothing leaked on the way out (the optimizer's slots aside).
      optimizer.dispose();
      assert.ok(tf.memory().numTensors <= before, "tensors leaked");
      model.dispose();
      disposeData(data);
    });
  }
}

Deno.test("divergence: NaN inputs give the same error (the loss is NaN), the stopOnNaN stop only with checkFinite: false", async () => {
  await initBackend({ backend: "cpu", verbose: false });
  const clean = tinyData(64);
  const xs = tf.tidy(() =>
    tf.concat([tf.slice(clean.xs, [0, 0], [20, 4]), tf.fill([44, 4], NaN)])
  );
  const data = { xs, ys: clean.ys };
  const model = tinyModel();
  const options = {
    epochs: 2,
    batchSize: 16,
    shuffle: false,
    progress: "none" as const,
  };
  await assert.rejects(
    trainLoop(model, data, { ...options, optimizer: tf.train.sgd(0.1) }),
    /training diverged in epoch 1\/2, batch 2\/4: the loss is NaN/,
  );
  const result = await trainLoop(tinyModel(), data, {
    ...options,
    optimizer: tf.train.sgd(0.1),
    checkFinite: false,
    callbacks: [stopOnNaN()],
  });
  assert.match(result.stopReason ?? "", /loss is NaN at batch 2 of epoch 1/);
  model.dispose();
  xs.dispose();
  disposeData(clean);
});

const adapter = await (navigator as { gpu?: GPU }).gpu?.requestAdapter()
  .catch(() => null);

Deno.test({
  name:
    "divergence (webgpu, fitModel and trainLoop): the same error, read asynchronously" +
    (adapter ? "" : " (SKIP: no WebGPU adapter)"),
  ignore: !adapter,
  async fn() {
    // Its own process: the backend of this one stays as the others need it.
    const lib = new URL("../lib/", import.meta.url).href;
    const script = `
      import * as tf from "${lib}tf.ts";
      import { initBackend } from "${lib}backend/mod.ts";
      import { fitModel, trainLoop } from "${lib}train/mod.ts";
      await initBackend({ backend: "webgpu", verbose: false });
      const model = () => tf.sequential({ layers: [
        tf.layers.dense({ units: 8, inputShape: [4], activation: "relu" }),
        tf.layers.dense({ units: 3, activation: "softmax" }),
      ] });
      const xs = tf.randomNormal([64, 4], 0, 1, "float32", 7);
      const ys = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 3), "int32");
      const options = { epochs: 3, batchSize: 16, seed: 1, progress: "none" };
      for (const trainer of ["fitModel", "trainLoop"]) {
        const m = model();
        const optimizer = tf.train.sgd(1e30);
        if (trainer === "fitModel") m.compile({ optimizer, loss: "sparseCategoricalCrossentropy" });
        try {
          if (trainer === "fitModel") await fitModel(m, { xs, ys }, options);
          else await trainLoop(m, { xs, ys }, { ...options, optimizer });
          console.log(trainer, "FINISHED");
        } catch (e) {
          console.log(trainer, e.name, e.message.split(":")[0]);
        }
      }
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      cwd: new URL("..", import.meta.url),
      env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const error = new TextDecoder().decode(out.stderr);
    for (const trainer of ["fitModel", "trainLoop"]) {
      assert.match(
        text,
        new RegExp(
          `${trainer} TrainingDivergedError training diverged in epoch 1/3, batch \\d/4`,
        ),
        text + error,
      );
    }
  },
});
