/**
 * Confusion matrices and the numbers read from them: counts, row percentages,
 * per-class accuracy and the most confused pairs of classes.
 *
 * @example
 * ```ts
 * import { confusionMatrix, mostConfused } from "./metrics.ts";
 * const cm = confusionMatrix([0, 1, 1, 2], [0, 2, 1, 2], { numClasses: 3 });
 * console.log(cm.counts, mostConfused(cm, { top: 1 }));
 * ```
 *
 * @module
 */
import pl from "nodejs-polars";

/** Options of {@linkcode confusionMatrix}. */
export interface ConfusionMatrixOptions {
  /** Number of classes. Default: `classNames.length`, else 1 + the largest label seen. */
  numClasses?: number;
  /** Display names of the classes, index = label. Default: `"0"`, `"1"`, ... */
  classNames?: readonly string[];
}

/** A confusion matrix: rows are the true (actual) classes, columns the predicted ones. */
export interface ConfusionMatrix {
  /** `counts[actual][predicted]`: how many samples of class `actual` were predicted `predicted`. */
  counts: number[][];
  /**
   * `percent[actual][predicted]`: the row percentage, `100 * count / rowTotal`
   * (0 for a class with no samples), as seed 000's `plot_cm` annotates.
   */
  percent: number[][];
  /** Samples per true class (row sums). */
  rowTotals: number[];
  /** Class names, index = label. */
  classNames: string[];
  /** Number of samples. */
  total: number;
  /** Number of samples on the diagonal. */
  correct: number;
  /** `correct / total` (0 when there are no samples). */
  accuracy: number;
  /**
   * The matrix in long (tidy) form, one row per (actual, predicted) pair:
   * columns `actual` (str), `predicted` (str), `actual_index` (i32),
   * `predicted_index` (i32), `count` (i64-ish float), `percent` (f64).
   */
  frame: pl.DataFrame;
}

function _checkLabels(
  labels: ArrayLike<number>,
  what: string,
  numClasses: number | undefined,
): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0) {
      throw new Error(
        `${what}[${i}] is ${v}; class labels must be integers >= 0 ` +
          `(pass class indices, e.g. the argmax of the model's output, not probabilities)`,
      );
    }
    if (numClasses !== undefined && v >= numClasses) {
      throw new Error(
        `${what}[${i}] is ${v} but there are only ${numClasses} classes; ` +
          `raise options.numClasses or fix the labels`,
      );
    }
  }
}

/**
 * Counts how often each true class was predicted as each class.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { confusionMatrix } from "./metrics.ts";
 * const cm = confusionMatrix([0, 0, 1], [0, 1, 1], { classNames: ["cat", "dog"] });
 * console.log(cm.counts); // [[1, 1], [0, 1]]
 * assert.deepEqual(cm.percent[0], [50, 50]);
 * ```
 */
export function confusionMatrix(
  trueLabels: ArrayLike<number>,
  predLabels: ArrayLike<number>,
  options: ConfusionMatrixOptions = {},
): ConfusionMatrix {
  if (trueLabels.length !== predLabels.length) {
    throw new Error(
      `confusionMatrix: ${trueLabels.length} true labels but ${predLabels.length} predictions; ` +
        `both must describe the same samples in the same order`,
    );
  }
  if (
    options.numClasses !== undefined &&
    (!Number.isInteger(options.numClasses) || options.numClasses < 1)
  ) {
    throw new Error(
      `confusionMatrix: numClasses must be a positive integer, got ${options.numClasses}`,
    );
  }
  if (
    options.numClasses !== undefined && options.classNames !== undefined &&
    options.classNames.length !== options.numClasses
  ) {
    throw new Error(
      `confusionMatrix: ${options.classNames.length} class names for ${options.numClasses} classes`,
    );
  }
  const given = options.numClasses ?? options.classNames?.length;
  _checkLabels(trueLabels, "trueLabels", given);
  _checkLabels(predLabels, "predLabels", given);
  let n = given ?? 0;
  if (given === undefined) {
    for (let i = 0; i < trueLabels.length; i++) {
      n = Math.max(n, trueLabels[i] + 1, predLabels[i] + 1);
    }
    if (n === 0) {
      throw new Error(
        "confusionMatrix: no labels and no numClasses; pass options.numClasses",
      );
    }
  }
  const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < trueLabels.length; i++) {
    counts[trueLabels[i]][predLabels[i]]++;
  }
  return _fromCounts(
    counts,
    options.classNames ? [...options.classNames] : undefined,
  );
}

