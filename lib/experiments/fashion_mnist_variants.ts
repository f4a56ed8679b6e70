/**
 * Seed 003: LeNet variants on Fashion-MNIST trained with the hand-written
 * GradientTape-style loop (Adam, batch 100, running-mean metrics), and the
 * comparison it draws: bigger layers fit better but train slower. Variants:
 * the tutorial's large (32/64 filters, dense 512) and small (6/16, dense 128)
 * networks, each in its 'valid' (Sequential) and 'same' (model class) form.
 *
 * @example
 * ```ts
 * import { fashionVariants, loadFashionData } from "./fashion_mnist_variants.ts";
 * const data = await loadFashionData("smoke");
 * console.log(fashionVariants("smoke").map((v) => v.label), data.description);
 * ```
 *
 * @module
 */
import { buildModel } from "../models/mod.ts";
import type { Padding } from "../models/mod.ts";
import type { TrainCallback } from "../train/mod.ts";
import { dataLimits, type ExperimentData, loadExperimentData } from "./data.ts";
import type { ModelOutcome, TrainedModel } from "./evaluate.ts";
import { trainModel } from "./train_model.ts";
import type { Scale } from "./scale.ts";
import type { TrainSettings } from "./settings.ts";

/** Id of this experiment in reports. */
export const FASHION_ID = "003-fashion-mnist-variants";

/** One LeNet variant of seed 003. */
export interface FashionVariant {
  /** Label in tables and figures, e.g. "large-valid". */
  label: string;
  /** Model of the registry. */
  model: "fashion-lenet-large" | "fashion-lenet-small";
  /** Convolution/pooling padding. */
  padding: Padding;
}

/** Every variant seed 003 shows: large/small, 'valid' (Sequential) and 'same' (class). */
export const FASHION_VARIANTS: readonly FashionVariant[] = [
  { label: "large-valid", model: "fashion-lenet-large", padding: "valid" },
  { label: "small-valid", model: "fashion-lenet-small", padding: "valid" },
  { label: "large-same", model: "fashion-lenet-large", padding: "same" },
  { label: "small-same", model: "fashion-lenet-small", padding: "same" },
];

/**
 * The variants run at a scale: the two 'valid' ones at smoke scale, all four
 * at full scale.
 *
 * @example
 * ```ts
 * import { fashionVariants } from "./fashion_mnist_variants.ts";
 * console.log(fashionVariants("smoke").map((v) => v.label)); // ["large-valid", "small-valid"]
 * ```
 */
export function fashionVariants(scale: Scale): FashionVariant[] {
  return FASHION_VARIANTS.filter((v) =>
    scale === "full" || v.padding === "valid"
  );
}

/** Options of {@linkcode loadFashionData}. */
export interface LoadFashionDataOptions {
  /** Data cache folder. Default: the data layer's. */
  dataDir?: string;
  /** Local dataset mirror. Default: env `CNN_DATA_MIRROR`. */
  mirror?: string | null;
}

/**
 * Fashion-MNIST's training and test splits (subsets at smoke scale).
 *
 * @example
 * ```ts
 * import { loadFashionData } from "./fashion_mnist_variants.ts";
 * const data = await loadFashionData("smoke");
 * console.log(data.train.classNames); // ["T-shirt/top", "Trouser", ...]
 * ```
 */
export async function loadFashionData(
  scale: Scale,
  options: LoadFashionDataOptions = {},
): Promise<ExperimentData> {
  return await loadExperimentData("fashion-mnist", {
    ...dataLimits(["fashion-lenet-large", "fashion-lenet-small"], scale),
    dataDir: options.dataDir,
    mirror: options.mirror,
  });
}

/** Options of {@linkcode trainFashionVariant}. */
export interface TrainFashionVariantOptions {
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
 * Builds one variant and trains it with the hand-written loop (`trainLoop`)
 * as seed 003 does; the result's `name` is the variant's label.
 *
 * @example
 * ```ts
 * import { FASHION_VARIANTS, loadFashionData, trainFashionVariant } from "./fashion_mnist_variants.ts";
 * const data = await loadFashionData("smoke");
 * const small = await trainFashionVariant(FASHION_VARIANTS[1], data);
 * console.log(small.params, small.trainSeconds);
 * ```
 */
export async function trainFashionVariant(
  variant: FashionVariant,
  data: ExperimentData,
  options: TrainFashionVariantOptions = {},
): Promise<TrainedModel> {
  const model = buildModel(variant.model, {
    padding: variant.padding,
    inputShape: [data.train.height, data.train.width, data.train.channels],
    numClasses: data.train.classNames.length,
    seed: options.overrides?.seed ?? 1,
  });
  const trained = await trainModel(variant.model, data, {
    ...options,
    model,
    overrides: { loop: "loop", ...options.overrides },
  });
  return { ...trained, name: variant.label };
}

/**
 * Seed 003's point as a table: accuracy, training time and parameters per
 * variant (feed to `modelComparison`).
 *
 * @example
 * ```ts
 * import { fashionComparison } from "./fashion_mnist_variants.ts";
 * // console.table(fashionComparison(outcomes));
 * ```
 */
export function fashionComparison(
  outcomes: readonly {
    trained: Pick<ModelOutcome["trained"], "name" | "trainSeconds" | "params">;
    evaluations: readonly Pick<
      ModelOutcome["evaluations"][number],
      "accuracy"
    >[];
  }[],
): { model: string; accuracy: number; trainSeconds: number; params: number }[] {
  return outcomes.map((o) => ({
    model: o.trained.name,
    accuracy: o.evaluations[0]?.accuracy ?? NaN,
    trainSeconds: o.trained.trainSeconds,
    params: o.trained.params,
  }));
}
