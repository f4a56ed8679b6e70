/**
 * Notebook 002's recipe against the same recipe in PyTorch, over several
 * seeds at full scale (LeNet-5 on MNIST resized to 32x32 and standardised,
 * PyTorch's default initialisation, Adam lr 0.001, batch 64, 5 epochs),
 * written as JSON for the notebook to read (`notebooks/reference/seeds_002.json`).
 *
 * Each variant of our recipe is trained as the notebook trains it
 * (`setGlobalSeed(seed)`, the library's `lenet5-32`, `trainLoop` with the
 * negative log-likelihood, which `tests/lesson_002_test.ts` holds equal to the
 * notebook's runners), one seed after the other on one process. PyTorch runs
 * `scripts/torch_reference_002.py --json` with the same seeds (PyTorch seeds
 * its own generator: the same seed number gives other initial weights and
 * batch orders there, so seeds are compared as distributions, not pairwise).
 *
 * Usage:
 *   deno run -A scripts/seeds_002.ts [--seeds 1,2,3,4,5] [--epochs 5]
 *       [--variants tfjs-epsilon,pytorch-epsilon] [--torch-log FILE]
 *       [--ours-log FILE] [--out notebooks/reference/seeds_002.json]
 *
 * `--torch-log FILE` reads PyTorch's figures from lines that
 * `scripts/torch_reference_002.py` printed earlier instead of running it;
 * `--ours-log FILE` reads ours from the JSON lines an earlier run of this
 * script printed (one per variant and seed) and trains only what is missing.
 * Data come from `CNN_DATA_MIRROR` (MNIST's four idx files); PyTorch reads
 * `CNN_MNIST_DIR` (default: the mirror's `mnist` folder).
 *
 * @module
 */
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { evaluateModel } from "../lib/eval/mod.ts";
import {
  loadPyTorchStyleData,
  MNIST_NORMALIZE,
  planModelInput,
  toModelTensors,
  trainSettingsFor,
} from "../lib/experiments/mod.ts";
import { buildLenet5_32, classificationLoss } from "../lib/models/mod.ts";
import { setGlobalSeed, trainLoop } from "../lib/train/mod.ts";
import { parseCli, pathFlag, positiveInt, runCli, UsageError } from "./_cli.ts";

const USAGE =
  `usage: deno run -A scripts/seeds_002.ts [--seeds 1,2,3,4,5] [--epochs 5]
    [--variants ${"tfjs-epsilon,pytorch-epsilon"}] [--torch-log FILE]
    [--ours-log FILE] [--out FILE]`;

/** One way of running our recipe. */
interface Variant {
  /** Short id used on the command line and in the JSON. */
  id: string;
  /** What differs, in words. */
  description: string;
  /** Adam's epsilon. */
  adamEpsilon: number;
}

/** The candidates compared (one change at a time against tfjs's defaults). */
const VARIANTS: Record<string, Variant> = {
  "tfjs-epsilon": {
    id: "tfjs-epsilon",
    description: "Adam epsilon 1e-7 (TensorFlow.js' and Keras' default)",
    adamEpsilon: 1e-7,
  },
  "pytorch-epsilon": {
    id: "pytorch-epsilon",
    description: "Adam epsilon 1e-8 (PyTorch's default)",
    adamEpsilon: 1e-8,
  },
};

/** Test accuracy of our recipe for one seed and variant. */
async function ours(
  seed: number,
  variant: Variant,
  epochs: number,
  train: { xs: tf.Tensor; ys: tf.Tensor },
  test: { xs: tf.Tensor; ys: tf.Tensor },
): Promise<{ accuracy: number; seconds: number }> {
  const settings = trainSettingsFor("lenet5-32", "full");
  setGlobalSeed(seed);
  const model = buildLenet5_32();
  const optimizer = tf.train.adam(
    settings.learningRate,
    0.9,
    0.999,
    variant.adamEpsilon,
  );
  const started = performance.now();
  await trainLoop(model, train, {
    optimizer,
    loss: classificationLoss("log-probabilities"),
    epochs,
    batchSize: settings.batchSize,
    seed,
    progress: "none",
  });
  const seconds = (performance.now() - started) / 1000;
  const { accuracy } = await evaluateModel(model, test, { batchSize: 256 });
  optimizer.dispose();
  model.dispose();
  return { accuracy, seconds };
}

/** PyTorch's accuracy per seed, from its script's JSON or text lines. */
function parseTorchLines(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split("\n")) {
    const json = line.startsWith("{") ? JSON.parse(line) : null;
    if (json) {
      out.set(json.seed, json.accuracy);
      continue;
    }
    const m = /^seed (\d+): test accuracy ([\d.]+)%/.exec(line);
    if (m) out.set(Number(m[1]), Number((Number(m[2]) / 100).toFixed(6)));
  }
  return out;
}

