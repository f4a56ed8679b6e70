/**
 * `deno task train` and `deno task reproduce` as a user runs them: the model
 * list, argument errors, a tiny `--json` run on real MNIST (and Kannada's two
 * test splits), and a one-experiment reproduce report. Runs needing data
 * skip when the dataset mirror is absent.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { MODEL_NAMES, MODELS } from "../lib/models/mod.ts";
import { mirrorHas } from "./data_fixtures.ts";
import { runScript } from "./_cli_run.ts";

const HAS_MIRROR = mirrorHas("mnist");

const train = (...args: string[]) => runScript("train.ts", args);

Deno.test("train --list prints every model with its parameter count", async () => {
  const r = await train("--list");
  assert.equal(r.code, 0, r.stderr);
  for (const name of MODEL_NAMES) {
    const line = r.stdout.split("\n").find((l) => l.startsWith(`${name} `));
    assert.ok(line, `no line for ${name}`);
    assert.ok(
      line.includes(MODELS[name].paramCount.toLocaleString("en-US")),
      line,
    );
  }
  assert.match(r.stdout, /lenet5 +61,706/);
  assert.match(r.stdout, /cifar-cnn +1,084,234/);
});

Deno.test("train: argument errors exit 2 with a message saying what to do", async () => {
  const cases: [string[], RegExp][] = [
    [["--model", "resnet"], /Unknown model "resnet"\. Known models: lenet, /],
    [
      ["--model", "lenet5", "--dataset", "svhn"],
      /Unknown dataset "svhn"\. Known datasets: mnist/,
    ],
    [
      ["--model", "lenet5", "--epochs", "0"],
      /--epochs must be a whole number >= 1, got "0"/,
    ],
    [["--model", "lenet5", "--backend", "cuda"], /Unknown backend "cuda"/],
    [
      ["--model", "lenet5", "--scale", "huge"],
      /--scale must be one of "smoke", "quick", "full"/,
    ],
    [["--model", "lenet5", "--lr", "0"], /--lr must be a number > 0/],
    [
      ["--model", "lenet5", "--seed", "1.5"],
      /--seed must be a whole number in \[0, 2\^32\), got "1\.5"/,
    ],
    [["--epochs", "2"], /--model is required/],
    [["--model", "lenet5", "--frobnicate"], /Unknown option '--frobnicate'/],
  ];
  for (const [args, message] of cases) {
    const r = await train(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
    assert.match(r.stderr, /Usage:/);
    assert.equal(r.stdout, "");
  }
});

Deno.test({
  name: "train --json: a tiny LeNet-5 run on MNIST ends with one JSON line",
  ignore: !HAS_MIRROR,
  async fn() {
    const r = await train(
      "--model",
      "lenet5",
      "--dataset",
      "mnist",
      "--limit",
      "256",
      "--test-limit",
      "256",
      "--epochs",
      "1",
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    const summary = JSON.parse(lines[lines.length - 1]);
    assert.equal(summary.model, "lenet5");
    assert.equal(summary.dataset, "mnist");
    assert.equal(typeof summary.backend, "string");
    assert.equal(summary.epochs, 1);
    assert.equal(summary.params, 61_706);
    assert.equal(summary.train_samples, 256);
    assert.ok(summary.train_seconds > 0);
    assert.ok(summary.test_accuracy >= 0 && summary.test_accuracy <= 1);
    assert.deepEqual(Object.keys(summary.splits), ["test"]);
    assert.equal(summary.splits.test, summary.test_accuracy);
    assert.equal(summary.test_samples.test, 256);
    assert.equal(summary.settings.optimizer, "sgd");
  },
});

/** History without the timing columns, which vary from run to run. */
function numbers(summary: {
  history: Record<string, number | null>[];
  splits: Record<string, number>;
}): unknown {
  return {
    history: summary.history.map((
      { seconds: _s, samples_per_s: _r, ...rest },
    ) => rest),
    splits: summary.splits,
  };
}

for (
  const [model, what] of [
    ["kannada-cnn", "model.fit, dropout, a validation split"],
    ["fashion-lenet-small", "the hand-written training loop"],
  ]
) {
  Deno.test({
    name:
      `train --seed: ${model} (${what}) repeats exactly in a new process; another seed differs`,
    ignore: !HAS_MIRROR,
    async fn() {
      const args = (seed: string) => [
        "--model",
        model,
        "--dataset",
        "mnist",
        "--limit",
        "192",
        "--test-limit",
        "64",
        "--epochs",
        "2",
        "--seed",
        seed,
        "--json",
        "--quiet",
      ];
      const runs = await Promise.all([
        train(...args("7")),
        train(...args("7")),
        train(...args("8")),
      ]);
      const summaries = runs.map((r) => {
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout.trim().split("\n").pop()!);
      });
      assert.equal(summaries[0].seed, 7);
      assert.equal(summaries[0].history.length, 2);
      assert.ok(
        summaries[0].history.every((h: { val_loss: unknown }) =>
          model !== "kannada-cnn" || typeof h.val_loss === "number"
        ),
      );
      assert.deepEqual(numbers(summaries[1]), numbers(summaries[0]));
      assert.notDeepEqual(numbers(summaries[2]), numbers(summaries[0]));
    },
  });
}

