/**
 * `deno task bench`: training and inference speed of the tutorials' models
 * on each available TensorFlow.js backend, against PyTorch on the same
 * machine in the same run (rounds interleaved, so load from other processes
 * hits every engine alike; warm-up batches excluded; medians reported).
 *
 * ```sh
 * deno task bench                       # LeNet-5 and the CIFAR-10 CNN
 * deno task bench --json --models lenet5 --backends wasm --rounds 5
 * ```
 *
 * Options: `--json` (one JSON object per line), `--samples N` (training
 * samples per measurement, default 1920 for LeNet-5 and 640 for the CIFAR
 * CNN), `--cpu-samples N` (cap for the slow `cpu` backend, default 256
 * for LeNet-5 and 64 for the CIFAR CNN),
 * `--models a,b`, `--backends a,b` (default: the accelerated backend `auto`
 * finds, plus wasm, wasm-x2 and cpu), `--rounds N` (default 3), `--no-torch`.
 *
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
  "lenet5": { batchSize: 64, samples: 1920, cpuSamples: 256 },
  "cifar-cnn": { batchSize: 32, samples: 640, cpuSamples: 64 },
} as const;
type BenchModel = keyof typeof BENCH_MODELS;

/** wasm on two cores: one replica on the main thread, one in a worker. */
const _DATA_PARALLEL = "wasm-x2";
type BenchBackend = BackendName | typeof _DATA_PARALLEL;

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
}

const _INFER_BATCH = 256;

const USAGE =
  "usage: deno task bench [--json] [--samples N] [--cpu-samples N] " +
  "[--models a,b] [--backends a,b] [--rounds N] [--no-torch]";

function _parseArgs(argv: string[]): BenchArgs {
  const { values } = parseCli(argv, {
    json: { type: "boolean" },
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
    if (b === _DATA_PARALLEL) return b;
    const name = backendFlag(b, "--backends");
    if (name === "auto" || name === undefined) {
      throw new UsageError(
        `--backends: name backends (${
          [...BACKEND_NAMES, _DATA_PARALLEL].join(", ")
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
    models: models ?? ["lenet5", "cifar-cnn"],
    backends,
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
    optimizer: tf.train.adam(1e-3),
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
  const warm = Math.min(2 * batchSize, n);
  const [wx, wy] = [tf.slice(xs, 0, warm), tf.slice(ys, 0, warm)];
  await fit(wx, wy); // warm-up: kernel setup, XNNPACK operator creation
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
  const optimizer = tf.train.adam(1e-3);
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
      const backend = name === _DATA_PARALLEL ? "wasm" : name;
      await initBackend({ backend, verbose: false });
    }
    return args.backends;
  }
  const auto = await initBackend({ verbose: false });
  const found: BenchBackend[] = ["wasm", _DATA_PARALLEL, "cpu"];
  if (auto.name === "tensorflow" || auto.name === "webgpu") {
    found.unshift(auto.name);
  }
  for (const s of auto.skipped) console.error(`bench: ${s.name}: ${s.reason}`);
  return found;
}

async function main(argv: string[]): Promise<number> {
  const args = _parseArgs(argv);
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
          m = await _measureDataParallel(model, samples);
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
    const torch = results.get(`${model}/pytorch`);
    const torchTrain = torch ? _median(torch.map((m) => m.train)) : undefined;
    const rows = engines.map((engine) => {
      const runs = results.get(`${model}/${engine}`)!;
      const train = _median(runs.map((m) => m.train));
      const infer = _median(runs.map((m) => m.infer));
      return {
        model,
        backend: engine,
        batch_size: BENCH_MODELS[model].batchSize,
        rounds: runs.length,
        train_samples_per_s: Math.round(train),
        infer_samples_per_s: Math.round(infer),
        ratio_to_pytorch: torchTrain === undefined
          ? null
          : Number((train / torchTrain).toFixed(3)),
      };
    });
    if (args.json) {
      for (const row of rows) console.log(JSON.stringify(row));
      continue;
    }
    console.log(
      `\n${model} (batch ${BENCH_MODELS[model].batchSize}, Adam; median of ` +
        `${args.rounds} rounds; inference batch ${_INFER_BATCH})`,
    );
    console.log("engine      train/s   infer/s   train vs PyTorch");
    for (const r of rows) {
      const ratio = r.ratio_to_pytorch === null
        ? "-"
        : `${r.ratio_to_pytorch.toFixed(2)}x`;
      console.log(
        `${r.backend.padEnd(10)} ${String(r.train_samples_per_s).padStart(8)}` +
          ` ${String(r.infer_samples_per_s).padStart(9)}   ${ratio}`,
      );
    }
  }
  return 0;
}

if (import.meta.main) runCli(USAGE, main);
