/**
 * Checkpoint folders shared, killed and tampered with: one run per folder
 * (a lock naming the holder's PID; a dead holder's lock is taken over), a
 * live writer's temporary folder is left alone, a kill between the two
 * renames that replace an epoch never loses both copies, a manifest must
 * list every file and exist (unless asked), state.json must agree with its
 * folder, and a resume says what differs and changes nothing before its
 * checks pass.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as tf from "../lib/tf.ts";
import {
  latestCheckpoint,
  loadCheckpoint,
  trainLoop,
} from "../lib/train/mod.ts";
import {
  lockCheckpointDir,
  removeOrphanedCheckpoints,
} from "../lib/train/checkpoint.ts";
import { processIdentity } from "../lib/_process.ts";
import {
  disposeData,
  tinyData,
  tinyModel,
  weightValues,
} from "./train_fixtures.ts";

/** A process that runs until killed, and one that has exited. */
async function processes() {
  const live = new Deno.Command("sleep", { args: ["60"] }).spawn();
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  return { live, gone: gone.pid };
}

async function train(dir: string, epochs = 1, lr = 0.1) {
  const data = tinyData(32);
  const model = tinyModel();
  try {
    return await trainLoop(model, data, {
      optimizer: tf.train.sgd(lr),
      epochs,
      batchSize: 16,
      seed: 1,
      checkpointDir: dir,
      resume: true,
      progress: "none",
    });
  } finally {
    model.dispose();
    disposeData(data);
  }
}

