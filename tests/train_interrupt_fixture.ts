/**
 * Child process of tests/train_interrupt_test.ts (`deno test` catches
 * SIGINT itself, so the signal is sent to this plain `deno run` process):
 * `fitModel` / `trainLoop` interrupted at epoch 2, batch 3 (`fitModel`,
 * `trainLoop`) or while their batches only await promises
 * (`fitModel-no-yields`, `trainLoop-no-yields`), a loop using
 * `interruptible` (`loop`, and `loop-no-yields` with `shouldStop()` and steps
 * that only await promises), the stimulus searches (`stimulus`, `filters`), or
 * what `interruptible` says under a blocked SIGINT (`blocked`). Prints one
 * JSON line with what happened.
 *
 * @module
 */
import * as tf from "../lib/tf.ts";
import {
  fitModel,
  interruptible,
  type TrainCallback,
  trainLoop,
} from "../lib/train/mod.ts";
import { filterStimuli, maxStimulus } from "../lib/plot/mod.ts";
import {
  disposeData,
  tinyData,
  tinyModel,
  weightValues,
} from "./train_fixtures.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lines: string[] = [];
console.error = (...args: unknown[]) => void lines.push(args.join(" "));

/** Sends SIGINT to this process after `batch` of `epoch` (0-based). */
function interruptAt(epoch: number, batch: number): TrainCallback {
  let current = -1;
  return {
    onEpochBegin: (e) => void (current = e),
    onBatchEnd: async (b) => {
      if (current !== epoch || b !== batch) return;
      Deno.kill(Deno.pid, "SIGINT");
      // Let the signal arrive before the batch hook returns.
      await sleep(200);
    },
  };
}

/**
 * Sends SIGINT with a listener of our own in place and says how often it
 * ran: 1 when the work's listener is gone (nobody else caught it).
 */
async function ownListenerCalls(): Promise<number> {
  let calls = 0;
  const own = () => void calls++;
  Deno.addSignalListener("SIGINT", own);
  Deno.kill(Deno.pid, "SIGINT");
  await sleep(200);
  Deno.removeSignalListener("SIGINT", own);
  return calls;
}

async function training(front: "fitModel" | "trainLoop") {
  const data = tinyData(96);
  const model = tinyModel(
    front === "fitModel" ? tf.train.sgd(0.2) : undefined,
  );
  let afterEpoch1: Float32Array[] = [];
  const keep: TrainCallback = {
    onEpochEnd: (e, _r, state) => {
      if (e === 0) afterEpoch1 = weightValues(state.model);
    },
  };
  const options = {
    epochs: 50,
    batchSize: 16,
    seed: 1,
    progress: "none" as const,
    callbacks: [keep, interruptAt(1, 2)],
  };
  const result = front === "fitModel"
    ? await fitModel(model, data, options)
    : await trainLoop(model, data, {
      ...options,
      optimizer: tf.train.sgd(0.2),
    });
  const now = weightValues(model);
  const trainLines = lines.splice(0);
  // The listener is gone: a new interrupt reaches only this one.
  const after = await ownListenerCalls();
  const report = {
    epochsRun: result.epochsRun,
    records: result.records.length,
    stopReason: result.stopReason,
    weightsChanged: now.some((w, i) =>
      w.some((v, j) => v !== afterEpoch1[i][j])
    ),
    lines: trainLines,
    linesAfter: lines.splice(0),
    ownListenerCalls: after,
  };
  model.dispose();
  disposeData(data);
  return report;
}

/**
 * SIGINT while training awaits only promises: the signal is sent in a batch
 * hook that returns at once (no timer of its own), as when it comes from
 * outside, e.g. Jupyter's stop button. A guard stops training after 20 s.
 */
async function withoutOwnYields(front: "fitModel" | "trainLoop") {
  const data = tinyData(96);
  const model = tinyModel(
    front === "fitModel" ? tf.train.sgd(0.2) : undefined,
  );
  let killedAt = 0;
  let current = -1;
  const callbacks: TrainCallback[] = [{
    onEpochBegin: (e) => void (current = e),
    onBatchEnd: (b, _logs, state) => {
      if (!killedAt && current === 1 && b === 2) {
        killedAt = performance.now();
        Deno.kill(Deno.pid, "SIGINT");
      }
      if (killedAt && performance.now() - killedAt > 20_000) {
        state.stopTraining = true;
      }
    },
  }];
  const options = {
    epochs: 1_000_000,
    batchSize: 16,
    seed: 1,
    progress: "none" as const,
    callbacks,
  };
  const result = front === "fitModel"
    // No tfjs nextFrame either: only the library's own timer turns remain.
    ? await fitModel(model, data, { ...options, yieldEvery: "never" })
    : await trainLoop(model, data, {
      ...options,
      optimizer: tf.train.sgd(0.2),
    });
  const report = {
    stopReason: result.stopReason,
    secondsAfterSignal: (performance.now() - killedAt) / 1000,
    lines: lines.splice(0),
  };
  model.dispose();
  disposeData(data);
  return report;
}

