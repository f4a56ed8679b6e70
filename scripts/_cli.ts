/**
 * What every CLI in `scripts/` shares: one argument parser (`node:util`'s
 * `parseArgs`, strict), flag checks built on the library's own parsers
 * (backend names, scales), paths resolved where the user typed them, usage errors that exit 2 with the usage text, and
 * the timestamps of output folders.
 *
 * @example
 * ```ts
 * import { parseCli, positiveInt, runCli } from "./_cli.ts";
 * const USAGE = "usage: deno task demo [--epochs N]";
 * runCli(USAGE, (argv) => {
 *   const { values } = parseCli(argv, { epochs: { type: "string" } });
 *   console.log(positiveInt(values.epochs, "--epochs") ?? 1);
 *   return 0;
 * });
 * ```
 *
 * @module
 */
import { resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { type BackendName, parseBackendName } from "../lib/backend/mod.ts";
import { parseScale, type Scale } from "../lib/experiments/scale.ts";
import { startDirectory } from "../lib/config.ts";

/** Bad command-line input: the CLI prints it with its usage and exits 2. */
export class UsageError extends Error {
  /** Creates the error; `message` says what was wrong and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** How `--help` describes one option (extra fields `parseArgs` ignores). */
export interface OptionHelp {
  /** What the option does, one line or two. */
  help?: string;
  /** Name of its value in the help, e.g. "N" or "DIR". Default: "VALUE". */
  valueName?: string;
  /** The default, as the help prints it ("42", "quick", "none"). */
  defaultText?: string;
}

/** The `options` part of `parseArgs`'s config, with optional help texts. */
export type CliOptions = Record<
  string,
  NonNullable<ParseArgsConfig["options"]>[string] & OptionHelp
>;

/**
 * The edit distance of two short strings, a swap of neighbours counting one
 * (for "did you mean").
 */
function _distance(a: string, b: string): number {
  const d = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i + j),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** The known option closest to `name`, when it is close enough to be a typo. */
function _closest(name: string, known: string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = _distance(name, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== null &&
      bestDistance <= Math.max(1, Math.floor(name.length / 3))
    ? best
    : null;
}

/** Node's parseArgs errors, said in the project's words. */
function _usageMessage(error: unknown, options: CliOptions): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const known = Object.keys(options);
  const more = "Run with --help to see every option.";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const flag = /Unknown option '([^']+)'/.exec(message)?.[1] ?? "?";
    const name = flag.replace(/^-+/, "").replace(/=.*$/, "");
    const guess = _closest(name, known);
    return `Unknown option '${flag}'.` +
      (guess ? ` Did you mean --${guess}?` : "") + ` ${more}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const flag = /Option '(-[^' ]+)/.exec(message)?.[1] ?? "?";
    const name = flag.replace(/^-+/, "");
    const value = options[name]?.valueName ?? "VALUE";
    if (/does not take an argument/.test(message)) {
      return `${flag} is a switch and takes no value; write ${flag} alone.`;
    }
    if (/ambiguous/.test(message)) {
      return `${flag} needs a value (${flag} ${value}) but is followed by ` +
        `another option; to pass a value that starts with '-', write ${flag}=-...`;
    }
    return `${flag} needs a value: ${flag} ${value}.`;
  }
  return message.split("\n")[0];
}

/**
 * Parses `argv` strictly (unknown options and missing values are usage
 * errors, said in plain words with a guess at the option meant) with
 * `--help`/`-h` always known; positionals only with `{ positionals: true }`.
 *
 * @example
 * ```ts
 * import { parseCli } from "./_cli.ts";
 * const { values, positionals } = parseCli(["--json", "a.ipynb"], { json: { type: "boolean" } }, { positionals: true });
 * ```
 */
export function parseCli<T extends CliOptions>(
  argv: string[],
  options: T,
  config: { positionals?: boolean } = {},
) {
  const plain = Object.fromEntries(
    Object.entries(options).map((
      [name, { help: _h, valueName: _v, defaultText: _d, ...rest }],
    ) => [name, rest]),
  );
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { ...plain, help: { type: "boolean", short: "h" } } as
        & T
        & { help: { type: "boolean"; short: "h" } },
    });
  } catch (e) {
    throw new UsageError(_usageMessage(e, options));
  }
  if (!config.positionals && parsed.positionals.length) {
    throw new UsageError(
      `Unexpected argument '${parsed.positionals[0]}'. This command takes ` +
        "options only.",
    );
  }
  return parsed;
}

/**
 * The options part of a `--help` text: each option with its value, what it
 * does and its default, aligned.
 *
 * @example
 * ```ts
 * import { describeOptions } from "./_cli.ts";
 * console.log(describeOptions({ epochs: { type: "string", valueName: "N", help: "epochs to train", defaultText: "1" } }));
 * ```
 */
export function describeOptions(options: CliOptions): string {
  const rows = Object.entries(options).map(([name, o]) => [
    `--${name}` + (o.type === "string" ? ` ${o.valueName ?? "VALUE"}` : ""),
    (o.help ?? "") +
    (o.defaultText !== undefined ? ` (default: ${o.defaultText})` : ""),
  ]);
  rows.push(["-h, --help", "print this help and exit"]);
  const width = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`).join(
    "\n",
  );
}

