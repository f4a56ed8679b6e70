/**
 * The typed registry of the datasets the tutorials use: for every file its
 * canonical URLs, size and checksum; for every dataset its class names, image
 * shape and how each split is stored.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { DATASETS } from "./registry.ts";
 * assert.equal(DATASETS.mnist.classNames.length, 10);
 * assert.deepEqual(DATASETS.cifar10.imageShape, [32, 32, 3]);
 * ```
 *
 * @module
 */

/** Names of the datasets in the registry. */
export type DatasetName =
  | "mnist"
  | "fashion-mnist"
  | "kannada-mnist"
  | "cifar10";

/**
 * Every dataset name, in the registry's order.
 *
 * @example
 * ```ts
 * import { DATASET_NAMES } from "./registry.ts";
 * console.log(DATASET_NAMES.join(", ")); // mnist, fashion-mnist, kannada-mnist, cifar10
 * ```
 */
export const DATASET_NAMES: readonly DatasetName[] = [
  "mnist",
  "fashion-mnist",
  "kannada-mnist",
  "cifar10",
];

/**
 * One file of an official release, as the downloader must obtain it.
 *
 * A file is verified by `sha256` when the registry pins one; otherwise by its
 * git blob id (`gitBlobSha1`, the SHA-1 of `"blob <size>\0" + bytes`, which is
 * all upstream publishes for the Kannada training images). Its size must
 * always match.
 */
export interface DataFile {
  /** The dataset the file belongs to; also its folder in the cache and mirror. */
  readonly dataset: DatasetName;
  /** File name, exactly as the official release spells it. */
  readonly name: string;
  /** Where to download it from, tried in order. */
  readonly urls: readonly string[];
  /** Exact size in bytes. */
  readonly size: number;
  /** Lower-case hex SHA-256 of the whole file. */
  readonly sha256?: string;
  /** Lower-case hex git blob id, used when no SHA-256 is pinned. */
  readonly gitBlobSha1?: string;
  /** Anything a user should know about the file (where the checksum comes from). */
  readonly note?: string;
}

/** The storage formats a split can be read from. */
export type SplitFormat = "idx" | "npz" | "cifar-tar";

/** Where one split's images and labels live, in one format. */
export interface SplitSource {
  /** How the files are encoded. */
  readonly format: SplitFormat;
  /** File holding the images (for `cifar-tar`, the archive holding both). */
  readonly images: DataFile;
  /** File holding the labels (absent for `cifar-tar`). */
  readonly labels?: DataFile;
  /** Archive members holding the split's records, in order (`cifar-tar` only). */
  readonly members?: readonly string[];
}

/** One split of a dataset. */
export interface SplitInfo {
  /** Number of examples in the official split. */
  readonly count: number;
  /** The formats it can be read from; the first one is the default. */
  readonly sources: readonly SplitSource[];
  /** What the split is, in a few words. */
  readonly description: string;
}

/** A dataset of the registry. */
export interface DatasetInfo {
  /** Registry name. */
  readonly name: DatasetName;
  /** Human-readable title. */
  readonly title: string;
  /** Class names, indexed by label. */
  readonly classNames: readonly string[];
  /** Image shape as `[height, width, channels]`. */
  readonly imageShape: readonly [number, number, number];
  /** Splits by name (`train`, `test`, and `dig` for Kannada-MNIST). */
  readonly splits: Readonly<Record<string, SplitInfo>>;
  /** Every file of the dataset, once. */
  readonly files: readonly DataFile[];
  /** Where the data comes from (paper or home page). */
  readonly homepage: string;
}

const MNIST_URLS = [
  "https://ossci-datasets.s3.amazonaws.com/mnist/",
  "http://yann.lecun.com/exdb/mnist/",
];
const FASHION_URLS = [
  "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
  "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
];
const KANNADA_URLS = [
  "https://github.com/vinayprabhu/Kannada_MNIST/raw/master/data/output_tensors/MNIST_format/",
];
const CIFAR_URLS = ["https://www.cs.toronto.edu/~kriz/"];

function _file(
  dataset: DatasetName,
  bases: readonly string[],
  name: string,
  size: number,
  checksum: { sha256?: string; gitBlobSha1?: string; note?: string },
): DataFile {
  return {
    dataset,
    name,
    urls: bases.map((base) => base + name),
    size,
    ...checksum,
  };
}

const mnist = (name: string, size: number, sha256: string) =>
  _file("mnist", MNIST_URLS, name, size, { sha256 });
const fashion = (name: string, size: number, sha256: string) =>
  _file("fashion-mnist", FASHION_URLS, name, size, { sha256 });
const kannada = (name: string, size: number, sha256: string) =>
  _file("kannada-mnist", KANNADA_URLS, name, size, { sha256 });

