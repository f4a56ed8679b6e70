/**
 * `deno task bench`: training and inference speed of every model the
 * notebooks train, each with its notebook's recipe, on each available
 * TensorFlow.js backend, against a PyTorch twin (same architecture, batch
 * and optimizer, `scripts/bench_torch.py`) on one thread and on all cores,
 * in the same run (rounds interleaved, so load from other processes hits
 * every engine alike; warm-up excluded: 10 batches, repeated for at least
 * 2 s, every engine alike; medians reported).
 *
 * ```sh
 * deno task bench --quick                 # one round: under a minute on 2 cores
 * deno task bench --json                  # full: median of 3 rounds
 * deno task bench --write-docs            # also docs/benchmarks.{json,md}
 * deno task bench --models lenet5,cifar-cnn --backends wasm --rounds 5
 * deno task bench --profile --models lenet5   # where one step's time goes
 * ```
 *
 * Options: `--quick` (one round, fewer samples, 3 warm-up batches for at
 * least 0.5 s, wasm only), `--json` (print the report: machine, SIMD level,
 * date, commit, one row per recipe and engine), `--write-docs` (write the
 * report to `docs/benchmarks.json` and `docs/benchmarks.md` from it,
 * `scripts/bench_docs.ts`), `--samples N` (training samples per
 * measurement; default per recipe), `--cpu-samples N` (cap for the slow
 * `cpu` backend), `--models a,b` (default: all nine), `--backends a,b`
 * (default: the accelerated backend `auto` finds, wasm and wasm-1t;
 * `--quick`: wasm), `--rounds N` (default 3; `--quick`: 1), `--no-torch`,
 * `--profile` (instead of the comparison: one training step kernel by
 * kernel, split into arithmetic and fixed per-call cost).
 *
 * Recipes (`BENCH_RECIPES`; figures from `trainSettingsFor(model, "full")`):
 * 000's sigmoid LeNet, Kannada CNN and MobileNet (fit, Adam, batch 32, 32,
 * 8), 001's LeNet-5 (fit, SGD 0.01, batch 32), 002's lenet5-32 (the
 * notebook's `optimizer.minimize` loop, Adam, batch 64) and lenet5-1998
 * (trainModel's fit, Adam), 003's wide and small Fashion LeNets (the
 * notebook's hand-written `tf.variableGrads` step, Adam, batch 100) and
 * 004's CIFAR-10 CNN (fit, Adamax 5e-3, batch 32). PyTorch runs each twin
 * with one thread (`pytorch-1t`) and all cores (`pytorch`);
 * `ratio_to_pytorch` divides by the faster of the two, and every row names
 * the threads used on each side.
 *
 * Each row also gives the sustained training and inference rate in
 * multiply-adds a second (samples/s times the model's multiply-adds per
 * sample, `countMultiplyAdds`), and each round first measures the SIMD
 * kernels' ceiling (`measureSimdCeiling`: their convolution register block
 * on data in L1 cache): where PyTorch's rate exceeds it, no direct
 * convolution in 128-bit WebAssembly SIMD can match PyTorch
 * (`recipesAboveCeiling` in `bench_docs.ts`).
 *
 * `wasm` is the default: on two cores or more the project's SIMD kernels
 * split their work with a kernel thread (`lib/backend/kernel_threads.ts`);
 * `wasm-1t` the same model on one thread (`CNN_KERNEL_THREADS=1`);
 * `kernel_threads` in the JSON says which.
 * `wasm-x2` is wasm trained data-parallel on two cores (the main thread and
 * one Web Worker, `trainDataParallel` of `lib/train/`, with fit's step
 * and categorical cross-entropy whatever the notebook's); its first epoch over the samples is the
 * warm-up, the next two are measured; its inference is the main thread's.
 *
 * @module
 */
import * as tf from "../lib/tf.ts";
import {
  BACKEND_NAMES,
  type BackendName,
  initBackend,
  kernelThreads,
  measureSimdCeiling,
} from "../lib/backend/mod.ts";
import {
  buildModel,
  classificationLoss,
  countMultiplyAdds,
  MODELS,
  type MultiplyAddCounts,
} from "../lib/models/mod.ts";
import { fitModel, trainDataParallel } from "../lib/train/mod.ts";
import {
  type OptimizerName,
  trainSettingsFor,
} from "../lib/experiments/settings.ts";
import {
  backendFlag,
  parseCli,
  positiveInt,
  runCli,
  UsageError,
} from "./_cli.ts";
import {
  type BenchCeiling,
  type BenchMachine,
  type BenchReport,
  type BenchRow,
  writeBenchDocs,
} from "./bench_docs.ts";

/**
 * The recipes the notebooks train, one per model: where the notebook's
 * training step differs from `fitModel` it is written out below as the
 * notebook writes it. Batch size, optimizer, learning rate and input shape
 * come from the recipe registry (`trainSettingsFor(model, "full")`,
 * `MODELS[model].inputShape`), the sources the notebooks read.
 * `samples`: training samples per measurement (full mode: at least about
 * a second on each engine, since a PyTorch LeNet-5 run of 0.3 s measured
 * 4,700 or 12,500 samples/s from one process to the next); `quickSamples`
 * for `--quick`; `cpuSamples`: cap for the slow `cpu` backend.
 */
