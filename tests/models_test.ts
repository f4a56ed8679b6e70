/**
 * Model builders: parameter counts against the tutorials' figures, layer
 * shapes, custom layers' arithmetic, serialisation round trips and errors.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  assertInputShape,
  buildCifarCnn,
  buildFashionLenet,
  buildLenet,
  buildLenet5,
  buildLenet5_1998,
  buildMobileNet,
  buildModel,
  buildModelFor,
  classificationLoss,
  countParams,
  EuclideanRBF,
  formatSummary,
  isModelName,
  LENET5_C3_TABLE,
  loadModel,
  MODEL_NAMES,
  modelInfo,
  MODELS,
  PartialConv2D,
  rbfPrototypeCodes,
  registerFileRouter,
  saveModel,
  ScaledTanh,
  SimpleConv2D,
  summarizeModel,
  toProbabilities,
  traceLayerShapes,
  TrainableSubsampling,
} from "../lib/models/mod.ts";
import { fileSystemHandler } from "../lib/models/io.ts";

await initBackend();

function paramsOf(model: tf.LayersModel): number[] {
  return summarizeModel(model).filter((r) => r.params > 0).map((r) => r.params);
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
  }
}

// --- parameter counts ------------------------------------------------------

Deno.test("registry: every model builds with its registered input shape and counts", () => {
  assert.deepEqual([...MODEL_NAMES].sort(), Object.keys(MODELS).sort());
  for (const name of MODEL_NAMES) {
    const info = MODELS[name];
    const model = buildModel(name);
    const counts = countParams(model);
    assert.equal(counts.total, info.paramCount, `${name} total params`);
    assert.equal(
      counts.trainable,
      info.trainableParams,
      `${name} trainable params`,
    );
    assert.deepEqual(
      model.inputs[0].shape.slice(1),
      info.inputShape,
      `${name} input`,
    );
    assert.deepEqual(model.outputShape, [null, 10], `${name} output`);
    assert.equal(model.countParams(), counts.total);
    model.dispose();
  }
});

Deno.test("seed 001 LeNet-5: per-layer 156, 2,416, 48,120, 10,164, 850 = 61,706, both conv classes", () => {
  for (const convLayer of ["conv2d", "simple"] as const) {
    const model = buildLenet5({ convLayer });
    assert.deepEqual(paramsOf(model), [156, 2416, 48120, 10164, 850]);
    assert.equal(model.countParams(), 61706);
    const classes = summarizeModel(model).map((r) => r.className);
    assert.equal(
      classes[0],
      convLayer === "simple" ? "SimpleConv2D" : "Conv2D",
    );
    model.dispose();
  }
});

Deno.test("seed 004 CIFAR CNN: per-layer figures of its model.summary(), 1,084,234", () => {
  const model = buildCifarCnn();
  assert.deepEqual(paramsOf(model), [448, 4640, 9248, 18496, 1048832, 2570]);
  assert.equal(model.countParams(), 1084234);
  const rows = summarizeModel(model);
  assert.equal(rows.length, 19);
  const leaky = model.layers.filter((l) => l.getClassName() === "LeakyReLU");
  assert.equal(leaky.length, 6);
  for (const l of leaky) assert.equal(l.getConfig().alpha, 0.1);
  assert.deepEqual(rows.find((r) => r.name === "flatten_1")?.outputShape, [
    null,
    4096,
  ]);
  assert.match(formatSummary(model), /Total params: 1,084,234/);
  model.dispose();
});

Deno.test("seed 000 / 003 LeNets and 002's PyTorch LeNet: layer figures", () => {
  const lenet = buildLenet();
  assert.deepEqual(paramsOf(lenet), [156, 2416, 30840, 10164, 850]);
  const torch = buildModel("lenet5-32");
  // Seed 002's own figures: C1 (5*5+1)*6 = 156, F6 (120+1)*84 = 10,164.
  assert.deepEqual(paramsOf(torch), [156, 2416, 48120, 10164, 850]);
  assert.equal(torch.layers.at(-1)!.getConfig().activation, "logSoftmax");
  const figures = {
    large: { valid: 582026, same: 1663370 },
    small: { valid: 36758, same: 104342 },
  };
  for (const variant of ["large", "small"] as const) {
    for (const padding of ["valid", "same"] as const) {
      const m = buildFashionLenet({ variant, padding });
      assert.equal(
        m.countParams(),
        figures[variant][padding],
        `${variant} ${padding}`,
      );
      m.dispose();
    }
  }
  tf.dispose([lenet, torch].flatMap((m) => m.weights.map((w) => w.read())));
});

Deno.test("MobileNet: Keras' no-top figure for 1 channel, options change widths", () => {
  // Keras MobileNet(include_top=False, alpha=1) on 3 channels: 3,228,864
  // (trainable 3,206,976); one channel drops 32*3*3*2 = 576 conv1 weights.
  const base = buildMobileNet({ head: false });
  assert.deepEqual(countParams(base), {
    total: 3228288,
    trainable: 3206400,
    nonTrainable: 21888,
  });
  assert.deepEqual(base.outputShape, [null, 1, 1, 1024]);
  const rgb = buildMobileNet({ head: false, inputShape: [32, 32, 3] });
  assert.equal(rgb.countParams(), 3228864);
  const names = base.layers.map((l) => l.name);
  for (
    const n of [
      "conv1",
      "conv1_bn",
      "conv1_relu",
      "conv_pad_2",
      "conv_dw_13_relu",
    ]
  ) {
    assert.ok(names.includes(n), n);
  }
  assert.equal(names.filter((n) => n.startsWith("conv_pad_")).length, 4);
  assert.equal(names.filter((n) => /^conv_dw_\d+$/.test(n)).length, 13);
  // alpha 0.5 halves every width; depth multiplier 2 doubles depthwise kernels.
  const half = buildMobileNet({ head: false, alpha: 0.5 });
  assert.deepEqual(half.outputShape, [null, 1, 1, 512]);
  const dm2 = buildMobileNet({ head: false, depthMultiplier: 2, alpha: 0.25 });
  assert.equal(dm2.getLayer("conv_dw_1").countParams(), 3 * 3 * 8 * 2);
  const big = buildMobileNet({ inputShape: [64, 64, 1], head: false });
  assert.deepEqual(big.outputShape, [null, 2, 2, 1024]);
  for (const m of [base, rgb, half, dm2, big]) m.dispose();
});

Deno.test("LeNet-5 1998: C3 table has 1,516 params; 60,000 trainable in all", () => {
  const model = buildLenet5_1998();
  const byName = Object.fromEntries(
    summarizeModel(model).map((r) => [r.name, r]),
  );
  assert.equal(byName.C1.params, 156);
  assert.equal(byName.S2.params, 12);
  assert.equal(byName.C3.params, 1516);
  assert.equal(byName.S4.params, 32);
  assert.equal(byName.C5.params, 48120);
  assert.equal(byName.F6.params, 10164);
  assert.equal(byName.RBF.params, 840);
  assert.equal(byName.RBF.trainableParams, 0);
  assert.deepEqual(byName.C5.outputShape, [null, 1, 1, 120]);
  assert.deepEqual(countParams(model), {
    total: 60840,
    trainable: 60000,
    nonTrainable: 840,
  });
  assert.equal(LENET5_C3_TABLE.flat().length, 60);
  const full = buildLenet5_1998({ fullC3: true, trainablePrototypes: true });
  assert.equal(full.getLayer("C3").countParams(), 2416);
  assert.equal(countParams(full).trainable, 60000 + 900 + 840);
  model.dispose();
  full.dispose();
});

// --- shapes ------------------------------------------------------------------

Deno.test("traceLayerShapes reproduces seed 000's layer-by-layer shapes, without leaks", () => {
  const model = buildLenet();
  const before = tf.memory().numTensors;
  const rows = traceLayerShapes(model);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(rows.map((r) => r.outputShape), [
    [1, 24, 24, 6],
    [1, 12, 12, 6],
    [1, 8, 8, 16],
    [1, 4, 4, 16],
    [1, 256],
    [1, 120],
    [1, 84],
    [1, 10],
  ]);
  const mobile = traceLayerShapes(buildModel("mobilenet"), { batchSize: 2 });
  assert.deepEqual(mobile.at(-1)!.outputShape, [2, 10]);
  assert.deepEqual(mobile.find((r) => r.name === "conv1")!.outputShape, [
    2,
    16,
    16,
    32,
  ]);
  model.dispose();
});

// --- custom layers -----------------------------------------------------------

Deno.test("SimpleConv2D matches tf.conv2d + bias + relu and respects strides", () => {
  const layer = new SimpleConv2D({
    filters: 4,
    kernelSize: [3, 2],
    strides: 2,
    seed: 1,
  });
  const x = tf.randomNormal([2, 9, 8, 3], 0, 1, "float32", 2);
  const y = layer.apply(x) as tf.Tensor;
  const [kernel, bias] = layer.getWeights();
  assert.deepEqual(kernel.shape, [3, 2, 3, 4]);
  const expected = tf.relu(
    tf.add(
      tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, 2, "valid"),
      bias,
    ),
  );
  assert.deepEqual(y.shape, [2, 4, 4, 4]);
  assert.deepEqual(layer.computeOutputShape([null, 9, 8, 3]), [null, 4, 4, 4]);
  close(y.dataSync(), expected.dataSync());
  const noBias = new SimpleConv2D({
    filters: 2,
    useBias: false,
    activation: "linear",
  });
  noBias.apply(x);
  assert.equal(noBias.countParams(), 3 * 3 * 3 * 2);
  tf.dispose([x, y, expected]);
});

Deno.test("ScaledTanh, TrainableSubsampling and EuclideanRBF compute the paper's formulas", () => {
  tf.tidy(() => {
    const f = new ScaledTanh().apply(tf.tensor1d([-1, 0, 1])) as tf.Tensor;
    close(f.dataSync(), [-1, 0, 1], 2e-3);

    const x = tf.randomUniform([1, 4, 6, 2], -1, 1, "float32", 3);
    const s = new TrainableSubsampling();
    const y = s.apply(x) as tf.Tensor;
    assert.deepEqual(y.shape, [1, 2, 3, 2]);
    // Starts as average pooling (coefficient 0.25, bias 0) ...
    close(y.dataSync(), tf.avgPool(x as tf.Tensor4D, 2, 2, "valid").dataSync());
    // ... and then is sum * coefficient + bias per map.
    s.setWeights([tf.tensor1d([1, -2]), tf.tensor1d([0.5, 0])]);
    const y2 = s.apply(x) as tf.Tensor;
    const sums = tf.mul(tf.avgPool(x as tf.Tensor4D, 2, 2, "valid"), 4);
    close(
      y2.dataSync(),
      tf.add(tf.mul(sums, tf.tensor1d([1, -2])), tf.tensor1d([0.5, 0]))
        .dataSync(),
    );

    const rbf = new EuclideanRBF({ units: 3, output: "distances" });
    const v = tf.tensor2d([[1, -1, 1, 1], [0, 0, 0, 0]]);
    const d = rbf.apply(v) as tf.Tensor;
    const codes = rbfPrototypeCodes(3, 4);
    assert.ok(codes.every((c) => c === 1 || c === -1));
    const expected: number[] = [];
    for (const row of [[1, -1, 1, 1], [0, 0, 0, 0]]) {
      for (let u = 0; u < 3; u++) {
        expected.push(
          row.reduce((acc, xj, j) => acc + (xj - codes[u * 4 + j]) ** 2, 0),
        );
      }
    }
    close(d.dataSync(), expected);
    const scores = new EuclideanRBF({ units: 3 }).apply(v) as tf.Tensor;
    close(scores.dataSync(), expected.map((e) => -e));
  });
});

Deno.test("PartialConv2D equals a conv with the table's kernels masked", () => {
  tf.tidy(() => {
    const layer = new PartialConv2D({ seed: 5 });
    const x = tf.randomNormal([1, 14, 14, 6], 0, 1, "float32", 6);
    const y = layer.apply(x) as tf.Tensor;
    assert.deepEqual(y.shape, [1, 10, 10, 16]);
    // Output map 0 reads S2 maps 0, 1, 2 only: changing map 3 leaves it alone,
    // but changes map 1 (reads 1, 2, 3).
    const bumped = tf.add(
      x,
      tf.mul(tf.oneHot(tf.fill([1, 14, 14], 3, "int32"), 6), 5),
    );
    const y2 = layer.apply(bumped) as tf.Tensor;
    const map = (t: tf.Tensor, c: number) =>
      tf.slice(t, [0, 0, 0, c], [1, 10, 10, 1]).dataSync();
    close(map(y2, 0), map(y, 0));
    assert.ok(Math.abs(map(y2, 1)[0] - map(y, 1)[0]) > 1e-3);
    // Same as a dense conv with the scattered kernel.
    const [compact, bias] = layer.getWeights();
    const k = compact.arraySync() as number[][][];
    const full = new Float32Array(5 * 5 * 6 * 16);
    let conn = 0;
    LENET5_C3_TABLE.forEach((inputs, out) => {
      for (const inp of inputs) {
        for (let i = 0; i < 5; i++) {
          for (let j = 0; j < 5; j++) {
            full[((i * 5 + j) * 6 + inp) * 16 + out] = k[i][j][conn];
          }
        }
        conn++;
      }
    });
    const dense = tf.add(
      tf.conv2d(x as tf.Tensor4D, tf.tensor4d(full, [5, 5, 6, 16]), 1, "valid"),
      bias,
    );
    close(y.dataSync(), dense.dataSync(), 1e-4);
  });
});

Deno.test("LeNet-5 1998 is trainable end to end: every trainable weight gets a gradient", () => {
  const model = buildLenet5_1998({ seed: 1 });
  const x = tf.randomUniform([2, 32, 32, 1], 0, 1, "float32", 1);
  const y = tf.oneHot(tf.tensor1d([3, 7], "int32"), 10);
  const loss = classificationLoss("scores");
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  assert.equal(vars.length, 12);
  const { value, grads } = tf.variableGrads(
    () => loss(y, model.apply(x, { training: true }) as tf.Tensor),
    vars,
  );
  assert.ok(Number.isFinite(value.dataSync()[0]));
  for (const v of vars) {
    const g = grads[v.name];
    assert.ok(g, `no gradient for ${v.name}`);
    const norm = tf.tidy(() => tf.norm(g).dataSync()[0]);
    assert.ok(
      norm > 0 && Number.isFinite(norm),
      `${v.name} gradient norm ${norm}`,
    );
  }
  tf.dispose([x, y, value, ...Object.values(grads)]);
  model.dispose();
});

Deno.test("losses: the three output kinds give the same cross-entropy", () => {
  tf.tidy(() => {
    const logits = tf.tensor2d([[2, 0.5, -1], [0, 1, 3]]);
    const labels = tf.tensor1d([0, 2], "int32");
    const oneHot = tf.oneHot(labels, 3);
    const expected =
      tf.losses.softmaxCrossEntropy(oneHot, logits).dataSync()[0];
    const probs = tf.softmax(logits);
    const got = [
      classificationLoss("scores")(oneHot, logits),
      classificationLoss("scores")(labels, logits),
      classificationLoss("probabilities")(oneHot, probs),
      classificationLoss("log-probabilities")(
        tf.reshape(labels, [2, 1]),
        tf.logSoftmax(logits),
      ),
    ].map((t) => t.dataSync()[0]);
    close(got, [expected, expected, expected, expected]);
    close(
      toProbabilities("log-probabilities", tf.logSoftmax(logits)).dataSync(),
      probs.dataSync(),
    );
    close(toProbabilities("scores", logits).dataSync(), probs.dataSync());
  });
});

// --- save / load -------------------------------------------------------------

async function roundTrip(
  model: tf.LayersModel,
  x: tf.Tensor,
): Promise<tf.LayersModel> {
  const dir = await Deno.makeTempDir({ prefix: "models_test_" });
  try {
    await saveModel(model, dir);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["model.json", "weights.bin"]);
    const loaded = await loadModel(`${dir}/model.json`);
    const [a, b] = [
      model.predict(x) as tf.Tensor,
      loaded.predict(x) as tf.Tensor,
    ];
    close(a.dataSync(), b.dataSync(), 1e-6);
    tf.dispose([a, b]);
    return loaded;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("save/load round trip: seed 001 LeNet-5 with the hand-written conv layer", async () => {
  const model = buildLenet5({ convLayer: "simple", seed: 4 });
  const x = tf.randomUniform([3, 28, 28, 1], 0, 1, "float32", 9);
  const loaded = await roundTrip(model, x);
  assert.equal(loaded.getLayer("conv1").getClassName(), "SimpleConv2D");
  assert.deepEqual(loaded.getLayer("conv1").getConfig().padding, "same");
  assert.equal(loaded.countParams(), 61706);
  tf.dispose(x);
  model.dispose();
  loaded.dispose();
});

Deno.test("save/load round trip: LeNet-5 1998 custom layers, trained weights kept", async () => {
  const model = buildLenet5_1998({ seed: 2 });
  // Move the weights away from their initial values so loading must restore them.
  model.setWeights(model.getWeights().map((w) => tf.add(w, 0.01)));
  const x = tf.randomUniform([2, 32, 32, 1], 0, 1, "float32", 3);
  const loaded = await roundTrip(model, x);
  assert.deepEqual(countParams(loaded), countParams(model));
  assert.deepEqual(
    loaded.layers.map((l) => l.getClassName()).filter((c) =>
      c !== "Conv2D" && c !== "Dense"
    ),
    [
      "ScaledTanh",
      "TrainableSubsampling",
      "ScaledTanh",
      "PartialConv2D",
      "ScaledTanh",
      "TrainableSubsampling",
      "ScaledTanh",
      "ScaledTanh",
      "Flatten",
      "ScaledTanh",
      "EuclideanRBF",
    ],
  );
  tf.dispose(x);
  model.dispose();
  loaded.dispose();
});

Deno.test("save/load round trip: MobileNet (BatchNorm statistics) and in-memory handlers", async () => {
  const model = buildMobileNet({ alpha: 0.25, seed: 1 });
  const x = tf.randomUniform([2, 32, 32, 1], 0, 1, "float32", 4);
  const loaded = await roundTrip(model, x);
  assert.equal(loaded.countParams(), model.countParams());
  // tf.io.withSaveHandler / fromMemory work too (no files at all).
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler((a) => {
    saved = a;
    return Promise.resolve({
      modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" },
    });
  }));
  const again = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  close(
    (again.predict(x) as tf.Tensor).dataSync(),
    (model.predict(x) as tf.Tensor).dataSync(),
    1e-6,
  );
  tf.dispose(x);
  for (const m of [model, loaded, again]) m.dispose();
});

Deno.test("file:// URLs work once registerFileRouter() is called; optimizer state saved", async () => {
  registerFileRouter();
  const dir = await Deno.makeTempDir({ prefix: "models_test_" });
  try {
    const model = buildModel("lenet5-32", { seed: 3 });
    model.compile({
      optimizer: tf.train.adam(0.001),
      loss: classificationLoss("log-probabilities"),
    });
    const x = tf.randomUniform([4, 32, 32, 1], 0, 1, "float32", 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), 10);
    await model.fit(x, y, { epochs: 1, verbose: 0 });
    await model.save(`file://${dir}`, { includeOptimizer: true });
    const json = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
    assert.ok(json.trainingConfig, "training config saved");
    assert.ok(
      json.weightsManifest[0].weights.some((w: { group?: string }) =>
        w.group === "optimizer"
      ),
      "optimizer weights saved",
    );
    const loaded = await tf.loadLayersModel(`file://${dir}/model.json`);
    close(
      (loaded.predict(x) as tf.Tensor).dataSync(),
      (model.predict(x) as tf.Tensor).dataSync(),
      1e-6,
    );
    tf.dispose([x, y]);
    model.dispose();
    loaded.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loading errors say what is missing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "models_test_" });
  try {
    await assert.rejects(
      loadModel(`${dir}/nothing`),
      /no saved model at .*nothing.*saveModel/,
    );
    await Deno.writeTextFile(`${dir}/model.json`, "{ not json");
    await assert.rejects(loadModel(dir), /not valid JSON/);
    await saveModel(buildLenet(), `${dir}/ok`);
    await Deno.remove(`${dir}/ok/weights.bin`);
    await assert.rejects(
      loadModel(`${dir}/ok`),
      /weights file .*weights\.bin.*missing/,
    );
    // The hand-written handler does not leave temporary files behind.
    await saveModel(buildLenet(), `${dir}/ok`);
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/ok`)].map((e) => e.name).sort(),
      [
        "model.json",
        "weights.bin",
      ],
    );
    assert.ok(fileSystemHandler(`file://${dir}/ok`).load);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- errors --------------------------------------------------------------------

Deno.test("clear errors: inputs too small, bad options, unknown names, wrong shapes", () => {
  assert.throws(
    () => buildMobileNet({ inputShape: [28, 28, 1] }),
    /mobilenet: input 28x28 is too small.*at least 32.*resize: 32/,
  );
  assert.throws(
    () => buildModel("mobilenet", { inputShape: [32, 16, 1] }),
    /at least 32/,
  );
  assert.throws(
    () => buildMobileNet({ alpha: 0 }),
    /alpha must be a positive number/,
  );
  assert.throws(() => buildMobileNet({ alpha: 0.01 }), /no filters/);
  assert.throws(
    () => buildLenet({ inputShape: [12, 12, 1] }),
    /lenet: input 12x12 is too small/,
  );
  assert.throws(
    () =>
      buildLenet5({
        inputShape: [28, 28] as unknown as [number, number, number],
      }),
    /\[height, width, channels\]/,
  );
  assert.throws(
    () => buildLenet5({ numClasses: 0 }),
    /numClasses must be an integer >= 1/,
  );
  assert.throws(
    () => buildLenet5({ convLayer: "fancy" as "simple" }),
    /convLayer must be/,
  );
  assert.throws(
    () => buildModel("resnet" as "lenet"),
    /Unknown model "resnet"\. Known models: lenet/,
  );
  assert.throws(
    () => buildFashionLenet({ padding: "full" as "same" }),
    /padding must be/,
  );
  assert.throws(
    () => new SimpleConv2D({ kernelSize: 0 }),
    /kernelSize must be/,
  );
  assert.throws(
    () => new PartialConv2D({ connections: [[0, 0]] }),
    /distinct input map/,
  );
  assert.equal(isModelName("lenet5-1998"), true);
  assert.equal(isModelName("lenet6"), false);

  const model = buildModel("lenet5-32");
  assertInputShape(model, [8, 32, 32, 1]);
  assertInputShape(model, [32, 32, 1]);
  assert.throws(
    () => assertInputShape(model, [8, 28, 28, 1]),
    /lenet5-32 expects images of 32x32x1 but got 28x28x1.*resize: 32/,
  );
  assert.throws(
    () => assertInputShape(model, [8, 32, 32, 3]),
    /Convert the images to 1 channel/,
  );
  // tfjs itself also refuses a wrong shape at predict time.
  const bad = tf.zeros([1, 28, 28, 1]);
  assert.throws(() => model.predict(bad), /expected .* shape \[null,32,32,1\]/);
  assert.throws(
    () => new PartialConv2D().apply(tf.zeros([1, 14, 14, 3])),
    /only 3 channels/,
  );
  tf.dispose(bad);
  model.dispose();
});

Deno.test("seeded builds are identical; no tensors leak from building and disposing", () => {
  const a = buildModel("lenet5", { seed: 42 });
  const b = buildModel("lenet5", { seed: 42 });
  const c = buildModel("lenet5", { seed: 43 });
  const [wa, wb, wc] = [a, b, c].map((m) => m.getWeights()[0].dataSync());
  close(wa, wb, 0);
  assert.notDeepEqual(Array.from(wa), Array.from(wc));
  for (const m of [a, b, c]) m.dispose();
  const before = tf.memory().numTensors;
  for (const name of ["lenet", "lenet5-1998", "cifar-cnn"] as const) {
    const m = buildModel(name);
    tf.tidy(() => {
      m.predict(tf.zeros([1, ...MODELS[name].inputShape]));
    });
    m.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("registry: input requirements per model, and buildModelFor builds for a shape", () => {
  assert.deepEqual(
    [MODELS["lenet5-32"].input.side, MODELS.mobilenet.input.side],
    [32, 32],
  );
  const classic = MODELS["lenet5-1998"].input;
  assert.deepEqual(
    [classic.side, classic.resizeMethod, classic.channels, classic.flexible],
    [32, "pad", 1, false],
  );
  for (const name of MODEL_NAMES) {
    const input = MODELS[name].input;
    assert.ok(input.minSide <= MODELS[name].inputShape[0], name);
    if (input.side !== null) assert.ok(input.why.length > 0, name);
  }
  const cifarOnMnist = buildModelFor("cifar-cnn", {
    inputShape: [28, 28, 1],
    numClasses: 4,
    seed: 1,
  });
  assert.deepEqual(cifarOnMnist.inputs[0].shape, [null, 28, 28, 1]);
  assert.deepEqual(cifarOnMnist.outputs[0].shape, [null, 4]);
  cifarOnMnist.dispose();
  // A fixed-input model ignores the shape it cannot take.
  const classicModel = buildModelFor("lenet5-1998", {
    inputShape: [28, 28, 1],
    numClasses: 10,
  });
  assert.deepEqual(classicModel.inputs[0].shape, [null, 32, 32, 1]);
  classicModel.dispose();
  assert.throws(() => modelInfo("resnet" as "lenet"), /Unknown model "resnet"/);
});
