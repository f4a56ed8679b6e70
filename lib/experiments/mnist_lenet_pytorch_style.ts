/**
 * Seed 002: the PyTorch-style LeNet on MNIST: images resized to 32x32 and
 * standardised (mean 0.1307, std 0.3081), log-softmax output, Adam (lr
 * 0.001, batch 64, 5 epochs), loss and accuracy curves, save and load, and
 * predictions for digit image files (PNG/JPEG).
 *
 * @example
 * ```ts
 * import { loadPyTorchStyleData, MNIST_NORMALIZE } from "./mnist_lenet_pytorch_style.ts";
 * const data = await loadPyTorchStyleData("smoke");
 * console.log(data.description, MNIST_NORMALIZE);
 * ```
 *
 * @module
 */
import { join } from "node:path";
import type * as tf from "../tf.ts";
import type { ImageSplit } from "../data/mod.ts";
import {
  type ImagePrediction,
  predictImageFile,
  writeImageFile,
} from "../eval/mod.ts";
import { loadModel, saveModel } from "../models/mod.ts";
import type { TrainCallback } from "../train/mod.ts";
import { loadMnistData } from "./mnist_lenet5.ts";
import type { ExperimentData } from "./data.ts";
import type { TrainedModel } from "./evaluate.ts";
import { trainModel } from "./train_model.ts";
import type { Scale } from "./scale.ts";
import type { TrainSettings } from "./settings.ts";

/** Id of this experiment in reports. */
export const PYTORCH_STYLE_ID = "002-mnist-lenet-pytorch-style";

/** The normalisation seed 002 applies after `ToTensor` (MNIST's mean and std). */
export const MNIST_NORMALIZE: { mean: number; std: number } = {
  mean: 0.1307,
  std: 0.3081,
};

/** Options of {@linkcode loadPyTorchStyleData}. */
export interface LoadPyTorchStyleDataOptions {
  /** Data cache folder. Default: the data layer's. */
  dataDir?: string;
  /** Local dataset mirror. Default: env `CNN_DATA_MIRROR`. */
  mirror?: string | null;
}

/**
 * MNIST for seed 002 (the 32x32 resize and normalisation happen when the
 * images are turned into tensors for the model).
 *
 * @example
 * ```ts
 * import { loadPyTorchStyleData } from "./mnist_lenet_pytorch_style.ts";
 * const data = await loadPyTorchStyleData("smoke");
 * console.log(data.description);
 * ```
 */
export async function loadPyTorchStyleData(
  scale: Scale,
  options: LoadPyTorchStyleDataOptions = {},
): Promise<ExperimentData> {
  return await loadMnistData(scale, { ...options, model: "lenet5-32" });
}

/** Options of {@linkcode trainPyTorchStyleLeNet}. */
export interface TrainPyTorchStyleLeNetOptions {
  /** Scale of the settings. Default: "smoke". */
  scale?: Scale;
  /** Settings to override. Default: none. */
  overrides?: Partial<TrainSettings>;
  /** Show progress. Default: false. */
  progress?: boolean;
  /** Extra callbacks. Default: none. */
  callbacks?: TrainCallback[];
}

/**
 * Trains seed 002's LeNet ("lenet5-32") with Adam on 32x32 standardised
 * images (negative log-likelihood on its log-softmax output).
 *
 * @example
 * ```ts
 * import { loadPyTorchStyleData, trainPyTorchStyleLeNet } from "./mnist_lenet_pytorch_style.ts";
 * const data = await loadPyTorchStyleData("smoke");
 * const trained = await trainPyTorchStyleLeNet(data);
 * console.log(trained.history.map((r) => [r.loss, r.acc]));
 * ```
 */
export async function trainPyTorchStyleLeNet(
  data: ExperimentData,
  options: TrainPyTorchStyleLeNetOptions = {},
): Promise<TrainedModel> {
  return await trainModel("lenet5-32", data, options);
}

/**
 * Saves a model as a `file://`-style folder (`model.json` + weights) and
 * loads it back, as seed 002 does with `torch.save` / `torch.load`.
 *
 * @example
 * ```ts
 * import { saveAndReload } from "./mnist_lenet_pytorch_style.ts";
 * // const reloaded = await saveAndReload(trained.model, "/tmp/lenet5-32");
 * ```
 */
export async function saveAndReload(
  model: tf.LayersModel,
  dir: string,
): Promise<tf.LayersModel> {
  await saveModel(model, dir);
  return await loadModel(dir);
}

/** Options of {@linkcode writeDigitSamples}. */
export interface WriteDigitSamplesOptions {
  /** How many images. Default: 5. */
  count?: number;
  /** Write black digits on white paper (as a scan would be) instead of MNIST's white on black. Default: true. */
  paper?: boolean;
}

/**
 * Writes the first images of a split as PNG files `digit-<i>-<label>.png`,
 * black on white by default like a photographed digit, and returns their
 * paths (the notebook's "digit image files made by the project").
 *
 * @example
 * ```ts
 * import { loadMnistData } from "./mnist_lenet5.ts";
 * import { writeDigitSamples } from "./mnist_lenet_pytorch_style.ts";
 * const data = await loadMnistData("smoke");
 * console.log(await writeDigitSamples(data.tests.test, "/tmp/digits", { count: 3 }));
 * ```
 */
export async function writeDigitSamples(
  split: ImageSplit,
  dir: string,
  options: WriteDigitSamplesOptions = {},
): Promise<string[]> {
  const count = Math.min(options.count ?? 5, split.count);
  const size = split.height * split.width * split.channels;
  await Deno.mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const pixels = split.images.slice(i * size, (i + 1) * size);
    if (options.paper ?? true) {
      for (let j = 0; j < size; j++) pixels[j] = 255 - pixels[j];
    }
    const path = join(dir, `digit-${i}-${split.labels[i]}.png`);
    await writeImageFile(path, {
      data: pixels,
      height: split.height,
      width: split.width,
      channels: split.channels as 1 | 3,
    });
    paths.push(path);
  }
  return paths;
}

/**
 * Predicts the digit in each image file with seed 002's preprocessing
 * (grayscale, invert to white-on-black when needed, resize to the model's
 * input, normalise with MNIST's mean and std).
 *
 * @example
 * ```ts
 * import { predictDigitFiles } from "./mnist_lenet_pytorch_style.ts";
 * // for (const p of await predictDigitFiles(model, ["digit.png"])) console.log(p.className, p.probability);
 * ```
 */
export async function predictDigitFiles(
  model: tf.LayersModel,
  paths: readonly string[],
): Promise<ImagePrediction[]> {
  const out: ImagePrediction[] = [];
  for (const path of paths) {
    out.push(
      await predictImageFile(model, path, {
        normalize: MNIST_NORMALIZE,
        output: "log-probabilities",
      }),
    );
  }
  return out;
}
