/**
 * The experiments layer: scales, per-model settings, input plans, tensors,
 * result tables, a training + evaluation run on generated data (no mirror
 * needed), and one experiment end to end on the real mirror when present.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import type { ImageSplit } from "../lib/data/mod.ts";
import {
  dataLimits,
  evaluateOnSplits,
  type ExperimentData,
  EXPERIMENTS,
  loadExperimentData,
  MODEL_RECIPES,
  modelNames,
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
  runMnistLeNet5,
  scaleFromEnv,
  toModelTensors,
  trainModel,
  trainSettingsFor,
} from "../lib/experiments/mod.ts";
import { mirrorHas } from "./data_fixtures.ts";

const HAS_MIRROR = mirrorHas("mnist");

async function withScaleEnv<T>(
  value: string | undefined,
  fn: () => T,
): Promise<T> {
  const old = Deno.env.get("CNN_SCALE");
  if (value === undefined) Deno.env.delete("CNN_SCALE");
  else Deno.env.set("CNN_SCALE", value);
  try {
    return await fn();
  } finally {
    if (old === undefined) Deno.env.delete("CNN_SCALE");
    else Deno.env.set("CNN_SCALE", old);
  }
}

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

Deno.test("scaleFromEnv: smoke by default, reads CNN_SCALE, rejects typos", async () => {
  await withScaleEnv(undefined, () => assert.equal(scaleFromEnv(), "smoke"));
  await withScaleEnv("", () => assert.equal(scaleFromEnv(), "smoke"));
  await withScaleEnv("full", () => assert.equal(scaleFromEnv(), "full"));
  await withScaleEnv(" smoke ", () => assert.equal(scaleFromEnv(), "smoke"));
  await withScaleEnv(
    "ful",
    () =>
      assert.throws(() => scaleFromEnv(), /CNN_SCALE.*"smoke", "full".*"ful"/),
  );
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
  for (const name of modelNames()) {
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

Deno.test("trainModel + evaluateOnSplits learn generated data without leaking tensors", async () => {
  await initBackend({ verbose: false });
  const data: ExperimentData = {
    dataset: "mnist",
    train: squares(300, 1),
    tests: { test: squares(100, 2), dig: squares(50, 3) },
    description: "generated squares",
    substitute: false,
  };
  const before = tf.memory().numTensors;
  const trained = await trainModel("lenet5", data, {
    scale: "smoke",
    overrides: {
      optimizer: "adam",
      learningRate: 0.01,
      epochs: 3,
      batchSize: 32,
    },
  });
  assert.equal(trained.epochs, 3);
  assert.equal(trained.history.length, 3);
  assert.equal(trained.params, 61_706);
  assert.equal(trained.trainSamples, 300);
  // validateOnTest (seed 001) gives a validation loss every epoch.
  assert.ok(trained.history.every((r) => r.val_loss !== null));
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
  assert.match(rows[0].data_note, /first 100 of 10000 images/);
  trained.model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("trainModel: unknown model names fail clearly", async () => {
  const data: ExperimentData = {
    dataset: "mnist",
    train: squares(10, 1),
    tests: { test: squares(10, 2) },
    description: "",
    substitute: false,
  };
  await assert.rejects(
    () => trainModel("alexnet", data),
    /Unknown model "alexnet"/,
  );
});

Deno.test({
  name:
    "Kannada without training images falls back to part of the test split, labelled",
  ignore: !HAS_MIRROR,
  async fn() {
    const data = await loadExperimentData("kannada-mnist", {
      trainLimit: 100,
      testLimit: 50,
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

Deno.test({
  name: "runMnistLeNet5 runs end to end on the mirror and saves its figures",
  ignore: !HAS_MIRROR,
  async fn() {
    await initBackend({ verbose: false });
    const outDir = await Deno.makeTempDir({ prefix: "exp-001-" });
    try {
      const before = tf.memory().numTensors;
      const result = await runMnistLeNet5({
        scale: "smoke",
        outDir,
        overrides: { trainLimit: 256, testLimit: 200 },
      });
      assert.equal(tf.memory().numTensors, before);
      assert.equal(result.id, "001-mnist-lenet5");
      assert.equal(result.rows.length, 1);
      assert.equal(result.rows[0].test_samples, 200);
      assert.equal(result.rows[0].train_samples, 256);
      assert.ok(result.rows[0].accuracy >= 0 && result.rows[0].accuracy <= 1);
      assert.ok(result.figures.length >= 2);
      for (const f of result.figures) {
        assert.ok(f.path);
        assert.match(await Deno.readTextFile(f.path), /^<svg[^>]*xmlns=/);
      }
      const log = await Deno.readTextFile(
        join(outDir, "001-mnist-lenet5-epochs.csv"),
      );
      assert.equal(log.trim().split("\n").length, 2); // header + one epoch
    } finally {
      await Deno.remove(outDir, { recursive: true });
    }
  },
});