const BENCH_RECIPES = {
  "lenet": {
    notebook: "000",
    step: "fit",
    loss: "sparseCategoricalCrossentropy",
    samples: 9600,
    quickSamples: 1280,
    cpuSamples: 256,
  },
  "kannada-cnn": {
    notebook: "000",
    step: "fit",
    loss: "sparseCategoricalCrossentropy",
    samples: 512,
    quickSamples: 160,
    cpuSamples: 32,
  },
  "mobilenet": {
    notebook: "000",
    step: "fit",
    loss: "sparseCategoricalCrossentropy",
    samples: 96,
    quickSamples: 48,
    cpuSamples: 8,
  },
  "lenet5": {
    notebook: "001",
    step: "fit",
    loss: "sparseCategoricalCrossentropy",
    samples: 9600,
    quickSamples: 1280,
    cpuSamples: 256,
  },
  "lenet5-32": {
    notebook: "002",
    step: "minimize",
    loss: "nll",
    samples: 9600,
    quickSamples: 1280,
    cpuSamples: 256,
  },
  "lenet5-1998": {
    notebook: "002",
    step: "fit",
    loss: "scores",
    samples: 6144,
    quickSamples: 640,
    cpuSamples: 128,
  },
  "fashion-lenet-large": {
    notebook: "003",
    step: "variableGrads",
    loss: "probabilities",
    samples: 2000,
    quickSamples: 400,
    cpuSamples: 100,
  },
  "fashion-lenet-small": {
    notebook: "003",
    step: "variableGrads",
    loss: "probabilities",
    samples: 12000,
    quickSamples: 1600,
    cpuSamples: 200,
  },
  "cifar-cnn": {
    notebook: "004",
    step: "fit",
    loss: "categoricalCrossentropy",
    samples: 960,
    quickSamples: 256,
    cpuSamples: 64,
  },
} as const;
/** A model the bench knows. */
export type BenchModel = keyof typeof BENCH_RECIPES;
/**
 * The models the bench measures, in the notebooks' order.
 *
 * @example
 * ```ts
 * import { BENCH_MODELS } from "./bench.ts";
 * console.log(BENCH_MODELS.length); // 9
 * ```
 */
export const BENCH_MODELS: readonly BenchModel[] = Object.keys(
  BENCH_RECIPES,
) as BenchModel[];

/** A recipe with the registry's figures filled in. */
interface Recipe {
  model: BenchModel;
  notebook: string;
  step: "fit" | "minimize" | "variableGrads";
  loss: (typeof BENCH_RECIPES)[BenchModel]["loss"];
  batchSize: number;
  optimizer: OptimizerName;
  learningRate: number;
  inputShape: number[];
}

function _recipe(model: BenchModel): Recipe {
  const r = BENCH_RECIPES[model];
  const s = trainSettingsFor(model, "full");
  return {
    model,
    notebook: r.notebook,
    step: r.step,
    loss: r.loss,
    batchSize: s.batchSize,
    optimizer: s.optimizer,
    learningRate: s.learningRate,
    inputShape: [...MODELS[model].inputShape],
  };
}

/** The optimizer the notebook trains `model` with. */
function _optimizer(recipe: Recipe): tf.Optimizer {
  switch (recipe.optimizer) {
    case "adamax":
      return tf.train.adamax(recipe.learningRate);
    case "sgd":
      return tf.train.sgd(recipe.learningRate);
    case "adam":
      return tf.train.adam(recipe.learningRate);
  }
}

/** wasm on two cores: one replica on the main thread, one in a worker. */
const _DATA_PARALLEL = "wasm-x2";
/** wasm with the project's kernels on one thread (no kernel worker). */
const _ONE_THREAD = "wasm-1t";
type BenchBackend =
  | BackendName
  | typeof _DATA_PARALLEL
  | typeof _ONE_THREAD;

interface Measurement {
  train: number;
  infer: number;
}

interface BenchArgs {
  json: boolean;
  quick: boolean;
  writeDocs: boolean;
  samples?: number;
  cpuSamples?: number;
  models: readonly BenchModel[];
  backends?: BenchBackend[];
  rounds: number;
  torch: boolean;
  profile: boolean;
  warmBatches: number;
  warmSeconds: number;
}

const _INFER_BATCH = 256;
/** Training batches run before a measurement, not timed. */
const _WARM_BATCHES = 10;
const _QUICK_WARM_BATCHES = 3;
/**
 * Seconds of warm-up at least (the warm-up batches again and again), for
 * every engine: TensorFlow.js's JavaScript and WebAssembly tier up over
 * the first few hundred LeNet-5 batches (trainOnBatch at batch 32 went from
 * ~3,000 to ~5,900 samples/s over the first 400 batches, then stayed),
 * while a notebook trains thousands; PyTorch is warm after a batch or two.
 */
const _WARM_SECONDS = 2;
const _QUICK_WARM_SECONDS = 0.5;

const USAGE =
  "usage: deno task bench [--quick] [--json] [--write-docs] [--samples N] " +
  "[--cpu-samples N] [--models a,b] [--backends a,b] [--rounds N] " +
  "[--no-torch] [--profile]";

