/**
 * The registry of the project's models: one entry per name of the shared
 * contract, with its builder, tutorial, input shape, parameter counts, output
 * kind and the tutorial's training settings.
 *
 * @module
 */
import type * as tf from "../tf.ts";
import type { ImageShape } from "./_common.ts";
import { buildCifarCnn, type CifarCnnArgs } from "./cifar_cnn.ts";
import { buildFashionLenet, type FashionLenetArgs } from "./fashion_lenet.ts";
import { buildKannadaCnn, type KannadaCnnArgs } from "./kannada_cnn.ts";
import { buildLenet, type LenetArgs } from "./lenet.ts";
import { buildLenet5, type Lenet5Args } from "./lenet5.ts";
import { buildLenet5_32, type Lenet5_32Args } from "./lenet5_32.ts";
import { buildLenet5_1998, type Lenet5_1998Args } from "./lenet5_1998.ts";
import type { OutputKind } from "./losses.ts";
import { buildMobileNet, type MobileNetArgs } from "./mobilenet.ts";

/** Names of the models, as used by `deno task train --model`. */
export const MODEL_NAMES = [
  "lenet",
  "kannada-cnn",
  "mobilenet",
  "lenet5",
  "lenet5-32",
  "fashion-lenet-large",
  "fashion-lenet-small",
  "cifar-cnn",
  "lenet5-1998",
] as const;

/** A model name of {@linkcode MODEL_NAMES}. */
export type ModelName = typeof MODEL_NAMES[number];

/** The builder options each model name accepts. */
export interface ModelOptions {
  /** Options of {@linkcode buildLenet}. */
  "lenet": LenetArgs;
  /** Options of {@linkcode buildKannadaCnn}. */
  "kannada-cnn": KannadaCnnArgs;
  /** Options of {@linkcode buildMobileNet}. */
  "mobilenet": MobileNetArgs;
  /** Options of {@linkcode buildLenet5}. */
  "lenet5": Lenet5Args;
  /** Options of {@linkcode buildLenet5_32}. */
  "lenet5-32": Lenet5_32Args;
  /** Options of {@linkcode buildFashionLenet} (variant "large"). */
  "fashion-lenet-large": Omit<FashionLenetArgs, "variant">;
  /** Options of {@linkcode buildFashionLenet} (variant "small"). */
  "fashion-lenet-small": Omit<FashionLenetArgs, "variant">;
  /** Options of {@linkcode buildCifarCnn}. */
  "cifar-cnn": CifarCnnArgs;
  /** Options of {@linkcode buildLenet5_1998}. */
  "lenet5-1998": Lenet5_1998Args;
}

/** How a tutorial trains its model (what `deno task train` uses by default). */
export interface TutorialTraining {
  /** Dataset the tutorial trains on. */
  dataset: "mnist" | "fashion-mnist" | "kannada-mnist" | "cifar10";
  /** Optimizer name. */
  optimizer: "adam" | "sgd" | "adamax";
  /** Initial learning rate (Keras/PyTorch defaults written out). */
  learningRate: number;
  /** Learning-rate factor per epoch (`lr0 * decay^epoch`), if any. */
  lrDecayPerEpoch?: number;
  /** Batch size. */
  batchSize: number;
  /** Epochs. */
  epochs: number;
  /** Fraction of the training set held out for validation, if any. */
  validationSplit?: number;
  /** Early-stopping patience on `val_loss`, if any. */
  earlyStoppingPatience?: number;
  /** Input normalisation, as `toTensors`' `normalize` option. */
  normalize: "unit" | "centered" | { mean: number; std: number };
}

/**
 * What input a model accepts: the facts a caller needs to fit a dataset's
 * images to it (see `planModelInput` in lib/experiments).
 */
