/**
 * Several models side by side: accuracy vs training time, dot area = number
 * of parameters (seed 003's point: a smaller LeNet trains faster for almost
 * the same accuracy).
 *
 * @example
 * ```ts
 * import { modelComparison } from "./comparison.ts";
 * const fig = modelComparison([
 *   { model: "fashion-lenet-large", accuracy: 0.91, trainSeconds: 120, params: 1_000_000 },
 *   { model: "fashion-lenet-small", accuracy: 0.88, trainSeconds: 30, params: 60_000 },
 * ]);
 * await fig.save(`${await Deno.makeTempDir()}/compare.svg`);
 * ```
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { composeFigure, type Figure, plotDocument } from "./figure.ts";

/**
 * One model's result. Accepts the CLI's `--json` spelling too
 * (`test_accuracy`, `train_seconds`).
 */
export interface ModelResult {
  /** Label of the point (`name` also accepted). */
  model?: string;
  /** Label of the point, if `model` is absent. */
  name?: string;
  /** Test accuracy, 0..1. */
  accuracy?: number;
  /** Test accuracy, 0..1 (the CLI's name). */
  test_accuracy?: number;
  /** Training time in seconds. */
  trainSeconds?: number;
  /** Training time in seconds (the CLI's name). */
  train_seconds?: number;
  /** Number of trainable parameters. */
  params: number;
}

/** Options of {@linkcode modelComparison}. */
export interface ModelComparisonOptions {
  /** Figure title. Default: "Accuracy vs training time (area = parameters)". */
  title?: string;
  /** Logarithmic time axis (useful when times differ by 10x or more). Default: false. */
  logTime?: boolean;
  /** Panel width. Default: 560. */
  width?: number;
  /** Panel height. Default: 360. */
  height?: number;
}

/**
 * Normalises result rows to `{ name, accuracy, trainSeconds, params }`.
 *
 * @example
 * ```ts
 * import { comparisonRows } from "./comparison.ts";
 * console.log(comparisonRows([{ model: "a", test_accuracy: 0.9, train_seconds: 3, params: 10 }]));
 * ```
 */
export function comparisonRows(
  rows: readonly ModelResult[] | { toRecords(): Record<string, unknown>[] },
): { name: string; accuracy: number; trainSeconds: number; params: number }[] {
  const list =
    (Array.isArray(rows)
      ? rows
      : (rows as { toRecords(): unknown[] }).toRecords()) as ModelResult[];
  return list.map((r, i) => {
    const name = r.model ?? r.name ?? `model ${i + 1}`;
    const accuracy = r.accuracy ?? r.test_accuracy;
    const trainSeconds = r.trainSeconds ?? r.train_seconds;
    for (
      const [k, v] of [["accuracy", accuracy], ["trainSeconds", trainSeconds], [
        "params",
        r.params,
      ]] as const
    ) {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new Error(
          `modelComparison: row ${i} (${name}) has no numeric ${k} (got ${v})`,
        );
      }
    }
    return {
      name,
      accuracy: accuracy!,
      trainSeconds: trainSeconds!,
      params: r.params,
    };
  });
}

/**
 * A labelled dot plot: x = training seconds, y = accuracy, area = parameters.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { modelComparison } from "./comparison.ts";
 * const fig = modelComparison([{ name: "lenet5", accuracy: 0.98, trainSeconds: 60, params: 61706 }]);
 * assert.ok(fig.svg.includes("lenet5"));
 * ```
 */