/**
 * Builds a {@linkcode ConfusionMatrix} from a square table of counts
 * (`counts[actual][predicted]`), e.g. one saved earlier.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { confusionMatrixFromCounts } from "./metrics.ts";
 * const cm = confusionMatrixFromCounts([[5, 1], [2, 8]]);
 * assert.equal(cm.accuracy, 0.8125);
 * ```
 */
export function confusionMatrixFromCounts(
  counts: readonly (readonly number[])[],
  options: Pick<ConfusionMatrixOptions, "classNames"> = {},
): ConfusionMatrix {
  const n = counts.length;
  if (n === 0 || counts.some((row) => row.length !== n)) {
    throw new Error(
      "confusionMatrixFromCounts: counts must be a non-empty square table (rows = actual, columns = predicted)",
    );
  }
  if (options.classNames && options.classNames.length !== n) {
    throw new Error(
      `confusionMatrixFromCounts: ${options.classNames.length} class names for ${n} classes`,
    );
  }
  for (const row of counts) {
    for (const c of row) {
      if (!Number.isFinite(c) || c < 0) {
        throw new Error(
          `confusionMatrixFromCounts: counts must be finite and >= 0, got ${c}`,
        );
      }
    }
  }
  return _fromCounts(
    counts.map((row) => [...row]),
    options.classNames ? [...options.classNames] : undefined,
  );
}

function _fromCounts(
  counts: number[][],
  classNames: string[] | undefined,
): ConfusionMatrix {
  const n = counts.length;
  const names = classNames ?? Array.from({ length: n }, (_, i) => String(i));
  const rowTotals = counts.map((row) => row.reduce((a, b) => a + b, 0));
  const percent = counts.map((row, i) =>
    row.map((c) => (rowTotals[i] === 0 ? 0 : (100 * c) / rowTotals[i]))
  );
  const total = rowTotals.reduce((a, b) => a + b, 0);
  let correct = 0;
  for (let i = 0; i < n; i++) correct += counts[i][i];
  const actual: string[] = [];
  const predicted: string[] = [];
  const actualIndex: number[] = [];
  const predictedIndex: number[] = [];
  const countCol: number[] = [];
  const percentCol: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      actual.push(names[i]);
      predicted.push(names[j]);
      actualIndex.push(i);
      predictedIndex.push(j);
      countCol.push(counts[i][j]);
      percentCol.push(percent[i][j]);
    }
  }
  const frame = pl.DataFrame({
    actual,
    predicted,
    actual_index: pl.Series("actual_index", actualIndex, pl.Int32),
    predicted_index: pl.Series("predicted_index", predictedIndex, pl.Int32),
    count: pl.Series("count", countCol, pl.Int64),
    percent: pl.Series("percent", percentCol, pl.Float64),
  });
  return {
    counts,
    percent,
    rowTotals,
    classNames: names,
    total,
    correct,
    accuracy: total === 0 ? 0 : correct / total,
    frame,
  };
}

/**
 * The confusion matrix as a wide table like seed 000's pandas frame: one row
 * per actual class, column `actual` then one column per predicted class.
 *
 * @example
 * ```ts
 * import { confusionMatrix, confusionTable } from "./metrics.ts";
 * const cm = confusionMatrix([0, 1], [0, 0]);
 * console.log(confusionTable(cm, { values: "percent" }).toString());
 * ```
 */
