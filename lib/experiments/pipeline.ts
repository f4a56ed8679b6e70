/**
 * The steps every experiment (and `deno task train`) is made of: load a
 * dataset's splits (with the documented substitutes where the offline mirror
 * lacks files), fit the images to a model's input, build and train the model
 * with its tutorial's settings, evaluate it on every test split and turn that
 * into result rows.
 *
 * @example
 * ```ts
 * import { evaluateOnSplits, loadExperimentData, resultRows, trainModel } from "./pipeline.ts";
 * const data = await loadExperimentData("mnist", { trainLimit: 256, testLimit: 256 });
 * const trained = await trainModel("lenet5", data, { scale: "smoke" });
 * const evals = evaluateOnSplits(trained, data);
 * console.log(resultRows("demo", trained, evals, data));
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import { DataUnavailableError } from "../data/mod.ts";
import type { ImageSplit } from "../data/mod.ts";
import { loadSplit } from "../data/mod.ts";
import { shuffledIndices, takeIndices } from "../data/mod.ts";
import type { DatasetName } from "../data/mod.ts";
import { DATASET_NAMES, getDataset } from "../data/mod.ts";
import { type ConfusionMatrix, confusionMatrix } from "../eval/mod.ts";
import { evaluateModel } from "../eval/mod.ts";
import type { EpochRecord, TrainCallback } from "../train/mod.ts";
import { publishedFor } from "./published.ts";
import type { ResultRow } from "./results.ts";
import type { Scale } from "./scale.ts";
import { toTensors } from "../data/mod.ts";
import { MODEL_NAMES } from "../models/mod.ts";
import {
  type Normalization,
  type TrainSettings,
  trainSettingsFor,
} from "./settings.ts";
import {
  _buildNamedModel,
  _checkModelName,
  _fit,
  _modelInputSpec,
} from "./_training.ts";

/** A dataset's splits as one experiment uses them. */
export interface ExperimentData {
  /** Dataset name of the registry. */
  dataset: string;
  /** Training images. */
  train: ImageSplit;
  /** Test splits by name; the first is the main one ("test"; Kannada adds "dig"). */
  tests: Record<string, ImageSplit>;
  /** One line saying what data this really is (substitutes and subsets included). */
  description: string;
  /** True when some split is a stand-in for the official one (say so in every output). */
  substitute: boolean;
}

/** Options of {@linkcode loadExperimentData}. */
export interface LoadExperimentDataOptions {
  /** Use at most this many training images; null/undefined = all. */
  trainLimit?: number | null;
  /** Use at most this many images per test split; null/undefined = all. */
  testLimit?: number | null;
  /** Test splits to load. Default: every non-train split of the dataset ("test", plus "dig" for Kannada). */
  testSplits?: string[];
  /**
   * When the training images cannot be had offline (Kannada-MNIST's are not in
   * the mirror), train on a seeded share of the official test split and test on
   * the rest, labelled as such. Default: true.
   */
  substitute?: boolean;
  /** Share of the official test split used for training in that case. Default: 0.7. */
  substituteTrainFraction?: number;
  /** Seed of the substitute's shuffle. Default: 1. */
  seed?: number;
  /** Data cache folder (see `loadSplit`). Default: the data layer's. */
  dataDir?: string;
  /** Local mirror folder (see `loadSplit`). Default: env `CNN_DATA_MIRROR`. */
  mirror?: string | null;
  /** Never use the network. Default: the data layer's (env `CNN_DATA_OFFLINE`). */
  offline?: boolean;
  /** Show download progress. Default: false. */
  progress?: boolean;
}

/**
 * Checks that `name` is a dataset of the registry and returns it typed.
 *
 * @example
 * ```ts
 * import { parseDatasetName } from "./pipeline.ts";
 * console.log(parseDatasetName("mnist")); // "mnist"
 * ```
 */
export function parseDatasetName(name: string): DatasetName {
  if ((DATASET_NAMES as readonly string[]).includes(name)) {
    return name as DatasetName;
  }
  throw new Error(
    `Unknown dataset "${name}". Known datasets: ${DATASET_NAMES.join(", ")}.`,
  );
}

