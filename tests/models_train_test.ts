/**
 * Every model learns (or, for the big ones, starts learning) a small
 * synthetic task on the default backend. Kept tiny so it stays fast on the
 * pure-JS cpu backend; much faster on wasm.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  buildModel,
  classificationLoss,
  type ModelName,
  MODELS,
} from "../lib/models/mod.ts";

await initBackend();

/** Seeded uniform noise in [0, 1). */
function _rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Two classes of images: a bright band in the top half (class 0) or the
 * bottom half (class 1), at a random height, on a noisy background.
 */
function bands(
  count: number,
  [h, w, c]: [number, number, number],
  seed: number,
): { xs: tf.Tensor4D; ys: tf.Tensor2D; labels: number[] } {
  const rand = _rng(seed);
  const data = new Float32Array(count * h * w * c);
  const labels: number[] = [];
  for (let n = 0; n < count; n++) {
    const label = n % 2;
    labels.push(label);
    const half = Math.floor(h / 2);
    const bandH = Math.max(2, Math.floor(h / 5));
    const top = label === 0
      ? Math.floor(rand() * (half - bandH))
      : half + Math.floor(rand() * (h - half - bandH));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < c; k++) {
          const inBand = y >= top && y < top + bandH;
          // Centred around 0: sigmoid nets leave their plateau much sooner.
          const v = (inBand ? 0.8 : 0.1) + 0.2 * rand();
          data[((n * h + y) * w + x) * c + k] = (v - 0.5) * 2;
        }
      }
    }
  }
  return tf.tidy(() => ({
    xs: tf.tensor4d(data, [count, h, w, c]),
    ys: tf.oneHot(tf.tensor1d(labels, "int32"), 2) as tf.Tensor2D,
    labels,
  }));
}

function accuracy(
  model: tf.LayersModel,
  xs: tf.Tensor4D,
  labels: number[],
): number {
  const predicted = tf.tidy(() =>
    tf.argMax(model.predict(xs) as tf.Tensor, -1).arraySync() as number[]
  );
  return predicted.filter((p, i) => p === labels[i]).length / labels.length;
}

interface LearnCase {
  name: ModelName;
  learningRate: number;
  epochs: number;
  /** Training samples. Default: 32. */
  samples?: number;
  options?: Record<string, unknown>;
}

// Small models: fit a few epochs, then >90% accuracy on fresh samples.
const LEARNERS: LearnCase[] = [
  // All-sigmoid nets start slowly (small gradients through 4-5 sigmoids).
  { name: "lenet", learningRate: 0.01, epochs: 20, samples: 64 },
  { name: "kannada-cnn", learningRate: 0.001, epochs: 5 },
  { name: "lenet5", learningRate: 0.01, epochs: 4 },
  {
    name: "lenet5",
    learningRate: 0.01,
    epochs: 4,
    options: { convLayer: "simple" },
  },
  { name: "lenet5-32", learningRate: 0.01, epochs: 4 },
  { name: "fashion-lenet-small", learningRate: 0.003, epochs: 15, samples: 64 },
  {
    name: "fashion-lenet-small",
    learningRate: 0.003,
    epochs: 15,
    samples: 64,
    options: { padding: "same" },
  },
  { name: "lenet5-1998", learningRate: 0.01, epochs: 4 },
];

for (const c of LEARNERS) {
  const label = c.options ? `${c.name} ${JSON.stringify(c.options)}` : c.name;
  Deno.test(`${label} learns a 2-class band task`, async () => {
    const info = MODELS[c.name];
    const model = buildModel(c.name, { numClasses: 2, seed: 7, ...c.options });
    const train = bands(c.samples ?? 32, info.inputShape, 1);
    const test = bands(16, info.inputShape, 2);
    const before = tf.memory().numTensors;
    model.compile({
      optimizer: tf.train.adam(c.learningRate),
      loss: classificationLoss(info.outputKind),
    });
    await model.fit(train.xs, train.ys, {
      epochs: c.epochs,
      batchSize: 8,
      shuffle: false,
      verbose: 0,
    });
    const acc = accuracy(model, test.xs, test.labels);
    assert.ok(
      acc > 0.9,
      `${label}: test accuracy ${acc} after ${c.epochs} epochs`,
    );
    // Optimizer slots are created once; nothing else may accumulate per epoch.
    const afterFit = tf.memory().numTensors;
    await model.fit(train.xs, train.ys, {
      epochs: 1,
      batchSize: 8,
      verbose: 0,
    });
    assert.equal(
      tf.memory().numTensors,
      afterFit,
      "tensors leaked by an epoch",
    );
    assert.ok(afterFit >= before);
    tf.dispose([train.xs, train.ys, test.xs, test.ys]);
    model.optimizer.dispose();
    model.dispose();
  });
}

// Big models (and the 512-unit all-sigmoid one, which needs hundreds of steps
// to leave its plateau): a few optimizer steps on one tiny batch reduce its
// loss.
const STEPPERS: { name: ModelName; training: boolean; learningRate: number }[] =
  [
    // BatchNorm: compare losses in training mode (batch statistics).
    { name: "mobilenet", training: true, learningRate: 0.01 },
    // Dropout: compare losses in inference mode (no random masks).
    { name: "cifar-cnn", training: false, learningRate: 0.01 },
    { name: "fashion-lenet-large", training: false, learningRate: 0.01 },
  ];

for (const c of STEPPERS) {
  Deno.test(`${c.name}: training steps reduce the loss on a tiny batch`, () => {
    const info = MODELS[c.name];
    const model = buildModel(c.name, { numClasses: 2, seed: 3 });
    const batch = bands(4, info.inputShape, 5);
    const lossFn = classificationLoss(info.outputKind);
    // Plain gradient descent: a small enough step must lower the loss.
    const optimizer = tf.train.sgd(c.learningRate);
    const loss = () =>
      lossFn(
        batch.ys,
        model.apply(batch.xs, { training: c.training }) as tf.Tensor,
      );
    const lossBefore = tf.tidy(() => loss().dataSync()[0]);
    const start = tf.memory().numTensors;
    for (let step = 0; step < 3; step++) {
      optimizer.minimize(
        () =>
          lossFn(
            batch.ys,
            model.apply(batch.xs, { training: c.training }) as tf.Tensor,
          ),
        false,
        model.trainableWeights.map((w) => w.read() as tf.Variable),
      );
      if (step === 0) assert.ok(tf.memory().numTensors >= start);
    }
    const lossAfter = tf.tidy(() => loss().dataSync()[0]);
    assert.ok(Number.isFinite(lossAfter), `${c.name}: loss is ${lossAfter}`);
    assert.ok(
      lossAfter < lossBefore,
      `${c.name}: loss ${lossBefore} -> ${lossAfter} did not decrease`,
    );
    tf.dispose([batch.xs, batch.ys]);
    optimizer.dispose();
    model.dispose();
  });
}
