/**
 * The models of the tutorials: one typed builder per architecture, the
 * registry with parameter counts, custom layers, summaries, losses per
 * output kind and `file://` save/load.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildModel, MODELS, summarizeModel } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = buildModel("lenet5");
 * assert.equal(model.countParams(), MODELS.lenet5.paramCount);
 * console.table(summarizeModel(model));
 * ```
 *
 * @module
 */
export {
  EuclideanRBF,
  type EuclideanRBFArgs,
  LENET5_C3_TABLE,
  PartialConv2D,
  type PartialConv2DArgs,
  rbfPrototypeCodes,
  ScaledTanh,
  type ScaledTanhArgs,
  SimpleConv2D,
  type SimpleConv2DArgs,
  TrainableSubsampling,
  type TrainableSubsamplingArgs,
} from "./layers/mod.ts";
export { buildLenet, type LenetArgs } from "./lenet.ts";
export { buildKannadaCnn, type KannadaCnnArgs } from "./kannada_cnn.ts";
export {
  buildMobileNet,
  MOBILENET_BLOCKS,
  type MobileNetArgs,
} from "./mobilenet.ts";
export { buildLenet5, type Lenet5Args } from "./lenet5.ts";
export { buildLenet5_32, type Lenet5_32Args } from "./lenet5_32.ts";
export {
  type LayerInitializers,
  pytorchDefaultInit,
  type PytorchDefaultInitOptions,
} from "./init.ts";
export {
  buildFashionLenet,
  FASHION_LENET_SIZES,
  type FashionLenetArgs,
} from "./fashion_lenet.ts";
export { buildCifarCnn, type CifarCnnArgs } from "./cifar_cnn.ts";
export { buildLenet5_1998, type Lenet5_1998Args } from "./lenet5_1998.ts";
export {
  buildModel,
  buildModelFor,
  isModelName,
  MODEL_NAMES,
  type ModelInfo,
  modelInfo,
  type ModelInputOptions,
  type ModelInputRequirements,
  type ModelName,
  type ModelOptions,
  MODELS,
  type TutorialTraining,
} from "./registry.ts";
export {
  assertInputShape,
  type BlockSummaryRow,
  countMultiplyAdds,
  countParams,
  formatCount,
  formatSummary,
  type FormatSummaryOptions,
  type LayerSummaryRow,
  type LayerTraceRow,
  type MultiplyAddCounts,
  type ParamCounts,
  summarizeBlocks,
  summarizeModel,
  traceLayerShapes,
  type TraceLayerShapesOptions,
} from "./summary.ts";
export {
  classificationLoss,
  type LossFunction,
  type OutputKind,
  toProbabilities,
} from "./losses.ts";
export {
  checkSaveFolder,
  type CheckSaveFolderOptions,
  fileSystemHandler,
  loadModel,
  type LoadModelOptions,
  registerFileRouter,
  saveModel,
  type SaveModelOptions,
} from "./io.ts";
export type { ImageShape, Initializer, LayerArgs, Padding } from "./types.ts";
