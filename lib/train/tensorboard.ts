/**
 * TensorBoard logs without tfjs-node: `events.out.tfevents.*` files in
 * TensorFlow's own format, written in plain TypeScript.
 *
 * A file is a sequence of TFRecords (little-endian `uint64` length, masked
 * CRC32C of those 8 bytes, the data, masked CRC32C of the data); each record
 * holds one `tensorflow.Event` protobuf. The first event carries
 * `file_version: "brain.Event:2"`, the others a `Summary` of scalar
 * (`simple_value`) values, of weight histograms (`histo`, TensorBoard's
 * `HistogramProto`) or of the model's layer graph (a string tensor of the
 * Keras-format model JSON under the `graph_keras_model` plugin, which
 * TensorBoard's Graphs dashboard draws as Keras's "conceptual graph").
 * {@linkcode tensorBoard} lays them out as Keras's TensorBoard callback does
 * (`<dir>/train` and `<dir>/validation`, tags `epoch_loss`,
 * `epoch_accuracy`, `epoch_learning_rate`, one histogram per weight such as
 * `conv1/kernel_0`), so TensorBoard overlays training and validation curves;
 * with `{ updateFreq: N }` it also writes the batch loss every N batches.
 * `deno task train ... --logdir DIR` does the same from the command line.
 * View the logs with TensorBoard from Python:
 * `pip install tensorboard && tensorboard --logdir DIR`.
 *
 * Why the project writes the format itself: tfjs's `tf.node.tensorBoard`
 * needs tfjs-node, whose native TensorFlow does not install on these machines
 * (nor under Deno without install scripts); the format is small and stable
 * (TFRecord framing with CRC-32C and a few protobuf fields), and the tests
 * read the files back with an independent bit-by-bit CRC.
 *
 * @example
 * ```ts
 * import { tensorBoard } from "./tensorboard.ts";
 * // await fitModel(model, data, { epochs: 10, callbacks: [tensorBoard("runs/lenet5")] });
 * // then: tensorboard --logdir runs
 * ```
 *
 * @module
 */
import { join } from "node:path";
import type * as tf from "../tf.ts";
import type {
  BatchLogs,
  EpochRecord,
  TrainCallback,
  TrainState,
} from "./types.ts";

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32C (Castagnoli) of `bytes`, as TFRecord uses it.
 *
 * @example
 * ```ts
 * import { crc32c } from "./tensorboard.ts";
 * crc32c(new TextEncoder().encode("123456789")); // 0xe3069283
 * ```
 */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc = CRC32C_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * TFRecord's masked CRC-32C: the CRC rotated right by 15 bits plus
 * `0xa282ead8` (so a CRC of data that holds CRCs stays well spread).
 *
 * @example
 * ```ts
 * import { maskedCrc32c } from "./tensorboard.ts";
 * const mask = maskedCrc32c(new Uint8Array([1, 2, 3]));
 * ```
 */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** Protobuf bytes built field by field (only the wire types Event needs). */
class ProtoWriter {
  #bytes: number[] = [];

  #varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.#bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#bytes.push(Number(v));
  }

  #key(field: number, wireType: number): void {
    this.#varint((field << 3) | wireType);
  }

  double(field: number, value: number): this {
    this.#key(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    this.#bytes.push(...b);
    return this;
  }

  float(field: number, value: number): this {
    this.#key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#bytes.push(...b);
    return this;
  }

  int64(field: number, value: number): this {
    this.#key(field, 0);
    this.#varint(value);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#key(field, 2);
    this.#varint(value.length);
    this.#bytes.push(...value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** A packed `repeated double` field. */
  doubles(field: number, values: ArrayLike<number>): this {
    const b = new Uint8Array(8 * values.length);
    const view = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) {
      view.setFloat64(8 * i, values[i], true);
    }
    return this.bytes(field, b);
  }

  /** An embedded message. */
  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }
}

