// TensorBoard event files decoded back with a reader written here from the
// format's description (TFRecord framing, tensorflow.Event protobuf), with
// its own bit-by-bit CRC-32C, so the writer is not checked against itself.
import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "../lib/tf.ts";
import {
  fitModel,
  histogramOf,
  kerasGraphJson,
  tensorBoard,
  trainLoop,
} from "../lib/train/mod.ts";
import { crc32c } from "../lib/train/tensorboard.ts";
import * as libRoot from "../lib/mod.ts";
import { disposeData, tinyData, tinyModel } from "./train_fixtures.ts";

function slowCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) {
      crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
    }
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function unmask(masked: number): number {
  const rot = (masked - 0xa282ead8) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

interface DecodedHistogram {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}

interface DecodedEvent {
  wallTime?: number;
  step: number;
  fileVersion?: string;
  scalars: Record<string, number>;
  histograms: Record<string, DecodedHistogram>;
  /** tag -> { plugin name, the tensor's string value } */
  tensors: Record<string, { plugin: string; dtype: number; text: string }>;
}

function f64(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset + at).getFloat64(0, true);
}

function packedDoubles(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 8) out.push(f64(b, i));
  return out;
}

function decodeHistogram(b: Uint8Array): DecodedHistogram {
  const h: DecodedHistogram = {
    min: NaN,
    max: NaN,
    num: NaN,
    sum: NaN,
    sumSquares: NaN,
    bucketLimit: [],
    bucket: [],
  };
  fields(b, (n, wire, at, end) => {
    const keys = ["", "min", "max", "num", "sum", "sumSquares"] as const;
    if (n >= 1 && n <= 5 && wire === 1) {
      h[keys[n] as "min"] = f64(b, at.i);
    } else if (n === 6 && wire === 2) {
      h.bucketLimit = packedDoubles(b.subarray(at.i, end));
    } else if (n === 7 && wire === 2) {
      h.bucket = packedDoubles(b.subarray(at.i, end));
    } else throw new Error(`unexpected HistogramProto field ${n}`);
  });
  return h;
}

