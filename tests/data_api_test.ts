import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  batchCount,
  batches,
  labelCounts,
  seededRandom,
  shuffledIndices,
  shuffleSplit,
  splitValidation,
  subsetSplit,
  takeIndices,
  toTensors,
} from "../lib/data/mod.ts";
import { syntheticSplit } from "./data_fixtures.ts";

await initBackend({ backend: "cpu" });

function close(actual: ArrayLike<number>, expected: number[], eps = 1e-5) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= eps,
      `index ${i}: ${actual[i]} != ${expected[i]}`,
    );
  }
}

Deno.test("toTensors: normalisation presets and int32 labels", () => {
  const split = syntheticSplit(3, [2, 2, 1], (i) => [0, 51, 255][i]);
  const before = tf.memory().numTensors;
  const cases: [Parameters<typeof toTensors>[1], number[]][] = [
    [{ normalize: "none" }, [0, 51, 255]],
    [{}, [0, 0.2, 1]],
    [{ normalize: "unit" }, [0, 0.2, 1]],
    [{ normalize: "centered" }, [-0.5, -0.3, 0.5]],
    [{ normalize: { mean: 0.1307, std: 0.3081 } }, [
      -0.1307 / 0.3081,
      (0.2 - 0.1307) / 0.3081,
      (1 - 0.1307) / 0.3081,
    ]],
  ];
  for (const [options, perImage] of cases) {
    const { xs, ys } = toTensors(split, options);
    assert.deepEqual(xs.shape, [3, 2, 2, 1]);
    assert.equal(xs.dtype, "float32");
    close(xs.dataSync(), perImage.flatMap((v) => [v, v, v, v]));
    assert.equal(ys.dtype, "int32");
    assert.deepEqual([...ys.dataSync()], [0, 1, 2]);
    tf.dispose([xs, ys]);
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("toTensors: per-channel mean/std for RGB images", () => {
  const split = syntheticSplit(1, [1, 2, 3], (_, p) => [0, 255, 51][p % 3]);
  const { xs, ys } = toTensors(split, {
    normalize: { mean: [0, 0.5, 0.2], std: [1, 0.5, 0.1] },
  });
  close(xs.dataSync(), [0, 1, 0, 0, 1, 0]);
  tf.dispose([xs, ys]);
  assert.throws(
    () => toTensors(split, { normalize: { mean: [0, 0], std: 1 } }),
    /normalize.mean has 2 values for 3 channels/,
  );
  assert.throws(
    () => toTensors(split, { normalize: { mean: 0, std: 0 } }),
    /std must be > 0/,
  );
  assert.throws(
    () => toTensors(split, { normalize: "bogus" as "unit" }),
    /Unknown normalisation "bogus"/,
  );
});

Deno.test("toTensors: one-hot labels", () => {
  const split = syntheticSplit(3);
  const { xs, ys } = toTensors(split, { oneHot: true });
  assert.deepEqual(ys.shape, [3, 10]);
  assert.equal(ys.dtype, "float32");
  const rows = ys.arraySync() as number[][];
  rows.forEach((row, i) => {
    assert.equal(row.reduce((a, b) => a + b), 1);
    assert.equal(row[i], 1);
  });
  tf.dispose([xs, ys]);
});

Deno.test("toTensors: resize 28->32 bilinear keeps constants, pad fills background", () => {
  const split = syntheticSplit(2, [28, 28, 1], (i) => (i === 0 ? 255 : 0));
  const before = tf.memory().numTensors;
  const bilinear = toTensors(split, { resize: 32 });
  assert.deepEqual(bilinear.xs.shape, [2, 32, 32, 1]);
  const values = bilinear.xs.dataSync();
  close(values.subarray(0, 1024), new Array(1024).fill(1));
  close(values.subarray(1024), new Array(1024).fill(0));
  tf.dispose([bilinear.xs, bilinear.ys]);

  const padded = toTensors(split, {
    resize: 32,
    resizeMethod: "pad",
    normalize: { mean: 0.5, std: 0.5 },
  });
  const image = (padded.xs.arraySync() as number[][][][])[0];
  // Background: the normalised 0 pixel; the 28x28 image sits at (2, 2).
  const at = (y: number, x: number) => image[y][x][0];
  close([at(0, 0), at(1, 31), at(2, 2), at(29, 29), at(30, 29)], [
    -1,
    -1,
    1,
    1,
    -1,
  ]);
  tf.dispose([padded.xs, padded.ys]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(
    () => toTensors(split, { resize: 20, resizeMethod: "pad" }),
    /only enlarges/,
  );
});

Deno.test("toTensors: bilinear resize interpolates between pixels", () => {
  // A 2x2 image [[0, 255], [0, 255]] resized to 4x4 with half-pixel centres.
  const split = syntheticSplit(1, [2, 2, 1], (_, p) => (p % 2) * 255);
  const { xs, ys } = toTensors(split, { resize: 4 });
  const row = (xs.arraySync() as number[][][][])[0][0].map((v) => v[0]);
  close(row, [0, 0.25, 0.75, 1]);
  tf.dispose([xs, ys]);
});

Deno.test("batches: cover every image once, seeded order, no leaks", () => {
  const split = syntheticSplit(10, [2, 2, 1], (i) => i);
  assert.equal(batchCount(split, { batchSize: 4 }), 3);
  assert.equal(batchCount(split, { batchSize: 4, dropRemainder: true }), 2);
  const before = tf.memory().numTensors;
  const collect = (seed: number | undefined) => {
    const seen: number[] = [];
    const sizes: number[] = [];
    for (
      const { xs, ys } of batches(split, {
        batchSize: 4,
        shuffle: seed !== undefined,
        seed,
        normalize: "none",
      })
    ) {
      const pixels = xs.dataSync();
      const labels = ys.dataSync();
      sizes.push(xs.shape[0]);
      for (let i = 0; i < xs.shape[0]; i++) {
        seen.push(pixels[i * 4]);
        assert.equal(labels[i], pixels[i * 4] % 10); // Labels follow their images.
      }
      tf.dispose([xs, ys]);
    }
    return { seen, sizes };
  };
  const plain = collect(undefined);
  assert.deepEqual(plain.seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(plain.sizes, [4, 4, 2]);
  const a = collect(1);
  const b = collect(1);
  const c = collect(2);
  assert.deepEqual(a.seen, b.seen);
  assert.notDeepEqual(a.seen, c.seen);
  assert.notDeepEqual(a.seen, plain.seen);
  assert.deepEqual([...a.seen].sort((x, y) => x - y), plain.seen);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => batches(split, { batchSize: 0 }).next(), /batchSize/);
});

Deno.test("split helpers: subsets are views, takeIndices copies, counts", () => {
  const split = syntheticSplit(20);
  const part = subsetSplit(split, 5, 15);
  assert.equal(part.count, 10);
  assert.equal(part.images.buffer, split.images.buffer);
  assert.equal(part.labels[0], 5);
  assert.equal(part.split, "train[5:15]");
  assert.equal(subsetSplit(split, -4).count, 4);
  assert.equal(subsetSplit(split, 18, 100).count, 2);
  assert.equal(subsetSplit(split, 12, 3).count, 0);
  const picked = takeIndices(split, [3, 1]);
  assert.deepEqual([...picked.labels], [3, 1]);
  assert.equal(picked.images[0], 3);
  assert.notEqual(picked.images.buffer, split.images.buffer);
  assert.throws(() => takeIndices(split, [20]), /outside the split/);
  assert.deepEqual(labelCounts(split), [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
});

Deno.test("split helpers: seeded shuffles and validation splits", () => {
  assert.deepEqual(shuffledIndices(50, 3), shuffledIndices(50, 3));
  assert.notDeepEqual(shuffledIndices(50, 3), shuffledIndices(50, 4));
  const r = seededRandom(123);
  const values = Array.from({ length: 1000 }, r);
  assert.ok(values.every((v) => v >= 0 && v < 1));
  assert.ok(Math.abs(values.reduce((a, b) => a + b) / 1000 - 0.5) < 0.05);

  const split = syntheticSplit(100, [1, 1, 1], (i) => i);
  const shuffled = shuffleSplit(split, { seed: 9 });
  assert.deepEqual([...shuffled.images].sort((a, b) => a - b), [
    ...split.images,
  ]);
  for (let i = 0; i < 100; i++) {
    assert.equal(shuffled.labels[i], shuffled.images[i] % 10);
  }

  const tail = splitValidation(split, { fraction: 0.2, shuffle: false });
  assert.equal(tail.train.count, 80);
  assert.deepEqual([...tail.validation.images], [...split.images.subarray(80)]);

  const a = splitValidation(split, { count: 25, seed: 1 });
  const b = splitValidation(split, { count: 25, seed: 1 });
  assert.equal(a.train.count, 75);
  assert.equal(a.validation.count, 25);
  assert.deepEqual(a.validation.images, b.validation.images);
  const all = [...a.train.images, ...a.validation.images].sort((x, y) => x - y);
  assert.deepEqual(all, [...split.images]); // Disjoint and complete.
  assert.notDeepEqual([...a.validation.images], [...tail.validation.images]);
  assert.throws(
    () => splitValidation(split, { count: 101 }),
    /cannot hold out/,
  );
});
