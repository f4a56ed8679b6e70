/**
 * `trainDataParallel`: {@linkcode trainLoop}'s training on several CPU cores
 * at once. The wasm backend runs one thread under Deno (tfjs cannot start
 * its pthreads there), so this runs one model replica per core instead: the
 * main thread and `workers` module Web Workers each compute the gradients of
 * their share of every batch; the main thread averages them (weighted by
 * share size, which equals the full batch's mean gradient) and every replica
 * applies the SAME average with an identical optimizer, so the replicas stay
 * equal without shipping weights each step. The training set is copied once
 * into shared memory; each step sends only sample indices and gradients.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/mod.ts";
 * import { buildModel } from "../models/mod.ts";
 * import { trainDataParallel } from "./data_parallel.ts";
 * await initBackend({ backend: "wasm" });
 * const model = buildModel("lenet5");
 * const xs = tf.randomUniform([640, 28, 28, 1]);
 * const ys = tf.tensor1d(Array.from({ length: 640 }, (_, i) => i % 10), "int32");
 * const result = await trainDataParallel(model, { xs, ys }, {
 *   optimizer: tf.train.adam(1e-3), epochs: 2, batchSize: 64, seed: 1,
 * });
 * console.log(result.history.toString());
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import { type BackendName, withoutKernelThreads } from "../backend/mod.ts";
import type { TrainData } from "./types.ts";
import { getLearningRate, getOptimizerState } from "./optimizer.ts";
import { epochOrder, randomSeed } from "./epoch_order.ts";
import {
  type CommonTrainOptions,
  prepareData,
  runSession,
  trainingOptimizer,
  type TrainResult,
} from "./_session.ts";
import {
  correctTensor,
  EpochMetrics,
  evaluateBatches,
  type LossName,
  lossTensor,
  resolveLossSpec,
} from "./_loss.ts";
import {
  Replica,
  type ShareGradients,
  shareTensor,
} from "./_data_parallel_replica.ts";
import type { FromWorker, ToWorker } from "./_data_parallel_worker.ts";

/** Options of {@linkcode trainDataParallel}. */
export interface TrainDataParallelOptions extends CommonTrainOptions {
  /**
   * Extra replicas, each in its own Web Worker (the main thread is one
   * replica too). 0 trains on the main thread only. Default: 1 (two cores).
   */
  workers?: number;
  /**
   * Optimizer of the main replica; each worker gets a fresh one of the same
   * class and config (a `tf.train` optimizer). Default: the model's, if it
   * was compiled; else required.
   */
  optimizer?: tf.Optimizer;
  /**
   * Loss on the model's OUTPUT, by name (workers cannot receive functions).
   * Default: "auto": sparse categorical cross-entropy for labels `[N]`,
   * categorical for one-hot `[N, C]`.
   */
  loss?: "auto" | LossName;
  /** Batch size of the validation pass. Default: max(batchSize, 256). */
  validationBatchSize?: number;
  /**
   * Backend of the workers. Default: the main thread's active backend (the
   * same backend makes every replica's updates identical).
   */
  backend?: BackendName;
  /**
   * After every epoch, check that each worker's trainable weights equal the
   * main thread's bit for bit, and throw if they drifted. Default: false.
   */
  verifySync?: boolean;
}

const _WHAT = "trainDataParallel";

/** One worker and its replies, answered in the order they were asked. */
class _WorkerLink {
  readonly #worker: Worker;
  readonly #waiting: {
    resolve: (reply: FromWorker) => void;
    reject: (error: Error) => void;
  }[] = [];
  #error: Error | null = null;

  constructor() {
    this.#worker = new Worker(
      new URL("./_data_parallel_worker.ts", import.meta.url).href,
      { type: "module" },
    );
    this.#worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const reply = event.data;
      if (reply.type === "error") {
        this.#fail(new Error(`${_WHAT}: a worker failed: ${reply.message}`));
      } else {
        this.#waiting.shift()?.resolve(reply);
      }
    };
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(new Error(`${_WHAT}: a worker failed: ${event.message}`));
    };
    this.#worker.onmessageerror = () => {
      this.#fail(new Error(`${_WHAT}: a worker's reply could not be read`));
    };
  }

  #fail(error: Error): void {
    this.#error ??= error;
    for (const w of this.#waiting.splice(0)) w.reject(this.#error);
  }

  post(message: ToWorker, transfer: Transferable[] = []): void {
    if (this.#error) throw this.#error;
    this.#worker.postMessage(message, transfer);
  }

  request(
    message: ToWorker,
    transfer: Transferable[] = [],
  ): Promise<FromWorker> {
    this.post(message, transfer);
    return new Promise((resolve, reject) =>
      this.#waiting.push({ resolve, reject })
    );
  }

  terminate(): void {
    this.#worker.terminate();
    this.#fail(new Error(`${_WHAT}: the worker was terminated`));
  }
}

