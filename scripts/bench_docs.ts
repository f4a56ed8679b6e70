/**
 * `docs/benchmarks.md` from the bench's JSON (`docs/benchmarks.json`, written
 * by `deno task bench --write-docs`): the machine, its SIMD level, the date
 * and commit of the run, and per recipe the training and inference speed of
 * each engine with its ratio to PyTorch's faster thread setting. The markdown
 * is never typed by hand: `tests/bench_docs_test.ts` regenerates it from the
 * committed JSON and fails on any difference.
 *
 * ```sh
 * deno task bench-docs            # rewrite docs/benchmarks.md
 * deno task bench-docs --check    # exit 1 if it is stale
 * ```
 *
 * @module
 */
import { parseCli, runCli } from "./_cli.ts";

/** The machine a bench ran on. */
export interface BenchMachine {
  /** CPU model name (`lscpu`'s "Model name"). */
  cpu: string;
  /** Logical CPUs. */
  cores: number;
  /** Widest x86 vector extension the CPU reports: "AVX-512", "AVX2", "AVX", "SSE4.2" or "unknown". */
  simd: string;
  /** The vector flags behind `simd` (avx512f, avx2, fma, ...). */
  simd_flags: string[];
  /** Operating system (`Deno.build`). */
  os: string;
  /** Deno version. */
  deno: string;
  /** TensorFlow.js core version. */
  tfjs: string;
  /** PyTorch version, when it ran. */
  torch: string | null;
}

/** One engine's result for one recipe (medians over rounds). */
export interface BenchRow {
  /** Model name in the registry (`buildModel`). */
  model: string;
  /** Notebook that trains it ("000".."004"). */
  notebook: string;
  /** How the notebook's training step is written: "fit", "minimize" or "variableGrads". */
  step: string;
  /** Engine: a tfjs backend (wasm, wasm-1t, wasm-x2, cpu, webgpu), pytorch (all cores) or pytorch-1t. */
  backend: string;
  /** Threads (cores) the engine computes on. */
  threads: number;
  /** Threads of the project's wasm kernels per model replica; null elsewhere. */
  kernel_threads: number | null;
  batch_size: number;
  optimizer: string;
  learning_rate: number;
  /** Input `[height, width, channels]`. */
  input_shape: number[];
  rounds: number;
  train_samples_per_s: number;
  infer_samples_per_s: number;
  /** Every round's figures, in order (noise is visible from them). */
  train_rounds: number[];
  infer_rounds: number[];
  pytorch_train_samples_per_s: number | null;
  pytorch_train_threads: number | null;
  ratio_to_pytorch: number | null;
  pytorch_infer_samples_per_s: number | null;
  pytorch_infer_threads: number | null;
  infer_ratio_to_pytorch: number | null;
  /** The model's trainable parameters (the registry's `trainableParams`). */
  params: number;
  /** Multiply-adds of one training sample (`countMultiplyAdds`: forward, weight and input gradients). */
  macs_per_train_sample: number;
  /** Multiply-adds of one inference sample (the forward pass). */
  macs_per_infer_sample: number;
  /** Sustained training rate: samples/s x multiply-adds per sample, in billions a second. */
  train_gmacs_per_s: number;
  /** Sustained inference rate, in billions of multiply-adds a second. */
  infer_gmacs_per_s: number;
}

/** The SIMD kernels' multiply-add ceiling (`measureSimdCeiling`), once per round. */
export interface BenchCeiling {
  /** Median over rounds, billions of multiply-adds a second, all threads. */
  gmacs_per_s: number;
  /** Every round's figure, in order. */
  rounds: number[];
  /** Threads that computed it (2 where the kernel thread runs). */
  threads: number;
}

