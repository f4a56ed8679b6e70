/**
 * Confusion heatmap annotated "percent / count" per cell, rows = actual,
 * columns = predicted, coloured by row percentage (seed 000's `plot_cm`).
 * Notebook 000 writes the same figure in its own cell (`plotConfusion`,
 * @see notebooks/000_kannada_mnist.ipynb); `tests/lesson_000_test.ts` keeps
 * the two drawing the same SVG.
 *
 * @example
 * ```ts
 * import { confusionMatrix } from "../eval/metrics.ts";
 * import { confusionHeatmap } from "./confusion.ts";
 * const cm = confusionMatrix([0, 1, 1], [0, 1, 0]);
 * await confusionHeatmap(cm).save(`${await Deno.makeTempDir()}/cm.svg`);
 * ```
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import {
  type ConfusionMatrix,
  confusionMatrixFromCounts,
} from "../eval/metrics.ts";
import { composeFigure, type Figure, plotDocument } from "./figure.ts";

/** Options of {@linkcode confusionHeatmap}. */
export interface ConfusionHeatmapOptions {
  /** Figure title. Default: "Confusion matrix (accuracy NN.N%)". */
  title?: string;
  /** Class names when `cm` is a raw table. Default: the matrix's own names. */
  classNames?: readonly string[];
  /** Side of one cell in pixels. Default: 52. */
  cellSize?: number;
  /** Colour scheme of Observable Plot. Default: "blues" (seed 000). */
  scheme?: Plot.ColorScheme;
  /** Decimals of the percentage. Default: 1. */
  decimals?: number;
}

/**
 * Draws a confusion matrix as an annotated heatmap.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { confusionHeatmap } from "./confusion.ts";
 * const fig = confusionHeatmap([[8, 2], [1, 9]], { classNames: ["cat", "dog"] });
 * assert.ok(fig.svg.includes("80.0%"));
 * ```
 */
export function confusionHeatmap(
  cm: ConfusionMatrix | readonly (readonly number[])[],
  options: ConfusionHeatmapOptions = {},
): Figure {
  const matrix = Array.isArray(cm)
    ? confusionMatrixFromCounts(cm as number[][], {
      classNames: options.classNames,
    })
    : cm as ConfusionMatrix;
  const names = options.classNames && !Array.isArray(cm)
    ? [...options.classNames]
    : matrix.classNames;
  if (names.length !== matrix.counts.length) {
    throw new Error(
      `confusionHeatmap: ${names.length} class names for ${matrix.counts.length} classes`,
    );
  }
  const decimals = options.decimals ?? 1;
  const cells = matrix.counts.flatMap((row, i) =>
    row.map((count, j) => ({
      actual: names[i],
      predicted: names[j],
      percent: matrix.percent[i][j],
      label: `${matrix.percent[i][j].toFixed(decimals)}%\n${count}`,
    }))
  );
  const side = options.cellSize ?? 52;
  // Room for the row names; long names (CIFAR-10's) slant under the columns.
  const longest = Math.max(...names.map((n) => n.length));
  const rotate = longest > 3;
  const marginLeft = 40 + 7 * longest;
  const marginBottom = 40 + (rotate ? 5 * longest : 0);
  const panel = Plot.plot({
    document: plotDocument(),
    width: marginLeft + names.length * side + 20,
    height: 20 + names.length * side + marginBottom,
    marginLeft,
    marginBottom,
    marginTop: 20,
    marginRight: 20,
    padding: 0,
    x: { domain: names, label: "Predicted", tickRotate: rotate ? -40 : 0 },
    y: { domain: names, label: "Actual" },
    color: {
      type: "linear",
      domain: [0, 100],
      scheme: options.scheme ?? "blues",
    },
    marks: [
      Plot.cell(cells, {
        x: "predicted",
        y: "actual",
        fill: "percent",
        inset: 0.5,
      }),
      Plot.text(cells, {
        x: "predicted",
        y: "actual",
        text: "label",
        fontSize: Math.max(8, Math.min(12, Math.round(side / 5))),
        // White on the dark cells, black on the light ones.
        fill: (d: { percent: number }) => (d.percent > 55 ? "white" : "black"),
      }),
    ],
  }) as unknown as Element;
  return composeFigure([panel], {
    title: options.title ??
      `Confusion matrix (accuracy ${(100 * matrix.accuracy).toFixed(1)}%)`,
  });
}