export interface ModelInputRequirements {
  /** Exact side the images must be resized to, or null when any side works. */
  side: number | null;
  /** How to reach `side`: bilinear resize, or padding around the centre (LeCun 1998). */
  resizeMethod: "bilinear" | "pad";
  /** Smallest side the architecture accepts. */
  minSide: number;
  /** Channels the model must have, or null when it is built for any. */
  channels: number | null;
  /** Whether the builder takes an `inputShape` (false: fixed input). */
  flexible: boolean;
  /** Why the side or channels are fixed ("" when they are not). */
  why: string;
}

/** Builder options every model takes, whatever its name. */
export interface ModelInputOptions {
  /** Input `[height, width, channels]`; ignored by models with a fixed input. */
  inputShape: ImageShape;
  /** Number of classes. */
  numClasses: number;
  /** Seed of the initial weights. Default: unseeded (tfjs draws from `Math.random`). */
  seed?: number;
}

// Most builders take any input of at least 16x16.
const _ANY_INPUT: ModelInputRequirements = {
  side: null,
  resizeMethod: "bilinear",
  minSide: 16,
  channels: null,
  flexible: true,
  why: "",
};

/** One entry of {@linkcode MODELS}. */
export interface ModelInfo<N extends ModelName = ModelName> {
  /** Registry name. */
  name: N;
  /** One line saying what the model is. */
  description: string;
  /**
   * Tutorial it comes from ("000".."004", the file number in
   * `../shared/seeds/`), or "paper" for LeNet-5 1998. Not a random seed.
   */
  tutorial: "000" | "001" | "002" | "003" | "004" | "paper";
  /** Default input `[height, width, channels]`. */
  inputShape: ImageShape;
  /** What input it accepts (fixed sides, channels, how to resize). */
  input: ModelInputRequirements;
  /** Total parameters with default options (Keras' "Total params"). */
  paramCount: number;
  /** Trainable parameters with default options. */
  trainableParams: number;
  /** What the output layer produces, to pick the loss. */
  outputKind: OutputKind;
  /** The tutorial's training settings. */
  training: TutorialTraining;
  /** Builds a fresh model. */
  build: (options?: ModelOptions[N]) => tf.LayersModel;
  /** Builds a fresh model for an input shape and class count. */
  buildFor: (options: ModelInputOptions) => tf.LayersModel;
}

// Seed 000 compiles and fits its LeNet and its custom CNN identically.
const _SEED_000_TRAINING: TutorialTraining = {
  dataset: "kannada-mnist",
  optimizer: "adam",
  learningRate: 0.001,
  batchSize: 32,
  epochs: 5,
  validationSplit: 0.1,
  normalize: "unit",
};

