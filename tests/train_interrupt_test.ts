/**
 * Interrupting training: SIGINT (Ctrl-C, or JupyterLab's stop button, which
 * sends SIGINT to the kernel) stops fitModel / trainLoop between batches,
 * keeps the weights trained so far, says where it stopped and removes the
 * listener afterwards; in a kernel started from the project's kernelspec the
 * next cell runs with the model still there.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installKernel } from "../scripts/kernel.ts";
import { joinText, KernelClient } from "../scripts/jupyter/mod.ts";
import { interruptible } from "../lib/train/mod.ts";

const notebooksDir = fileURLToPath(new URL("../notebooks/", import.meta.url));
const fixture = fileURLToPath(
  new URL("./train_interrupt_fixture.ts", import.meta.url),
);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `command args` to completion, asserts exit 0 (printing its output
 * otherwise) and returns the JSON object on its last stdout line.
 */
async function lastJson(
  command: string,
  args: string[],
): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(command, {
    args,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(
    out.code,
    0,
    `${args.at(-1)}: exit ${out.code} (signal ${out.signal})\n${stdout}\n` +
      new TextDecoder().decode(out.stderr),
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

/** Runs the fixture in its own process (deno test handles SIGINT itself). */
function child(mode: string): Promise<Record<string, unknown>> {
  return lastJson(Deno.execPath(), ["run", "-A", fixture, mode]);
}

for (const front of ["fitModel", "trainLoop"]) {
  Deno.test(`${front}: SIGINT stops between batches, keeps the weights, says where, removes its listener`, async () => {
    const r = await child(front);
    assert.equal(r.epochsRun, 1, "only the finished epoch is recorded");
    assert.equal(r.records, 1);
    assert.equal(
      r.stopReason,
      "interrupted in epoch 2/50 after batch 3/6; the model keeps the " +
        "weights trained so far; this partial epoch is not in the history",
    );
    assert.equal(
      r.weightsChanged,
      true,
      "the partial epoch's weights are kept",
    );
    const lines = r.lines as string[];
    assert.match(
      lines[0],
      new RegExp(`^Interrupted: training \\(${front}\\) stops`),
    );
    assert.match(
      lines[1],
      /^Stopped: interrupted in epoch 2\/50 after batch 3\/6/,
    );
    assert.deepEqual(r.linesAfter, [], "nobody else heard the later SIGINT");
    assert.equal(r.ownListenerCalls, 1);
  });
}

for (const front of ["fitModel", "trainLoop"]) {
  Deno.test(`${front}: SIGINT stops training whose batches only await promises (a timer turn lets the listener run)`, async () => {
    // Without the library's timer turns, the listener waits for a macrotask
    // that never comes (tfjs yields with setImmediate every 125 ms of an
    // epoch, and these epochs are shorter), so the 20 s guard stops it.
    const r = await child(`${front}-no-yields`);
    assert.match(
      String(r.stopReason),
      /^interrupted (in epoch \d+\/1000000 after batch \d\/6|after epoch \d+\/1000000)/,
      `stopped by: ${r.stopReason}`,
    );
    assert.ok(
      (r.secondsAfterSignal as number) < 10,
      `${r.secondsAfterSignal} s after the signal`,
    );
    assert.match(
      (r.lines as string[])[0],
      new RegExp(`^Interrupted: training \\(${front}\\) stops`),
    );
  });
}

Deno.test("interruptible: stopRequested, signal and onInterrupt on SIGINT; disposed by `using`", async () => {
  const r = await child("loop");
  assert.ok(
    (r.steps as number) >= 3 && (r.steps as number) < 500,
    `${r.steps} steps`,
  );
  assert.equal(r.aborted, true);
  assert.equal(r.called, 1);
  assert.deepEqual(r.lines, [
    "Interrupted: my loop stops at its next safe point and keeps what it did so far.",
  ]);
  assert.equal(r.ownListenerCalls, 1);
});

Deno.test("interruptible: shouldStop() lets SIGINT in when the steps only await promises", async () => {
  // Without its timer turns the listener never runs: the 20 s guard ends it.
  const r = await child("loop-no-yields");
  assert.equal(r.stopped, true, JSON.stringify(r));
  assert.ok(
    (r.secondsAfterSignal as number) < 10,
    `${r.secondsAfterSignal} s after the signal`,
  );
});

Deno.test("interruptible: yieldEveryMs must be a number >= 0", () => {
  for (const yieldEveryMs of [-1, NaN]) {
    assert.throws(
      () => interruptible({ yieldEveryMs }),
      /yieldEveryMs must be a number >= 0 \(milliseconds\), got/,
    );
  }
});

Deno.test("maxStimulus: SIGINT ends the search between steps, without leaks, and removes its listener", async () => {
  const r = await child("stimulus");
  assert.equal(r.units, 0);
  assert.ok((r.seconds as number) < 30, `${r.seconds} s`);
  assert.equal(r.leaked, 0);
  assert.deepEqual(r.lines, [
    "Interrupted: the stimulus search stops at its next safe point and keeps what it did so far.",
    "Stopped: the stimulus search was interrupted at unit 0 (1 of 3); returning the 0 finished.",
  ]);
  assert.equal(r.ownListenerCalls, 1);
});

Deno.test("filterStimuli: SIGINT ends the search between filters, without leaks, and removes its listener", async () => {
  const r = await child("filters");
  const tried = r.tried as number;
  assert.ok(tried >= 1 && tried < 256, `${tried} filters tried`);
  assert.ok((r.seconds as number) < 60, `${r.seconds} s`);
  assert.equal(r.leaked, 0);
  assert.deepEqual(r.lines, [
    "Interrupted: the stimulus search stops at its next safe point and keeps what it did so far.",
  ]);
  assert.equal(r.ownListenerCalls, 1);
});

Deno.test({
  name:
    "interruptible: warns once when SIGINT is blocked in the process (inherited), and only then",
  ignore: !(await hasPython()),
}, async () => {
  const run = async (block: boolean) =>
    (await lastJson("/usr/bin/python3", [
      "-c",
      `import os, signal, sys
if sys.argv[1] == "1": signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
os.execv(sys.argv[2], [sys.argv[2], "run", "-A", sys.argv[3], "blocked"])`,
      block ? "1" : "0",
      Deno.execPath(),
      fixture,
    ])).lines as string[];
  const lines = await run(true);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], /^Warning: SIGINT is blocked in this process/);
  assert.deepEqual(await run(false), []);
});

/** Waits until `path` exists (the kernel writes it once work is under way). */
async function waitFor(path: string, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${path} did not appear within ${timeoutMs} ms`);
}

function outputText(outputs: { output_type: string }[]): string {
  return outputs.map((o) => {
    const out = o as {
      text?: string | string[];
      data?: Record<string, string | string[]>;
      evalue?: string;
    };
    return joinText(out.text ?? out.data?.["text/plain"] ?? out.evalue ?? "");
  }).join("\n");
}

Deno.test({
  name:
    "Jupyter: interrupting a training cell in a kernel from the project's kernelspec keeps the kernel and the model",
}, async () => {
  const jupyterPath = await Deno.makeTempDir({ prefix: "interrupt-jupyter-" });
  const { file } = await installKernel({ jupyterPath, env: {} });
  const kernel = await KernelClient.start({
    kernelspec: file,
    cwd: notebooksDir,
    env: { NO_COLOR: "1" },
  });
  try {
    const setup = await kernel.execute(
      `import { fitModel, initBackend, interruptible, tf } from "../lib/mod.ts";
await initBackend({ backend: "cpu", verbose: false });
const xs = tf.randomNormal([256, 8], 0, 1, "float32", 1);
const ys = tf.oneHot(tf.tensor1d(Array.from({ length: 256 }, (_, i) => i % 4), "int32"), 4);
const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [8], activation: "softmax" })] });
model.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
let epochsSeen = 0;`,
      { timeoutMs: 120_000 },
    );
    assert.equal(setup.status, "ok", setup.message);

    const marker = join(jupyterPath, "training-started");
    const training = kernel.execute(
      `const result = await fitModel(model, { xs, ys }, {
  epochs: 100000, batchSize: 8, progress: "none",
  callbacks: [{
    onEpochEnd: () => void epochsSeen++,
    onBatchEnd: () => Deno.writeTextFileSync(${JSON.stringify(marker)}, "1"),
  }],
});`,
      { timeoutMs: 120_000 },
    );
    await waitFor(marker);
    kernel.interrupt();
    const trained = await training;
    assert.equal(trained.status, "ok", trained.message);
    assert.match(
      outputText(trained.cell.outputs),
      /Interrupted: training \(fitModel\)/,
    );
    assert.match(
      outputText(trained.cell.outputs),
      // Between batches, or between epochs when tfjs yielded only there.
      /Stopped: interrupted (in epoch \d+\/100000 after batch \d+\/32|after epoch \d+\/100000)/,
    );

    const next = await kernel.execute(
      `[result.stopReason.split(";")[0], result.epochsRun === epochsSeen, model.countParams(),
  (await (model.predict(tf.zeros([1, 8])) as tf.Tensor).data()).length];`,
      { timeoutMs: 30_000 },
    );
    assert.equal(next.status, "ok", next.message);
    assert.match(
      outputText(next.cell.outputs),
      /\[ "interrupted (in|after) epoch \d+\/100000.*", true, 36, 4 \]/,
    );

    // A notebook's own loop, with the exported helper.
    const looping = join(jupyterPath, "loop-started");
    const loop = kernel.execute(
      `let steps = 0;
{
  using stop = interruptible({ what: "my loop" });
  while (!(await stop.shouldStop())) {
    if (++steps === 1) Deno.writeTextFileSync(${JSON.stringify(looping)}, "1");
    await Promise.resolve(); // a step that never yields to the event loop
  }
}
steps > 0;`,
      { timeoutMs: 60_000 },
    );
    await waitFor(looping);
    kernel.interrupt();
    const looped = await loop;
    assert.equal(looped.status, "ok", looped.message);
    assert.match(outputText(looped.cell.outputs), /true/);

    // Every listener is gone again: SIGINT now ends the kernel, as it did
    // before any training ran (Deno's default).
    kernel.interrupt();
    const after = await kernel.execute(
      "await new Promise((r) => setTimeout(r, 10_000));",
      {
        timeoutMs: 20_000,
      },
    );
    assert.equal(after.status, "dead", after.message);
  } finally {
    await kernel.shutdown({ kill: true });
    await Deno.remove(jupyterPath, { recursive: true });
  }
});

async function hasPython(): Promise<boolean> {
  try {
    return (await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "pass"],
      stdout: "null",
      stderr: "null",
    }).output()).success;
  } catch {
    return false;
  }
}

async function hasJupyterClient(): Promise<boolean> {
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import jupyter_client"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "Jupyter (jupyter_client, as JupyterLab): interrupt_kernel during fitModel; the next cell sees the model",
  ignore: !(await hasJupyterClient()),
  async fn() {
    const jupyterPath = await Deno.makeTempDir({ prefix: "interrupt-jc-" });
    try {
      await installKernel({ jupyterPath, env: {} });
      const marker = join(jupyterPath, "training-started");
      const script = `
