/**
 * `deno task reproduce --backend B` runs the notebooks on B, and the report
 * records the backend each notebook actually used (read from the kernel).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeNotebook } from "../scripts/jupyter/mod.ts";
import { runNotebooks } from "../scripts/notebooks.ts";
import { writeNotebooks } from "./notebooks_fixtures.ts";

const repo = fileURLToPath(new URL("../", import.meta.url));
const backendModule = new URL("../lib/backend/mod.ts", import.meta.url).href;

Deno.test("reproduce: the notebooks get --backend as CNN_BACKEND and the report names the backend each used", async () => {
  // Inside the repository, so the kernel finds deno.json for the npm imports.
  const dir = await Deno.makeTempDir({ dir: repo, prefix: ".tmp-reproduce-" });
  try {
    const paths = await writeNotebooks(dir, {
      probe: makeNotebook([
        `import { initBackend } from "${backendModule}";\n` +
        "await initBackend({ verbose: false });",
      ]),
      plain: makeNotebook(["1 + 1;"]),
    });
    // What `deno task reproduce --backend cpu` hands the runner.
    const outcome = await runNotebooks([paths.probe, paths.plain], {
      scale: "smoke",
      outDir: join(dir, "out"),
      env: { CNN_BACKEND: "cpu" },
      progress: false,
    });
    assert.deepEqual(outcome.runs.map((r) => r.status), ["ok", "ok"]);
    assert.deepEqual(outcome.runs.map((r) => r.backend ?? null), ["cpu", null]);
    const summary = JSON.parse(
      await Deno.readTextFile(join(dir, "out", "summary.json")),
    );
    assert.deepEqual(
      summary.map((s: { backend: string | null }) => s.backend),
      ["cpu", null],
    );
    const report = await Deno.readTextFile(join(dir, "out", "report.html"));
    assert.match(report, /<td>smoke<\/td><td>cpu<\/td>/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