/** Splits a batch's indices into `parts` nearly equal shares, largest first. */
function _shares(indices: Int32Array, parts: number): Int32Array[] {
  const out: Int32Array[] = [];
  let start = 0;
  for (let p = 0; p < parts; p++) {
    const size = Math.ceil((indices.length - start) / (parts - p));
    out.push(indices.slice(start, start + size));
    start += size;
  }
  return out;
}

/** Size-weighted mean of the shares' flat gradients (the batch's gradient). */
function _average(
  parts: { size: number; grads: ShareGradients | null }[],
  parameters: number,
  total: number,
): Float32Array {
  const sum = new Float64Array(parameters);
  for (const { size, grads } of parts) {
    if (grads === null) continue;
    const w = size / total;
    const flat = grads.flat;
    for (let i = 0; i < parameters; i++) sum[i] += w * flat[i];
  }
  return Float32Array.from(sum);
}

async function _checkInSync(
  model: tf.LayersModel,
  reply: FromWorker,
  worker: number,
): Promise<void> {
  if (reply.type !== "weights") {
    throw new Error(`${_WHAT}: worker ${worker} answered ${reply.type}`);
  }
  for (const w of model.trainableWeights) {
    const i = model.weights.indexOf(w);
    const mine = await w.read().data();
    const theirs = reply.weights[i];
    for (let k = 0; k < mine.length; k++) {
      if (mine[k] !== theirs[k]) {
        throw new Error(
          `${_WHAT}: worker ${worker} drifted from the main replica at ${w.name}[${k}] (${
            theirs[k]
          } vs ${mine[k]}); replicas must run the same backend`,
        );
      }
    }
  }
}

/**
 * Trains like {@linkcode trainLoop} (seeded shuffling, per-batch updates,
 * running-mean loss and accuracy, validation, the same callbacks, progress,
 * checkpoints and history) with each batch split across `1 + workers`
 * equal replicas on separate cores. The result equals a single-replica run
 * up to float rounding (the tests check SGD and Adam), and seeded runs
 * repeat exactly. It is faster than {@linkcode trainLoop} only when the
 * cores are otherwise idle: every step waits for the slowest replica, so
 * another busy process makes it slower than one core.
 *
 * Notes: the workers start (about a second each) before the first epoch
 * and are terminated at the end, also on error; every epoch begins by
 * copying the main replica's weights to the workers; batch-norm moving
 * statistics come from the main replica's share only; validation runs on
 * the main thread; the training set is held once more, in shared memory.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { trainDataParallel } from "./data_parallel.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: "softmax" })] });
 * const xs = tf.randomNormal([60, 4]);
 * const ys = tf.tensor1d(Array.from({ length: 60 }, (_, i) => i % 3), "int32");
 * const { records } = await trainDataParallel(model, { xs, ys }, {
 *   optimizer: tf.train.sgd(0.1), epochs: 3, workers: 1, progress: "none",
 * });
 * assert.equal(records.length, 3);
 * ```
 */
export function trainDataParallel(
  model: tf.LayersModel,
  data: TrainData,
  options: TrainDataParallelOptions = {},
): Promise<TrainResult> {
  // The replicas keep every core busy; the wasm kernels' second thread
  // would only compete with them.
  return (options.workers ?? 1) > 0
    ? withoutKernelThreads(() => _trainDataParallel(model, data, options))
    : _trainDataParallel(model, data, options);
}

