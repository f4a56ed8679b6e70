/**
 * The experiments layer: scales, per-model settings, input plans, tensors,
 * result tables, a training + evaluation run on generated data (no mirror
 * needed), and the labelled Kannada substitute on the real mirror when
 * present.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import type { ImageSplit } from "../lib/data/mod.ts";
import {
  dataLimits,
  evaluateOnSplits,
  type ExperimentData,
  EXPERIMENTS,
  findExperiment,
  loadExperimentData,
  MODEL_RECIPES,
  parseModelName,
  parseScale,
  planModelInput,
  PUBLISHED,
  publishedFor,
  RESULT_COLUMNS,
  type ResultRow,
  resultRows,
  resultsCsv,
  resultsMarkdown,
  resultsTable,
  toModelTensors,
  trainModel,
  trainSettingsFor,
} from "../lib/experiments/mod.ts";
import { buildModelFor, MODEL_NAMES } from "../lib/models/mod.ts";
import { fitModel, globalSeed, setGlobalSeed } from "../lib/train/mod.ts";
import { mirrorHas } from "./data_fixtures.ts";
import { runConfigFromEnv } from "../lib/config.ts";

const HAS_MIRROR = mirrorHas("mnist");

/**
 * A learnable 10-class image set: class k is a bright 6x6 square at one of
 * ten positions, plus seeded noise.
 */
function squares(
  count: number,
  seed: number,
  size = 28,
  channels = 1,
): ImageSplit {
  let state = seed >>> 0;
  const random = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const images = new Uint8Array(count * size * size * channels);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 10;
    labels[i] = label;
    const top = 2 + 12 * Math.floor(label / 5);
    const left = 2 + 5 * (label % 5);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const on = y >= top && y < top + 6 && x >= left && x < left + 4;
        for (let c = 0; c < channels; c++) {
          images[((i * size + y) * size + x) * channels + c] = on
            ? 200 + Math.floor(55 * random())
            : Math.floor(40 * random());
        }
      }
    }
  }
  return {
    dataset: "mnist",
    split: "generated",
    images,
    labels,
    count,
    height: size,
    width: size,
    channels,
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    sources: [],
  };
}

Deno.test("parseScale: names a scale or says which ones exist", () => {
  assert.equal(parseScale("full"), "full");
  assert.throws(() => parseScale("big", "--scale"), /--scale must be one of/);
});

Deno.test("trainSettingsFor: each tutorial's recipe at full scale, one epoch at smoke", () => {
  const cifar = trainSettingsFor("cifar-cnn", "full");
  assert.equal(cifar.optimizer, "adamax");
  assert.equal(cifar.learningRate, 5e-3);
  assert.equal(cifar.lrDecay, 0.9);
  assert.equal(cifar.batchSize, 32);
  assert.equal(cifar.normalize, "centered");
  assert.equal(cifar.oneHot, true);
  const lenet5 = trainSettingsFor("lenet5", "full");
  assert.deepEqual(
    [
      lenet5.optimizer,
      lenet5.learningRate,
      lenet5.epochs,
      lenet5.earlyStoppingPatience,
    ],
    ["sgd", 0.01, 80, 5],
  );
  assert.equal(lenet5.validateOnTest, true);
  const torch = trainSettingsFor("lenet5-32", "full");
  assert.deepEqual(torch.normalize, { mean: 0.1307, std: 0.3081 });
  assert.equal(torch.output, "log-probabilities");
  assert.equal(torch.batchSize, 64);
  assert.equal(trainSettingsFor("fashion-lenet-small", "full").loop, "loop");
  assert.equal(trainSettingsFor("lenet", "full").validationFraction, 0.1);
  assert.equal(trainSettingsFor("mobilenet", "full").batchSize, 8);
  assert.equal(trainSettingsFor("lenet5", "full").trainLimit, null);
  for (const name of MODEL_NAMES) {
    const smoke = trainSettingsFor(name, "smoke");
    assert.equal(smoke.epochs, 1, name);
    assert.ok(smoke.trainLimit !== null && smoke.trainLimit <= 4000, name);
    assert.equal(smoke.optimizer, MODEL_RECIPES[name].full.optimizer, name);
  }
  assert.equal(
    trainSettingsFor("lenet5", "smoke", { overrides: { epochs: 3 } }).epochs,
    3,
  );
  assert.throws(
    () => trainSettingsFor("lenet6", "full"),
    /No training recipe.*lenet5/,
  );
  assert.throws(
    () => trainSettingsFor("lenet5", "full", { overrides: { batchSize: 0 } }),
    /batchSize must be an integer >= 1/,
  );
  assert.deepEqual(dataLimits(["lenet", "mobilenet"], "smoke"), {
    trainLimit: 4000,
    testLimit: 1000,
  });
  assert.deepEqual(dataLimits(["lenet"], "full"), {
    trainLimit: null,
    testLimit: null,
  });
});

