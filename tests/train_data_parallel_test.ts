// trainDataParallel: replicas in Web Workers must train exactly what the
// single-replica loop trains (up to float rounding), stay in sync, not leak,
// and always stop their workers.
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import {
  exponentialDecay,
  scheduleLearningRate,
  setGlobalSeed,
  trainDataParallel,
  trainLoop,
} from "../lib/train/mod.ts";
import { tinyData, tinyModel, weightValues } from "./train_fixtures.ts";

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  assert.equal(a.length, b.length);
  let max = 0;
  a.forEach((values, i) => {
    assert.equal(values.length, b[i].length);
    for (let k = 0; k < values.length; k++) {
      max = Math.max(max, Math.abs(values[k] - b[i][k]));
    }
  });
  return max;
}

Deno.test("trainDataParallel: 2 and 3 replicas match trainLoop (SGD + lr schedule, Adam), in sync, no leaks", async () => {
  const data = tinyData(100, 3);
  const validationData = tinyData(40, 11);
  const base = {
    epochs: 3,
    batchSize: 16, // 100 samples: the last batch (4) is split unevenly
    seed: 5,
    validationData,
    progress: "none" as const,
  };
  const cases = [
    { name: "sgd", lr: 0.3, make: tf.train.sgd, workers: 1 },
    { name: "adam", lr: 0.02, make: tf.train.adam, workers: 2 },
  ];
  for (const c of cases) {
    const reference = tinyModel();
    const single = await trainLoop(reference, data, {
      ...base,
      optimizer: c.make(c.lr),
      callbacks: [scheduleLearningRate(exponentialDecay(c.lr, 0.5))],
    });
    const model = tinyModel();
    const counts: number[] = [];
    const parallel = await trainDataParallel(model, data, {
      ...base,
      optimizer: c.make(c.lr),
      workers: c.workers,
      verifySync: true,
      callbacks: [
        scheduleLearningRate(exponentialDecay(c.lr, 0.5)),
        { onEpochEnd: () => void counts.push(tf.memory().numTensors) },
      ],
    });
    const before = weightValues(tinyModel());
    const diff = maxAbsDiff(weightValues(model), weightValues(reference));
    assert.ok(diff < 1e-5, `${c.name}: weights differ by ${diff}`);
    // The runs really trained: the weights moved far more than the tolerance.
    assert.ok(maxAbsDiff(weightValues(model), before) > 1e-2, c.name);
    assert.equal(parallel.records.length, 3);
    parallel.records.forEach((r, i) => {
      const s = single.records[i];
      assert.ok(Math.abs(r.loss - s.loss) < 1e-5, `${c.name} loss ${i}`);
      assert.ok(Math.abs(r.acc! - s.acc!) < 1e-6, `${c.name} acc ${i}`);
      assert.ok(Math.abs(r.val_loss! - s.val_loss!) < 1e-5, c.name);
      assert.equal(r.lr, s.lr);
    });
    assert.deepEqual(parallel.history.columns, single.history.columns);
    assert.equal(new Set(counts).size, 1, `tensor counts ${counts}`);
  }
});

Deno.test("trainDataParallel: seeded runs repeat exactly", async () => {
  const data = tinyData(48, 2);
  const run = async () => {
    const model = tinyModel();
    await trainDataParallel(model, data, {
      optimizer: tf.train.adam(0.05),
      epochs: 2,
      batchSize: 10,
      seed: 9,
      progress: "none",
    });
    return weightValues(model);
  };
  assert.deepEqual(await run(), await run());
});

Deno.test("trainDataParallel: with dropout, seeded runs repeat exactly (the workers' masks are seeded too)", async () => {
  const data = tinyData(48, 2);
  const run = async () => {
    setGlobalSeed(9);
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          units: 16,
          inputShape: [4],
          activation: "relu",
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({
          units: 3,
          activation: "softmax",
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        }),
      ],
    });
    await trainDataParallel(model, data, {
      optimizer: tf.train.adam(0.05),
      epochs: 2,
      batchSize: 12,
      seed: 9,
      workers: 1,
      progress: "none",
    });
    const weights = weightValues(model);
    model.dispose();
    return weights;
  };
  assert.deepEqual(await run(), await run());
});

Deno.test("trainDataParallel: a failing worker rejects the call and is stopped", async () => {
  // A layer class registered only on the main thread: the worker cannot
  // rebuild the model and must report why.
  class OnlyHere extends tf.layers.Layer {
    static className = "DataParallelTestOnlyHere";
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return Array.isArray(inputs) ? inputs[0] : inputs;
    }
  }
  tf.serialization.registerClass(OnlyHere);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 3, inputShape: [4], activation: "softmax" }),
      new OnlyHere({}),
    ],
  });
  const data = tinyData(32, 1);
  const optimizer = tf.train.sgd(0.1);
  const before = tf.memory().numTensors;
  await assert.rejects(
    trainDataParallel(model, data, {
      optimizer,
      progress: "none",
    }),
    /worker failed.*DataParallelTestOnlyHere/s,
  );
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("trainDataParallel: clear errors for bad options", async () => {
  const data = tinyData(16, 1);
  await assert.rejects(
    trainDataParallel(tinyModel(), data, { progress: "none" }),
    /no optimizer/,
  );
  await assert.rejects(
    trainDataParallel(tinyModel(), data, {
      optimizer: tf.train.sgd(0.1),
      workers: -1,
    }),
    /workers must be an integer >= 0/,
  );
  await assert.rejects(
    trainDataParallel(tinyModel(), data, {
      optimizer: tf.train.sgd(0.1),
      // deno-lint-ignore no-explicit-any
      loss: ((a: tf.Tensor) => a) as any,
    }),
    /functions cannot be sent to workers/,
  );
});
