/**
 * `deno task train`: trains any model of the registry on any dataset with its
 * tutorial's settings (optimizer, learning rate and decay, batch size,
 * epochs, normalisation, validation, early stopping) unless overridden, and
 * reports accuracy on every test split.
 *
 * Usage: `deno task train --help` lists every option with its meaning and
 * default. The scale defaults to `quick` (as the notebooks and `reproduce`):
 * all the training data for a few epochs; `--scale full` is the tutorial's
 * own settings (hours on a CPU), `--scale smoke` seconds. `--limit N` caps
 * the TRAINING images only; `--test-limit N` caps each test split (default:
 * the scale's, all at quick and full). `--seed N` (default env `CNN_SEED`,
 * else 42) seeds the initial weights, the batch order and the dropout masks,
 * so the same command on the same backend and data prints the same numbers.
 * Images are fitted to the model (built for the dataset's shape where its
 * builder allows, resized or channel-converted where the architecture needs
 * it) and the output says so.
 *
 * The first line on stderr states the configuration (model, dataset, scale,
 * epochs, batch, learning rate, seed, backend, data source). With `--json`
 * the last line of stdout is one JSON object: model, dataset, backend,
 * epochs, train_seconds, params, test_accuracy (main test split, 0..1) and
 * splits (accuracy per test split; Kannada: test and dig), the per-epoch
 * history, train_cpu_seconds, settings and data notes. `--save DIR` and
 * `--logdir DIR` are checked before training starts; if saving still fails
 * at the end, the model is saved to a temporary folder that the error names.
 * A run whose loss or weights become NaN or infinite stops at once with one
 * message and exit status 1.
 *
 * @module
 */
import process from "node:process";
import { BACKEND_NAMES, initBackend } from "../lib/backend/mod.ts";
import { DATASET_NAMES, resolveDataDir } from "../lib/data/mod.ts";
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
  checkSaveFolder,
  isModelName,
  MODEL_NAMES,
  MODELS,
  saveModel,
} from "../lib/models/mod.ts";
import { DEFAULT_SCALE } from "../lib/experiments/scale.ts";
import { tensorBoard } from "../lib/train/mod.ts";
import { runConfigFromEnv } from "../lib/config.ts";
import {
  backendFlag,
  type CliOptions,
  describeOptions,
  parseCli,
  pathFlag,
  positiveInt,
  runCli,
  scaleFlag,
  usageCheck,
  UsageError,
} from "./_cli.ts";

const OPTIONS = {
  list: {
    type: "boolean",
    help: "list the models (parameters, tutorial, dataset) and exit",
  },
  model: {
    type: "string",
    valueName: "NAME",
    help: "model to train (required; see --list)",
  },
  dataset: {
    type: "string",
    valueName: "NAME",
    help: "dataset to train and test on",
    defaultText: "the model's tutorial dataset",
  },
  scale: {
    type: "string",
    valueName: "SCALE",
    help: "smoke (seconds), quick (a few epochs on all the data) or full " +
      "(the tutorial's settings, hours)",
    defaultText: DEFAULT_SCALE,
  },
  epochs: {
    type: "string",
    valueName: "N",
    help: "epochs to train",
    defaultText: "the scale's; quick: 1 to 8 by model, full: the tutorial's",
  },
  limit: {
    type: "string",
    valueName: "N",
    help: "train on the first N training images only (the test splits are " +
      "not capped by it: see --test-limit)",
    defaultText: "the scale's; all at quick and full",
  },
  "test-limit": {
    type: "string",
    valueName: "N",
    help: "evaluate on the first N images of each test split",
    defaultText: "the scale's; all at quick and full",
  },
  batch: {
    type: "string",
    valueName: "N",
    help: "batch size",
    defaultText: "the tutorial's",
  },
  lr: {
    type: "string",
    valueName: "X",
    help: "learning rate",
    defaultText: "the tutorial's",
  },
  seed: {
    type: "string",
    valueName: "N",
    help: "seed of the weights, batch order and dropout",
    defaultText: "env CNN_SEED, else 42",
  },
  backend: {
    type: "string",
    valueName: "NAME",
    help: `auto, ${BACKEND_NAMES.join(", ")}`,
    defaultText: "env CNN_BACKEND, else auto",
  },
  save: {
    type: "string",
    valueName: "DIR",
    help: "save the trained model here (model.json + weights.bin)",
    defaultText: "not saved",
  },
  logdir: {
    type: "string",
    valueName: "DIR",
    help: "write TensorBoard event files (DIR/train, DIR/validation)",
    defaultText: "none",
  },
  json: {
    type: "boolean",
    help: "print one JSON summary as the last line of stdout",
  },
  quiet: {
    type: "boolean",
    help: "no progress or notes on stderr (errors still)",
  },
} satisfies CliOptions;

