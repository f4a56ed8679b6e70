/**
 * The bench's published figures: docs/benchmarks.md is generated from the
 * committed docs/benchmarks.json (a hand edit fails here), that JSON covers
 * every recipe the bench measures against its PyTorch twin, and the twins
 * have the architectures of the models they stand for.
 */
import assert from "node:assert/strict";
import {
  BENCH_DOCS,
  type BenchReport,
  renderBenchmarksMarkdown,
} from "../scripts/bench_docs.ts";
import { BENCH_MODELS } from "../scripts/bench.ts";
import { MODELS } from "../lib/models/mod.ts";

const report = JSON.parse(
  await Deno.readTextFile(BENCH_DOCS.json),
) as BenchReport;

Deno.test("docs/benchmarks.md is what scripts/bench_docs.ts makes of docs/benchmarks.json", async () => {
  const committed = await Deno.readTextFile(BENCH_DOCS.markdown);
  assert.ok(
    committed === renderBenchmarksMarkdown(report),
    "docs/benchmarks.md differs from the JSON beside it: regenerate it with " +
      "`deno run -A scripts/bench_docs.ts` (or rerun `deno task bench " +
      "--write-docs`), never edit it by hand",
  );
});

Deno.test("bench docs: a changed figure changes the page (the check above can fail)", () => {
  const row = report.rows.find((r) => r.backend === "wasm")!;
  const edited: BenchReport = structuredClone(report);
  const target = edited.rows.find((r) =>
    r.backend === "wasm" && r.model === row.model
  )!;
  target.train_samples_per_s = row.train_samples_per_s + 12345;
  const text = renderBenchmarksMarkdown(edited);
  assert.notEqual(text, renderBenchmarksMarkdown(report));
  assert.ok(
    text.includes((row.train_samples_per_s + 12345).toLocaleString("en-US")),
  );
});

Deno.test("bench docs: machine, SIMD level, date and commit are stated", () => {
  const text = renderBenchmarksMarkdown(report);
  assert.match(report.machine.simd, /^(AVX-512|AVX2|AVX|SSE4\.2|unknown)$/);
  for (
    const needle of [
      report.machine.cpu,
      `SIMD level | ${report.machine.simd}`,
      report.date,
      report.commit,
    ]
  ) {
    assert.ok(text.includes(needle), `page lacks ${needle}`);
  }
});

Deno.test("committed bench JSON: every recipe, with the default engine and both PyTorch thread settings", () => {
  for (const model of BENCH_MODELS) {
    const rows = report.rows.filter((r) => r.model === model);
    const engines = rows.map((r) => r.backend);
    for (const engine of ["wasm", "pytorch", "pytorch-1t"]) {
      assert.ok(engines.includes(engine), `${model}: no ${engine} row`);
    }
    const wasm = rows.find((r) => r.backend === "wasm")!;
    const torch = rows.filter((r) => r.backend.startsWith("pytorch"));
    const fastest = Math.max(...torch.map((r) => r.train_samples_per_s));
    assert.equal(wasm.pytorch_train_samples_per_s, fastest, model);
    // Ratios come from unrounded medians; the figures are rounded to 1/s.
    const t = wasm.train_samples_per_s;
    assert.ok(
      Math.abs(wasm.ratio_to_pytorch! - t / fastest) <=
        1 / fastest + t / fastest ** 2 + 0.001,
      `${model}: ratio ${wasm.ratio_to_pytorch} for ${t} / ${fastest}`,
    );
    assert.equal(
      wasm.batch_size,
      MODELS[model].training.batchSize,
      `${model}: batch`,
    );
    assert.equal(wasm.optimizer, MODELS[model].training.optimizer, model);
    assert.deepEqual(wasm.input_shape, [...MODELS[model].inputShape], model);
  }
});

const torchOk = await new Deno.Command("/usr/bin/python3", {
  args: ["-c", "import torch"],
  stdout: "null",
  stderr: "null",
}).output().then((o) => o.success, () => false);

Deno.test({
  name:
    "bench_torch.py: each PyTorch twin has its model's trainable parameter count",
  ignore: !torchOk,
  fn: async () => {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [
        new URL("../scripts/bench_torch.py", import.meta.url).pathname,
        "--params",
      ],
      stdout: "piped",
    }).output();
    assert.ok(out.success);
    const params = JSON.parse(new TextDecoder().decode(out.stdout));
    for (const model of BENCH_MODELS) {
      assert.equal(
        params[model],
        MODELS[model].trainableParams,
        `${model}: twin has ${params[model]} parameters`,
      );
    }
  },
});
