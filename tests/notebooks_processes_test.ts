/**
 * Nothing the notebook runner starts outlives it: a cell's time-out ends
 * the kernel with the processes its cells started; SIGTERM or SIGINT
 * (Ctrl-C) to the runner ends its kernel and their children and leaves no
 * `/tmp/cnn-kernel-*` folder; SIGKILL of the runner makes the kernel exit
 * on its own within seconds.
 */
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  executeNotebook,
  makeNotebook,
  removeOrphanedKernelDirs,
} from "../scripts/jupyter/mod.ts";
import { writeNotebooks } from "./notebooks_fixtures.ts";

const runner = fileURLToPath(
  new URL("../scripts/notebooks.ts", import.meta.url),
);

/** Starts `sleep 1000` (as a cell might start a server) and records its pid. */
const SPAWN_CELL = 'const sleeper = new Deno.Command("sleep", {\n' +
  '  args: ["1000"],\n' +
  '  stdout: "null",\n' +
  '  stderr: "null",\n' +
  "}).spawn();\n" +
  'Deno.writeTextFileSync("child.pid", String(sleeper.pid));';
const WAIT_CELL = "while (true) {\n" +
  "  await new Promise((resolve) => setTimeout(resolve, 100));\n" +
  "}";
/** Spins without ever yielding: only something outside can end it. */
const SPIN_CELL = "while (true) {\n  Math.random();\n}";

/** True while `pid` runs (a zombie, waiting to be reaped, counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * Pids of running processes whose command line mentions `text`: with
 * `kernels`, only `deno jupyter` kernels (not the watcher beside them).
 */
function processesMentioning(text: string, kernels = false): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (
        cmd.includes(text) && alive(+entry.name) &&
        (!kernels || cmd.startsWith(`${Deno.execPath()}\0jupyter`))
      ) {
        pids.push(Number(entry.name));
      }
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

function kernelDirsOf(pid: number): string[] {
  return [...Deno.readDirSync(tmpdir())]
    .map((e) => e.name)
    .filter((n) => n.startsWith(`cnn-kernel-${pid}-`));
}

async function until(
  check: () => boolean | Promise<boolean>,
  seconds: number,
): Promise<boolean> {
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return await check();
}

async function childPid(dir: string): Promise<number> {
  let pid = 0;
  await until(() => {
    try {
      pid = Number(Deno.readTextFileSync(join(dir, "child.pid")));
    } catch {
      // Not written yet.
    }
    return pid > 0;
  }, 60);
  assert.ok(pid > 0, "the cell never started its child process");
  return pid;
}

/** Kills what a failed check left running, so other tests do not inherit it. */
function _endLeftovers(runnerPid: number, sleeper: number): void {
  const left = [
    ...processesMentioning(`cnn-kernel-${runnerPid}-`),
    sleeper,
  ].filter((pid) => pid > 0 && alive(pid));
  for (const pid of left) Deno.kill(pid, "SIGKILL");
}

/** Starts the runner CLI on `notebook` with no cell time-out. */
function startRunner(notebook: string, out: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      runner,
      "--no-sign",
      "--timeout",
      "0",
      "--out",
      out,
      notebook,
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("executeNotebook: a cell's time-out ends the kernel's whole process group", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nb-group-" });
  try {
    const { spawner } = await writeNotebooks(dir, {
      spawner: makeNotebook([SPAWN_CELL, WAIT_CELL, "1;"]),
    });
    const run = await executeNotebook(spawner, { timeoutSeconds: 3 });
    assert.deepEqual(run.cells.map((c) => c.status), [
      "ok",
      "timeout",
      "skipped",
    ]);
    const pid = await childPid(dir);
    assert.ok(
      await until(() => !alive(pid), 5),
      `the cell's child ${pid} outlived its timed-out kernel`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`notebooks runner: ${signal} ends the kernel and its children and leaves no kernel folder`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "nb-signal-" });
    try {
      const { looping } = await writeNotebooks(dir, {
        looping: makeNotebook([SPAWN_CELL, WAIT_CELL]),
      });
      const child = startRunner(looping, join(dir, "out"));
      const guard = setTimeout(() => child.kill("SIGKILL"), 120_000);
      let sleeper = 0;
      try {
        sleeper = await childPid(dir);
        const kernels = processesMentioning(`cnn-kernel-${child.pid}-`, true);
        assert.equal(kernels.length, 1, "the runner's kernel is not running");
        assert.equal(kernelDirsOf(child.pid).length, 1);
        child.kill(signal);
        const out = await child.output();
        const log = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, signal === "SIGINT" ? 130 : 143, log);
        assert.match(log, new RegExp(`${signal}: stopped 1 running kernel`));
        const mention = `cnn-kernel-${child.pid}-`;
        assert.ok(
          await until(
            () => !alive(sleeper) && processesMentioning(mention).length === 0,
            5,
          ),
          `left running: ${
            processesMentioning(mention).join(", ") || "-"
          } (kernel or its watcher), child ${alive(sleeper) ? sleeper : "-"}`,
        );
        assert.deepEqual(kernelDirsOf(child.pid), []);
      } finally {
        clearTimeout(guard);
        _endLeftovers(child.pid, sleeper);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("notebooks runner: after SIGKILL of the runner, its spinning kernel and the kernel's children exit on their own", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nb-sigkill-" });
  try {
    const { spinning } = await writeNotebooks(dir, {
      spinning: makeNotebook([SPAWN_CELL, SPIN_CELL]),
    });
    const child = startRunner(spinning, join(dir, "out"));
    const sleeper = await childPid(dir);
    const kernels = processesMentioning(`cnn-kernel-${child.pid}-`, true);
    assert.equal(kernels.length, 1, "the runner's kernel is not running");
    child.kill("SIGKILL");
    await child.output();
    const gone = await until(
      () =>
        !alive(sleeper) &&
        processesMentioning(`cnn-kernel-${child.pid}-`).length === 0,
      10,
    );
    _endLeftovers(child.pid, sleeper);
    assert.ok(gone, "the kernel or its child kept running without the runner");
    // The folder is the next run's to remove (as every run does first).
    const removed = await removeOrphanedKernelDirs();
    assert.ok(removed.some((d) => d.includes(`cnn-kernel-${child.pid}-`)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
