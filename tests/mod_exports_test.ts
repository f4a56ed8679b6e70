/**
 * The library's public surface is curated (like Deno std's
 * `_tools/check_mod_exports.ts`): every `mod.ts` names what it exports, and
 * none re-exports a private (`_`-prefixed) file or folder.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../", import.meta.url));
const libDir = join(repo, "lib");

async function modFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) found.push(...await modFiles(path));
    else if (entry.name === "mod.ts") found.push(path);
  }
  return found.sort();
}

/** Problems of one mod.ts's source text, one line each. */
export function modExportProblems(text: string): string[] {
  const problems: string[] = [];
  for (
    const m of text.matchAll(
      /^export\s+\*\s+(as\s+(\w+)\s+)?from\s+"([^"]+)"/gm,
    )
  ) {
    // `export * as tf from "./tf.ts"` is the one namespace the library
    // publishes (TensorFlow.js itself); everything else is named.
    if (m[2] === "tf" && m[3] === "./tf.ts") continue;
    problems.push(`\`${m[0]}\`: name the exports`);
  }
  for (const m of text.matchAll(/^export\s[^;]*?from\s+"([^"]+)"/gms)) {
    const segments = m[1].split("/").filter((s) => s !== "." && s !== "..");
    if (segments.some((s) => s.startsWith("_"))) {
      problems.push(`re-exports the private file ${m[1]}`);
    }
  }
  return problems;
}

Deno.test("modExportProblems: flags `export *` and private re-exports, accepts named ones", () => {
  assert.deepEqual(
    modExportProblems('export { a, type B } from "./a.ts";'),
    [],
  );
  assert.deepEqual(modExportProblems('export * as tf from "./tf.ts";'), []);
  assert.equal(modExportProblems('export * from "./a.ts";').length, 1);
  assert.equal(modExportProblems('export * as x from "./a.ts";').length, 1);
  assert.equal(
    modExportProblems('export type {\n  T,\n} from "./_session.ts";').length,
    1,
  );
  assert.equal(
    modExportProblems('export { f } from "./_internal/x.ts";').length,
    1,
  );
});

Deno.test("every lib/**/mod.ts names its exports and re-exports no private file", async () => {
  const mods = await modFiles(libDir);
  assert.ok(mods.length >= 8, `found only ${mods.length} mod.ts files`);
  const problems: string[] = [];
  for (const mod of mods) {
    const text = await Deno.readTextFile(mod);
    for (const p of modExportProblems(text)) {
      problems.push(`${relative(repo, mod)}: ${p}`);
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("internals stay out of the public surface (lib/mod.ts)", async () => {
  const lib = await import("../lib/mod.ts");
  const internals = [
    "crc32c",
    "maskedCrc32c",
    "tfRecord",
    "encodeEvent",
    "wasmHeap",
    "sharedMemoryModule",
    "markdownCell",
    "startDirectory",
    "readTarEntries",
    "checkTfjsVersion",
  ];
  assert.deepEqual(internals.filter((name) => name in lib), []);
});
