/**
 * The training history as a nodejs-polars DataFrame (one row per epoch) and
 * as plain column arrays.
 *
 * @example
 * ```ts
 * import { historyFrame } from "./history.ts";
 * const df = historyFrame([{
 *   epoch: 1, loss: 0.5, acc: 0.8, val_loss: null, val_acc: null,
 *   lr: 1e-3, seconds: 2, samples_per_s: 3000,
 * }]);
 * console.log(df.columns);
 * ```
 *
 * @module
 */
import pl from "nodejs-polars";
import { type EpochRecord, HISTORY_COLUMNS } from "./types.ts";

/** Name of a history column. */
export type HistoryColumn = typeof HISTORY_COLUMNS[number];

/**
 * The records as columns (`null` where a value is missing).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { historyColumns } from "./history.ts";
 * assert.deepEqual(historyColumns([]).loss, []);
 * ```
 */
export function historyColumns(
  records: readonly EpochRecord[],
): Record<HistoryColumn, (number | null)[]> {
  const out = {} as Record<HistoryColumn, (number | null)[]>;
  for (const column of HISTORY_COLUMNS) {
    out[column] = records.map((r) => r[column]);
  }
  return out;
}

/**
 * The records as a DataFrame with columns epoch (Int32), loss, acc,
 * val_loss, val_acc, lr, seconds, samples_per_s (Float64, null if missing).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { historyFrame } from "./history.ts";
 * assert.equal(historyFrame([]).height, 0);
 * ```
 */
export function historyFrame(records: readonly EpochRecord[]): pl.DataFrame {
  const columns = historyColumns(records);
  return pl.DataFrame(
    HISTORY_COLUMNS.map((name) =>
      pl.Series(name, columns[name], name === "epoch" ? pl.Int32 : pl.Float64)
    ),
  );
}
