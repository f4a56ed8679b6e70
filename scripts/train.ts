/**
 * `deno task train`: trains any model of the registry on any dataset with its
 * tutorial's settings (optimizer, learning rate and decay, batch size,
 * epochs, normalisation, validation, early stopping) unless overridden, and
 * reports accuracy on every test split.
 *
 * Usage:
 *   deno task train --list
 *   deno task train --model <name> [--dataset <name>] [--epochs N] [--limit N]
 *                   [--test-limit N] [--batch N] [--lr X] [--seed N]
 *                   [--backend auto|tensorflow|webgpu|wasm|cpu]
 *                   [--scale full|quick|smoke] [--save DIR] [--logdir DIR]
 *                   [--json] [--quiet]
 *
 * `--dataset` defaults to the model's tutorial dataset; `--limit N` trains on
 * the first N training images and evaluates on the first N of each test
 * split (`--test-limit` sets that separately); `--scale smoke|quick` starts
 * from those settings instead of the tutorial's (`full`). `--seed N` (default
 * env `CNN_SEED`, else 42) seeds everything random: the initial weights, the
 * batch order and the dropout masks (`setGlobalSeed`), so the same command on
 * the same backend and data prints the same losses and accuracies. Images are fitted to the
 * model (built for the dataset's shape where its builder allows, resized or
 * channel-converted where the architecture needs it) and the output says so.
 * With `--json` the last line of stdout is one JSON object: model, dataset,
 * backend, epochs, train_seconds, params, test_accuracy (main test split,
 * 0..1) and splits (accuracy per test split; Kannada: test and dig), the
 * per-epoch history, train_cpu_seconds (CPU time of training, a load-free
 * measure of speed on a busy machine), settings and data notes. `--logdir DIR`
 * writes TensorBoard event files (`DIR/train`, `DIR/validation`; open with
 * `tensorboard --logdir DIR`).
 *
 * @module
 */
import process from "node:process";
import { BACKEND_NAMES, initBackend } from "../lib/backend/mod.ts";
import { DATASET_NAMES } from "../lib/data/mod.ts";
import {
  evaluateOnSplits,
  loadExperimentData,
  MODEL_RECIPES,
  parseDatasetName,
  planModelInput,
  trainModel,
  type TrainSettings,
  trainSettingsFor,
} from "../lib/experiments/mod.ts";
import {
  isModelName,
  MODEL_NAMES,
  MODELS,
  saveModel,
} from "../lib/models/mod.ts";
import { tensorBoard } from "../lib/train/mod.ts";
import { runConfigFromEnv } from "../lib/config.ts";
import {
  backendFlag,
  parseCli,
  pathFlag,
  positiveInt,
  runCli,
  scaleFlag,
  usageCheck,
  UsageError,
} from "./_cli.ts";

const USAGE = `Usage:
  deno task train --list
  deno task train --model <name> [--dataset <name>] [--epochs N] [--limit N]
                  [--test-limit N] [--batch N] [--lr X] [--seed N]
                  [--backend auto|${BACKEND_NAMES.join("|")}]
                  [--scale full|quick|smoke] [--save DIR] [--logdir DIR]
                  [--json] [--quiet]
Models: ${MODEL_NAMES.join(", ")}
Datasets: ${DATASET_NAMES.join(", ")}`;

