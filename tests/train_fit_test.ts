import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import {
  createProgress,
  fitModel,
  HISTORY_COLUMNS,
  type MediaBundle,
  RunningMean,
  trainLoop,
} from "../lib/train/mod.ts";
import { sparklineSvg } from "../lib/train/progress.ts";
import {
  disposeData,
  tinyData,
  tinyModel,
  untimed,
  weightValues,
} from "./train_fixtures.ts";

Deno.test("fitModel: history DataFrame has the documented columns, one row per epoch", async () => {
  const data = tinyData();
  const model = tinyModel(tf.train.adam(0.05));
  const seen: [number, number][] = [];
  const result = await fitModel(model, data, {
    epochs: 3,
    batchSize: 16,
    validationSplit: 0.25,
    seed: 1,
    progress: "none",
    callbacks: [{ onEpochEnd: (e, r) => void seen.push([e, r.epoch]) }],
  });
  // Hooks get the 0-based index, records the 1-based number (as printed).
  assert.deepEqual(seen, [[0, 1], [1, 2], [2, 3]]);
  assert.deepEqual(result.history.columns, [...HISTORY_COLUMNS]);
  assert.equal(result.history.height, 3);
  assert.deepEqual(result.columns.epoch, [1, 2, 3]);
  assert.deepEqual(result.history.getColumn("epoch").toArray(), [1, 2, 3]);
  assert.deepEqual(
    result.history.getColumn("loss").toArray(),
    result.columns.loss,
  );
  for (const r of result.records) {
    assert.ok(
      Number.isFinite(r.loss) && r.acc !== null && r.val_loss !== null &&
        r.val_acc !== null,
    );
    assert.ok(r.lr !== null && Math.abs(r.lr - 0.05) < 1e-12);
    assert.ok(r.seconds > 0 && r.samples_per_s > 0);
  }
  assert.ok(
    result.records[2].loss < result.records[0].loss,
    "the loss goes down",
  );
  assert.equal(result.stopReason, null);
  assert.equal(result.epochsRun, 3);
  model.dispose();
  disposeData(data);
});

Deno.test("trainLoop: no validation gives null validation columns", async () => {
  const data = tinyData(64);
  const model = tinyModel();
  const result = await trainLoop(model, data, {
    optimizer: tf.train.adam(0.05),
    epochs: 2,
    batchSize: 16,
    progress: "none",
  });
  assert.deepEqual(result.columns.val_loss, [null, null]);
  assert.deepEqual(result.history.getColumn("val_acc").toArray(), [null, null]);
  assert.match(String(result.history.getColumn("val_acc").dtype), /Float64/);
  model.dispose();
  disposeData(data);
});

for (const kind of ["fitModel", "trainLoop"] as const) {
  Deno.test(`${kind}: tensor count is flat across epochs and back to baseline after`, async () => {
    const data = tinyData();
    const optimizer = tf.train.adam(0.02);
    const model = tinyModel(kind === "fitModel" ? optimizer : undefined);
    const counts: number[] = [];
    const options = {
      epochs: 4,
      batchSize: 16,
      validationSplit: 0.25,
      seed: 3,
      progress: "none" as const,
      callbacks: [{
        onEpochEnd: () => void counts.push(tf.memory().numTensors),
      }],
    };
    // Warm-up creates the optimizer's accumulators once.
    if (kind === "fitModel") {
      await fitModel(model, data, { ...options, epochs: 1, callbacks: [] });
    } else {await trainLoop(model, data, {
        ...options,
        optimizer,
        epochs: 1,
        callbacks: [],
      });}
    const before = tf.memory().numTensors;
    if (kind === "fitModel") await fitModel(model, data, options);
    else await trainLoop(model, data, { ...options, optimizer });
    assert.equal(counts.length, 4);
    assert.ok(
      counts.every((c) => c === counts[0]),
      `counts per epoch: ${counts}`,
    );
    assert.equal(
      tf.memory().numTensors,
      before,
      "no tensor left behind by the call",
    );
    model.dispose();
    disposeData(data);
  });
}

for (const kind of ["fitModel", "trainLoop"] as const) {
  Deno.test(`${kind}: same seed and initial weights repeat exactly on cpu; another seed differs`, async () => {
    const data = tinyData();
    const run = async (seed: number) => {
      const optimizer = tf.train.adam(0.03);
      const model = tinyModel(kind === "fitModel" ? optimizer : undefined);
      const options = {
        epochs: 3,
        batchSize: 16,
        validationSplit: 0.25,
        seed,
        progress: "none" as const,
      };
      const result = kind === "fitModel"
        ? await fitModel(model, data, options)
        : await trainLoop(model, data, { ...options, optimizer });
      const weights = weightValues(model);
      model.dispose();
      optimizer.dispose();
      return { records: untimed(result.records), weights };
    };
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    assert.deepEqual(a.records, b.records);
    assert.deepEqual(a.weights, b.weights);
    assert.notDeepEqual(a.records, c.records);
    disposeData(data);
  });
}

Deno.test("trainLoop: matches fitModel's loss definition (same data, one full batch, no shuffle)", async () => {
  const data = tinyData(48);
  const a = tinyModel(tf.train.sgd(0.1));
  const b = tinyModel();
  const options = {
    epochs: 2,
    batchSize: 48,
    shuffle: false,
    progress: "none" as const,
  };
  const ra = await fitModel(a, data, options);
  const rb = await trainLoop(b, data, {
    ...options,
    optimizer: tf.train.sgd(0.1),
  });
  for (let i = 0; i < 2; i++) {
    assert.ok(
      Math.abs(ra.records[i].loss - rb.records[i].loss) < 1e-5,
      `epoch ${i + 1}`,
    );
    assert.ok(Math.abs(ra.records[i].acc! - rb.records[i].acc!) < 1e-6);
  }
  a.dispose();
  b.dispose();
  disposeData(data);
});