/** What `deno task bench --json` prints and `--write-docs` commits. */
export interface BenchReport {
  /** Format version of this object (2: multiply-add rates and the ceiling). */
  schema: 2;
  /** The command that produced it. */
  command: string;
  /** "quick" (one round, fewer samples) or "full" (median of rounds). */
  mode: "quick" | "full";
  rounds: number;
  /** When the run started (ISO 8601). */
  date: string;
  /** Commit of the checkout (short hash), "+dirty" when it had changes. */
  commit: string;
  machine: BenchMachine;
  /** Load averages (1, 5, 15 min) before and after: other work skews figures. */
  load: { before: number[]; after: number[] };
  /** Inference batch size. */
  infer_batch: number;
  /** Warm-up before each measurement, every engine alike: batches, repeated for at least `seconds`. */
  warm: { batches: number; seconds: number };
  /** The SIMD kernels' ceiling, where the wasm engine ran; else null. */
  simd_ceiling: BenchCeiling | null;
  rows: BenchRow[];
}

/** A recipe whose PyTorch training rate exceeds the SIMD kernels' ceiling. */
export interface AboveCeiling {
  model: string;
  /** PyTorch's faster setting, billions of multiply-adds a second. */
  pytorch_gmacs_per_s: number;
  /** That rate over the ceiling. */
  times_ceiling: number;
}

/**
 * The recipes that PyTorch trains at more multiply-adds a second than the
 * SIMD kernels' ceiling allows: there, no convolution in 128-bit
 * WebAssembly SIMD can reach 1.0x, however little else it spends.
 *
 * @example
 * ```ts
 * import { recipesAboveCeiling } from "./bench_docs.ts";
 * const report = JSON.parse(Deno.readTextFileSync("docs/benchmarks.json"));
 * for (const r of recipesAboveCeiling(report)) console.log(r.model, r.times_ceiling);
 * ```
 */
export function recipesAboveCeiling(report: BenchReport): AboveCeiling[] {
  const ceiling = report.simd_ceiling?.gmacs_per_s;
  if (ceiling === undefined) return [];
  const found: AboveCeiling[] = [];
  for (const model of new Set(report.rows.map((r) => r.model))) {
    const torch = report.rows.filter((r) =>
      r.model === model && r.backend.startsWith("pytorch")
    );
    if (torch.length === 0) continue;
    const rate = Math.max(...torch.map((r) => r.train_gmacs_per_s));
    if (rate > ceiling) {
      found.push({
        model,
        pytorch_gmacs_per_s: rate,
        times_ceiling: Number((rate / ceiling).toFixed(2)),
      });
    }
  }
  return found;
}

/** The rows with the lowest and the highest `value` (the first of ties). */
function _extremes<T>(rows: readonly T[], value: (row: T) => number): [T, T] {
  const low = rows.reduce((a, b) => (value(a) <= value(b) ? a : b));
  const high = rows.reduce((a, b) => (value(a) >= value(b) ? a : b));
  return [low, high];
}

/** The ceiling paragraph of the benchmark page. */
function _ceilingText(report: BenchReport): string {
  const c = report.simd_ceiling;
  if (c === null) {
    return "The SIMD kernels' ceiling was not measured (no wasm engine in this run).";
  }
  const [low, high] = _extremes(
    report.rows.filter((r) => r.backend === "wasm"),
    (r) => r.train_gmacs_per_s,
  );
  const above = recipesAboveCeiling(report);
  const text = [
    `The SIMD kernels' ceiling on this machine: ${c.gmacs_per_s.toFixed(1)} ` +
    `GMAC/s on ${c.threads} thread${
      c.threads === 1 ? "" : "s"
    } (\`multiply_add_peak\`: ` +
    "the convolution kernels' register block on data in L1 cache, " +
    "128-bit WebAssembly SIMD; median of " +
    `${c.rounds.length} round${c.rounds.length === 1 ? "" : "s"}). ` +
    `Over whole training steps wasm sustained ${
      low.train_gmacs_per_s.toFixed(1)
    } ` +
    `(${low.model}) to ${
      high.train_gmacs_per_s.toFixed(1)
    } GMAC/s (${high.model}).`,
  ];
  text.push(
    above.length === 0
      ? "PyTorch stayed below the ceiling on every recipe."
      : "PyTorch trained faster than the ceiling itself on " +
        above.map((a) =>
          `${a.model} (${a.pytorch_gmacs_per_s.toFixed(1)} GMAC/s, ` +
          `${a.times_ceiling.toFixed(2)}x the ceiling)`
        ).join(", ") +
        ": there no direct convolution in 128-bit WebAssembly SIMD can " +
        "reach 1.0x, however little else it spends.",
  );
  return text.join(" ");
}

