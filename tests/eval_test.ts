/**
 * Tests of lib/eval: confusion-matrix arithmetic against hand-worked cases,
 * batched predictions and evaluation (values and no tensor leaks), one-file
 * prediction from PNG and JPEG files written here, and the clear errors.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  confusionMatrix,
  confusionMatrixFromCounts,
  confusionTable,
  decodeImage,
  encodeImage,
  evaluateModel,
  loadModel,
  mostConfused,
  normalizePixels,
  perClassAccuracy,
  predictClasses,
  predictImageFile,
  predictProbabilities,
  preprocessImage,
  readImageFile,
  saveModel,
  writeImageFile,
} from "../lib/eval/mod.ts";

await initBackend({ backend: "cpu" });

const close = (a: number, b: number, eps = 1e-5) =>
  assert.ok(Math.abs(a - b) < eps, `${a} is not close to ${b}`);

// Hand-worked case, 3 classes, 10 samples:
//   actual 0: predicted 0,0,1      -> row [2, 1, 0], 66.7% / 33.3% / 0%
//   actual 1: predicted 1,1        -> row [0, 2, 0], 0% / 100% / 0%
//   actual 2: predicted 2,2,0,0,1  -> row [2, 1, 2], 40% / 20% / 40%
const TRUE = [0, 0, 0, 1, 1, 2, 2, 2, 2, 2];
const PRED = [0, 0, 1, 1, 1, 2, 2, 0, 0, 1];

Deno.test("confusionMatrix: counts, row percentages, accuracy (hand-worked)", () => {
  const cm = confusionMatrix(TRUE, PRED, { classNames: ["a", "b", "c"] });
  assert.deepEqual(cm.counts, [[2, 1, 0], [0, 2, 0], [2, 1, 2]]);
  assert.deepEqual(cm.rowTotals, [3, 2, 5]);
  close(cm.percent[0][0], 200 / 3);
  close(cm.percent[0][1], 100 / 3);
  assert.deepEqual(cm.percent[1], [0, 100, 0]);
  assert.deepEqual(cm.percent[2], [40, 20, 40]);
  assert.equal(cm.total, 10);
  assert.equal(cm.correct, 6);
  close(cm.accuracy, 0.6);
  assert.deepEqual(cm.classNames, ["a", "b", "c"]);
});

Deno.test("confusionMatrix: polars frame (long) and wide table agree", () => {
  const cm = confusionMatrix(TRUE, PRED, { classNames: ["a", "b", "c"] });
  assert.equal(cm.frame.height, 9);
  assert.deepEqual(cm.frame.columns, [
    "actual",
    "predicted",
    "actual_index",
    "predicted_index",
    "count",
    "percent",
  ]);
  const rows = cm.frame.toRecords() as Record<string, unknown>[];
  const c2a = rows.find((r) => r.actual === "c" && r.predicted === "a")!;
  assert.equal(Number(c2a.count), 2);
  close(Number(c2a.percent), 40);
  const total = rows.reduce((s, r) => s + Number(r.count), 0);
  assert.equal(total, 10);
  const wide = confusionTable(cm).toRecords() as Record<string, unknown>[];
  assert.deepEqual(wide[2], { actual: "c", a: 2, b: 1, c: 2 });
  const widePct = confusionTable(cm, { values: "percent" })
    .toRecords() as Record<
      string,
      unknown
    >[];
  assert.equal(widePct[1].b, 100);
});

Deno.test("perClassAccuracy and mostConfused (hand-worked)", () => {
  const cm = confusionMatrix(TRUE, PRED);
  const acc = perClassAccuracy(cm);
  assert.deepEqual(acc.map((r) => r.correct), [2, 2, 2]);
  assert.deepEqual(acc.map((r) => r.total), [3, 2, 5]);
  close(acc[0].accuracy!, 2 / 3);
  assert.equal(acc[1].accuracy, 1);
  close(acc[2].accuracy!, 0.4);
  const pairs = mostConfused(cm, { top: 3 });
  // 2->0 twice; then two pairs seen once: 0->1 (33.3% of row 0) before 2->1 (20%).
  assert.deepEqual(
    pairs.map((p) => [p.actual, p.predicted, p.count]),
    [[2, 0, 2], [0, 1, 1], [2, 1, 1]],
  );
  close(pairs[0].percent, 40);
  assert.deepEqual(
    mostConfused(cm, { top: 5, minCount: 2 }).map((p) => p.actualName),
    ["2"],
  );
  assert.equal(mostConfused(cm, { top: 0 }).length, 0);
});

Deno.test("confusionMatrix: an absent class gives zeros and null accuracy", () => {
  const cm = confusionMatrix([0, 0], [0, 2], { numClasses: 3 });
  assert.deepEqual(cm.counts, [[1, 0, 1], [0, 0, 0], [0, 0, 0]]);
  assert.deepEqual(cm.percent[1], [0, 0, 0]);
  assert.equal(perClassAccuracy(cm)[1].accuracy, null);
  const fromCounts = confusionMatrixFromCounts([[5, 1], [2, 8]]);
  close(fromCounts.accuracy, 13 / 16);
});

Deno.test("confusionMatrix: clear errors on bad labels", () => {
  assert.throws(
    () => confusionMatrix([0, 1], [0]),
    /2 true labels but 1 predictions/,
  );
  assert.throws(
    () => confusionMatrix([0, 3], [0, 1], { numClasses: 3 }),
    /trueLabels\[1\] is 3 but there are only 3 classes/,
  );
  assert.throws(() => confusionMatrix([0.5], [0]), /must be integers/);
  assert.throws(() => confusionMatrixFromCounts([[1, 2]]), /square/);
});

/** Softmax classifier with fixed output p = softmax(bias) for every input. */
function constantModel(
  bias: number[],
  activation: "softmax" | "linear" = "softmax",
) {
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [2, 2, 1] }),
      tf.layers.dense({
        units: bias.length,
        activation,
        kernelInitializer: "zeros",
        biasInitializer: tf.initializers.constant({ value: 0 }),
      }),
    ],
  });
  const dense = model.layers[1];
  dense.setWeights([tf.zeros([4, bias.length]), tf.tensor1d(bias)]);
  return model;
}

