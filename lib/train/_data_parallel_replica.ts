// One replica of data-parallel training: a model, its optimizer and a view
// of the training set in shared memory. The main thread and every worker
// run the same code, so a gradient step means the same thing everywhere.
import * as tf from "../tf.ts";
import { getLearningRate, setLearningRate } from "./optimizer.ts";
import { correctTensor, type LossSpec, lossTensor } from "./_loss.ts";

/** A tensor's values in a SharedArrayBuffer, readable by every replica. */
export interface SharedTensor {
  /** Shared backing store (or a plain one when nothing is shared). */
  buffer: SharedArrayBuffer | ArrayBuffer;
  /** Shape, first axis = samples. */
  shape: number[];
  /** Element type. */
  dtype: "float32" | "int32";
}

/** Gradients of one replica's share of a batch, flattened. */
export interface ShareGradients {
  /** All trainable weights' gradients, concatenated in weight order. */
  flat: Float32Array;
  /** Mean loss over the share. */
  loss: number;
  /** Correct argmax predictions in the share, or null without accuracy. */
  correct: number | null;
}

/** Copies a tensor into shared memory (one copy for all replicas). */
export async function shareTensor(tensor: tf.Tensor): Promise<SharedTensor> {
  if (tensor.dtype !== "float32" && tensor.dtype !== "int32") {
    throw new Error(
      `trainDataParallel: tensors must be float32 or int32, got ${tensor.dtype}; cast them first`,
    );
  }
  const values = await tensor.data() as Float32Array | Int32Array;
  const buffer = new SharedArrayBuffer(values.length * 4);
  const view = tensor.dtype === "float32"
    ? new Float32Array(buffer)
    : new Int32Array(buffer);
  view.set(values);
  return { buffer, shape: tensor.shape.slice(), dtype: tensor.dtype };
}

function _view(shared: SharedTensor): Float32Array | Int32Array {
  return shared.dtype === "float32"
    ? new Float32Array(shared.buffer)
    : new Int32Array(shared.buffer);
}

/** Rows `indices` of a shared tensor, as a new tensor. */
function _gather(shared: SharedTensor, indices: Int32Array): tf.Tensor {
  const source = _view(shared);
  const row = shared.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = shared.dtype === "float32"
    ? new Float32Array(indices.length * row)
    : new Int32Array(indices.length * row);
  for (let i = 0; i < indices.length; i++) {
    const start = indices[i] * row;
    out.set(source.subarray(start, start + row), i * row);
  }
  return tf.tensor(out, [indices.length, ...shared.shape.slice(1)]);
}

/** A model replica that computes share gradients and applies averages. */
export class Replica {
  readonly #model: tf.LayersModel;
  readonly #optimizer: tf.Optimizer;
  readonly #loss: LossSpec;
  readonly #xs: SharedTensor;
  readonly #ys: SharedTensor;
  readonly #sizes: number[];
  readonly #total: number;

  constructor(
    model: tf.LayersModel,
    optimizer: tf.Optimizer,
    loss: LossSpec,
    data: { xs: SharedTensor; ys: SharedTensor },
  ) {
    this.#model = model;
    this.#optimizer = optimizer;
    this.#loss = loss;
    this.#xs = data.xs;
    this.#ys = data.ys;
    this.#sizes = model.trainableWeights.map((w) =>
      w.shape.reduce((a: number, b) => a * (b ?? 1), 1)
    );
    this.#total = this.#sizes.reduce((a, b) => a + b, 0);
  }

  /** The optimizer this replica applies gradients with. */
  get optimizer(): tf.Optimizer {
    return this.#optimizer;
  }

  /** Number of trainable parameters (length of the flat gradients). */
  get parameters(): number {
    return this.#total;
  }

  #variables(): tf.Variable[] {
    // Read per call: layers may replace their variables (setWeights keeps them).
    return this.#model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /**
   * Mean-loss gradients over the samples `indices`, read asynchronously (as
   * WebGPU requires).
   */
  async gradients(indices: Int32Array): Promise<ShareGradients> {
    const flat = new Float32Array(this.#total);
    const xb = _gather(this.#xs, indices);
    const yb = _gather(this.#ys, indices);
    const variables = this.#variables();
    let correct: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const pred = this.#model.apply(xb, { training: true }) as tf.Tensor;
      const c = correctTensor(this.#loss, yb, pred);
      // Kept so it outlives the gradient scope; disposed below.
      correct = c ? tf.keep(c) : null;
      return lossTensor(this.#loss, yb, pred);
    }, variables);
    const kept = correct as tf.Tensor | null;
    let loss: number;
    let correctCount: number | null;
    try {
      let offset = 0;
      for (const v of variables) {
        flat.set(await grads[v.name].data() as Float32Array, offset);
        offset += v.size;
      }
      loss = (await value.data())[0];
      correctCount = kept ? (await kept.data())[0] : null;
    } finally {
      tf.dispose([
        xb,
        yb,
        value,
        ...Object.values(grads),
        ...(kept ? [kept] : []),
      ]);
    }
    return { flat, loss, correct: correctCount };
  }

  /** Applies flat gradients (in weight order) with the replica's optimizer. */
  apply(flat: Float32Array, learningRate: number | null): void {
    if (
      learningRate !== null &&
      getLearningRate(this.#optimizer) !== learningRate
    ) {
      setLearningRate(this.#optimizer, learningRate);
    }
    const variables = this.#variables();
    let offset = 0;
    const named = variables.map((v) => {
      const tensor = tf.tensor(
        flat.slice(offset, offset + v.size),
        v.shape,
        "float32",
      );
      offset += v.size;
      return { name: v.name, tensor };
    });
    this.#optimizer.applyGradients(named);
    tf.dispose(named.map((n) => n.tensor));
  }
}
