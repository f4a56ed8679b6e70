import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import {
  earlyStopping,
  epochLog,
  type EpochRecord,
  exponentialDecay,
  fitModel,
  getLearningRate,
  HISTORY_COLUMNS,
  scheduleLearningRate,
  setLearningRate,
  stopOnNaN,
  trainLoop,
  type TrainState,
} from "../lib/train/mod.ts";
import {
  disposeData,
  tinyData,
  tinyModel,
  weightValues,
} from "./train_fixtures.ts";

function record(epoch: number, val_loss: number): EpochRecord {
  return {
    epoch,
    loss: 1,
    acc: 0.5,
    val_loss,
    val_acc: 0.5,
    lr: 0.1,
    seconds: 1,
    samples_per_s: 1,
  };
}

Deno.test("earlyStopping: stops after `patience` epochs without improvement and restores the best weights", () => {
  const model = tinyModel();
  const state: TrainState = {
    model,
    optimizer: tf.train.sgd(0.1),
    epochs: 10,
    initialEpoch: 0,
    batchSize: 1,
    samples: 1,
    history: [],
    stopTraining: false,
  };
  const stop = earlyStopping({
    monitor: "val_loss",
    patience: 2,
    minDelta: 0.01,
    restoreBestWeights: true,
  });
  stop.onTrainBegin(state);
  // 0.795 improves on 0.8 by less than minDelta: not an improvement.
  const losses = [1.0, 0.8, 0.795, 0.85, 0.7];
  let bestWeights: Float32Array[] = [];
  for (let e = 0; e < losses.length && !state.stopTraining; e++) {
    // A distinct set of weights per epoch.
    const fill = model.weights.map((w) => tf.fill(w.shape as number[], e + 1));
    model.setWeights(fill);
    tf.dispose(fill);
    if (e === 1) bestWeights = weightValues(model);
    const r = record(e + 1, losses[e]);
    state.history.push(r);
    stop.onEpochEnd(e, r, state);
  }
  assert.equal(state.stopTraining, true);
  assert.equal(
    stop.stoppedEpoch,
    4,
    "epochs 3 and 4 did not improve: stop after 4",
  );
  assert.equal(stop.bestEpoch, 2);
  assert.equal(stop.best, 0.8);
  assert.match(state.stopReason ?? "", /early stopping: val_loss/);
  const before = tf.memory().numTensors;
  stop.onTrainEnd(state);
  assert.deepEqual(weightValues(model), bestWeights);
  assert.ok(tf.memory().numTensors < before, "the saved copies are released");
  model.dispose();
});

Deno.test("earlyStopping: in fitModel stops at the right epoch and restores best weights; accuracy monitors maximise", async () => {
  const data = tinyData();
  const model = tinyModel(tf.train.adam(0.05));
  const snapshots: Float32Array[][] = [];
  // Training loss keeps falling, so in "max" mode epoch 1 stays best.
  const stop = earlyStopping({
    monitor: "loss",
    mode: "max",
    patience: 2,
    restoreBestWeights: true,
  });
  const result = await fitModel(model, data, {
    epochs: 10,
    batchSize: 16,
    seed: 1,
    progress: "none",
    callbacks: [
      { onEpochEnd: () => void snapshots.push(weightValues(model)) },
      stop,
    ],
  });
  assert.equal(result.epochsRun, 3);
  assert.equal(stop.stoppedEpoch, 3);
  assert.equal(stop.bestEpoch, 1);
  assert.match(result.stopReason ?? "", /early stopping/);
  assert.deepEqual(weightValues(model), snapshots[0]);
  assert.notDeepEqual(snapshots[2], snapshots[0]);
  assert.equal(earlyStopping({ monitor: "val_acc" }).mode, "max");
  assert.equal(earlyStopping({ monitor: "val_loss" }).mode, "min");
  await assert.rejects(
    () =>
      fitModel(model, data, {
        epochs: 2,
        progress: "none",
        callbacks: [earlyStopping()],
      }),
    /monitor 'val_loss' has no value/,
  );
  model.dispose();
  disposeData(data);
});

Deno.test("exponentialDecay: seed 004's lr0 * 0.9^epoch", () => {
  const schedule = exponentialDecay(5e-3, 0.9);
  assert.equal(schedule(0, 0), 5e-3);
  assert.ok(Math.abs(schedule(3, 0) - 5e-3 * 0.729) < 1e-15);
  assert.throws(() => exponentialDecay(0, 0.9), /must be finite numbers > 0/);
});

for (const kind of ["fitModel", "trainLoop"] as const) {
  Deno.test(`scheduleLearningRate (${kind}): the optimizer's rate during every batch is lr0 * 0.9^epoch`, async () => {
    const data = tinyData(48);
    const optimizer = tf.train.adamax(0.01);
    const model = tinyModel(kind === "fitModel" ? optimizer : undefined);
    const seen = new Map<number, Set<number>>();
    let epochNow = -1;
    const probe = {
      onEpochBegin: (e: number) => void (epochNow = e),
      onBatchEnd: () => {
        if (!seen.has(epochNow)) seen.set(epochNow, new Set());
        seen.get(epochNow)!.add(getLearningRate(optimizer)!);
      },
    };
    const options = {
      epochs: 4,
      batchSize: 16,
      progress: "none" as const,
      callbacks: [scheduleLearningRate(exponentialDecay(0.01, 0.9)), probe],
    };
    const result = kind === "fitModel"
      ? await fitModel(model, data, options)
      : await trainLoop(model, data, { ...options, optimizer });
    for (let e = 0; e < 4; e++) {
      const expected = 0.01 * 0.9 ** e;
      assert.deepEqual([...seen.get(e)!], [expected], `epoch ${e + 1}`);
      assert.equal(result.records[e].lr, expected);
    }
    model.dispose();
    disposeData(data);
  });
}