function _parseArgs(argv: string[]): BenchArgs {
  const { values } = parseCli(argv, {
    json: { type: "boolean" },
    quick: { type: "boolean" },
    "write-docs": { type: "boolean" },
    profile: { type: "boolean" },
    "no-torch": { type: "boolean" },
    samples: { type: "string" },
    "cpu-samples": { type: "string" },
    rounds: { type: "string" },
    models: { type: "string" },
    backends: { type: "string" },
  });
  const models = values.models?.split(",").map((m) => {
    if (!(m in BENCH_RECIPES)) {
      throw new UsageError(
        `--models: unknown model "${m}": use ${BENCH_MODELS.join(", ")}.`,
      );
    }
    return m as BenchModel;
  });
  const backends = values.backends?.split(",").map((b): BenchBackend => {
    if (b === _DATA_PARALLEL || b === _ONE_THREAD) return b;
    const name = backendFlag(b, "--backends");
    if (name === "auto" || name === undefined) {
      throw new UsageError(
        `--backends: name backends (${
          [...BACKEND_NAMES, _DATA_PARALLEL, _ONE_THREAD].join(", ")
        }); leave the flag out for the ones auto finds.`,
      );
    }
    return name;
  });
  const quick = values.quick ?? false;
  return {
    json: values.json ?? false,
    quick,
    writeDocs: values["write-docs"] ?? false,
    torch: !values["no-torch"],
    samples: positiveInt(values.samples, "--samples"),
    cpuSamples: positiveInt(values["cpu-samples"], "--cpu-samples"),
    rounds: positiveInt(values.rounds, "--rounds") ?? (quick ? 1 : 3),
    models: models ?? BENCH_MODELS,
    backends: backends ?? (quick ? ["wasm"] : undefined),
    profile: values.profile ?? false,
    warmBatches: quick ? _QUICK_WARM_BATCHES : _WARM_BATCHES,
    warmSeconds: quick ? _QUICK_WARM_SECONDS : _WARM_SECONDS,
  };
}

function _median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Random inputs, int32 labels and their one-hot form: whole batches, at least one. */
function _syntheticData(
  recipe: Recipe,
  samples: number,
): { n: number; xs: tf.Tensor; labels: tf.Tensor1D; oneHot: tf.Tensor2D } {
  const steps = Math.max(1, Math.floor(samples / recipe.batchSize));
  const n = steps * recipe.batchSize;
  const xs = tf.randomUniform([n, ...recipe.inputShape]);
  const labels = tf.randomUniform([n], 0, 10, "int32") as tf.Tensor1D;
  const oneHot = tf.oneHot(labels, 10) as tf.Tensor2D;
  return { n, xs, labels, oneHot };
}

/** The model, compiled as its notebook compiles it (fit recipes). */
function _buildCompiled(recipe: Recipe): tf.LayersModel {
  const net = buildModel(recipe.model, { seed: 1 });
  if (recipe.step === "fit") {
    net.compile({
      optimizer: _optimizer(recipe),
      loss: recipe.loss === "scores"
        ? classificationLoss("scores")
        : recipe.loss,
      metrics: ["accuracy"],
    });
  }
  return net;
}

/** Trains on `xs` once, with the notebook's step; `optimizer` for loop steps. */
type Trainer = (
  xs: tf.Tensor,
  labels: tf.Tensor1D,
  oneHot: tf.Tensor2D,
) => Promise<void>;

/** 002's `trainRunner` step: gather a batch, `optimizer.minimize`, read loss and hits. */
function _minimizeTrainer(
  net: tf.LayersModel,
  optimizer: tf.Optimizer,
  batchSize: number,
): Trainer {
  const nllLoss = (labels: tf.Tensor, logProbs: tf.Tensor) =>
    tf.tidy(() => {
      const oneHot = tf.oneHot(
        tf.cast(labels, "int32") as tf.Tensor1D,
        logProbs.shape[1] as number,
      );
      return tf.mean(tf.neg(tf.sum(tf.mul(oneHot, logProbs), -1))) as tf.Scalar;
    });
  const countCorrect = (labels: tf.Tensor, logProbs: tf.Tensor) =>
    tf.tidy(() =>
      tf.sum(
        tf.cast(
          tf.equal(tf.argMax(logProbs, -1), tf.cast(labels, "int32")),
          "float32",
        ),
      )
    );
  return async (xs, labels) => {
    const n = xs.shape[0];
    const order = tf.util.createShuffledIndices(n);
    const variables = net.trainableWeights.map((w) => w.read() as tf.Variable);
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const index = tf.tensor1d(
        Int32Array.from(order.subarray(start, start + size)),
        "int32",
      );
      const xb = tf.gather(xs, index);
      const yb = tf.gather(labels, index);
      const hits: tf.Scalar[] = [];
      const loss = optimizer.minimize(
        () => {
          const out = net.apply(xb, { training: true }) as tf.Tensor;
          hits.push(tf.keep(countCorrect(yb, out)) as tf.Scalar);
          return nllLoss(yb, out);
        },
        true,
        variables,
      ) as tf.Scalar;
      await Promise.all([loss.data(), hits[0].data()]);
      tf.dispose([index, xb, yb, loss, ...hits]);
    }
  };
}