function readVarint(b: Uint8Array, at: { i: number }): bigint {
  let value = 0n;
  let shift = 0n;
  while (true) {
    const byte = b[at.i++];
    value |= BigInt(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return value;
    shift += 7n;
  }
}

/** Calls `field(number, wireType, payload)` for every field of a message. */
function fields(
  b: Uint8Array,
  field: (n: number, wire: number, at: { i: number }, end: number) => void,
): void {
  const at = { i: 0 };
  while (at.i < b.length) {
    const key = Number(readVarint(b, at));
    const n = key >> 3;
    const wire = key & 7;
    const start = at.i;
    let end: number;
    if (wire === 0) {
      readVarint(b, at);
      end = at.i;
      at.i = start;
    } else if (wire === 1) end = start + 8;
    else if (wire === 5) end = start + 4;
    else if (wire === 2) {
      const len = Number(readVarint(b, at));
      end = at.i + len;
    } else throw new Error(`unexpected wire type ${wire}`);
    field(n, wire, at, end);
    at.i = end;
  }
}

function decodeEvent(b: Uint8Array): DecodedEvent {
  const event: DecodedEvent = {
    step: 0,
    scalars: {},
    histograms: {},
    tensors: {},
  };
  const view = (at: number) => new DataView(b.buffer, b.byteOffset + at);
  fields(b, (n, wire, at, end) => {
    if (n === 1 && wire === 1) event.wallTime = view(at.i).getFloat64(0, true);
    else if (n === 2 && wire === 0) event.step = Number(readVarint(b, at));
    else if (n === 3 && wire === 2) {
      event.fileVersion = new TextDecoder().decode(b.subarray(at.i, end));
    } else if (n === 5 && wire === 2) {
      fields(b.subarray(at.i, end), (vn, vwire, vat, vend) => {
        assert.equal(vn, 1, "Summary holds only `value` fields");
        assert.equal(vwire, 2);
        const value = b.subarray(at.i, end).subarray(vat.i, vend);
        let tag = "";
        let simple: number | undefined;
        let histo: DecodedHistogram | undefined;
        let plugin = "";
        let tensor: { dtype: number; text: string } | undefined;
        const text = (m: Uint8Array) => new TextDecoder().decode(m);
        fields(value, (fn, fwire, fat, fend) => {
          const inner = value.subarray(fat.i, fend);
          if (fn === 1) {
            tag = text(inner);
          } else if (fn === 2 && fwire === 5) {
            simple = new DataView(value.buffer, value.byteOffset + fat.i)
              .getFloat32(0, true);
          } else if (fn === 5 && fwire === 2) {
            histo = decodeHistogram(inner);
          } else if (fn === 9 && fwire === 2) {
            // SummaryMetadata.plugin_data (1) -> PluginData.plugin_name (1)
            fields(inner, (mn, _mw, mat, mend) => {
              if (mn !== 1) return;
              fields(inner.subarray(mat.i, mend), (pn, _pw, pat, pend) => {
                if (pn === 1) {
                  plugin = text(
                    inner.subarray(mat.i, mend).subarray(pat.i, pend),
                  );
                }
              });
            });
          } else if (fn === 8 && fwire === 2) {
            // TensorProto: dtype (1), tensor_shape (2), string_val (8)
            tensor = { dtype: -1, text: "" };
            fields(inner, (tn, _tw, tat, tend) => {
              if (tn === 1) tensor!.dtype = Number(readVarint(inner, tat));
              else if (tn === 8) {
                tensor!.text = text(inner.subarray(tat.i, tend));
              }
            });
          } else throw new Error(`unexpected Summary.Value field ${fn}`);
        });
        if (simple !== undefined) event.scalars[tag] = simple;
        if (histo) event.histograms[tag] = histo;
        if (tensor) event.tensors[tag] = { plugin, ...tensor };
      });
    } else throw new Error(`unexpected Event field ${n} (wire ${wire})`);
  });
  return event;
}

/** Reads every record, checking both CRCs of each; returns the events. */
async function readEventFile(path: string): Promise<DecodedEvent[]> {
  const bytes = await Deno.readFile(path);
  const view = new DataView(bytes.buffer);
  const events: DecodedEvent[] = [];
  let at = 0;
  while (at < bytes.length) {
    assert.ok(at + 12 <= bytes.length, `truncated header at ${at}`);
    const length = Number(view.getBigUint64(at, true));
    assert.equal(
      unmask(view.getUint32(at + 8, true)),
      slowCrc32c(bytes.subarray(at, at + 8)),
      `length CRC of the record at ${at}`,
    );
    const data = bytes.subarray(at + 12, at + 12 + length);
    assert.equal(data.length, length, `truncated record at ${at}`);
    assert.equal(
      unmask(view.getUint32(at + 12 + length, true)),
      slowCrc32c(data),
      `data CRC of the record at ${at}`,
    );
    events.push(decodeEvent(data));
    at += 12 + length + 4;
  }
  return events;
}

async function eventFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort().map((n) => join(dir, n));
}

const f32 = (x: number) => Math.fround(x);

Deno.test("crc32c: the standard check value of the Castagnoli polynomial", () => {
  const check = new TextEncoder().encode("123456789");
  assert.equal(crc32c(check), 0xe3069283);
  assert.equal(slowCrc32c(check), 0xe3069283);
});