/** The official 60,000 / 10,000 IDX splits of an MNIST-format dataset. */
function _idxSplits(files: {
  trainImages: DataFile;
  trainLabels: DataFile;
  testImages: DataFile;
  testLabels: DataFile;
}): Record<string, SplitInfo> {
  return {
    train: {
      count: 60000,
      description: "official training set",
      sources: [{
        format: "idx",
        images: files.trainImages,
        labels: files.trainLabels,
      }],
    },
    test: {
      count: 10000,
      description: "official test set",
      sources: [{
        format: "idx",
        images: files.testImages,
        labels: files.testLabels,
      }],
    },
  };
}

const MNIST_FILES = {
  trainImages: mnist(
    "train-images-idx3-ubyte.gz",
    9912422,
    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
  ),
  trainLabels: mnist(
    "train-labels-idx1-ubyte.gz",
    28881,
    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
  ),
  testImages: mnist(
    "t10k-images-idx3-ubyte.gz",
    1648877,
    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
  ),
  testLabels: mnist(
    "t10k-labels-idx1-ubyte.gz",
    4542,
    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
  ),
};

const FASHION_FILES = {
  trainImages: fashion(
    "train-images-idx3-ubyte.gz",
    26421880,
    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
  ),
  trainLabels: fashion(
    "train-labels-idx1-ubyte.gz",
    29515,
    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
  ),
  testImages: fashion(
    "t10k-images-idx3-ubyte.gz",
    4422102,
    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
  ),
  testLabels: fashion(
    "t10k-labels-idx1-ubyte.gz",
    5148,
    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
  ),
};

const KANNADA_FILES = {
  trainImagesNpz: _file(
    "kannada-mnist",
    KANNADA_URLS,
    "X_kannada_MNIST_train.npz",
    47040244,
    {
      gitBlobSha1: "fbb55cd9a274b4cad741172c50e82031014b4885",
      note: "upstream publishes only its git blob id; no SHA-256 is pinned",
    },
  ),
  trainLabelsNpz: kannada(
    "y_kannada_MNIST_train.npz",
    60244,
    "462e31f9c9b78ac0e920d6dbdc7ee3e8260ed39fb4d3a48cf45dca0e03a1c415",
  ),
  testImagesNpz: kannada(
    "X_kannada_MNIST_test.npz",
    7840244,
    "54c45ea9b3dfd9c8e0815c9541cab5560ceaf6d549d62aea71598aa6a71498e0",
  ),
  testLabelsNpz: kannada(
    "y_kannada_MNIST_test.npz",
    10244,
    "c09271075e536da023eeb695f15153d1a015d2c37df003337b386c686206a77b",
  ),
  digImagesNpz: kannada(
    "X_dig_MNIST.npz",
    8028404,
    "19b485746106c3cb4f0aaac2ae5aa798eea87a51c4555a2e87a1ac3b930fa864",
  ),
  digLabelsNpz: kannada(
    "y_dig_MNIST.npz",
    10484,
    "20f3cbae89db160a1a0537c7010de96f356fcf7b27b45b5990b140c66d6ad897",
  ),
  trainLabelsIdx: kannada(
    "y_kannada_MNIST_train-idx1-ubyte.gz",
    199,
    "ef11e1d3e378fefbe78d4c9913dc9617c83fc5f9240b090121fcc335b5642201",
  ),
  testImagesIdx: kannada(
    "X_kannada_MNIST_test-idx3-ubyte.gz",
    1120203,
    "4628f3fa7b1d32137449dd356be4601da0c28c420b79f1b745a5134504ca35ca",
  ),
  testLabelsIdx: kannada(
    "y_kannada_MNIST_test-idx1-ubyte.gz",
    103,
    "645db5902d290681c9e5b452428e24636963a50a3036c2201240351b88786272",
  ),
  digImagesIdx: kannada(
    "X_dig_MNIST-idx3-ubyte.gz",
    1395287,
    "abda37c59d3d65ef89505860c18e7b7f7e80bfb2ba361ec1df68949e0c630aaa",
  ),
  digLabelsIdx: kannada(
    "y_dig_MNIST-idx1-ubyte.gz",
    92,
    "321fa413dc0f4bc4342da1f3418c656cd346f91d6d479ea67b1a107e920b907b",
  ),
};

const CIFAR_ARCHIVE = _file(
  "cifar10",
  CIFAR_URLS,
  "cifar-10-binary.tar.gz",
  170052171,
  {
    sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
    note: "md5 c32a1d4ab5d03f1284b67883e8d87530 (the one the home page lists)",
  },
);

const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;

/**
 * The registry: every dataset by name.
 *
 * @example
 * ```ts
 * import { DATASETS } from "./registry.ts";
 * for (const file of DATASETS["kannada-mnist"].files) {
 *   console.log(file.name, file.size);
 * }
 * ```
 */