Deno.test("trainLoop: clear errors for missing optimizer and mismatched data", async () => {
  const data = tinyData(16);
  const model = tinyModel();
  await assert.rejects(
    () => trainLoop(model, data, { progress: "none" }),
    /no optimizer/,
  );
  const bad = { xs: data.xs, ys: tf.zeros([5], "int32") };
  await assert.rejects(
    () =>
      trainLoop(model, bad, { optimizer: tf.train.sgd(0.1), progress: "none" }),
    /16 samples but ys has 5/,
  );
  await assert.rejects(
    () => fitModel(model, data, { progress: "none" }),
    /not compiled/,
  );
  bad.ys.dispose();
  model.dispose();
  disposeData(data);
});

Deno.test("RunningMean: weighted mean, reset", () => {
  const m = new RunningMean();
  assert.ok(Number.isNaN(m.result()));
  m.update(1, 1);
  m.update(4, 3);
  assert.equal(m.result(), 13 / 4);
  assert.equal(m.count, 4);
  m.reset();
  assert.ok(Number.isNaN(m.result()));
});

Deno.test("progress: non-TTY lines are plain periodic lines with ETA, loss, acc, samples/s", async () => {
  const out: string[] = [];
  const data = tinyData(64);
  const model = tinyModel();
  await trainLoop(model, data, {
    optimizer: tf.train.adam(0.05),
    epochs: 2,
    batchSize: 8,
    validationSplit: 0.25,
    progress: createProgress({
      mode: "lines",
      write: (t) => out.push(t),
      intervalSeconds: 0,
    }),
  });
  const text = out.join("");
  assert.ok(
    !text.includes("\r") && !text.includes("\x1b"),
    "no control characters",
  );
  const lines = text.trimEnd().split("\n");
  const periodic = lines.filter((l) => l.includes("ETA"));
  assert.ok(periodic.length >= 2, `periodic lines: ${lines.join(" | ")}`);
  assert.match(
    periodic[0],
    /^Epoch 1\/2 \d+\/48 \(\d+%\) ETA \S+ loss \d\.\d{3,} acc \d\.\d{3,} [\d,]+ samples\/s$/,
  );
  const ends = lines.filter((l) => / - val_acc /.test(l));
  assert.equal(ends.length, 2);
  assert.match(
    ends[1],
    /^Epoch 2\/2 - \S+ - loss \d\.\d{3,} - acc \d\.\d{3,} - val_loss .* - lr 0\.05 - [\d,]+ samples\/s$/,
  );
  model.dispose();
  disposeData(data);
});

Deno.test("progress: terminal bar redraws one line with \\r", async () => {
  const out: string[] = [];
  const data = tinyData(32);
  const model = tinyModel();
  await trainLoop(model, data, {
    optimizer: tf.train.adam(0.05),
    epochs: 1,
    batchSize: 8,
    progress: createProgress({
      mode: "bar",
      write: (t) => out.push(t),
      refreshSeconds: 0,
    }),
  });
  const text = out.join("");
  assert.match(text, /\rEpoch 1\/1 \[[=>.]{20}\] 8\/32 .*ETA/);
  assert.equal(
    text.split("\n").length - 1,
    1,
    "one newline: at the end of the epoch",
  );
  model.dispose();
  disposeData(data);
});

Deno.test("progress: Jupyter mode updates ONE display in place, with a chart", async () => {
  const calls: { bundle: MediaBundle; options: Record<string, unknown> }[] = [];
  const display = (bundle: unknown, options: Record<string, unknown>) => {
    calls.push({ bundle: bundle as MediaBundle, options });
    return Promise.resolve();
  };
  const rendered: number[] = [];
  const data = tinyData(32);
  const model = tinyModel();
  await trainLoop(model, data, {
    optimizer: tf.train.adam(0.05),
    epochs: 2,
    batchSize: 8,
    progress: createProgress({
      mode: "jupyter",
      display,
      refreshSeconds: 0,
      render: (rows) => {
        rendered.push(rows.length);
        return {
          [Symbol.for("Jupyter.display")]: () => ({
            "image/svg+xml": "<svg>chart</svg>",
          }),
        };
      },
    }),
  });
  assert.ok(calls.length > 3);
  const ids = new Set(calls.map((c) => c.options.display_id));
  assert.equal(ids.size, 1);
  assert.equal(calls[0].options.update, false);
  assert.ok(
    calls.slice(1).every((c) =>
      c.options.update === true && c.options.raw === true
    ),
  );
  const last = calls[calls.length - 1].bundle;
  assert.match(String(last["text/html"]), /<svg>chart<\/svg>/);
  assert.match(String(last["text/plain"]), /Epoch 2\/2 - .*loss/);
  assert.deepEqual(rendered, [0, 1, 2]);
  model.dispose();
  disposeData(data);
});

Deno.test("sparklineSvg: polylines for loss and accuracy, no NaN coordinates", () => {
  const rows = [1, 2, 3].map((epoch) => ({
    epoch,
    loss: 1 / epoch,
    acc: 1 - 1 / (epoch + 1),
    val_loss: epoch === 2 ? NaN : 1.1 / epoch,
    val_acc: null,
    lr: 0.01,
    seconds: 1,
    samples_per_s: 10,
  }));
  const svg = sparklineSvg(rows);
  assert.ok(svg.startsWith("<svg xmlns="));
  assert.equal((svg.match(/<polyline/g) ?? []).length, 3);
  assert.ok(!svg.includes("NaN"));
});