Deno.test("checkpoint lock: a second run into a live run's folder refuses, naming the PID; a dead holder's lock is taken over", async () => {
  const dir = await Deno.makeTempDir();
  const { live, gone } = await processes();
  try {
    const holder = processIdentity(live.pid);
    await Deno.writeTextFile(
      `${dir}/.lock`,
      JSON.stringify({ ...holder, since: "2026-12-07T00:00:00Z" }),
    );
    await assert.rejects(
      () => train(dir),
      new RegExp(`in use by another run \\(PID ${live.pid},`),
    );
    assert.equal(await latestCheckpoint(dir), null, "nothing written");
    // The same lock held by a process that is gone: taken over.
    await Deno.writeTextFile(
      `${dir}/.lock`,
      JSON.stringify({ pid: gone, start: null, since: "x" }),
    );
    const result = await train(dir);
    assert.equal(result.epochsRun, 1);
    await assert.rejects(() => Deno.stat(`${dir}/.lock`), Deno.errors.NotFound);
    // Taken and released by the library's own lock too.
    const lock = await lockCheckpointDir(dir);
    await assert.rejects(() => train(dir), /in use by another run/);
    await lock.release();
  } finally {
    live.kill();
    await live.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a live writer's temporary checkpoint folder is kept; a dead writer's is removed at once", async () => {
  const dir = await Deno.makeTempDir();
  const { live, gone } = await processes();
  try {
    const start = processIdentity(live.pid).start ?? "0";
    const alive = `.tmp-epoch-0002-${live.pid}-${start}-0123abcd`;
    const dead = `.tmp-epoch-0002-${gone}-1-4567cdef`;
    await Deno.mkdir(`${dir}/${alive}`);
    await Deno.mkdir(`${dir}/${dead}`);
    const removed = await removeOrphanedCheckpoints(dir);
    assert.deepEqual(removed, [`${dir}/${dead}`]);
    assert.ok((await Deno.stat(`${dir}/${alive}`)).isDirectory);
  } finally {
    live.kill();
    await live.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a kill between the two renames replacing epoch-0002 keeps a complete copy, which the next run resumes from", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await train(dir, 2);
    assert.equal(first.epochsRun, 2);
    // Save epoch 2 again in a process that dies at the second rename (the
    // new copy's), after the old copy was moved aside.
    const lib = fileURLToPath(new URL("../lib/", import.meta.url));
    const script = `
      import * as tf from "${lib}tf.ts";
      import { initBackend } from "${lib}backend/mod.ts";
      import { saveCheckpoint } from "${lib}train/mod.ts";
      await initBackend({ backend: "cpu", verbose: false });
      const rename = Deno.rename;
      Deno.rename = async (from, to) => {
        if (String(from).includes(".tmp-epoch-")) Deno.exit(137);
        return await rename(from, to);
      };
      const model = tf.sequential({ layers: [
        tf.layers.dense({ units: 8, inputShape: [4], activation: "relu" }),
        tf.layers.dense({ units: 3, activation: "softmax" }),
      ] });
      await saveCheckpoint(${JSON.stringify(dir)}, model, { epoch: 2 });
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 137, new TextDecoder().decode(out.stderr));
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.ok(!names.includes("epoch-0002"), names.join(", "));
    assert.ok(names.some((n) => /^epoch-0002\.old-/.test(n)), names.join());
    // The next run finds epoch 2 again and resumes from it.
    const again = await train(dir, 3);
    assert.equal(again.initialEpoch, 2);
    assert.equal(again.epochsRun, 1);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["epoch-0001", "epoch-0002", "epoch-0003"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function savedCheckpoint(): Promise<{ dir: string; path: string }> {
  const dir = await Deno.makeTempDir();
  await train(dir, 2);
  return { dir, path: `${dir}/epoch-0002` };
}

async function rewriteManifest(path: string, keep: (name: string) => boolean) {
  const files: Record<string, { size: number; sha256: string }> = {};
  for (const entry of Deno.readDirSync(path)) {
    if (entry.name === "manifest.json" || !keep(entry.name)) continue;
    const bytes = await Deno.readFile(`${path}/${entry.name}`);
    files[entry.name] = {
      size: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    };
  }
  await Deno.writeTextFile(
    `${path}/manifest.json`,
    JSON.stringify({ format: "cnn-checkpoint/1", files }),
  );
}

async function flipWeight(path: string) {
  const bytes = await Deno.readFile(`${path}/weights.bin`);
  bytes[5] ^= 0x10;
  await Deno.writeFile(`${path}/weights.bin`, bytes);
}

Deno.test("checkpoint integrity: an empty or partial manifest, a missing one, and a state.json that disagrees with its folder are refused", async () => {
  const { dir, path } = await savedCheckpoint();
  const model = tinyModel();
  const original = weightValues(model);
  try {
    await flipWeight(path);
    await rewriteManifest(path, () => false);
    await assert.rejects(
      () => loadCheckpoint(path, model),
      /manifest\.json does not list state\.json, weights\.bin, weights\.json/,
    );
    await rewriteManifest(path, (n) => n !== "weights.bin");
    await assert.rejects(
      () => loadCheckpoint(path, model),
      /does not list weights\.bin/,
    );
    await Deno.remove(`${path}/manifest.json`);
    await assert.rejects(
      () => loadCheckpoint(path, model),
      /has no manifest\.json, so its files cannot be checked.*allowUnverified: true/,
    );
    // Asked for explicitly: loaded, with a warning that says what it is.
    const state = await loadCheckpoint(path, model, { allowUnverified: true });
    assert.equal(state.epoch, 2);
    // state.json says 99 epochs in epoch-0002 (manifest rewritten to match).
    const text = await Deno.readTextFile(`${path}/state.json`);
    await Deno.writeTextFile(
      `${path}/state.json`,
      text.replace(/"epoch": 2,/, '"epoch": 99,'),
    );
    await rewriteManifest(path, () => true);
    const other = tinyModel();
    await assert.rejects(
      () => loadCheckpoint(path, other),
      /state\.json says 99 epochs finished but the folder is epoch-0002/,
    );
    assert.deepEqual(weightValues(other), original, "model untouched");
    other.dispose();
  } finally {
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resume: says what differs (learning rate, nothing left to train); a wrong optimizer class changes no weight", async () => {
  const { dir } = await savedCheckpoint();
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(" "));
  try {
    const more = await train(dir, 3, 0.5);
    assert.equal(more.epochsRun, 1);
    assert.ok(
      more.resumeNotes.some((n) =>
        /learning rate: this run asks for 0\.5 but the checkpoint's run started at 0\.1/
          .test(n)
      ),
      more.resumeNotes.join("\n"),
    );
    assert.ok(warnings.some((w) => /^resume: learning rate: /.test(w)));
    const none = await train(dir, 2);
    assert.equal(none.epochsRun, 0);
    assert.match(
      none.stopReason ?? "",
      /nothing to train: the checkpoint already holds 3/,
    );
    assert.ok(warnings.some((w) => /^resume: nothing to train/.test(w)));
  } finally {
    console.warn = warn;
  }
  const model = tinyModel();
  const before = weightValues(model);
  await assert.rejects(
    () =>
      loadCheckpoint(`${dir}/epoch-0003`, model, {
        optimizer: tf.train.adam(0.1),
      }),
    /holds SGD state but the optimizer is Adam/,
  );
  assert.deepEqual(weightValues(model), before, "weights untouched");
  model.dispose();
  await Deno.remove(dir, { recursive: true });
});
