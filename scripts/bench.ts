/**
 * `deno task bench`: training and inference speed of the tutorials' models
 * on each available TensorFlow.js backend, against PyTorch on the same
 * machine in the same run (rounds interleaved, so load from other processes
 * hits every engine alike; warm-up batches excluded; medians reported).
 *
 * ```sh
 * deno task bench                       # LeNet-5, CIFAR-10 CNN, MobileNet
 * deno task bench --json --models lenet5 --backends wasm --rounds 5
 * deno task bench --profile              # time per kernel of one step
 * ```
 *
 * Options: `--json` (one JSON object per line), `--samples N` (training
 * samples per measurement, default 1920 for LeNet-5, 640 for the CIFAR
 * CNN and 96 for MobileNet), `--cpu-samples N` (cap for the slow `cpu`
 * backend, default 256, 64 and 8),
 * `--models a,b`, `--backends a,b` (default: the accelerated backend `auto`
 * finds, plus wasm, wasm-1t, wasm-x2 and cpu), `--rounds N` (default 3),
 * `--no-torch`,
 * `--profile` (instead of the comparison: time per kernel of one training
 * step per model on the first backend of `--backends`, default `auto`'s).
 *
 * Each model trains with its tutorial's optimizer and batch size (LeNet-5:
 * Adam, 64; CIFAR CNN: Adamax, 32; MobileNet at 32x32: Adam, 8), in PyTorch
 * too. PyTorch runs with all cores (`pytorch`) and with one
 * (`pytorch-1t`); `ratio_to_pytorch` divides by the faster of the two, and
 * every JSON line names the threads used on each side.
 *
 * `wasm` is the default: on two cores or more the project's SIMD kernels
 * split their work with a kernel thread (`lib/backend/kernel_threads.ts`);
 * `wasm-1t` the same model on one thread (`CNN_KERNEL_THREADS=1`);
 * `kernel_threads` in the JSON says which.
 * `wasm-x2` is wasm trained data-parallel on two cores (the main thread and
 * one Web Worker, `trainDataParallel` of `lib/train/`); its first epoch over
 * the samples is the warm-up, the next two are measured (weight sync
 * included, worker start-up excluded); its inference is the main thread's.
 *
 * @module
 */
import * as tf from "../lib/tf.ts";
import {
  BACKEND_NAMES,
  type BackendName,
  initBackend,
  kernelThreads,
} from "../lib/backend/mod.ts";
import { buildModel } from "../lib/models/mod.ts";
import { trainDataParallel } from "../lib/train/mod.ts";
import {
  backendFlag,
  parseCli,
  positiveInt,
  runCli,
  UsageError,
} from "./_cli.ts";

/** Models the bench knows, with the tutorial's batch size. */
const BENCH_MODELS = {
  "lenet5": {
    batchSize: 64,
    samples: 1920,
    cpuSamples: 256,
    optimizer: "adam",
    learningRate: 1e-3,
  },
  "cifar-cnn": {
    batchSize: 32,
    samples: 640,
    cpuSamples: 64,
    optimizer: "adamax",
    learningRate: 5e-3,
  },
  "mobilenet": {
    batchSize: 8,
    samples: 96,
    cpuSamples: 8,
    optimizer: "adam",
    learningRate: 1e-3,
  },
} as const;
type BenchModel = keyof typeof BENCH_MODELS;

/** The optimizer the tutorial trains `model` with. */
function _optimizer(model: BenchModel): tf.Optimizer {
  const { optimizer, learningRate } = BENCH_MODELS[model];
  return optimizer === "adamax"
    ? tf.train.adamax(learningRate)
    : tf.train.adam(learningRate);
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
  samples?: number;
  cpuSamples?: number;
  models: BenchModel[];
  backends?: BenchBackend[];
  rounds: number;
  torch: boolean;
  profile: boolean;
}

const _INFER_BATCH = 256;
/** Training batches run before a measurement, not timed. */
const _WARM_BATCHES = 10;

const USAGE =
  "usage: deno task bench [--json] [--samples N] [--cpu-samples N] " +
  "[--models a,b] [--backends a,b] [--rounds N] [--no-torch] [--profile]";

