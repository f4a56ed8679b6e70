/**
 * Relative `CNN_DATA_MIRROR` / `CNN_DATA_DIR` mean the directory the user
 * started from, although the kernel runs in the notebook's folder: through
 * the runner, through the kernelspec `deno task kernel` writes, and in a
 * kernel that Jupyter starts from a shell (which inherits `PWD`). Every case
 * starts from an empty cache and needs the dataset mirror.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { runConfigFromEnv, startDirectory } from "../lib/config.ts";
import { installKernel } from "../scripts/kernel.ts";
import { KernelClient, makeNotebook } from "../scripts/jupyter/mod.ts";
import { mirrorHas } from "./data_fixtures.ts";
import { writeNotebooks } from "./notebooks_fixtures.ts";

const MIRROR = runConfigFromEnv().data.mirror;
const HAS_MIRROR = mirrorHas("mnist");
const runner = fileURLToPath(
  new URL("../scripts/notebooks.ts", import.meta.url),
);
const fetchModule = new URL("../lib/data/fetch.ts", import.meta.url).href;
const configModule = new URL("../lib/config.ts", import.meta.url).href;
const registryModule = new URL("../lib/data/registry.ts", import.meta.url)
  .href;

/**
 * Parses the run configuration as a notebook's first cell does, fetches
 * MNIST's smallest file offline and prints where it came from.
 */
const FETCH_CELL = `import { fetchFile } from "${fetchModule}";
import { runConfigFromEnv } from "${configModule}";
import { DATASETS } from "${registryModule}";
const file = DATASETS.mnist.files.find((f) => f.name.startsWith("t10k-labels"))!;
const got = await fetchFile(file, { ...runConfigFromEnv().data, offline: true, progress: false });
console.log(JSON.stringify({ source: got.source, path: got.path }));`;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A start folder holding `nb/paths.ipynb`; the mirror path relative to it. */
async function scene(): Promise<{ start: string; rel: string; nb: string }> {
  const start = await Deno.makeTempDir({ prefix: "nb-paths-" });
  await Deno.mkdir(join(start, "nb"));
  const written = await writeNotebooks(join(start, "nb"), {
    paths: makeNotebook([FETCH_CELL]),
  });
  return { start, rel: relative(start, MIRROR!), nb: written.paths };
}

Deno.test("startDirectory: INIT_CWD (deno task), else PWD (the shell), else the working directory", () => {
  const saved = [Deno.env.get("INIT_CWD"), Deno.env.get("PWD")];
  try {
    Deno.env.set("INIT_CWD", "/from/task");
    Deno.env.set("PWD", "/from/shell");
    assert.equal(startDirectory(), "/from/task");
    Deno.env.delete("INIT_CWD");
    assert.equal(startDirectory(), "/from/shell");
    Deno.env.set("CNN_DATA_MIRROR", "../mirror");
    assert.equal(runConfigFromEnv().data.mirror, "/from/mirror");
    Deno.env.delete("PWD");
    assert.equal(startDirectory(), Deno.cwd());
  } finally {
    Deno.env.delete("CNN_DATA_MIRROR");
    if (MIRROR) Deno.env.set("CNN_DATA_MIRROR", MIRROR);
    for (const [name, value] of [["INIT_CWD", saved[0]], ["PWD", saved[1]]]) {
      if (value === undefined) Deno.env.delete(name!);
      else Deno.env.set(name!, value);
    }
  }
});

Deno.test({
  name:
    "notebooks runner: relative CNN_DATA_MIRROR and CNN_DATA_DIR resolve against the start folder, not the notebook's",
  ignore: !HAS_MIRROR,
  async fn() {
    const { start, rel } = await scene();
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          runner,
          "--no-sign",
          "--out",
          "out",
          "nb/paths.ipynb",
        ],
        cwd: start,
        // As a shell in `start` would have it (INIT_CWD as under deno task).
        env: {
          PWD: start,
          INIT_CWD: start,
          CNN_DATA_MIRROR: rel,
          CNN_DATA_DIR: "cache",
          CNN_DATA_OFFLINE: "1",
          NO_COLOR: "1",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(out.stdout) +
        new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, log);
      const cached = join(start, "cache", "mnist", "t10k-labels-idx1-ubyte.gz");
      assert.equal((await Deno.stat(cached)).size, 4542);
      assert.equal(await exists(join(start, "nb", "cache")), false);
      const summary = await Deno.readTextFile(
        join(start, "out", "paths.ipynb"),
      );
      assert.match(summary, /\\"source\\":\\"mirror\\"/);
    } finally {
      await Deno.remove(start, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "Jupyter-started kernel: relative paths set in the shell, or recorded by deno task kernel, resolve against the start folder",
  ignore: !HAS_MIRROR,
  async fn() {
    const { start, rel } = await scene();
    try {
      // 1. Jupyter started from a shell in `start`: the kernel runs in nb/
      //    and inherits the shell's PWD.
      const shell = await KernelClient.start({
        cwd: join(start, "nb"),
        env: {
          PWD: start,
          INIT_CWD: start,
          CNN_DATA_MIRROR: rel,
          CNN_DATA_DIR: "cache-shell",
          CNN_DATA_OFFLINE: "1",
        },
      });
      try {
        const r = await shell.execute(FETCH_CELL, { timeoutMs: 60_000 });
        assert.equal(r.status, "ok", r.message);
      } finally {
        await shell.shutdown();
      }
      assert.ok(await exists(join(start, "cache-shell", "mnist")));
      assert.equal(await exists(join(start, "nb", "cache-shell")), false);

      // 2. deno task kernel run in `start` with relative paths records them
      //    absolute in the kernelspec.
      const saved = {
        INIT_CWD: Deno.env.get("INIT_CWD"),
        CNN_DATA_DIR: Deno.env.get("CNN_DATA_DIR"),
        CNN_DATA_MIRROR: Deno.env.get("CNN_DATA_MIRROR"),
      };
      let file: string;
      try {
        Deno.env.set("INIT_CWD", start);
        Deno.env.set("CNN_DATA_DIR", "cache-spec");
        Deno.env.set("CNN_DATA_MIRROR", rel);
        ({ file } = await installKernel({
          jupyterPath: join(start, "jupyter"),
        }));
      } finally {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) Deno.env.delete(name);
          else Deno.env.set(name, value);
        }
      }
      const spec = JSON.parse(await Deno.readTextFile(file));
      assert.deepEqual(spec.env, {
        CNN_DATA_DIR: join(start, "cache-spec"),
        CNN_DATA_MIRROR: MIRROR,
      });
      // Jupyter lays the kernelspec's env over its own, wherever it started.
      const fromSpec = await KernelClient.start({
        cwd: join(start, "nb"),
        env: { PWD: "/", INIT_CWD: "/", CNN_DATA_OFFLINE: "1", ...spec.env },
      });
      try {
        const r = await fromSpec.execute(FETCH_CELL, { timeoutMs: 60_000 });
        assert.equal(r.status, "ok", r.message);
      } finally {
        await fromSpec.shutdown();
      }
      assert.ok(await exists(join(start, "cache-spec", "mnist")));
    } finally {
      await Deno.remove(start, { recursive: true });
    }
  },
});
