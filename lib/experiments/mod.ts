/**
 * What the notebooks and scripts share about the five tutorial experiments:
 * scales (`smoke` / `quick` / `full`; `runConfigFromEnv().scale`), each model's training
 * settings per scale, data loading with its labelled offline substitutes,
 * fitting images to a model's input, evaluation per test split, result rows
 * and tables beside the published figures, and the notebooks' saved results.
 *
 * @example
 * ```ts ignore
 * import { runConfigFromEnv } from "../config.ts";
 * import { loadMnistData, trainSettingsFor } from "./mod.ts";
 * const { scale, data: locations } = runConfigFromEnv();
 * const data = await loadMnistData(scale, locations);
 * console.log(data.description, trainSettingsFor("lenet5", scale));
 * ```
 *
 * @module
 */
export { DEFAULT_SCALE, parseScale, type Scale, SCALES } from "./scale.ts";
export { PUBLISHED, type PublishedFigure, publishedFor } from "./published.ts";
export {
  type NotebookResults,
  percentText,
  type PercentTextOptions,
  RESULT_COLUMNS,
  type ResultRow,
  resultsCsv,
  resultsMarkdown,
  type ResultsMarkdownOptions,
  resultsTable,
  saveNotebookResults,
  type SaveNotebookResultsOptions,
} from "./results.ts";
export {
  MODEL_RECIPES,
  type ModelOutput,
  type ModelRecipe,
  type Normalization,
  type OptimizerName,
  scaleNote,
  type TrainSettings,
  trainSettingsFor,
  type TrainSettingsForOptions,
} from "./settings.ts";
export {
  dataLimits,
  type ExperimentData,
  loadExperimentData,
  type LoadExperimentDataOptions,
  parseDatasetName,
} from "./data.ts";
export {
  type ModelInputPlan,
  parseModelName,
  planModelInput,
  toModelTensors,
  type ToModelTensorsOptions,
} from "./input.ts";
export {
  evaluateOnSplits,
  type EvaluateOnSplitsOptions,
  resultRows,
  type ResultRowsOptions,
  type SplitEvaluation,
  type TrainedModel,
} from "./evaluate.ts";
export { trainModel, type TrainModelOptions } from "./train_model.ts";
export {
  KANNADA_ID,
  KANNADA_MODELS,
  loadKannadaData,
  type LoadKannadaDataOptions,
} from "./kannada_mnist.ts";
export {
  loadMnistData,
  type LoadMnistDataOptions,
  MNIST_LENET5_ID,
} from "./mnist_lenet5.ts";
export {
  loadPyTorchStyleData,
  type LoadPyTorchStyleDataOptions,
  MNIST_NORMALIZE,
  PYTORCH_STYLE_ID,
} from "./mnist_lenet_pytorch_style.ts";
export {
  FASHION_ID,
  loadFashionData,
  type LoadFashionDataOptions,
} from "./fashion_mnist_variants.ts";
export {
  CIFAR_ID,
  cifarStimuli,
  type CifarStimuliOptions,
  cifarStimulusLayers,
  loadCifarData,
  type LoadCifarDataOptions,
} from "./cifar10_cnn.ts";
export {
  type ExperimentInfo,
  EXPERIMENTS,
  findExperiment,
} from "./experiments.ts";
export {
  freshDir,
  notebookFilesDir,
  type NotebookFilesDirOptions,
} from "./files.ts";