/** One `tensorflow.Event`: a file version or a set of scalars. */
export interface TensorBoardEvent {
  /** Seconds since the Unix epoch. */
  wallTime: number;
  /** The step the values belong to (an epoch or a global batch number). */
  step: number;
  /** `"brain.Event:2"` in a file's first event; absent otherwise. */
  fileVersion?: string;
  /** Scalars by tag, stored as `Summary.Value.simple_value` (float32). */
  scalars?: Record<string, number>;
  /** Histograms by tag, stored as `Summary.Value.histo`. */
  histograms?: Record<string, Histogram>;
  /**
   * The model's Keras-format JSON (`model.toJSON()`), stored under the tag
   * `keras` as a string tensor with the `graph_keras_model` plugin, as
   * Keras's `write_graph` does for its conceptual graph.
   */
  kerasModel?: string;
}

/** A histogram as TensorBoard's `HistogramProto` holds it. */
export interface Histogram {
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** Number of values. */
  num: number;
  /** Sum of the values. */
  sum: number;
  /** Sum of their squares. */
  sumSquares: number;
  /** Right edge of each bucket (the last one is `max`). */
  bucketLimit: number[];
  /** Count of each bucket. */
  bucket: number[];
}

/** Options of {@linkcode histogramOf}. */
export interface HistogramOfOptions {
  /** Number of equal-width buckets between min and max. Default: 30 (TensorFlow's). */
  buckets?: number;
}

/**
 * Summarises values as a histogram of equal-width buckets between their min
 * and max (a single bucket when all values are equal); NaN and infinite
 * values are left out.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { histogramOf } from "./tensorboard.ts";
 * const h = histogramOf([0, 1, 1, 2], { buckets: 2 });
 * assert.deepEqual(h.bucket, [1, 3]);
 * ```
 */
export function histogramOf(
  values: ArrayLike<number>,
  options: HistogramOfOptions = {},
): Histogram {
  const buckets = options.buckets ?? 30;
  if (!(Number.isInteger(buckets) && buckets >= 1)) {
    throw new Error(
      `histogramOf: buckets must be a whole number >= 1, got ${buckets}`,
    );
  }
  let min = Infinity;
  let max = -Infinity;
  let num = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    num++;
    sum += v;
    sumSquares += v * v;
  }
  if (num === 0) {
    return {
      min: 0,
      max: 0,
      num: 0,
      sum: 0,
      sumSquares: 0,
      bucketLimit: [0],
      bucket: [0],
    };
  }
  const n = max > min ? buckets : 1;
  const width = (max - min) / n;
  const bucket = new Array<number>(n).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    bucket[n === 1 ? 0 : Math.min(n - 1, Math.floor((v - min) / width))]++;
  }
  const bucketLimit = bucket.map((_, k) =>
    k === n - 1 ? max : min + width * (k + 1)
  );
  return { min, max, num, sum, sumSquares, bucketLimit, bucket };
}

/** `HistogramProto`: 1 min, 2 max, 3 num, 4 sum, 5 sum_squares, 6 bucket_limit, 7 bucket. */
function _histogramProto(h: Histogram): ProtoWriter {
  return new ProtoWriter().double(1, h.min).double(2, h.max).double(3, h.num)
    .double(4, h.sum).double(5, h.sumSquares).doubles(6, h.bucketLimit)
    .doubles(7, h.bucket);
}

/**
 * The `keras` summary value: `metadata` (9) naming the `graph_keras_model`
 * plugin, `tensor` (8) a scalar DT_STRING (dtype 7) holding the JSON.
 */
function _kerasModelValue(json: string): ProtoWriter {
  const pluginData = new ProtoWriter().string(1, "graph_keras_model")
    .string(2, "1");
  const metadata = new ProtoWriter().message(1, pluginData);
  const tensor = new ProtoWriter().int64(1, 7)
    .message(2, new ProtoWriter()).string(8, json);
  return new ProtoWriter().string(1, "keras").message(9, metadata)
    .message(8, tensor);
}