/** Every model of the project, by name. */
export const MODELS: { readonly [N in ModelName]: ModelInfo<N> } = {
  /** Options of {@linkcode buildLenet}. */
  "lenet": {
    name: "lenet",
    description:
      "tutorial 000's sequential LeNet: sigmoid, max-pool, 6/16 filters, dense 120/84/10",
    tutorial: "000",
    inputShape: [28, 28, 1],
    input: _ANY_INPUT,
    paramCount: 44_426,
    trainableParams: 44_426,
    outputKind: "probabilities",
    training: { ..._SEED_000_TRAINING },
    build: (o) => buildLenet(o),
    buildFor: (o) => buildLenet(o),
  },
  /** Options of {@linkcode buildKannadaCnn}. */
  "kannada-cnn": {
    name: "kannada-cnn",
    description:
      "tutorial 000's custom CNN: conv 32-32-64-64 'same' with dropout, dense 256",
    tutorial: "000",
    inputShape: [28, 28, 1],
    input: _ANY_INPUT,
    paramCount: 887_530,
    trainableParams: 887_530,
    outputKind: "probabilities",
    training: { ..._SEED_000_TRAINING },
    build: (o) => buildKannadaCnn(o),
    buildFor: (o) => buildKannadaCnn(o),
  },
  /** Options of {@linkcode buildMobileNet}. */
  "mobilenet": {
    name: "mobilenet",
    description:
      "tutorial 000's Keras MobileNet v1 (32x32x1, no top, no weights) + global average pooling, dense 1024, softmax",
    tutorial: "000",
    inputShape: [32, 32, 1],
    input: {
      ..._ANY_INPUT,
      side: 32,
      minSide: 32,
      why: "seed 000 resizes to 32x32 for MobileNet",
    },
    paramCount: 4_288_138,
    trainableParams: 4_266_250,
    outputKind: "probabilities",
    training: {
      dataset: "kannada-mnist",
      optimizer: "adam",
      learningRate: 0.001,
      batchSize: 8,
      epochs: 10,
      normalize: "unit",
    },
    build: (o) => buildMobileNet(o),
    buildFor: (o) => buildMobileNet(o),
  },
  /** Options of {@linkcode buildLenet5}. */
  "lenet5": {
    name: "lenet5",
    description:
      "tutorial 001's Keras LeNet-5: ReLU, 'same' first conv, max-pool, dense 120/84/10 softmax",
    tutorial: "001",
    inputShape: [28, 28, 1],
    input: _ANY_INPUT,
    paramCount: 61_706,
    trainableParams: 61_706,
    outputKind: "probabilities",
    training: {
      dataset: "mnist",
      optimizer: "sgd",
      learningRate: 0.01,
      batchSize: 32,
      epochs: 80,
      earlyStoppingPatience: 5,
      normalize: "unit",
    },
    build: (o) => buildLenet5(o),
    buildFor: (o) => buildLenet5(o),
  },
  /** Options of {@linkcode buildLenet5_32}. */
  "lenet5-32": {
    name: "lenet5-32",
    description:
      "tutorial 002's PyTorch LeNet on 32x32 input: valid convs, max-pool, fc 120/84/10, log-softmax",
    tutorial: "002",
    inputShape: [32, 32, 1],
    input: { ..._ANY_INPUT, side: 32, why: "seed 002 resizes to 32x32" },
    paramCount: 61_706,
    trainableParams: 61_706,
    outputKind: "log-probabilities",
    training: {
      dataset: "mnist",
      optimizer: "adam",
      learningRate: 0.001,
      batchSize: 64,
      epochs: 5,
      normalize: { mean: 0.1307, std: 0.3081 },
    },
    build: (o) => buildLenet5_32(o),
    buildFor: (o) => buildLenet5_32(o),
  },
  /** Options of {@linkcode buildFashionLenet} (variant "large"). */
  "fashion-lenet-large": {
    name: "fashion-lenet-large",
    description:
      "tutorial 003's LeNet for Fashion-MNIST: conv 32/64, dense 512, sigmoid ('valid'; padding option)",
    tutorial: "003",
    inputShape: [28, 28, 1],
    input: _ANY_INPUT,
    paramCount: 582_026,
    trainableParams: 582_026,
    outputKind: "probabilities",
    training: {
      dataset: "fashion-mnist",
      optimizer: "adam",
      learningRate: 0.001,
      batchSize: 100,
      epochs: 40,
      normalize: "unit",
    },
    build: (o) => buildFashionLenet({ ...o, variant: "large" }),
    buildFor: (o) => buildFashionLenet({ ...o, variant: "large" }),
  },
  /** Options of {@linkcode buildFashionLenet} (variant "small"). */
  "fashion-lenet-small": {
    name: "fashion-lenet-small",
    description:
      "tutorial 003's smaller LeNet: conv 6/16, dense 128, sigmoid ('valid'; padding option)",
    tutorial: "003",
    inputShape: [28, 28, 1],
    input: _ANY_INPUT,
    paramCount: 36_758,
    trainableParams: 36_758,
    outputKind: "probabilities",
    training: {
      dataset: "fashion-mnist",
      optimizer: "adam",
      learningRate: 0.001,
      batchSize: 100,
      epochs: 10,
      normalize: "unit",
    },
    build: (o) => buildFashionLenet({ ...o, variant: "small" }),
    buildFor: (o) => buildFashionLenet({ ...o, variant: "small" }),
  },
  /** Options of {@linkcode buildCifarCnn}. */
  "cifar-cnn": {
    name: "cifar-cnn",
    description:
      "tutorial 004's CIFAR-10 CNN: conv 16-32-32-64 'same', LeakyReLU 0.1, dropout, dense 256",
    tutorial: "004",
    inputShape: [32, 32, 3],
    input: _ANY_INPUT,
    paramCount: 1_084_234,
    trainableParams: 1_084_234,
    outputKind: "probabilities",
    training: {
      dataset: "cifar10",
      optimizer: "adamax",
      learningRate: 5e-3,
      lrDecayPerEpoch: 0.9,
      batchSize: 32,
      epochs: 10,
      normalize: "centered",
    },
    build: (o) => buildCifarCnn(o),
    buildFor: (o) => buildCifarCnn(o),
  },
  /** Options of {@linkcode buildLenet5_1998}. */
  "lenet5-1998": {
    name: "lenet5-1998",
    description:
      "LeNet-5 as in LeCun et al. 1998: scaled tanh, trainable subsampling, C3 table, C5 conv, F6 84, Euclidean RBF",
    tutorial: "paper",
    inputShape: [32, 32, 1],
    input: {
      side: 32,
      resizeMethod: "pad",
      minSide: 32,
      channels: 1,
      flexible: false,
      why: "the 1998 LeNet-5 takes 32x32x1, digits padded as in the paper",
    },
    paramCount: 60_840,
    trainableParams: 60_000,
    outputKind: "scores",
    training: {
      dataset: "mnist",
      optimizer: "adam",
      learningRate: 0.001,
      batchSize: 32,
      epochs: 10,
      normalize: "unit",
    },
    build: (o) => buildLenet5_1998(o),
    buildFor: (o) =>
      buildLenet5_1998({ numClasses: o.numClasses, seed: o.seed }),
  },
};

