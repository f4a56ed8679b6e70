/**
 * lib/models/io.ts as a careless user meets it: a `weights.bin` from another
 * model names the file and the layer, and an output folder that cannot be
 * used is refused before any training starts (`checkSaveFolder`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { checkSaveFolder, loadModel, saveModel } from "../lib/models/mod.ts";

await initBackend({ backend: "cpu", verbose: false });

function dense(units: number): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units, inputShape: [40], name: "hidden" }),
      tf.layers.dense({ units: 3, name: "out" }),
    ],
  });
}

Deno.test("loadModel: a weights.bin of another model names the file and the first layer that does not fit", async () => {
  const dir = await Deno.makeTempDir();
  const other = await Deno.makeTempDir();
  const a = dense(300);
  const b = dense(260);
  try {
    await saveModel(a, dir);
    await saveModel(b, other);
    await Deno.copyFile(join(other, "weights.bin"), join(dir, "weights.bin"));
    await assert.rejects(
      () => loadModel(dir),
      (e: Error) =>
        e.message.includes(`${dir}/weights.bin holds`) &&
        /weight 'hidden\/kernel' \(layer 'hidden', shape \[40,300\]/.test(
          e.message,
        ) && /truncated or belongs to another model/.test(e.message),
    );
    // Longer than described: says so too.
    await saveModel(b, dir);
    await Deno.copyFile(join(other, "weights.bin"), join(dir, "weights.bin"));
    await saveModel(dense(200), other);
    await Deno.copyFile(join(dir, "weights.bin"), join(other, "weights.bin"));
    await assert.rejects(
      () => loadModel(other),
      /weights\.bin holds \d+ bytes but .*model\.json describes only \d+/,
    );
  } finally {
    a.dispose();
    b.dispose();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(other, { recursive: true });
  }
});

Deno.test("checkSaveFolder: refuses an empty path, a file and an unwritable parent; accepts a new folder without creating it", async () => {
  const root = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => checkSaveFolder(""),
      /folder path to save a model into is empty/,
    );
    await Deno.writeTextFile(join(root, "afile"), "x");
    await assert.rejects(
      () => checkSaveFolder(join(root, "afile")),
      /afile is a file, not a folder/,
    );
    await assert.rejects(
      () => checkSaveFolder(join(root, "afile", "sub")),
      /afile is a file, not a folder/,
    );
    // Running as root, a read-only mode does not stop writes: /proc does.
    await assert.rejects(
      () => checkSaveFolder("/proc/cnn-model"),
      /\/proc is not writable/,
    );
    await checkSaveFolder(join(root, "new", "deeper"));
    await assert.rejects(() => Deno.stat(join(root, "new")));
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), [
      "afile",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
