/**
 * The three scales every experiment runs at: `smoke` (tiny data, one epoch,
 * seconds on a CPU; proves the pipeline works, for CI), `quick` (the default:
 * all the training data, a few epochs, the models clearly learn; the five
 * notebooks take under 15 minutes on a 2-core CPU) and `full` (the
 * tutorial's own settings, hours on a CPU). Notebooks and scripts get it
 * from `runConfigFromEnv().scale` (`CNN_SCALE`, `lib/config.ts`) or a
 * `--scale` flag.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { DEFAULT_SCALE, parseScale } from "./scale.ts";
 * assert.ok(parseScale("full") === "full" && DEFAULT_SCALE === "quick");
 * ```
 *
 * @module
 */

/** How much of an experiment to run: smoke test, quick run or the tutorial's settings. */
export type Scale = "smoke" | "quick" | "full";

/** Every scale, smallest first. */
export const SCALES: readonly Scale[] = ["smoke", "quick", "full"];

/** The scale used when none is given: `quick`. */
export const DEFAULT_SCALE: Scale = "quick";

/**
 * Checks that `value` names a scale and returns it typed; `what` says where the
 * value came from, for the error message.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { parseScale } from "./scale.ts";
 * assert.equal(parseScale("full"), "full");
 * ```
 */
export function parseScale(value: string, what = "scale"): Scale {
  if ((SCALES as readonly string[]).includes(value)) return value as Scale;
  throw new Error(
    `${what} must be one of ${SCALES.map((s) => `"${s}"`).join(", ")}, got ` +
      `${JSON.stringify(value)}. Use "smoke" for a seconds-long check, ` +
      `"quick" for a run in which the models learn, or "full" for the ` +
      "tutorial's settings.",
  );
}