Deno.test("quick scale: all the training data, a few epochs, the tutorial's optimizer", () => {
  for (const name of MODEL_NAMES) {
    const quick = trainSettingsFor(name, "quick");
    const full = trainSettingsFor(name, "full");
    const smoke = trainSettingsFor(name, "smoke");
    assert.equal(quick.optimizer, full.optimizer, name);
    assert.equal(quick.learningRate, full.learningRate, name);
    assert.ok(quick.epochs >= 1 && quick.epochs <= 10, name);
    // More training than smoke: all the data, or more epochs.
    assert.ok(
      quick.trainLimit === null || quick.epochs * quick.trainLimit >
          smoke.epochs * (smoke.trainLimit ?? Infinity),
      name,
    );
  }
  // Every model but MobileNet (a CPU trains ~20 images/s of it) sees all the
  // training data at quick scale.
  assert.deepEqual(
    MODEL_NAMES.filter((n) => trainSettingsFor(n, "quick").trainLimit !== null),
    ["mobilenet"],
  );
  assert.equal(parseModelName("lenet5"), "lenet5");
  assert.throws(() => parseModelName("vgg"), /Unknown model "vgg"/);
  assert.equal(findExperiment("003").id, "003-fashion-mnist-variants");
  // The run's seed (the option, else setGlobalSeed's, else 42) reaches
  // every model's settings; the environment is not read here.
  const seedBefore = globalSeed();
  if (seedBefore === null) {
    assert.equal(trainSettingsFor("lenet", "quick").seed, 42);
  }
  Deno.env.set("CNN_SEED", "5");
  try {
    assert.equal(trainSettingsFor("lenet", "quick", { seed: 7 }).seed, 7);
    setGlobalSeed(9);
    assert.equal(trainSettingsFor("lenet", "quick").seed, 9);
    assert.equal(
      trainSettingsFor("lenet", "quick", { seed: 7, overrides: { seed: 3 } })
        .seed,
      3,
    );
  } finally {
    Deno.env.delete("CNN_SEED");
    setGlobalSeed(seedBefore ?? 42);
  }
  assert.throws(() => findExperiment("009"), /Unknown experiment "009"/);
});

