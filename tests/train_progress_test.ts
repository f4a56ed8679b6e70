/**
 * The progress display keeps the whole run: one compact line per epoch for
 * every epoch (loss and accuracy to 4 significant digits, the epoch's time) in
 * what a notebook or a log saves, whatever the epoch count; only the
 * current-batch line is redrawn. Downloads share the same terminal system.
 */
import assert from "node:assert/strict";
import {
  createProgress,
  type EpochRecord,
  formatEpoch,
  type MediaBundle,
  type ProgressReporter,
} from "../lib/train/mod.ts";
import { downloadProgress, StatusLine } from "../lib/_progress.ts";

function record(epoch: number): EpochRecord {
  return {
    epoch,
    loss: 0.019764321 / epoch,
    acc: 0.99403 - 0.1 / epoch,
    val_loss: 0.0375 + epoch / 1000,
    val_acc: 0.98851,
    lr: 0.01,
    seconds: 9.07,
    samples_per_s: 6641.2,
  };
}

/** Drives a reporter through `epochs` epochs of three batches each. */
async function drive(
  reporter: ProgressReporter,
  epochs: number,
): Promise<EpochRecord[]> {
  await reporter.start({
    epochs,
    initialEpoch: 0,
    samples: 30,
    batchSize: 10,
    history: [],
  });
  const history: EpochRecord[] = [];
  for (let e = 0; e < epochs; e++) {
    await reporter.epochBegin(e);
    for (let b = 0; b < 3; b++) await reporter.batch(10, 0.5 / (e + 1), 0.9);
    history.push(record(e + 1));
    await reporter.epochEnd(history[e], history);
  }
  await reporter.end(history, "early stopping: val_loss did not improve");
  return history;
}

/** Outputs as a notebook saves them: each display id's last bundle, in order. */
function jupyterOutputs() {
  const outputs = new Map<string, MediaBundle>();
  let calls = 0;
  const display = (bundle: unknown, options: { display_id?: string }) => {
    calls++;
    const id = options.display_id ?? `anonymous-${calls}`;
    outputs.set(id, bundle as MediaBundle);
    return Promise.resolve();
  };
  return { outputs, display };
}