/**
 * Encodes an event as `tensorflow.Event` protobuf bytes (fields: 1
 * wall_time, 2 step, 3 file_version, 5 summary; `Summary.value` 1 with
 * `tag` 1 and `simple_value` 2, `histo` 5, or `metadata` 9 and `tensor` 8).
 *
 * @example
 * ```ts
 * import { encodeEvent } from "./tensorboard.ts";
 * const bytes = encodeEvent({ wallTime: Date.now() / 1000, step: 1, scalars: { epoch_loss: 0.3 } });
 * ```
 */
export function encodeEvent(event: TensorBoardEvent): Uint8Array {
  const out = new ProtoWriter().double(1, event.wallTime).int64(
    2,
    event.step,
  );
  if (event.fileVersion !== undefined) out.string(3, event.fileVersion);
  if (event.scalars || event.histograms || event.kerasModel !== undefined) {
    const summary = new ProtoWriter();
    for (const [tag, value] of Object.entries(event.scalars ?? {})) {
      summary.message(1, new ProtoWriter().string(1, tag).float(2, value));
    }
    for (const [tag, histogram] of Object.entries(event.histograms ?? {})) {
      summary.message(
        1,
        new ProtoWriter().string(1, tag).message(5, _histogramProto(histogram)),
      );
    }
    if (event.kerasModel !== undefined) {
      summary.message(1, _kerasModelValue(event.kerasModel));
    }
    out.bytes(5, summary.finish());
  }
  return out.finish();
}

/**
 * Frames data as one TFRecord: length, masked CRC of the length, data,
 * masked CRC of the data.
 *
 * @example
 * ```ts
 * import { encodeEvent, tfRecord } from "./tensorboard.ts";
 * const record = tfRecord(encodeEvent({ wallTime: 0, step: 0, fileVersion: "brain.Event:2" }));
 * ```
 */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

let fileCounter = 0;

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/** Appends scalar, histogram and graph events to one `events.out.tfevents.*` file. */
export class EventFileWriter {
  /** Path of the event file. */
  readonly path: string;
  #pending: Uint8Array[] = [];

  /**
   * Creates the folder and the file, whose first record is the file
   * version. Use {@linkcode EventFileWriter.create}.
   */
  private constructor(path: string) {
    this.path = path;
  }

  /**
   * Creates `<dir>/events.out.tfevents.<seconds>.<host>.<pid>.<n>` holding
   * the file-version event.
   *
   * @example
   * ```ts
   * import { EventFileWriter } from "./tensorboard.ts";
   * const writer = await EventFileWriter.create(await Deno.makeTempDir()); // e.g. "runs/demo"
   * writer.scalars(1, { loss: 0.5 });
   * await writer.flush();
   * ```
   */
  static async create(dir: string): Promise<EventFileWriter> {
    await Deno.mkdir(dir, { recursive: true });
    const now = Date.now() / 1000;
    const name = `events.out.tfevents.${
      Math.floor(now)
    }.${hostname()}.${Deno.pid}.${fileCounter++}`;
    const writer = new EventFileWriter(join(dir, name));
    await Deno.writeFile(
      writer.path,
      tfRecord(
        encodeEvent({ wallTime: now, step: 0, fileVersion: "brain.Event:2" }),
      ),
      { createNew: true },
    );
    return writer;
  }

  /** Queues one event with these scalars at `step` (written by `flush`). */
  scalars(step: number, values: Record<string, number>): void {
    this.#pending.push(
      tfRecord(
        encodeEvent({ wallTime: Date.now() / 1000, step, scalars: values }),
      ),
    );
  }

  /** Queues one event with these histograms at `step` (written by `flush`). */
  histograms(step: number, values: Record<string, Histogram>): void {
    this.#pending.push(
      tfRecord(
        encodeEvent({ wallTime: Date.now() / 1000, step, histograms: values }),
      ),
    );
  }

  /** Queues the model's Keras-format JSON as its graph (written by `flush`). */
  kerasModel(step: number, json: string): void {
    this.#pending.push(
      tfRecord(
        encodeEvent({ wallTime: Date.now() / 1000, step, kerasModel: json }),
      ),
    );
  }

  /** Appends the queued events to the file. */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const size = this.#pending.reduce((n, r) => n + r.length, 0);
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const record of this.#pending) {
      bytes.set(record, at);
      at += record.length;
    }
    this.#pending = [];
    await Deno.writeFile(this.path, bytes, { append: true });
  }
}

