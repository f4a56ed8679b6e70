/**
 * `deno task timings`: runs a command, measures its wall time and, when it
 * succeeds, records it in `docs/timings.json` under a name, with the commit,
 * the date and the machine. The README says how long its commands take from
 * this file (`deno task docs`), so no duration there is typed by hand.
 *
 * Usage: `deno task timings [--file F] NAME -- COMMAND [ARGS...]` (`--file`
 * default: `docs/timings.json`), e.g.
 *
 *     deno task timings test -- deno task test
 *     deno task timings reproduce-quick -- deno task reproduce
 *
 * The command inherits the terminal; a failing command records nothing and
 * its exit code is passed on.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { parseCli, pathFlag, runCli, UsageError } from "./_cli.ts";
import { machineDescription, sourceCommit } from "./reproduce.ts";

const USAGE = "usage: deno task timings [--file F] NAME -- COMMAND [ARGS...]";

/** Where the measured durations are kept. */
export const TIMINGS_PATH = fileURLToPath(
  new URL("../docs/timings.json", import.meta.url),
);

/** One measured run of a command. */
export interface Timing {
  /** The command, as run. */
  command: string;
  /** Its wall time in seconds. */
  seconds: number;
  /** The commit the code was at (with "(uncommitted changes)" if so). */
  commit: string | null;
  /** When it finished (ISO time). */
  date: string;
  /** The machine, in words. */
  machine: string;
}

/**
 * The recorded timings by name; an empty record when the file is absent.
 *
 * @example
 * ```ts
 * import { readTimings } from "./timings.ts";
 * console.log(Object.keys(await readTimings()));
 * ```
 */
export async function readTimings(
  path: string = TIMINGS_PATH,
): Promise<Record<string, Timing>> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw new Error(`${path} cannot be read: ${(e as Error).message}`);
  }
}

/**
 * A timing in words for the README: minutes (whole above 10) and where it
 * was measured.
 *
 * @example
 * ```ts
 * import { timingText } from "./timings.ts";
 * const t = { command: "x", seconds: 1265, commit: "ff9fcac",
 *   date: "2026-12-07T05:00:00Z", machine: "m" };
 * console.assert(timingText(t) === "21 min on 2 cores, measured 2026-12-07 at ff9fcac");
 * ```
 */
export function timingText(timing: Timing, cores = 2): string {
  const minutes = timing.seconds / 60;
  const amount = minutes >= 10 ? minutes.toFixed(0) : minutes.toFixed(1);
  return `${amount} min on ${cores} cores, measured ${
    timing.date.slice(0, 10)
  } at ${timing.commit ?? "an unknown commit"}`;
}

async function main(argv: string[]): Promise<number> {
  const dash = argv.indexOf("--");
  const { values, positionals } = parseCli(
    dash < 0 ? argv : argv.slice(0, dash),
    { file: { type: "string" } },
    { positionals: true },
  );
  const path = pathFlag(values.file) ?? TIMINGS_PATH;
  const name = positionals[0];
  if (
    dash < 0 || positionals.length !== 1 || !/^[a-z0-9-]+$/.test(name)
  ) {
    throw new UsageError(
      "give one name (lower case, digits, '-') then -- and the command",
    );
  }
  const command = argv.slice(dash + 1);
  if (command.length === 0) throw new UsageError("no command after --");
  const commit = await sourceCommit();
  const t0 = performance.now();
  const status = await new Deno.Command(command[0], {
    args: command.slice(1),
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  const seconds = (performance.now() - t0) / 1000;
  if (!status.success) {
    console.error(
      `timings: ${
        command.join(" ")
      } failed (exit ${status.code}); nothing recorded`,
    );
    return status.code || 1;
  }
  const timings = await readTimings(path);
  timings[name] = {
    command: command.join(" "),
    seconds: Math.round(seconds * 10) / 10,
    commit,
    date: new Date().toISOString(),
    machine: await machineDescription(),
  };
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(timings, null, 2) + "\n");
  await Deno.rename(tmp, path);
  console.error(
    `timings: ${name} took ${timingText(timings[name])}; recorded in ${path}`,
  );
  return 0;
}

if (import.meta.main) runCli(USAGE, main);
