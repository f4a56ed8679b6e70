/**
 * The three scales every experiment runs at: `smoke` (tiny data, one epoch,
 * seconds on a CPU; proves the pipeline works, for CI), `quick` (the default:
 * all the training data, a few epochs, the models clearly learn; the five
 * notebooks take under 15 minutes on a 2-core CPU) and `full` (the
 * tutorial's own settings, hours on a CPU). Notebooks and scripts read it
 * from the `CNN_SCALE` env var.
 *
 * @example
 * ```ts
 * import { scaleFromEnv } from "./scale.ts";
 * console.log(`running at ${scaleFromEnv()} scale`);
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

/** Options of {@linkcode scaleFromEnv}. */
export interface ScaleFromEnvOptions {
  /** Environment variable to read. Default: "CNN_SCALE". */
  variable?: string;
  /** Scale when the variable is unset or empty. Default: {@linkcode DEFAULT_SCALE} ("quick"). */
  fallback?: Scale;
}

/**
 * Checks that `value` names a scale and returns it typed; `what` says where the
 * value came from, for the error message.
 *
 * @example
 * ```ts
 * import { parseScale } from "./scale.ts";
 * console.log(parseScale("full")); // "full"
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

/**
 * The scale named by the `CNN_SCALE` environment variable, "quick" when it is
 * unset or empty. Throws on any other value (a typo must not silently run the
 * hour-long full scale, nor the smoke one when full was meant).
 *
 * @example
 * ```ts
 * import { scaleFromEnv } from "./scale.ts";
 * Deno.env.set("CNN_SCALE", "full");
 * console.log(scaleFromEnv()); // "full"
 * ```
 */
export function scaleFromEnv(options: ScaleFromEnvOptions = {}): Scale {
  const variable = options.variable ?? "CNN_SCALE";
  let value: string | undefined;
  try {
    value = Deno.env.get(variable);
  } catch {
    // Without --allow-env the variable cannot be read: use the fallback.
    value = undefined;
  }
  if (value === undefined || value.trim() === "") {
    return options.fallback ?? DEFAULT_SCALE;
  }
  return parseScale(value.trim(), `env var ${variable}`);
}
