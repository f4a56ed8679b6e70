/**
 * `trainModel`: builds a model of the registry for an experiment's data and
 * trains it with its tutorial's settings. Only the old notebooks' train*
 * wrappers still call it; it goes with them once the rewritten notebooks
 * (which train their own models) are merged.
 *
 * @example
 * ```ts
 * import { loadExperimentData } from "./data.ts";
 * import { trainModel } from "./pipeline.ts";
 * const data = await loadExperimentData("mnist", { trainLimit: 256, testLimit: 100 });
 * const trained = await trainModel("lenet5", data, { scale: "smoke" });
 * console.log(trained.trainSeconds, trained.history.length);
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import type { TrainCallback } from "../train/mod.ts";
import { type ExperimentData, limitSplit } from "./data.ts";
import type { TrainedModel } from "./evaluate.ts";
import { parseModelName, planModelInput, toModelTensors } from "./input.ts";
import type { Scale } from "./scale.ts";
import { type TrainSettings, trainSettingsFor } from "./settings.ts";
import { _buildNamedModel, _fit } from "./_training.ts";

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
 * import { loadExperimentData } from "./data.ts";
 * import { trainModel } from "./pipeline.ts";
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
  parseModelName(name);
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
