/**
 * The backend manifest and what hangs on it: registration agrees with it,
 * each entry names a test that covers it, the generated README is current,
 * describeBackend() lists it; the C bindings agree with the C sources and
 * the committed modules; the version guard fails loudly; the options read
 * the environment in one place.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import {
  BACKEND_MANIFEST,
  backendOptions,
  checkManifest,
  configureBackend,
  describeBackend,
  initBackend,
  KERNEL_SIGNATURES,
  TFJS_CHECKED_VERSION,
  TfjsInternalsError,
} from "../lib/backend/mod.ts";
import { checkKernelExports } from "../lib/backend/bindings.ts";
import { requireFields, wasmInternals } from "../lib/backend/tfjs_internals.ts";
import { expectedBackendReadme } from "../scripts/backend_readme.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("the manifest and the registration lists agree", () => {
  checkManifest();
  const keys = BACKEND_MANIFEST.map((e) => `${e.kind} ${e.backend} ${e.name}`);
  assert.equal(new Set(keys).size, keys.length, "duplicate entries");
});

Deno.test("every manifest entry names a test file that mentions it", async () => {
  for (const entry of BACKEND_MANIFEST) {
    const text = await Deno.readTextFile(new URL(entry.test, ROOT));
    // The wasm entries of backend_kernels_test.ts are checked more strictly
    // there: each must be called by one of its tests.
    const tracked = entry.test === "tests/backend_kernels_test.ts" &&
      entry.backend !== "cpu";
    const mention = entry.kind === "patch"
      ? entry.name.split(/[. ]/)[0].replace(/Optimizer$/, "") // the class
      : entry.name;
    assert.ok(
      tracked || text.includes(mention),
      `${entry.test} does not mention ${mention} (${entry.kind})`,
    );
    for (const c of entry.c) {
      assert.ok(c in KERNEL_SIGNATURES, `${entry.name}: no C kernel ${c}`);
    }
    assert.equal(entry.tfjs, TFJS_CHECKED_VERSION, entry.name);
  }
});

Deno.test("lib/backend/README.md is generated from the manifest (deno task backend-readme)", async () => {
  const current = await Deno.readTextFile(
    new URL("lib/backend/README.md", ROOT),
  );
  assert.equal(
    current,
    await expectedBackendReadme(),
    "lib/backend/README.md is out of date: run `deno task backend-readme`",
  );
});

Deno.test("describeBackend lists every entry, the versions and the settings", () => {
  const description = describeBackend();
  assert.equal(description.entries.length, BACKEND_MANIFEST.length);
  assert.equal(description.checkedAgainst, TFJS_CHECKED_VERSION);
  assert.equal(description.versions["tfjs-core"], tf.version_core);
  assert.match(description.versions["tfjs-backend-wasm"], /^\d+\.\d+\.\d+/);
  for (const e of BACKEND_MANIFEST) {
    assert.ok(description.text.includes(`${e.kind} ${e.name} (`), e.name);
  }
  assert.match(description.text, /checked against tfjs 4\.22\.0/);
  assert.equal(
    description.cKernels.length,
    Object.keys(KERNEL_SIGNATURES).length,
  );
});

/** The EXPORT(...) declarations of the C sources: name, argument list. */
async function cExports(): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const dir = new URL("lib/backend/kernels/", ROOT);
  for await (const file of Deno.readDir(dir)) {
    if (!file.name.endsWith(".c")) continue;
    const text = await Deno.readTextFile(new URL(file.name, dir));
    const pattern = /EXPORT\("(\w+)"\)\s*void\s+\w+\(([^)]*)\)/g;
    for (const [, name, args] of text.matchAll(pattern)) {
      found.set(
        name,
        args.split(",").map((a) => {
          const arg = a.trim().replace(/\s+/g, " ");
          const argName = arg.match(/(\w+)$/)![1];
          const type = arg.includes("*")
            ? "ptr"
            : arg.startsWith("f32")
            ? "f32"
            : "i32";
          return `${argName}: ${type}`;
        }),
      );
    }
  }
  return found;
}

Deno.test("the typed bindings match the C sources' exports, names and types", async () => {
  const found = await cExports();
  assert.deepEqual(
    [...found.keys()].sort(),
    Object.keys(KERNEL_SIGNATURES).sort(),
  );
  for (const [name, signature] of Object.entries(KERNEL_SIGNATURES)) {
    assert.deepEqual(found.get(name), [...signature.args], name);
  }
});

