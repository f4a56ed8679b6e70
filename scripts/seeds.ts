/**
 * A notebook's recipe in TensorFlow.js against the same recipe in PyTorch
 * with Keras' initialisation, over several seeds, written as JSON beside the
 * reference run (`notebooks/reference/seeds_<model>.json`); `deno task docs`
 * puts the comparison into `notebooks/README.md`.
 *
 * Ours is what `deno task train --model M --scale full --seed S` trains (the
 * library's recipe, which the notebooks' drift tests keep equal to their
 * cells); PyTorch's is `scripts/torch_twins.py` with the same optimizer,
 * learning rate, batch, epochs and early stopping, read from
 * `trainSettingsFor(M, "full")`. The two run side by side, each on one thread
 * (`CNN_KERNEL_THREADS=1`; the kernels give the same bits on one thread as on
 * two), our seeds one after the other in one chain and PyTorch's in another.
 * Each framework seeds its own generator, so the same seed number gives other
 * initial weights and batch orders on the two sides: seeds are compared as
 * distributions (mean, range), not pairwise.
 *
 * Usage:
 *   deno run -A scripts/seeds.ts --model lenet5|fashion-lenet-small|fashion-lenet-large
 *       [--seeds 1,2,3,4,5] [--epochs N] [--limit N] [--test-limit N] [--out FILE]
 *
 * `--epochs`, `--limit` and `--test-limit` shrink the recipe (for tests or a
 * first look); the JSON records them. Data come from `CNN_DATA_MIRROR`.
 *
 * @module
 */
import { trainSettingsFor } from "../lib/experiments/mod.ts";
import { parseCli, pathFlag, positiveInt, runCli, UsageError } from "./_cli.ts";
import { machineDescription, sourceCommit } from "./reproduce.ts";

const USAGE =
  "usage: deno run -A scripts/seeds.ts --model M [--seeds 1,2,3,4,5] " +
  "[--epochs N] [--limit N] [--test-limit N] [--out FILE]";

/** The models with a PyTorch twin in scripts/torch_twins.py, by notebook. */
export const TWIN_MODELS: Readonly<Record<string, string>> = {
  "lenet5": "001",
  "fashion-lenet-small": "003",
  "fashion-lenet-large": "003",
};

/** One side's figures, seed by seed (in the order of `seeds`). */
export interface SeedRuns {
  /** Test accuracy, 0..1. */
  accuracy: number[];
  /** Epochs trained (fewer than the recipe's when early stopping fired). */
  epochs: number[];
  /** Training seconds. */
  seconds: number[];
}

/** What `scripts/seeds.ts` writes. */
export interface SeedsReport {
  /** What the file is, in words. */
  description: string;
  /** Notebook number, e.g. "001". */
  notebook: string;
  /** Model name of the library. */
  model: string;
  /** The recipe both sides trained with. */
  recipe: {
    optimizer: string;
    learningRate: number;
    batchSize: number;
    epochs: number;
    earlyStoppingPatience: number | null;
    trainLimit: number | null;
    testLimit: number | null;
  };
  /** The seeds, in order. */
  seeds: number[];
  /** The commit of the code. */
  commit: string | null;
  /** When it was written (ISO time). */
  written_at: string;
  /** The machine, in words. */
  machine: string;
  /** Ours: TensorFlow.js on the project's wasm kernels. */
  ours: SeedRuns & { engine: string };
  /** PyTorch with Keras' initialisation. */
  pytorch: SeedRuns & { version: string; init: string };
}

/**
 * The mean of `xs`.
 *
 * @example
 * ```ts
 * import { mean } from "./seeds.ts";
 * console.assert(mean([0.98, 0.99]) === 0.985);
 * ```
 */