Deno.test("evaluateModel: exact loss and accuracy, one-hot labels, no leaks", async () => {
  const model = constantModel([Math.log(3), 0]); // p = [0.75, 0.25]
  const xs = tf.randomNormal([10, 2, 2, 1], 0, 1, "float32", 1);
  const labels = [0, 1, 0, 0, 0, 1, 0, 0, 1, 0]; // 7 of class 0
  const ys = tf.tensor1d(labels, "int32");
  const oneHot = tf.oneHot(ys, 2);
  const before = tf.memory().numTensors;
  const r = await evaluateModel(model, { xs, ys }, { batchSize: 3 });
  assert.equal(tf.memory().numTensors, before, "evaluateModel leaked tensors");
  const expected = (7 * -Math.log(0.75) + 3 * -Math.log(0.25)) / 10;
  close(r.loss, expected);
  close(r.accuracy, 0.7);
  assert.equal(r.count, 10);
  assert.deepEqual([...r.predictions], new Array(10).fill(0));
  close(r.scores[0], 0.75);
  const r2 = await evaluateModel(model, { xs, ys: oneHot });
  close(r2.loss, expected);
  const r3 = await evaluateModel(model, { xs, ys: labels });
  close(r3.accuracy, 0.7);
  assert.equal(tf.memory().numTensors, before, "evaluateModel leaked tensors");
  tf.dispose([xs, ys, oneHot]);
});

