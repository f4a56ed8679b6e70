/**
 * Cells run twice (issue 19): notebooks 001, 003 and 004 are executed at
 * smoke scale with the real Deno kernel, then every code cell is executed a
 * second time in the same kernel, last cell first, so each cell runs again
 * on the state the whole notebook left (a cell that deleted or disposed what
 * an earlier cell needs fails here). The first pass also checks that no
 * output is a wall of text (at most 60 lines). Needs the dataset mirror; a
 * few minutes on a 2-core CPU.
 */
import assert from "node:assert/strict";
import { dirname, resolve } from "node:path";
import {
  joinText,
  KernelClient,
  readNotebook,
} from "../scripts/_jupyter/mod.ts";
import { dataLocationEnv } from "../lib/data/fetch.ts";
import { mirrorHas } from "./data_fixtures.ts";

const MAX_LINES = 60;

/** Lines a reader sees in one output: its text, or text/plain alone. */
function outputLines(output: Record<string, unknown>): number {
  const text = (v: unknown) => joinText(v as string | string[]);
  if (output.output_type === "stream") {
    return text(output.text).split("\n").length;
  }
  const data = (output.data ?? {}) as Record<string, unknown>;
  const rich = Object.keys(data).some((k) =>
    k.startsWith("image/") || k === "text/html" || k === "text/markdown"
  );
  return rich || !("text/plain" in data)
    ? 0
    : text(data["text/plain"]).split("\n").length;
}

const NOTEBOOKS = [
  ["001_mnist_lenet5", "mnist"],
  ["003_fashion_mnist_variants", "fashion-mnist"],
  ["004_cifar10_cnn", "cifar10-subset"],
] as const;

for (const [name, dataset] of NOTEBOOKS) {
  Deno.test({
    name:
      `${name}: every cell runs again after the whole notebook ran; no output over ${MAX_LINES} lines`,
    ignore: !mirrorHas(dataset),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const path = resolve(`notebooks/${name}.ipynb`);
      const notebook = await readNotebook(path);
      const cells = notebook.cells
        .map((cell, index) => ({ cell, index }))
        .filter(({ cell }) =>
          cell.cell_type === "code" && joinText(cell.source).trim() !== ""
        );
      const kernel = await KernelClient.start({
        cwd: dirname(path),
        env: { ...dataLocationEnv(), CNN_SCALE: "smoke", NO_COLOR: "1" },
      });
      try {
        const run = async (index: number, source: string, pass: string) => {
          const result = await kernel.execute(source, { timeoutMs: 600_000 });
          assert.equal(
            result.status,
            "ok",
            `${name} cell ${index + 1} (${pass}): ${result.message}`,
          );
          return result.cell.outputs;
        };
        for (const { cell, index } of cells) {
          const outputs = await run(index, joinText(cell.source), "first run");
          for (const output of outputs) {
            const lines = outputLines(output as Record<string, unknown>);
            assert.ok(
              lines <= MAX_LINES,
              `${name} cell ${index + 1}: an output of ${lines} lines`,
            );
          }
        }
        for (const { cell, index } of [...cells].reverse()) {
          await run(index, joinText(cell.source), "run again");
        }
      } finally {
        await kernel.shutdown();
      }
    },
  });
}
