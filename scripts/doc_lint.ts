/**
 * `deno doc --lint` over the library's entry points (the `exports` of
 * `lib/deno.json`), reporting only what the library can fix: problems located
 * in `lib/`. Two kinds of finding are the dependencies' and are left out:
 * anything inside `node_modules` (the `tf` namespace re-exports TensorFlow.js,
 * whose own declarations lack JSDoc), and `private-type-ref` findings whose
 * type is not declared in `lib/` (a public function taking a `tf.LayersModel`
 * or returning a nodejs-polars `DataFrame` "references" that package's type,
 * which no entry point of ours can or should re-export).
 *
 * Usage: `deno run -A scripts/doc_lint.ts` (a static step of `deno task
 * test`). Prints each remaining problem and exits 1 when there is one.
 *
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../", import.meta.url));
const libDir = join(repo, "lib");

/** One `deno doc --lint` finding. */
export interface DocProblem {
  /** The rule, e.g. `missing-jsdoc`. */
  rule: string;
  /** The first line of the message. */
  message: string;
  /** `file:line:column` as deno printed it. */
  location: string;
}

/** Splits `deno doc --lint` output (NO_COLOR) into findings. */
export function parseDocLint(text: string): DocProblem[] {
  const problems: DocProblem[] = [];
  for (const block of text.split(/\n(?=error\[)/)) {
    const head = /^error\[([\w-]+)\]: (.*)$/m.exec(block);
    const at = /-->\s+(\S+)/.exec(block);
    if (head && at) {
      problems.push({ rule: head[1], message: head[2], location: at[1] });
    }
  }
  return problems;
}

async function libTypeNames(dir: string, found = new Set<string>()) {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) await libTypeNames(path, found);
    else if (entry.name.endsWith(".ts")) {
      const text = await Deno.readTextFile(path);
      const re =
        /^\s*(?:export\s+)?(?:declare\s+)?(?:abstract\s+)?(?:(?:interface|class|enum)\s+([A-Za-z_$][\w$]*)|type\s+([A-Za-z_$][\w$]*)\s*(?:<[^=]*>)?\s*=)/gm;
      for (const m of text.matchAll(re)) found.add(m[1] ?? m[2]);
    }
  }
  return found;
}

/** The findings the library owns, given all of them. */
export function ownProblems(
  problems: DocProblem[],
  libTypes: Set<string>,
  lib = libDir,
): DocProblem[] {
  return problems.filter((p) => {
    const file = p.location.replace(/^file:\/\//, "").replace(/:\d+:\d+$/, "");
    if (!file.startsWith(lib) || file.includes("node_modules")) return false;
    if (p.rule === "private-type-ref") {
      const type = /references private type '([^']+)'/.exec(p.message)?.[1];
      return type !== undefined && libTypes.has(type);
    }
    return true;
  });
}

async function main(): Promise<number> {
  const config = JSON.parse(await Deno.readTextFile(join(libDir, "deno.json")));
  const entries = Object.entries(config.exports as Record<string, string>)
    .filter(([name]) => name !== "./tf")
    .map(([, path]) => join(libDir, path));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", ...entries],
    cwd: repo,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  const all = parseDocLint(text);
  const own = ownProblems(all, await libTypeNames(libDir));
  for (const p of own) {
    const where = relative(repo, p.location.replace(/^file:\/\//, ""));
    console.log(`${where}: ${p.rule}: ${p.message}`);
  }
  console.log(
    `deno doc --lint over ${entries.length} entry points: ${own.length} ` +
      `problem(s) in lib/ (${all.length - own.length} in dependencies' ` +
      `types left out)`,
  );
  if (!out.success && all.length === 0) {
    console.log(text.slice(-3000));
    return 1;
  }
  return own.length ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