Deno.test("evaluateModel: refuses NaN, fractional, negative and out-of-range labels, naming the first bad index", async () => {
  const model = constantModel([Math.log(3), 0]);
  const xs = tf.zeros([3, 2, 2, 1]);
  const cases: [ArrayLike<number> | tf.Tensor, RegExp][] = [
    [[0, NaN, 1], /labels\[1\] is NaN: class labels must be whole numbers/],
    [[0, 0, 1.5], /labels\[2\] is 1\.5: class labels must be whole numbers/],
    [[-1, 0, 0], /labels\[0\] is -1/],
    [tf.tensor1d([0, 0.5, 1]), /labels\[1\] is 0\.5/],
    [[0, 1, 2], /labels\[2\] is 2 but the model has 2 classes/],
    [
      tf.tensor2d([[1, 0], [NaN, 0], [0, 1]]),
      /labels\[1\] \(a one-hot row\) holds NaN/,
    ],
  ];
  const before = tf.memory().numTensors;
  for (const [ys, message] of cases) {
    await assert.rejects(
      () => evaluateModel(model, { xs, ys }),
      (e: Error) =>
        message.test(e.message) && /^evaluateModel: /.test(e.message),
      String(message),
    );
  }
  assert.ok(tf.memory().numTensors <= before, "leaked tensors");
  for (const [ys] of cases) if (ys instanceof tf.Tensor) ys.dispose();
  xs.dispose();
});

Deno.test("predictProbabilities: batching, log-probabilities and logits", async () => {
  const xs = tf.randomNormal([7, 2, 2, 1], 0, 1, "float32", 2);
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [2, 2, 1] }),
      tf.layers.dense({
        units: 3,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
    ],
  });
  const logModel = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [2, 2, 1] }),
      tf.layers.dense({
        units: 3,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
      tf.layers.activation({ activation: "logSoftmax" as "softmax" }),
    ],
  });
  const before = tf.memory().numTensors;
  const a = await predictProbabilities(model, xs, { batchSize: 2 });
  const b = await predictProbabilities(model, xs, { batchSize: 256 });
  assert.equal(a.output, "scores");
  assert.equal(a.count, 7);
  assert.equal(a.numClasses, 3);
  for (let i = 0; i < a.values.length; i++) close(a.values[i], b.values[i]);
  for (let i = 0; i < 7; i++) {
    close(a.values[i * 3] + a.values[i * 3 + 1] + a.values[i * 3 + 2], 1);
  }
  const c = await predictProbabilities(logModel, xs);
  assert.equal(c.output, "log-probabilities");
  for (let i = 0; i < a.values.length; i++) close(a.values[i], c.values[i]);
  const { classes, scores } = await predictClasses(model, xs, {
    batchSize: 3,
  });
  for (let i = 0; i < 7; i++) {
    const row = Array.from(a.values.slice(i * 3, i * 3 + 3));
    assert.equal(classes[i], row.indexOf(Math.max(...row)));
    close(scores[i], Math.max(...row));
  }
  assert.equal(tf.memory().numTensors, before, "predictions leaked tensors");
  xs.dispose();
});

Deno.test("evaluateModel: clear error on a wrong input shape", async () => {
  const model = constantModel([0, 0]);
  const xs = tf.zeros([2, 3, 3, 1]);
  await assert.rejects(
    () => evaluateModel(model, { xs, ys: [0, 1] }),
    /expects input of shape \[batch, 2, 2, 1\] but got \[2, 3, 3, 1\]/,
  );
  await assert.rejects(
    () => evaluateModel(model, { xs: tf.zeros([2, 2, 2, 1]), ys: [0] }),
    /2 inputs but 1 labels/,
  );
  xs.dispose();
});

/**
 * A "probe" classifier on 28x28x1 input: class 0 = mean brightness of the
 * central vertical stripe, class 1 = of the central horizontal stripe.
 */
function stripeModel(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: 2, activation: "softmax" }),
    ],
  });
  const kernel = new Float32Array(28 * 28 * 2);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      if (x >= 11 && x <= 16) kernel[(y * 28 + x) * 2] = 0.1;
      if (y >= 11 && y <= 16) kernel[(y * 28 + x) * 2 + 1] = 0.1;
    }
  }
  model.layers[1].setWeights([tf.tensor2d(kernel, [784, 2]), tf.zeros([2])]);
  return model;
}