Deno.test("setLearningRate: really changes the update size (SGD's cached scalar, Adamax's field)", () => {
  const step = (optimizer: tf.Optimizer, lr: number) => {
    setLearningRate(optimizer, lr);
    const v = tf.variable(tf.tensor1d([1, -2, 3]));
    const before = v.dataSync().slice();
    optimizer.minimize(
      () => tf.sum(tf.mul(v, tf.tensor1d([0.5, 1, -2]))) as tf.Scalar,
      false,
      [v],
    );
    const delta = Array.from(v.dataSync(), (x, i) => x - before[i]);
    v.dispose();
    return delta;
  };
  for (
    const make of [
      () => tf.train.sgd(1),
      () => tf.train.adamax(1),
      () => tf.train.momentum(1, 0.9),
    ]
  ) {
    const big = step(make(), 0.1);
    const small = step(make(), 0.01);
    big.forEach((d, i) =>
      assert.ok(Math.abs(d / small[i] - 10) < 1e-3, `ratio ${d / small[i]}`)
    );
  }
  // Adamax's first step moves each weight by exactly lr against the gradient's sign.
  const adamax = step(tf.train.adamax(1), 0.01);
  adamax.forEach((d, i) =>
    assert.ok(Math.abs(Math.abs(d) - 0.01) < 1e-6, `delta ${i}: ${d}`)
  );
  assert.throws(() => setLearningRate(tf.train.sgd(1), NaN), /finite number/);
});

Deno.test("scheduleLearningRate: a zero rate freezes the weights for that epoch (SGD)", async () => {
  const data = tinyData(32);
  const model = tinyModel(tf.train.sgd(0.5));
  const after: Float32Array[][] = [];
  await fitModel(model, data, {
    epochs: 3,
    batchSize: 8,
    progress: "none",
    callbacks: [
      scheduleLearningRate((epoch) => (epoch === 1 ? 0 : 0.5)),
      { onEpochEnd: () => void after.push(weightValues(model)) },
    ],
  });
  assert.deepEqual(after[1], after[0], "epoch 2 (lr 0) changed nothing");
  assert.notDeepEqual(after[2], after[1], "epoch 3 (lr 0.5) did");
  model.dispose();
  disposeData(data);
});

for (const kind of ["fitModel", "trainLoop"] as const) {
  Deno.test(`stopOnNaN (${kind}): stops at the first NaN batch loss`, async () => {
    const clean = tinyData(64);
    // Sample 0 holds a NaN feature: the first (unshuffled) batch's loss is NaN.
    const xs = tf.tidy(() =>
      tf.concat([tf.fill([1, 4], NaN), tf.slice(clean.xs, [1, 0], [63, 4])])
    );
    const data = { xs, ys: clean.ys };
    const optimizer = tf.train.sgd(0.1);
    const model = tinyModel(kind === "fitModel" ? optimizer : undefined);
    let batches = 0;
    const options = {
      epochs: 5,
      batchSize: 16,
      shuffle: false,
      progress: "none" as const,
      callbacks: [stopOnNaN(), { onBatchEnd: () => void batches++ }],
      // The trainers' own check would throw first; this test is stopOnNaN's.
      checkFinite: false,
    };
    const result = kind === "fitModel"
      ? await fitModel(model, data, options)
      : await trainLoop(model, data, { ...options, optimizer });
    assert.equal(result.epochsRun, 1);
    assert.equal(batches, 1, "stopped right after the first batch");
    assert.ok(Number.isNaN(result.records[0].loss));
    assert.match(result.stopReason ?? "", /loss is NaN at batch 1/);
    model.dispose();
    xs.dispose();
    disposeData(clean);
  });
}

Deno.test("epochLog: CSV and JSON-lines files hold every epoch's record", async () => {
  const dir = await Deno.makeTempDir();
  const data = tinyData(48);
  const model = tinyModel();
  const result = await trainLoop(model, data, {
    optimizer: tf.train.adam(0.05),
    epochs: 3,
    batchSize: 16,
    validationSplit: 0.25,
    progress: "none",
    logPath: `${dir}/sub/epochs.csv`,
    callbacks: [epochLog(`${dir}/epochs.jsonl`)],
  });
  const csv = (await Deno.readTextFile(`${dir}/sub/epochs.csv`)).trimEnd()
    .split("\n");
  assert.equal(csv[0], HISTORY_COLUMNS.join(","));
  assert.equal(csv.length, 4);
  csv.slice(1).forEach((line, i) => {
    const cells = line.split(",").map(Number);
    HISTORY_COLUMNS.forEach((c, k) =>
      assert.equal(cells[k], result.records[i][c])
    );
  });
  const jsonl = (await Deno.readTextFile(`${dir}/epochs.jsonl`)).trimEnd()
    .split("\n");
  assert.deepEqual(jsonl.map((l) => JSON.parse(l)), result.records);
  model.dispose();
  disposeData(data);
  await Deno.remove(dir, { recursive: true });
});
