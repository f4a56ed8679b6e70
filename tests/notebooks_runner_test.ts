import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  computeSignature,
  executeNotebook,
  joinText,
  makeNotebook,
  type Notebook,
  type Output,
  readNotebook,
} from "../scripts/jupyter/mod.ts";
import {
  chattyNotebook,
  goodNotebook,
  PROBE_SVG,
  throwingNotebook,
  writeNotebooks,
} from "./notebooks_fixtures.ts";

const runner = fileURLToPath(
  new URL("../scripts/notebooks.ts", import.meta.url),
);

function text(output: Output | undefined): string {
  if (!output) return "";
  if (output.output_type === "stream") return joinText(output.text);
  if (output.output_type === "error") return output.evalue;
  return joinText(output.data["text/plain"] as string | string[]);
}

async function pythonTrusts(file: string, dataDir: string): Promise<boolean> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import sys, nbformat\n" +
      "from nbformat.sign import NotebookNotary\n" +
      "nb = nbformat.read(sys.argv[1], as_version=4)\n" +
      "print(NotebookNotary(data_dir=sys.argv[2]).check_signature(nb))",
      file,
      dataDir,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return stdout === "True";
}

async function hasPythonNbformat(): Promise<boolean> {
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import nbformat.sign"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

Deno.test("notebooks runner CLI: runs, writes signed notebooks and a report, fails naming the cell", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nb-runner-" });
  try {
    // One cell without an id (as a hand-edited notebook may have): Jupyter's
    // reader adds one, so the runner must add it before signing.
    const idless = goodNotebook();
    delete idless.cells[2].id;
    const paths = await writeNotebooks(dir, {
      good: idless,
      throwing: throwingNotebook(),
    });
    const dataDir = `${dir}/jupyter-data`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        runner,
        "--out",
        `${dir}/out`,
        paths.good,
        paths.throwing,
      ],
      env: { JUPYTER_DATA_DIR: dataDir, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, log);
    assert.match(
      log,
      /FAILED throwing\.ipynb, cell 2: Error: boom from the fixture/,
    );

    const good = await readNotebook(`${dir}/out/good.ipynb`);
    const ids = good.cells.map((c) => c.id);
    assert.ok(ids.every((id) => typeof id === "string" && id.length > 0));
    assert.equal(new Set(ids).size, ids.length, "cell ids are unique");
    const outputs = good.cells.map((c) => c.outputs ?? []);
    assert.deepEqual(outputs[1].map((o) => [o.output_type, text(o)]), [
      ["stream", "hello\n"],
      ["stream", "to stderr\n"],
    ]);
    const figure = outputs[2][0];
    assert.equal(figure.output_type, "execute_result");
    assert.equal(
      figure.output_type === "execute_result" &&
        joinText(figure.data["image/svg+xml"] as string[]),
      PROBE_SVG,
    );
    // The update replaced the first display in place; no second output.
    assert.deepEqual(outputs[3].map(text), ["second"]);
    assert.equal(
      text(outputs[4][0]),
      `[ "quick", "1", ${JSON.stringify(dir)} ]`,
    );
    assert.deepEqual(good.cells.map((c) => c.execution_count), [
      undefined,
      1,
      2,
      3,
      4,
    ]);

    const throwing = await readNotebook(`${dir}/out/throwing.ipynb`);
    assert.equal(throwing.cells[1].outputs?.[0].output_type, "error");
    assert.deepEqual(throwing.cells[2].outputs, [], "cell after the error ran");

    const report = await Deno.readTextFile(`${dir}/out/report.html`);
    assert.match(report, /id="probe-rect"/);
    assert.match(report, /boom from the fixture/);
    const summary = JSON.parse(
      await Deno.readTextFile(`${dir}/out/summary.json`),
    );
    assert.deepEqual(summary.map((s: { status: string }) => s.status), [
      "ok",
      "failed",
    ]);

    // Signed: the secret and database exist and hold this notebook.
    const secret = await Deno.readFile(`${dataDir}/notebook_secret`);
    assert.ok((await Deno.stat(`${dataDir}/nbsignatures.db`)).size > 0);
    assert.match(await computeSignature(good, secret), /^[0-9a-f]{64}$/);
    if (await hasPythonNbformat()) {
      assert.equal(await pythonTrusts(`${dir}/out/good.ipynb`, dataDir), true);
      // A changed notebook is no longer trusted: the check can fail.
      const tampered = structuredClone(good) as Notebook;
      tampered.cells[1].source = "console.log('changed');";
      await Deno.writeTextFile(
        `${dir}/tampered.ipynb`,
        JSON.stringify(tampered),
      );
      assert.equal(await pythonTrusts(`${dir}/tampered.ipynb`, dataDir), false);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("notebooks runner: no output is lost to the kernel's late-output race", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nb-race-" });
  try {
    const cells = 30;
    const { chatty } = await writeNotebooks(dir, {
      chatty: chattyNotebook(cells),
    });
    const run = await executeNotebook(chatty, { timeoutSeconds: 60 });
    assert.equal(run.status, "ok", run.failure);
    const missing: string[] = [];
    for (const [i, cell] of run.notebook.cells.entries()) {
      const got = (cell.outputs ?? []).map((o) => [o.output_type, text(o)]);
      const want = [
        ["stream", `first ${i}\nsecond ${i}\n`],
        ["execute_result", String(i)],
      ];
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        missing.push(`cell ${i + 1}: ${JSON.stringify(got)}`);
      }
    }
    assert.deepEqual(missing, []);
    const afterIdle = run.cells.reduce((n, c) => n + c.afterIdle, 0);
    console.log(
      `race: ${afterIdle} output messages of ${cells} cells arrived after ` +
        `idle, ${run.lateMessages} after the grace period; none lost`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("notebooks runner: a cell timeout and a kernel death fail the run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nb-fail-" });
  try {
    const paths = await writeNotebooks(dir, {
      slow: makeNotebook([
        "1;",
        "await new Promise((resolve) => setTimeout(resolve, 20_000));",
        "2;",
      ]),
      dying: makeNotebook(['console.log("bye");', "Deno.exit(3);", "3;"]),
    });
    const slow = await executeNotebook(paths.slow, { timeoutSeconds: 1 });
    assert.equal(slow.status, "failed");
    assert.deepEqual(slow.cells.map((c) => c.status), [
      "ok",
      "timeout",
      "skipped",
    ]);
    assert.match(slow.failure ?? "", /slow\.ipynb, cell 2: cell timed out/);

    const dying = await executeNotebook(paths.dying, { timeoutSeconds: 30 });
    assert.equal(dying.status, "failed");
    assert.deepEqual(dying.cells.map((c) => c.status), [
      "ok",
      "dead",
      "skipped",
    ]);
    assert.match(
      dying.failure ?? "",
      /dying\.ipynb, cell 2: the kernel died \(exit code 3/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("executeNotebook: a notebook for another kernel is refused before any kernel starts, naming its kernelspec", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nb-python-" });
  try {
    const python = makeNotebook(['print("hello")']);
    python.metadata.kernelspec = {
      display_name: "Python 3 (ipykernel)",
      language: "python",
      name: "python3",
    };
    python.metadata.language_info = { name: "python" };
    const paths = await writeNotebooks(dir, { python });
    const started = performance.now();
    const run = await executeNotebook(paths.python, { timeoutSeconds: 30 });
    assert.equal(run.status, "failed");
    assert.ok(
      performance.now() - started < 1000,
      "a kernel was started for it",
    );
    assert.deepEqual(run.cells, []);
    assert.match(
      run.failure ?? "",
      /python\.ipynb: refused: its kernelspec is "python3" \(Python 3 \(ipykernel\)\), not "deno"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("executeNotebook: a promise rejected without a handler fails its cell, with the error shown there", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nb-rejection-" });
  try {
    const paths = await writeNotebooks(dir, {
      rejecting: makeNotebook([
        "1;",
        "(async () => {\n" +
        '  throw new Error("x from an async function");\n' +
        "})();",
        "2;",
      ]),
    });
    const run = await executeNotebook(paths.rejecting, { timeoutSeconds: 30 });
    assert.deepEqual(run.cells.map((c) => c.status), [
      "ok",
      "error",
      "skipped",
    ]);
    assert.match(
      run.failure ?? "",
      /rejecting\.ipynb, cell 2: Uncaught \(in promise\) Error: x from an async function/,
    );
    const error = run.notebook.cells[1].outputs?.find((o) =>
      o.output_type === "error"
    );
    assert.equal(text(error), "x from an async function");
    // The first cell's count is 1: the runner's own setup is not counted.
    assert.equal(run.notebook.cells[0].execution_count, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("notebooks runner CLI: the configuration first, then the running cell's latest line while it runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nb-progress-" });
  try {
    const paths = await writeNotebooks(dir, {
      epochs: makeNotebook([
        "1;",
        "for (let epoch = 1; epoch <= 5; epoch++) {\n" +
        "  console.log(`epoch ${epoch}/5 loss 0.${epoch}`);\n" +
        "  await new Promise((resolve) => setTimeout(resolve, 800));\n" +
        "}",
      ]),
    });
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        runner,
        "--no-sign",
        "--scale",
        "smoke",
        "--progress",
        "1",
        "--out",
        `${dir}/out`,
        paths.epochs,
      ],
      env: {
        NO_COLOR: "1",
        CNN_SEED: "7",
        CNN_BACKEND: "cpu",
        CNN_DATA_MIRROR: `${dir}/mirror`,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, log);
    assert.equal(
      log.split("\n")[0],
      `notebooks: scale smoke, seed 7, backend cpu, data mirror ${dir}/mirror, ` +
        `notebooks epochs.ipynb, output ${dir}/out`,
    );
    const ticks = log.split("\n").filter((l) =>
      /^epochs\.ipynb: cell 2\/2 running \d+ s — epoch [1-5]\/5 loss 0\.[1-5]$/
        .test(l)
    );
    assert.ok(ticks.length >= 2, log);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
