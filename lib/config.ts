/**
 * One run configuration: the settings a run is made with (scale, seed,
 * backend, data paths, kernel threads, results folder, plot font), parsed
 * once at the edge (a CLI's `main`, a notebook's first cell) and passed down
 * as options. This is the one module of the library, outside `lib/backend`,
 * that reads the environment; every variable it reads is listed in
 * {@linkcode RUN_CONFIG_VARIABLES}.
 *
 * | variable | field | default |
 * | --- | --- | --- |
 * | `CNN_SCALE` | `scale` | `quick` |
 * | `CNN_SEED` | `seed` | `42` |
 * | `CNN_BACKEND` | `backend` | `auto` |
 * | `CNN_DATA_DIR` | `data.dataDir` | `data/` at the project root |
 * | `CNN_DATA_MIRROR` | `data.mirror` | none |
 * | `CNN_DATA_OFFLINE` | `data.offline` | `false` |
 * | `CNN_KERNEL_THREADS` | `kernelThreads` | `auto` (2 on two cores or more) |
 * | `CNN_SIMD_KERNELS` | `simdKernels` | `true` (`off` = tfjs's kernels) |
 * | `CNN_RESULTS_DIR` | `resultsDir` | none (results are not saved) |
 * | `CNN_PLOT_FONT` | `plotFont` | the renderer's fonts |
 *
 * Relative paths mean the folder the user started from
 * ({@linkcode startDirectory}), not the working directory of the process
 * that reads them (a Jupyter kernel runs in the notebook's folder).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { describeRunConfig, runConfigFromEnv } from "./config.ts";
 * const config = runConfigFromEnv({ env: { CNN_SCALE: "smoke", CNN_SEED: "7" } });
 * assert.ok(config.scale === "smoke" && config.seed === 7);
 * console.log(describeRunConfig(config));
 * ```
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { DEFAULT_SCALE, parseScale, type Scale } from "./experiments/scale.ts";
import { DEFAULT_SEED } from "./train/seed.ts";
// lib/backend/names.ts loads no TensorFlow.js, so the CLIs can parse the
// configuration before they start anything; its checks are the backend's own.
import {
  BACKEND_ENV,
  type BackendName,
  type BackendOptions,
  parseBackendName,
  parseKernelThreads,
} from "./backend/names.ts";

/** Where dataset files are looked for and kept; pass it to the data loaders. */
export interface DataLocations {
  /** Cache folder (absolute). Default: undefined = `data/` at the project root. */
  dataDir?: string;
  /** Local mirror folder (absolute), tried before the network. Default: none. */
  mirror?: string;
  /** Never use the network. Default: false. */
  offline: boolean;
}

/** The settings of one run, parsed once at the edge. */
export interface RunConfig {
  /** How much to run: `smoke`, `quick` or `full`. Default: `quick`. */
  scale: Scale;
  /** Seed of everything random. Default: 42. */
  seed: number;
  /** TensorFlow.js backend to start, or `auto`. Default: `auto`. */
  backend: BackendName | "auto";
  /** Dataset cache, mirror and network use. */
  data: DataLocations;
  /** Threads of the project's wasm kernels: 1, 2 or "auto" (2 on two cores or more). Default: "auto". */
  kernelThreads: 1 | 2 | "auto";
  /** Use the project's SIMD kernels on wasm. Default: true. */
  simdKernels: boolean;
  /** Folder where notebooks save their results. Default: undefined = not saved. */
  resultsDir?: string;
  /** Font file for text in PNG figures. Default: undefined = the renderer's. */
  plotFont?: string;
}

/** One environment variable of the run configuration. */
export interface RunConfigVariable {
  /** The variable's name. */
  name: string;
  /** The {@linkcode RunConfig} field it sets. */
  field: string;
  /** What it means and its default. */
  description: string;
}

/** Every environment variable the library reads, with its meaning. */
export const RUN_CONFIG_VARIABLES: readonly RunConfigVariable[] = [
  {
    name: "CNN_SCALE",
    field: "scale",
    description: "smoke | quick | full; default quick",
  },
  {
    name: "CNN_SEED",
    field: "seed",
    description: "whole number in [0, 2^32); default 42",
  },
  {
    name: "CNN_BACKEND",
    field: "backend",
    description: "auto | tensorflow | webgpu | wasm | cpu; default auto",
  },
  {
    name: "CNN_DATA_DIR",
    field: "data.dataDir",
    description: "dataset cache folder; default `data/` at the project root",
  },
  {
    name: "CNN_DATA_MIRROR",
    field: "data.mirror",
    description: "local dataset mirror (`<dataset>/<file>`); default none",
  },
  {
    name: "CNN_DATA_OFFLINE",
    field: "data.offline",
    description: "1 or true: never use the network; default false",
  },
  {
    name: "CNN_KERNEL_THREADS",
    field: "kernelThreads",
    description:
      "threads of the wasm kernels: 1 or 2; default auto (2 on 2+ cores)",
  },
  {
    name: "CNN_SIMD_KERNELS",
    field: "simdKernels",
    description: "off: tfjs's own wasm kernels; default on",
  },
  {
    name: "CNN_RESULTS_DIR",
    field: "resultsDir",
    description: "where notebooks save results JSON; default none",
  },
  {
    name: "CNN_PLOT_FONT",
    field: "plotFont",
    description: "font file for text in PNG figures; default the renderer's",
  },
];

