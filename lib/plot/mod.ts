/**
 * Figures for the notebooks and scripts, drawn with Observable Plot on a
 * server-side document. Every function returns a {@linkcode Figure} that the
 * Deno Jupyter kernel displays as a PNG with alt text (so it shows in
 * untrusted notebooks and nbconvert exports; {@linkcode displayFigure} with
 * `{ svg: true }` adds the SVG for trusted use) and that `save()`s to `.svg`
 * or `.png`.
 *
 * @example
 * ```ts
 * import { confusionHeatmap, trainingCurves } from "./mod.ts";
 * const fig = trainingCurves([{ epoch: 1, loss: 1, acc: 0.5 }]);
 * const dir = await Deno.makeTempDir();
 * await fig.save(`${dir}/curves.png`);
 * await confusionHeatmap([[3, 1], [0, 4]]).save(`${dir}/cm.svg`);
 * ```
 *
 * @module
 */
export {
  type BundleOptions,
  composeFigure,
  type ComposeOptions,
  createFigure,
  displayFigure,
  type DisplayFigureOptions,
  type Figure,
  figureAltText,
  type FigureBundle,
  figureBundle,
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
  imageDataUri,
  imageGrid,
  type ImageGridOptions,
  RIGHT_COLOR,
  type Tile,
  tileGrid,
  type TileGridOptions,
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
  epochComparison,
  type EpochComparisonOptions,
  type EpochPoint,
  modelComparison,
  type ModelComparisonOptions,
  type ModelResult,
} from "./comparison.ts";
