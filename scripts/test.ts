/**
 * The project's test command: static checks (format, lint, type check of the
 * library, scripts, tests and the notebooks' code cells; `deno doc --lint` of
 * the library), every `@example` block of the library type-checked and run
 * (`deno test --doc`, one result per example), and the `deno test` suites,
 * each counted, ending with one plain line `N passed, N failed`.
 *
 * Usage: `deno task test [--quick] [test files...]`
 *
 * `--quick` skips the static checks; naming test files runs only those (no
 * examples). Exits non-zero on any failure.
 *
 * @module
 */

import { parseCli } from "./_cli.ts";

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
}

const USAGE = "usage: deno task test [--quick] [test files...]";
const deno = Deno.execPath();
let cli;
try {
  cli = parseCli(Deno.args, { quick: { type: "boolean" } }, {
    positionals: true,
  });
} catch (e) {
  console.error(`error: ${(e as Error).message}\n${USAGE}`);
  Deno.exit(2);
}
if (cli.values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const args = cli.positionals;
const quick = cli.values.quick ?? false;
const tally: Tally = { passed: 0, failed: 0, skipped: 0, failures: [] };

async function runStatic(name: string, cmd: string[]): Promise<void> {
  const started = performance.now();
  const out = await new Deno.Command(deno, {
    args: cmd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (out.success) {
    tally.passed++;
    console.log(`ok - static: ${name} (${seconds}s)`);
  } else {
    tally.failed++;
    tally.failures.push(`static: ${name}`);
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    console.log(`not ok - static: ${name} (${seconds}s)\n${text.slice(-6000)}`);
  }
}

/**
 * Streams `deno test --reporter=tap`, counting top-level results only. A
 * process killed by a signal before any of its tests failed (the native
 * addons' intermittent crash, see the loop below) is run once more, counting
 * only the second run; a second crash fails.
 */
async function runTests(
  files: string[],
  options: {
    /** Run the files' @example blocks (`deno test --doc`). Default: false. */
    doc?: boolean;
    /** Names the run in messages. Default: the files. */
    label?: string;
    /** Run once more after a crash (see above). Default: true. */
    retry?: boolean;
  } = {},
): Promise<void> {
  const label = options.label ?? `deno test ${files.join(" ")}`;
  const before = { ...tally, failures: [...tally.failures] };
  let planned = -1;
  let reported = 0;
  const child = new Deno.Command(deno, {
    args: [
      "test",
      "-A",
      "--reporter=tap",
      ...(options.doc ? ["--doc"] : []),
      ...files,
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const failedBefore = tally.failed;
  let buffered = "";
  const decoder = new TextDecoder();
  const handle = (line: string) => {
    console.log(line);
    const ok = /^ok \d+ - (.*)$/.exec(line);
    const notOk = /^not ok \d+ - (.*)$/.exec(line);
    const plan = /^1\.\.(\d+)$/.exec(line);
    if (plan) planned = Number(plan[1]);
    if (ok || notOk) reported++;
    if (ok) {
      if (/# SKIP\b/.test(ok[1])) tally.skipped++;
      else tally.passed++;
    } else if (notOk) {
      tally.failed++;
      // TAP escapes "#" (doc tests are named `file.ts#10-22.ts`).
      tally.failures.push(notOk[1].replaceAll("\\#", "#"));
    }
  };
  for await (const chunk of child.stdout) {
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    lines.forEach(handle);
  }
  if (buffered) handle(buffered);
  const status = await child.status;
  // Killed by a signal with no failing test (so far): the native addons'
  // intermittent crash (zeromq's kernel tests, at exit or mid-run).
  const crashed = !status.success &&
    (status.signal !== null || status.code >= 128) &&
    failedBefore === tally.failed;
  if (crashed && (options.retry ?? true)) {
    console.log(
      `# ${label}: deno died (code ${status.code}) after ` +
        `${reported} of ${
          planned < 0 ? "?" : planned
        } results, none failing; running the file once more`,
    );
    Object.assign(tally, before);
    await runTests(files, { ...options, retry: false });
    return;
  }
  if (!status.success && failedBefore === tally.failed) {
    // deno test failed without a failing test: a type error, or a crash.
    tally.failed++;
    tally.failures.push(
      `${label} exited with code ${status.code}`,
    );
  }
}

if (!quick) {
  // deno.json leaves the notebooks to check_notebooks.ts: Deno 2.9.6's
  // `fmt --check` reports every .ipynb it has not itself written as
  // unformatted.
  await runStatic("deno fmt --check", ["fmt", "--check"]);
  await runStatic("deno lint", ["lint"]);
  await runStatic("deno check lib scripts tests", [
    "check",
    "lib/",
    "scripts/",
    "tests/",
  ]);
  await runStatic("deno doc --lint (lib's entry points)", [
    "run",
    "-A",
    "scripts/doc_lint.ts",
  ]);
  try {
    await Deno.stat("scripts/check_notebooks.ts");
    await runStatic("notebook code cells type-check and lint", [
      "run",
      "-A",
      "scripts/check_notebooks.ts",
    ]);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
/**
 * The library's files with an `@example` (walking `dir`), sorted: the
 * modules `deno test --doc` runs the examples of. Files without one are left
 * out, so that no module is loaded only to run nothing (a worker's module
 * throws when loaded outside a worker).
 */
async function exampleFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await exampleFiles(path));
    else if (
      entry.isFile && path.endsWith(".ts") && !path.endsWith("_test.ts") &&
      (await Deno.readTextFile(path)).includes("@example")
    ) {
      found.push(path);
    }
  }
  return found.sort();
}

/** Test files under `dir` (`*_test.ts`), sorted, so each runs in its own process. */
async function testFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && /_test\.ts$/.test(entry.name)) {
      found.push(`${dir}/${entry.name}`);
    }
  }
  return found.sort();
}

// Every @example block of the library, type-checked and run (`deno test
// --doc`), one result per example, in the full run only.
if (!args.length) {
  const started = performance.now();
  await runTests(await exampleFiles("lib"), {
    doc: true,
    label: "deno test --doc (lib's @example blocks)",
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`# lib's @example blocks ran in ${seconds}s`);
}

// One process per test file: a native addon (zeromq, polars) crashing or
// leaking at exit then fails only its own file, and names it.
for (const file of args.length ? args : await testFiles("tests")) {
  await runTests([file]);
}

if (tally.failures.length) {
  console.log("\nFailures:");
  for (const f of tally.failures) console.log(`  - ${f}`);
}
const skipped = tally.skipped ? `, ${tally.skipped} skipped` : "";
console.log(`${tally.passed} passed, ${tally.failed} failed${skipped}`);
Deno.exit(tally.failed ? 1 : 0);
