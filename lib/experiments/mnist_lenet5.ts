/**
 * Seed 001: LeNet-5 on MNIST as a Keras model class, optionally with the
 * tutorial's hand-written convolution layer (`SimpleConv2D`), trained with
 * SGD (lr 0.01, batch 32, up to 80 epochs) and early stopping on the test
 * loss (patience 5), with a per-epoch log.
 *
 * @example
 * ```ts
 * import { lenet5Summary, loadMnistData } from "./mnist_lenet5.ts";
 * const data = await loadMnistData("smoke");
 * console.log(data.description, lenet5Summary());
 * ```
 *
 * @module
 */
import { buildLenet5 } from "../models/lenet5.ts";
import type { TrainCallback } from "../train/mod.ts";
import { dataLimits, type ExperimentData, loadExperimentData } from "./data.ts";
import type { TrainedModel } from "./evaluate.ts";
import { trainModel } from "./train_model.ts";
import type { Scale } from "./scale.ts";
import type { TrainSettings } from "./settings.ts";

/** Id of this experiment in reports. */
export const MNIST_LENET5_ID = "001-mnist-lenet5";

/** Options of {@linkcode loadMnistData}. */
export interface LoadMnistDataOptions {
  /** Data cache folder. Default: the data layer's. */
  dataDir?: string;
  /** Local dataset mirror. Default: env `CNN_DATA_MIRROR`. */
  mirror?: string | null;
  /** Model the data is for (decides the smoke limits). Default: "lenet5". */
  model?: string;
}

/**
 * MNIST's training and test splits (all of them at full scale, the first few
 * hundred at smoke scale).
 *
 * @example
 * ```ts
 * import { loadMnistData } from "./mnist_lenet5.ts";
 * const data = await loadMnistData("smoke");
 * console.log(data.train.count, data.tests.test.count); // 4000 1000
 * ```
 */
export async function loadMnistData(
  scale: Scale,
  options: LoadMnistDataOptions = {},
): Promise<ExperimentData> {
  return await loadExperimentData("mnist", {
    ...dataLimits([options.model ?? "lenet5"], scale),
    dataDir: options.dataDir,
    mirror: options.mirror,
  });
}

/** Options of {@linkcode trainMnistLeNet5}. */
export interface TrainMnistLeNet5Options {
  /** Scale of the settings. Default: "smoke". */
  scale?: Scale;
  /** Convolution layers: tfjs `conv2d` or the hand-written `SimpleConv2D`. Default: "simple". */
  convLayer?: "conv2d" | "simple";
  /** Settings to override. Default: none. */
  overrides?: Partial<TrainSettings>;
  /** Append each epoch's record to this `.csv`/`.jsonl` file. Default: none. */
  logPath?: string;
  /** Show progress. Default: false. */
  progress?: boolean;
  /** Extra callbacks. Default: none. */
  callbacks?: TrainCallback[];
}

/**
 * Builds seed 001's LeNet-5 (with the hand-written conv layer unless told
 * otherwise) and trains it with SGD and early stopping on the test loss.
 *
 * @example
 * ```ts
 * import { loadMnistData, trainMnistLeNet5 } from "./mnist_lenet5.ts";
 * const data = await loadMnistData("smoke");
 * const trained = await trainMnistLeNet5(data, { logPath: "/tmp/lenet5.csv" });
 * console.log(trained.history.map((r) => r.val_loss));
 * ```
 */
export async function trainMnistLeNet5(
  data: ExperimentData,
  options: TrainMnistLeNet5Options = {},
): Promise<TrainedModel> {
  const seed = options.overrides?.seed ?? 1;
  const model = buildLenet5({
    convLayer: options.convLayer ?? "simple",
    inputShape: [data.train.height, data.train.width, data.train.channels],
    numClasses: data.train.classNames.length,
    seed,
  });
  return await trainModel("lenet5", data, { ...options, model });
}

/**
 * The model's layer table as seed 001's `model.summary()` prints it
 * (156, 2,416, 48,120, 10,164 and 850 parameters).
 *
 * @example
 * ```ts
 * import { lenet5Summary } from "./mnist_lenet5.ts";
 * console.log(lenet5Summary());
 * ```
 */
export function lenet5Summary(
  convLayer: "conv2d" | "simple" = "simple",
): string {
  const model = buildLenet5({ convLayer });
  const lines: string[] = [];
  model.summary(undefined, undefined, (line) => lines.push(line));
  model.dispose();
  return lines.join("\n");
}
