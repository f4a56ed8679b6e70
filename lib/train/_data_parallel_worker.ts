// Worker side of trainDataParallel: holds one replica, answers gradient
// requests, applies the averaged gradients the main thread sends back.
// Started by data_parallel.ts as a module Web Worker; not for import.
import * as tf from "../tf.ts";
import { type BackendName, initBackend } from "../backend/mod.ts";
// Registers the project's custom layers so their models deserialise here.
import "../models/mod.ts";
import { type OptimizerStateEntry, setOptimizerState } from "./optimizer.ts";
import { setGlobalSeed } from "./seed.ts";
import type { LossSpec } from "./_loss.ts";
import { Replica, type SharedTensor } from "./_data_parallel_replica.ts";

/** Messages from the main thread, in the order they must be handled. */
export type ToWorker =
  | {
    type: "init";
    backend: BackendName;
    topology: string;
    optimizer: { className: string; config: tf.serialization.ConfigDict };
    loss: LossSpec;
    xs: SharedTensor;
    ys: SharedTensor;
    /** Seeds this worker's `Math.random` (its dropout masks), for repeatable runs. */
    randomSeed: number;
  }
  | {
    type: "sync";
    weights: Float32Array[];
    optimizerState: OptimizerStateEntry[] | null;
  }
  | { type: "apply"; average: Float32Array; learningRate: number | null }
  | { type: "gradients"; indices: Int32Array }
  | { type: "weights" };

/** Replies to the main thread. */
export type FromWorker =
  | { type: "ready" }
  | {
    type: "grads";
    flat: Float32Array | null;
    loss: number;
    correct: number | null;
  }
  | { type: "weights"; weights: Float32Array[] }
  | { type: "error"; message: string };

interface _Scope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}

const scope = globalThis as unknown as _Scope;
let model: tf.LayersModel | null = null;
let replica: Replica | null = null;
// Messages are handled strictly in order, also across the async ones.
let queue: Promise<void> = Promise.resolve();
let failed = false;

function _optimizer(spec: {
  className: string;
  config: tf.serialization.ConfigDict;
}): tf.Optimizer {
  const entry = tf.serialization.SerializationMap.getMap()
    .classNameMap[spec.className];
  if (!entry) {
    throw new Error(`unknown optimizer class ${spec.className}`);
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, spec.config) as tf.Optimizer;
}

async function _handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case "init": {
      // Every core already runs a replica: no kernel thread on top.
      await initBackend({
        backend: message.backend,
        verbose: false,
        kernelThreads: false,
      });
      setGlobalSeed(message.randomSeed);
      model = await tf.models.modelFromJSON(JSON.parse(message.topology));
      replica = new Replica(
        model,
        _optimizer(message.optimizer),
        message.loss,
        {
          xs: message.xs,
          ys: message.ys,
        },
      );
      scope.postMessage({ type: "ready" });
      return;
    }
    case "sync": {
      const target = model!;
      const tensors = target.weights.map((w, i) =>
        tf.tensor(message.weights[i], w.shape as number[], "float32")
      );
      target.setWeights(tensors);
      tf.dispose(tensors);
      if (message.optimizerState) {
        await setOptimizerState(replica!.optimizer, message.optimizerState);
      }
      return;
    }
    case "apply":
      replica!.apply(message.average, message.learningRate);
      return;
    case "gradients": {
      if (message.indices.length === 0) {
        scope.postMessage({ type: "grads", flat: null, loss: 0, correct: 0 });
        return;
      }
      const g = await replica!.gradients(message.indices);
      scope.postMessage({ type: "grads", ...g }, [g.flat.buffer]);
      return;
    }
    case "weights": {
      const weights = await Promise.all(
        model!.weights.map(async (w) =>
          (await w.read().data() as Float32Array).slice()
        ),
      );
      scope.postMessage({ type: "weights", weights });
      return;
    }
  }
}

scope.onmessage = (event) => {
  queue = queue.then(async () => {
    if (failed) return;
    try {
      await _handle(event.data);
    } catch (error) {
      failed = true;
      const text = error instanceof Error
        ? `${error.message}\n${error.stack ?? ""}`
        : String(error);
      scope.postMessage({ type: "error", message: text });
    }
  });
};