/** 003's `trainingStep`: consecutive batches, `tf.variableGrads`, `applyGradients`. */
function _variableGradsTrainer(
  net: tf.LayersModel,
  optimizer: tf.Optimizer,
  batchSize: number,
): Trainer {
  const lossFn = (labels: tf.Tensor, probs: tf.Tensor): tf.Scalar => {
    const p = probs.div(probs.sum(-1, true)).clipByValue(1e-7, 1 - 1e-7);
    const trueClassProb = p.mul(tf.oneHot(labels as tf.Tensor1D, p.shape[1]!))
      .sum(-1);
    return trueClassProb.log().neg().mean();
  };
  const countCorrect = (labels: tf.Tensor, probs: tf.Tensor): tf.Scalar =>
    probs.argMax(-1).equal(labels).sum();
  return async (xs, labels) => {
    const n = xs.shape[0];
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const images = xs.slice(start, size);
      const ys = labels.slice(start, size);
      const variables = net.trainableWeights.map((w) =>
        w.read() as tf.Variable
      );
      const kept: tf.Tensor[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const probs = net.apply(images, { training: true }) as tf.Tensor;
        kept.push(tf.keep(countCorrect(ys, probs)));
        return lossFn(ys, probs);
      }, variables);
      optimizer.applyGradients(grads);
      await value.data();
      await kept[0].data();
      tf.dispose([value, kept[0], images, ys]);
      tf.dispose(grads);
    }
  };
}

/** The notebook's training loop for `recipe` over `net`. */
function _trainer(
  recipe: Recipe,
  net: tf.LayersModel,
): { train: Trainer; dispose: () => void } {
  if (recipe.step === "fit") {
    const oneHotTargets = recipe.loss === "categoricalCrossentropy" ||
      recipe.loss === "scores";
    return {
      train: async (xs, labels, oneHot) => {
        await fitModel(net, { xs, ys: oneHotTargets ? oneHot : labels }, {
          epochs: 1,
          batchSize: recipe.batchSize,
          shuffle: false,
          progress: "none",
        });
      },
      dispose: () => net.optimizer.dispose(),
    };
  }
  const optimizer = _optimizer(recipe);
  const train = recipe.step === "minimize"
    ? _minimizeTrainer(net, optimizer, recipe.batchSize)
    : _variableGradsTrainer(net, optimizer, recipe.batchSize);
  return { train, dispose: () => optimizer.dispose() };
}

async function _measureTfjs(
  recipe: Recipe,
  samples: number,
  warm: { batches: number; seconds: number },
): Promise<Measurement> {
  const net = _buildCompiled(recipe);
  const { n, xs, labels, oneHot } = _syntheticData(recipe, samples);
  const trainer = _trainer(recipe, net);
  // Warm-up: kernel setup, XNNPACK operators, and V8 tiering up the code
  // of every kernel for these shapes. With 2 batches, whichever engine ran
  // first after a model switch measured slower (up to 25%); see also
  // _WARM_SECONDS.
  const warmSize = Math.min(warm.batches * recipe.batchSize, n);
  const warmData = [
    tf.slice(xs, 0, warmSize),
    tf.slice(labels, 0, warmSize),
    tf.slice(oneHot, 0, warmSize),
  ] as const;
  const warmStart = performance.now();
  do {
    await trainer.train(...warmData);
  } while (performance.now() - warmStart < 1000 * warm.seconds);
  tf.dispose([...warmData]);
  const start = performance.now();
  await trainer.train(xs, labels, oneHot);
  await net.getWeights()[0].data(); // flush asynchronous backends
  const train = n / ((performance.now() - start) / 1000);
  const infer = await _measureInference(net, xs, n);
  tf.dispose([xs, labels, oneHot]);
  trainer.dispose();
  net.dispose();
  return { train, infer };
}

async function _measureInference(
  net: tf.LayersModel,
  xs: tf.Tensor,
  n: number,
): Promise<number> {
  const predictBatch = (offset: number) => {
    const size = Math.min(_INFER_BATCH, n - offset);
    const classes = tf.tidy(() =>
      tf.argMax(net.predict(tf.slice(xs, offset, size)) as tf.Tensor, 1)
    );
    return classes.data().then(() => classes.dispose());
  };
  await predictBatch(0);
  const start = performance.now();
  for (let offset = 0; offset < n; offset += _INFER_BATCH) {
    await predictBatch(offset);
  }
  return n / ((performance.now() - start) / 1000);
}

async function _measureDataParallel(
  recipe: Recipe,
  samples: number,
): Promise<Measurement> {
  const net = buildModel(recipe.model, { seed: 1 });
  const { n, xs, labels, oneHot } = _syntheticData(recipe, samples);
  const optimizer = _optimizer(recipe);
  const result = await trainDataParallel(net, { xs, ys: oneHot }, {
    optimizer,
    // Data-parallel training takes named losses only: the cross-entropy.
    loss: "categoricalCrossentropy",
    epochs: 3, // the first is the warm-up
    batchSize: recipe.batchSize,
    shuffle: false,
    workers: 1,
    progress: "none",
  });
  // A fresh worker's WebAssembly code still tiers up during the 2nd epoch.
  const measured = result.records.slice(1);
  const train = measured.length /
    measured.reduce((sum, r) => sum + 1 / r.samples_per_s, 0);
  const infer = await _measureInference(net, xs, n);
  tf.dispose([xs, labels, oneHot]);
  optimizer.dispose();
  net.dispose();
  return { train, infer };
}