function _parseArgs(argv: string[]): BenchArgs {
  const { values } = parseCli(argv, {
    json: { type: "boolean" },
    profile: { type: "boolean" },
    "no-torch": { type: "boolean" },
    samples: { type: "string" },
    "cpu-samples": { type: "string" },
    rounds: { type: "string" },
    models: { type: "string" },
    backends: { type: "string" },
  });
  const models = values.models?.split(",").map((m) => {
    if (!(m in BENCH_MODELS)) {
      throw new UsageError(
        `--models: unknown model "${m}": use ${
          Object.keys(BENCH_MODELS).join(", ")
        }.`,
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
  return {
    json: values.json ?? false,
    torch: !values["no-torch"],
    samples: positiveInt(values.samples, "--samples"),
    cpuSamples: positiveInt(values["cpu-samples"], "--cpu-samples"),
    rounds: positiveInt(values.rounds, "--rounds") ?? 3,
    models: models ?? ["lenet5", "cifar-cnn", "mobilenet"],
    backends,
    profile: values.profile ?? false,
  };
}

function _median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Random inputs and one-hot targets: whole batches, at least one. */
function _syntheticData(
  net: tf.LayersModel,
  samples: number,
  batchSize: number,
): { n: number; xs: tf.Tensor; ys: tf.Tensor } {
  const inputShape = net.inputs[0].shape.slice(1) as number[];
  const steps = Math.max(1, Math.floor(samples / batchSize));
  const n = steps * batchSize;
  const xs = tf.randomUniform([n, ...inputShape]);
  const ys = tf.tidy(() =>
    tf.oneHot(tf.randomUniform([n], 0, 10, "int32") as tf.Tensor1D, 10)
  );
  return { n, xs, ys };
}

async function _measureTfjs(
  model: BenchModel,
  samples: number,
): Promise<Measurement> {
  const { batchSize } = BENCH_MODELS[model];
  const net = buildModel(model);
  net.compile({
    optimizer: _optimizer(model),
    loss: "categoricalCrossentropy",
  });
  const { n, xs, ys } = _syntheticData(net, samples, batchSize);
  const fit = (x: tf.Tensor, y: tf.Tensor) =>
    net.fit(x, y, {
      batchSize,
      epochs: 1,
      shuffle: false,
      verbose: 0,
      yieldEvery: "never",
    });
  // Warm-up: kernel setup, XNNPACK operators, and V8 tiering up the code
  // of every kernel for these shapes. With 2 batches, whichever engine ran
  // first after a model switch measured slower (up to 25%).
  const warm = Math.min(_WARM_BATCHES * batchSize, n);
  const [wx, wy] = [tf.slice(xs, 0, warm), tf.slice(ys, 0, warm)];
  await fit(wx, wy);
  tf.dispose([wx, wy]);
  const start = performance.now();
  await fit(xs, ys);
  await net.getWeights()[0].data(); // flush asynchronous backends
  const train = n / ((performance.now() - start) / 1000);
  const infer = await _measureInference(net, xs, n);
  tf.dispose([xs, ys]);
  net.optimizer.dispose();
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
  model: BenchModel,
  samples: number,
): Promise<Measurement> {
  const { batchSize } = BENCH_MODELS[model];
  const net = buildModel(model);
  const { n, xs, ys } = _syntheticData(net, samples, batchSize);
  const optimizer = _optimizer(model);
  const result = await trainDataParallel(net, { xs, ys }, {
    optimizer,
    loss: "categoricalCrossentropy",
    epochs: 3, // the first is the warm-up
    batchSize,
    shuffle: false,
    workers: 1,
    progress: "none",
  });
  // A fresh worker's WebAssembly code still tiers up during the 2nd epoch.
  const measured = result.records.slice(1);
  const train = measured.length /
    measured.reduce((sum, r) => sum + 1 / r.samples_per_s, 0);
  const infer = await _measureInference(net, xs, n);
  tf.dispose([xs, ys]);
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

async function _measureTorch(
  model: BenchModel,
  samples: number,
  threads?: number,
): Promise<Measurement> {
  const script = new URL("./bench_torch.py", import.meta.url).pathname;
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [
      script,
      "--model",
      model,
      "--samples",
      String(samples),
      ...(threads === undefined ? [] : ["--threads", String(threads)]),
    ],
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bench_torch.py failed for ${model}`);
  const result = JSON.parse(new TextDecoder().decode(out.stdout).trim());
  return {
    train: result.train_samples_per_s,
    infer: result.infer_samples_per_s,
  };
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
  const found: BenchBackend[] = ["wasm", _ONE_THREAD, _DATA_PARALLEL, "cpu"];
  if (auto.name === "tensorflow" || auto.name === "webgpu") {
    found.unshift(auto.name);
  }
  for (const s of auto.skipped) console.error(`bench: ${s.name}: ${s.reason}`);
  return found;
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

/**
 * Times one training step (forward, backward, optimizer) kernel by kernel
 * after 20 warm-up steps (so that compiled code has tiered up; the median
 * step of five is shown), and prints
 * the kernels that took the most time; the rest of the step is JavaScript
 * (tfjs-layers, the gradient tape) and, on wasm, the fused Adam/Adamax
 * steps, which call the SIMD module directly rather than as kernels.
 */
async function _profileStep(model: BenchModel, backend: string) {
  const { batchSize } = BENCH_MODELS[model];
  const net = buildModel(model);
  net.compile({
    optimizer: _optimizer(model),
    loss: "categoricalCrossentropy",
  });
  const { xs, ys } = _syntheticData(net, batchSize, batchSize);
  for (let i = 0; i < 20; i++) await net.trainOnBatch(xs, ys);
  const steps: { ms: number; kernels: Map<string, KernelTotal> }[] = [];
  for (let i = 0; i < 5; i++) {
    _kernelTotals.clear();
    _recording = true;
    const start = performance.now();
    await net.trainOnBatch(xs, ys);
    const ms = performance.now() - start;
    _recording = false;
    const kernels = new Map<string, KernelTotal>();
    for (const [name, t] of _kernelTotals) kernels.set(name, { name, ...t });
    steps.push({ ms, kernels });
  }
  steps.sort((a, b) => a.ms - b.ms);
  const { ms: stepMs, kernels } = steps[2];
  const sorted = [...kernels.values()].sort((a, b) => b.ms - a.ms);
  const kernelMs = sorted.reduce((sum, t) => sum + t.ms, 0);
  const calls = sorted.reduce((sum, t) => sum + t.calls, 0);
  console.log(
    `\nprofile: ${model} on ${backend}, one training step (batch ` +
      `${batchSize}, ${BENCH_MODELS[model].optimizer}; median of 5): ` +
      `${stepMs.toFixed(1)} ms, of which kernels ${kernelMs.toFixed(1)} ms ` +
      `in ${calls} calls, JavaScript around them ` +
      `${(stepMs - kernelMs).toFixed(1)} ms`,
  );
  console.log("kernel                              calls        ms      %");
  for (const t of sorted.slice(0, 15)) {
    console.log(
      `${t.name.padEnd(34)} ${String(t.calls).padStart(6)} ` +
        `${t.ms.toFixed(2).padStart(9)} ${
          (100 * t.ms / stepMs).toFixed(1).padStart(6)
        }`,
    );
  }
  tf.dispose([xs, ys]);
  net.optimizer.dispose();
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
      await _profileStep(model, backend);
    }
    return 0;
  }
  const backends = await _availableBackends(args);
  const noTorch = args.torch ? await _torchAvailable() : "--no-torch";
  if (noTorch !== undefined) {
    console.error(`bench: pytorch skipped: ${noTorch}`);
  }
  // pytorch uses every core (its default); pytorch-1t one thread, like wasm
  // here, which also shows how much PyTorch loses when other work shares
  // the cores (its threads spin-wait on each other).
  const engines = [
    ...backends,
    ...(noTorch ? [] : ["pytorch", "pytorch-1t"]),
  ];
  const results = new Map<string, Measurement[]>();
  for (let round = 1; round <= args.rounds; round++) {
    for (const model of args.models) {
      const base = args.samples ?? BENCH_MODELS[model].samples;
      for (const engine of engines) {
        const samples = engine === "cpu"
          ? Math.min(base, args.cpuSamples ?? BENCH_MODELS[model].cpuSamples)
          : base;
        let m: Measurement;
        if (engine === "pytorch" || engine === "pytorch-1t") {
          m = await _measureTorch(
            model,
            samples,
            engine === "pytorch" ? undefined : 1,
          );
        } else if (engine === _DATA_PARALLEL) {
          await initBackend({ backend: "wasm", verbose: false });
          m = await _withKernelThreads(
            1,
            () => _measureDataParallel(model, samples),
          );
        } else if (engine === _ONE_THREAD) {
          m = await _withKernelThreads(1, async () => {
            await initBackend({ backend: "wasm", verbose: false });
            return await _measureTfjs(model, samples);
          });
        } else {
          await initBackend({ backend: engine as BackendName, verbose: false });
          m = await _measureTfjs(model, samples);
        }
        const key = `${model}/${engine}`;
        results.set(key, [...(results.get(key) ?? []), m]);
        console.error(
          `round ${round} ${key}: train ${m.train.toFixed(0)}/s, ` +
            `infer ${m.infer.toFixed(0)}/s`,
        );
      }
    }
  }
  for (const model of args.models) {
    const rows = _resultRows(model, engines, results);
    if (args.json) {
      for (const row of rows) console.log(JSON.stringify(row));
      continue;
    }
    const { batchSize, optimizer } = BENCH_MODELS[model];
    console.log(
      `\n${model} (batch ${batchSize}, ${optimizer}; median of ` +
        `${args.rounds} rounds; inference batch ${_INFER_BATCH}; ratios ` +
        `against PyTorch's faster thread setting)`,
    );
    console.log(
      "engine      threads   train/s   infer/s   train vs PyTorch   infer vs PyTorch",
    );
    const ratio = (r: number | null) => r === null ? "-" : `${r.toFixed(2)}x`;
    for (const r of rows) {
      console.log(
        `${r.backend.padEnd(11)} ${String(r.threads).padStart(7)}` +
          ` ${String(r.train_samples_per_s).padStart(9)}` +
          ` ${String(r.infer_samples_per_s).padStart(9)}` +
          `   ${ratio(r.ratio_to_pytorch).padStart(16)}` +
          `   ${ratio(r.infer_ratio_to_pytorch).padStart(16)}`,
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
  model: BenchModel,
  engines: string[],
  results: Map<string, Measurement[]>,
) {
  const medians = (engine: string) => {
    const runs = results.get(`${model}/${engine}`);
    return runs === undefined ? undefined : {
      rounds: runs.length,
      train: _median(runs.map((m) => m.train)),
      infer: _median(runs.map((m) => m.infer)),
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
  return engines.map((engine) => {
    const m = medians(engine)!;
    return {
      model,
      backend: engine,
      threads: _threads(engine),
      kernel_threads: _kernelThreads(engine),
      batch_size: BENCH_MODELS[model].batchSize,
      optimizer: BENCH_MODELS[model].optimizer,
      rounds: m.rounds,
      train_samples_per_s: Math.round(m.train),
      infer_samples_per_s: Math.round(m.infer),
      pytorch_train_samples_per_s: torchTrain && Math.round(torchTrain.value),
      pytorch_train_threads: torchTrain?.threads ?? null,
      ratio_to_pytorch: torchTrain === undefined
        ? null
        : Number((m.train / torchTrain.value).toFixed(3)),
      pytorch_infer_samples_per_s: torchInfer && Math.round(torchInfer.value),
      pytorch_infer_threads: torchInfer?.threads ?? null,
      infer_ratio_to_pytorch: torchInfer === undefined
        ? null
        : Number((m.infer / torchInfer.value).toFixed(3)),
    };
  });
}

if (import.meta.main) runCli(USAGE, main);