/** Options of {@linkcode speedBlock}. */
export interface SpeedBlockOptions {
  /** A sentence to end the paragraph with. Default: none. */
  extra?: string;
}

/**
 * The README's speed paragraph: the default engine's lowest and highest
 * training and inference ratios to PyTorch's faster setting, how many
 * recipes reach 1.0x, the machine, and the recipes PyTorch trains above
 * the SIMD kernels' ceiling; the per-recipe table stays in
 * `docs/benchmarks.md`.
 *
 * @example
 * ```ts
 * import { speedBlock } from "./bench_docs.ts";
 * const report = JSON.parse(Deno.readTextFileSync("docs/benchmarks.json"));
 * console.log(speedBlock(report));
 * ```
 */
export function speedBlock(
  report: BenchReport,
  options: SpeedBlockOptions = {},
): string {
  const m = report.machine;
  const wasm = report.rows.filter((r) => r.backend === "wasm");
  const span = (key: "ratio_to_pytorch" | "infer_ratio_to_pytorch") => {
    const rows = wasm.filter((r) => r[key] !== null);
    if (rows.length === 0) return "not compared (no PyTorch)";
    const [low, high] = _extremes(rows, (r) => r[key]!);
    const atLeast = rows.filter((r) => r[key]! >= 1).length;
    return `${low[key]!.toFixed(2)}x (${low.model}) to ` +
      `${high[key]!.toFixed(2)}x (${high.model}), ${atLeast} of ` +
      `${rows.length} at 1.0x or more`;
  };
  const above = recipesAboveCeiling(report);
  const ceiling = report.simd_ceiling;
  const parts = [
    `\`deno task bench\` at ${report.commit} (${m.cpu}, ${m.cores} CPUs, ` +
    `${m.simd}), wasm against PyTorch's faster setting: training ` +
    `${span("ratio_to_pytorch")}; inference ` +
    `${span("infer_ratio_to_pytorch")}.`,
  ];
  if (ceiling !== null && above.length > 0) {
    parts.push(
      "PyTorch trained " +
        above.map((a) => `${a.model} at ${a.times_ceiling.toFixed(2)}x`)
          .join(", ") +
        " the ceiling of 128-bit WebAssembly SIMD here " +
        `(${ceiling.gmacs_per_s.toFixed(1)} GMAC/s).`,
    );
  } else if (ceiling !== null) {
    parts.push(
      `PyTorch stayed below the SIMD kernels' ceiling ` +
        `(${ceiling.gmacs_per_s.toFixed(1)} GMAC/s) on every recipe.`,
    );
  }
  if (options.extra) parts.push(options.extra);
  parts.push("[Per recipe](docs/benchmarks.md).");
  return parts.join(" ");
}

const _ENGINES: Record<string, string> = {
  "wasm": "wasm (default)",
  "wasm-1t": "wasm, one thread",
  "wasm-x2": "wasm, 2 data-parallel replicas",
  "cpu": "cpu (JavaScript)",
  "webgpu": "webgpu",
  "tensorflow": "tensorflow (native)",
  "pytorch": "PyTorch, all cores",
  "pytorch-1t": "PyTorch, one thread",
};