function assertWholeRun(text: string, epochs: number): void {
  const lines = text.split("\n").filter((l) => l.startsWith("Epoch "));
  assert.deepEqual(
    lines.map((l) => Number(/^Epoch (\d+)\//.exec(l)![1])),
    Array.from({ length: epochs }, (_, i) => i + 1),
    "one line per epoch, every epoch, in order",
  );
  for (const line of lines) {
    assert.match(line, new RegExp(`^Epoch \\d+/${epochs} - 9\\.1s - `));
    assert.ok(line.length <= 120, `not compact: ${line}`);
  }
}

Deno.test("formatEpoch: loss and accuracy to 4 significant digits, time, compact", () => {
  assert.equal(
    formatEpoch(record(1), 80),
    "Epoch 1/80 - 9.1s - loss 0.01976 - acc 0.8940 - val_loss 0.03850 - " +
      "val_acc 0.9885 - lr 0.01 - 6,641 samples/s",
  );
  assert.equal(
    formatEpoch({
      ...record(3),
      loss: 2.302585,
      acc: 1,
      val_loss: null,
      val_acc: null,
      lr: null,
    }, 3),
    "Epoch 3/3 - 9.1s - loss 2.303 - acc 1.000 - 6,641 samples/s",
  );
});

for (const epochs of [3, 23, 80]) {
  Deno.test(`progress (jupyter): the saved outputs hold all ${epochs} epochs, none longer than 60 lines`, async () => {
    const { outputs, display } = jupyterOutputs();
    await drive(
      createProgress({ mode: "jupyter", display, refreshSeconds: 0 }),
      epochs,
    );
    const texts = [...outputs.values()].map((b) => String(b["text/plain"]));
    assertWholeRun(texts.join("\n"), epochs);
    for (const text of texts) {
      assert.ok(
        text.split("\n").length <= 60,
        `${text.split("\n").length} lines`,
      );
    }
    assert.equal(texts.length, Math.ceil(epochs / 50));
    assert.match(texts.at(-1)!, /Stopped: early stopping/);
    // The batch line was redrawn while running, but is not in what is saved.
    assert.doesNotMatch(texts.join("\n"), /ETA/);
    // The chart goes with the last output only, saved as a PNG image shown
    // at its own size (untrusted notebooks strip inline SVG).
    const htmls = [...outputs.values()].map((b) => String(b["text/html"]));
    assert.match(
      htmls.at(-1)!,
      /<img src="data:image\/png;base64,iVBOR[^"]+" width="560" height="170" alt="Training curves/,
    );
    for (const html of htmls) assert.doesNotMatch(html, /<svg/);
  });
}

Deno.test("progress (jupyter): linesPerOutput splits a long run; bad values are refused", async () => {
  const { outputs, display } = jupyterOutputs();
  await drive(
    createProgress({
      mode: "jupyter",
      display,
      refreshSeconds: 0,
      linesPerOutput: 4,
    }),
    10,
  );
  const texts = [...outputs.values()].map((b) => String(b["text/plain"]));
  assert.equal(texts.length, 3);
  assert.match(texts[0], /\(continued below\)$/);
  assertWholeRun(texts.join("\n"), 10);
  assert.throws(
    () => createProgress({ mode: "jupyter", display, linesPerOutput: 0 }),
    /linesPerOutput must be an integer >= 1, got 0/,
  );
});

Deno.test("progress (lines, bar): the log holds every epoch line; the bar redraws only the batch line", async () => {
  const lines: string[] = [];
  await drive(
    createProgress({ mode: "lines", write: (t) => lines.push(t) }),
    60,
  );
  assertWholeRun(lines.join(""), 60);

  const bar: string[] = [];
  await drive(
    createProgress({
      mode: "bar",
      write: (t) => bar.push(t),
      refreshSeconds: 0,
    }),
    60,
  );
  const kept = bar.join("").split("\n").map((l) => l.split("\r").at(-1)!);
  assertWholeRun(kept.join("\n"), 60);
  assert.ok(bar.some((t) => t.startsWith("\r") && t.includes("ETA")));
});

Deno.test("downloads share the progress system: redraw on a terminal, tenths in a log", () => {
  const p = (received: number, done = false) => ({
    file: "train.gz",
    url: "https://example.org/train.gz",
    received,
    total: 10e6,
    done,
  });
  const log: string[] = [];
  const plain = downloadProgress({
    terminal: false,
    write: (t) => log.push(t),
  });
  for (const r of [0, 0.5e6, 1.2e6, 1.3e6, 5e6, 10e6]) plain(p(r, r === 10e6));
  assert.equal(log[0], "downloading https://example.org/train.gz\n");
  assert.deepEqual(
    log.slice(1).map((l) => /: (\d+)%/.exec(l)![1]),
    ["12", "50", "100"],
  );

  const tty: string[] = [];
  const term = downloadProgress({
    terminal: true,
    write: (t) => tty.push(t),
    refreshSeconds: 0,
  });
  term(p(1e6));
  term(p(10e6, true));
  assert.ok(tty[0].startsWith("\rtrain.gz: 10% 1.0/10.0 MB "), tty[0]);
  assert.ok(tty[0].endsWith("\x1b[K"), "the redrawn line clears the rest");
  assert.ok(tty[1].startsWith("\rtrain.gz: 100% 10.0/10.0 MB "), tty[1]);
  assert.ok(tty[1].endsWith("\x1b[K\n"), "the last line is kept");

  const throttled: string[] = [];
  const line = new StatusLine({
    terminal: true,
    write: (t) => throttled.push(t),
    refreshSeconds: 60,
  });
  line.redraw("a");
  line.redraw("b");
  line.commit("c");
  assert.deepEqual(throttled, ["\ra\x1b[K", "\rc\x1b[K\n"]);
});