Deno.test({
  name:
    "train --logdir writes TensorBoard event files for every epoch, relative to the folder the user started in",
  ignore: !HAS_MIRROR,
  async fn() {
    const start = await Deno.makeTempDir({ prefix: "train-logdir-" });
    const dir = join(start, "logs");
    try {
      // `deno task` runs in the project root and says in INIT_CWD where the
      // user typed the command: `--logdir logs` means <that folder>/logs.
      const r = await runScript("train.ts", [
        "--model",
        "lenet5",
        "--dataset",
        "mnist",
        "--limit",
        "128",
        "--epochs",
        "2",
        "--logdir",
        "logs",
        "--json",
      ], { INIT_CWD: start });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /tensorboard --logdir /);
      const [name] = [...Deno.readDirSync(join(dir, "train"))].map((e) =>
        e.name
      );
      assert.match(name, /^events\.out\.tfevents\./);
      const bytes = await Deno.readFile(join(dir, "train", name));
      // Three records: the file version and two epochs (each a uint64 length,
      // two CRCs and the data).
      const view = new DataView(bytes.buffer);
      let at = 0;
      let records = 0;
      while (at < bytes.length) {
        at += 16 + Number(view.getBigUint64(at, true));
        records++;
      }
      assert.equal(at, bytes.length);
      assert.equal(records, 3);
      assert.ok(new TextDecoder().decode(bytes).includes("epoch_loss"));
    } finally {
      await Deno.remove(start, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "train --json: Kannada reports test and dig, and says the training data is a substitute",
  ignore: !HAS_MIRROR,
  async fn() {
    const r = await train(
      "--model",
      "lenet5-32",
      "--dataset",
      "kannada-mnist",
      "--limit",
      "128",
      "--epochs",
      "1",
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.deepEqual(Object.keys(summary.splits).sort(), ["dig", "test"]);
    assert.equal(summary.substitute, true);
    assert.match(summary.data, /SUBSTITUTE/);
    assert.match(summary.input, /resized 28x28 -> 32x32/);
    assert.match(r.stderr, /SUBSTITUTE/);
  },
});

Deno.test({
  name:
    "reproduce --only 001 executes the notebook once and reports what it saved",
  ignore: !HAS_MIRROR,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "reproduce-" });
    try {
      const r = await runScript("reproduce.ts", [
        "--only",
        "001",
        "--scale",
        "smoke",
        "--seed",
        "3",
        "--out",
        out,
      ]);
      const md = await Deno.readTextFile(join(out, "results.md"));
      assert.match(md, /# Reproduction report \(smoke scale\)/);
      assert.match(md, /NOT reproductions/);
      assert.match(md, /- Seed: 3 /);
      assert.match(md, /- Machine: /);
      assert.match(
        md,
        /\[executed notebook\]\(notebooks\/001_mnist_lenet5\.ipynb\)/,
      );
      const json = JSON.parse(
        await Deno.readTextFile(join(out, "results.json")),
      );
      assert.equal(json.scale, "smoke");
      assert.equal(json.seed, 3);
      assert.equal(json.notebooks.length, 1);
      assert.equal(json.notebooks[0].status, "ok", r.stderr);
      const source = await Deno.readTextFile(
        "notebooks/001_mnist_lenet5.ipynb",
      );
      if (source.includes("saveNotebookResults")) {
        // The notebook's own rows, read back from what it saved.
        assert.equal(r.code, 0, r.stderr);
        const saved = JSON.parse(
          await Deno.readTextFile(
            join(out, "results", "001-mnist-lenet5.results.json"),
          ),
        );
        assert.equal(saved.seed, 3);
        assert.deepEqual(json.rows, saved.rows);
        assert.equal(json.notebooks[0].backend, saved.backend);
        assert.match(
          md,
          /\| 001-mnist-lenet5 \| lenet5 \| test \| \d+\.\d\d% \|/,
        );
      } else {
        // A notebook that saves nothing is a failure the report names.
        assert.equal(r.code, 1);
        assert.match(md, /FAILURES: 001-mnist-lenet5/);
        assert.match(md, /saved no results/);
      }
      const csv = await Deno.readTextFile(join(out, "results.csv"));
      assert.equal(csv.trim().split("\n").length, 1 + json.rows.length);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("reproduce: unknown --only, --scale and --seed values are errors", async () => {
  const a = await runScript("reproduce.ts", ["--only", "009"]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--only: unknown experiment in "009"/);
  const b = await runScript("reproduce.ts", ["--scale", "medium"]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--scale must be one of "smoke", "quick", "full"/);
  const c = await runScript("reproduce.ts", ["--seed", "x"]);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /--seed must be a whole number/);
});