export function confusionTable(
  cm: ConfusionMatrix,
  options: {
    /** Which numbers fill the cells. Default: "count". */
    values?: "count" | "percent";
  } = {},
): pl.DataFrame {
  const table = options.values === "percent" ? cm.percent : cm.counts;
  const columns: Record<string, unknown[]> = { actual: cm.classNames };
  cm.classNames.forEach((name, j) => {
    columns[name] = table.map((row) => row[j]);
  });
  return pl.DataFrame(columns);
}

/** One class's share of correct predictions (recall), from {@linkcode perClassAccuracy}. */
export interface ClassAccuracy {
  /** Class index. */
  index: number;
  /** Class name. */
  className: string;
  /** Samples of this class predicted correctly. */
  correct: number;
  /** Samples of this class. */
  total: number;
  /** `correct / total`, or `null` when the class has no samples. */
  accuracy: number | null;
}

/**
 * Accuracy within each true class (the diagonal over the row totals).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { confusionMatrix, perClassAccuracy } from "./metrics.ts";
 * const rows = perClassAccuracy(confusionMatrix([0, 0, 1], [0, 1, 1]));
 * assert.deepEqual(rows.map((r) => r.accuracy), [0.5, 1]);
 * ```
 */
export function perClassAccuracy(cm: ConfusionMatrix): ClassAccuracy[] {
  return cm.counts.map((row, i) => ({
    index: i,
    className: cm.classNames[i],
    correct: row[i],
    total: cm.rowTotals[i],
    accuracy: cm.rowTotals[i] === 0 ? null : row[i] / cm.rowTotals[i],
  }));
}

/** Options of {@linkcode mostConfused}. */
export interface MostConfusedOptions {
  /** How many pairs to return at most. Default: 5. */
  top?: number;
  /** Leave out pairs seen fewer times than this. Default: 1. */
  minCount?: number;
}

/** A pair (actual, predicted) of different classes and how often it occurred. */
export interface ConfusedPair {
  /** True class index. */
  actual: number;
  /** Predicted class index. */
  predicted: number;
  /** True class name. */
  actualName: string;
  /** Predicted class name. */
  predictedName: string;
  /** Number of samples of `actual` predicted as `predicted`. */
  count: number;
  /** That count as a percentage of the samples of `actual`. */
  percent: number;
}

/**
 * The off-diagonal cells with the largest counts (ties: larger row
 * percentage first, then lower class indices), e.g. seed 000's "0 read as 9".
 *
 * @example
 * ```ts
 * import { confusionMatrix, mostConfused } from "./metrics.ts";
 * const cm = confusionMatrix([0, 0, 0, 1], [9, 9, 6, 1], { numClasses: 10 });
 * console.log(mostConfused(cm, { top: 1 })[0]); // actual 0, predicted 9, count 2
 * ```
 */
export function mostConfused(
  cm: ConfusionMatrix,
  options: MostConfusedOptions = {},
): ConfusedPair[] {
  const top = options.top ?? 5;
  const minCount = options.minCount ?? 1;
  if (!Number.isInteger(top) || top < 0) {
    throw new Error(`mostConfused: top must be an integer >= 0, got ${top}`);
  }
  const pairs: ConfusedPair[] = [];
  cm.counts.forEach((row, i) =>
    row.forEach((count, j) => {
      if (i !== j && count >= minCount && count > 0) {
        pairs.push({
          actual: i,
          predicted: j,
          actualName: cm.classNames[i],
          predictedName: cm.classNames[j],
          count,
          percent: cm.percent[i][j],
        });
      }
    })
  );
  pairs.sort((a, b) =>
    b.count - a.count || b.percent - a.percent || a.actual - b.actual ||
    a.predicted - b.predicted
  );
  return pairs.slice(0, top);
}