/** Options of {@linkcode tensorBoard}. */
export interface TensorBoardOptions {
  /**
   * `"epoch"`: write once per epoch; a number N: also write the batch loss
   * and accuracy every N batches (tags `batch_loss`, `batch_accuracy`, step =
   * batches since the start of this run). Default: `"epoch"`.
   */
  updateFreq?: "epoch" | number;
  /**
   * Write a histogram of every weight of the model every N epochs (Keras's
   * `histogram_freq`; tags such as `conv1/kernel_0` in `<logdir>/train`,
   * 30 buckets); 0 = never. Default: 0.
   */
  histogramFreq?: number;
  /**
   * Write the model's layer graph once, at the start of training (Keras's
   * `write_graph`): its Keras-format JSON, which TensorBoard's Graphs
   * dashboard draws as the conceptual graph of layers. TensorFlow's own
   * op-level graph has no TensorFlow.js counterpart and is not written.
   * Default: false.
   */
  writeGraph?: boolean;
}

/** A layer entry of a Keras-format model JSON. */
interface _LayerJson {
  inbound_nodes?: unknown[];
  [key: string]: unknown;
}

/**
 * The model's Keras-format JSON (`model.toJSON()`) with each layer's
 * `inbound_nodes` written the way current Keras writes them (`{args:
 * [{class_name: "__keras_tensor__", config: {keras_history: [layer, node,
 * tensor]}}], kwargs: {}}`), the only form TensorBoard's Graphs dashboard
 * reads edges from; TensorFlow.js writes the older `[[layer, node, tensor,
 * kwargs]]` lists. A Sequential model has no inbound nodes and is returned
 * as is.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { kerasGraphJson } from "./tensorboard.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const input = tf.input({ shape: [2] });
 * const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 1 }).apply(input) as tf.SymbolicTensor });
 * assert.ok(JSON.stringify(kerasGraphJson(model)).includes("keras_history"));
 * ```
 */
export function kerasGraphJson(model: tf.LayersModel): Record<string, unknown> {
  const json = model.toJSON(null, false) as {
    config: { layers?: _LayerJson[] };
  };
  const tensor = (ref: unknown) => {
    const [name, node, index] = ref as [string, number, number];
    return {
      class_name: "__keras_tensor__",
      config: { keras_history: [name, node, index] },
    };
  };
  for (const layer of json.config.layers ?? []) {
    if (!Array.isArray(layer.inbound_nodes)) continue;
    layer.inbound_nodes = layer.inbound_nodes.map((node) => {
      const refs = node as unknown[];
      return {
        args: [refs.length === 1 ? tensor(refs[0]) : refs.map(tensor)],
        kwargs: {},
      };
    });
  }
  return json as unknown as Record<string, unknown>;
}

/**
 * Every weight of `model` as a histogram, tagged as Keras tags them
 * (`<weight name>_0`, e.g. `conv1/kernel_0`). Reads the weights with
 * `await data()`, so it works on WebGPU.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { weightHistograms } from "./tensorboard.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
 * const names = Object.keys(await weightHistograms(model)); // ["dense_Dense1/kernel_0", ...]
 * assert.ok(names.some((name) => name.endsWith("/kernel_0")));
 * ```
 */
export async function weightHistograms(
  model: tf.LayersModel,
  options: HistogramOfOptions = {},
): Promise<Record<string, Histogram>> {
  const out: Record<string, Histogram> = {};
  for (const w of model.weights) {
    const values = await w.read().data();
    let tag = `${w.originalName.replace(/:/g, "_")}_0`;
    for (let k = 1; tag in out; k++) tag = `${w.originalName}_${k}`;
    out[tag] = histogramOf(values as Float32Array, options);
  }
  return out;
}

