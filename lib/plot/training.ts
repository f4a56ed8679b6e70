/**
 * Training curves: loss and accuracy per epoch, training vs validation, as
 * two side-by-side panels (seed 002 plots loss and accuracy one above the
 * other with matplotlib: `columns: 1`). Notebook 002 writes the same figure
 * in its own cell (`plotCurves`, @see notebooks/002_lenet_pytorch_style.ipynb);
 * `tests/lesson_002_test.ts` keeps the two drawing the same SVG.
 *
 * @example
 * ```ts
 * import { trainingCurves } from "./training.ts";
 * const fig = trainingCurves([
 *   { epoch: 1, loss: 1.2, acc: 0.6, val_loss: 1.0, val_acc: 0.7 },
 *   { epoch: 2, loss: 0.8, acc: 0.8, val_loss: 0.9, val_acc: 0.75 },
 * ]);
 * await fig.save(`${await Deno.makeTempDir()}/curves.svg`);
 * ```
 *
 * @module
 */
import * as Plot from "@observablehq/plot";
import { composeFigure, type Figure, plotDocument } from "./figure.ts";

/**
 * A history row: `epoch` (1-based, as printed and as the train module's
 * `EpochRecord`s store it) plus metric columns (`loss`, `acc`/`accuracy`,
 * `val_*`). Other fields are ignored. It has no index signature, so
 * interfaces such as `EpochRecord` are accepted as they are.
 */
export interface HistoryRow {
  /** 1-based epoch number. Default: the row's position + 1. */
  readonly epoch?: number | null;
  /** Training loss. */
  readonly loss?: number | null;
  /** Training accuracy (Keras 1 / tfjs name). */
  readonly acc?: number | null;
  /** Training accuracy (Keras 2 name). */
  readonly accuracy?: number | null;
  /** Validation loss. */
  readonly val_loss?: number | null;
  /** Validation accuracy (Keras 1 / tfjs name). */
  readonly val_acc?: number | null;
  /** Validation accuracy (Keras 2 name). */
  readonly val_accuracy?: number | null;
}

/**
 * Anything holding a training history: rows (the train module's
 * `EpochRecord`s), a nodejs-polars DataFrame (anything with a `toRecords()`
 * method, such as `historyFrame(records)` or `fitModel(...).history`), or a
 * tfjs `History` (`{ history: { loss: [...], val_loss: [...] }, epoch?: [0, 1, ...] }`,
 * whose `epoch` indices are 0-based).
 */
export type HistoryLike =
  | readonly HistoryRow[]
  | { toRecords(): Record<string, unknown>[] }
  | {
    history: Record<
      string,
      readonly (number | { data(): Promise<ArrayLike<number>> })[]
    >;
    epoch?: readonly number[];
  };

/**
 * A tfjs scalar as a `History` may hold before `await history.syncData()`
 * (`model.fit` calls it; it is not read here, see {@linkcode trainingCurves}).
 */

/** Options of {@linkcode trainingCurves}. */
export interface TrainingCurvesOptions {
  /** Figure title. Default: "Training curves". */
  title?: string;
  /**
   * Added to every epoch number for display. Rows and DataFrames already hold
   * 1-based epoch numbers (as printed, "Epoch 1/10" is 1); a tfjs `History`'s
   * 0-based indices are turned into 1-based numbers before this is added.
   * Default: 0.
   */
  epochOffset?: number;
  /** Width of each panel in pixels. Default: 360. */
  panelWidth?: number;
  /** Height of each panel in pixels. Default: 260. */
  panelHeight?: number;
  /** Which metrics to draw, in order. Default: those present of ["loss", "accuracy"]. */
  metrics?: readonly ("loss" | "accuracy")[];
  /**
   * Panels per row: 1 stacks them as seed 002's `plt.subplot(2, 1, i)`.
   * Default: all in one row.
   */
  columns?: number;
}

/** One point of a curve. */
interface _Point {
  epoch: number;
  metric: "loss" | "accuracy";
  split: "train" | "validation";
  value: number;
}

const _KEYS: Record<string, [_Point["metric"], _Point["split"]]> = {
  loss: ["loss", "train"],
  acc: ["accuracy", "train"],
  accuracy: ["accuracy", "train"],
  val_loss: ["loss", "validation"],
  val_acc: ["accuracy", "validation"],
  val_accuracy: ["accuracy", "validation"],
};

