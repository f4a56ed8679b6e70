/**
 * TensorFlow.js's chained tensor methods, as its docs write them
 * (`x.square().sum()`, `t.toFloat()`, `t.print()`), work on the project's
 * one tfjs-core on every backend this machine has: cpu, wasm, and webgpu
 * when Deno finds an adapter (skipped cleanly otherwise). The list of
 * methods is checked against tfjs-core's own chained-op declarations.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "../lib/tf.ts";
import { CHAINED_OP_NAMES, registerChainedOps } from "../lib/chained_ops.ts";
import { initBackend } from "../lib/backend/mod.ts";

const adapter = await (navigator as { gpu?: GPU }).gpu?.requestAdapter()
  .catch(() => null);

/** Close within 1e-5 relative. */
function assertClose(
  actual: ArrayLike<number>,
  expected: number[],
  what: string,
) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <=
        1e-5 * Math.max(1, Math.abs(expected[i])),
      `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`,
    );
  }
}

/** Examples from the tfjs API docs, read asynchronously (webgpu needs that). */
async function docExamples(): Promise<void> {
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.tensor1d([10, 20, 30]);
  const m = tf.tensor2d([[1, 2], [3, 4]]);
  // Each example: what the docs write, its result, the expected values.
  const cases: [string, () => tf.Tensor, number[], string?][] = [
    ["x.square().sum()", () => x.square().sum(), [14]],
    ["x.add(y)", () => x.add(y), [11, 22, 33]],
    ["x.mul(y).sub(1)", () => x.mul(y).sub(1), [9, 39, 89]],
    [
      "x.toFloat()",
      () => tf.tensor1d([1, 2], "int32").toFloat(),
      [1, 2],
      "float32",
    ],
    ["x.toInt()", () => tf.tensor1d([1.7, -2.2]).toInt(), [1, -2], "int32"],
    ["m.matMul(m)", () => m.matMul(m), [7, 10, 15, 22]],
    ["m.transpose()", () => m.transpose(), [1, 3, 2, 4]],
    ["m.mean(1)", () => m.mean(1), [1.5, 3.5]],
    ["x.reshape([3, 1]).as1D()", () => x.reshape([3, 1]).as1D(), [1, 2, 3]],
    ["m.flatten()", () => m.flatten(), [1, 2, 3, 4]],
    ["x.concat(y)", () => x.concat(y), [1, 2, 3, 10, 20, 30]],
    ["x.where(cond, y)", () => x.where(x.greater(1), y), [10, 2, 3]],
    ["x.neg().relu()", () => x.neg().relu(), [0, 0, 0]],
    ["m.argMax(1)", () => m.argMax(1), [1, 1], "int32"],
    ["x.sum().asScalar()", () => x.sum().asScalar(), [6]],
    ["x.expandDims(0).squeeze()", () => x.expandDims(0).squeeze(), [1, 2, 3]],
  ];
  // tidy keeps each result and frees the intermediates of the chain.
  const results = cases.map(([, make]) => tf.tidy(make));
  for (const [i, [what, , expected, dtype]] of cases.entries()) {
    const t = results[i];
    assertClose(await t.data() as Float32Array, expected, what);
    if (dtype) assert.equal(t.dtype, dtype, `${what}: dtype`);
  }
  const reshaped = tf.tidy(() => m.reshape([4]).as2D(1, 4));
  assert.deepEqual(reshaped.shape, [1, 4]);
  // Gradients flow through chained calls as through the functions.
  const dx = tf.tidy(() => tf.grad((v: tf.Tensor) => v.square().sum())(x));
  assertClose(
    await dx.data() as Float32Array,
    [2, 4, 6],
    "grad of x.square().sum()",
  );
  // Variables inherit the methods.
  const init = tf.tensor1d([1, 2]);
  const v = tf.variable(init);
  const doubled = v.mul(2);
  assertClose(await doubled.data() as Float32Array, [2, 4], "variable.mul(2)");
  // tf.tidy frees what chained calls make in between.
  const kept = tf.tidy(() => x.square().add(1).mul(2).sum());
  assertClose(await kept.data() as Float32Array, [34], "tidy chain");
  tf.dispose([x, y, m, reshaped, dx, init, v, doubled, kept, ...results]);
  assert.equal(tf.memory().numTensors, before, "chained calls leak nothing");
}

for (const backend of ["cpu", "wasm", "webgpu"] as const) {
  Deno.test({
    name: `chained tensor methods from the tfjs docs work on ${backend}`,
    ignore: backend === "webgpu" && !adapter,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      await initBackend({ backend, verbose: false });
      assert.equal(tf.getBackend(), backend);
      await docExamples();
      await initBackend({ backend: "cpu", verbose: false });
    },
  });
}

Deno.test("t.print() prints the tensor, as in the tfjs docs", async () => {
  await initBackend({ backend: "cpu", verbose: false });
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    const t = tf.tensor1d([1, 2, 3]);
    t.square().print();
    t.dispose();
  } finally {
    console.log = log;
  }
  assert.match(lines.join("\n"), /\[1, 4, 9\]/);
});

Deno.test("chained methods on a disposed tensor or a non-scalar say what is wrong", async () => {
  await initBackend({ backend: "cpu", verbose: false });
  const t = tf.tensor1d([1, 2]);
  assert.throws(() => t.asScalar(), /2 elements.*exactly 1/);
  t.dispose();
  assert.throws(() => t.square(), /disposed/);
});

Deno.test("registering twice installs nothing new", () => {
  assert.deepEqual(registerChainedOps(), []);
});

Deno.test("every chained method tfjs-core declares is installed", async () => {
  // tfjs-core's own chained-op declarations (what its types promise).
  const store = new URL("../node_modules/.deno/", import.meta.url).pathname;
  const pkg = [...Deno.readDirSync(store)].find((e) =>
    e.name.startsWith("@tensorflow+tfjs-core@")
  );
  assert.ok(pkg, `no tfjs-core under ${store}`);
  const dir = join(
    store,
    pkg.name,
    "node_modules/@tensorflow/tfjs-core/dist/public/chained_ops",
  );
  const declared = new Set<string>();
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.name.endsWith(".d.ts")) continue;
    const text = await Deno.readTextFile(join(dir, entry.name));
    const body = text.match(/interface Tensor<[^>]*>\s*\{([\s\S]*?)\n\s*\}/);
    if (!body) continue;
    for (const m of body[1].matchAll(/^\s*(\w+)\s*[<(]/gm)) declared.add(m[1]);
  }
  assert.ok(declared.size > 100, `only ${declared.size} declarations found`);
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const missing = [...declared].filter((n) => typeof proto[n] !== "function");
  assert.deepEqual(missing, [], "declared by tfjs-core but not installed");
  const extra = CHAINED_OP_NAMES.filter((n) => !declared.has(n));
  assert.deepEqual(extra, [], "installed but not declared by tfjs-core");
});
