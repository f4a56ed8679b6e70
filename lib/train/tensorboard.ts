/**
 * TensorBoard logs without tfjs-node: `events.out.tfevents.*` files in
 * TensorFlow's own format, written in plain TypeScript.
 *
 * A file is a sequence of TFRecords (little-endian `uint64` length, masked
 * CRC32C of those 8 bytes, the data, masked CRC32C of the data); each record
 * holds one `tensorflow.Event` protobuf. The first event carries
 * `file_version: "brain.Event:2"`, the others a `Summary` of scalar
 * (`simple_value`) values. {@linkcode tensorBoard} lays them out as Keras's
 * TensorBoard callback does (`<dir>/train` and `<dir>/validation`, tags
 * `epoch_loss`, `epoch_accuracy`, `epoch_learning_rate`), so TensorBoard
 * overlays training and validation curves; with `{ updateFreq: N }` it also
 * writes the batch loss every N batches. `deno task train ... --logdir DIR`
 * does the same from the command line. View the logs with TensorBoard from
 * Python: `pip install tensorboard && tensorboard --logdir DIR`.
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
import type { BatchLogs, EpochRecord, TrainCallback } from "./types.ts";

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
}

/**
 * Encodes an event as `tensorflow.Event` protobuf bytes (fields: 1
 * wall_time, 2 step, 3 file_version, 5 summary; `Summary.value` 1 with
 * `tag` 1 and `simple_value` 2).
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
  if (event.scalars) {
    const summary = new ProtoWriter();
    for (const [tag, value] of Object.entries(event.scalars)) {
      summary.bytes(
        1,
        new ProtoWriter().string(1, tag).float(2, value).finish(),
      );
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

/** Appends scalar events to one `events.out.tfevents.*` file. */
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
   * const writer = await EventFileWriter.create("runs/demo");
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
 * epoch number (1-based, as in the history). Open them with
 * `tensorboard --logdir <logdir>` (from `pip install tensorboard`).
 *
 * @example
 * ```ts
 * import { tensorBoard } from "./tensorboard.ts";
 * const tb = tensorBoard("runs/lenet5", { updateFreq: 100 });
 * // await fitModel(model, data, { epochs: 10, callbacks: [tb] });
 * console.log(tb.files);
 * ```
 */
export function tensorBoard(
  logdir: string,
  options: TensorBoardOptions = {},
): TensorBoardCallback {
  const updateFreq = options.updateFreq ?? "epoch";
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
    async onTrainBegin() {
      // A new run (or a resumed one) gets its own files.
      train = null;
      validation = null;
      batches = 0;
      await trainWriter();
    },
    async onBatchEnd(_batch: number, logs: BatchLogs) {
      batches++;
      if (updateFreq === "epoch" || batches % updateFreq !== 0) return;
      const values: Record<string, number> = { batch_loss: logs.loss };
      if (logs.acc !== null) values.batch_accuracy = logs.acc;
      const writer = await trainWriter();
      writer.scalars(batches, values);
    },
    async onEpochEnd(_epoch: number, record: EpochRecord) {
      const values: Record<string, number> = { epoch_loss: record.loss };
      if (record.acc !== null) values.epoch_accuracy = record.acc;
      if (record.lr !== null) values.epoch_learning_rate = record.lr;
      const writer = await trainWriter();
      writer.scalars(record.epoch, values);
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
