// Drift test of notebook 000: its sigmoid LeNet, custom CNN and MobileNet
// classifier must stay equal to the library's builders, and its resize step
// to the library's input pipeline for MobileNet.
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import type { ImageSplit } from "../lib/data/mod.ts";
import { planModelInput, toModelTensors } from "../lib/experiments/mod.ts";
import { type ConfusionMatrix, confusionMatrix } from "../lib/eval/mod.ts";
import { confusionHeatmap, type Figure } from "../lib/plot/mod.ts";
import {
  buildKannadaCnn,
  buildLenet,
  buildMobileNet,
  MODELS,
} from "../lib/models/mod.ts";
import { importNotebookCells } from "./_notebook_module.ts";
import { comparableLayers, maxAbsDiff } from "./_lesson_compare.ts";

await initBackend({ backend: "cpu", verbose: false });
const lesson = await importNotebookCells("notebooks/000_kannada_mnist.ipynb");

type Builder = (numClasses?: number) => tf.LayersModel;
const buildSigmoidLeNet = lesson.buildSigmoidLeNet as Builder;
const buildCustomCnn = lesson.buildCustomCnn as Builder;
const buildMobileNetClassifier = lesson.buildMobileNetClassifier as Builder;
const plotConfusion = lesson.plotConfusion as (
  cm: ConfusionMatrix,
  title: string,
) => Figure;
const resizeBatch = lesson.resizeBatch as (
  images: tf.Tensor4D,
  side?: number,
) => tf.Tensor4D;
const dataGenerator = lesson.dataGenerator as (
  xs: tf.Tensor4D,
  ys: tf.Tensor1D,
  batchSize: number,
  side?: number | null,
) => Generator<{ xs: tf.Tensor4D; ys: tf.Tensor1D }>;

const cases: [string, Builder, () => tf.LayersModel, number][] = [
  ["lenet", buildSigmoidLeNet, () => buildLenet({ seed: 1 }), 44_426],
  [
    "kannada-cnn",
    buildCustomCnn,
    () => buildKannadaCnn({ seed: 1 }),
    887_530,
  ],
  [
    "mobilenet",
    buildMobileNetClassifier,
    () => buildMobileNet({ seed: 1 }),
    4_288_138,
  ],
];

for (const [name, mine, lib, params] of cases) {
  Deno.test(`000: the notebook's ${name} equals the library's`, () => {
    const a = mine();
    const b = lib();
    assert.deepEqual(comparableLayers(a), comparableLayers(b));
    assert.equal(a.countParams(), b.countParams());
    assert.equal(a.countParams(), params);
    assert.equal(
      a.countParams(),
      MODELS[name as keyof typeof MODELS].paramCount,
    );
    assert.deepEqual(a.inputs[0].shape, b.inputs[0].shape);
    a.dispose();
    b.dispose();
  });
}

function split(count: number): ImageSplit {
  return {
    dataset: "synthetic",
    split: "test",
    images: Uint8Array.from(
      { length: count * 28 * 28 },
      (_, i) => (i * 37 + (i >> 5)) % 256,
    ),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    count,
    height: 28,
    width: 28,
    channels: 1,
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    sources: [],
  };
}

Deno.test("000: the notebook's resize step equals the library's MobileNet input", async () => {
  const s = split(6);
  const xs = tf.tidy(() =>
    tf.div(tf.tensor4d(Float32Array.from(s.images), [6, 28, 28, 1]), 255)
  ) as tf.Tensor4D;
  const mine = resizeBatch(xs);
  const lib = toModelTensors(s, planModelInput("mobilenet", s));
  assert.deepEqual(mine.shape, [6, 32, 32, 1]);
  assert.ok((await maxAbsDiff(mine, lib.xs)) < 1e-5);
  tf.dispose([xs, mine, lib.xs, lib.ys]);
});

Deno.test("000: the batch generator yields resized, matching batches without leaks", async () => {
  const n = 20;
  // Image i is filled with the value i, its label is i: a batch whose
  // pixels and labels disagree would show a gather bug.
  const xs = tf.tidy(() =>
    tf.mul(tf.ones([n, 28, 28, 1]), tf.reshape(tf.range(0, n), [n, 1, 1, 1]))
  ) as tf.Tensor4D;
  const ys = tf.range(0, n, 1, "int32") as tf.Tensor1D;
  const generator = dataGenerator(xs, ys, 8, 32);
  const before = tf.memory().numTensors;
  const seen = new Set<number>();
  for (let step = 0; step < 4; step++) {
    const batch = generator.next().value as {
      xs: tf.Tensor4D;
      ys: tf.Tensor1D;
    };
    assert.deepEqual(batch.xs.shape, [8, 32, 32, 1]);
    assert.deepEqual(batch.ys.shape, [8]);
    const [pixels, labels] = await Promise.all([
      batch.xs.data(),
      batch.ys.data(),
    ]);
    for (let i = 0; i < 8; i++) {
      assert.ok(Math.abs(pixels[i * 32 * 32] - labels[i]) < 1e-5);
      seen.add(labels[i]);
    }
    tf.dispose([batch.xs, batch.ys]);
  }
  assert.equal(tf.memory().numTensors, before);
  // Two batches of 8 per pass over 20 images; four steps cover two passes.
  assert.ok(seen.size > 8);
  tf.dispose([xs, ys]);
});

Deno.test("000: the notebook's confusion plot draws the library's confusionHeatmap", () => {
  // Ten digit classes (short names) and three long names (slanted labels),
  // with an empty row and cells on both sides of the white-text threshold.
  const digits = (s: string) => s.split(" ").map(Number);
  const labels = digits("0 0 0 1 1 2 3 3 3 3 9 9 8 7 7 6 5 4 4 4");
  const predicted = digits("0 0 9 1 7 2 3 3 5 3 9 0 8 7 1 6 5 4 4 9");
  const tenDigits = confusionMatrix(labels, predicted, { numClasses: 10 });
  const animals = confusionMatrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], {
    classNames: ["airplane", "automobile", "bird"],
  });
  for (const cm of [tenDigits, animals]) {
    const title = `${cm.classNames.length} classes`;
    const mine = plotConfusion(cm, title).svg;
    assert.equal(mine, confusionHeatmap(cm, { title }).svg);
    assert.ok(mine.includes(`${cm.percent[0][0].toFixed(1)}%`));
  }
  // The comparison is not of two empty figures: one square per pair.
  assert.equal(
    (plotConfusion(tenDigits, "x").svg.match(/<rect /g) ?? []).length >= 100,
    true,
  );
});
