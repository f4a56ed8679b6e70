import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import {
  exponentialDecay,
  fitModel,
  getLearningRate,
  getOptimizerState,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  scheduleLearningRate,
  setOptimizerState,
  trainLoop,
} from "../lib/train/mod.ts";
import {
  disposeData,
  tinyData,
  tinyModel,
  untimed,
  weightValues,
} from "./train_fixtures.ts";

type Kind = "fitModel" | "trainLoop";

async function train(
  kind: Kind,
  makeOptimizer: () => tf.Optimizer,
  epochs: number,
  dir: string,
  resume: boolean,
  initSeed: number,
) {
  const data = tinyData();
  const optimizer = makeOptimizer();
  const model = tinyModel(
    kind === "fitModel" ? optimizer : undefined,
    initSeed,
  );
  const options = {
    epochs,
    batchSize: 16,
    validationSplit: 0.25,
    seed: 5,
    progress: "none" as const,
    checkpointDir: dir,
    resume,
    logPath: `${dir}/epochs.csv`,
    callbacks: [scheduleLearningRate(exponentialDecay(0.02, 0.9))],
  };
  const result = kind === "fitModel"
    ? await fitModel(model, data, options)
    : await trainLoop(model, data, { ...options, optimizer });
  const weights = weightValues(model);
  const state = await getOptimizerState(optimizer);
  model.dispose();
  optimizer.dispose();
  disposeData(data);
  return { result, weights, state };
}

const cases: [Kind, string, () => tf.Optimizer][] = [
  ["fitModel", "adamax", () => tf.train.adamax(0.02)],
  ["trainLoop", "adam", () => tf.train.adam(0.02)],
];

for (const [kind, name, makeOptimizer] of cases) {
  Deno.test(`${kind} + ${name}: checkpoint, then resume continues at the exact epoch, same as an uninterrupted run`, async () => {
    const whole = await Deno.makeTempDir();
    const split = await Deno.makeTempDir();
    const reference = await train(kind, makeOptimizer, 4, whole, false, 42);
    const first = await train(kind, makeOptimizer, 2, split, false, 42);
    assert.equal(first.result.epochsRun, 2);
    // A freshly built model with other initial weights: all must come from the checkpoint.
    const resumed = await train(kind, makeOptimizer, 4, split, true, 99);
    assert.equal(resumed.result.initialEpoch, 2);
    assert.equal(resumed.result.epochsRun, 2);
    assert.deepEqual(resumed.result.columns.epoch, [1, 2, 3, 4]);
    assert.deepEqual(
      untimed(resumed.result.records),
      untimed(reference.result.records),
    );
    assert.equal(resumed.result.records[3].lr, 0.02 * 0.9 ** 3);
    assert.deepEqual(resumed.weights, reference.weights);
    // Accumulator names follow the (process-unique) layer names; values must match.
    const values = (s: typeof reference.state) =>
      s.map(({ name: _n, ...rest }) => rest);
    assert.deepEqual(values(resumed.state), values(reference.state));
    assert.deepEqual(
      (await listCheckpoints(split)).map((c) => c.epoch),
      [1, 2, 3, 4],
    );
    const names = [];
    for await (const e of Deno.readDir(split)) names.push(e.name);
    assert.deepEqual(
      names.filter((n) => n.startsWith(".tmp")),
      [],
      "no temporary folders left",
    );
    const csv = (await Deno.readTextFile(`${split}/epochs.csv`)).trimEnd()
      .split("\n");
    assert.equal(csv.length, 5, "the epoch log holds epochs 1-4 once each");
    // Resuming a finished run trains nothing.
    const again = await train(kind, makeOptimizer, 4, split, true, 7);
    assert.equal(again.result.epochsRun, 0);
    assert.deepEqual(again.weights, reference.weights);
    await Deno.remove(whole, { recursive: true });
    await Deno.remove(split, { recursive: true });
  });
}

Deno.test("checkpoint files: state.json contents, keep prunes, wrong architecture is a clear error", async () => {
  const dir = await Deno.makeTempDir();
  const model = tinyModel();
  const optimizer = tf.train.adamax(0.003);
  for (let epoch = 1; epoch <= 3; epoch++) {
    await saveCheckpoint(dir, model, { epoch, optimizer, keep: 2, seed: 9 });
  }
  const kept = await listCheckpoints(dir);
  assert.deepEqual(kept.map((c) => c.epoch), [2, 3]);
  assert.match(kept[1].path, /epoch-0003$/);
  const state = JSON.parse(
    await Deno.readTextFile(`${kept[1].path}/state.json`),
  );
  assert.equal(state.epoch, 3);
  assert.equal(state.learningRate, 0.003);
  assert.equal(state.optimizer, "Adamax");
  assert.equal(state.seed, 9);
  // Saving the same epoch again replaces the folder.
  await saveCheckpoint(dir, model, { epoch: 3, optimizer });
  assert.equal((await listCheckpoints(dir)).length, 2);
  const other = tf.sequential({
    layers: [tf.layers.dense({ units: 2, inputShape: [4] })],
  });
  await assert.rejects(
    () => loadCheckpoint(kept[1].path, other),
    /holds 4 weights but the model has 2/,
  );
  await assert.rejects(
    () => loadCheckpoint(dir, model),
    /not a checkpoint folder/,
  );
  await assert.rejects(
    () =>
      loadCheckpoint(kept[1].path, model, { optimizer: tf.train.adam(0.1) }),
    /holds Adamax state but the optimizer is Adam/,
  );
  const fresh = tf.train.adamax(0.1);
  await loadCheckpoint(kept[1].path, model, { optimizer: fresh });
  assert.equal(getLearningRate(fresh), 0.003);
  model.dispose();
  other.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("optimizer state round trip (Adam, Adamax, SGD) without leaking tensors", async () => {
  for (
    const make of [
      () => tf.train.adam(0.1),
      () => tf.train.adamax(0.1),
      () => tf.train.sgd(0.1),
    ]
  ) {
    const a = make();
    const v = tf.variable(tf.tensor1d([1, 2]));
    for (let i = 0; i < 3; i++) {
      a.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, false, [v]);
    }
    const state = await getOptimizerState(a);
    const b = make();
    b.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, false, [v]); // has old accumulators
    const before = tf.memory().numTensors;
    await setOptimizerState(b, state);
    assert.equal(
      tf.memory().numTensors,
      before,
      `${a.getClassName()}: old accumulators released`,
    );
    assert.deepEqual(await getOptimizerState(b), state);
    a.dispose();
    b.dispose();
    v.dispose();
  }
});