/** A source of environment variables: `Deno.env` or a plain record. */
export type EnvSource =
  | { get(name: string): string | undefined }
  | Record<string, string | undefined>;

/** Options of {@linkcode runConfigFromEnv}. */
export interface RunConfigFromEnvOptions {
  /** Where to read the variables. Default: `Deno.env` (unset without `--allow-env`). */
  env?: EnvSource;
  /** Folder relative paths are resolved against. Default: {@linkcode startDirectory}. */
  startDirectory?: string;
}

function _reader(
  env: EnvSource | undefined,
): (name: string) => string | undefined {
  const source = env ?? Deno.env;
  const get = typeof source.get === "function"
    ? (name: string) =>
      (source as { get(n: string): string | undefined }).get(name)
    : (name: string) => (source as Record<string, string | undefined>)[name];
  return (name) => {
    let value: string | undefined;
    try {
      value = get(name);
    } catch {
      value = undefined; // no --allow-env: behave as if unset
    }
    const trimmed = value?.trim();
    return trimmed ? trimmed : undefined;
  };
}

/**
 * The directory the user started from, against which relative paths in
 * environment variables are resolved: `INIT_CWD` (set by `deno task`, which
 * itself runs in the project root), else `PWD` (the shell's directory, which
 * a Jupyter kernel inherits from the Jupyter server although it runs in the
 * notebook's folder), else the working directory.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { startDirectory } from "./config.ts";
 * assert.ok(startDirectory({ env: { INIT_CWD: "/from/task" } }) === "/from/task");
 * ```
 */
export function startDirectory(options: { env?: EnvSource } = {}): string {
  const read = _reader(options.env);
  for (const name of ["INIT_CWD", "PWD"]) {
    const dir = read(name);
    if (dir && isAbsolute(dir)) return dir;
  }
  return Deno.cwd();
}

/**
 * Parses the run configuration from the environment (see the table in the
 * module doc). Throws on a malformed value, naming the variable, so a typo
 * never runs the hour-long full scale or an unseeded run.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { runConfigFromEnv } from "./config.ts";
 * const config = runConfigFromEnv({
 *   env: { CNN_DATA_MIRROR: "../datasets", PWD: "/home/me/cnn" },
 * });
 * assert.ok(config.scale === "quick" && config.seed === 42);
 * assert.ok(config.data.mirror === "/home/me/datasets");
 * ```
 */
export function runConfigFromEnv(
  options: RunConfigFromEnvOptions = {},
): RunConfig {
  const read = _reader(options.env);
  const start = options.startDirectory ??
    startDirectory({ env: options.env });
  const path = (name: string) => {
    const value = read(name);
    return value === undefined ? undefined : resolve(start, value);
  };
  const scaleText = read("CNN_SCALE");
  const scale = scaleText === undefined
    ? DEFAULT_SCALE
    : parseScale(scaleText, "env var CNN_SCALE");
  const seedText = read("CNN_SEED");
  let seed = DEFAULT_SEED;
  if (seedText !== undefined) {
    seed = Number(seedText);
    if (!/^\d+$/.test(seedText) || seed >= 2 ** 32) {
      throw new RangeError(
        `env var CNN_SEED must be a whole number in [0, 2^32), got ` +
          `${JSON.stringify(seedText)}.`,
      );
    }
  }
  const backendText = read("CNN_BACKEND");
  const backend = backendText === undefined
    ? "auto"
    : parseBackendName(backendText, "env var CNN_BACKEND");
  const kernelThreads = parseKernelThreads(
    read("CNN_KERNEL_THREADS") ?? "",
    "CNN_KERNEL_THREADS",
  );
  const offlineText = read("CNN_DATA_OFFLINE")?.toLowerCase();
  return {
    scale,
    seed,
    backend,
    data: {
      dataDir: path("CNN_DATA_DIR"),
      mirror: path("CNN_DATA_MIRROR"),
      offline: offlineText === "1" || offlineText === "true",
    },
    kernelThreads,
    simdKernels: read("CNN_SIMD_KERNELS")?.toLowerCase() !== "off",
    resultsDir: path("CNN_RESULTS_DIR"),
    plotFont: path("CNN_PLOT_FONT"),
  };
}