/** PyTorch's script reads MNIST from CNN_MNIST_DIR, else the mirror's. */
function _torchEnv(): Record<string, string> {
  const mirror = Deno.env.get("CNN_DATA_MIRROR");
  const env: Record<string, string> = {};
  if (!Deno.env.get("CNN_MNIST_DIR") && mirror) {
    env.CNN_MNIST_DIR = `${mirror}/mnist`;
  }
  return env;
}

async function runTorch(seeds: number[], epochs: number): Promise<string> {
  const env = _torchEnv();
  const cmd = new Deno.Command("/usr/bin/python3", {
    args: [
      "scripts/torch_reference_002.py",
      "--json",
      "--epochs",
      String(epochs),
      ...seeds.map(String),
    ],
    env,
    stdout: "piped",
    stderr: "inherit",
  });
  const { code, stdout } = await cmd.output();
  if (code !== 0) {
    throw new Error(`scripts/torch_reference_002.py exited with ${code}`);
  }
  return new TextDecoder().decode(stdout);
}

/**
 * Largest difference between our transformed test images and PyTorch's
 * (`F.interpolate(..., align_corners=False)`, then the same standardisation).
 */
async function inputDifference(test: tf.Tensor): Promise<number> {
  const file = await Deno.makeTempFile({ suffix: ".f32" });
  try {
    const cmd = new Deno.Command("/usr/bin/python3", {
      args: ["scripts/torch_reference_002.py", "--dump-test", file],
      env: _torchEnv(),
      stderr: "inherit",
    });
    const { code } = await cmd.output();
    if (code !== 0) {
      throw new Error(`scripts/torch_reference_002.py exited with ${code}`);
    }
    const bytes = await Deno.readFile(file);
    const theirs = new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
    const ours = await test.data();
    if (theirs.length !== ours.length) {
      throw new Error(
        `PyTorch wrote ${theirs.length} test values, ours are ${ours.length}`,
      );
    }
    let largest = 0;
    for (let i = 0; i < ours.length; i++) {
      largest = Math.max(largest, Math.abs(ours[i] - theirs[i]));
    }
    return largest;
  } finally {
    await Deno.remove(file);
  }
}

/**
 * Largest relative difference between our gradients of the loss and
 * PyTorch's (`F.cross_entropy` on the logits, mean over the batch) at the
 * same weights and batch: per variable max |ours - theirs| / max |theirs|.
 * Checked on a fresh model and again after `steps` Adam steps.
 */