function _limit(
  split: ImageSplit,
  limit: number | null | undefined,
): ImageSplit {
  if (limit === null || limit === undefined || limit >= split.count) {
    return split;
  }
  return takeIndices(
    split,
    Array.from({ length: limit }, (_, i) => i),
    split.split,
  );
}

/**
 * Loads a dataset's training split and test splits for an experiment. When the
 * training images are unavailable offline it falls back (Kannada-MNIST: part
 * of the official test split; CIFAR-10: the mirror's 4,000/1,000 subset) and
 * says so in `description` and in each split's `note`.
 *
 * @example
 * ```ts
 * import { loadExperimentData } from "./pipeline.ts";
 * const data = await loadExperimentData("kannada-mnist", { trainLimit: 512 });
 * console.log(data.description, Object.keys(data.tests)); // ... ["test", "dig"]
 * ```
 */
export async function loadExperimentData(
  dataset: string,
  options: LoadExperimentDataOptions = {},
): Promise<ExperimentData> {
  const name = parseDatasetName(dataset);
  const info = getDataset(name);
  const testSplits = options.testSplits ??
    Object.keys(info.splits).filter((s) => s !== "train");
  const location = {
    dataDir: options.dataDir,
    mirror: options.mirror,
    offline: options.offline,
    progress: options.progress ?? false,
    allowSubset: true,
  };
  const notes: string[] = [];
  let substitute = false;
  let train: ImageSplit;
  const tests: Record<string, ImageSplit> = {};
  try {
    train = await loadSplit(name, "train", {
      ...location,
      limit: options.trainLimit ?? undefined,
    });
  } catch (e) {
    if (
      !(e instanceof DataUnavailableError) || options.substitute === false ||
      !testSplits.includes("test")
    ) throw e;
    // The official training images cannot be had: split the official test set.
    const official = await loadSplit(name, "test", location);
    const fraction = options.substituteTrainFraction ?? 0.7;
    const order = shuffledIndices(official.count, options.seed ?? 1);
    const cut = Math.round(fraction * official.count);
    const rest = official.count - cut;
    const note = `training images unavailable (${e.file}): trained on images ` +
      `drawn from a seeded ${cut}-image share of the official test split, ` +
      `tested on the other ${rest}`;
    train = {
      ...takeIndices(
        official,
        order.subarray(0, cut),
        `test[${cut} for training]`,
      ),
      note,
    };
    train = _limit(train, options.trainLimit);
    tests.test = {
      ...takeIndices(
        official,
        order.subarray(cut),
        `test[${official.count - cut} held out]`,
      ),
      note,
    };
    substitute = true;
    notes.push(`SUBSTITUTE: ${note}`);
  }
  if (train.note && !substitute) {
    substitute = true;
    notes.push(`SUBSTITUTE: ${train.note}`);
  }
  for (const split of testSplits) {
    if (!tests[split]) tests[split] = await loadSplit(name, split, location);
    tests[split] = _limit(tests[split], options.testLimit);
  }
  const sizes = Object.entries(tests).map(([k, v]) => `${k} ${v.count}`).join(
    ", ",
  );
  const description = `${info.title}: train ${train.count}, ${sizes}` +
    (notes.length ? `. ${notes.join(". ")}` : "");
  return { dataset: name, train, tests, description, substitute };
}

/** How a dataset's images are fitted to a model's input. */
export interface ModelInputPlan {
  /** Input shape the model is built for, `[height, width, channels]`. */
  shape: [number, number, number];
  /** Side images are resized to, or null to keep them. */
  resize: number | null;
  /** How: bilinear interpolation, or padding around the centre (LeNet-5 1998). */
  resizeMethod: "bilinear" | "pad";
  /** Channel conversion: keep, grey to RGB (repeat) or RGB to grey (mean). */
  channels: "keep" | "gray-to-rgb" | "rgb-to-gray";
  /** What was adapted and why ("" when the images go in as they are). */
  note: string;
}

/**
 * Decides how images of `height`x`width`x`channels` go into `model`: the model
 * is built for the images' own shape where its builder allows it; images are
 * resized only where the architecture needs a size (lenet5-32 and mobilenet
 * take 32x32 as their tutorials do; lenet5-1998 takes exactly 32x32x1).
 *
 * @example
 * ```ts
 * import { planModelInput } from "./pipeline.ts";
 * console.log(planModelInput("lenet5-32", { height: 28, width: 28, channels: 1 }).shape); // [32, 32, 1]
 * ```
 */
