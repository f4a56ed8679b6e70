/**
 * Training settings per model, as its tutorial trains it (`full`), the
 * default `quick` variant (all the training data, a few epochs: every model
 * learns clearly and the five notebooks finish in about 15 minutes on a
 * 2-core CPU with the wasm backend) and the tiny variant every smoke run
 * uses (`smoke`). The experiments and
 * `deno task train` both start from {@linkcode trainSettingsFor}; the
 * tutorial figures come from the models registry (`MODELS[name].training`).
 *
 * @example
 * ```ts
 * import { trainSettingsFor } from "./settings.ts";
 * const s = trainSettingsFor("cifar-cnn", "full");
 * console.log(s.optimizer, s.learningRate, s.lrDecay); // "adamax" 0.005 0.9
 * ```
 *
 * @module
 */
import type { Normalization } from "../data/mod.ts";
import {
  MODEL_NAMES,
  type ModelInfo,
  type ModelName,
  MODELS,
} from "../models/mod.ts";
import { DEFAULT_SEED, globalSeed } from "../train/seed.ts";
import type { Scale } from "./scale.ts";

export type { Normalization };

/** Optimizers the tutorials use. */
export type OptimizerName = "adam" | "sgd" | "adamax";

/**
 * What the model's last layer outputs, which decides the loss:
 * probabilities (softmax/sigmoid -> cross-entropy), log-probabilities
 * (log-softmax -> negative log-likelihood) or scores/logits (softmax
 * cross-entropy on the raw outputs). Same names as `classificationLoss`.
 */
export type ModelOutput = "probabilities" | "log-probabilities" | "scores";

/** How one model is trained. Every field is needed; overrides are partial. */
export interface TrainSettings {
  /** Passes over the training data. */
  epochs: number;
  /** Samples per gradient step. */
  batchSize: number;
  /** Optimizer. */
  optimizer: OptimizerName;
  /** Initial learning rate. */
  learningRate: number;
  /** Multiply the learning rate by this each epoch (seed 004: 0.9); null = constant. */
  lrDecay: number | null;
  /** Pixel normalisation (as `toTensors`' `normalize`). */
  normalize: Normalization;
  /** What the model outputs (decides the loss). */
  output: ModelOutput;
  /** Targets one-hot (seed 004's categorical cross-entropy) instead of sparse labels. */
  oneHot: boolean;
  /** Share of the training images held out for validation (Keras `validation_split`); 0 = none. */
  validationFraction: number;
  /** Validate on the main test split each epoch, as seeds 001 and 004 do. */
  validateOnTest: boolean;
  /** Stop when `val_loss` has not improved for this many epochs; null = never. */
  earlyStoppingPatience: number | null;
  /** `model.fit` ("fit") or the hand-written GradientTape-style loop ("loop", seed 003). */
  loop: "fit" | "loop";
  /** Use at most this many training images; null = all. */
  trainLimit: number | null;
  /** Use at most this many images of each test split; null = all. */
  testLimit: number | null;
  /**
   * Seed of weights, shuffling, dropout and subsets. `trainSettingsFor` fills
   * in the run's seed (its `seed` option, else the one given to
   * `setGlobalSeed`, else 42), so a notebook or
   * `deno task reproduce --seed N` seeds every model alike.
   */
  seed: number;
}

/** A model's training recipe. */
export interface ModelRecipe {
  /**
   * Tutorial the recipe comes from ("000".."004"), or "paper" for
   * lenet5-1998; the random seed is `full.seed`.
   */
  tutorial: string;
  /** Dataset the tutorial trains the model on. */
  dataset: string;
  /** Full-scale settings (the tutorial's). */
  full: TrainSettings;
  /** What the recipe does differently from the tutorial, if anything. */
  deviations: string[];
}

/** What the models registry does not say about each tutorial's training. */
const _EXTRA: Readonly<Record<string, Partial<TrainSettings>>> = {
  // Seed 001 passes the test set as validation_data (early stopping watches it).
  "lenet5": { validateOnTest: true },
  // Seed 004: one-hot targets, categorical cross-entropy, test set as validation.
  "cifar-cnn": { oneHot: true, validateOnTest: true },
  // Seed 003 trains with a hand-written GradientTape loop.
  "fashion-lenet-large": { loop: "loop" },
  "fashion-lenet-small": { loop: "loop" },
};

const _DEVIATIONS: Readonly<Record<string, string[]>> = {
  "mobilenet": [
    "training images resized to 32x32 once before fit, not per batch in a " +
    "generator; notebook 000 scores the model as fit() left it and then, as " +
    "an addition, a copy with BatchNormalization recalibrated (precise BN)",
  ],
  "lenet5-32": [
    "no RandomHorizontalFlip augmentation (the seed mirrors digits; left out)",
  ],
  "lenet5-1998": [
    "trained with Adam and softmax cross-entropy on the RBF scores, not the " +
    "paper's stochastic diagonal Levenberg-Marquardt and MAP loss",
  ],
};