Deno.test("tensorBoard: event files with valid framing, file version first, every epoch's scalars", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tb-" });
  const data = tinyData(64);
  // SGD keeps no slot tensors, so the count must not move at all.
  const model = tinyModel(tf.train.sgd(0.1));
  const before = tf.memory().numTensors;
  try {
    const tb = tensorBoard(dir, { updateFreq: 2 });
    const result = await fitModel(model, data, {
      epochs: 3,
      batchSize: 16,
      validationSplit: 0.25,
      seed: 1,
      progress: "none",
      callbacks: [tb],
    });
    assert.equal(tf.memory().numTensors, before);
    const trainFiles = await eventFiles(join(dir, "train"));
    const valFiles = await eventFiles(join(dir, "validation"));
    assert.equal(trainFiles.length, 1);
    assert.equal(valFiles.length, 1);
    assert.deepEqual([...tb.files].sort(), [...trainFiles, ...valFiles].sort());
    for (const file of [...trainFiles, ...valFiles]) {
      assert.match(
        file,
        new RegExp(
          `events\\.out\\.tfevents\\.\\d{10}\\..+\\.${Deno.pid}\\.\\d+$`,
        ),
      );
    }

    const train = await readEventFile(trainFiles[0]);
    assert.equal(train[0].fileVersion, "brain.Event:2");
    assert.deepEqual(train[0].scalars, {});
    const now = Date.now() / 1000;
    for (const e of train) {
      assert.ok(e.wallTime! > now - 600 && e.wallTime! <= now + 1);
    }
    const epochEvents = train.filter((e) => "epoch_loss" in e.scalars);
    assert.deepEqual(
      epochEvents.map((e) => ({ step: e.step, ...e.scalars })),
      result.records.map((r) => ({
        step: r.epoch,
        epoch_loss: f32(r.loss),
        epoch_accuracy: f32(r.acc!),
        epoch_learning_rate: f32(r.lr!),
      })),
    );
    // 48 training samples / 16 = 3 batches per epoch, 9 in all; every 2nd.
    const batchEvents = train.filter((e) => "batch_loss" in e.scalars);
    assert.deepEqual(batchEvents.map((e) => e.step), [2, 4, 6, 8]);
    for (const e of batchEvents) {
      assert.ok(Number.isFinite(e.scalars.batch_loss));
      assert.ok(e.scalars.batch_accuracy >= 0 && e.scalars.batch_accuracy <= 1);
    }

    const validation = await readEventFile(valFiles[0]);
    assert.equal(validation[0].fileVersion, "brain.Event:2");
    assert.deepEqual(
      validation.slice(1).map((e) => ({ step: e.step, ...e.scalars })),
      result.records.map((r) => ({
        step: r.epoch,
        epoch_loss: f32(r.val_loss!),
        epoch_accuracy: f32(r.val_acc!),
      })),
    );

    // A flipped byte is caught by the data CRC: the check can fail.
    const bytes = await Deno.readFile(trainFiles[0]);
    bytes[bytes.length - 6] ^= 0x40;
    const broken = join(dir, "broken");
    await Deno.writeFile(broken, bytes);
    await assert.rejects(() => readEventFile(broken), /data CRC/);
  } finally {
    model.dispose();
    disposeData(data);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tensorBoard: works with trainLoop, writes no validation file without validation, is exported from lib/mod.ts", async () => {
  assert.equal(libRoot.tensorBoard, tensorBoard);
  assert.throws(() => tensorBoard("x", { updateFreq: 0 }), /updateFreq/);
  const dir = await Deno.makeTempDir({ prefix: "tb-loop-" });
  const data = tinyData(32);
  const model = tinyModel();
  try {
    const result = await trainLoop(model, data, {
      optimizer: tf.train.sgd(0.1),
      epochs: 2,
      batchSize: 16,
      seed: 3,
      progress: "none",
      callbacks: [tensorBoard(dir)],
    });
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["train"]);
    const [file] = await eventFiles(join(dir, "train"));
    const events = await readEventFile(file);
    assert.deepEqual(
      events.slice(1).map((e) => [e.step, e.scalars.epoch_loss]),
      result.records.map((r) => [r.epoch, f32(r.loss)]),
    );
    assert.equal(events.slice(1)[0].scalars.epoch_learning_rate, f32(0.1));
  } finally {
    model.dispose();
    disposeData(data);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tensorBoard: histogramFreq writes a histogram of every weight each epoch, writeGraph the model's layer graph", async () => {
  assert.throws(() => tensorBoard("x", { histogramFreq: -1 }), /histogramFreq/);
  const dir = await Deno.makeTempDir({ prefix: "tb-histo-" });
  const data = tinyData(32);
  const model = tinyModel(tf.train.sgd(0.1));
  const before = tf.memory().numTensors;
  try {
    const result = await fitModel(model, data, {
      epochs: 3,
      batchSize: 16,
      seed: 2,
      progress: "none",
      callbacks: [tensorBoard(dir, { histogramFreq: 1, writeGraph: true })],
    });
    assert.equal(tf.memory().numTensors, before, "the callback leaked tensors");
    const [file] = await eventFiles(join(dir, "train"));
    const events = await readEventFile(file);

    // The graph: one `keras` string tensor of the graph_keras_model plugin,
    // holding the model's Keras-format JSON, before the first epoch.
    const graphs = events.filter((e) => "keras" in e.tensors);
    assert.equal(graphs.length, 1);
    assert.equal(events.indexOf(graphs[0]), 1, "the graph comes first");
    const graph = graphs[0].tensors.keras;
    assert.equal(graph.plugin, "graph_keras_model");
    assert.equal(graph.dtype, 7, "DT_STRING");
    const json = JSON.parse(graph.text) as {
      config: { layers: { class_name: string }[] };
    };
    assert.deepEqual(json, kerasGraphJson(model));
    assert.deepEqual(
      json.config.layers.map((l) => l.class_name),
      model.layers.map((l) => l.getClassName()),
    );

    // One histogram event per epoch, one histogram per weight.
    const histos = events.filter((e) => Object.keys(e.histograms).length > 0);
    assert.deepEqual(
      histos.map((e) => e.step),
      result.records.map((r) => r.epoch),
    );
    const tags = model.weights.map((w) => `${w.originalName}_0`);
    for (const e of histos) assert.deepEqual(Object.keys(e.histograms), tags);
    // The last epoch's histograms describe the weights the model ends with.
    const last = histos.at(-1)!;
    for (const [i, w] of model.weights.entries()) {
      const values = Array.from(await w.read().data());
      const h = last.histograms[tags[i]];
      assert.equal(h.num, values.length);
      assert.equal(h.min, Math.min(...values));
      assert.equal(h.max, Math.max(...values));
      const sum = values.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(h.sum - sum) < 1e-9 * values.length, `${tags[i]} sum`);
      assert.equal(h.bucket.reduce((a, b) => a + b, 0), values.length);
      assert.equal(h.bucket.length, h.bucketLimit.length);
      assert.equal(h.bucketLimit.at(-1), h.max);
      // Each value lies in its bucket: counts recomputed from the limits.
      const counts = h.bucket.map(() => 0);
      for (const v of values) {
        const k = h.bucketLimit.findIndex((limit) => v < limit);
        counts[k === -1 ? counts.length - 1 : k]++;
      }
      assert.deepEqual(counts, h.bucket, `${tags[i]} buckets`);
    }
    // Weights moved between epochs, so the histograms differ.
    assert.notDeepEqual(histos[0].histograms, last.histograms);
  } finally {
    model.dispose();
    disposeData(data);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("histogramOf: equal-width buckets, one bucket for constant values, non-finite values left out", () => {
  const h = histogramOf([0, 1, 1, 2, NaN, Infinity], { buckets: 4 });
  assert.deepEqual(
    { ...h },
    {
      min: 0,
      max: 2,
      num: 4,
      sum: 4,
      sumSquares: 6,
      bucketLimit: [0.5, 1, 1.5, 2],
      bucket: [1, 0, 2, 1],
    },
  );
  assert.deepEqual(histogramOf([3, 3]).bucket, [2]);
  assert.deepEqual(histogramOf([]).num, 0);
  assert.throws(() => histogramOf([1], { buckets: 0 }), /buckets/);
});

Deno.test("kerasGraphJson: a branching model's edges in the form TensorBoard's Graphs dashboard reads", () => {
  // Checked once by hand with TensorBoard 2.21's keras_util: this JSON gave
  // the nodes input1 -> a, input1 -> b, (a, b) -> sum.
  const input = tf.input({ shape: [4] });
  const a = tf.layers.dense({ name: "a", units: 3 }).apply(input);
  const b = tf.layers.dense({ name: "b", units: 3 }).apply(input);
  const out = tf.layers.add({ name: "sum" }).apply([
    a as tf.SymbolicTensor,
    b as tf.SymbolicTensor,
  ]) as tf.SymbolicTensor;
  const model = tf.model({ name: "branchy", inputs: input, outputs: out });
  const json = kerasGraphJson(model) as {
    config: { layers: { name: string; inbound_nodes: unknown[] }[] };
  };
  const history = (ref: unknown) =>
    (ref as { config: { keras_history: unknown[] } }).config.keras_history;
  const edges = Object.fromEntries(json.config.layers.map((l) => [
    l.name,
    l.inbound_nodes.flatMap((node) =>
      (node as { args: unknown[] }).args.flatMap((arg) =>
        Array.isArray(arg) ? arg.map(history) : [history(arg)]
      )
    ),
  ]));
  assert.deepEqual(edges, {
    input1: [],
    a: [["input1", 0, 0]],
    b: [["input1", 0, 0]],
    sum: [["a", 0, 0], ["b", 0, 0]],
  });
  model.dispose();
});