export function planModelInput(
  model: string,
  image: { height: number; width: number; channels: number },
): ModelInputPlan {
  const spec = _modelInputSpec(model);
  let { height, width } = image;
  let channels = image.channels;
  let resize: number | null = null;
  let conversion: ModelInputPlan["channels"] = "keep";
  const notes: string[] = [];
  if (spec.side !== null && (height !== spec.side || width !== spec.side)) {
    resize = spec.side;
    notes.push(
      `images ${
        spec.resizeMethod === "pad" ? "padded" : "resized"
      } ${height}x${width} -> ` +
        `${spec.side}x${spec.side} (${spec.why})`,
    );
    height = width = spec.side;
  } else if (Math.min(height, width) < spec.minSide) {
    resize = spec.minSide;
    notes.push(
      `images resized ${height}x${width} -> ${spec.minSide}x${spec.minSide} ` +
        `(${model} needs at least ${spec.minSide})`,
    );
    height = width = spec.minSide;
  }
  if (spec.channels !== null && channels !== spec.channels) {
    conversion = spec.channels === 3 ? "gray-to-rgb" : "rgb-to-gray";
    notes.push(
      conversion === "gray-to-rgb"
        ? `grey images repeated to 3 channels (${model} takes RGB)`
        : `RGB images averaged to grey (${model} takes one channel)`,
    );
    channels = spec.channels;
  }
  const tutorial = spec.defaultShape;
  if (
    spec.flexible &&
    (tutorial[0] !== height || tutorial[1] !== width ||
      tutorial[2] !== channels)
  ) {
    notes.push(
      `model built for ${height}x${width}x${channels} input (tutorial: ` +
        `${tutorial.join("x")}), so its parameter count differs`,
    );
  }
  return {
    shape: [height, width, channels],
    resize,
    resizeMethod: spec.resizeMethod,
    channels: conversion,
    note: notes.join("; "),
  };
}

/** Options of {@linkcode toModelTensors}. */
export interface ToModelTensorsOptions {
  /** Pixel normalisation. Default: "unit" (x / 255). */
  normalize?: Normalization;
  /** One-hot targets instead of int32 labels. Default: false. */
  oneHot?: boolean;
}

/**
 * The split's images as a float32 `[N, h, w, c]` tensor fitted to `plan`
 * (resized, channels converted, normalised) and its labels (int32 `[N]` or
 * one-hot `[N, classes]`). The caller disposes both.
 *
 * @example
 * ```ts
 * import { loadSplit } from "../data/mod.ts";
 * import { planModelInput, toModelTensors } from "./pipeline.ts";
 * const test = await loadSplit("mnist", "test", { limit: 10 });
 * const { xs, ys } = toModelTensors(test, planModelInput("lenet5-32", test));
 * console.log(xs.shape, ys.shape); // [10, 32, 32, 1] [10]
 * xs.dispose(); ys.dispose();
 * ```
 */
export function toModelTensors(
  split: ImageSplit,
  plan: ModelInputPlan,
  options: ToModelTensorsOptions = {},
): { xs: tf.Tensor4D; ys: tf.Tensor } {
  const pair = toTensors(split, {
    normalize: options.normalize ?? "unit",
    resize: plan.resize ?? undefined,
    resizeMethod: plan.resizeMethod,
    oneHot: options.oneHot ?? false,
  });
  if (plan.channels === "keep") return pair;
  // Scalar normalisations commute with repeating or averaging channels.
  const xs = tf.tidy(() =>
    plan.channels === "gray-to-rgb"
      ? tf.tile(pair.xs, [1, 1, 1, 3])
      : tf.mean(pair.xs, 3, true)
  ) as tf.Tensor4D;
  pair.xs.dispose();
  return { xs, ys: pair.ys };
}

/** A model after training, with what it took. */
export interface TrainedModel {
  /** Model name of the registry. */
  name: string;
  /**
   * The trained model (the caller disposes it). Its optimizer has been
   * disposed after training, so evaluate, save or predict with it; to train
   * further, compile it again or call {@linkcode trainModel} with `model`.
   */
  model: tf.LayersModel;
  /** The settings it was trained with. */
  settings: TrainSettings;
  /** How the images were fitted to it. */
  plan: ModelInputPlan;
  /** One record per finished epoch. */
  history: EpochRecord[];
  /** Epochs trained (early stopping may end sooner). */
  epochs: number;
  /** Wall-clock seconds of training. */
  trainSeconds: number;
  /** Training images used. */
  trainSamples: number;
  /** Parameters of the model. */
  params: number;
  /** Why training stopped early, if it did. */
  stopReason?: string;
}

