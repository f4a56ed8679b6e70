/**
 * `deno task reproduce`'s report, built from what the notebooks saved: this
 * run beside the committed reference run, failures named, the reference's
 * absence or damage handled.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { NotebookResults, ResultRow } from "../lib/experiments/mod.ts";
import {
  type NotebookOutcome,
  readNotebookResults,
  readReference,
  reportMarkdown,
} from "../scripts/reproduce.ts";

const ROW: ResultRow = {
  experiment: "001-mnist-lenet5",
  model: "lenet5",
  dataset: "mnist",
  split: "test",
  accuracy: 0.9812,
  test_samples: 10000,
  train_samples: 60000,
  epochs: 2,
  train_seconds: 75.5,
  backend: "wasm",
  params: 61706,
  published: "0.95% test error (99.05%)",
  published_accuracy: 0.9905,
  data_note: "validated on the test split, as the tutorial does",
};

function saved(rows: ResultRow[]): NotebookResults {
  return {
    experiment: "001-mnist-lenet5",
    scale: "quick",
    backend: "wasm",
    seed: 42,
    rows,
    notes: ["SUBSTITUTE: none here, just a note"],
    written_at: "2026-11-29T00:00:00Z",
  };
}

const EXPERIMENT_001 = {
  id: "001-mnist-lenet5",
  tutorial: "001",
  notebook: "notebooks/001_mnist_lenet5.ipynb",
  title: "MNIST LeNet-5",
};

function inputs(notebooks: NotebookOutcome[], reference = null as never) {
  return {
    scale: "quick" as const,
    seed: 42,
    backend: "auto",
    started: new Date("2026-11-29T00:00:00Z"),
    seconds: 600,
    machine: "test machine",
    mirror: null,
    notebooks,
    reference,
  };
}

Deno.test("report: this run beside the reference run, per model and split", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "results.json");
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        produced: { date: "2026-11-28", scale: "full" },
        rows: [{ ...ROW, accuracy: 0.9907, epochs: 21 }],
      }),
    );
    const reference = await readReference(path);
    assert.ok(reference);
    const md = reportMarkdown({
      ...inputs([{
        experiment: EXPERIMENT_001,
        status: "ok",
        seconds: 120,
        failure: null,
        executed: "notebooks/001_mnist_lenet5.ipynb",
        results: saved([ROW]),
      }]),
      reference,
    });
    assert.match(md, /# Reproduction report \(quick scale\)/);
    assert.match(
      md,
      /\| 001-mnist-lenet5 \| lenet5 \| test \| 98\.12% \| 2 \| 75\.5 \| wasm \| 99\.07% \| 21 \| 0\.95% test error/,
    );
    assert.match(md, /date: 2026-11-28; scale: full/);
    assert.match(md, /every notebook ran and saved its results/);
    assert.match(md, /WebGPU is not bit-exact/);
    assert.match(md, /on `wasm`, seed 42/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report: no reference committed, and a notebook that saved nothing is a failure", () => {
  const md = reportMarkdown(inputs([{
    experiment: EXPERIMENT_001,
    status: "failed",
    seconds: 3,
    failure: "cell 4: Error: boom",
    executed: null,
    results: null,
  }]));
  assert.match(md, /No reference run is committed/);
  assert.match(md, /FAILURES: 001-mnist-lenet5/);
  assert.match(md, /FAILED \(failed\)/);
  assert.match(md, /saved no results/);
  assert.match(md, /cell 4: Error: boom/);
});

Deno.test("readReference: absent is null, damaged is a clear error; readNotebookResults likewise", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await readReference(join(dir, "none.json")), null);
    const bad = join(dir, "bad.json");
    await Deno.writeTextFile(bad, "{ not json");
    await assert.rejects(
      () => readReference(bad),
      /bad\.json is not valid JSON/,
    );
    await Deno.writeTextFile(bad, JSON.stringify({ rows: [{ model: "x" }] }));
    await assert.rejects(() => readReference(bad), /has no valid "rows"/);
    assert.equal(await readNotebookResults(dir, "001-mnist-lenet5"), null);
    await Deno.writeTextFile(
      join(dir, "001-mnist-lenet5.results.json"),
      JSON.stringify(saved([ROW])),
    );
    assert.deepEqual(
      (await readNotebookResults(dir, "001-mnist-lenet5"))?.rows,
      [ROW],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
