/**
 * The run configuration (lib/config.ts): parsed once from the environment,
 * the one module outside lib/backend that reads it.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  dataLocationEnv,
  describeRunConfig,
  RUN_CONFIG_VARIABLES,
  runConfigEnv,
  runConfigFromEnv,
  startDirectory,
} from "../lib/config.ts";
import { BACKEND_NAMES } from "../lib/backend/options.ts";

const repo = fileURLToPath(new URL("../", import.meta.url));

Deno.test("runConfigFromEnv: defaults are quick scale, seed 42, backend auto, no mirror, online", () => {
  const config = runConfigFromEnv({ env: {}, startDirectory: "/start" });
  assert.deepEqual(config, {
    scale: "quick",
    seed: 42,
    backend: "auto",
    data: { dataDir: undefined, mirror: undefined, offline: false },
    kernelThreads: "auto",
    simdKernels: true,
    resultsDir: undefined,
    plotFont: undefined,
  });
  // Empty or blank values count as unset.
  assert.deepEqual(
    runConfigFromEnv({
      env: { CNN_SCALE: " ", CNN_SEED: "", CNN_DATA_MIRROR: "" },
      startDirectory: "/start",
    }),
    config,
  );
});

Deno.test("runConfigFromEnv: reads every CNN_* variable; relative paths mean the start folder", () => {
  const config = runConfigFromEnv({
    env: {
      CNN_SCALE: " full ",
      CNN_SEED: "7",
      CNN_BACKEND: "WASM",
      CNN_DATA_DIR: "cache",
      CNN_DATA_MIRROR: "../datasets",
      CNN_DATA_OFFLINE: "true",
      CNN_KERNEL_THREADS: "1",
      CNN_SIMD_KERNELS: "off",
      CNN_RESULTS_DIR: "/abs/results",
      CNN_PLOT_FONT: "fonts/a.ttf",
      PWD: "/home/me/cnn",
    },
  });
  assert.deepEqual(config, {
    scale: "full",
    seed: 7,
    backend: "wasm",
    data: {
      dataDir: "/home/me/cnn/cache",
      mirror: "/home/me/datasets",
      offline: true,
    },
    kernelThreads: 1,
    simdKernels: false,
    resultsDir: "/abs/results",
    plotFont: "/home/me/cnn/fonts/a.ttf",
  });
  // Every variable read is declared, and only those.
  assert.deepEqual(
    RUN_CONFIG_VARIABLES.map((v) => v.name).sort(),
    [
      "CNN_BACKEND",
      "CNN_DATA_DIR",
      "CNN_DATA_MIRROR",
      "CNN_DATA_OFFLINE",
      "CNN_KERNEL_THREADS",
      "CNN_PLOT_FONT",
      "CNN_RESULTS_DIR",
      "CNN_SCALE",
      "CNN_SEED",
      "CNN_SIMD_KERNELS",
    ],
  );
  // Back to variables for a child process: absolute paths, non-defaults only.
  assert.deepEqual(runConfigFromEnv({ env: runConfigEnv(config) }), config);
  assert.deepEqual(dataLocationEnv(config), {
    CNN_DATA_DIR: "/home/me/cnn/cache",
    CNN_DATA_MIRROR: "/home/me/datasets",
  });
  assert.match(
    describeRunConfig(config),
    /^scale full, seed 7, backend wasm, data mirror \/home\/me\/datasets, .*offline/,
  );
});

Deno.test("runConfigFromEnv: a malformed value fails naming the variable", () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ CNN_SCALE: "ful" }, /CNN_SCALE.*"smoke", "quick", "full".*"ful"/],
    [{ CNN_SEED: "-1" }, /CNN_SEED must be a whole number/],
    [{ CNN_SEED: "4294967296" }, /CNN_SEED/],
    [{ CNN_SEED: "1.5" }, /CNN_SEED/],
    [
      { CNN_BACKEND: "gpu" },
      /Unknown backend "gpu" \(from env var CNN_BACKEND\)/,
    ],
    [
      { CNN_KERNEL_THREADS: "0" },
      /CNN_KERNEL_THREADS=0: use 1/,
    ],
  ];
  for (const [env, message] of bad) {
    assert.throws(
      () => runConfigFromEnv({ env }),
      message,
      JSON.stringify(env),
    );
  }
});

Deno.test("config accepts every backend name and checks them with the backend's own parser", () => {
  for (const name of BACKEND_NAMES) {
    assert.equal(
      runConfigFromEnv({ env: { CNN_BACKEND: name } }).backend,
      name,
    );
  }
  assert.equal(
    runConfigFromEnv({ env: { CNN_BACKEND: "auto" } }).backend,
    "auto",
  );
});

Deno.test("startDirectory: INIT_CWD (deno task), else PWD (the shell), else the working directory", () => {
  assert.equal(
    startDirectory({ env: { INIT_CWD: "/from/task", PWD: "/from/shell" } }),
    "/from/task",
  );
  assert.equal(startDirectory({ env: { PWD: "/from/shell" } }), "/from/shell");
  assert.equal(startDirectory({ env: { PWD: "relative" } }), Deno.cwd());
  assert.equal(startDirectory({ env: {} }), Deno.cwd());
});

Deno.test("the environment is read in one module: no Deno.env in lib/ outside config.ts", async () => {
  const readers: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      const rel = relative(repo, path);
      if (e.isDirectory) {
        await walk(path);
      } else if (e.name.endsWith(".ts") && rel !== join("lib", "config.ts")) {
        const code = (await Deno.readTextFile(path))
          .split("\n")
          .filter((line) => !/^\s*(\*|\/\/)/.test(line))
          .join("\n");
        if (/Deno\.env\b|process\.env\b/.test(code)) readers.push(rel);
      }
    }
  };
  await walk(join(repo, "lib"));
  assert.deepEqual(readers, []);
});
