/**
 * The dataset layer: a typed registry of the tutorials' datasets, verified
 * fetching with a local mirror and a cache, parsers of the real formats (IDX,
 * NPY/NPZ, CIFAR-10 binary in tar.gz or loose files), and one API from a split
 * to tensors.
 *
 * Environment: `CNN_DATA_DIR` (cache, default `data/`), `CNN_DATA_MIRROR`
 * (local mirror tried before the network), `CNN_DATA_OFFLINE=1` (no network).
 *
 * @example
 * ```ts
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
export * from "./registry.ts";
export * from "./errors.ts";
export * from "./fetch.ts";
export * from "./idx.ts";
export * from "./npy.ts";
export * from "./npz.ts";
export * from "./tar.ts";
export * from "./cifar.ts";
export * from "./split.ts";
export * from "./load.ts";
export * from "./tensors.ts";
