// Drift test of notebook 001: its hand-written convolution layer and its
// LeNet-5 class must stay equal to the library's SimpleConv2D and
// buildLenet5 (configs, parameter counts, outputs for the same weights).
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { buildLenet5, SimpleConv2D } from "../lib/models/mod.ts";
import { importNotebookCells } from "./_notebook_module.ts";
import {
  comparableLayers,
  copyWeights,
  maxAbsDiff,
} from "./_lesson_compare.ts";

await initBackend({ backend: "cpu", verbose: false });
const lesson = await importNotebookCells("notebooks/001_mnist_lenet5.ipynb");

type LayerClass = new (args: Record<string, unknown>) => tf.layers.Layer;
type LeNet5Class = new (
  numClasses?: number,
  convLayer?: "conv2d" | "simple",
) => { build(shape: [number, number, number]): tf.LayersModel };

const SimpleConvolutionLayer = lesson.SimpleConvolutionLayer as LayerClass;
const LeNet5 = lesson.LeNet5 as LeNet5Class;

Deno.test("001: the notebook's SimpleConvolutionLayer equals SimpleConv2D", async () => {
  for (
    const args of [
      { filters: 6, kernelSize: 5, padding: "same" },
      { filters: 4, kernelSize: [3, 2], strides: 2, useBias: false },
      { filters: 3, kernelSize: 3, activation: "linear" },
    ]
  ) {
    const mine = new SimpleConvolutionLayer(args);
    const lib = new SimpleConv2D(
      args as ConstructorParameters<typeof SimpleConv2D>[0],
    );
    const x = tf.randomUniform([2, 9, 9, 2], -1, 1, "float32", 3);
    const a = mine.apply(x) as tf.Tensor;
    const b0 = lib.apply(x) as tf.Tensor; // builds the library layer
    b0.dispose();
    const strip = (c: Record<string, unknown>) => {
      const { name: _n, seed: _s, ...rest } = c;
      return rest;
    };
    assert.deepEqual(strip(mine.getConfig()), strip(lib.getConfig()));
    assert.equal(mine.countParams(), lib.countParams());
    lib.setWeights(mine.getWeights());
    const b = lib.apply(x) as tf.Tensor;
    assert.deepEqual(a.shape, b.shape);
    assert.ok((await maxAbsDiff(a, b)) < 1e-6);
    tf.dispose([x, a, b]);
  }
});

Deno.test("001: the notebook's layer is registered for serialisation", () => {
  const cls = SimpleConvolutionLayer as unknown as { className: string };
  assert.equal(cls.className, "SimpleConvolutionLayer");
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  assert.ok("SimpleConvolutionLayer" in map);
  // The library's class keeps its own registration.
  assert.ok("SimpleConv2D" in map);
});

Deno.test("001: the notebook's LeNet5 class equals buildLenet5, both conv layers", async () => {
  for (const convLayer of ["conv2d", "simple"] as const) {
    const mine = new LeNet5(10, convLayer).build([28, 28, 1]);
    const lib = buildLenet5({ convLayer, seed: 1 });
    assert.deepEqual(
      comparableLayers(mine, { SimpleConvolutionLayer: "SimpleConv2D" }),
      comparableLayers(lib),
      `layer configs differ (${convLayer})`,
    );
    assert.equal(mine.countParams(), lib.countParams());
    assert.equal(mine.countParams(), 61_706);
    assert.deepEqual(mine.outputs[0].shape, lib.outputs[0].shape);
    copyWeights(mine, lib);
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, "float32", 5);
    const a = mine.predict(x) as tf.Tensor;
    const b = lib.predict(x) as tf.Tensor;
    assert.ok((await maxAbsDiff(a, b)) < 1e-5, `outputs differ (${convLayer})`);
    tf.dispose([x, a, b]);
    mine.dispose();
    lib.dispose();
  }
});

Deno.test("001: a changed layer in the notebook would be caught", () => {
  // The comparison is sensitive: a model with one different layer differs.
  const lib = buildLenet5({ convLayer: "conv2d" });
  const other = buildLenet5({ convLayer: "conv2d", numClasses: 9 });
  assert.notDeepEqual(comparableLayers(other), comparableLayers(lib));
});
