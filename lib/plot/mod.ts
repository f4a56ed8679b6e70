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
 * await fig.save("/tmp/curves.png");
 * await confusionHeatmap([[3, 1], [0, 4]]).save("/tmp/cm.svg");
 * ```
 *
 * @module
 */
export * from "./figure.ts";
export * from "./training.ts";
export * from "./confusion.ts";
export * from "./images.ts";
export * from "./stimulus.ts";
export * from "./comparison.ts";
