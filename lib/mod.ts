/**
 * The public surface of the library, as notebooks and scripts import it:
 * backend selection, datasets, models, training, evaluation, plots and the
 * tutorials' experiments, plus the one TensorFlow.js namespace `tf`.
 *
 * @example
 * ```ts
 * import { buildModel, initBackend, loadSplit, toTensors } from "./mod.ts";
 * await initBackend();
 * const test = await loadSplit("mnist", "test", { limit: 256 });
 * const { xs, ys } = toTensors(test);
 * const model = buildModel("lenet5");
 * ```
 *
 * @module
 */
export * as tf from "./tf.ts";
export * from "./backend/mod.ts";
export * from "./data/mod.ts";
export * from "./models/mod.ts";
export * from "./train/mod.ts";
export * from "./eval/mod.ts";
export * from "./plot/mod.ts";
export * from "./experiments/mod.ts";
// Both models and train name their loss signature; the models one is canonical.
export type { LossFunction } from "./models/mod.ts";
