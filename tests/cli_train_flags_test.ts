/**
 * `deno task train` as a new or careless user types it: --help describes
 * every option with its default, a mistyped option gets a guess, the
 * default scale is quick, --limit caps the training images only, the first
 * line states the configuration, output paths are checked before training
 * (and a save that still fails lands in a temporary folder), and a diverged
 * run ends with one message and exit status 1. Runs needing data skip when
 * the dataset mirror is absent.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { mirrorHas } from "./data_fixtures.ts";
import { runScript } from "./_cli_run.ts";

const HAS_MIRROR = mirrorHas("mnist");
const train = (...args: string[]) => runScript("train.ts", args);

Deno.test("train --help: every option with what it does and its default; the default scale is quick", async () => {
  const r = await train("--help");
  assert.equal(r.code, 0);
  const source = await Deno.readTextFile(
    new URL("../scripts/train.ts", import.meta.url),
  );
  const options = source.slice(
    source.indexOf("const OPTIONS = {"),
    source.indexOf("} satisfies CliOptions"),
  );
  const names = [...options.matchAll(/^ {2}"?([a-z-]+)"?: \{/gm)].map((m) =>
    m[1]
  );
  assert.ok(names.length >= 14, names.join());
  for (const name of names) {
    const line = r.stdout.split("\n").find((l) =>
      l.trimStart().startsWith(`--${name} `)
    );
    assert.ok(line, `--${name} is not described`);
    assert.ok(line.trim().split(/\s{2,}/)[1]?.length > 5, line);
  }
  assert.match(r.stdout, /--scale SCALE .*\(default: quick\)/);
  assert.match(r.stdout, /--limit N .*training images only/);
  assert.match(r.stdout, /--seed N .*\(default: env CNN_SEED, else 42\)/);
});

Deno.test("every CLI through _cli.ts: a mistyped option gets our own message with a guess, no unbalanced quote", async () => {
  const cases: [string, string[], RegExp][] = [
    [
      "train.ts",
      ["--modle", "lenet5"],
      /Unknown option '--modle'\. Did you mean --model\? Run with --help/,
    ],
    ["train.ts", ["--model"], /--model needs a value: --model NAME\./],
    ["train.ts", ["--list=3"], /--list is a switch and takes no value/],
    [
      "train.ts",
      ["--model", "--epochs", "2"],
      /--model needs a value \(--model NAME\) but is followed by another option/,
    ],
    [
      "data.ts",
      ["--mirorr", "x", "mnist"],
      /Unknown option '--mirorr'\. Did you mean --mirror\?/,
    ],
    ["data.ts", ["--zzz"], /Unknown option '--zzz'\. Run with --help/],
  ];
  for (const [cli, args, message] of cases) {
    const r = await runScript(cli, args);
    assert.equal(r.code, 2, `${cli} ${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, `${cli} ${args.join(" ")}`);
    assert.doesNotMatch(r.stderr, /as in '-- /, "Node's own text");
  }
});

Deno.test("train: empty paths and unusable --save folders are refused before anything runs", async () => {
  const root = await Deno.makeTempDir();
  try {
    const empty = await train("--model", "lenet5", "--save", "");
    assert.equal(empty.code, 2, empty.stderr);
    assert.match(empty.stderr, /--save is empty; give a path/);
    const logdir = await train("--model", "lenet5", "--logdir", " ");
    assert.equal(logdir.code, 2, logdir.stderr);
    assert.match(logdir.stderr, /--logdir is empty/);
    await Deno.writeTextFile(join(root, "afile"), "x");
    const file = await train(
      "--model",
      "lenet5",
      "--save",
      join(root, "afile"),
    );
    assert.equal(file.code, 1, file.stderr);
    assert.match(
      file.stderr,
      /--save: cannot save a model into .*afile is a file, not a folder/,
    );
    assert.doesNotMatch(
      file.stderr,
      /^train: |data: /m,
      "refused before the data",
    );
    const logs = await train(
      "--model",
      "lenet5",
      "--logdir",
      join(root, "afile", "logs"),
    );
    assert.equal(logs.code, 1, logs.stderr);
    assert.match(
      logs.stderr,
      /--logdir: cannot write TensorBoard logs into .*afile is a file, not a folder/,
    );
    assert.doesNotMatch(logs.stderr, /^train: /m);
    const data = await runScript("data.ts", ["mnist", "--dir", ""]);
    assert.equal(data.code, 2, data.stderr);
    assert.match(data.stderr, /--dir is empty/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name:
    "train: the first line states the configuration; quick by default; --limit caps training only; a save that fails at the end lands in a temp folder",
  ignore: !HAS_MIRROR,
  async fn() {
    const root = await Deno.makeTempDir();
    // Passes the check (a writable folder) but the save itself fails:
    // weights.bin is a folder.
    await Deno.mkdir(join(root, "model", "weights.bin"), { recursive: true });
    try {
      const r = await train(
        "--model",
        "lenet5",
        "--dataset",
        "mnist",
        "--limit",
        "64",
        "--backend",
        "wasm",
        "--save",
        join(root, "model"),
        "--json",
      );
      const first = r.stderr.split("\n")[0];
      assert.match(
        first,
        /^train: lenet5 on mnist, scale quick, 1 epoch\(s\), batch \d+, sgd lr [\d.e+-]+, seed \d+, backend wasm .*, data .*; training images: first 64, test images: all$/,
      );
      const summary = JSON.parse(r.stdout.trim().split("\n").pop()!);
      assert.equal(summary.scale, "quick");
      assert.equal(summary.train_samples, 64);
      assert.equal(
        summary.test_samples.test,
        10_000,
        "--limit left the test split whole",
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /error: could not save to .*; the model was saved to (\S+) instead/,
      );
      assert.ok((await Deno.stat(join(summary.saved_to, "model.json"))).isFile);
      await Deno.remove(summary.saved_to, { recursive: true });
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "train --lr 1e30: one message naming epoch and batch, a lower learning rate suggested, exit 1 (wasm and cpu)",
  ignore: !HAS_MIRROR,
  async fn() {
    for (const backend of ["wasm", "cpu"]) {
      const r = await train(
        "--model",
        "lenet5",
        "--limit",
        "256",
        "--scale",
        "smoke",
        "--lr",
        "1e30",
        "--epochs",
        "3",
        "--backend",
        backend,
      );
      assert.equal(r.code, 1, `${backend}: ${r.stderr}`);
      const errors = r.stderr.split("\n").filter((l) => /^error: /.test(l));
      assert.equal(errors.length, 1, r.stderr);
      assert.match(
        errors[0],
        /^error: training diverged in epoch 1\/3, batch \d+\/8: .* Lower the learning rate \(it is 1e\+30/,
      );
      assert.doesNotMatch(r.stderr, /earlyStopping|test accuracy|\n\s+at /);
      assert.equal(r.stdout, "");
    }
  },
});
