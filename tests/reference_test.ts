/**
 * The committed reference run is folded together one experiment at a time:
 * new rows replace that experiment's old ones, keep the others, and say when
 * and how they were produced; the committed file reads back as a reference.
 */
import assert from "node:assert/strict";
import type { NotebookResults, ResultRow } from "../lib/experiments/mod.ts";
import {
  mergeReferenceRows,
  referenceMarkdown,
  type ReferenceRecord,
} from "../scripts/reference.ts";
import { readReference, REFERENCE_PATH } from "../scripts/reproduce.ts";

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
