/**
 * The dataset layer: a typed registry of the tutorials' datasets, verified
 * fetching with a local mirror and a cache, parsers of the real formats (IDX,
 * NPY/NPZ, CIFAR-10 binary in tar.gz or loose files), and one API from a split
 * to tensors.
 *
 * Where files are looked for is an option (`dataDir`, `mirror`, `offline`);
 * `runConfigFromEnv().data` (`lib/config.ts`) reads them from `CNN_DATA_DIR`,
 * `CNN_DATA_MIRROR` and `CNN_DATA_OFFLINE`.
 *
 * @example
 * ```ts ignore
 * import { batches, loadSplit, splitValidation, toTensors } from "./mod.ts";
 * const all = await loadSplit("mnist", "train", { limit: 2000 });
 * const { train, validation } = splitValidation(all, { fraction: 0.1, seed: 0 });
 * const val = toTensors(validation, { normalize: { mean: 0.1307, std: 0.3081 } });
 * for (const batch of batches(train, { batchSize: 64, shuffle: true, seed: 1 })) {
 *   batch.xs.dispose();
 *   batch.ys.dispose();
 * }
 * val.xs.dispose();
 * val.ys.dispose();
 * ```
 *
 * @module
 */
export {
  type DataFile,
  DATASET_NAMES,
  type DatasetInfo,
  type DatasetName,
  DATASETS,
  getDataset,
  getSplit,
  type SplitFormat,
  type SplitInfo,
  type SplitSource,
} from "./registry.ts";
export {
  CacheWriteError,
  ChecksumMismatchError,
  DataFormatError,
  DataUnavailableError,
} from "./errors.ts";
export {
  type CachedFileStatus,
  cachePath,
  checkCachedFile,
  type CheckCachedFileOptions,
  type DataLocationOptions,
  type DownloadProgress,
  fetchFile,
  type FetchFileOptions,
  type FetchResult,
  type ProgressCallback,
  resolveDataDir,
  resolveMirror,
} from "./fetch.ts";
export {
  type IdxArray,
  type IdxData,
  type IdxDtype,
  parseIdx,
  type ParseIdxOptions,
  readIdx,
} from "./idx.ts";
export {
  type NpyArray,
  type NpyData,
  type NpyDtype,
  parseNpy,
  type ParseNpyOptions,
} from "./npy.ts";
export { parseNpz, type ParseNpzOptions } from "./npz.ts";
export {
  type CifarRecords,
  loadCifarFolder,
  type LoadCifarFolderOptions,
  parseCifarRecords,
  readCifarArchive,
  type ReadCifarOptions,
} from "./cifar.ts";
export {
  type ImageSplit,
  labelCounts,
  seededRandom,
  shuffledIndices,
  shuffleSplit,
  type ShuffleSplitOptions,
  splitValidation,
  type SplitValidationOptions,
  subsetSplit,
  takeIndices,
} from "./split.ts";
export { loadSplit, type LoadSplitOptions } from "./load.ts";
export {
  batchCount,
  batches,
  type BatchOptions,
  type Normalization,
  type TensorPair,
  toTensors,
  type ToTensorsOptions,
} from "./tensors.ts";
