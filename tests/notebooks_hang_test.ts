/**
 * The notebook runner never hangs: cells that keep printing time out like a
 * busy loop does, the kernel is killed at the timeout, one unreadable
 * notebook fails alone, and what a killed run left in the temp folder is
 * removed by the next one.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CellOutputs,
  DisplayRegistry,
  executeNotebook,
  makeMessage,
  makeNotebook,
  MAX_OUTPUT_CHARS,
  readNotebook,
  removeOrphanedKernelDirs,
} from "../scripts/jupyter/mod.ts";
import { goodNotebook, writeNotebooks } from "./notebooks_fixtures.ts";

const runner = fileURLToPath(
  new URL("../scripts/notebooks.ts", import.meta.url),
);

const INTERVAL_CELL = 'setInterval(() => console.log("tick"), 5);';
const BUSY_CELL = "while (true) {\n" +
  '  console.log("busy");\n' +
  "  await new Promise((resolve) => setTimeout(resolve, 0));\n" +
  "}";

/** Pids of running `deno jupyter` kernels whose command line mentions `text`. */
function kernelsMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (cmd.includes("jupyter") && cmd.includes(text)) {
        pids.push(Number(entry.name));
      }
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

Deno.test("notebooks runner: printing cells time out, a malformed notebook fails alone, everything is still written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nb-hang-" });
  try {
    const paths = await writeNotebooks(dir, {
      a_interval: makeNotebook(["1;", INTERVAL_CELL, "2;"]),
      b_busy: makeNotebook(["1;", BUSY_CELL, "2;"]),
      d_good: goodNotebook(),
    });
    const malformed = join(dir, "c_malformed.ipynb");
    await Deno.writeTextFile(malformed, '{"cells": [');
    const started = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        runner,
        "--no-sign",
        "--timeout",
        "3",
        "--out",
        `${dir}/out`,
        paths.a_interval,
        paths.b_busy,
        malformed,
        paths.d_good,
      ],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // A hang would otherwise block the test forever.
    const guard = setTimeout(() => child.kill("SIGKILL"), 120_000);
    const out = await child.output();
    clearTimeout(guard);
    const seconds = (performance.now() - started) / 1000;
    const log = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, log);
    assert.ok(seconds < 90, `took ${seconds.toFixed(0)} s:\n${log}`);
    assert.match(log, /1 of 4 notebooks ran without errors/);
    assert.match(
      log,
      /a_interval\.ipynb, cell 2: cell timed out after 3 s \(it finished, but kept printing/,
    );
    assert.match(log, /b_busy\.ipynb, cell 2: cell timed out after 3 s/);
    assert.match(log, /c_malformed\.ipynb: cannot read the notebook/);

    const summary = JSON.parse(
      await Deno.readTextFile(`${dir}/out/summary.json`),
    ) as { notebook: string; status: string; executed: string | null }[];
    assert.deepEqual(
      summary.map((s) => [s.notebook.split("/").at(-1), s.status]),
      [
        ["a_interval.ipynb", "failed"],
        ["b_busy.ipynb", "failed"],
        ["c_malformed.ipynb", "failed"],
        ["d_good.ipynb", "ok"],
      ],
    );
    assert.equal(summary[2].executed, null);
    const report = await Deno.readTextFile(`${dir}/out/report.html`);
    assert.match(report, /c_malformed\.ipynb: cannot read the notebook/);
    const interval = await readNotebook(`${dir}/out/a_interval.ipynb`);
    assert.match(JSON.stringify(interval.cells[1].outputs), /tick/);
    const busy = await readNotebook(`${dir}/out/b_busy.ipynb`);
    assert.match(JSON.stringify(busy.cells[1].outputs), /busy/);
    assert.deepEqual(busy.cells[2].outputs, []);
    assert.ok((await Deno.stat(`${dir}/out/d_good.ipynb`)).isFile);
    assert.deepEqual(kernelsMentioning(`cnn-kernel-${child.pid}-`), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("executeNotebook: without a cell timeout, a cell still printing after it finished times out; the kernel is killed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nb-printing-" });
  try {
    const { printing } = await writeNotebooks(dir, {
      printing: makeNotebook(["1;", INTERVAL_CELL, "2;"]),
    });
    const run = await executeNotebook(printing, {
      timeoutSeconds: 0,
      printingAfterIdleSeconds: 2,
    });
    assert.deepEqual(run.cells.map((c) => c.status), [
      "ok",
      "timeout",
      "skipped",
    ]);
    assert.match(run.failure ?? "", /kept printing for 2 s/);
    assert.deepEqual(kernelsMentioning(`cnn-kernel-${Deno.pid}-`), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("removeOrphanedKernelDirs: removes folders of dead runners and kills their kernels, keeps live ones", async () => {
  const temp = await Deno.makeTempDir({ prefix: "nb-orphans-" });
  try {
    const exited = new Deno.Command("true").spawn();
    await exited.status;
    const orphan = join(temp, `cnn-kernel-${exited.pid}-0a1b2c`);
    const live = join(temp, `cnn-kernel-${Deno.pid}-3d4e5f`);
    const other = join(temp, `something-${exited.pid}-else`);
    for (const d of [orphan, live, other]) await Deno.mkdir(d);
    // A stand-in for the orphaned kernel: its command line names the folder.
    const kernel = new Deno.Command("/bin/sh", {
      args: ["-c", "sleep 60", `jupyter ${orphan}/connection.json`],
    }).spawn();
    await Deno.writeTextFile(join(orphan, "kernel.pid"), `${kernel.pid}\n`);
    const removed = await removeOrphanedKernelDirs(temp);
    assert.deepEqual(removed, [orphan]);
    const status = await kernel.status;
    assert.equal(status.signal, "SIGKILL");
    const left = [...Deno.readDirSync(temp)].map((e) => e.name).sort();
    assert.deepEqual(left, [
      `cnn-kernel-${Deno.pid}-3d4e5f`,
      `something-${exited.pid}-else`,
    ]);
  } finally {
    await Deno.remove(temp, { recursive: true });
  }
});

Deno.test("CellOutputs: a cell's printed text is capped, with a note saying so", () => {
  const cell = new CellOutputs(new DisplayRegistry());
  const chunk = "x".repeat(900_000) + "\n";
  for (let i = 0; i < 5; i++) {
    cell.apply(
      makeMessage("stream", { name: "stdout", text: chunk }, { session: "s" }),
    );
  }
  assert.equal(cell.outputs.length, 1);
  const text = String(
    (cell.outputs[0] as { text: string | string[] }).text,
  );
  assert.ok(
    text.length < MAX_OUTPUT_CHARS + 200,
    `${text.length} characters kept`,
  );
  assert.match(
    text,
    /output cut: this cell printed 4,500,005 characters; the first 2,000,000 are kept, the last 2,500,005 were dropped/,
  );
});

Deno.test("CellOutputs: one huge print is cut to the limit where it is stored, and says so", () => {
  const cell = new CellOutputs(new DisplayRegistry());
  cell.apply(
    makeMessage("stream", { name: "stdout", text: "ab" }, { session: "s" }),
  );
  cell.apply(
    makeMessage("stream", {
      name: "stdout",
      text: "y".repeat(16_000_000),
    }, { session: "s" }),
  );
  const text = String(
    (cell.outputs[0] as { text: string | string[] }).text,
  );
  assert.ok(
    text.length < MAX_OUTPUT_CHARS + 200,
    `${text.length} characters stored`,
  );
  assert.ok(text.startsWith("ab" + "y".repeat(1000)));
  assert.match(
    text,
    /output cut: this cell printed 16,000,002 characters; the first 2,000,000 are kept, the last 14,000,002 were dropped/,
  );
  // A huge display (a 16 MB result) is replaced by a note, not stored.
  cell.apply(
    makeMessage("execute_result", {
      data: { "text/plain": "z".repeat(16_000_000) },
      metadata: {},
      execution_count: 1,
    }, { session: "s" }),
  );
  const result = cell.outputs.at(-1) as { data: Record<string, string> };
  assert.match(
    result.data["text/plain"],
    /output cut: this display's data \(text\/plain\) has 16,000,000 characters/,
  );
  assert.ok(JSON.stringify(cell.outputs).length < MAX_OUTPUT_CHARS + 1000);
});
