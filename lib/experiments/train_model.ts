/**
 * `trainModel`: builds a model of the registry for an experiment's data and
 * trains it with its settings (scale, tutorial recipe, overrides) through
 * lib/train (`fitModel` or the hand-written `trainLoop`). Shared by
 * `deno task train` and the notebooks that train a library model next to
 * their own.
 *
 * @example
 * ```ts ignore
 * import { loadExperimentData } from "./data.ts";
 * import { trainModel } from "./train_model.ts";
 * const data = await loadExperimentData("mnist", { trainLimit: 256, testLimit: 100 });
 * const trained = await trainModel("lenet5", data, { scale: "smoke" });
 * console.log(trained.trainSeconds, trained.history.length);
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import { buildModelFor, classificationLoss } from "../models/mod.ts";
import {
  earlyStopping,
  exponentialDecay,
  fitModel,
  scheduleLearningRate,
  setGlobalSeed,
  stopOnNaN,
  type TrainCallback,
  type TrainData,
  trainLoop,
  type TrainResult,
} from "../train/mod.ts";
import { type ExperimentData, limitSplit } from "./data.ts";
import type { TrainedModel } from "./evaluate.ts";
import { parseModelName, planModelInput, toModelTensors } from "./input.ts";
import type { Scale } from "./scale.ts";
import { type TrainSettings, trainSettingsFor } from "./settings.ts";

/** Options of {@linkcode trainModel}. */
export interface TrainModelOptions {
  /** Scale whose settings apply when `settings` is not given. Default: "smoke". */
  scale?: Scale;
  /** Overrides on top of the model's recipe at `scale`. Default: none. */
  overrides?: Partial<TrainSettings>;
  /**
   * The complete settings, as `trainSettingsFor` gives them (then `scale`
   * and `overrides` are not used). Default: `trainSettingsFor(name, scale,
   * { overrides })`.
   */
  settings?: TrainSettings;
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
 * hand-written loop. It first seeds every random draw with `settings.seed`
 * (`setGlobalSeed`: initial weights, batch order, dropout masks), so the same
 * model, settings and data train to the same numbers wherever it runs (a
 * notebook, `deno task train`) on the same backend.
 *
 * @example
 * ```ts ignore
 * import { loadExperimentData } from "./data.ts";
 * import { trainModel } from "./train_model.ts";
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
  const modelName = parseModelName(name);
  const settings = options.settings ??
    trainSettingsFor(name, options.scale ?? "smoke", {
      overrides: options.overrides,
    });
  const plan = planModelInput(name, data.train);
  // Seeded here, just before the model is built, so what ran before (other
  // models, figures, data loading) cannot shift the random sequence.
  setGlobalSeed(settings.seed);
  const model = options.model ??
    buildModelFor(modelName, {
      inputShape: plan.shape,
      numClasses: data.train.classNames.length,
      seed: settings.seed,
    });
  const train = limitSplit(data.train, settings.trainLimit);
  // One-hot targets always: the loss for the model's output kind takes them
  // and tfjs then reports categorical accuracy (seed 004 uses them too).
  const tensorOptions = { normalize: settings.normalize, oneHot: true };
  const trainTensors = toModelTensors(train, plan, tensorOptions);
  const mainTest = Object.values(data.tests)[0];
  const validation = settings.validateOnTest && mainTest
    ? toModelTensors(
      limitSplit(mainTest, settings.testLimit),
      plan,
      tensorOptions,
    )
    : null;
  try {
    const started = performance.now();
    const result = await _fit(model, trainTensors, validation, settings, {
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
      history: result.records,
      epochs: result.records.length,
      trainSeconds,
      trainSamples: train.count,
      params: model.countParams(),
      stopReason: result.stopReason ?? undefined,
    };
  } finally {
    tf.dispose([trainTensors.xs, trainTensors.ys]);
    if (validation) tf.dispose([validation.xs, validation.ys]);
  }
}

/** The optimizer of the settings, at their initial learning rate. */
function _optimizer(settings: TrainSettings): tf.Optimizer {
  switch (settings.optimizer) {
    case "adam":
      return tf.train.adam(settings.learningRate);
    case "sgd":
      return tf.train.sgd(settings.learningRate);
    case "adamax":
      return tf.train.adamax(settings.learningRate);
  }
}

/** Extra knobs of {@linkcode _fit}. */
interface _FitExtras {
  callbacks: TrainCallback[];
  progress: boolean;
  checkpointDir?: string;
  logPath?: string;
}

/**
 * Trains `model` on one-hot targets with the settings' optimizer, loss for
 * its output kind, learning-rate decay and early stopping, via `fitModel` or
 * the hand-written `trainLoop`.
 */
async function _fit(
  model: tf.LayersModel,
  train: TrainData,
  validation: TrainData | null,
  settings: TrainSettings,
  extras: _FitExtras,
): Promise<TrainResult> {
  const optimizer = _optimizer(settings);
  const loss = classificationLoss(settings.output);
  const callbacks: TrainCallback[] = [stopOnNaN()];
  const validates = validation !== null || settings.validationFraction > 0;
  if (settings.lrDecay !== null) {
    callbacks.push(
      scheduleLearningRate(
        exponentialDecay(settings.learningRate, settings.lrDecay),
      ),
    );
  }
  if (settings.earlyStoppingPatience !== null && validates) {
    callbacks.push(
      earlyStopping({
        monitor: "val_loss",
        patience: settings.earlyStoppingPatience,
      }),
    );
  }
  callbacks.push(...extras.callbacks);
  const common = {
    epochs: settings.epochs,
    batchSize: settings.batchSize,
    validationData: validation ?? undefined,
    validationSplit: validation
      ? undefined
      : settings.validationFraction || undefined,
    seed: settings.seed,
    callbacks,
    progress: extras.progress ? "auto" as const : "none" as const,
    checkpointDir: extras.checkpointDir,
    resume: extras.checkpointDir !== undefined,
    logPath: extras.logPath,
  };
  try {
    if (settings.loop === "loop") {
      return await trainLoop(model, train, { ...common, optimizer, loss });
    }
    model.compile({ optimizer, loss, metrics: ["accuracy"] });
    return await fitModel(model, train, common);
  } finally {
    // The optimizer's slots (Adam's moments...) are not freed with the
    // model; the trained model is for evaluation, so free them now.
    optimizer.dispose();
  }
}