const USAGE = `Usage:
  deno task train --list
  deno task train --model <name> [options]

Options:
${describeOptions(OPTIONS)}

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
  const { values } = parseCli(argv, OPTIONS);
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
  const save = pathFlag(values.save, "--save");
  const logdir = pathFlag(values.logdir, "--logdir");
  // Every output path is checked before hours of training, not after.
  for (
    const [flag, dir, what] of [
      ["--save", save, "save a model"],
      ["--logdir", logdir, "write TensorBoard logs"],
    ] as const
  ) {
    if (!dir) continue;
    try {
      await checkSaveFolder(dir, { what });
    } catch (e) {
      throw new Error(`${flag}: ${(e as Error).message}`);
    }
  }
  const dataset = usageCheck(() =>
    parseDatasetName(values.dataset ?? MODEL_RECIPES[model].dataset)
  );
  // Flags first, then the run configuration (CNN_SCALE, CNN_SEED, CNN_DATA_*);
  // the default scale is quick (DEFAULT_SCALE), as for the notebooks.
  const config = usageCheck(() => runConfigFromEnv());
  const scale = scaleFlag(values.scale, config.scale);
  const backend = backendFlag(values.backend);
  const overrides: Partial<TrainSettings> = {};
  const epochs = positiveInt(values.epochs, "--epochs");
  const limit = positiveInt(values.limit, "--limit");
  // --limit caps the training images only; test splits have --test-limit.
  const testLimit = positiveInt(values["test-limit"], "--test-limit");
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

  const backendChoice = await initBackend({ backend, verbose: false });
  const mirror = config.data.mirror;
  const all = (n: number | null) => n === null ? "all" : `first ${n}`;
  say(
    `train: ${model} on ${dataset}, scale ${scale}, ${settings.epochs} ` +
      `epoch(s), batch ${settings.batchSize}, ${settings.optimizer} lr ` +
      `${settings.learningRate}, seed ${settings.seed}, backend ` +
      `${
        backendChoice.report.replace(/^backend /, "")
      }, data ${resolveDataDir()}${
        mirror ? ` (mirror ${mirror})` : " (no mirror)"
      }; training images: ` +
      `${all(settings.trainLimit)}, test images: ${all(settings.testLimit)}`,
  );
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
  let savedTo: string | null = null;
  let saveError: string | null = null;
  if (save) {
    try {
      await saveModel(trained.model, save);
      savedTo = save;
      say(`saved to ${save}`);
    } catch (e) {
      // Hours of training are not thrown away: save somewhere that works.
      const fallback = await Deno.makeTempDir({ prefix: `cnn-${model}-` });
      await saveModel(trained.model, fallback);
      savedTo = fallback;
      saveError = `could not save to ${save} (${
        (e as Error).message
      }); the model was saved to ${fallback} instead: move it where you want it`;
      console.error(`error: ${saveError}`);
    }
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
    saved_to: savedTo,
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
  return saveError ? 1 : 0;
}

if (import.meta.main) runCli(USAGE, main);
