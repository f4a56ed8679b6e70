// Private glue between the experiments and the models/train modules: what
// input each model takes, building it for a dataset, and one training run
// with a tutorial's settings (optimizer, loss, callbacks, loop).
import * as tf from "../tf.ts";
import { buildModelFor } from "../models/mod.ts";
import { parseModelName } from "./input.ts";
import { classificationLoss } from "../models/mod.ts";
import { fitModel } from "../train/mod.ts";
import { trainLoop } from "../train/mod.ts";
import {
  earlyStopping,
  exponentialDecay,
  scheduleLearningRate,
  stopOnNaN,
} from "../train/mod.ts";
import type { EpochRecord, TrainCallback, TrainData } from "../train/mod.ts";
import type { TrainSettings } from "./settings.ts";

/** Builds `name` for `shape` with `numClasses` outputs and seeded weights. */
export function _buildNamedModel(
  name: string,
  shape: [number, number, number],
  numClasses: number,
  seed: number,
): tf.LayersModel {
  return buildModelFor(parseModelName(name), {
    inputShape: shape,
    numClasses,
    seed,
  });
}

/** The optimizer of the settings, at their initial learning rate. */
export function _makeOptimizer(settings: TrainSettings): tf.Optimizer {
  switch (settings.optimizer) {
    case "adam":
      return tf.train.adam(settings.learningRate);
    case "sgd":
      return tf.train.sgd(settings.learningRate);
    case "adamax":
      return tf.train.adamax(settings.learningRate);
  }
}

/** What {@linkcode _fit} returns. */
export interface _FitOutcome {
  history: EpochRecord[];
  stopReason?: string;
}

/** Extra knobs of {@linkcode _fit}. */
export interface _FitExtras {
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
export async function _fit(
  model: tf.LayersModel,
  train: TrainData,
  validation: TrainData | null,
  settings: TrainSettings,
  extras: _FitExtras,
): Promise<_FitOutcome> {
  const optimizer = _makeOptimizer(settings);
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
    const result = settings.loop === "loop"
      ? await trainLoop(model, train, { ...common, optimizer, loss })
      : await (() => {
        model.compile({ optimizer, loss, metrics: ["accuracy"] });
        return fitModel(model, train, common);
      })();
    return {
      history: result.records,
      stopReason: result.stopReason ?? undefined,
    };
  } finally {
    // The optimizer's slots (Adam's moments...) are not freed with the
    // model; the trained model is for evaluation, so free them now.
    optimizer.dispose();
  }
}