/** Options of {@linkcode trainModel}. */
export interface TrainModelOptions {
  /** Scale whose settings apply when `settings` is not given. Default: "smoke". */
  scale?: Scale;
  /** Overrides on top of the model's recipe at `scale`. Default: none. */
  overrides?: Partial<TrainSettings>;
  /** A model built by the caller (e.g. LeNet-5 with the hand-written conv layer). Default: built from the registry for the data's shape. */
  model?: tf.LayersModel;
  /** Extra training callbacks (logs, checkpoints, live charts). Default: none. */
  callbacks?: TrainCallback[];
  /** Progress display in a terminal or the kernel. Default: false. */
  progress?: boolean;
  /** Folder for per-epoch checkpoints, resumed from when it holds some. Default: none. */
  checkpointDir?: string;
  /** Append every epoch's record to this `.csv` or `.jsonl` file. Default: none. */
  logPath?: string;
}

/**
 * Builds `name` for the data's images (or uses `options.model`) and trains it
 * on `data.train` with its tutorial's settings (see `trainSettingsFor`):
 * optimizer, learning rate and its per-epoch decay, validation split or
 * validation on the test split, early stopping, `model.fit` or the
 * hand-written loop.
 *
 * @example
 * ```ts
 * import { loadExperimentData, trainModel } from "./pipeline.ts";
 * const data = await loadExperimentData("mnist", { trainLimit: 256, testLimit: 100 });
 * const trained = await trainModel("lenet5", data, { scale: "smoke" });
 * console.log(trained.trainSeconds, trained.history.length);
 * ```
 */
export async function trainModel(
  name: string,
  data: ExperimentData,
  options: TrainModelOptions = {},
): Promise<TrainedModel> {
  _checkModelName(name);
  const settings = trainSettingsFor(name, options.scale ?? "smoke", {
    overrides: options.overrides,
  });
  const plan = planModelInput(name, data.train);
  const model = options.model ??
    _buildNamedModel(
      name,
      plan.shape,
      data.train.classNames.length,
      settings.seed,
    );
  const train = _limit(data.train, settings.trainLimit);
  // One-hot targets always: the loss for the model's output kind takes them
  // and tfjs then reports categorical accuracy (seed 004 uses them too).
  const tensorOptions = { normalize: settings.normalize, oneHot: true };
  const trainTensors = toModelTensors(train, plan, tensorOptions);
  const mainTest = Object.values(data.tests)[0];
  const validation = settings.validateOnTest && mainTest
    ? toModelTensors(_limit(mainTest, settings.testLimit), plan, tensorOptions)
    : null;
  try {
    const started = performance.now();
    const outcome = await _fit(model, trainTensors, validation, settings, {
      callbacks: options.callbacks ?? [],
      progress: options.progress ?? false,
      checkpointDir: options.checkpointDir,
      logPath: options.logPath,
    });
    const trainSeconds = (performance.now() - started) / 1000;
    return {
      name,
      model,
      settings,
      plan,
      history: outcome.history,
      epochs: outcome.history.length,
      trainSeconds,
      trainSamples: train.count,
      params: model.countParams(),
      stopReason: outcome.stopReason,
    };
  } finally {
    tf.dispose([trainTensors.xs, trainTensors.ys]);
    if (validation) tf.dispose([validation.xs, validation.ys]);
  }
}

/** A trained model's results on one test split. */
export interface SplitEvaluation {
  /** Split name ("test", "dig"). */
  split: string;
  /** Accuracy, 0..1. */
  accuracy: number;
  /** Mean cross-entropy. */
  loss: number;
  /** Images evaluated. */
  count: number;
  /** True class per image. */
  labels: Int32Array;
  /** Predicted class per image. */
  predictions: Int32Array;
  /** Probability of the predicted class per image. */
  scores: Float32Array;
  /** Confusion matrix with the dataset's class names. */
  confusion: ConfusionMatrix;
}