import os, signal, sys, time
from jupyter_client.manager import KernelManager
def give_up(*_): raise TimeoutError("the jupyter_client check took over 200 s")
signal.signal(signal.SIGALRM, give_up); signal.alarm(200)
km = KernelManager(kernel_name="deno")
km.start_kernel(cwd=sys.argv[1], env={**os.environ, "NO_COLOR": "1"})
try:
    kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=120)
    def run(code, interrupt=False, timeout=120):
        msg_id = kc.execute(code)
        if interrupt:
            while not os.path.exists(sys.argv[2]): time.sleep(0.05)
            km.interrupt_kernel()
        out = []
        def keep(msg):
            c = msg["content"]
            if msg["msg_type"] == "stream": out.append(c["text"])
            elif msg["msg_type"] in ("execute_result", "display_data"): out.append(c["data"].get("text/plain", ""))
            elif msg["msg_type"] == "error": out.append("ERROR " + c["evalue"])
        while True:
            msg = kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id: continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle": break
            keep(msg)
        # Deno's kernel can publish a cell's result a few ms after its idle
        # status (FINDINGS: output race); JupyterLab shows such late outputs,
        # so collect them as it does: whatever of this cell arrives in 1 s.
        settle = time.time() + 1.0
        while time.time() < settle:
            try: msg = kc.get_iopub_msg(timeout=0.1)
            except Exception: continue
            if msg["parent_header"].get("msg_id") == msg_id: keep(msg)
        return "".join(out)
    run('import { fitModel, initBackend, tf } from "../lib/mod.ts"; await initBackend({ backend: "cpu", verbose: false }); const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], activation: "softmax" })] }); model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy" });')
    print("CELL2", run('const r = await fitModel(model, { xs: tf.randomNormal([64, 3]), ys: tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 2), "int32"), 2) }, { epochs: 100000, batchSize: 4, progress: "none", callbacks: [{ onBatchEnd: () => Deno.writeTextFileSync(' + repr(sys.argv[2]).replace("'", '"') + ', "1") }] });', interrupt=True))
    print("CELL3", run('[r.stopReason.startsWith("interrupted"), model.countParams()]'))
    print("ALIVE", km.is_alive())
    kc.stop_channels()