function _int(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function _ratio(r: number | null): string {
  if (r === null) return "";
  const text = `${r.toFixed(2)}x`;
  return r < 1 ? `**${text}**` : text;
}

function _table(header: string[], rows: string[][], right: boolean[]): string {
  const lines = [
    `| ${header.join(" | ")} |`,
    `| ${right.map((r) => (r ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
  return lines.join("\n");
}

/**
 * The markdown page for a bench report: machine, SIMD level, date and
 * commit, then one table row per recipe and engine. Deterministic: the same
 * report always gives the same text.
 *
 * @example
 * ```ts
 * import { renderBenchmarksMarkdown } from "./bench_docs.ts";
 * const report = JSON.parse(Deno.readTextFileSync("docs/benchmarks.json"));
 * console.log(renderBenchmarksMarkdown(report).split("\n")[0]);
 * ```
 */
export function renderBenchmarksMarkdown(report: BenchReport): string {
  const m = report.machine;
  const models = [...new Set(report.rows.map((r) => r.model))];
  const tfjsRows = report.rows.filter((r) => !r.backend.startsWith("pytorch"));
  const defaults = tfjsRows.filter((r) => r.backend === "wasm");
  const worst = (key: "ratio_to_pytorch" | "infer_ratio_to_pytorch") => {
    const ratios = defaults.filter((r) => r[key] !== null);
    if (ratios.length === 0) return "no PyTorch figures";
    const [low] = _extremes(ratios, (r) => r[key]!);
    return `${low[key]!.toFixed(2)}x (${low.model})`;
  };
  const below = (key: "ratio_to_pytorch" | "infer_ratio_to_pytorch") =>
    defaults.filter((r) => r[key] !== null && r[key]! < 1).map((r) => r.model);
  const out: string[] = [];
  out.push("# Benchmarks");
  out.push("");
  out.push(
    "<!-- Generated by scripts/bench_docs.ts from docs/benchmarks.json; " +
      "do not edit by hand: rerun `deno task bench --write-docs`. -->",
  );
  out.push("");
  out.push(
    "Training and inference speed of every model the notebooks train, each " +
      "with its notebook's recipe (optimizer, learning rate, batch size, input " +
      "size, training step), against a PyTorch twin of the same architecture, " +
      "batch and optimizer measured in the same run, rounds interleaved. " +
      "Random inputs; warm-up excluded (the same for every engine: see " +
      "the table); samples per second, and " +
      "training multiply-adds per second (GMAC/s: samples/s times the " +
      "model's multiply-adds per training sample, `countMultiplyAdds`). Ratios " +
      "divide by PyTorch's faster thread setting (one thread or all cores), " +
      "chosen separately for training and inference; ratios below 1 are bold.",
  );
  out.push("");
  out.push(
    _table(["", ""], [
      ["command", `\`${report.command}\``],
      [
        "mode",
        report.mode === "quick"
          ? "quick (one round, fewer samples: a development look, noisy)"
          : `full (median of ${report.rounds} rounds)`,
      ],
      ["date", report.date],
      ["commit", report.commit],
      ["CPU", `${m.cpu}, ${m.cores} logical CPUs`],
      ["SIMD level", `${m.simd} (${m.simd_flags.join(", ") || "none"})`],
      ["OS", m.os],
      [
        "software",
        `Deno ${m.deno}, TensorFlow.js ${m.tfjs}` +
        (m.torch ? `, PyTorch ${m.torch}` : ", PyTorch not run"),
      ],
      [
        "load average (1/5/15 min)",
        `${report.load.before.join(" / ")} before, ` +
        `${report.load.after.join(" / ")} after`,
      ],
      ["inference batch", String(report.infer_batch)],
      [
        "warm-up per measurement",
        `${report.warm.batches} training batches, repeated for at least ` +
        `${report.warm.seconds} s`,
      ],
    ], [false, false]),
  );
  out.push("");
  out.push(
    `Lowest ratio of the default engine (wasm): training ${
      worst("ratio_to_pytorch")
    }, inference ${worst("infer_ratio_to_pytorch")}.`,
  );
  const trainBelow = below("ratio_to_pytorch");
  const inferBelow = below("infer_ratio_to_pytorch");
  out.push(
    trainBelow.length + inferBelow.length === 0
      ? "Every recipe trains and infers at least as fast as PyTorch in this run."
      : `Below PyTorch in this run: training ${
        trainBelow.join(", ") || "none"
      }; inference ${inferBelow.join(", ") || "none"}.`,
  );
  out.push("");
  out.push(_ceilingText(report));
  out.push("");
  const rows: string[][] = [];
  for (const model of models) {
    for (const r of report.rows.filter((x) => x.model === model)) {
      rows.push([
        r.model,
        r.notebook,
        `${r.optimizer} ${r.learning_rate}, batch ${r.batch_size}, ` +
        `${r.input_shape.join("x")}, ${r.step}`,
        _ENGINES[r.backend] ?? r.backend,
        String(r.threads),
        _int(r.train_samples_per_s),
        _int(r.infer_samples_per_s),
        r.train_gmacs_per_s.toFixed(1),
        r.backend.startsWith("pytorch") ? "" : _ratio(r.ratio_to_pytorch),
        r.backend.startsWith("pytorch") ? "" : _ratio(r.infer_ratio_to_pytorch),
      ]);
    }
  }
  out.push(
    _table(
      [
        "model",
        "notebook",
        "recipe",
        "engine",
        "threads",
        "train/s",
        "infer/s",
        "train GMAC/s",
        "train vs PyTorch",
        "infer vs PyTorch",
      ],
      rows,
      [false, false, false, false, true, true, true, true, true, true],
    ),
  );
  out.push("");
  out.push(
    "Round by round (training samples/s per round, in order): " +
      "spread between rounds shows the machine's noise.",
  );
  out.push("");
  out.push(
    _table(
      ["model", "engine", "train rounds", "infer rounds"],
      report.rows.map((r) => [
        r.model,
        r.backend,
        r.train_rounds.map(_int).join(", "),
        r.infer_rounds.map(_int).join(", "),
      ]),
      [false, false, true, true],
    ),
  );
  out.push("");
  return out.join("\n");
}

