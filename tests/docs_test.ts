/**
 * The front door: README.md is short, its first screen has the two commands
 * and the data mirror, every figure in it is generated from committed JSON
 * (`deno task docs`), its library snippet type-checks and learns, and the
 * package has a license. Also the filter of scripts/doc_lint.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  configBlock,
  expectedDocument,
  expectedReadme,
  referenceNotesBlock,
  referenceSpeedText,
  resultsBlock,
  rewriteBlocks,
  TASKS,
  tasksBlock,
} from "../scripts/docs.ts";
import { ownProblems, parseDocLint } from "../scripts/doc_lint.ts";
import { runConfigFromEnv } from "../lib/config.ts";
import type { BenchReport } from "../scripts/bench_docs.ts";

const repo = fileURLToPath(new URL("../", import.meta.url));
const readme = await Deno.readTextFile(join(repo, "README.md"));

Deno.test("README: at most 150 lines; the first screen has the two commands and the data mirror", () => {
  const lines = readme.split("\n");
  assert.ok(lines.length <= 151, `README.md has ${lines.length} lines`);
  const firstScreen = lines.slice(0, 50).join("\n");
  assert.match(firstScreen, /deno task reproduce/);
  assert.match(firstScreen, /deno task test/);
  assert.match(firstScreen, /CNN_DATA_MIRROR=/);
  assert.match(firstScreen, /DataUnavailableError/);
});

Deno.test("README: the generated blocks equal what `deno task docs` writes from the committed JSON", async () => {
  for (const name of ["results", "tasks", "commands", "speed"]) {
    assert.match(readme, new RegExp(`<!-- generated:${name}\\b`), name);
  }
  assert.equal(
    readme,
    await expectedReadme(),
    "README.md disagrees with notebooks/reference/results.json, " +
      "docs/timings.json, docs/benchmarks.json or deno.json: run `deno task docs`",
  );
});

Deno.test("notebooks/README.md: its reference table and configuration table equal what `deno task docs` writes from the committed results", async () => {
  const path = "notebooks/README.md";
  const text = await Deno.readTextFile(join(repo, path));
  for (const name of ["reference", "twins", "config"]) {
    assert.match(text, new RegExp(`<!-- generated:${name}\\b`), name);
  }
  assert.equal(
    text,
    await expectedDocument(path),
    `${path} disagrees with notebooks/reference/results.json, ` +
      "notebooks/reference/seeds_*.json or lib/config.ts: run `deno task docs`",
  );
  const row = {
    experiment: "001-mnist-lenet5",
    model: "lenet5",
    split: "test",
    accuracy: 0.9886,
    published: "99.05% | paper",
    published_accuracy: 0.9905,
    epochs: 23,
    train_seconds: 234,
  };
  const block = referenceNotesBlock([row, {
    ...row,
    split: "dig",
    published_accuracy: undefined,
    data_note: "a substitute",
  }]);
  assert.match(
    block,
    /\| 001-mnist-lenet5 \| lenet5 \| test \| 98\.86% \| 99\.05% \\\| paper \| -0\.19 pp \| 23 \| 3\.9 min \| — \|/,
  );
  assert.match(
    block,
    /\| Dig-MNIST \| 98\.86% \| 99\.05% \\\| paper \| — \| 23 \| 3\.9 min \| a substitute \|/,
  );
});

Deno.test("docs blocks: a changed reference figure changes the README block, and every task needs a line", async () => {
  const reference = JSON.parse(
    await Deno.readTextFile(
      join(repo, "notebooks", "reference", "results.json"),
    ),
  );
  const block = resultsBlock(reference.rows);
  const row = reference.rows[0];
  assert.ok(block.includes(`${(100 * row.accuracy).toFixed(2)}%`));
  const changed = resultsBlock([{ ...row, accuracy: 0.5 }]);
  assert.ok(changed.includes("50.00%") && !block.includes("| 50.00%"));
  const tasks = JSON.parse(await Deno.readTextFile(join(repo, "deno.json")))
    .tasks;
  for (const task of Object.keys(tasks)) {
    assert.ok(task in TASKS, `scripts/docs.ts has no line for task ${task}`);
  }
  assert.throws(() => tasksBlock({ ...tasks, extra: "x" }), /task\(s\) extra/);
  assert.match(
    configBlock([{ name: "A", field: "a", description: "x | y" }]),
    /x \\\| y/,
  );
  const text = "<!-- generated:x (note) -->\nold\n<!-- /generated:x -->";
  assert.equal(
    rewriteBlocks(text, { x: "new" }),
    "<!-- generated:x (note) -->\nnew\n<!-- /generated:x -->",
  );
  assert.throws(() => rewriteBlocks(text, { y: "" }), /no generated block "y"/);
});

Deno.test("docs blocks: the results block names the one commit and the notebooks' wall time, or every commit when the rows mix runs", () => {
  const row = (experiment: string, commit?: string, seconds?: number) => ({
    experiment,
    model: "m",
    split: "test",
    accuracy: 0.9,
    published: "x",
    epochs: 1,
    train_seconds: 60,
    produced_at: "2026-12-07T06:00:00Z",
    ...(commit ? { commit } : {}),
    ...(seconds ? { notebook_seconds: seconds } : {}),
  });
  const one = resultsBlock([
    row("000-a", "abc1234", 600),
    row("001-b", "abc1234", 1200),
  ]);
  assert.match(
    one,
    /One run of all 2 notebooks at commit abc1234 \(2026-12-07\)/,
  );
  assert.match(
    one,
    /30\.0 min in all \(per notebook, minutes: 000 10\.0, 001 20\.0\); training alone 2 min/,
  );
  const mixed = resultsBlock([
    row("000-a", "abc1234", 600),
    row("001-b", "def5678", 60),
  ]);
  assert.match(mixed, /commit\(s\) abc1234, def5678/);
  assert.doesNotMatch(mixed, /One run/);
  const old = resultsBlock([row("000-a", "abc1234", 600), row("001-b")]);
  assert.match(old, /commit\(s\) abc1234, unrecorded/);
});

Deno.test("LICENSE is MIT and lib/deno.json says so", async () => {
  const license = await Deno.readTextFile(join(repo, "LICENSE"));
  assert.match(license, /^MIT License/);
  assert.match(license, /Copyright \(c\) 2026 the cnn-notebooks authors/);
  const lib = JSON.parse(
    await Deno.readTextFile(join(repo, "lib", "deno.json")),
  );
  assert.equal(lib.license, "MIT");
});

Deno.test("doc_lint: keeps lib's own problems, leaves out the dependencies'", () => {
  const text = [
    "error[missing-jsdoc]: exported symbol is missing JSDoc documentation",
    " --> /repo/lib/a.ts:3:1",
    "error[missing-jsdoc]: exported symbol is missing JSDoc documentation",
    " --> /repo/node_modules/x/index.d.ts:1:1",
    "error[private-type-ref]: public type 'f' references private type 'LayersModel'",
    " --> /repo/lib/b.ts:5:1",
    "error[private-type-ref]: public type 'g' references private type 'Mine'",
    " --> /repo/lib/c.ts:7:1",
  ].join("\n");
  const problems = parseDocLint(text);
  assert.equal(problems.length, 4);
  const own = ownProblems(problems, new Set(["Mine"]), "/repo/lib");
  assert.deepEqual(own.map((p) => p.location), [
    "/repo/lib/a.ts:3:1",
    "/repo/lib/c.ts:7:1",
  ]);
});

const mirror = runConfigFromEnv().data.mirror;
let hasMnist = false;
try {
  hasMnist = mirror !== undefined &&
    (await Deno.stat(join(mirror, "mnist"))).isDirectory;
} catch {
  hasMnist = false;
}

Deno.test({
  name:
    "README: the library snippet type-checks, runs with `deno run -A` and scores clearly above chance",
  ignore: !hasMnist,
  async fn() {
    const snippet = /## Using the library[\s\S]*?```ts\n([\s\S]*?)```/.exec(
      readme,
    )?.[1];
    assert.ok(snippet, "no ```ts block under ## Using the library");
    const file = await Deno.makeTempFile({
      dir: repo,
      prefix: ".readme-snippet-",
      suffix: ".ts",
    });
    try {
      await Deno.writeTextFile(file, snippet);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--check", file],
        cwd: repo,
        env: { NO_COLOR: "1", CNN_DATA_MIRROR: mirror! },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stdout + stderr.slice(-3000));
      const accuracy = Number(/test accuracy: ([\d.]+)%/.exec(stdout)?.[1]);
      assert.ok(accuracy > 50, `test accuracy ${accuracy}% (chance: 10%)`);
    } finally {
      await Deno.remove(file);
    }
  },
});

Deno.test("docs blocks: the reference's training time beside PyTorch's, from each recipe's bench ratio", () => {
  const bench = (model: string, params: number, ratio: number | null) => ({
    model,
    params,
    backend: "wasm",
    ratio_to_pytorch: ratio,
  });
  const report = {
    rows: [
      bench("lenet5", 61706, 0.5),
      bench("fashion-lenet-large", 582026, 2),
    ],
  } as unknown as BenchReport;
  const row = {
    experiment: "x",
    split: "test",
    accuracy: 0.9,
    published: "",
    epochs: 1,
  };
  const rows = [
    { ...row, model: "lenet5", params: 61706, train_seconds: 600 },
    // Matched by its parameter count: 1,200 s at 2x (ours twice as fast)
    // is 2,400 s in PyTorch.
    { ...row, model: "wide LeNet", params: 582026, train_seconds: 1200 },
    // Other splits repeat a recipe's time: not counted twice.
    {
      ...row,
      model: "lenet5",
      params: 61706,
      train_seconds: 600,
      split: "dig",
    },
  ];
  // Ours 30 min; PyTorch 600 * 0.5 + 1200 * 2 = 2,700 s = 45 min.
  assert.equal(
    referenceSpeedText(rows, report),
    "The reference's 30 min of training: about 45 min in PyTorch.",
  );
  assert.throws(
    () =>
      referenceSpeedText([{
        ...row,
        model: "other",
        params: 1,
        train_seconds: 1,
      }], report),
    /x other: no bench recipe with a PyTorch ratio/,
  );
});
