/**
 * The committed reference run is folded together one experiment at a time:
 * new rows replace that experiment's old ones, keep the others, and say when
 * and how they were produced; the committed file reads back as a reference.
 */
import assert from "node:assert/strict";
import type { NotebookResults, ResultRow } from "../lib/experiments/mod.ts";
import {
  mergeReferenceRows,
  rasterizeFigures,
  referenceMarkdown,
  type ReferenceRecord,
} from "../scripts/reference.ts";
import { readReference, REFERENCE_PATH } from "../scripts/reproduce.ts";
import { longOutputs, MAX_OUTPUT_LINES } from "./_output_lines.ts";
import {
  joinText,
  makeNotebook,
  type Output,
  parseNotebook,
  readNotebook,
  serializeNotebook,
} from "../scripts/jupyter/mod.ts";
import {
  composeFigure,
  figureBundle,
  JUPYTER_DISPLAY,
  plotDocument,
} from "../lib/plot/mod.ts";
import * as Plot from "@observablehq/plot";
import { chartImage, sparklineSvg } from "../lib/train/progress.ts";

function row(experiment: string, model: string, accuracy: number): ResultRow {
  return {
    experiment,
    model,
    dataset: "mnist",
    split: "test",
    accuracy,
    test_samples: 10000,
    train_samples: 60000,
    epochs: 5,
    train_seconds: 120,
    backend: "wasm",
    params: 61706,
    published: "0.95% test error (99.05%)",
    published_accuracy: 0.9905,
    data_note: "",
  };
}

function results(experiment: string, rows: ResultRow[]): NotebookResults {
  return {
    experiment,
    scale: "full",
    backend: "wasm",
    seed: 42,
    rows,
    notes: [],
    written_at: "2026-11-29T12:00:00Z",
  };
}

Deno.test("reference: a new run replaces its experiment's rows and stamps them", () => {
  const stamp = { command: "deno task reproduce --scale full", machine: "m" };
  const first = mergeReferenceRows([], [
    results("001-mnist-lenet5", [row("001-mnist-lenet5", "lenet5", 0.98)]),
    results("002-x", [row("002-x", "lenet5-32", 0.97)]),
  ], stamp);
  assert.equal(first.length, 2);
  const second = mergeReferenceRows(first, [
    results("001-mnist-lenet5", [row("001-mnist-lenet5", "lenet5", 0.99)]),
  ], { command: "again", machine: "n" });
  assert.deepEqual(
    second.map((r) => [r.experiment, r.accuracy, r.produced_by, r.machine]),
    [["001-mnist-lenet5", 0.99, "again", "n"], [
      "002-x",
      0.97,
      "deno task reproduce --scale full",
      "m",
    ]],
  );
  assert.equal(second[0].produced_at, "2026-11-29T12:00:00Z");
  assert.equal(second[0].scale, "full");
});

Deno.test("reference: the table shows accuracy, the published figure and the gap", () => {
  const rows: ReferenceRecord[] = mergeReferenceRows([], [
    results("001-mnist-lenet5", [row("001-mnist-lenet5", "lenet5", 0.9896)]),
  ], { command: "cmd", machine: "m" });
  const md = referenceMarkdown({ produced: { what: "w" }, rows });
  assert.match(md, /\| 001-mnist-lenet5 \| lenet5 \| test \| 98\.96% \|/);
  assert.match(md, /-0\.09 pp/);
  assert.match(md, /2\.0 min/);
});

Deno.test("reference: the committed results.json reads back as a reference run", async () => {
  const path = new URL(`../${REFERENCE_PATH}`, import.meta.url).pathname;
  const reference = await readReference(path);
  assert.ok(reference, `${REFERENCE_PATH} is committed`);
  assert.ok(reference.rows.length > 0);
  for (const r of reference.rows) {
    assert.ok(r.accuracy > 0 && r.accuracy <= 1, `${r.model} accuracy`);
    const record = r as unknown as ReferenceRecord;
    assert.equal(record.scale, "full", `${r.model} ran at full scale`);
    assert.ok(record.produced_at && record.produced_by, "says when and how");
  }
});