/**
 * Builds the model registered under `name` with the given builder options.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildModel } from "./registry.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = buildModel("fashion-lenet-small", { padding: "same", seed: 1 });
 * assert.equal(model.countParams(), 104342);
 * ```
 */
export function buildModel<N extends ModelName>(
  name: N,
  options?: ModelOptions[N],
): tf.LayersModel {
  return modelInfo(name).build(options);
}

/**
 * The registry entry of `name`, typed by the name. Throws a clear error for a
 * name that is not registered (callers from plain JavaScript or the CLIs).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { modelInfo } from "./registry.ts";
 * assert.equal(modelInfo("mobilenet").input.side, 32);
 * ```
 */
export function modelInfo<N extends ModelName>(name: N): ModelInfo<N> {
  if (!isModelName(name)) {
    throw new Error(
      `Unknown model "${name}". Known models: ${MODEL_NAMES.join(", ")} ` +
        "(`deno task train --list` shows them with their parameter counts).",
    );
  }
  return MODELS[name];
}

/**
 * Builds `name` for an input shape and class count, whatever builder options
 * its name takes (models with a fixed input ignore `inputShape`; check
 * {@linkcode ModelInputRequirements} first).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildModelFor } from "./registry.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = buildModelFor("cifar-cnn", { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
 * assert.deepEqual(model.inputs[0].shape, [null, 28, 28, 1]);
 * ```
 */
export function buildModelFor(
  name: ModelName,
  options: ModelInputOptions,
): tf.LayersModel {
  return modelInfo(name).buildFor(options);
}

/**
 * Whether `name` is a registered model name.
 *
 * @example
 * ```ts
 * import { isModelName } from "./registry.ts";
 * console.log(isModelName("lenet5"), isModelName("resnet")); // true false
 * ```
 */
export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}