/** Options of {@linkcode evaluateOnSplits}. */
export interface EvaluateOnSplitsOptions {
  /** Evaluate at most this many images per split. Default: the training settings' `testLimit`. */
  limit?: number | null;
  /** Forward-pass batch size. Default: 256. */
  batchSize?: number;
}

/**
 * Evaluates a trained model on every test split of `data` (images fitted as
 * for training), with confusion matrices.
 *
 * @example
 * ```ts
 * import { evaluateOnSplits, loadExperimentData, trainModel } from "./pipeline.ts";
 * const data = await loadExperimentData("kannada-mnist", { trainLimit: 256, testLimit: 256 });
 * const trained = await trainModel("lenet", data);
 * for (const e of await evaluateOnSplits(trained, data)) console.log(e.split, e.accuracy);
 * ```
 */
export async function evaluateOnSplits(
  trained: TrainedModel,
  data: ExperimentData,
  options: EvaluateOnSplitsOptions = {},
): Promise<SplitEvaluation[]> {
  const limit = options.limit === undefined
    ? trained.settings.testLimit
    : options.limit;
  const output = trained.settings.output;
  const evaluations: SplitEvaluation[] = [];
  for (const [split, images] of Object.entries(data.tests)) {
    const part = _limit(images, limit);
    const { xs, ys } = toModelTensors(part, trained.plan, {
      normalize: trained.settings.normalize,
    });
    try {
      const r = await evaluateModel(trained.model, { xs, ys }, {
        batchSize: options.batchSize ?? 256,
        output,
      });
      evaluations.push({
        split,
        accuracy: r.accuracy,
        loss: r.loss,
        count: r.count,
        labels: r.labels,
        predictions: r.predictions,
        scores: r.scores,
        confusion: confusionMatrix(r.labels, r.predictions, {
          classNames: part.classNames,
        }),
      });
    } finally {
      tf.dispose([xs, ys]);
    }
  }
  return evaluations;
}

/** Options of {@linkcode resultRows}. */
export interface ResultRowsOptions {
  /** Backend name to record. Default: `tf.getBackend()`. */
  backend?: string;
}

/**
 * One result row per test split of a trained model, with the published figure
 * for that dataset/split and the data note (substitutes, input adaptation).
 *
 * @example
 * ```ts
 * import { evaluateOnSplits, loadExperimentData, resultRows, trainModel } from "./pipeline.ts";
 * const data = await loadExperimentData("mnist", { trainLimit: 256, testLimit: 100 });
 * const trained = await trainModel("lenet5", data);
 * console.log(resultRows("001-mnist-lenet5", trained, await evaluateOnSplits(trained, data), data));
 * ```
 */
export function resultRows(
  experiment: string,
  trained: TrainedModel,
  evaluations: readonly SplitEvaluation[],
  data: ExperimentData,
  options: ResultRowsOptions = {},
): ResultRow[] {
  const backend = options.backend ?? tf.getBackend();
  return evaluations.map((e) => {
    const published = publishedFor(data.dataset, e.split);
    const split = data.tests[e.split];
    const official = getDataset(data.dataset as DatasetName).splits[e.split]
      ?.count;
    const notes = [
      split?.note ?? "",
      !split?.note && official && e.count < official
        ? `first ${e.count} of ${official} images`
        : "",
      trained.plan.note,
      trained.stopReason ? `stopped early: ${trained.stopReason}` : "",
    ].filter((n) => n !== "");
    return {
      experiment,
      model: trained.name,
      dataset: data.dataset,
      split: e.split,
      accuracy: e.accuracy,
      test_samples: e.count,
      train_samples: trained.trainSamples,
      epochs: trained.epochs,
      train_seconds: trained.trainSeconds,
      backend,
      params: trained.params,
      published: published?.text ?? "",
      published_accuracy: published?.accuracy ?? null,
      data_note: notes.join("; "),
    };
  });
}

/**
 * Names of the models `deno task train` and the experiments can build.
 *
 * @example
 * ```ts
 * import { modelNames } from "./pipeline.ts";
 * console.log(modelNames()); // ["lenet", "kannada-cnn", ...]
 * ```
 */
export function modelNames(): string[] {
  return [...MODEL_NAMES];
}