/** A `size` x `size` image with a bar through the middle. */
function barImage(
  size: number,
  bar: "vertical" | "horizontal",
  ink: number,
  paper: number,
) {
  const data = new Uint8Array(size * size).fill(paper);
  const lo = Math.round(size * 0.4);
  const hi = Math.round(size * 0.6);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const on = bar === "vertical" ? x >= lo && x < hi : y >= lo && y < hi;
      if (
        on && y > size * 0.1 && y < size * 0.9 && x > size * 0.1 &&
        x < size * 0.9
      ) {
        data[y * size + x] = ink;
      }
    }
  }
  return data;
}

Deno.test("predictImageFile: PNG and JPEG, resize, auto invert, no leaks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = stripeModel();
    // Dark ink on white paper (a photo or a drawing): must be inverted.
    const png = `${dir}/vertical.png`;
    await writeImageFile(png, {
      data: barImage(56, "vertical", 0, 255),
      height: 56,
      width: 56,
      channels: 1,
    });
    // White on black like MNIST, as RGB JPEG of another size: not inverted.
    const gray = barImage(40, "horizontal", 250, 5);
    const rgb = new Uint8Array(40 * 40 * 3).map((_, i) =>
      gray[Math.floor(i / 3)]
    );
    const jpg = `${dir}/horizontal.jpg`;
    await writeImageFile(jpg, {
      data: rgb,
      height: 40,
      width: 40,
      channels: 3,
    });
    const before = tf.memory().numTensors;
    const a = await predictImageFile(model, png, {
      classNames: ["vertical", "horizontal"],
    });
    assert.equal(a.className, "vertical");
    assert.equal(a.classIndex, 0);
    assert.equal(a.inverted, true);
    assert.equal(a.height, 28);
    assert.equal(a.width, 28);
    assert.equal(a.pixels.length, 28 * 28);
    assert.ok(a.probability > 0.5);
    close(a.probabilities[0] + a.probabilities[1], 1);
    // Background is black after inversion, the bar bright.
    assert.ok(a.pixels[0] < 20 && a.pixels[14 * 28 + 14] > 200);
    const b = await predictImageFile(model, jpg);
    assert.equal(b.classIndex, 1);
    assert.equal(b.inverted, false);
    // Without the inversion the dark bar "loses": the honest counter-check.
    const c = await predictImageFile(model, png, { invert: false });
    assert.equal(c.classIndex, 1);
    assert.equal(
      tf.memory().numTensors,
      before,
      "predictImageFile leaked tensors",
    );
    const decoded = await readImageFile(jpg);
    assert.equal(decoded.format, "jpeg");
    assert.equal(decoded.width, 40);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("predictImageFile: errors name a missing file and a non-image", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = stripeModel();
    await assert.rejects(
      predictImageFile(model, `${dir}/nope.png`),
      /image file not found: .*nope\.png/,
    );
    await Deno.writeTextFile(`${dir}/notes.png`, "these are not pixels");
    await assert.rejects(
      predictImageFile(model, `${dir}/notes.png`),
      /notes\.png is not an image .*PNG or JPEG/,
    );
    await Deno.writeFile(
      `${dir}/broken.png`,
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]),
    );
    await assert.rejects(
      predictImageFile(model, `${dir}/broken.png`),
      /broken\.png looks like a PNG file but could not be decoded/,
    );
    assert.throws(
      () => decodeImage(new Uint8Array(0), "empty.jpg"),
      /file is empty/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("normalizePixels: the data layer's presets", () => {
  const x = tf.tensor4d([0, 255], [1, 1, 2, 1]);
  const values = (p: Parameters<typeof normalizePixels>[1]) => {
    const t = normalizePixels(x, p);
    const v = Array.from(t.dataSync());
    t.dispose();
    return v;
  };
  assert.deepEqual(values("none"), [0, 255]);
  assert.deepEqual(values("unit"), [0, 1]);
  assert.deepEqual(values("centered"), [-0.5, 0.5]);
  const n = values({ mean: 0.1307, std: 0.3081 });
  close(n[0], -0.1307 / 0.3081);
  close(n[1], (1 - 0.1307) / 0.3081);
  assert.throws(() => values({ mean: 0, std: 0 }), /std must be > 0/);
  x.dispose();
});

Deno.test("encodeImage/decodeImage round trip (PNG exact, JPEG close)", () => {
  const data = barImage(16, "vertical", 255, 0);
  const png = decodeImage(
    encodeImage({ data, height: 16, width: 16, channels: 1 }, "png"),
  );
  assert.equal(png.format, "png");
  for (let i = 0; i < 256; i++) assert.equal(png.data[i * 4], data[i]);
  const jpg = decodeImage(
    encodeImage({ data, height: 16, width: 16, channels: 1 }, "jpeg"),
  );
  let err = 0;
  for (let i = 0; i < 256; i++) err += Math.abs(jpg.data[i * 4] - data[i]);
  assert.ok(err / 256 < 20, `JPEG mean error ${err / 256}`);
});

Deno.test("saveModel/loadModel (re-exported): predictions survive a round trip", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = stripeModel();
    await saveModel(model, `${dir}/m`);
    const loaded = await loadModel(`${dir}/m`);
    const xs = tf.randomUniform([3, 28, 28, 1], 0, 1, "float32", 4);
    const a = (await predictProbabilities(model, xs)).values;
    const b = (await predictProbabilities(loaded, xs)).values;
    for (let i = 0; i < a.length; i++) close(a[i], b[i]);
    xs.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shipped notebook images decode as digits", async () => {
  const dir = new URL("../notebooks/images/", import.meta.url);
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (/\.(png|jpe?g)$/i.test(e.name)) names.push(e.name);
  }
  assert.ok(
    names.length >= 3,
    `expected sample digits in notebooks/images, found ${names}`,
  );
  assert.ok(names.some((n) => /\.jpe?g$/i.test(n)), "expected one JPEG sample");
  for (const name of names) {
    const img = await readImageFile(new URL(name, dir));
    assert.ok(
      img.width >= 28 && img.height >= 28,
      `${name} is ${img.width}x${img.height}`,
    );
  }
});

