/**
 * How `deno task reproduce` starts: its configuration as the first line,
 * the data of every selected notebook checked once before any kernel
 * starts (one message when some is missing), and a report folder of its
 * own even when two runs start in the same second.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createUniqueDir } from "../scripts/notebooks.ts";
import {
  checkExperimentData,
  missingDataMessage,
} from "../scripts/reproduce.ts";

const reproduce = fileURLToPath(
  new URL("../scripts/reproduce.ts", import.meta.url),
);
const MIRROR = fileURLToPath(new URL("../../shared/datasets", import.meta.url));

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("reproduce: without the data, the configuration and then one message, before any kernel starts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reproduce-nodata-" });
  try {
    const started = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        reproduce,
        "--scale",
        "smoke",
        "--only",
        "001,004",
        "--seed",
        "7",
        "--backend",
        "cpu",
        "--out",
        join(dir, "out"),
      ],
      env: {
        NO_COLOR: "1",
        CNN_DATA_DIR: join(dir, "empty-cache"),
        CNN_DATA_MIRROR: "",
        CNN_DATA_OFFLINE: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const guard = setTimeout(() => child.kill("SIGKILL"), 120_000);
    const out = await child.output();
    clearTimeout(guard);
    const seconds = (performance.now() - started) / 1000;
    const log = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, log);
    const lines = log.trim().split("\n");
    assert.equal(
      lines[0],
      "reproduce: scale smoke, seed 7, backend cpu, data mirror none (the " +
        "data cache, then downloads), notebooks 001_mnist_lenet5.ipynb " +
        `004_cifar10_cnn.ipynb, output ${join(dir, "out")}`,
    );
    assert.match(
      log,
      /the data of 2 selected notebook\(s\) cannot be had here, so nothing was run/,
    );
    assert.match(log, /001-mnist-lenet5: .*idx3-ubyte\.gz is not available/);
    assert.match(log, /004-cifar10-cnn: .*cifar-10-binary\.tar\.gz/);
    assert.match(log, /--mirror DIR \(or CNN_DATA_MIRROR=DIR\)/);
    assert.match(log, /deno task data all --mirror DIR/);
    assert.doesNotMatch(log, /starting kernel/);
    assert.equal(log.match(/^error:/gm)?.length, 1, log);
    assert.equal(await exists(join(dir, "out")), false);
    assert.ok(seconds < 60, `took ${seconds.toFixed(0)} s`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "checkExperimentData: every notebook's data through the library's loaders, substitutes included",
  ignore: !(await exists(MIRROR)),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "reproduce-data-" });
    try {
      const all = [
        "000-kannada-mnist",
        "001-mnist-lenet5",
        "002-mnist-lenet-pytorch-style",
        "003-fashion-mnist-variants",
        "004-cifar10-cnn",
      ];
      // The mirror lacks Kannada-MNIST's training images and the official
      // CIFAR-10 archive: the labelled substitutes make every notebook run.
      assert.deepEqual(
        await checkExperimentData(all, { mirror: MIRROR, dataDir: dir }),
        [],
      );
      const problems = await checkExperimentData(["001-mnist-lenet5"], {
        mirror: null,
        dataDir: join(dir, "empty"),
      });
      assert.equal(problems.length, 1);
      assert.match(missingDataMessage(problems), /001-mnist-lenet5: /);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("createUniqueDir: runs started in the same second get folders of their own", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reproduce-unique-" });
  try {
    const base = join(dir, "reports", "2026-12-07T00-25-54Z");
    const made = await Promise.all(
      Array.from({ length: 4 }, () => createUniqueDir(base)),
    );
    assert.deepEqual(made.toSorted(), [
      base,
      `${base}-2`,
      `${base}-3`,
      `${base}-4`,
    ]);
    for (const path of made) assert.ok((await Deno.stat(path)).isDirectory);
    assert.equal(await createUniqueDir(base), `${base}-5`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