async function _torchAvailable(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import torch"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success ? undefined : "python3-torch is not installed";
  } catch {
    return "/usr/bin/python3 not found";
  }
}

/** PyTorch's twin of `recipe` on one thread and on all cores, one process. */
async function _measureTorch(
  recipe: Recipe,
  samples: number,
  warm: { batches: number; seconds: number },
): Promise<{ engine: string; m: Measurement; version: string }[]> {
  const script = new URL("./bench_torch.py", import.meta.url).pathname;
  const all = navigator.hardwareConcurrency;
  const threads = all > 1 ? [1, all] : [1];
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [
      script,
      "--model",
      recipe.model,
      "--samples",
      String(samples),
      "--batch",
      String(recipe.batchSize),
      "--optimizer",
      recipe.optimizer,
      "--lr",
      String(recipe.learningRate),
      "--warm",
      String(warm.batches),
      "--warm-seconds",
      String(warm.seconds),
      "--threads",
      threads.join(","),
    ],
    stderr: "inherit",
  }).output();
  if (!out.success) {
    throw new Error(`bench_torch.py failed for ${recipe.model}`);
  }
  return new TextDecoder().decode(out.stdout).trim().split("\n").map(
    (line) => {
      const r = JSON.parse(line);
      return {
        engine: r.threads === 1 ? "pytorch-1t" : "pytorch",
        version: r.torch_version,
        m: { train: r.train_samples_per_s, infer: r.infer_samples_per_s },
      };
    },
  );
}

async function _availableBackends(args: BenchArgs): Promise<BenchBackend[]> {
  if (args.backends !== undefined) {
    for (const name of args.backends) {
      const backend = name === _DATA_PARALLEL || name === _ONE_THREAD
        ? "wasm"
        : name;
      await initBackend({ backend, verbose: false });
    }
    return args.backends;
  }
  const auto = await initBackend({ verbose: false });
  const found: BenchBackend[] = ["wasm", _ONE_THREAD];
  if (auto.name === "tensorflow" || auto.name === "webgpu") {
    found.unshift(auto.name);
  }
  for (const s of auto.skipped) console.error(`bench: ${s.name}: ${s.reason}`);
  return found;
}

/** The vector extensions `lscpu` (or /proc/cpuinfo) lists, and the widest. */
async function _machine(torch: string | null): Promise<BenchMachine> {
  let cpu = "unknown";
  let flags: string[] = [];
  try {
    const text = await Deno.readTextFile("/proc/cpuinfo");
    cpu = text.match(/^model name\s*:\s*(.+)$/m)?.[1].trim() ?? cpu;
    flags = text.match(/^flags\s*:\s*(.+)$/m)?.[1].trim().split(/\s+/) ?? [];
  } catch {
    // not Linux: leave unknown
  }
  const vector = flags.filter((f) =>
    /^(avx512\w*|avx2|avx|fma|sse4_2|avx_vnni)$/.test(f)
  ).sort();
  const simd = flags.includes("avx512f")
    ? "AVX-512"
    : flags.includes("avx2")
    ? "AVX2"
    : flags.includes("avx")
    ? "AVX"
    : flags.includes("sse4_2")
    ? "SSE4.2"
    : "unknown";
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    simd,
    simd_flags: vector,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    deno: Deno.version.deno,
    tfjs: tf.version_core,
    torch,
  };
}

async function _commit(): Promise<string> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", {
      args,
      stdout: "piped",
      stderr: "null",
      cwd: new URL("..", import.meta.url).pathname,
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "";
  };
  try {
    const hash = await git("rev-parse", "--short", "HEAD");
    const dirty = await git("status", "--porcelain", "--untracked-files=no");
    return hash ? `${hash}${dirty ? "+dirty" : ""}` : "unknown";
  } catch {
    return "unknown";
  }
}

function _loadavg(): number[] {
  try {
    return Deno.loadavg().map((x) => Number(x.toFixed(2)));
  } catch {
    return [];
  }
}

/** Kernel time of one step, per kernel name. */
interface KernelTotal {
  name: string;
  calls: number;
  ms: number;
}

/** Time and calls per kernel name, while {@linkcode _kernelTimes} records. */
const _kernelTotals = new Map<string, { calls: number; ms: number }>();
let _recording = false;
let _kernelDepth = 0;

/**
 * Wraps every kernel registered for `backend` so that it adds its wall
 * time to {@linkcode _kernelTotals} while recording. Kernels on wasm and
 * cpu run synchronously, so wall time is their cost. Only outermost calls
 * count: kernels that call other kernels (the project's wasm gradients call
 * XNNPACK's) are timed once, as themselves. Unlike `tf.profile`, nothing is
 * read back after each kernel.
 */
function _timeKernels(backend: string): void {
  for (const config of tf.getKernelsForBackend(backend)) {
    const inner = config.kernelFunc;
    config.kernelFunc = ((args: Parameters<tf.KernelFunc>[0]) => {
      if (!_recording || _kernelDepth > 0) return inner(args);
      _kernelDepth++;
      const start = performance.now();
      try {
        return inner(args);
      } finally {
        _kernelDepth--;
        const total = _kernelTotals.get(config.kernelName) ??
          { calls: 0, ms: 0 };
        total.calls++;
        total.ms += performance.now() - start;
        _kernelTotals.set(config.kernelName, total);
      }
    }) as tf.KernelFunc;
  }
}