Deno.test("reference: --png-figures gives SVG outputs the bundle figures display as now", async () => {
  const fig = composeFigure([
    Plot.plot({
      document: plotDocument(),
      width: 120,
      height: 80,
      marks: [Plot.frame()],
    }),
  ], { title: "A frame" });
  const nb = makeNotebook(["fig", "text", "shown", "train"]);
  nb.cells[0].outputs = [{
    output_type: "execute_result",
    execution_count: 1,
    data: { "image/svg+xml": fig.svg },
    metadata: {},
  }];
  nb.cells[1].outputs = [{
    output_type: "stream",
    name: "stdout",
    text: "hello\n",
  }];
  nb.cells[2].outputs = [{
    output_type: "display_data",
    data: { "image/svg+xml": fig.svg.split(/(?<=>)/) },
    metadata: {},
  }];
  // A training progress output of older runs: its chart as inline SVG.
  const rows = [1, 2].map((epoch) => ({
    epoch,
    loss: 1 / epoch,
    acc: 0.5 + epoch / 10,
    val_loss: null,
    val_acc: null,
    lr: 0.01,
    seconds: 1,
    samples_per_s: 100,
  }));
  const pre = '<pre style="margin:0">Epoch 1/2 - 1.0s\nDone.</pre>';
  nb.cells[3].outputs = [{
    output_type: "display_data",
    data: { "text/plain": "Epoch 1/2", "text/html": pre + sparklineSvg(rows) },
    metadata: {},
  }];
  // Through the file format, as the committed notebooks are read.
  const read = parseNotebook(serializeNotebook(nb));
  assert.equal(await rasterizeFigures(read), 3);
  const progress = read.cells[3].outputs![0] as Output & {
    data: Record<string, unknown>;
  };
  assert.equal(
    progress.data["text/html"],
    pre + await chartImage(sparklineSvg(rows)),
    "the chart as a finished run saves it now",
  );
  assert.deepEqual(progress.data["text/plain"], ["Epoch 1/2"]);
  const expected = await figureBundle(fig.svg);
  for (const i of [0, 2]) {
    const output = read.cells[i].outputs![0] as Output & {
      data: Record<string, unknown>;
    };
    assert.deepEqual(output.data, expected);
  }
  const stream = read.cells[1].outputs![0];
  assert.ok(stream.output_type === "stream", "a stream stays a stream");
  assert.equal(joinText(stream.text), "hello\n");
  // What a figure displays as in the kernel, byte for byte once saved.
  const live = makeNotebook(["fig"]);
  live.cells[0].outputs = [{
    output_type: "execute_result",
    execution_count: 1,
    data: { ...(await fig[JUPYTER_DISPLAY]()) },
    metadata: {},
  }];
  const migrated = makeNotebook(["fig"]);
  migrated.cells[0].outputs = [read.cells[0].outputs![0]];
  assert.equal(serializeNotebook(migrated), serializeNotebook(live));
  assert.equal(await rasterizeFigures(read), 0, "a second run changes nothing");
});

Deno.test("reference: every committed notebook's figure carries a PNG and alt text", async () => {
  const dir = new URL("../notebooks/reference/", import.meta.url).pathname;
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    n.endsWith(".ipynb")
  ).sort();
  assert.equal(names.length, 5);
  for (const name of names) {
    const nb = await readNotebook(dir + name);
    let figures = 0;
    for (const cell of nb.cells) {
      for (const output of cell.outputs ?? []) {
        if (!("data" in output)) continue;
        const data = output.data as Record<string, unknown>;
        assert.equal(
          data["image/svg+xml"],
          undefined,
          `${name}: an SVG output (hidden when untrusted); run ` +
            "deno task reference --png-figures " + name,
        );
        if (data["image/png"] === undefined) continue;
        figures++;
        assert.match(
          joinText(data["text/plain"] as string[]),
          /^Figure\b.*\[\d+x\d+ image\]$/,
          `${name}: figure without alt text`,
        );
      }
    }
    assert.ok(figures > 0, `${name} shows no figure`);
  }
});