function _listModels(): string {
  const rows = MODEL_NAMES.map((name) => {
    const info = MODELS[name];
    return [
      name,
      info.paramCount.toLocaleString("en-US"),
      info.tutorial,
      info.training.dataset,
      info.inputShape.join("x"),
      info.description,
    ];
  });
  const header = [
    "model",
    "params",
    "tutorial",
    "dataset",
    "input",
    "description",
  ];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) =>
      i === 1
        ? c.padStart(widths[i])
        : i === cells.length - 1
        ? c
        : c.padEnd(widths[i])
    ).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, {
    list: { type: "boolean" },
    model: { type: "string" },
    dataset: { type: "string" },
    epochs: { type: "string" },
    limit: { type: "string" },
    "test-limit": { type: "string" },
    batch: { type: "string" },
    lr: { type: "string" },
    seed: { type: "string" },
    backend: { type: "string" },
    scale: { type: "string" },
    save: { type: "string" },
    logdir: { type: "string" },
    json: { type: "boolean" },
    quiet: { type: "boolean" },
  });
  if (values.list) {
    console.log(_listModels());
    return 0;
  }
  if (!values.model) throw new UsageError("--model is required (or --list).");
  if (!isModelName(values.model)) {
    throw new UsageError(
      `Unknown model "${values.model}". Known models: ${
        MODEL_NAMES.join(", ")
      }.`,
    );
  }
  const model = values.model;
  const save = pathFlag(values.save);
  const logdir = pathFlag(values.logdir);
  const dataset = usageCheck(() =>
    parseDatasetName(values.dataset ?? MODEL_RECIPES[model].dataset)
  );
  // Flags first, then the run configuration (CNN_SCALE, CNN_SEED, CNN_DATA_*);
  // the default scale is quick, as for the notebooks and reproduce.
  const config = usageCheck(() => runConfigFromEnv());
  const scale = scaleFlag(values.scale, config.scale);
  const backend = backendFlag(values.backend);
  const overrides: Partial<TrainSettings> = {};
  const epochs = positiveInt(values.epochs, "--epochs");
  const limit = positiveInt(values.limit, "--limit");
  const testLimit = positiveInt(values["test-limit"], "--test-limit") ?? limit;
  const batch = positiveInt(values.batch, "--batch");
  const seed = values.seed === undefined ? undefined : usageCheck(() => {
    const text = values.seed!.trim();
    const n = Number(text);
    if (!/^\d+$/.test(text) || n >= 2 ** 32) {
      throw new Error(
        `--seed must be a whole number in [0, 2^32), got "${values.seed}".`,
      );
    }
    return n;
  });
  if (epochs !== undefined) overrides.epochs = epochs;
  if (limit !== undefined) overrides.trainLimit = limit;
  if (testLimit !== undefined) overrides.testLimit = testLimit;
  if (batch !== undefined) overrides.batchSize = batch;
  overrides.seed = seed ?? config.seed;
  if (values.lr !== undefined) {
    const lr = Number(values.lr);
    if (!(Number.isFinite(lr) && lr > 0)) {
      throw new UsageError(
        `--lr must be a number > 0 (and finite), got "${values.lr}".`,
      );
    }
    overrides.learningRate = lr;
  }
  const settings = trainSettingsFor(model, scale, { overrides });
  const say = (line: string) => {
    if (!values.quiet) console.error(line);
  };

  const backendChoice = await initBackend({
    backend,
    verbose: !values.quiet,
  });
  const data = await loadExperimentData(dataset, {
    trainLimit: settings.trainLimit,
    testLimit: settings.testLimit,
    seed: settings.seed,
    progress: !values.quiet,
    ...config.data,
  });
  const plan = planModelInput(model, data.train);
  say(`data: ${data.description}`);
  if (plan.note) say(`input: ${plan.note}`);
  say(
    `training ${model} on ${dataset}: ${settings.optimizer} lr ${settings.learningRate}` +
      (settings.lrDecay !== null ? ` x${settings.lrDecay}/epoch` : "") +
      `, batch ${settings.batchSize}, ${settings.epochs} epoch(s), ` +
      `${settings.loop === "loop" ? "hand-written loop" : "model.fit"}` +
      (settings.earlyStoppingPatience !== null
        ? `, early stopping (patience ${settings.earlyStoppingPatience})`
        : "") +
      `, seed ${settings.seed}`,
  );
  const cpuBefore = process.cpuUsage();
  const trained = await trainModel(model, data, {
    settings,
    // Progress goes to stderr, so it never mixes with --json's stdout line.
    progress: !values.quiet,
    callbacks: logdir ? [tensorBoard(logdir)] : [],
  });
  const cpu = process.cpuUsage(cpuBefore);
  if (logdir) {
    say(
      `TensorBoard logs in ${logdir}: tensorboard --logdir ${logdir}`,
    );
  }
  const evaluations = await evaluateOnSplits(trained, data);
  const splits = Object.fromEntries(
    evaluations.map((e) => [e.split, e.accuracy]),
  );
  for (const e of evaluations) {
    say(
      `${e.split}: accuracy ${
        (100 * e.accuracy).toFixed(2)
      }% on ${e.count} images`,
    );
  }
  if (save) {
    await saveModel(trained.model, save);
    say(`saved to ${save}`);
  }
  const summary = {
    model,
    dataset,
    backend: backendChoice.name,
    scale,
    epochs: trained.epochs,
    train_seconds: Number(trained.trainSeconds.toFixed(3)),
    train_cpu_seconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
    seed: settings.seed,
    params: trained.params,
    test_accuracy: evaluations[0]?.accuracy ?? null,
    splits,
    test_samples: Object.fromEntries(
      evaluations.map((e) => [e.split, e.count]),
    ),
    train_samples: trained.trainSamples,
    stop_reason: trained.stopReason ?? null,
    history: trained.history,
    settings: trained.settings,
    input: plan.note,
    data: data.description,
    substitute: data.substitute,
  };
  trained.model.dispose();
  if (values.json) {
    console.log(JSON.stringify(summary));
  } else {
    console.log(
      `${model} on ${dataset} (${backendChoice.name}): test accuracy ` +
        `${
          (100 * (summary.test_accuracy ?? NaN)).toFixed(2)
        }% after ${trained.epochs} ` +
        `epoch(s), ${trained.trainSeconds.toFixed(1)} s, ${
          trained.params.toLocaleString("en-US")
        } params`,
    );
  }
  return 0;
}

if (import.meta.main) runCli(USAGE, main);
