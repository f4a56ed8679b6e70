/**
 * Markdown as `deno fmt` leaves it (tables aligned), for the generated docs
 * (`deno task docs`, `deno task backend-readme`), so their `--check` and
 * `deno fmt --check` agree.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../", import.meta.url));

/**
 * Formats Markdown text with this Deno's `deno fmt`, run at the project root.
 *
 * @example
 * ```ts
 * import { formatMarkdown } from "./_markdown.ts";
 * console.log(await formatMarkdown("# Title\n"));
 * ```
 */
export async function formatMarkdown(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=md", "-"],
    cwd: repo,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(
      `deno fmt could not format the Markdown: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}