const MIRROR = Deno.env.get("CNN_DATA_MIRROR");

Deno.test({
  name:
    "preprocessImage: a shipped digit comes back close to its MNIST original",
  ignore: !MIRROR,
  fn: async () => {
    const { gunzipSync } = await import("node:zlib");
    const images = gunzipSync(
      await Deno.readFile(`${MIRROR}/mnist/t10k-images-idx3-ubyte.gz`),
    );
    const original = images.subarray(16, 16 + 784); // test image 0, a 7
    const image = await readImageFile(
      new URL("../notebooks/images/mnist-test-0-digit-7.png", import.meta.url),
    );
    const pre = await preprocessImage(image, { size: 28 });
    pre.tensor.dispose();
    assert.equal(pre.inverted, true);
    let diff = 0;
    for (let i = 0; i < 784; i++) diff += Math.abs(pre.pixels[i] - original[i]);
    assert.ok(diff / 784 < 12, `mean abs difference ${diff / 784}`);
  },
});

Deno.test("preprocessImage: resizeMethod nearest repeats pixels, bilinear blends them", async () => {
  // A 2x2 grey image on a black border-free background: no inversion.
  const image = {
    data: Uint8Array.from([0, 100, 40, 20]),
    height: 2,
    width: 2,
    channels: 1 as const,
    format: "png" as const,
  };
  const nearest = await preprocessImage(image, {
    size: 4,
    invert: false,
    resizeMethod: "nearest",
  });
  assert.deepEqual(
    [...nearest.pixels],
    [0, 0, 100, 100, 0, 0, 100, 100, 40, 40, 20, 20, 40, 40, 20, 20],
  );
  const bilinear = await preprocessImage(image, { size: 4, invert: false });
  assert.ok(
    [...bilinear.pixels].some((v) => ![0, 100, 40, 20].includes(v)),
    "bilinear should produce in-between values",
  );
  await assert.rejects(
    () =>
      preprocessImage(image, {
        size: 4,
        resizeMethod: "cubic" as "nearest",
      }),
    /resizeMethod must be "bilinear" or "nearest"/,
  );
  tf.dispose([nearest.tensor, bilinear.tensor]);
});