/** Steps timed by `--profile` (odd: the median is one of them). */
const _PROFILE_STEPS = 21;

/**
 * Fixed cost of one kernel call through tfjs (engine dispatch, tensor
 * bookkeeping, heap look-ups, the kernel's JavaScript), measured on
 * one-element tensors where the arithmetic is nil: the median over a few
 * common kernels of the mean of 2,000 calls each, in ms. Includes the
 * kernel-time wrapper, as the profiled calls do.
 */
function _perCallMs(): number {
  const a = tf.tensor2d([[1.5]]);
  const b = tf.tensor2d([[0.5]]);
  const ops: (() => tf.Tensor)[] = [
    () => tf.add(a, b),
    () => tf.mul(a, b),
    () => tf.relu(a),
    () => tf.matMul(a, b),
    () => tf.sum(a, 0),
    () => tf.reshape(a, [1]),
  ];
  const costs = ops.map((op) => {
    for (let i = 0; i < 200; i++) op().dispose();
    const start = performance.now();
    for (let i = 0; i < 2000; i++) op().dispose();
    return (performance.now() - start) / 2000;
  });
  tf.dispose([a, b]);
  return _median(costs);
}

/**
 * Times one training step (forward, backward, optimizer) kernel by kernel
 * after the bench's warm-up (at least 20 steps and `warmSeconds`: tfjs's
 * steps keep speeding up for a few hundred; the median step of
 * {@linkcode _PROFILE_STEPS} is shown), and splits it: kernel time into an estimate of
 * arithmetic and of fixed per-call cost (calls x {@linkcode _perCallMs}),
 * and the JavaScript around the kernels (tfjs-layers, the gradient tape,
 * the fused Adam/Adamax steps, which call the SIMD module directly).
 */
async function _profileStep(
  recipe: Recipe,
  backend: string,
  warmSeconds: number,
) {
  const net = _buildCompiled(recipe);
  const { xs, labels, oneHot } = _syntheticData(recipe, recipe.batchSize);
  const trainer = _trainer(recipe, net);
  const warmStart = performance.now();
  for (
    let i = 0;
    i < 20 || performance.now() - warmStart < 1000 * warmSeconds;
    i++
  ) await trainer.train(xs, labels, oneHot);
  _recording = true;
  _kernelTotals.clear();
  const perCall = _perCallMs();
  _recording = false;
  const steps: { ms: number; kernels: Map<string, KernelTotal> }[] = [];
  for (let i = 0; i < _PROFILE_STEPS; i++) {
    _kernelTotals.clear();
    _recording = true;
    const start = performance.now();
    await trainer.train(xs, labels, oneHot);
    const ms = performance.now() - start;
    _recording = false;
    const kernels = new Map<string, KernelTotal>();
    for (const [name, t] of _kernelTotals) kernels.set(name, { name, ...t });
    steps.push({ ms, kernels });
  }
  steps.sort((a, b) => a.ms - b.ms);
  const { ms: stepMs, kernels } = steps[(_PROFILE_STEPS - 1) / 2];
  const sorted = [...kernels.values()].sort((a, b) => b.ms - a.ms);
  const kernelMs = sorted.reduce((sum, t) => sum + t.ms, 0);
  const calls = sorted.reduce((sum, t) => sum + t.calls, 0);
  const fixedMs = Math.min(kernelMs, calls * perCall);
  const outsideMs = stepMs - kernelMs;
  console.log(
    `\nprofile: ${recipe.model} on ${backend}, one training step ` +
      `(${recipe.step}, batch ${recipe.batchSize}, ${recipe.optimizer}; ` +
      `median of ${_PROFILE_STEPS}): ${stepMs.toFixed(2)} ms\n` +
      `  kernels: ${kernelMs.toFixed(2)} ms in ${calls} calls; a call costs ` +
      `${(perCall * 1000).toFixed(1)} µs on one-element tensors, so about ` +
      `${fixedMs.toFixed(2)} ms fixed per-call cost and ` +
      `${(kernelMs - fixedMs).toFixed(2)} ms arithmetic\n` +
      `  JavaScript around the kernels (layers, tape, optimizer): ` +
      `${outsideMs.toFixed(2)} ms\n` +
      `  => arithmetic ${(100 * (kernelMs - fixedMs) / stepMs).toFixed(0)}%, ` +
      `per-call and JavaScript overhead ${
        (100 * (fixedMs + outsideMs) / stepMs).toFixed(0)
      }%`,
  );
  console.log(
    "kernel                              calls        ms   µs/call      %",
  );
  for (const t of sorted.slice(0, 20)) {
    console.log(
      `${t.name.padEnd(34)} ${String(t.calls).padStart(6)} ` +
        `${t.ms.toFixed(2).padStart(9)} ${
          (1000 * t.ms / t.calls).toFixed(0).padStart(9)
        } ${(100 * t.ms / stepMs).toFixed(1).padStart(6)}`,
    );
  }
  tf.dispose([xs, labels, oneHot]);
  trainer.dispose();
  net.dispose();
}