/** The callback of {@linkcode tensorBoard}, with the files it writes. */
export interface TensorBoardCallback extends TrainCallback {
  /** The log folder given. */
  readonly logdir: string;
  /** Event files written so far (`train`, then `validation` once it has values). */
  readonly files: string[];
}

/**
 * A training callback that writes TensorBoard event files, as Keras's
 * `TensorBoard(log_dir)` does: `<logdir>/train` gets `epoch_loss`,
 * `epoch_accuracy` and `epoch_learning_rate`, `<logdir>/validation` gets
 * `epoch_loss` and `epoch_accuracy` of the validation data, each at the
 * epoch number (1-based, as in the history). With `histogramFreq` the train
 * file also gets a histogram of every weight, with `writeGraph` the model's
 * layer graph. Open them with `tensorboard --logdir <logdir>` (from
 * `pip install tensorboard`).
 *
 * @example
 * ```ts
 * import { tensorBoard } from "./tensorboard.ts";
 * const tb = tensorBoard("runs/lenet5", { histogramFreq: 1, writeGraph: true });
 * // await fitModel(model, data, { epochs: 10, callbacks: [tb] });
 * console.log(tb.files);
 * ```
 */
export function tensorBoard(
  logdir: string,
  options: TensorBoardOptions = {},
): TensorBoardCallback {
  const updateFreq = options.updateFreq ?? "epoch";
  const histogramFreq = options.histogramFreq ?? 0;
  if (!(Number.isInteger(histogramFreq) && histogramFreq >= 0)) {
    throw new Error(
      `tensorBoard: histogramFreq must be a whole number >= 0, got ${histogramFreq}`,
    );
  }
  if (
    updateFreq !== "epoch" &&
    !(Number.isInteger(updateFreq) && updateFreq >= 1)
  ) {
    throw new Error(
      `tensorBoard: updateFreq must be "epoch" or a whole number >= 1, got ${updateFreq}`,
    );
  }
  const files: string[] = [];
  let train: EventFileWriter | null = null;
  let validation: EventFileWriter | null = null;
  let batches = 0;
  const trainWriter = async () => {
    if (!train) {
      train = await EventFileWriter.create(join(logdir, "train"));
      files.push(train.path);
    }
    return train;
  };
  return {
    logdir,
    files,
    async onTrainBegin(state: TrainState) {
      // A new run (or a resumed one) gets its own files.
      train = null;
      validation = null;
      batches = 0;
      const writer = await trainWriter();
      if (options.writeGraph) {
        writer.kerasModel(0, JSON.stringify(kerasGraphJson(state.model)));
        await writer.flush();
      }
    },
    async onBatchEnd(_batch: number, logs: BatchLogs) {
      batches++;
      if (updateFreq === "epoch" || batches % updateFreq !== 0) return;
      const values: Record<string, number> = { batch_loss: logs.loss };
      if (logs.acc !== null) values.batch_accuracy = logs.acc;
      const writer = await trainWriter();
      writer.scalars(batches, values);
    },
    async onEpochEnd(_epoch: number, record: EpochRecord, state: TrainState) {
      const values: Record<string, number> = { epoch_loss: record.loss };
      if (record.acc !== null) values.epoch_accuracy = record.acc;
      if (record.lr !== null) values.epoch_learning_rate = record.lr;
      const writer = await trainWriter();
      writer.scalars(record.epoch, values);
      if (histogramFreq > 0 && record.epoch % histogramFreq === 0) {
        writer.histograms(record.epoch, await weightHistograms(state.model));
      }
      await writer.flush();
      const val: Record<string, number> = {};
      if (record.val_loss !== null) val.epoch_loss = record.val_loss;
      if (record.val_acc !== null) val.epoch_accuracy = record.val_acc;
      if (Object.keys(val).length) {
        if (!validation) {
          validation = await EventFileWriter.create(join(logdir, "validation"));
          files.push(validation.path);
        }
        validation.scalars(record.epoch, val);
        await validation.flush();
      }
    },
    async onTrainEnd() {
      await train?.flush();
    },
  };
}
