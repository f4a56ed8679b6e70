/**
 * Loading a dataset's splits as the experiments use them, with the labelled
 * substitutes where the offline mirror lacks files (Kannada-MNIST: part of
 * the official test split; CIFAR-10: the mirror's 4,000/1,000 subset), and
 * the data limits of a scale.
 *
 * @example
 * ```ts ignore
 * import { dataLimits, loadExperimentData } from "./data.ts";
 * const data = await loadExperimentData("mnist", dataLimits(["lenet5"], "smoke"));
 * console.log(data.description);
 * ```
 *
 * @module
 */
import { DataUnavailableError } from "../data/mod.ts";
import type { DatasetName, ImageSplit } from "../data/mod.ts";
import {
  DATASET_NAMES,
  getDataset,
  loadSplit,
  shuffledIndices,
  takeIndices,
} from "../data/mod.ts";
import type { Scale } from "./scale.ts";
import { type TrainSettings, trainSettingsFor } from "./settings.ts";

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
  /** Local mirror folder (see `loadSplit`). Default: none. */
  mirror?: string | null;
  /** Never use the network. Default: false. */
  offline?: boolean;
  /** Show download progress. Default: false. */
  progress?: boolean;
}

/**
 * Checks that `name` is a dataset of the registry and returns it typed.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { parseDatasetName } from "./data.ts";
 * assert.equal(parseDatasetName("mnist"), "mnist");
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

/**
 * The first `limit` images of a split (the split itself when it has no more,
 * or when `limit` is null/undefined).
 *
 * @example
 * ```ts ignore
 * import { loadSplit } from "../data/mod.ts";
 * import { limitSplit } from "./data.ts";
 * const test = await loadSplit("mnist", "test");
 * console.log(limitSplit(test, 100).count); // 100
 * ```
 */
export function limitSplit(
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
 * ```ts ignore
 * import { loadExperimentData } from "./data.ts";
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
    train = limitSplit(train, options.trainLimit);
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
    tests[split] = limitSplit(tests[split], options.testLimit);
  }
  const sizes = Object.entries(tests).map(([k, v]) => `${k} ${v.count}`).join(
    ", ",
  );
  const description = `${info.title}: train ${train.count}, ${sizes}` +
    (notes.length ? `. ${notes.join(". ")}` : "");
  return { dataset: name, train, tests, description, substitute };
}

/**
 * The largest train/test limits any of `models` uses at `scale` (null = all),
 * so one data load serves every model of an experiment.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { dataLimits } from "./data.ts";
 * assert.deepEqual(dataLimits(["lenet", "mobilenet"], "smoke"), { trainLimit: 4000, testLimit: 1000 });
 * ```
 */
export function dataLimits(
  models: readonly string[],
  scale: Scale,
  overrides: Partial<TrainSettings> = {},
): { trainLimit: number | null; testLimit: number | null } {
  const all = models.map((m) => trainSettingsFor(m, scale, { overrides }));
  const most = (values: (number | null)[]) =>
    values.includes(null) ? null : Math.max(...(values as number[]));
  return {
    trainLimit: most(all.map((s) => s.trainLimit)),
    testLimit: most(all.map((s) => s.testLimit)),
  };
}