export const DATASETS: Readonly<Record<DatasetName, DatasetInfo>> = {
  mnist: {
    name: "mnist",
    title: "MNIST handwritten digits",
    homepage: "http://yann.lecun.com/exdb/mnist/",
    classNames: DIGITS,
    imageShape: [28, 28, 1],
    splits: _idxSplits(MNIST_FILES),
    files: Object.values(MNIST_FILES),
  },
  "fashion-mnist": {
    name: "fashion-mnist",
    title: "Fashion-MNIST (Zalando article images)",
    homepage: "https://github.com/zalandoresearch/fashion-mnist",
    classNames: [
      "T-shirt/top",
      "Trouser",
      "Pullover",
      "Dress",
      "Coat",
      "Sandal",
      "Shirt",
      "Sneaker",
      "Bag",
      "Ankle boot",
    ],
    imageShape: [28, 28, 1],
    splits: _idxSplits(FASHION_FILES),
    files: Object.values(FASHION_FILES),
  },
  "kannada-mnist": {
    name: "kannada-mnist",
    title: "Kannada-MNIST handwritten Kannada digits (with Dig-MNIST)",
    homepage: "https://github.com/vinayprabhu/Kannada_MNIST",
    classNames: DIGITS,
    imageShape: [28, 28, 1],
    splits: {
      train: {
        count: 60000,
        description: "official training set",
        // No IDX source: upstream's IDX training images have no pinned checksum.
        sources: [{
          format: "npz",
          images: KANNADA_FILES.trainImagesNpz,
          labels: KANNADA_FILES.trainLabelsNpz,
        }],
      },
      test: {
        count: 10000,
        description: "official test set",
        sources: [
          {
            format: "npz",
            images: KANNADA_FILES.testImagesNpz,
            labels: KANNADA_FILES.testLabelsNpz,
          },
          {
            format: "idx",
            images: KANNADA_FILES.testImagesIdx,
            labels: KANNADA_FILES.testLabelsIdx,
          },
        ],
      },
      dig: {
        count: 10240,
        description:
          "Dig-MNIST: an extra, harder test set written by other volunteers",
        sources: [
          {
            format: "npz",
            images: KANNADA_FILES.digImagesNpz,
            labels: KANNADA_FILES.digLabelsNpz,
          },
          {
            format: "idx",
            images: KANNADA_FILES.digImagesIdx,
            labels: KANNADA_FILES.digLabelsIdx,
          },
        ],
      },
    },
    files: Object.values(KANNADA_FILES),
  },
  cifar10: {
    name: "cifar10",
    title: "CIFAR-10 (binary version)",
    homepage: "https://www.cs.toronto.edu/~kriz/cifar.html",
    classNames: [
      "airplane",
      "automobile",
      "bird",
      "cat",
      "deer",
      "dog",
      "frog",
      "horse",
      "ship",
      "truck",
    ],
    imageShape: [32, 32, 3],
    splits: {
      train: {
        count: 50000,
        description: "official training set (data_batch_1..5)",
        sources: [{
          format: "cifar-tar",
          images: CIFAR_ARCHIVE,
          members: [1, 2, 3, 4, 5].map((i) =>
            `cifar-10-batches-bin/data_batch_${i}.bin`
          ),
        }],
      },
      test: {
        count: 10000,
        description: "official test set (test_batch)",
        sources: [{
          format: "cifar-tar",
          images: CIFAR_ARCHIVE,
          members: ["cifar-10-batches-bin/test_batch.bin"],
        }],
      },
    },
    files: [CIFAR_ARCHIVE],
  },
};

/**
 * Looks a dataset up by name, with an error listing the valid names.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { getDataset } from "./registry.ts";
 * assert.equal(getDataset("fashion-mnist").classNames[0], "T-shirt/top");
 * ```
 */
export function getDataset(name: string): DatasetInfo {
  const info = (DATASETS as Record<string, DatasetInfo | undefined>)[name];
  if (!info) {
    throw new Error(
      `Unknown dataset "${name}". Known datasets: ${DATASET_NAMES.join(", ")}.`,
    );
  }
  return info;
}

/**
 * Looks a split of a dataset up, with an error listing the valid splits.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { getSplit } from "./registry.ts";
 * assert.equal(getSplit("kannada-mnist", "dig").count, 10240);
 * ```
 */
export function getSplit(dataset: string, split: string): SplitInfo {
  const info = getDataset(dataset);
  const found = Object.hasOwn(info.splits, split)
    ? info.splits[split]
    : undefined;
  if (!found) {
    throw new Error(
      `Dataset "${dataset}" has no split "${split}". Its splits: ${
        Object.keys(info.splits).join(", ")
      }.`,
    );
  }
  return found;
}