export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Runs a command, passing its stderr on; its stdout's JSON lines. */
async function _jsonLines(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<Record<string, unknown>[]> {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} exited with ${out.code}`);
  }
  return new TextDecoder().decode(out.stdout).split("\n")
    .filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

async function _pytorchVersion(): Promise<string> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", "import torch; print(torch.__version__)"],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!out.success) {
    throw new Error(
      "PyTorch is not installed for /usr/bin/python3 (Debian: " +
        "apt-get install python3-torch)",
    );
  }
  return new TextDecoder().decode(out.stdout).trim();
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, {
    model: { type: "string" },
    seeds: { type: "string" },
    epochs: { type: "string" },
    limit: { type: "string" },
    "test-limit": { type: "string" },
    out: { type: "string" },
  });
  const model = values.model ?? "";
  const notebook = TWIN_MODELS[model];
  if (!notebook) {
    throw new UsageError(
      `--model must be one of ${Object.keys(TWIN_MODELS).join(", ")}`,
    );
  }
  const seeds = (values.seeds ?? "1,2,3,4,5").split(",").map((s) =>
    positiveInt(s.trim(), "--seeds") as number
  );
  const limit = positiveInt(values.limit, "--limit") ?? null;
  const testLimit = positiveInt(values["test-limit"], "--test-limit") ?? null;
  const epochsFlag = positiveInt(values.epochs, "--epochs");
  const settings = trainSettingsFor(model, "full", {
    overrides: epochsFlag ? { epochs: epochsFlag } : {},
  });
  if (settings.normalize !== "unit") {
    throw new Error(
      `${model} scales its images as "${settings.normalize}"; the twin ` +
        "scales them to [0, 1]",
    );
  }
  const out = pathFlag(values.out) ??
    `notebooks/reference/seeds_${model}.json`;
  const version = await _pytorchVersion();
  const commit = await sourceCommit();
  const shrink = [
    ...(limit ? ["--limit", String(limit)] : []),
    ...(testLimit ? ["--test-limit", String(testLimit)] : []),
  ];
  const root = new URL("..", import.meta.url).pathname;
  console.error(
    `seeds: ${model} (notebook ${notebook}), seeds ${seeds.join(",")}: ` +
      `${settings.optimizer} lr ${settings.learningRate}, batch ` +
      `${settings.batchSize}, up to ${settings.epochs} epoch(s)` +
      (settings.earlyStoppingPatience
        ? `, early stopping (patience ${settings.earlyStoppingPatience})`
        : "") +
      "; ours and PyTorch side by side, one thread each",
  );
  const oursChain = (async () => {
    const runs: Record<string, unknown>[] = [];
    for (const seed of seeds) {
      const [r] = await _jsonLines(Deno.execPath(), [
        "run",
        "-A",
        `${root}scripts/train.ts`,
        "--model",
        model,
        "--scale",
        "full",
        "--seed",
        String(seed),
        "--backend",
        "wasm",
        "--epochs",
        String(settings.epochs),
        "--json",
        "--quiet",
        ...shrink,
      ], { CNN_KERNEL_THREADS: "1" });
      console.error(
        `seeds: ours, seed ${seed}: ${
          (100 * Number(r.test_accuracy)).toFixed(2)
        }% after ${r.epochs} epoch(s)`,
      );
      runs.push(r);
    }
    return runs;
  })();
  const torchChain = _jsonLines("/usr/bin/python3", [
    `${root}scripts/torch_twins.py`,
    "--model",
    model,
    "--optimizer",
    settings.optimizer,
    "--lr",
    String(settings.learningRate),
    "--batch",
    String(settings.batchSize),
    "--epochs",
    String(settings.epochs),
    ...(settings.earlyStoppingPatience
      ? ["--patience", String(settings.earlyStoppingPatience)]
      : []),
    ...shrink,
    ...seeds.map(String),
  ], {});
  const [ours, torch] = await Promise.all([oursChain, torchChain]);
  if (torch.length !== seeds.length) {
    throw new Error(
      `PyTorch reported ${torch.length} seed(s) of ${seeds.length}`,
    );
  }
  const report: SeedsReport = {
    description: `Test accuracy of notebook ${notebook}'s ${model} recipe ` +
      "in TensorFlow.js (ours) and in PyTorch with Keras' initialisation, " +
      "per seed; written by scripts/seeds.ts",
    notebook,
    model,
    recipe: {
      optimizer: settings.optimizer,
      learningRate: settings.learningRate,
      batchSize: settings.batchSize,
      epochs: settings.epochs,
      earlyStoppingPatience: settings.earlyStoppingPatience,
      trainLimit: limit,
      testLimit,
    },
    seeds,
    commit,
    written_at: new Date().toISOString(),
    machine: await machineDescription(),
    ours: {
      engine: "TensorFlow.js 4.22.0, wasm with the project's kernels, one " +
        "kernel thread",
      accuracy: ours.map((r) => Number(r.test_accuracy)),
      epochs: ours.map((r) => Number(r.epochs)),
      seconds: ours.map((r) => Number(r.train_seconds)),
    },
    pytorch: {
      version,
      init: "Glorot-uniform kernels, zero biases (Keras' default)",
      accuracy: torch.map((r) => Number(r.accuracy)),
      epochs: torch.map((r) => Number(r.epochs)),
      seconds: torch.map((r) => Number(r.seconds)),
    },
  };
  const tmp = `${out}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(report, null, 2) + "\n");
  await Deno.rename(tmp, out);
  console.error(
    `seeds: ours ${(100 * mean(report.ours.accuracy)).toFixed(2)}%, ` +
      `PyTorch ${
        (100 * mean(report.pytorch.accuracy)).toFixed(2)
      }% (means over ${seeds.length} seeds); wrote ${out}`,
  );
  return 0;
}

if (import.meta.main) runCli(USAGE, main);
