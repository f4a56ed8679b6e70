/**
 * Notebook 004 and the library cannot drift apart: the notebook's
 * `makeModel` has the layer configs and parameter count of `buildCifarCnn`,
 * its learning-rate schedule and compile settings are the recipe's, its
 * layer choice is `cifarStimulusLayers`, and its maximum-stimulus search
 * gives the same losses, skipped filters and pixels as the library's
 * `filterStimuli` on a tiny fixed-seed model.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { buildCifarCnn } from "../lib/models/mod.ts";
import {
  confusionHeatmap,
  type Figure,
  filterStimuli,
  imageDataUri,
  type Tile,
  tileGrid,
} from "../lib/plot/mod.ts";
import { type ConfusionMatrix, confusionMatrix } from "../lib/eval/mod.ts";
import {
  cifarStimulusLayers,
  trainSettingsFor,
} from "../lib/experiments/mod.ts";
import {
  exponentialDecay,
  getLearningRate,
  setGlobalSeed,
} from "../lib/train/mod.ts";
import { layerConfigs } from "./_lesson_compare.ts";
import { importNotebookCells } from "./_notebook_module.ts";

const NOTEBOOK = new URL("../notebooks/004_cifar10_cnn.ipynb", import.meta.url)
  .pathname;

type Found = { filter: number; loss: number; pixels: Uint8Array };
type Lesson = {
  tileGrid: (
    tiles: readonly Tile[],
    options?: { columns?: number; cellSize?: number; title?: string },
  ) => Figure;
  plotConfusion: (cm: ConfusionMatrix, title: string) => Figure;
  makeModel: (numClasses?: number) => tf.Sequential;
  lrScheduler: (epoch: number) => number;
  compileModel: (model: tf.LayersModel, oneHot: boolean) => void;
  convActivationLayers: (model: tf.Sequential) => tf.layers.Layer[];
  layerStimuli: (
    model: tf.LayersModel,
    layer: tf.layers.Layer,
    count: number,
    options?: { iterations?: number; step?: number; seed?: number },
  ) => Promise<{ drawn: Found[]; skipped: number[] }>;
};

const lesson = await importNotebookCells(NOTEBOOK) as unknown as Lesson;

Deno.test("004: the notebook's makeModel is the library's CIFAR CNN", async () => {
  await initBackend({ backend: "cpu", verbose: false });
  const mine = lesson.makeModel();
  const theirs = buildCifarCnn();
  assert.deepEqual(layerConfigs(mine), layerConfigs(theirs));
  assert.equal(mine.countParams(), 1084234);
  assert.equal(mine.countParams(), theirs.countParams());
  assert.deepEqual(
    lesson.convActivationLayers(theirs).map((l) => l.name),
    cifarStimulusLayers(theirs),
  );
  assert.equal(cifarStimulusLayers(theirs).length, 4);
  mine.dispose();
  theirs.dispose();
});

Deno.test("004: schedule and compile settings are the recipe's", async () => {
  await initBackend({ backend: "cpu", verbose: false });
  const recipe = trainSettingsFor("cifar-cnn", "full");
  const decay = exponentialDecay(recipe.learningRate, recipe.lrDecay!);
  for (let epoch = 0; epoch < 10; epoch++) {
    assert.ok(
      Math.abs(lesson.lrScheduler(epoch) - decay(epoch, 0)) < 1e-15,
      `epoch ${epoch}`,
    );
  }
  const model = lesson.makeModel();
  lesson.compileModel(model, recipe.oneHot);
  const optimizer = model.optimizer;
  assert.equal(optimizer.getClassName(), "Adamax");
  assert.equal(getLearningRate(optimizer), recipe.learningRate);
  assert.equal(recipe.oneHot, true);
  assert.equal(model.loss, "categoricalCrossentropy");
  model.dispose();
});

Deno.test("004: the notebook's maximum-stimulus search is the library's", async () => {
  await initBackend({ backend: "cpu", verbose: false });
  setGlobalSeed(4);
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 3],
        filters: 4,
        kernelSize: 3,
        padding: "same",
      }),
      tf.layers.leakyReLU({ alpha: 0.1 }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same" }),
      tf.layers.leakyReLU({ alpha: 0.1 }),
    ],
  });
  // Filter 1 of the first layer can never turn positive in a few unit steps.
  // (getWeights returns the layer's own variables: nothing to dispose.)
  const [kernel] = model.layers[0].getWeights();
  const sunk = tf.tensor1d([0, -100, 0, 0]);
  model.layers[0].setWeights([kernel, sunk]);
  sunk.dispose();
  const layers = lesson.convActivationLayers(model);
  assert.equal(layers.length, 2);
  const options = { iterations: 5, seed: 7 };
  const before = tf.memory().numTensors;
  for (const layer of layers) {
    const mine = await lesson.layerStimuli(model, layer, 2, options);
    const theirs = await filterStimuli(model, {
      layer: layer.name,
      count: 2,
      ...options,
    });
    assert.deepEqual(mine.skipped, theirs.skipped, `${layer.name} skipped`);
    assert.deepEqual(
      mine.drawn.map((s) => s.filter),
      theirs.stimuli.map((s) => s.unit),
    );
    for (const [i, s] of mine.drawn.entries()) {
      const other = theirs.stimuli[i];
      assert.ok(
        Math.abs(s.loss - other.loss!) <= 1e-5,
        `${layer.name}#${s.filter}: loss ${s.loss} vs ${other.loss}`,
      );
      assert.ok(s.loss > 0);
      assert.deepEqual(s.pixels, other.pixels, `${layer.name}#${s.filter}`);
      assert.ok(new Set(s.pixels).size > 10, "a flat image tests nothing");
    }
  }
  const first = await lesson.layerStimuli(model, layers[0], 2, options);
  assert.deepEqual(first.skipped, [1], "filter 1 is skipped and counted");
  assert.equal(tf.memory().numTensors, before, "the search leaked tensors");
  model.dispose();
});

Deno.test("004: the notebook's tileGrid draws the library's tileGrid (sample, prediction and stimulus grids)", () => {
  const src = (v: number) =>
    imageDataUri(new Uint8Array(2 * 2 * 3).fill(v), 2, 2, 3, [0, 255]);
  const cases: [
    Tile[],
    { columns?: number; cellSize?: number; title?: string },
  ][] = [
    // The sample grid: one-line titles, default layout.
    [
      [{ src: src(10), title: "cat" }, { src: src(200), title: "automobile" }],
      {},
    ],
    // The prediction grid: three lines, coloured, more tiles than columns.
    [
      Array.from({ length: 5 }, (_, i) => ({
        src: src(40 * i),
        title: `pred: dog\nscore: 0.${i}00\ntrue: ${i % 2 ? "dog" : "cat"}`,
        color: i % 2 ? "#1a7f37" : "#cf222e",
      })),
      { columns: 3, cellSize: 40, title: "Test predictions" },
    ],
    // No titles at all.
    [[{ src: src(0), title: "" }], { title: "untitled tiles" }],
  ];
  for (const [tiles, options] of cases) {
    const mine = lesson.tileGrid(tiles, options).svg;
    assert.equal(mine, tileGrid(tiles, options).svg);
    assert.equal((mine.match(/<image /g) ?? []).length, tiles.length);
  }
});

Deno.test("004: the notebook's confusion plot draws the library's confusionHeatmap (CIFAR-10's long names)", () => {
  const names = ["airplane", "automobile", "bird", "cat"];
  const cm = confusionMatrix(
    [0, 0, 1, 1, 1, 2, 3, 3, 3],
    [0, 1, 1, 1, 0, 2, 3, 2, 3],
    { classNames: names },
  );
  const mine = lesson.plotConfusion(cm, "four classes").svg;
  assert.equal(mine, confusionHeatmap(cm, { title: "four classes" }).svg);
  assert.equal((mine.match(/<rect /g) ?? []).length >= 16, true);
});