function _recipe(name: ModelName): ModelRecipe {
  const info: Pick<ModelInfo, "tutorial" | "training" | "outputKind"> =
    MODELS[name];
  const t = info.training;
  return {
    tutorial: info.tutorial,
    dataset: t.dataset,
    full: {
      epochs: t.epochs,
      batchSize: t.batchSize,
      optimizer: t.optimizer,
      learningRate: t.learningRate,
      lrDecay: t.lrDecayPerEpoch ?? null,
      normalize: t.normalize,
      output: info.outputKind,
      oneHot: false,
      validationFraction: t.validationSplit ?? 0,
      validateOnTest: false,
      earlyStoppingPatience: t.earlyStoppingPatience ?? null,
      loop: "fit",
      trainLimit: null,
      testLimit: null,
      seed: DEFAULT_SEED,
      ..._EXTRA[name],
    },
    deviations: _DEVIATIONS[name] ?? [],
  };
}

/**
 * Each model's tutorial recipe (`full` scale): the models registry's
 * `training` figures plus what the tutorials do beyond them (validation on
 * the test split, one-hot targets, the hand-written loop).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { MODEL_RECIPES } from "./settings.ts";
 * assert.equal(MODEL_RECIPES["lenet5"].full.optimizer, "sgd");
 * ```
 */
export const MODEL_RECIPES: Readonly<Record<string, ModelRecipe>> = Object
  .fromEntries(MODEL_NAMES.map((name) => [name, _recipe(name)]));

/**
 * Smoke-scale overrides: one epoch on a few thousand images (4,000 unless
 * listed here), so a model trains in seconds on a 2-core CPU with the wasm
 * backend. Heavier models get fewer images.
 */
const _SMOKE: Readonly<Record<string, Partial<TrainSettings>>> = {
  "mobilenet": { trainLimit: 256, testLimit: 500, batchSize: 32 },
  "kannada-cnn": { trainLimit: 1000 },
  "fashion-lenet-large": { trainLimit: 2000 },
  "cifar-cnn": { trainLimit: 2000 },
};

/**
 * Quick-scale overrides: the tutorial's optimizer, learning rate and batch
 * size on ALL the training data (or its labelled substitute), for only as
 * many epochs as the model needs to learn clearly, so that the five
 * notebooks take at most about 15 minutes on a 2-core CPU with the wasm
 * backend. Chosen from training speeds measured as images per CPU second
 * (single-threaded wasm, batch as in the tutorial, on a busy 2-core machine):
 * lenet ~2,200, kannada-cnn ~80, mobilenet ~20, lenet5 ~1,250 (hand-written
 * conv layer) / ~1,450, lenet5-32 ~1,850, lenet5-1998 ~1,000,
 * fashion-lenet-large ~310, fashion-lenet-small ~2,750, cifar-cnn ~120.
 * MobileNet alone trains on a subset: one epoch of the 6,300 Kannada
 * substitute images would take over two minutes. Measured at these
 * settings: lenet 91% (Kannada test), lenet5 96%, cifar-cnn 47% (subset),
 * fashion-lenet-large 73%. MobileNet learns (training accuracy 30% -> 54%
 * over the two epochs) but scores chance in inference mode, because after
 * 500 steps BatchNormalization's moving statistics still lag behind the
 * weights; notebook 000 therefore recomputes them after training
 * (`recalibrateBatchNorm`), which gave 71% on 1,000 held-out images
 * (9.8% before).
 */
const _QUICK: Readonly<Record<string, Partial<TrainSettings>>> = {
  // Sigmoid LeNet: near chance for two epochs, then learns (91% after 8).
  "lenet": { epochs: 8 },
  "kannada-cnn": { epochs: 1 },
  "mobilenet": { epochs: 2, trainLimit: 2000, testLimit: 1000 },
  "lenet5": { epochs: 1 },
  "lenet5-32": { epochs: 1 },
  "fashion-lenet-large": { epochs: 1 },
  "fashion-lenet-small": { epochs: 2 },
  "cifar-cnn": { epochs: 3 },
  "lenet5-1998": { epochs: 1 },
};

/**
 * The model names that have a recipe, in the tutorials' order.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { recipeModelNames } from "./settings.ts";
 * assert.ok(recipeModelNames().includes("lenet5"));
 * ```
 */
export function recipeModelNames(): string[] {
  return Object.keys(MODEL_RECIPES);
}

/** Options of {@linkcode trainSettingsFor}. */
export interface TrainSettingsForOptions {
  /** Fields to override after the scale's settings are applied. Default: none. */
  overrides?: Partial<TrainSettings>;
  /**
   * The run's seed. Default: the seed last given to `setGlobalSeed` (a
   * notebook's first cell sets `runConfigFromEnv().seed`), else 42.
   */
  seed?: number;
}

