/**
 * Notebook 003 and the library cannot drift apart: the notebook's two LeNet
 * variants have the layer configs and parameter counts of
 * `buildFashionLenet`, and its hand-written training step and loop give the
 * same per-batch losses and running metrics as the library's `trainLoop`
 * (with the loss the experiments use) on a small fixed-seed run.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { buildFashionLenet, classificationLoss } from "../lib/models/mod.ts";
import { setGlobalSeed, trainLoop } from "../lib/train/mod.ts";
import {
  epochComparison,
  type EpochPoint,
  type Figure,
} from "../lib/plot/mod.ts";
import { layerConfigs } from "./_lesson_compare.ts";
import { importNotebookCells } from "./_notebook_module.ts";

const NOTEBOOK = new URL(
  "../notebooks/003_fashion_mnist_variants.ipynb",
  import.meta.url,
).pathname;

type Lesson = {
  compareEpochs: (
    points: readonly EpochPoint[],
    options?: { title?: string; width?: number; height?: number },
  ) => Figure;
  buildLeNet: () => tf.Sequential;
  buildSmallLeNet: () => tf.Sequential;
  trainAndTest: (
    model: tf.LayersModel,
    optimizer: tf.Optimizer,
    train: { xs: tf.Tensor; ys: tf.Tensor },
    test: { xs: tf.Tensor; ys: tf.Tensor },
    options: { epochs: number; batchSize: number; log?: (l: string) => void },
  ) => Promise<
    {
      running: { loss: number; acc: number; testLoss: number; testAcc: number };
      thisEpoch: {
        loss: number;
        acc: number;
        testLoss: number;
        testAcc: number;
      };
      batchLosses: number[];
    }[]
  >;
};

const lesson = await importNotebookCells(NOTEBOOK) as unknown as Lesson;

Deno.test("003: the notebook's LeNet variants are the library's", async () => {
  await initBackend({ backend: "cpu", verbose: false });
  const pairs = [
    [lesson.buildLeNet(), buildFashionLenet({ variant: "large" })],
    [lesson.buildSmallLeNet(), buildFashionLenet({ variant: "small" })],
  ] as const;
  for (const [mine, theirs] of pairs) {
    assert.deepEqual(layerConfigs(mine), layerConfigs(theirs));
    assert.equal(mine.countParams(), theirs.countParams());
    mine.dispose();
    theirs.dispose();
  }
});

Deno.test("003: the notebook's training step and loop match trainLoop", async () => {
  await initBackend({ backend: "cpu", verbose: false });
  setGlobalSeed(3);
  const labels = (n: number) =>
    tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7) % 10), "int32");
  const train = {
    xs: tf.randomUniform([40, 28, 28, 1], 0, 1, "float32", 1),
    ys: labels(40),
  };
  const test = {
    xs: tf.randomUniform([20, 28, 28, 1], 0, 1, "float32", 2),
    ys: labels(20),
  };
  const mine = lesson.buildSmallLeNet();
  const theirs = buildFashionLenet({ variant: "small" });
  theirs.setWeights(mine.getWeights());
  const options = { epochs: 2, batchSize: 10 };

  const logged: string[] = [];
  const notebook = await lesson.trainAndTest(
    mine,
    tf.train.adam(0.001),
    train,
    test,
    { ...options, log: (line) => void logged.push(line) },
  );
  // One line per epoch (a 40-epoch run prints 40 lines), numbers rounded.
  assert.equal(logged.length, options.epochs);
  assert.match(logged[1], /^Epoch 2\/2 /);
  assert.doesNotMatch(logged.join("\n"), /\d\.\d{5,}/, "unrounded numbers");
  const libraryLosses: number[] = [];
  const library = await trainLoop(theirs, train, {
    ...options,
    optimizer: tf.train.adam(0.001),
    loss: classificationLoss("probabilities"),
    shuffle: false,
    resetMetrics: "never",
    validationData: test,
    progress: "none",
    callbacks: [{
      onBatchEnd: (_b, logs) => void libraryLosses.push(logs.loss),
    }],
  });

  const notebookLosses = notebook.flatMap((e) => e.batchLosses);
  assert.equal(notebookLosses.length, 8);
  assert.ok(
    notebookLosses[0] !== notebookLosses.at(-1),
    "the loss never moved: the run tests nothing",
  );
  const close = (a: number, b: number, what: string) =>
    assert.ok(Math.abs(a - b) <= 1e-5, `${what}: notebook ${a}, library ${b}`);
  notebookLosses.forEach((l, i) => close(l, libraryLosses[i], `batch ${i}`));
  for (const [i, record] of library.records.entries()) {
    const e = notebook[i];
    close(e.running.loss, record.loss, `epoch ${i + 1} running loss`);
    close(e.running.acc, record.acc!, `epoch ${i + 1} running accuracy`);
    close(e.thisEpoch.testLoss, record.val_loss!, `epoch ${i + 1} test loss`);
    close(e.thisEpoch.testAcc, record.val_acc!, `epoch ${i + 1} test accuracy`);
  }
  // The tutorial's test metrics are running means too: epoch 2's printed
  // test loss is the mean over both epochs' test batches.
  close(
    notebook[1].running.testLoss,
    (library.records[0].val_loss! + library.records[1].val_loss!) / 2,
    "running test loss",
  );
  // The notebook's loop leaks nothing: a second call with the same model and
  // optimizer state adds no tensor.
  const optimizer = tf.train.adam(0.001);
  await lesson.trainAndTest(mine, optimizer, train, test, {
    epochs: 1,
    batchSize: 10,
    log: () => {},
  });
  const afterOne = tf.memory().numTensors;
  await lesson.trainAndTest(mine, optimizer, train, test, {
    epochs: 1,
    batchSize: 10,
    log: () => {},
  });
  assert.equal(tf.memory().numTensors, afterOne, "tensors leaked per epoch");
  optimizer.dispose();
  mine.dispose();
  theirs.dispose();
  tf.dispose([train.xs, train.ys, test.xs, test.ys]);
});

Deno.test("003: the notebook's epoch comparison draws the library's epochComparison", () => {
  const points = [1, 2, 3].flatMap((epoch) => [
    {
      model: "wide (32/64, 512)",
      epoch,
      accuracy: 0.7 + epoch / 50,
      seconds: 30 + epoch,
    },
    {
      model: "small (6/16, 128)",
      epoch,
      accuracy: 0.6 + epoch / 40,
      seconds: 8,
    },
  ]);
  for (
    const options of [{}, { title: "two variants", width: 300, height: 200 }]
  ) {
    const mine = lesson.compareEpochs(points, options).svg;
    assert.equal(mine, epochComparison(points, options).svg);
    assert.equal((mine.match(/<circle /g) ?? []).length, 2 * points.length);
  }
  // One epoch (a quick run): dots and labels, no error.
  const one = points.filter((p) => p.epoch === 1);
  assert.equal(lesson.compareEpochs(one).svg, epochComparison(one).svg);
});
