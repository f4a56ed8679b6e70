/**
 * Evaluating a trained model on every test split of its data (images fitted
 * as for training), and the result rows those evaluations give beside the
 * published figures. Shared by the notebooks and `deno task train`.
 *
 * @example
 * ```ts
 * import { evaluateOnSplits, resultRows } from "./evaluate.ts";
 * // const evaluations = await evaluateOnSplits(trained, data);
 * // console.table(resultRows("001-mnist-lenet5", trained, evaluations, data));
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import type { DatasetName } from "../data/mod.ts";
import { getDataset } from "../data/mod.ts";
import { type ConfusionMatrix, confusionMatrix } from "../eval/mod.ts";
import { evaluateModel } from "../eval/mod.ts";
import type { EpochRecord } from "../train/mod.ts";
import { type ExperimentData, limitSplit } from "./data.ts";
import { type ModelInputPlan, toModelTensors } from "./input.ts";
import { publishedFor } from "./published.ts";
import type { ResultRow } from "./results.ts";
import type { TrainSettings } from "./settings.ts";

/** A model after training, with what it took. */
export interface TrainedModel {
  /** Model name of the registry (or a label such as "large-same"). */
  name: string;
  /**
   * The trained model (the caller disposes it).
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
 * ```ts ignore
 * import { initBackend } from "../backend/mod.ts";
 * import { buildModelFor } from "../models/mod.ts";
 * import { loadExperimentData } from "./data.ts";
 * import { evaluateOnSplits } from "./evaluate.ts";
 * import { planModelInput } from "./input.ts";
 * import { trainSettingsFor } from "./settings.ts";
 * await initBackend();
 * const data = await loadExperimentData("mnist", { testLimit: 256 });
 * const plan = planModelInput("lenet5", data.train);
 * const model = buildModelFor("lenet5", { inputShape: plan.shape, numClasses: 10 });
 * const settings = trainSettingsFor("lenet5", "smoke");
 * for (const e of await evaluateOnSplits({ model, settings, plan }, data)) console.log(e.split, e.accuracy);
 * ```
 */
export async function evaluateOnSplits(
  trained: Pick<TrainedModel, "model" | "settings" | "plan">,
  data: ExperimentData,
  options: EvaluateOnSplitsOptions = {},
): Promise<SplitEvaluation[]> {
  const limit = options.limit === undefined
    ? trained.settings.testLimit
    : options.limit;
  const output = trained.settings.output;
  const evaluations: SplitEvaluation[] = [];
  for (const [split, images] of Object.entries(data.tests)) {
    const part = limitSplit(images, limit);
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
 * import { resultRows } from "./evaluate.ts";
 * // after training `trained` (a TrainedModel) and evaluating it:
 * // console.table(resultRows("001-mnist-lenet5", trained, evaluations, data));
 * ```
 */
export function resultRows(
  experiment: string,
  trained: Pick<
    TrainedModel,
    | "name"
    | "plan"
    | "epochs"
    | "trainSeconds"
    | "trainSamples"
    | "params"
    | "stopReason"
  >,
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
