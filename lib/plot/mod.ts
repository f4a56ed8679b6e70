/**
 * Figures for the notebooks and scripts, drawn with Observable Plot on a
 * server-side document. Every function returns a {@linkcode Figure} that the
 * Deno Jupyter kernel displays as SVG and that `save()`s to `.svg` or `.png`.
 *
 * @example
 * ```ts
 * import { confusionHeatmap, trainingCurves } from "./mod.ts";
 * const fig = trainingCurves([{ epoch: 1, loss: 1, acc: 0.5 }]);
 * await fig.save("/tmp/curves.png");
 * await confusionHeatmap([[3, 1], [0, 4]]).save("/tmp/cm.svg");
 * ```
 *
 * @module
 */
export {
  composeFigure,
  type ComposeOptions,
  createFigure,
  type Figure,
  JUPYTER_DISPLAY,
  plotDocument,
  type SaveOptions,
  svgToPng,
} from "./figure.ts";
export {
  type HistoryLike,
  historyPoints,
  type HistoryRow,
  trainingCurves,
  type TrainingCurvesOptions,
} from "./training.ts";
export { confusionHeatmap, type ConfusionHeatmapOptions } from "./confusion.ts";
export {
  filterGrid,
  type FilterGridOptions,
  type ImageBatch,
  imageGrid,
  type ImageGridOptions,
  RIGHT_COLOR,
  WRONG_COLOR,
} from "./images.ts";
export {
  type FilterStimuli,
  filterStimuli,
  type FilterStimuliOptions,
  maxStimulus,
  type MaxStimulusOptions,
  type Stimulus,
  stimulusGrid,
  type StimulusGridOptions,
} from "./stimulus.ts";
export {
  modelComparison,
  type ModelComparisonOptions,
  type ModelResult,
} from "./comparison.ts";