async function main(argv: string[]): Promise<number> {
  const args = _parseArgs(argv);
  if (args.profile) {
    const backend = args.backends?.find((b) =>
      b !== _DATA_PARALLEL && b !== _ONE_THREAD
    ) ??
      (await initBackend({ verbose: false })).name;
    await initBackend({ backend: backend as BackendName, verbose: false });
    _timeKernels(backend);
    for (const model of args.models) {
      await _profileStep(_recipe(model), backend, args.warmSeconds);
    }
    return 0;
  }
  const date = new Date().toISOString();
  const loadBefore = _loadavg();
  const backends = await _availableBackends(args);
  const noTorch = args.torch ? await _torchAvailable() : "--no-torch";
  if (noTorch !== undefined) {
    console.error(`bench: pytorch skipped: ${noTorch}`);
  }
  // pytorch uses every core (its default); pytorch-1t one thread, like
  // wasm-1t, which also shows how much PyTorch loses when other work shares
  // the cores (its threads spin-wait on each other).
  const engines: string[] = [
    ...backends,
    ...(noTorch ? [] : ["pytorch-1t", "pytorch"]),
  ];
  let torchVersion: string | null = null;
  const results = new Map<string, Measurement[]>();
  const record = (key: string, m: Measurement, round: number) => {
    results.set(key, [...(results.get(key) ?? []), m]);
    console.error(
      `round ${round} ${key}: train ${m.train.toFixed(0)}/s, ` +
        `infer ${m.infer.toFixed(0)}/s`,
    );
  };
  const warm = { batches: args.warmBatches, seconds: args.warmSeconds };
  // The kernels' ceiling, once per round beside the recipes (same load).
  const ceilings: number[] = [];
  let ceilingThreads = 1;
  for (let round = 1; round <= args.rounds; round++) {
    if (backends.includes("wasm")) {
      await initBackend({ backend: "wasm", verbose: false });
      const c = measureSimdCeiling();
      ceilings.push(c.gmacsPerS);
      ceilingThreads = c.threads;
      console.error(
        `round ${round} SIMD ceiling: ${c.gmacsPerS.toFixed(1)} GMAC/s on ` +
          `${c.threads} thread(s)`,
      );
    }
    for (const model of args.models) {
      const recipe = _recipe(model);
      const spec = BENCH_RECIPES[model];
      const base = args.samples ??
        (args.quick ? spec.quickSamples : spec.samples);
      for (const engine of backends) {
        const samples = engine === "cpu"
          ? Math.min(base, args.cpuSamples ?? spec.cpuSamples)
          : base;
        let m: Measurement;
        if (engine === _DATA_PARALLEL) {
          await initBackend({ backend: "wasm", verbose: false });
          m = await _withKernelThreads(
            1,
            () => _measureDataParallel(recipe, samples),
          );
        } else if (engine === _ONE_THREAD) {
          m = await _withKernelThreads(1, async () => {
            await initBackend({ backend: "wasm", verbose: false });
            return await _measureTfjs(recipe, samples, warm);
          });
        } else {
          await initBackend({ backend: engine as BackendName, verbose: false });
          m = await _measureTfjs(recipe, samples, warm);
        }
        record(`${model}/${engine}`, m, round);
      }
      if (!noTorch) {
        for (const t of await _measureTorch(recipe, base, warm)) {
          torchVersion = t.version;
          record(`${model}/${t.engine}`, t.m, round);
        }
      }
    }
  }
  const rows = args.models.flatMap((model) =>
    _resultRows(_recipe(model), engines, results, _multiplyAdds(model))
  );
  const simdCeiling: BenchCeiling | null = ceilings.length === 0 ? null : {
    gmacs_per_s: Number(_median(ceilings).toFixed(2)),
    rounds: ceilings.map((c) => Number(c.toFixed(2))),
    threads: ceilingThreads,
  };
  const report: BenchReport = {
    schema: 2,
    command: `deno task bench ${argv.join(" ")}`.trim(),
    mode: args.quick ? "quick" : "full",
    rounds: args.rounds,
    date,
    commit: await _commit(),
    machine: await _machine(torchVersion),
    load: { before: loadBefore, after: _loadavg() },
    infer_batch: _INFER_BATCH,
    warm,
    simd_ceiling: simdCeiling,
    rows,
  };
  if (args.writeDocs) {
    await writeBenchDocs(report);
    console.error("bench: wrote docs/benchmarks.json and docs/benchmarks.md");
  }
  if (args.json) {
    console.log(JSON.stringify(report, null, 2));
    return 0;
  }
  const m = report.machine;
  console.log(
    `\n${m.cpu}, ${m.cores} CPUs, SIMD ${m.simd}; commit ${report.commit}; ` +
      `${report.mode}, ${args.rounds} round(s); load ${
        report.load.before.join("/")
      } -> ${report.load.after.join("/")}`,
  );
  const ratio = (r: number | null) => r === null ? "-" : `${r.toFixed(2)}x`;
  if (simdCeiling !== null) {
    console.log(
      `SIMD kernels' ceiling: ${simdCeiling.gmacs_per_s} GMAC/s on ` +
        `${simdCeiling.threads} thread(s)`,
    );
  }
  for (const model of args.models) {
    const recipe = _recipe(model);
    console.log(
      `\n${model} (notebook ${recipe.notebook}, ${recipe.step}, batch ` +
        `${recipe.batchSize}, ${recipe.optimizer} ${recipe.learningRate}; ` +
        `inference batch ${_INFER_BATCH}; ratios against PyTorch's faster ` +
        `thread setting)`,
    );
    console.log(
      "engine      threads   train/s   infer/s   train vs PyTorch   infer vs PyTorch   train GMAC/s",
    );
    for (const r of rows.filter((r) => r.model === model)) {
      console.log(
        `${r.backend.padEnd(11)} ${String(r.threads).padStart(7)}` +
          ` ${String(r.train_samples_per_s).padStart(9)}` +
          ` ${String(r.infer_samples_per_s).padStart(9)}` +
          `   ${ratio(r.ratio_to_pytorch).padStart(16)}` +
          `   ${ratio(r.infer_ratio_to_pytorch).padStart(16)}` +
          `   ${r.train_gmacs_per_s.toFixed(1).padStart(12)}`,
      );
    }
  }
  return 0;
}