export function modelComparison(
  rows: readonly ModelResult[] | { toRecords(): Record<string, unknown>[] },
  options: ModelComparisonOptions = {},
): Figure {
  const data = comparisonRows(rows);
  if (data.length === 0) throw new Error("modelComparison: no rows to plot");
  const panel = Plot.plot({
    document: plotDocument(),
    width: options.width ?? 560,
    height: options.height ?? 360,
    marginRight: 150,
    marginTop: 30,
    grid: true,
    inset: 24,
    x: { label: "training time (s)", type: options.logTime ? "log" : "linear" },
    y: { label: "test accuracy", tickFormat: ".1%" },
    r: { range: [4, 22], domain: [0, Math.max(...data.map((d) => d.params))] },
    marks: [
      Plot.dot(data, {
        x: "trainSeconds",
        y: "accuracy",
        r: "params",
        fill: "#4e79a7",
        fillOpacity: 0.6,
        stroke: "#1f3b5a",
      }),
      Plot.text(data, {
        x: "trainSeconds",
        y: "accuracy",
        text: (d: { name: string; params: number }) =>
          `${d.name}\n${d.params.toLocaleString("en-US")} params`,
        dx: 26,
        textAnchor: "start",
        fontSize: 10,
      }),
    ],
  }) as unknown as Element;
  return composeFigure([panel], {
    title: options.title ?? "Accuracy vs training time (area = parameters)",
  });
}

/** One model's numbers for one epoch, for {@linkcode epochComparison}. */
export interface EpochPoint {
  /** Label of the model's line. */
  model: string;
  /** Epoch number, 1-based. */
  epoch: number;
  /** Test accuracy after this epoch, 0..1. */
  accuracy: number;
  /** Seconds this epoch's training took. */
  seconds: number;
}

/** Options of {@linkcode epochComparison}. */
export interface EpochComparisonOptions {
  /** Figure title. Default: "Test accuracy and training time per epoch". */
  title?: string;
  /** Width of each of the two panels. Default: 360. */
  width?: number;
  /** Height of each panel. Default: 260. */
  height?: number;
}

/**
 * Two panels side by side over the epochs, one line per model: test
 * accuracy after each epoch, and the seconds each epoch's training took
 * (seed 003's comparison of a wide and a small LeNet, epoch by epoch).
 * A legend in the right margin names each line's colour; the margin grows
 * with the longest name, so no name is cut, and equal values cannot make
 * names overlap. Notebook 003 writes the same function
 * in a cell (a test keeps the two equal).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { epochComparison } from "./comparison.ts";
 * const fig = epochComparison([
 *   { model: "wide", epoch: 1, accuracy: 0.80, seconds: 40 },
 *   { model: "wide", epoch: 2, accuracy: 0.84, seconds: 41 },
 *   { model: "small", epoch: 1, accuracy: 0.75, seconds: 9 },
 *   { model: "small", epoch: 2, accuracy: 0.79, seconds: 9 },
 * ]);
 * assert.ok(fig.svg.includes("small"));
 * ```
 */
export function epochComparison(
  points: readonly EpochPoint[],
  options: EpochComparisonOptions = {},
): Figure {
  const { width = 360, height = 260 } = options;
  const models = [...new Set(points.map((p) => p.model))];
  const longest = Math.max(...models.map((m) => m.length));
  const panel = (y: "accuracy" | "seconds", label: string, format?: string) =>
    Plot.plot({
      document: plotDocument(),
      width: width + longest * 6.6,
      height,
      marginRight: 10 + longest * 6.6,
      grid: true,
      inset: 10,
      x: { label: "epoch", tickFormat: "d", ticks: 5 },
      y: { label, tickFormat: format, zero: y === "seconds" },
      color: { type: "categorical" },
      marks: [
        Plot.lineY(points, { x: "epoch", y, z: "model", stroke: "model" }),
        Plot.dot(points, { x: "epoch", y, fill: "model", r: 2.5 }),
        // A legend in the right margin: one coloured name per model.
        ...models.map((model, k) =>
          Plot.text([model], {
            text: (d) => d,
            fill: (d) => d,
            frameAnchor: "top-right",
            textAnchor: "start",
            dx: 8,
            dy: 14 * k,
          })
        ),
      ],
    }) as unknown as Element;
  return composeFigure(
    [
      panel("accuracy", "test accuracy", ".1%"),
      panel("seconds", "training seconds per epoch"),
    ],
    { title: options.title ?? "Test accuracy and training time per epoch" },
  );
}
