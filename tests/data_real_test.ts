/**
 * Checks against the real dataset files of the shared mirror (env
 * CNN_DATA_MIRROR, else ../shared/datasets next to the repository): checksums,
 * counts and label histograms. Skipped when no mirror is present.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import {
  DATASETS,
  DataUnavailableError,
  fetchFile,
  labelCounts,
  loadSplit,
  type LoadSplitOptions,
  parseNpz,
  toTensors,
} from "../lib/data/mod.ts";

function findMirror(): string | undefined {
  const candidates = [
    Deno.env.get("CNN_DATA_MIRROR"),
    fileURLToPath(new URL("../../shared/datasets", import.meta.url)),
  ];
  for (const dir of candidates) {
    if (!dir) continue;
    try {
      if (Deno.statSync(join(dir, "SHA256SUMS")).isFile) return dir;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

const mirror = findMirror();
const ignore = mirror === undefined;
const dataDir = ignore ? "" : await Deno.makeTempDir({ prefix: "cnn-data-" });
// Offline: the mirror is the only source, so missing files fail fast.
const options: LoadSplitOptions = {
  dataDir,
  mirror,
  offline: true,
  progress: false,
};
const EVEN = (n: number) => new Array(10).fill(n);

if (!ignore) await initBackend({ backend: "cpu" });

// Cleanup runs as the last test of the file.
const tests: [string, () => Promise<void>][] = [
  [
    "every official file in the mirror verifies against the registry",
    async () => {
      const sums = await Deno.readTextFile(join(mirror!, "SHA256SUMS"));
      let checked = 0;
      for (const info of Object.values(DATASETS)) {
        for (const file of info.files) {
          const line = sums.split("\n").find((l) =>
            l.endsWith(` ${file.dataset}/${file.name}`)
          );
          if (!line) continue; // The mirror lacks it (Kannada train images, CIFAR-10).
          const [sha, size] = line.split(/\s+/);
          assert.equal(sha, file.sha256, `${file.name}: registry sha256`);
          assert.equal(Number(size), file.size, `${file.name}: registry size`);
          const result = await fetchFile(file, options);
          assert.equal(result.source, "mirror");
          checked++;
        }
      }
      // Every official file the mirror lists is in the registry and verified.
      const official = sums.split("\n").filter((l) =>
        l.trim() && !l.includes("cifar10-subset/")
      );
      assert.equal(checked, official.length);
      assert.ok(checked >= 18, `only ${checked} files checked`);
    },
  ],
  ["MNIST: 60,000/10,000 images and the known label histograms", async () => {
    const test = await loadSplit("mnist", "test", options);
    assert.equal(test.count, 10000);
    assert.deepEqual(labelCounts(test), [
      980,
      1135,
      1032,
      1010,
      982,
      892,
      958,
      1028,
      974,
      1009,
    ]);
    const train = await loadSplit("mnist", "train", options);
    assert.equal(train.count, 60000);
    assert.equal(train.images.length, 60000 * 28 * 28);
    assert.deepEqual(labelCounts(train), [
      5923,
      6742,
      5958,
      6131,
      5842,
      5421,
      5918,
      6265,
      5851,
      5949,
    ]);
    // The mean pixel that gives torchvision's 0.1307 normalisation constant.
    let sum = 0;
    for (const v of train.images) sum += v;
    assert.ok(Math.abs(sum / train.images.length / 255 - 0.1307) < 1e-4);
  }],
  [
    "MNIST: limit reads a prefix; tensors of real data normalise as expected",
    async () => {
      const full = await loadSplit("mnist", "test", options);
      const small = await loadSplit("mnist", "test", {
        ...options,
        limit: 500,
      });
      assert.equal(small.count, 500);
      assert.deepEqual(small.labels, full.labels.subarray(0, 500));
      assert.deepEqual(small.images, full.images.subarray(0, 500 * 784));
      const before = tf.memory().numTensors;
      const { xs, ys } = toTensors(small, {
        normalize: { mean: 0.1307, std: 0.3081 },
        resize: 32,
      });
      assert.deepEqual(xs.shape, [500, 32, 32, 1]);
      const meanTensor = tf.mean(xs);
      const mean = meanTensor.dataSync()[0];
      meanTensor.dispose();
      assert.ok(Math.abs(mean) < 0.2, `normalised mean ${mean}`);
      tf.dispose([xs, ys]);
      assert.equal(tf.memory().numTensors, before);
    },
  ],
  ["Fashion-MNIST: balanced 6,000/1,000 per class", async () => {
    const train = await loadSplit("fashion-mnist", "train", options);
    assert.equal(train.count, 60000);
    assert.deepEqual(labelCounts(train), EVEN(6000));
    const test = await loadSplit("fashion-mnist", "test", options);
    assert.deepEqual(labelCounts(test), EVEN(1000));
    assert.equal(test.classNames[9], "Ankle boot");
  }],
  ["Kannada-MNIST: test and Dig-MNIST from NPZ and IDX agree", async () => {
    const test = await loadSplit("kannada-mnist", "test", options);
    assert.equal(test.count, 10000);
    assert.deepEqual(labelCounts(test), EVEN(1000));
    const dig = await loadSplit("kannada-mnist", "dig", options);
    assert.equal(dig.count, 10240);
    assert.deepEqual(labelCounts(dig), EVEN(1024));
    const digIdx = await loadSplit("kannada-mnist", "dig", {
      ...options,
      format: "idx",
    });
    assert.deepEqual(digIdx.labels, dig.labels);
    assert.deepEqual(digIdx.images, dig.images);
    const testIdx = await loadSplit("kannada-mnist", "test", {
      ...options,
      format: "idx",
      limit: 1000,
    });
    assert.deepEqual(testIdx.images, test.images.subarray(0, 1000 * 784));
  }],
  [
    "Kannada-MNIST: training labels are there, missing images are a typed error",
    async () => {
      const file = DATASETS["kannada-mnist"].files.find((f) =>
        f.name === "y_kannada_MNIST_train.npz"
      )!;
      const { path } = await fetchFile(file, options);
      const labels = (await parseNpz(await Deno.readFile(path))).get("arr_0")!;
      assert.deepEqual(labels.shape, [60000]);
      const counts = new Array(10).fill(0);
      for (const v of labels.data) counts[Number(v)]++;
      assert.deepEqual(counts, EVEN(6000));
      const hasImages = (await Deno.readTextFile(join(mirror!, "SHA256SUMS")))
        .includes("X_kannada_MNIST_train.npz");
      if (!hasImages) {
        await assert.rejects(
          loadSplit("kannada-mnist", "train", options),
          (e: unknown) => {
            assert.ok(e instanceof DataUnavailableError);
            assert.equal(e.file, "X_kannada_MNIST_train.npz");
            assert.match(e.message, /not available offline/);
            return true;
          },
        );
      }
    },
  ],
  [
    "CIFAR-10: the loose subset stands in when the archive is missing",
    async () => {
      const hasArchive = (await Deno.readTextFile(join(mirror!, "SHA256SUMS")))
        .includes("cifar-10-binary.tar.gz");
      if (hasArchive) {
        const test = await loadSplit("cifar10", "test", options);
        assert.deepEqual(labelCounts(test), EVEN(1000));
        return;
      }
      await assert.rejects(
        loadSplit("cifar10", "test", options),
        DataUnavailableError,
      );
      const train = await loadSplit("cifar10", "train", {
        ...options,
        allowSubset: true,
      });
      assert.equal(train.count, 4000);
      assert.match(train.note!, /not the official 50000-image split/);
      const test = await loadSplit("cifar10", "test", {
        ...options,
        allowSubset: true,
      });
      assert.equal(test.count, 1000);
      assert.deepEqual([test.height, test.width, test.channels], [32, 32, 3]);
      assert.equal(
        labelCounts(test).reduce((a, b) => a + b),
        1000,
      );
      assert.ok(labelCounts(test).every((n) => n > 50));
    },
  ],
];

for (const [name, fn] of tests) {
  Deno.test({ name: `real data: ${name}`, ignore, fn });
}
Deno.test({
  name: "real data: cleanup",
  ignore,
  fn: () => Deno.remove(dataDir, { recursive: true }),
});