Deno.test("planModelInput: builds for the data's shape, resizes only where needed", () => {
  const mnist = { height: 28, width: 28, channels: 1 };
  const cifar = { height: 32, width: 32, channels: 3 };
  assert.deepEqual(planModelInput("lenet5", mnist), {
    shape: [28, 28, 1],
    resize: null,
    resizeMethod: "bilinear",
    channels: "keep",
    note: "",
  });
  const torch = planModelInput("lenet5-32", mnist);
  assert.deepEqual([torch.shape, torch.resize], [[32, 32, 1], 32]);
  assert.match(torch.note, /resized 28x28 -> 32x32/);
  const mobile = planModelInput("mobilenet", mnist);
  assert.deepEqual(mobile.shape, [32, 32, 1]);
  const cifarOnMnist = planModelInput("cifar-cnn", mnist);
  assert.deepEqual([cifarOnMnist.shape, cifarOnMnist.channels], [
    [28, 28, 1],
    "keep",
  ]);
  assert.match(
    cifarOnMnist.note,
    /built for 28x28x1 input \(tutorial: 32x32x3\)/,
  );
  const classicOnCifar = planModelInput("lenet5-1998", cifar);
  assert.deepEqual([classicOnCifar.shape, classicOnCifar.channels], [[
    32,
    32,
    1,
  ], "rgb-to-gray"]);
  const classicOnMnist = planModelInput("lenet5-1998", mnist);
  assert.deepEqual([classicOnMnist.resize, classicOnMnist.resizeMethod], [
    32,
    "pad",
  ]);
  assert.throws(
    () => planModelInput("resnet", mnist),
    /Unknown model "resnet".*lenet5/,
  );
});