Deno.test("reference: the committed notebooks come from one commit, say their wall time, show no output over 60 lines, and figures/ holds exactly their figures", async () => {
  const dir = new URL("../notebooks/reference/", import.meta.url).pathname;
  const reference = JSON.parse(await Deno.readTextFile(dir + "results.json"));
  const commits = new Set(
    (reference.rows as ReferenceRecord[]).map((r) => r.commit),
  );
  assert.equal(commits.size, 1, `rows from commits ${[...commits]}`);
  assert.match(String([...commits][0]), /^[0-9a-f]{7,}$/);
  for (const r of reference.rows as ReferenceRecord[]) {
    assert.ok(
      (r.notebook_seconds ?? 0) > 0,
      `${r.experiment}: notebook time`,
    );
  }
  assert.equal(reference.produced.commits, [...commits][0]);
  const names = [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((n) => n.endsWith(".ipynb")).sort();
  const expected: string[] = [];
  for (const name of names) {
    const nb = await readNotebook(dir + name);
    const long = longOutputs(nb);
    assert.deepEqual(
      long,
      [],
      `${name}: outputs over ${MAX_OUTPUT_LINES} lines`,
    );
    const experiment = (reference.rows as ReferenceRecord[])
      .find((r) => r.experiment.startsWith(name.slice(0, 3)))!.experiment;
    let figure = 0;
    for (const cell of nb.cells) {
      for (const output of cell.outputs ?? []) {
        const data = (output as { data?: Record<string, unknown> }).data;
        if (data?.["image/png"] !== undefined) {
          figure++;
          expected.push(`${experiment}-${String(figure).padStart(2, "0")}.png`);
        }
      }
    }
  }
  const present = [...Deno.readDirSync(dir + "figures")].map((e) => e.name);
  assert.deepEqual(present.sort(), expected.sort());
});

Deno.test("reference: folding a run records its commit and notebook times, drops the experiment's old figures, and asks for --commit when the report lacks one", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const run = `${tmp}/run`;
    const ref = `${tmp}/ref`;
    await Deno.mkdir(`${run}/results`, { recursive: true });
    await Deno.mkdir(`${run}/notebooks`);
    await Deno.mkdir(`${ref}/figures`, { recursive: true });
    await Deno.writeTextFile(
      `${run}/results/001-mnist-lenet5.results.json`,
      JSON.stringify(
        results("001-mnist-lenet5", [row("001-mnist-lenet5", "lenet5", 0.99)]),
      ),
    );
    const fig = composeFigure([
      Plot.plot({
        document: plotDocument(),
        width: 60,
        height: 40,
        marks: [Plot.frame()],
      }),
    ], { title: "A frame" });
    const nb = makeNotebook(["fig"]);
    nb.cells[0].outputs = [{
      output_type: "display_data",
      data: { ...(await figureBundle(fig.svg)) },
      metadata: {},
    }];
    await Deno.writeTextFile(
      `${run}/notebooks/001_mnist_lenet5.ipynb`,
      serializeNotebook(nb),
    );
    await Deno.writeTextFile(
      `${ref}/figures/001-mnist-lenet5-01.svg`,
      "<svg/>",
    );
    await Deno.writeTextFile(`${ref}/figures/001-mnist-lenet5-02.png`, "old");
    await Deno.writeTextFile(`${ref}/figures/002-x-01.png`, "kept");
    const fold = (...args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../scripts/reference.ts", import.meta.url).pathname,
          run,
          "--ref",
          ref,
          ...args,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const report = {
      notebooks: [{ experiment: "001-mnist-lenet5", seconds: 330 }],
    };
    await Deno.writeTextFile(`${run}/results.json`, JSON.stringify(report));
    const refused = await fold();
    assert.equal(refused.success, false);
    assert.match(new TextDecoder().decode(refused.stderr), /--commit HASH/);
    await Deno.writeTextFile(
      `${run}/results.json`,
      JSON.stringify({ ...report, commit: "abc1234" }),
    );
    const folded = await fold();
    assert.ok(folded.success, new TextDecoder().decode(folded.stderr));
    const written = JSON.parse(await Deno.readTextFile(`${ref}/results.json`));
    assert.equal(written.rows[0].commit, "abc1234");
    assert.equal(written.rows[0].notebook_seconds, 330);
    assert.equal(written.produced.commits, "abc1234");
    assert.equal(written.produced.total_minutes, "5.5");
    assert.deepEqual(
      [...Deno.readDirSync(`${ref}/figures`)].map((e) => e.name).sort(),
      ["001-mnist-lenet5-01.png", "002-x-01.png"],
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
