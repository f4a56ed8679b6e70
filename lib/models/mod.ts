/**
 * The models of the tutorials: one typed builder per architecture, the
 * registry with parameter counts, custom layers, summaries, losses per
 * output kind and `file://` save/load.
 *
 * @example
 * ```ts
 * import { buildModel, MODELS, summarizeModel } from "./mod.ts";
 * const model = buildModel("lenet5");
 * console.log(model.countParams() === MODELS.lenet5.paramCount); // true
 * console.table(summarizeModel(model));
 * ```
 *
 * @module
 */
export * from "./layers/mod.ts";
export * from "./lenet.ts";
export * from "./kannada_cnn.ts";
export * from "./mobilenet.ts";
export * from "./lenet5.ts";
export * from "./lenet5_32.ts";
export * from "./init.ts";
export * from "./fashion_lenet.ts";
export * from "./cifar_cnn.ts";
export * from "./lenet5_1998.ts";
export * from "./registry.ts";
export * from "./summary.ts";
export * from "./losses.ts";
export * from "./io.ts";
export type { ImageShape, Padding } from "./_common.ts";
