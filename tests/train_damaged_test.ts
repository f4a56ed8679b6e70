/**
 * Damaged checkpoints are refused on resume with an error naming the file:
 * changed bytes (the manifest's SHA-256), NaN, infinite or absurd weights,
 * a truncated `weights.json`; half-written folders of a killed run are
 * removed by the next run; the tfjs version and the optimizer-state reader
 * fail loudly instead of guessing.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import {
  getOptimizerState,
  loadCheckpoint,
  saveCheckpoint,
  trainLoop,
} from "../lib/train/mod.ts";
import {
  checkTfjsVersion,
  TFJS_PINNED_VERSION,
} from "../lib/train/optimizer.ts";
import { disposeData, tinyData, tinyModel } from "./train_fixtures.ts";

/** Saves a checkpoint of a tiny model whose first weight holds `value`. */
async function savedWith(value?: number): Promise<string> {
  const dir = await Deno.makeTempDir();
  const model = tinyModel();
  if (value !== undefined) {
    const [kernel, ...rest] = model.getWeights();
    const values = kernel.dataSync().slice();
    values[3] = value;
    const poisoned = tf.tensor(values, kernel.shape);
    model.setWeights([poisoned, ...rest]);
    poisoned.dispose();
  }
  const path = await saveCheckpoint(dir, model, {
    epoch: 1,
    optimizer: tf.train.adam(1e-3),
  });
  model.dispose();
  return path;
}

async function load(path: string): Promise<unknown> {
  const model = tinyModel();
  try {
    return await loadCheckpoint(path, model, {
      optimizer: tf.train.adam(1e-3),
    });
  } finally {
    model.dispose();
  }
}

Deno.test("checkpoint manifest: every file's size and sha256", async () => {
  const path = await savedWith();
  const manifest = JSON.parse(await Deno.readTextFile(`${path}/manifest.json`));
  assert.deepEqual(Object.keys(manifest.files).sort(), [
    "optimizer.bin",
    "optimizer.json",
    "state.json",
    "weights.bin",
    "weights.json",
  ]);
  for (const entry of Object.values(manifest.files)) {
    assert.match((entry as { sha256: string }).sha256, /^[0-9a-f]{64}$/);
  }
  await load(path); // intact: accepted
});

Deno.test("resume refuses a checkpoint file whose bytes changed, naming it", async () => {
  const path = await savedWith();
  const bin = await Deno.readFile(`${path}/weights.bin`);
  bin[5] ^= 0x40;
  await Deno.writeFile(`${path}/weights.bin`, bin);
  await assert.rejects(
    () => load(path),
    (e: Error) =>
      e.message.includes(`${path}/weights.bin changed since it was written`),
  );
});

for (
  const [what, value, message] of [
    ["NaN", NaN, /holds NaN in .*not finite/],
    ["infinite", Infinity, /holds Infinity in .*not finite/],
    ["absurd", 1e9, /holds 1000000000 in .*beyond \+-1000000/],
  ] as const
) {
  Deno.test(`resume refuses ${what} weights, naming weights.bin`, async () => {
    const path = await savedWith(value);
    await assert.rejects(() => load(path), (e: Error) => {
      assert.match(e.message, message);
      assert.ok(e.message.includes(`${path}/weights.bin`), e.message);
      return true;
    });
  });
}

Deno.test("a truncated weights.json names its path (with or without a manifest)", async () => {
  const path = await savedWith();
  const text = await Deno.readTextFile(`${path}/weights.json`);
  await Deno.writeTextFile(`${path}/weights.json`, text.slice(0, 40));
  await assert.rejects(
    () => load(path),
    (e: Error) => e.message.includes(`${path}/weights.json`),
  );
  // Without a manifest, loaded only when asked to: the JSON error itself
  // names the file.
  await Deno.remove(`${path}/manifest.json`);
  const model = tinyModel();
  await assert.rejects(
    () => loadCheckpoint(path, model, { allowUnverified: true }),
    (e: Error) =>
      e.message.includes(`${path}/weights.json is damaged: truncated`),
  );
  model.dispose();
});

Deno.test("a run removes the half-written checkpoint folders a killed run left", async () => {
  const dir = await Deno.makeTempDir();
  // An older version's untagged folder, and a leftover old copy next to
  // the epoch that replaced it.
  await Deno.mkdir(`${dir}/.tmp-epoch-0002-abcd1234`);
  await Deno.writeTextFile(`${dir}/.tmp-epoch-0002-abcd1234/weights.bin`, "x");
  await Deno.mkdir(`${dir}/epoch-0001`);
  await Deno.mkdir(`${dir}/epoch-0001.old-1234abcd`);
  const data = tinyData(32);
  const model = tinyModel();
  await trainLoop(model, data, {
    optimizer: tf.train.sgd(0.1),
    epochs: 1,
    batchSize: 16,
    checkpointDir: dir,
    progress: "none",
  });
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(names, ["epoch-0001"]);
  model.dispose();
  disposeData(data);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("getOptimizerState rethrows errors it does not expect", async () => {
  const optimizer = tf.train.adam(1e-3);
  (optimizer as unknown as { getWeights: () => Promise<never> }).getWeights =
    () => Promise.reject(new Error("disk on fire"));
  await assert.rejects(() => getOptimizerState(optimizer), /disk on fire/);
  // Adamax's "not implemented" is expected: its arrays are read directly.
  const state = await getOptimizerState(tf.train.adamax(1e-3));
  assert.equal(state[0].name, "iter");
});

Deno.test("another tfjs version than the pinned one fails loudly", () => {
  assert.equal(TFJS_PINNED_VERSION, tf.version_core);
  checkTfjsVersion();
  assert.throws(
    () => checkTfjsVersion("4.23.0"),
    /reads private fields of tfjs-core 4\.22\.0, but tfjs-core 4\.23\.0 is installed/,
  );
});