/** Threads (cores) each engine computes on. */
function _threads(engine: string): number {
  if (engine === "pytorch") return navigator.hardwareConcurrency;
  if (engine === _DATA_PARALLEL) return 2;
  if (engine === "wasm") return kernelThreads()?.threads ?? 1;
  return 1;
}

/** Threads the project's wasm kernels use per model replica, if any. */
function _kernelThreads(engine: string): number | null {
  if (engine === "wasm") return kernelThreads()?.threads ?? 1;
  return engine === _ONE_THREAD || engine === _DATA_PARALLEL ? 1 : null;
}

/** Runs `body` with `CNN_KERNEL_THREADS` set to `threads`, then restores it. */
async function _withKernelThreads<T>(
  threads: number,
  body: () => Promise<T>,
): Promise<T> {
  const before = Deno.env.get("CNN_KERNEL_THREADS");
  Deno.env.set("CNN_KERNEL_THREADS", String(threads));
  try {
    return await body();
  } finally {
    if (before === undefined) Deno.env.delete("CNN_KERNEL_THREADS");
    else Deno.env.set("CNN_KERNEL_THREADS", before);
  }
}

/**
 * One result row per engine: medians over rounds, and ratios against
 * PyTorch's faster thread setting (all cores or one), chosen separately
 * for training and inference.
 */
function _resultRows(
  recipe: Recipe,
  engines: string[],
  results: Map<string, Measurement[]>,
  macs: MultiplyAddCounts,
): BenchRow[] {
  const model = recipe.model;
  const runs = (engine: string) => results.get(`${model}/${engine}`);
  const medians = (engine: string) => {
    const r = runs(engine);
    return r === undefined ? undefined : {
      rounds: r.length,
      train: _median(r.map((m) => m.train)),
      infer: _median(r.map((m) => m.infer)),
    };
  };
  const best = (key: "train" | "infer") => {
    let top: { value: number; threads: number } | undefined;
    for (const engine of ["pytorch", "pytorch-1t"]) {
      const m = medians(engine);
      if (m !== undefined && (top === undefined || m[key] > top.value)) {
        top = { value: m[key], threads: _threads(engine) };
      }
    }
    return top;
  };
  const torchTrain = best("train");
  const torchInfer = best("infer");
  return engines.filter((e) => runs(e) !== undefined).map((engine) => {
    const m = medians(engine)!;
    return {
      model,
      notebook: recipe.notebook,
      step: recipe.step,
      backend: engine,
      threads: _threads(engine),
      kernel_threads: _kernelThreads(engine),
      batch_size: recipe.batchSize,
      optimizer: recipe.optimizer,
      learning_rate: recipe.learningRate,
      input_shape: recipe.inputShape,
      rounds: m.rounds,
      train_samples_per_s: Math.round(m.train),
      infer_samples_per_s: Math.round(m.infer),
      train_rounds: runs(engine)!.map((r) => Math.round(r.train)),
      infer_rounds: runs(engine)!.map((r) => Math.round(r.infer)),
      pytorch_train_samples_per_s: torchTrain
        ? Math.round(torchTrain.value)
        : null,
      pytorch_train_threads: torchTrain?.threads ?? null,
      ratio_to_pytorch: torchTrain === undefined
        ? null
        : Number((m.train / torchTrain.value).toFixed(3)),
      pytorch_infer_samples_per_s: torchInfer
        ? Math.round(torchInfer.value)
        : null,
      pytorch_infer_threads: torchInfer?.threads ?? null,
      infer_ratio_to_pytorch: torchInfer === undefined
        ? null
        : Number((m.infer / torchInfer.value).toFixed(3)),
      params: MODELS[model].trainableParams,
      macs_per_train_sample: macs.training,
      macs_per_infer_sample: macs.inference,
      train_gmacs_per_s: Number((m.train * macs.training / 1e9).toFixed(2)),
      infer_gmacs_per_s: Number((m.infer * macs.inference / 1e9).toFixed(2)),
    };
  });
}

/** Multiply-adds per sample of `model` as the bench builds it. */
function _multiplyAdds(model: BenchModel): MultiplyAddCounts {
  const net = buildModel(model, { seed: 1 });
  try {
    return countMultiplyAdds(net);
  } finally {
    net.dispose();
  }
}

if (import.meta.main) runCli(USAGE, main);