async function _trainDataParallel(
  model: tf.LayersModel,
  data: TrainData,
  options: TrainDataParallelOptions,
): Promise<TrainResult> {
  const optimizer = trainingOptimizer(model, options.optimizer, _WHAT);
  const { workers = 1, batchSize = 32, shuffle = true } = options;
  if (!Number.isInteger(workers) || workers < 0) {
    throw new Error(
      `${_WHAT}: workers must be an integer >= 0, got ${workers}`,
    );
  }
  const prepared = prepareData(data, options, _WHAT);
  const links: _WorkerLink[] = [];
  try {
    const spec = resolveLossSpec(
      model,
      prepared.train.ys,
      options.loss,
      _WHAT,
      `"auto", sparseCategoricalCrossentropy, categoricalCrossentropy or meanSquaredError (functions cannot be sent to workers; use trainLoop for those)`,
    );
    const validationBatchSize = options.validationBatchSize ??
      Math.max(batchSize, 256);
    const seed = options.seed ?? randomSeed();
    const n = prepared.train.xs.shape[0];
    const shared = {
      xs: await shareTensor(prepared.train.xs),
      ys: await shareTensor(prepared.train.ys),
    };
    const main = new Replica(model, optimizer, spec, shared);
    const init = (w: number): ToWorker => ({
      type: "init",
      backend: options.backend ?? tf.getBackend() as BackendName,
      topology: model.toJSON() as string,
      optimizer: {
        className: optimizer.getClassName(),
        config: optimizer.getConfig(),
      },
      loss: spec,
      ...shared,
      // Each worker draws its own dropout masks from a generator seeded by
      // the run's seed and its index, so seeded runs repeat exactly (the
      // masks differ from a single-replica run's, which draws them all in
      // one sequence).
      randomSeed: (seed ^ Math.imul(w + 1, 0x9e3779b1)) >>> 0,
    });
    for (let w = 0; w < workers; w++) links.push(new _WorkerLink());
    await Promise.all(links.map((link, w) => link.request(init(w))));

    const metrics = new EpochMetrics();
    let optimizerSynced = false;
    return await runSession(
      model,
      optimizer,
      n,
      { ...options, seed },
      _WHAT,
      async (epoch, onBatch) => {
        metrics.reset();
        const trainStart = performance.now();
        // Start every epoch from the main replica's weights (this also
        // brings the workers batch-norm statistics and resumed weights).
        const weights = await Promise.all(
          model.weights.map(async (w) =>
            (await w.read().data() as Float32Array).slice()
          ),
        );
        const optimizerState = !optimizerSynced && optimizer.iterations > 0
          ? await getOptimizerState(optimizer)
          : null;
        optimizerSynced = true;
        for (const link of links) {
          link.post({ type: "sync", weights, optimizerState });
        }
        const order = epochOrder(n, shuffle, seed, epoch);
        let batch = 0;
        for (let start = 0; start < n; start += batchSize, batch++) {
          const size = Math.min(batchSize, n - start);
          const shares = _shares(
            order.subarray(start, start + size),
            links.length + 1,
          );
          const replies = links.map((link, w) =>
            link.request({ type: "gradients", indices: shares[w + 1] })
          );
          const own = await main.gradients(shares[0]);
          const theirs = await Promise.all(replies);
          const parts: { size: number; grads: ShareGradients | null }[] = [
            { size: shares[0].length, grads: own },
          ];
          let loss = own.loss * shares[0].length;
          let correct = own.correct;
          theirs.forEach((reply, w) => {
            if (reply.type !== "grads") {
              throw new Error(`${_WHAT}: worker ${w} answered ${reply.type}`);
            }
            const share = shares[w + 1].length;
            const { flat } = reply;
            parts.push({
              size: share,
              grads: flat === null ? null : { ...reply, flat },
            });
            loss += reply.loss * share;
            if (correct !== null && reply.correct !== null) {
              correct += reply.correct;
            }
          });
          const average = _average(parts, main.parameters, size);
          // The workers apply the average while the main replica does.
          const learningRate = getLearningRate(optimizer);
          for (const link of links) {
            link.post({ type: "apply", average, learningRate });
          }
          main.apply(average, null);
          loss /= size;
          const batchAcc = correct === null ? null : correct / size;
          metrics.update(loss, batchAcc, size);
          if (await onBatch(batch, { size, loss, acc: batchAcc })) break;
        }
        if (options.verifySync) {
          const replies = await Promise.all(
            links.map((link) => link.request({ type: "weights" })),
          );
          for (const [w, reply] of replies.entries()) {
            await _checkInSync(model, reply, w);
          }
        }
        const trainSeconds = (performance.now() - trainStart) / 1000;
        const val = prepared.validation
          ? await evaluateBatches(
            model,
            {
              loss: (yTrue, yPred) => lossTensor(spec, yTrue, yPred),
              correct: (yTrue, yPred) => correctTensor(spec, yTrue, yPred),
            },
            prepared.validation,
            validationBatchSize,
          )
          : null;
        return metrics.outcome(val, trainSeconds);
      },
    );
  } finally {
    for (const link of links) link.terminate();
    tf.dispose(prepared.owned);
  }
}
