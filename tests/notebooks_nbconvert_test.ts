/**
 * The standard Jupyter tools on our notebooks (Debian's nbconvert 6.5 and
 * nbclient from `/usr/bin/python3`; skipped where they are missing):
 *
 * - `nbconvert --to html` of each committed reference notebook, untrusted as
 *   every cloned notebook is, shows every figure as an `<img>` with PNG data;
 * - `nbconvert --to notebook --execute` with the project's kernelspec runs
 *   all five notebooks at smoke scale without an error;
 * - after that, every code cell runs a second time in the same kernel without
 *   an error, last cell first, so each runs again in the state the whole
 *   notebook left (a reader going back to a cell);
 * - no output of those executed notebooks is longer than 60 lines.
 *
 * One execution serves the last three checks: the nbconvert run uses
 * `tests/_nbconvert_twice.py`, nbconvert's own execute preprocessor plus the
 * second pass (recorded in the notebook's metadata) and a short wait after
 * each cell's `idle` for outputs the Deno kernel publishes late. Set
 * `KEEP_EXECUTED=1` to keep the executed notebooks (the path is printed).
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  joinText,
  type Notebook,
  readNotebook,
} from "../scripts/jupyter/mod.ts";
import { installKernel } from "../scripts/kernel.ts";
import { longOutputs, MAX_OUTPUT_LINES } from "./_output_lines.ts";

const PYTHON = "/usr/bin/python3";
const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const NOTEBOOKS = join(ROOT, "notebooks");
const REFERENCE = join(NOTEBOOKS, "reference");
const MIRROR = join(ROOT, "..", "shared", "datasets");

function _hasNbconvert(): boolean {
  try {
    return new Deno.Command(PYTHON, {
      args: ["-c", "import nbconvert, nbclient"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

function _exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const HAS_NBCONVERT = _hasNbconvert();

function _notebooks(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    /^\d{3}_.*\.ipynb$/.test(n)
  ).sort();
}

async function _nbconvert(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ ok: boolean; log: string }> {
  const out = await new Deno.Command(PYTHON, {
    args: ["-m", "nbconvert", ...args],
    cwd: options.cwd,
    env: options.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { ok: out.success, log: decode(out.stdout) + decode(out.stderr) };
}

/**
 * The PNG images of a notebook's outputs, in order: figures (`image/png`) and
 * the training charts inside HTML outputs.
 */
function _pngOutputs(nb: Notebook): { figures: number; pngs: string[] } {
  let figures = 0;
  const pngs = nb.cells.flatMap((cell) =>
    (cell.outputs ?? []).flatMap((output) => {
      if (!("data" in output)) return [];
      const data = output.data as Record<string, unknown>;
      const png = data["image/png"];
      if (png !== undefined) {
        figures++;
        return [joinText(png as string | string[]).replace(/\s/g, "")];
      }
      const html = joinText(data["text/html"] as string[] | undefined);
      return [...html.matchAll(/<img src="data:image\/png;base64,([^"]+)"/g)]
        .map((m) => m[1]);
    })
  );
  return { figures, pngs };
}