Deno.test("toModelTensors: resize, channels, normalisation, one-hot, no leaks", async () => {
  await initBackend({ verbose: false });
  const split = squares(4, 1);
  const before = tf.memory().numTensors;
  const plan = planModelInput("cifar-cnn", {
    height: 28,
    width: 28,
    channels: 3,
  });
  const gray = toModelTensors(split, { ...plan, channels: "gray-to-rgb" }, {
    normalize: "centered",
    oneHot: true,
  });
  assert.deepEqual(gray.xs.shape, [4, 28, 28, 3]);
  assert.deepEqual(gray.ys.shape, [4, 10]);
  const values = gray.xs.dataSync();
  const [min, max] = [Math.min(...values), Math.max(...values)];
  assert.ok(min >= -0.5 && max <= 0.5 && max > 0.2, `${min}..${max}`);
  const torch = toModelTensors(split, planModelInput("lenet5-32", split));
  assert.deepEqual(torch.xs.shape, [4, 32, 32, 1]);
  assert.equal(torch.ys.dtype, "int32");
  assert.deepEqual(Array.from(torch.ys.dataSync()), [0, 1, 2, 3]);
  tf.dispose([gray.xs, gray.ys, torch.xs, torch.ys]);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("results: table, markdown, csv and published figures", () => {
  const row: ResultRow = {
    experiment: "001-mnist-lenet5",
    model: "lenet5",
    dataset: "mnist",
    split: "test",
    accuracy: 0.9876,
    test_samples: 10000,
    train_samples: 60000,
    epochs: 12,
    train_seconds: 61.25,
    backend: "wasm",
    params: 61706,
    published: "0.95% test error (99.05%)",
    published_accuracy: 0.9905,
    data_note: "a | b",
  };
  const df = resultsTable([row, {
    ...row,
    split: "dig",
    published_accuracy: null,
  }]);
  assert.deepEqual(df.columns, [...RESULT_COLUMNS]);
  assert.equal(df.height, 2);
  assert.equal(resultsTable([]).height, 0);
  const md = resultsMarkdown([row]);
  assert.match(md, /\| 98\.76% \| 0\.95% test error \(99\.05%\) \|/);
  assert.match(md, /61,706/);
  assert.match(md, /a \\\| b/);
  const csv = resultsCsv([row]).trim().split("\n");
  assert.equal(csv.length, 2);
  assert.equal(csv[0], RESULT_COLUMNS.join(","));
  assert.equal(publishedFor("kannada-mnist", "dig"), PUBLISHED["kannada-dig"]);
  assert.equal(publishedFor("kannada-mnist", "test")?.accuracy, 0.968);
  assert.equal(publishedFor("cifar10", "test")?.accuracy, 0.75);
  assert.deepEqual(publishedFor("fashion-mnist", "test")?.range, [
    0.876,
    0.916,
  ]);
  assert.equal(publishedFor("mnist", "dig"), undefined);
  assert.equal(EXPERIMENTS.length, 5);
});

Deno.test("a registry model trains on planned tensors; evaluateOnSplits + resultRows without leaking tensors", async () => {
  await initBackend({ verbose: false });
  const data: ExperimentData = {
    dataset: "mnist",
    train: squares(300, 1),
    tests: { test: squares(100, 2), dig: squares(50, 3) },
    description: "generated squares",
    substitute: false,
  };
  const before = tf.memory().numTensors;
  const settings = trainSettingsFor("lenet5", "smoke", {
    overrides: { testLimit: null },
  });
  const plan = planModelInput("lenet5", data.train);
  const model = buildModelFor("lenet5", {
    inputShape: plan.shape,
    numClasses: 10,
    seed: 1,
  });
  const train = toModelTensors(data.train, plan, { oneHot: true });
  const optimizer = tf.train.adam(0.01);
  model.compile({
    optimizer,
    loss: "categoricalCrossentropy",
    metrics: ["accuracy"],
  });
  const result = await fitModel(model, train, {
    epochs: 3,
    batchSize: 32,
    seed: 1,
    progress: "none",
  });
  tf.dispose([train.xs, train.ys]);
  const trained = {
    name: "lenet5",
    model,
    settings,
    plan,
    history: result.records,
    epochs: result.records.length,
    trainSeconds: 1,
    trainSamples: data.train.count,
    params: model.countParams(),
  };
  const evals = await evaluateOnSplits(trained, data);
  assert.deepEqual(evals.map((e) => [e.split, e.count]), [["test", 100], [
    "dig",
    50,
  ]]);
  assert.ok(evals[0].accuracy > 0.8, `accuracy ${evals[0].accuracy}`);
  assert.equal(evals[0].confusion.total, 100);
  const rows = resultRows("x", trained, evals, data, { backend: "test" });
  assert.equal(rows.length, 2);
  assert.equal(rows[0].published, PUBLISHED["mnist-lenet5"].text);
  assert.equal(rows[1].published, "");
  assert.equal(rows[0].backend, "test");
  assert.equal(rows[0].epochs, 3);
  assert.equal(rows[0].params, 61_706);
  assert.match(rows[0].data_note, /first 100 of 10000 images/);
  model.dispose();
  optimizer.dispose(); // its moments are not the model's
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("trainModel seeds everything itself: the same settings and data give the same history, whatever ran before", async () => {
  await initBackend({ verbose: false });
  const data: ExperimentData = {
    dataset: "mnist",
    train: squares(32, 1),
    tests: { test: squares(8, 2) },
    description: "generated squares",
    substitute: false,
  };
  const before = tf.memory().numTensors;
  const run = async (seed: number) => {
    Math.random(); // what ran before must not matter
    const trained = await trainModel("kannada-cnn", data, {
      scale: "smoke",
      overrides: { epochs: 2, batchSize: 8, seed },
    });
    trained.model.dispose();
    return trained.history.map((r) => [r.loss, r.acc, r.val_loss, r.val_acc]);
  };
  const first = await run(3);
  assert.deepEqual(await run(3), first); // dropout masks included
  assert.notDeepEqual(await run(4), first);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test({
  name:
    "Kannada without training images falls back to part of the test split, labelled",
  ignore: !HAS_MIRROR,
  async fn() {
    const data = await loadExperimentData("kannada-mnist", {
      trainLimit: 100,
      testLimit: 50,
      ...runConfigFromEnv().data,
      offline: true,
    });
    assert.equal(data.substitute, true);
    assert.match(data.description, /SUBSTITUTE: training images unavailable/);
    assert.deepEqual(Object.keys(data.tests), ["test", "dig"]);
    assert.equal(data.train.count, 100);
    assert.equal(data.tests.test.count, 50);
    assert.ok(data.train.note && data.tests.test.note);
    assert.equal(data.tests.dig.note, undefined);
  },
});
