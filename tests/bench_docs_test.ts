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
  recipesAboveCeiling,
  renderBenchmarksMarkdown,
  speedBlock,
} from "../scripts/bench_docs.ts";
import { BENCH_MODELS } from "../scripts/bench.ts";
import { buildModel, countMultiplyAdds, MODELS } from "../lib/models/mod.ts";
import { initBackend } from "../lib/backend/mod.ts";

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

Deno.test("committed bench JSON: multiply-adds per sample are the models' counts, rates are samples/s times them", async () => {
  await initBackend({ backend: "cpu", verbose: false });
  assert.equal(report.schema, 2);
  for (const model of BENCH_MODELS) {
    const net = buildModel(model, { seed: 1 });
    const macs = countMultiplyAdds(net);
    net.dispose();
    for (const r of report.rows.filter((x) => x.model === model)) {
      assert.equal(
        r.macs_per_train_sample,
        macs.training,
        `${model} ${r.backend}`,
      );
      assert.equal(
        r.macs_per_infer_sample,
        macs.inference,
        `${model} ${r.backend}`,
      );
      // The samples/s are rounded to 1/s; the rates to 0.01 GMAC/s.
      const slack = macs.training / 1e9 + 0.006;
      assert.ok(
        Math.abs(
          r.train_gmacs_per_s - r.train_samples_per_s * macs.training / 1e9,
        ) <= slack,
        `${model} ${r.backend}: ${r.train_gmacs_per_s} GMAC/s`,
      );
    }
  }
});

Deno.test("bench docs: the recipes above the ceiling follow the ceiling and PyTorch's rates, and the page names them", () => {
  assert.ok(
    report.simd_ceiling !== null,
    "the committed run measured no ceiling",
  );
  const torchRates = new Map<string, number>();
  for (const r of report.rows.filter((x) => x.backend.startsWith("pytorch"))) {
    torchRates.set(
      r.model,
      Math.max(torchRates.get(r.model) ?? 0, r.train_gmacs_per_s),
    );
  }
  const expected = [...torchRates].filter(([, rate]) =>
    rate > report.simd_ceiling!.gmacs_per_s
  ).map(([model]) => model);
  assert.deepEqual(recipesAboveCeiling(report).map((a) => a.model), expected);
  const page = renderBenchmarksMarkdown(report);
  const readme = speedBlock(report);
  for (const model of expected) {
    assert.match(
      page,
      new RegExp(`${model} \\([\\d.]+ GMAC/s, [\\d.]+x the ceiling\\)`),
    );
    assert.ok(readme.includes(`${model} at `), `README block lacks ${model}`);
  }
  // A ceiling above every rate leaves none; one below every rate names all.
  const high = structuredClone(report);
  high.simd_ceiling!.gmacs_per_s = 1e9;
  assert.deepEqual(recipesAboveCeiling(high), []);
  assert.match(
    renderBenchmarksMarkdown(high),
    /PyTorch stayed below the ceiling on every recipe/,
  );
  const low = structuredClone(report);
  low.simd_ceiling!.gmacs_per_s = 1e-9;
  assert.deepEqual(recipesAboveCeiling(low).map((a) => a.model), [
    ...torchRates.keys(),
  ]);
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