Deno.test("the committed modules pass the export check, a changed one fails it clearly", async () => {
  for (const file of ["kernels.wasm", "kernels_shared.wasm"]) {
    const bytes = await Deno.readFile(
      new URL(`lib/backend/kernels/${file}`, ROOT),
    );
    checkKernelExports(bytes, file);
  }
  // (module (func (export "sum_rows") (param i32 i32 i32)) (func (export
  // "extra"))): sum_rows short of an argument, an extra export, the rest
  // missing.
  const module = new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    0x01,
    0x0a,
    0x02,
    0x60,
    0x03,
    0x7f,
    0x7f,
    0x7f,
    0x00,
    0x60,
    0x00,
    0x00,
    0x03,
    0x03,
    0x02,
    0x00,
    0x01,
    0x07,
    0x14,
    0x02,
    0x08,
    ...new TextEncoder().encode("sum_rows"),
    0x00,
    0x00,
    0x05,
    ...new TextEncoder().encode("extra"),
    0x00,
    0x01,
    0x0a,
    0x07,
    0x02,
    0x02,
    0x00,
    0x0b,
    0x02,
    0x00,
    0x0b,
  ]);
  assert.ok(WebAssembly.validate(module), "the fake module is valid");
  assert.throws(
    () => checkKernelExports(module, "fake.wasm"),
    (error: Error) => {
      assert.match(error.message, /^fake\.wasm does not match/);
      assert.match(
        error.message,
        /sum_rows takes \(i32, i32, i32\) -> \(\), the binding says \(i32, i32, i32, i32\)/,
      );
      assert.match(error.message, /extra is exported but has no binding/);
      assert.match(error.message, /conv2d_direct_rows is missing/);
      assert.match(error.message, /deno task build-kernels/);
      return true;
    },
  );
});

Deno.test("the version guard names the internal and the versions", () => {
  const check = (error: unknown, internal: string) => {
    assert.ok(error instanceof TfjsInternalsError);
    assert.equal(error.internal, internal);
    assert.match(error.message, /checked against 4\.22\.0/);
    assert.match(error.message, /found tfjs-core \d/);
    return true;
  };
  assert.throws(
    () => wasmInternals({ wasm: { asm: {}, _malloc() {}, _free() {} } }),
    (e) => check(e, "backend.wasm.asm.memory"),
  );
  const memory = new WebAssembly.Memory({ initial: 1 });
  assert.throws(
    () => wasmInternals({ wasm: { asm: { memory } } }),
    (e) => check(e, "backend.wasm._malloc and _free"),
  );
  assert.equal(
    wasmInternals({ wasm: { asm: { memory }, _malloc() {}, _free() {} } })
      .memory,
    memory,
  );
  assert.throws(
    () =>
      requireFields({ beta1: 0.9 }, "AdamOptimizer", {
        beta1: "number",
        accBeta1: "object",
      }),
    (e) => check(e, "AdamOptimizer.accBeta1"),
  );
});

Deno.test("tfjs internals missing on wasm fail loudly, not as a slow fallback", async () => {
  await initBackend({ backend: "wasm", verbose: false });
  // Adam without its private moment variables.
  const w = tf.variable(tf.ones([4]));
  const adam = tf.train.adam(0.1);
  const step = () => adam.minimize(() => tf.sum(tf.square(w)));
  step(); // creates the state
  const state = adam as unknown as Record<string, unknown>;
  const saved = state.accBeta1;
  delete state.accBeta1;
  try {
    assert.throws(step, /AdamOptimizer\.accBeta1.*checked against 4\.22\.0/);
  } finally {
    state.accBeta1 = saved;
  }
  adam.dispose();
  w.dispose();
  // BatchNormalization without its moving mean.
  const layer = tf.layers.batchNormalization({});
  const x = tf.ones([2, 3]);
  tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
  const fields = layer as unknown as Record<string, unknown>;
  const movingMean = fields.movingMean;
  delete fields.movingMean;
  try {
    assert.throws(
      () => layer.apply(x, { training: true }),
      /BatchNormalization\.movingMean/,
    );
  } finally {
    fields.movingMean = movingMean;
  }
  x.dispose();
  for (const v of layer.weights) v.dispose();
});

Deno.test("the options read the environment in one place, configureBackend overrides it", () => {
  Deno.env.set("CNN_KERNEL_THREADS", "1");
  Deno.env.set("CNN_SIMD_KERNELS", "off");
  try {
    assert.deepEqual(
      { ...backendOptions(), backend: "auto" },
      { backend: "auto", simdKernels: false, kernelThreads: 1 },
    );
    configureBackend({ simdKernels: true, kernelThreads: 2 });
    assert.equal(backendOptions().simdKernels, true);
    assert.equal(backendOptions().kernelThreads, 2);
    Deno.env.set("CNN_KERNEL_THREADS", "3");
    assert.equal(backendOptions().kernelThreads, 2, "configured wins");
    configureBackend({});
    assert.throws(() => backendOptions(), /CNN_KERNEL_THREADS=3: use 1/);
  } finally {
    configureBackend({});
    Deno.env.delete("CNN_KERNEL_THREADS");
    Deno.env.delete("CNN_SIMD_KERNELS");
  }
});