/** Where the committed report and page live. */
export const BENCH_DOCS = {
  json: new URL("../docs/benchmarks.json", import.meta.url),
  markdown: new URL("../docs/benchmarks.md", import.meta.url),
};

/**
 * Writes `docs/benchmarks.json` (the report, as given) and the markdown
 * generated from it.
 *
 * @example
 * ```ts
 * import { writeBenchDocs } from "./bench_docs.ts";
 * const report = JSON.parse(Deno.readTextFileSync("docs/benchmarks.json"));
 * await writeBenchDocs(report);
 * ```
 */
export async function writeBenchDocs(report: BenchReport): Promise<void> {
  await Deno.mkdir(new URL(".", BENCH_DOCS.json), { recursive: true });
  await _writeAtomic(BENCH_DOCS.json, JSON.stringify(report, null, 2) + "\n");
  await _writeAtomic(BENCH_DOCS.markdown, renderBenchmarksMarkdown(report));
}

async function _writeAtomic(url: URL, text: string): Promise<void> {
  const tmp = new URL(`${url.pathname}.tmp`, url);
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, url);
}

const USAGE = "usage: deno run -A scripts/bench_docs.ts [--check]";

async function main(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, { check: { type: "boolean" } });
  const report = JSON.parse(
    await Deno.readTextFile(BENCH_DOCS.json),
  ) as BenchReport;
  const text = renderBenchmarksMarkdown(report);
  if (values.check) {
    const current = await Deno.readTextFile(BENCH_DOCS.markdown);
    if (current !== text) {
      console.error(
        "docs/benchmarks.md differs from what docs/benchmarks.json gives: " +
          "run `deno run -A scripts/bench_docs.ts` (never edit it by hand).",
      );
      return 1;
    }
    return 0;
  }
  await _writeAtomic(BENCH_DOCS.markdown, text);
  console.log(`wrote ${BENCH_DOCS.markdown.pathname}`);
  return 0;
}

if (import.meta.main) runCli(USAGE, main);