async function gradientDifference(
  train: { xs: tf.Tensor; ys: tf.Tensor },
  steps: number,
): Promise<{ atStart: number; afterSteps: number; steps: number }> {
  const model = buildLenet5_32({ seed: 1 });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const loss = classificationLoss("log-probabilities");
  const xb = tf.slice(train.xs, 0, 64);
  const yb = tf.slice(train.ys, 0, 64);
  const compare = async () => {
    const { value, grads } = tf.variableGrads(
      () => loss(yb, model.apply(xb, { training: true }) as tf.Tensor),
      vars,
    );
    const input = {
      x: Array.from(await xb.data()),
      y: Array.from(await yb.data()),
      weights: [] as { shape: number[]; v: number[] }[],
    };
    for (const v of vars) {
      input.weights.push({ shape: v.shape, v: Array.from(await v.data()) });
    }
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/in.json`, JSON.stringify(input));
      const { code } = await new Deno.Command("/usr/bin/python3", {
        args: [
          "scripts/torch_reference_002.py",
          "--grads",
          `${dir}/in.json`,
          `${dir}/out.json`,
        ],
        env: _torchEnv(),
        stderr: "inherit",
      }).output();
      if (code !== 0) {
        throw new Error(`scripts/torch_reference_002.py exited with ${code}`);
      }
      const theirs = JSON.parse(await Deno.readTextFile(`${dir}/out.json`)) as {
        grads: { v: number[] }[];
      };
      let worst = 0;
      for (const [i, v] of vars.entries()) {
        const ours = await grads[v.name].data();
        const t = theirs.grads[i].v;
        const scale = Math.max(...t.map(Math.abs));
        let diff = 0;
        for (let j = 0; j < t.length; j++) {
          diff = Math.max(diff, Math.abs(ours[j] - t[j]));
        }
        worst = Math.max(worst, diff / scale);
      }
      return worst;
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
      await Deno.remove(dir, { recursive: true });
    }
  };
  const atStart = await compare();
  const optimizer = tf.train.adam(0.001);
  await trainLoop(model, {
    xs: tf.slice(train.xs, 0, 64 * steps),
    ys: tf.slice(train.ys, 0, 64 * steps),
  }, {
    optimizer,
    loss,
    epochs: 1,
    batchSize: 64,
    seed: 1,
    progress: "none",
  });
  const afterSteps = await compare();
  optimizer.dispose();
  model.dispose();
  tf.dispose([xb, yb]);
  return { atStart, afterSteps, steps };
}

async function commandText(cmd: string, args: string[]): Promise<string> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "piped" }).output();
    return new TextDecoder().decode(r.stdout).trim();
  } catch {
    return "";
  }
}

runCli(USAGE, async (argv) => {
  const { values } = parseCli(argv, {
    seeds: { type: "string" },
    epochs: { type: "string" },
    variants: { type: "string" },
    "torch-log": { type: "string" },
    "ours-log": { type: "string" },
    out: { type: "string" },
  });
  const seeds = (values.seeds ?? "1,2,3,4,5").split(",").map((s) =>
    positiveInt(s.trim(), "--seeds") as number
  );
  const epochs = positiveInt(values.epochs, "--epochs") ?? 5;
  const variants = (values.variants ?? "tfjs-epsilon,pytorch-epsilon")
    .split(",").map((id) => {
      const v = VARIANTS[id.trim()];
      if (!v) {
        throw new UsageError(
          `unknown variant "${id}"; choose from ${
            Object.keys(VARIANTS).join(", ")
          }`,
        );
      }
      return v;
    });
  const out = pathFlag(values.out ?? "notebooks/reference/seeds_002.json");
  const torchLog = pathFlag(values["torch-log"]);
  const oursLog = pathFlag(values["ours-log"]);
  /** Earlier per-seed results: "variant seed" -> { accuracy, seconds }. */
  const earlier = new Map<string, { accuracy: number; seconds: number }>();
  if (oursLog) {
    for (const line of (await Deno.readTextFile(oursLog)).split("\n")) {
      if (!line.startsWith("{")) continue;
      const r = JSON.parse(line);
      earlier.set(`${r.variant} ${r.seed}`, r);
    }
  }

  const backend = await initBackend({ verbose: false });
  const data = await loadPyTorchStyleData("full");
  const plan = planModelInput("lenet5-32", data.train);
  const options = { normalize: MNIST_NORMALIZE };
  const train = toModelTensors(data.train, plan, options);
  const test = toModelTensors(data.tests.test, plan, options);
  const inputMaxAbsDiff = await inputDifference(test.xs);
  console.log(
    `test inputs: largest difference to PyTorch's ${inputMaxAbsDiff}`,
  );
  const gradientRelDiff = await gradientDifference(train, 100);
  console.log(`gradients: ${JSON.stringify(gradientRelDiff)}`);
  const results = [];
  for (const variant of variants) {
    const accuracy: number[] = [];
    const seconds: number[] = [];
    for (const seed of seeds) {
      const r = earlier.get(`${variant.id} ${seed}`) ??
        await ours(seed, variant, epochs, train, test);
      console.log(JSON.stringify({ variant: variant.id, seed, ...r }));
      accuracy.push(r.accuracy);
      seconds.push(r.seconds);
    }
    results.push({ ...variant, accuracy, trainSeconds: seconds });
  }
  tf.dispose([train.xs, train.ys, test.xs, test.ys]);

  const torchText = torchLog
    ? await Deno.readTextFile(torchLog)
    : await runTorch(seeds, epochs);
  const torch = parseTorchLines(torchText);
  const missing = seeds.filter((s) => !torch.has(s));
  if (missing.length) {
    throw new Error(`no PyTorch figure for seed(s) ${missing.join(", ")}`);
  }
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const cpu = cpuinfo.match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown";
  // PyTorch's oneDNN uses 512-bit vectors where the CPU has them; wasm 128.
  const avx512 = /\bavx512f\b/.test(cpuinfo);
  const dirty = await commandText("git", ["status", "--porcelain", "lib"]);
  const report = {
    description:
      "Test accuracy of notebook 002's recipe (variants) and of the same " +
      "recipe in PyTorch, per seed, at full scale; written by scripts/seeds_002.ts",
    seeds,
    epochs,
    trainImages: data.train.count,
    testImages: data.tests.test.count,
    commit: (await commandText("git", ["rev-parse", "--short", "HEAD"])) +
      (dirty ? " (lib/ modified)" : ""),
    written_at: new Date().toISOString(),
    machine: { cpu, avx512, backend: backend.name },
    /** Largest |ours - PyTorch's| over every transformed test pixel. */
    inputMaxAbsDiff,
    /** Largest relative gradient difference to PyTorch's, same weights and batch. */
    gradientRelDiff,
    pytorch: {
      version: await commandText("/usr/bin/python3", [
        "-c",
        "import torch; print(torch.__version__)",
      ]),
      script: "scripts/torch_reference_002.py",
      threads: 1,
      accuracy: seeds.map((s) => torch.get(s) as number),
    },
    variants: results,
  };
  const tmp = `${out}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(report, null, 2) + "\n");
  await Deno.rename(tmp, out);
  console.log(`wrote ${out}`);
  return 0;
});