Deno.test({
  name:
    "nbconvert --to html: every figure of the untrusted reference notebooks is an <img> with PNG data",
  ignore: !HAS_NBCONVERT,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "nb-html-" });
    try {
      const names = _notebooks(REFERENCE);
      assert.equal(names.length, 5, `reference notebooks: ${names}`);
      const { ok, log } = await _nbconvert([
        "--to",
        "html",
        "--output-dir",
        dir,
        ...names.map((n) => join(REFERENCE, n)),
      ], {
        // A fresh data dir: no notebook is trusted there.
        env: { JUPYTER_DATA_DIR: join(dir, "data") },
      });
      assert.ok(ok, log.slice(-2000));
      for (const name of names) {
        const { figures, pngs } = _pngOutputs(
          await readNotebook(join(REFERENCE, name)),
        );
        assert.ok(figures > 0, `${name} has no figure`);
        const html = await Deno.readTextFile(
          join(dir, name.replace(/\.ipynb$/, ".html")),
        );
        const imgs = [
          ...html.matchAll(/<img\b[^>]*src="data:image\/png;base64,([^"]+)"/g),
        ].map((m) => m[1].replace(/\s/g, ""));
        assert.equal(
          imgs.length,
          pngs.length,
          `${name}: ${imgs.length} <img> for ${pngs.length} figures and charts`,
        );
        assert.deepEqual(
          imgs,
          pngs,
          `${name}: figures differ from the notebook's`,
        );
        for (const img of imgs) {
          assert.ok(img.startsWith("iVBORw0KGgo"), `${name}: not PNG data`);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// One execution of the five notebooks, shared by the tests below.
interface Executed {
  name: string;
  ok: boolean;
  log: string;
  notebook?: Notebook;
}
let executed: Promise<Executed[]> | undefined;

function _execute(): Promise<Executed[]> {
  executed ??= (async () => {
    const scratch = await Deno.makeTempDir({ prefix: "nb-execute-" });
    const folder = scratch;
    globalThis.addEventListener("unload", () => {
      if (!Deno.env.get("KEEP_EXECUTED")) {
        Deno.removeSync(folder, { recursive: true });
      } else console.error(`executed notebooks kept in ${folder}/out`);
    });
    const { jupyterPath } = await installKernel({
      jupyterPath: join(scratch, "jupyter-path"),
      env: { CNN_DATA_MIRROR: MIRROR },
    });
    const results: Executed[] = [];
    for (const name of _notebooks(NOTEBOOKS)) {
      const { ok, log } = await _nbconvert([
        "--to",
        "notebook",
        "--execute",
        "--NotebookExporter.preprocessors",
        "_nbconvert_twice.ExecuteTwice",
        "--ExecutePreprocessor.enabled=False",
        "--ExecuteTwice.enabled=True",
        "--ExecuteTwice.timeout=600",
        "--output-dir",
        join(scratch, "out"),
        name,
      ], {
        cwd: NOTEBOOKS,
        env: {
          CNN_SCALE: "smoke",
          CNN_DATA_MIRROR: MIRROR,
          JUPYTER_PATH: jupyterPath,
          JUPYTER_DATA_DIR: join(scratch, "data"),
          JUPYTER_RUNTIME_DIR: join(scratch, "runtime"),
          PYTHONPATH: join(ROOT, "tests"),
          NO_COLOR: "1",
        },
      });
      const out = join(scratch, "out", name);
      results.push({
        name,
        ok,
        log,
        notebook: _exists(out) ? await readNotebook(out) : undefined,
      });
    }
    return results;
  })();
  return executed;
}

const EXECUTE = HAS_NBCONVERT && _exists(MIRROR);

Deno.test({
  name:
    "nbconvert --execute with the project's kernelspec runs all five notebooks at smoke scale without an error",
  ignore: !EXECUTE,
  async fn() {
    const results = await _execute();
    assert.equal(results.length, 5, results.map((r) => r.name).join(", "));
    const failed = results.filter((r) => !r.ok);
    assert.deepEqual(
      failed.map((r) => r.name),
      [],
      failed.map((r) => `${r.name}:\n${r.log.slice(-1500)}`).join("\n\n"),
    );
    // Figures reached the standard client as PNG with alt text, no SVG.
    for (const r of results) {
      const outputs = r.notebook!.cells.flatMap((c) => c.outputs ?? []);
      const data = outputs.flatMap((o) =>
        "data" in o ? [o.data as Record<string, unknown>] : []
      );
      assert.ok(
        data.some((d) => d["image/png"] && d["text/plain"]),
        `${r.name} shows no PNG figure`,
      );
      assert.ok(
        data.every((d) => d["image/svg+xml"] === undefined),
        `${r.name} has an SVG output (hidden when untrusted)`,
      );
    }
  },
});

Deno.test({
  name:
    "after the whole notebook ran, every code cell runs again without an error (smoke scale, last cell first)",
  ignore: !EXECUTE,
  async fn() {
    const problems: string[] = [];
    for (const r of await _execute()) {
      const second = r.notebook?.metadata.second_run as
        | { failures: { cell: number; ename: string; evalue: string }[] }
        | undefined;
      if (!second) {
        problems.push(`${r.name}: the first run did not finish`);
        continue;
      }
      for (const f of second.failures) {
        const source =
          joinText(r.notebook!.cells[f.cell].source).split("\n")[0];
        problems.push(
          `${r.name} cell ${f.cell} (${source}): ${f.ename}: ${
            f.evalue.split("\n")[0]
          }`,
        );
      }
    }
    assert.deepEqual(problems, [], problems.join("\n"));
  },
});

Deno.test({
  name:
    `no output of the smoke-executed notebooks is longer than ${MAX_OUTPUT_LINES} lines`,
  ignore: !EXECUTE,
  async fn() {
    const problems: string[] = [];
    for (const r of await _execute()) {
      if (!r.notebook) {
        problems.push(`${r.name}: not executed`);
        continue;
      }
      for (const long of longOutputs(r.notebook)) {
        problems.push(
          `${r.name} cell ${long.cell}: ${long.lines} lines (${
            long.first.slice(0, 50)
          })`,
        );
      }
    }
    assert.deepEqual(problems, [], problems.join("\n"));
  },
});