/**
 * The configuration as environment variables (paths absolute), for a process
 * that runs elsewhere (a Jupyter kernel runs in the notebook's folder): only
 * the settings that differ from the defaults.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { runConfigEnv, runConfigFromEnv } from "./config.ts";
 * const env = runConfigEnv(runConfigFromEnv({ env: { CNN_SEED: "3" } }));
 * assert.ok(env.CNN_SEED === "3" && !("CNN_SCALE" in env));
 * ```
 */
export function runConfigEnv(config: RunConfig): Record<string, string> {
  const env: Record<string, string> = {};
  if (config.scale !== DEFAULT_SCALE) env.CNN_SCALE = config.scale;
  if (config.seed !== DEFAULT_SEED) env.CNN_SEED = String(config.seed);
  if (config.backend !== "auto") env.CNN_BACKEND = config.backend;
  if (config.data.dataDir) env.CNN_DATA_DIR = config.data.dataDir;
  if (config.data.mirror) env.CNN_DATA_MIRROR = config.data.mirror;
  if (config.data.offline) env.CNN_DATA_OFFLINE = "1";
  if (config.kernelThreads !== "auto") {
    env.CNN_KERNEL_THREADS = String(config.kernelThreads);
  }
  if (!config.simdKernels) env.CNN_SIMD_KERNELS = "off";
  if (config.resultsDir) env.CNN_RESULTS_DIR = config.resultsDir;
  if (config.plotFont) env.CNN_PLOT_FONT = config.plotFont;
  return env;
}

/**
 * `CNN_DATA_DIR` and `CNN_DATA_MIRROR` of the configuration as absolute
 * paths, for a child process's environment: only those that are set.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { dataLocationEnv, runConfigFromEnv } from "./config.ts";
 * const config = runConfigFromEnv({ env: { CNN_DATA_MIRROR: "/srv/datasets" } });
 * assert.ok(dataLocationEnv(config).CNN_DATA_MIRROR === "/srv/datasets");
 * ```
 */
export function dataLocationEnv(
  config: RunConfig = runConfigFromEnv(),
): Record<string, string> {
  const env: Record<string, string> = {};
  if (config.data.dataDir) env.CNN_DATA_DIR = config.data.dataDir;
  if (config.data.mirror) env.CNN_DATA_MIRROR = config.data.mirror;
  return env;
}

/**
 * One line saying what a run runs with, for the first line of its output.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { describeRunConfig, runConfigFromEnv } from "./config.ts";
 * const line = describeRunConfig(runConfigFromEnv({ env: {} }));
 * assert.ok(line.startsWith("scale quick, seed 42, backend auto"));
 * ```
 */
export function describeRunConfig(config: RunConfig): string {
  const parts = [
    `scale ${config.scale}`,
    `seed ${config.seed}`,
    `backend ${config.backend}`,
    `data mirror ${config.data.mirror ?? "none"}`,
    `cache ${config.data.dataDir ?? "data/"}`,
  ];
  if (config.data.offline) parts.push("offline");
  if (config.kernelThreads !== "auto") {
    parts.push(`kernel threads ${config.kernelThreads}`);
  }
  if (!config.simdKernels) parts.push("SIMD kernels off");
  if (config.resultsDir) parts.push(`results ${config.resultsDir}`);
  return parts.join(", ");
}

const _BACKEND_FROM_ENV: {
  [K in keyof BackendOptions]: (
    read: (name: string) => string | undefined,
  ) => BackendOptions[K];
} = {
  backend: (read) =>
    parseBackendName(
      read(BACKEND_ENV.backend)?.trim() || "auto",
      BACKEND_ENV.backend,
    ),
  simdKernels: (read) => read(BACKEND_ENV.simdKernels) !== "off",
  kernelThreads: (read) =>
    parseKernelThreads(
      read(BACKEND_ENV.kernelThreads) ?? "",
      BACKEND_ENV.kernelThreads,
    ),
};

/**
 * One backend setting as the environment gives it now (only that variable
 * is read and checked): what `lib/backend` falls back to for a setting that
 * no run configuration passed in (`configureBackend`), read at each call so
 * that a change takes effect at the next kernel call.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { backendOptionFromEnv } from "./config.ts";
 * const threads = backendOptionFromEnv("kernelThreads", {
 *   env: { CNN_KERNEL_THREADS: "1" },
 * });
 * assert.ok(threads === 1);
 * ```
 */
export function backendOptionFromEnv<K extends keyof BackendOptions>(
  key: K,
  options: { env?: EnvSource } = {},
): BackendOptions[K] {
  return _BACKEND_FROM_ENV[key](_reader(options.env));
}
