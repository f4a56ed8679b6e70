/**
 * `deno task timings` measures a command and records it only when it
 * succeeded; the README's commands block is built from what it recorded.
 */
import assert from "node:assert/strict";
import { readTimings, timingText } from "../scripts/timings.ts";
import { commandsBlock } from "../scripts/docs.ts";

const script = new URL("../scripts/timings.ts", import.meta.url).pathname;

async function timings(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("timings: a successful command is recorded with its wall time and commit; a failing one records nothing and passes its exit code on", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/timings.json`;
    const ok = await timings("--file", file, "pause", "--", "sleep", "0.3");
    assert.equal(ok.code, 0, ok.stderr);
    const recorded = await readTimings(file);
    assert.equal(recorded.pause.command, "sleep 0.3");
    assert.ok(
      recorded.pause.seconds >= 0.3 && recorded.pause.seconds < 10,
      `measured ${recorded.pause.seconds} s`,
    );
    assert.match(String(recorded.pause.commit), /^[0-9a-f]{7,}/);
    assert.match(recorded.pause.machine, /logical core/);
    const failed = await timings("--file", file, "broken", "--", "false");
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /failed \(exit 1\); nothing recorded/);
    assert.deepEqual(Object.keys(await readTimings(file)), ["pause"]);
    const usage = await timings("--file", file, "Bad Name", "--", "true");
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /give one name/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("timings: the README's commands block says each measured time, and how to measure a missing one", () => {
  const t = {
    command: "deno task test",
    seconds: 1265,
    commit: "ff9fcac",
    date: "2026-12-07T05:00:00Z",
    machine: "m",
  };
  assert.equal(
    timingText(t),
    "21 min on 2 cores, measured 2026-12-07 at ff9fcac",
  );
  assert.equal(
    timingText({ ...t, seconds: 90 }),
    "1.5 min on 2 cores, measured 2026-12-07 at ff9fcac",
  );
  const block = commandsBlock({
    "reproduce-quick": { ...t, seconds: 600 },
    test: t,
  });
  assert.match(block, /`reproduce` took 10 min on 2 cores.*`test` took 21 min/);
  assert.match(
    commandsBlock({ test: t }),
    /`reproduce` took an unmeasured time \(record it with `deno task timings reproduce-quick -- deno task reproduce`\)/,
  );
});