/**
 * Runs a check of user input (one of the library's parsers), turning its
 * error into a {@linkcode UsageError}.
 *
 * @example
 * ```ts
 * import { usageCheck } from "./_cli.ts";
 * import { parseDatasetName } from "../lib/experiments/mod.ts";
 * const dataset = usageCheck(() => parseDatasetName("mnist"));
 * ```
 */
export function usageCheck<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

/**
 * A whole number >= 1 from a flag's value, or undefined when absent.
 *
 * @example
 * ```ts
 * import { positiveInt } from "./_cli.ts";
 * positiveInt("3", "--epochs"); // 3
 * ```
 */
export function positiveInt(
  value: string | undefined,
  flag: string,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(
      `${flag} must be a whole number >= 1, got "${value}".`,
    );
  }
  return n;
}

/**
 * A finite number >= 0 from a flag's value, or undefined when absent.
 *
 * @example
 * ```ts
 * import { nonNegativeNumber } from "./_cli.ts";
 * nonNegativeNumber("0.5", "--timeout"); // 0.5
 * ```
 */
export function nonNegativeNumber(
  value: string | undefined,
  flag: string,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(
      `${flag} must be a number >= 0, got "${value}".`,
    );
  }
  return n;
}

/**
 * A backend name or "auto" from a flag (the library's check), or undefined
 * when absent (then `initBackend` reads `CNN_BACKEND`).
 *
 * @example
 * ```ts
 * import { backendFlag } from "./_cli.ts";
 * backendFlag("wasm"); // "wasm"
 * ```
 */
export function backendFlag(
  value: string | undefined,
  flag = "--backend",
): BackendName | "auto" | undefined {
  if (value === undefined) return undefined;
  return usageCheck(() => parseBackendName(value, flag));
}

/**
 * A scale from a flag (the library's check), `fallback` when absent.
 *
 * @example
 * ```ts
 * import { scaleFlag } from "./_cli.ts";
 * scaleFlag(undefined, "smoke"); // "smoke"
 * ```
 */
export function scaleFlag(
  value: string | undefined,
  fallback: Scale,
  flag = "--scale",
): Scale {
  return usageCheck(() => parseScale(value ?? fallback, flag));
}

/**
 * A path from a flag or a positional argument, made absolute against the
 * directory the user ran the command from (`deno task` itself runs in the
 * project root, so `--out runs/a` typed in `notebooks/` means
 * `notebooks/runs/a`); undefined when absent. An empty path is a usage error
 * (it would silently mean the current folder).
 *
 * @example
 * ```ts
 * import { pathFlag } from "./_cli.ts";
 * console.log(pathFlag("runs/a", "--out")); // e.g. /home/me/cnn/notebooks/runs/a
 * ```
 */
export function pathFlag(value: string, flag?: string): string;
export function pathFlag(
  value: string | undefined,
  flag?: string,
): string | undefined;
export function pathFlag(
  value: string | undefined,
  flag = "a path argument",
): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === "") {
    throw new UsageError(
      `${flag} is empty; give a path (use . for the current folder).`,
    );
  }
  return resolve(startDirectory(), value);
}

/**
 * A UTC timestamp usable in a folder name: `2026-11-29T15-04-05Z`.
 *
 * @example
 * ```ts
 * import { folderTimestamp } from "./_cli.ts";
 * console.log(`reports/${folderTimestamp()}`);
 * ```
 */
export function folderTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
}

/**
 * Runs a CLI's main function and exits with its status: 2 with the message
 * and `usage` on a {@linkcode UsageError}, 1 with the message on any other
 * error, and 0 after printing `usage` for `--help`.
 *
 * @example
 * ```ts
 * import { runCli } from "./_cli.ts";
 * runCli("usage: deno task demo", () => 0);
 * ```
 */
export async function runCli(
  usage: string,
  main: (argv: string[]) => number | Promise<number>,
): Promise<never> {
  const argv = Deno.args;
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage);
    Deno.exit(0);
  }
  try {
    Deno.exit(await main([...argv]));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    console.error(`error: ${message}`);
    if (e instanceof UsageError) {
      console.error(usage);
      Deno.exit(2);
    }
    Deno.exit(1);
  }
}
