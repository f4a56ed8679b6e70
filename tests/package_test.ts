/**
 * The library as a package another Deno project depends on (lib/deno.json):
 * a script in a temporary folder outside this repository imports
 * `@cnn/lib` (by path through `links`, and as a workspace member) and trains
 * a model for one batch, with no `--config` pointing back here.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../", import.meta.url));
const libDir = join(repo, "lib");

const SCRIPT =
  `import { buildModel, fitModel, initBackend, tf } from "@cnn/lib";
const backend = await initBackend({ verbose: false });
const model = buildModel("lenet5");
model.compile({ optimizer: tf.train.sgd(0.01), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
const xs = tf.randomUniform([8, 28, 28, 1]);
const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], "int32"), 10);
const result = await fitModel(model, { xs, ys }, { epochs: 1, batchSize: 8, progress: "none" });
console.log(JSON.stringify({ backend: backend.name, epochs: result.epochsRun, loss: result.records[0].loss, params: model.countParams() }));
`;

async function runOutside(
  config: Record<string, unknown>,
  setup?: (dir: string) => Promise<void>,
): Promise<Record<string, unknown>> {
  const dir = await Deno.makeTempDir({ prefix: "cnn-user-project-" });
  assert.ok(
    !dir.startsWith(repo),
    "the project must be outside the repository",
  );
  try {
    await setup?.(dir);
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify(config));
    await Deno.writeTextFile(join(dir, "main.ts"), SCRIPT);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(
      out.code,
      0,
      stdout + new TextDecoder().decode(out.stderr).slice(-3000),
    );
    return JSON.parse(stdout.trim().split("\n").at(-1)!);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function checkTrained(r: Record<string, unknown>) {
  assert.equal(r.epochs, 1);
  assert.equal(r.params, 61_706);
  assert.ok(Number.isFinite(r.loss), `loss ${r.loss}`);
  assert.equal(typeof r.backend, "string");
}

Deno.test("lib/deno.json: a package with name, version, exports and its own npm imports, pinned like the root's", async () => {
  const lib = JSON.parse(await Deno.readTextFile(join(libDir, "deno.json")));
  const root = JSON.parse(await Deno.readTextFile(join(repo, "deno.json")));
  assert.match(lib.name, /^@[a-z0-9-]+\/[a-z0-9-]+$/);
  assert.match(lib.version, /^\d+\.\d+\.\d+$/);
  assert.equal(lib.exports["."], "./mod.ts");
  for (const target of Object.values(lib.exports) as string[]) {
    assert.ok((await Deno.stat(join(libDir, target))).isFile, target);
  }
  assert.ok(root.workspace.includes("./lib"));
  for (const [name, spec] of Object.entries(root.imports)) {
    if (name in lib.imports) assert.equal(lib.imports[name], spec, name);
  }
  // Every bare import in lib/ is in the package's own import map.
  const bare = new Set<string>();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) await walk(path);
      else if (e.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(path);
        for (
          const m of text.matchAll(/(?:from|import\()\s*"([^".\s][^"\s]*)"/g)
        ) {
          if (!m[1].startsWith("node:")) bare.add(m[1]);
        }
      }
    }
  };
  await walk(libDir);
  // A subpath of a mapped npm package (`pkg/dist/...`) resolves through it.
  const mapped = (b: string) =>
    Object.keys(lib.imports).some((k) => b === k || b.startsWith(`${k}/`));
  assert.deepEqual([...bare].filter((b) => !mapped(b)), []);
});

Deno.test("a project outside the repository links the library by path and trains LeNet-5 for one batch", async () => {
  checkTrained(
    await runOutside({
      imports: { "@cnn/lib": "jsr:@cnn/lib@^0.1.0" },
      links: [libDir],
      nodeModulesDir: "auto",
    }),
  );
});

Deno.test("a project outside the repository uses the library as a workspace member and trains for one batch", async () => {
  checkTrained(
    await runOutside(
      { workspace: ["./vendor/cnn-lib"], nodeModulesDir: "auto" },
      async (dir) => {
        await Deno.mkdir(join(dir, "vendor"));
        const cp = await new Deno.Command("cp", {
          args: ["-r", libDir, join(dir, "vendor", "cnn-lib")],
        }).output();
        assert.ok(cp.success);
      },
    ),
  );
});