finally:
    km.shutdown_kernel(now=True)
`;
      const attempt = async (): Promise<{ code: number; log: string }> => {
        await Deno.remove(marker).catch(() => {});
        const child = new Deno.Command("/usr/bin/python3", {
          args: ["-c", script, notebooksDir, marker],
          env: { JUPYTER_PATH: jupyterPath },
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        // Python's own alarm ends it at 200 s; this is the last resort.
        const guard = setTimeout(() => child.kill("SIGKILL"), 240_000);
        const out = await child.output();
        clearTimeout(guard);
        return {
          code: out.code,
          log: new TextDecoder().decode(out.stdout) +
            new TextDecoder().decode(out.stderr),
        };
      };
      // Two kernels and a Python client on a loaded 2-core machine have once
      // waited past jupyter_client's 120 s message timeout; one retry keeps
      // that from failing CI while a real regression still fails both tries.
      let { code, log } = await attempt();
      if (code !== 0) {
        console.error(`jupyter_client check, first try failed:\n${log}`);
        ({ code, log } = await attempt());
      }
      assert.equal(code, 0, log);
      assert.match(log, /CELL2 Interrupted: training \(fitModel\)/);
      assert.match(log, /CELL3 \[ true, 8 \]/);
      assert.match(log, /ALIVE True/);
    } finally {
      await Deno.remove(jupyterPath, { recursive: true });
    }
  },
});
