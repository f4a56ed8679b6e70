/**
 * Every CLI in scripts/ parses its arguments the same way (node:util
 * parseArgs through scripts/_cli.ts) and checks backend names and scales
 * with the library's own parsers: the same errors, exit codes and --help.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runScript } from "./_cli_run.ts";

const scripts = fileURLToPath(new URL("../scripts/", import.meta.url));
const run = runScript;

const CLIS = [
  "train.ts",
  "reproduce.ts",
  "notebooks.ts",
  "data.ts",
  "bench.ts",
  "kernel.ts",
  "check_notebooks.ts",
];

Deno.test("scripts: one argument parser; no script parses Deno.args or checks backend names itself", async () => {
  const offenders: string[] = [];
  for await (const entry of Deno.readDir(scripts)) {
    if (!entry.name.endsWith(".ts") || entry.name === "_cli.ts") continue;
    const text = await Deno.readTextFile(join(scripts, entry.name));
    if (/from "node:util"/.test(text) && /\bparseArgs\b/.test(text)) {
      offenders.push(`${entry.name}: imports parseArgs itself`);
    }
    for (const m of text.matchAll(/Deno\.args\b[^\n]*/g)) {
      const before = text.slice(Math.max(0, m.index! - 20), m.index);
      if (!/parseCli\(\s*$/.test(before)) {
        offenders.push(`${entry.name}: reads ${m[0].trim()}`);
      }
    }
    if (/BACKEND_NAMES[^\n]*\.includes\(/.test(text)) {
      offenders.push(`${entry.name}: checks backend names itself`);
    }
    if (/=== "smoke"[^\n]*"full"|!== "smoke"/.test(text)) {
      offenders.push(`${entry.name}: checks scales itself`);
    }
  }
  assert.deepEqual(offenders, []);
});

Deno.test("every CLI: --help prints the usage and exits 0; an unknown option exits 2 naming it, with the usage", async () => {
  for (const cli of CLIS) {
    const help = await run(cli, ["--help"]);
    assert.equal(help.code, 0, `${cli} --help: ${help.stderr}`);
    assert.match(help.stdout, /usage/i, cli);
    const bad = await run(cli, ["--frobnicate"]);
    assert.equal(bad.code, 2, `${cli}: ${bad.stderr}`);
    assert.match(bad.stderr, /Unknown option '--frobnicate'/, cli);
    assert.match(bad.stderr, /usage/i, cli);
  }
});

Deno.test("backend and scale flags: the library's checks and messages, exit 2, in every CLI that has them", async () => {
  const cases: [string, string[], RegExp][] = [
    [
      "train.ts",
      ["--model", "lenet5", "--backend", "cuda"],
      /Unknown backend "cuda" \(from --backend\): use one of tensorflow, webgpu, wasm, cpu or auto/,
    ],
    [
      "reproduce.ts",
      ["--backend", "cuda"],
      /Unknown backend "cuda" \(from --backend\)/,
    ],
    [
      "bench.ts",
      ["--backends", "wasm,cuda"],
      /Unknown backend "cuda" \(from --backends\)/,
    ],
    [
      "train.ts",
      ["--model", "lenet5", "--scale", "huge"],
      /--scale must be one of "smoke", "quick", "full", got "huge"/,
    ],
    [
      "reproduce.ts",
      ["--scale", "huge"],
      /--scale must be one of "smoke", "quick", "full", got "huge"/,
    ],
    [
      "notebooks.ts",
      ["--scale", "huge"],
      /--scale must be one of "smoke", "quick", "full", got "huge"/,
    ],
    [
      "notebooks.ts",
      ["--timeout=-1"],
      /--timeout must be a number >= 0, got "-1"/,
    ],
    [
      "bench.ts",
      ["--rounds", "0"],
      /--rounds must be a whole number >= 1, got "0"/,
    ],
    ["kernel.ts", ["extra"], /Unexpected argument 'extra'/],
  ];
  for (const [cli, args, message] of cases) {
    const r = await run(cli, args);
    assert.equal(r.code, 2, `${cli} ${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, `${cli} ${args.join(" ")}`);
  }
});
