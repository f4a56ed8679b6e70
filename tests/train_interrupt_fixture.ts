/**
 * Child process of tests/train_interrupt_test.ts (`deno test` catches
 * SIGINT itself, so the signal is sent to this plain `deno run` process):
 * `fitModel` / `trainLoop` interrupted at epoch 2, batch 3, a loop using
 * `interruptible`, or the maximum-stimulus search. Prints one JSON line with what happened.
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
  let after = 0;
  const own = () => void after++;
  Deno.addSignalListener("SIGINT", own);
  Deno.kill(Deno.pid, "SIGINT");
  await sleep(200);
  Deno.removeSignalListener("SIGINT", own);
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
  let after = 0;
  const own = () => void after++;
  Deno.addSignalListener("SIGINT", own);
  Deno.kill(Deno.pid, "SIGINT");
  await sleep(200);
  Deno.removeSignalListener("SIGINT", own);
  return { steps, aborted, called, lines, ownListenerCalls: after };
}

async function stimulus() {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 1],
        filters: 3,
        kernelSize: 3,
        name: "conv",
      }),
    ],
  });
  const before = tf.memory().numTensors;
  const started = performance.now();
  // Unit 0 alone would run for hours.
  setTimeout(() => Deno.kill(Deno.pid, "SIGINT"), 1500);
  const stimuli = await maxStimulus(model, {
    units: [0, 1, 2],
    iterations: 10_000_000,
  });
  const seconds = (performance.now() - started) / 1000;
  let after = 0;
  const own = () => void after++;
  Deno.addSignalListener("SIGINT", own);
  Deno.kill(Deno.pid, "SIGINT");
  await sleep(200);
  Deno.removeSignalListener("SIGINT", own);
  return {
    units: stimuli.length,
    seconds,
    leaked: tf.memory().numTensors - before,
    lines,
    ownListenerCalls: after,
  };
}

async function filters() {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 1],
        filters: 256,
        kernelSize: 3,
        name: "conv",
      }),
    ],
  });
  const before = tf.memory().numTensors;
  const started = performance.now();
  // 256 filters of 300 steps each would run for minutes.
  setTimeout(() => Deno.kill(Deno.pid, "SIGINT"), 1500);
  const found = await filterStimuli(model, {
    layer: "conv",
    count: 256,
    iterations: 300,
  });
  const seconds = (performance.now() - started) / 1000;
  let after = 0;
  const own = () => void after++;
  Deno.addSignalListener("SIGINT", own);
  Deno.kill(Deno.pid, "SIGINT");
  await sleep(200);
  Deno.removeSignalListener("SIGINT", own);
  return {
    tried: found.stimuli.length + found.skipped.length,
    seconds,
    leaked: tf.memory().numTensors - before,
    lines,
    ownListenerCalls: after,
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
    : mode.endsWith("-no-yields")
    ? await withoutOwnYields(
      mode.replace("-no-yields", "") as "fitModel" | "trainLoop",
    )
    : mode === "stimulus"
    ? await stimulus()
    : await training(mode as "fitModel" | "trainLoop");
  console.log(JSON.stringify(report));
}