/**
 * The settings `model` is trained with at `scale`: its tutorial's recipe
 * (`full`); at quick scale the same on all the training data for fewer
 * epochs; at smoke scale one epoch on a few thousand images (patience, decay
 * and optimizer kept); then `options.overrides` on top.
 *
 * @example
 * ```ts
 * import { trainSettingsFor } from "./settings.ts";
 * const s = trainSettingsFor("lenet5", "smoke", { overrides: { epochs: 2 } });
 * console.log(s.epochs, s.trainLimit); // 2 4000
 * ```
 */
export function trainSettingsFor(
  model: string,
  scale: Scale,
  options: TrainSettingsForOptions = {},
): TrainSettings {
  const recipe = MODEL_RECIPES[model];
  if (!recipe) {
    throw new Error(
      `No training recipe for model "${model}". Known models: ` +
        `${recipeModelNames().join(", ")}.`,
    );
  }
  const scaled: TrainSettings = scale === "full"
    ? { ...recipe.full }
    : scale === "quick"
    ? { ...recipe.full, ..._QUICK[model] }
    : {
      ...recipe.full,
      epochs: 1,
      trainLimit: 4000,
      testLimit: 1000,
      ..._SMOKE[model],
    };
  const settings = {
    ...scaled,
    seed: options.seed ?? globalSeed() ?? DEFAULT_SEED,
    ...(options.overrides ?? {}),
  };
  _checkSettings(model, settings);
  return settings;
}

function _checkSettings(model: string, s: TrainSettings): void {
  const positiveInt = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`${model}: ${what} must be an integer >= 1, got ${v}.`);
    }
  };
  positiveInt(s.epochs, "epochs");
  positiveInt(s.batchSize, "batchSize");
  if (s.trainLimit !== null) positiveInt(s.trainLimit, "trainLimit");
  if (s.testLimit !== null) positiveInt(s.testLimit, "testLimit");
  if (!(Number.isFinite(s.learningRate) && s.learningRate > 0)) {
    throw new Error(
      `${model}: learningRate must be a finite number > 0, got ${s.learningRate}.`,
    );
  }
  if (
    s.lrDecay !== null && !(Number.isFinite(s.lrDecay) && s.lrDecay > 0)
  ) {
    throw new Error(
      `${model}: lrDecay must be a finite number > 0 or null, got ${s.lrDecay}.`,
    );
  }
  if (s.earlyStoppingPatience !== null) {
    positiveInt(s.earlyStoppingPatience, "earlyStoppingPatience");
  }
  if (!Number.isSafeInteger(s.seed)) {
    throw new Error(`${model}: seed must be an integer, got ${s.seed}.`);
  }
  if (!(s.validationFraction >= 0 && s.validationFraction < 1)) {
    throw new Error(
      `${model}: validationFraction must be in [0, 1), got ${s.validationFraction}.`,
    );
  }
}

/**
 * One sentence saying what running `model` at `scale` changes against its
 * tutorial's settings (`full`): epochs, training and test images, and
 * whether early stopping can still fire. Notebooks print it under their
 * first cell, so a reader of a quick run knows why a model trained one
 * epoch.
 *
 * @example
 * ```ts
 * import { scaleNote } from "./settings.ts";
 * console.log(scaleNote("lenet5", "quick"));
 * // "quick scale: 1 epoch instead of the tutorial's up to 80 ..."
 * ```
 */
export function scaleNote(model: string, scale: Scale): string {
  const full = trainSettingsFor(model, "full");
  const now = trainSettingsFor(model, scale);
  const fmt = (n: number) => n.toLocaleString("en-US");
  const epochs = (n: number) => `${fmt(n)} epoch${n === 1 ? "" : "s"}`;
  const upTo = full.earlyStoppingPatience !== null ? "up to " : "";
  const images = (limit: number | null, what: string) =>
    limit === null ? `all ${what}` : `at most the first ${fmt(limit)} ${what}`;
  if (scale === "full") {
    return `full scale: the tutorial's settings (${upTo}${
      epochs(full.epochs)
    }, all training and test images)`;
  }
  const patience = now.earlyStoppingPatience;
  const canStop = patience !== null && patience < now.epochs;
  const parts = [
    now.epochs === full.epochs
      ? `${upTo}${epochs(now.epochs)}, as the tutorial`
      : `${canStop ? "up to " : ""}${
        epochs(now.epochs)
      } instead of the tutorial's ${upTo}${fmt(full.epochs)}`,
    `${images(now.trainLimit, "training images")}${
      now.trainLimit === full.trainLimit ? ", as the tutorial" : ""
    }`,
    `${images(now.testLimit, "test images")}${
      now.testLimit === full.testLimit ? ", as the tutorial" : ""
    }`,
  ];
  if (patience !== null && !canStop) {
    parts.push(
      `early stopping (patience ${patience}) cannot fire in ${
        epochs(now.epochs)
      }`,
    );
  }
  return `${scale} scale: ${parts.join("; ")}`;
}
