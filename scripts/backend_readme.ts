/**
 * `deno task backend-readme`: writes `lib/backend/README.md` from the
 * backend manifest (`lib/backend/manifest.ts`) and the C bindings
 * (`lib/backend/bindings.ts`), formatted by `deno fmt`. A test
 * (`tests/backend_manifest_test.ts`) regenerates it and compares, so the
 * README cannot drift from the code.
 *
 * ```sh
 * deno task backend-readme            # rewrite the README
 * deno task backend-readme --check    # exit 1 if it is out of date
 * ```
 *
 * @module
 */
import { parseCli, runCli } from "./_cli.ts";
import { formatMarkdown } from "./_markdown.ts";
import { backendReadme } from "../lib/backend/describe.ts";

const USAGE = "usage: deno task backend-readme [--check]";
const README = "lib/backend/README.md";

/**
 * The README as it should be: generated, then formatted.
 *
 * @example
 * ```ts
 * import { expectedBackendReadme } from "./backend_readme.ts";
 * console.log((await expectedBackendReadme()).length);
 * ```
 */
export async function expectedBackendReadme(): Promise<string> {
  return await formatMarkdown(backendReadme());
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, { check: { type: "boolean" } });
  Deno.chdir(new URL("..", import.meta.url).pathname);
  const expected = await expectedBackendReadme();
  if (values.check) {
    const current = await Deno.readTextFile(README).catch(() => "");
    if (current !== expected) {
      console.error(
        `backend-readme: ${README} is out of date; run ` +
          "`deno task backend-readme` and commit it.",
      );
      return 1;
    }
    console.log(`backend-readme: ${README} is up to date`);
    return 0;
  }
  const tmp = `${README}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, expected);
  await Deno.rename(tmp, README);
  console.log(`backend-readme: wrote ${README}`);
  return 0;
}

if (import.meta.main) runCli(USAGE, main);