async function loop() {
  let called = 0;
  let steps = 0;
  let aborted = false;
  {
    using stop = interruptible({
      what: "my loop",
      log: (l) => lines.push(l),
      onInterrupt: () => called++,
    });
    while (!stop.stopRequested && steps < 500) {
      if (++steps === 3) Deno.kill(Deno.pid, "SIGINT");
      await sleep(10);
    }
    aborted = stop.signal.aborted;
  }
  const after = await ownListenerCalls();
  return { steps, aborted, called, lines, ownListenerCalls: after };
}

/** A one-layer convnet on 8x8 images, its layer named "conv". */
function convModel(filters: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 1],
        filters,
        kernelSize: 3,
        name: "conv",
      }),
    ],
  });
}

/**
 * Runs a stimulus search on `model` that would take minutes, sends SIGINT
 * after 1.5 s, and reports what the search returned, how long it took, the
 * tensors it leaked and whether its listener is gone.
 */
async function interruptedSearch<T>(
  model: tf.LayersModel,
  search: (model: tf.LayersModel) => Promise<T>,
) {
  const before = tf.memory().numTensors;
  const started = performance.now();
  setTimeout(() => Deno.kill(Deno.pid, "SIGINT"), 1500);
  const found = await search(model);
  const seconds = (performance.now() - started) / 1000;
  const leaked = tf.memory().numTensors - before;
  const after = await ownListenerCalls();
  model.dispose();
  return { found, seconds, leaked, lines, ownListenerCalls: after };
}

async function stimulus() {
  // Unit 0 alone would run for hours.
  const { found, ...rest } = await interruptedSearch(
    convModel(3),
    (model) => maxStimulus(model, { units: [0, 1, 2], iterations: 10_000_000 }),
  );
  return { units: found.length, ...rest };
}

async function filters() {
  // 256 filters of 300 steps each would run for minutes.
  const { found, ...rest } = await interruptedSearch(
    convModel(256),
    (model) =>
      filterStimuli(model, { layer: "conv", count: 256, iterations: 300 }),
  );
  return { tried: found.stimuli.length + found.skipped.length, ...rest };
}

/**
 * A loop whose steps only await promises, checking `shouldStop()` with
 * `yieldEveryMs` 50; SIGINT is sent at step 1000; a guard ends it at 20 s.
 */
async function loopWithoutYields() {
  let steps = 0;
  let stepsAtSignal = 0;
  let signalledAt = 0;
  const started = performance.now();
  {
    using stop = interruptible({
      what: "my loop",
      log: null,
      yieldEveryMs: 50,
    });
    while (!(await stop.shouldStop())) {
      if (++steps === 1000) {
        stepsAtSignal = steps;
        signalledAt = performance.now();
        Deno.kill(Deno.pid, "SIGINT");
      }
      if (performance.now() - started > 20_000) break;
      await Promise.resolve();
    }
  }
  return {
    stopped: steps > stepsAtSignal && performance.now() - started < 20_000,
    secondsAfterSignal: (performance.now() - signalledAt) / 1000,
  };
}

/** What `interruptible` says when SIGINT is blocked (or not) here. */
function blocked() {
  const said: string[] = [];
  interruptible({ what: "my loop", log: (l) => said.push(l) }).dispose();
  interruptible({ what: "my loop", log: (l) => said.push(l) }).dispose();
  return { lines: said };
}

if (import.meta.main) {
  const mode = Deno.args[0];
  if (mode === "blocked") {
    console.log(JSON.stringify(blocked()));
    Deno.exit(0);
  }
  if (mode === "filters") {
    console.log(JSON.stringify(await filters()));
    Deno.exit(0);
  }
  const report = mode === "loop"
    ? await loop()
    : mode === "loop-no-yields"
    ? await loopWithoutYields()
    : mode.endsWith("-no-yields")
    ? await withoutOwnYields(
      mode.replace("-no-yields", "") as "fitModel" | "trainLoop",
    )
    : mode === "stimulus"
    ? await stimulus()
    : await training(mode as "fitModel" | "trainLoop");
  console.log(JSON.stringify(report));
}