/** The history as rows whose `epoch` is 1-based (or missing). */
function _rows(history: HistoryLike): Record<string, unknown>[] {
  if (Array.isArray(history)) return history as Record<string, unknown>[];
  // A nodejs-polars DataFrame is a Proxy whose `in` operator only knows column
  // names, so test for the method itself.
  const toRecords = (history as { toRecords?: unknown }).toRecords;
  if (typeof toRecords === "function") {
    return toRecords.call(history) as Record<string, unknown>[];
  }
  if ("history" in history && typeof history.history === "object") {
    const h = history.history;
    const n = Math.max(0, ...Object.values(h).map((v) => v.length));
    return Array.from({ length: n }, (_, i) => {
      // tfjs counts epochs from 0; the project's rows count from 1.
      const row: Record<string, unknown> = {
        epoch: (history.epoch?.[i] ?? i) + 1,
      };
      for (const [k, v] of Object.entries(h)) {
        const x = v[i];
        if (x !== undefined && typeof x !== "number") {
          // Reading it here would be synchronous, which WebGPU cannot do.
          throw new Error(
            `trainingCurves: history.${k}[${i}] is still a tensor; ` +
              "call `await history.syncData()` first (model.fit does)",
          );
        }
        row[k] = x;
      }
      return row;
    });
  }
  throw new Error(
    "trainingCurves: history must be rows, a polars DataFrame or a tfjs History object",
  );
}

/**
 * Turns any {@linkcode HistoryLike} into long-form points
 * `{ epoch, metric, split, value }`, skipping missing and non-finite values.
 *
 * @example
 * ```ts
 * import { historyPoints } from "./training.ts";
 * console.log(historyPoints([{ epoch: 1, loss: 1, val_loss: null }]));
 * // [{ epoch: 1, metric: "loss", split: "train", value: 1 }]
 * ```
 */
export function historyPoints(
  history: HistoryLike,
  options: Pick<TrainingCurvesOptions, "epochOffset"> = {},
): {
  epoch: number;
  metric: "loss" | "accuracy";
  split: "train" | "validation";
  value: number;
}[] {
  const offset = options.epochOffset ?? 0;
  const points: _Point[] = [];
  _rows(history).forEach((row, i) => {
    const e = typeof row.epoch === "number" ? row.epoch : i + 1;
    for (const [key, [metric, split]] of Object.entries(_KEYS)) {
      const v = row[key];
      if (typeof v === "number" && Number.isFinite(v)) {
        points.push({ epoch: e + offset, metric, split, value: v });
      }
    }
  });
  return points;
}

/**
 * Loss and accuracy curves, training vs validation, one panel per metric.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { trainingCurves } from "./training.ts";
 * const fig = trainingCurves({ history: { loss: [1, 0.5], val_loss: [1.1, 0.7] } });
 * assert.ok(fig.svg.includes("validation"));
 * ```
 */
export function trainingCurves(
  history: HistoryLike,
  options: TrainingCurvesOptions = {},
): Figure {
  const points = historyPoints(history, options);
  if (points.length === 0) {
    throw new Error(
      "trainingCurves: the history has no loss/acc/accuracy/val_* values; train at least one epoch",
    );
  }
  const metrics = options.metrics ??
    (["loss", "accuracy"] as const).filter((m) =>
      points.some((p) => p.metric === m)
    );
  const epochs = points.map((p) => p.epoch);
  const [lo, hi] = [Math.min(...epochs), Math.max(...epochs)];
  const panels = metrics.map((metric) => {
    const data = points.filter((p) => p.metric === metric);
    if (data.length === 0) {
      throw new Error(`trainingCurves: the history has no ${metric} values`);
    }
    return Plot.plot({
      document: plotDocument(),
      width: options.panelWidth ?? 360,
      height: options.panelHeight ?? 260,
      marginRight: 72,
      // Room for five-digit tick labels such as "2.3105".
      marginLeft: 56,
      grid: true,
      x: {
        label: "epoch",
        domain: lo === hi ? [lo - 1, hi + 1] : [lo, hi],
        ...(hi - lo <= 12
          ? { ticks: Array.from({ length: hi - lo + 1 }, (_, i) => lo + i) }
          : {}),
        tickFormat: "d",
      },
      y: { label: metric, ...(metric === "accuracy" ? {} : { zero: false }) },
      color: { domain: ["train", "validation"], range: ["#1f77b4", "#ff7f0e"] },
      marks: [
        Plot.line(data, {
          x: "epoch",
          y: "value",
          stroke: "split",
          // Explicit series: with few epochs Plot would otherwise warn that
          // the implicit z has "high cardinality" and draw a warning glyph.
          z: "split",
          strokeWidth: 2,
        }),
        Plot.dot(data, { x: "epoch", y: "value", fill: "split", r: 2.5 }),
        Plot.text(
          data,
          Plot.selectLast({
            x: "epoch",
            y: "value",
            z: "split",
            text: "split",
            fill: "split",
            dx: 6,
            textAnchor: "start",
          }),
        ),
      ],
    }) as unknown as Element;
  });
  return composeFigure(panels, {
    title: options.title ?? "Training curves",
    panelTitles: metrics.map((m) => (m === "loss" ? "Loss" : "Accuracy")),
    ...(options.columns === undefined ? {} : { columns: options.columns }),
  });
}
