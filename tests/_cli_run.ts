// Runs one of the project's CLIs (scripts/*.ts) in its own process, offline
// and without colours, as the tests of the CLIs need it.
import { fileURLToPath } from "node:url";

/** What a CLI run printed and how it exited. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `scripts/<script>` with `args`; `env` adds to (or overrides) the
 * offline, colourless environment every CLI test uses.
 */
export async function runScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  const path = fileURLToPath(new URL(`../scripts/${script}`, import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path, ...args],
    env: { NO_COLOR: "1", CNN_DATA_OFFLINE: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: out.code,
    stdout: decode(out.stdout),
    stderr: decode(out.stderr),
  };
}
