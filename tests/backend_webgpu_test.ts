/**
 * WebGPU trains correctly (slow on a software adapter, so kept tiny): one
 * gradient of a small convnet matches the cpu backend's. Skipped cleanly
 * where Deno finds no WebGPU adapter (no Vulkan driver, e.g. without
 * Debian's mesa-vulkan-drivers).
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import { initBackend } from "../lib/backend/mod.ts";

const adapter = await (navigator as { gpu?: GPU }).gpu?.requestAdapter()
  .catch(() => null);

async function gradients(backend: "webgpu" | "cpu"): Promise<Float32Array[]> {
  await initBackend({ backend, verbose: false });
  const seed = (n: number) => tf.randomUniform([n], -0.5, 0.5, "float32", n);
  // Asynchronous reads: webgpu's dataSync needs a canvas, which Deno lacks.
  const grads = tf.tidy(() => {
    const x = tf.reshape(seed(2 * 8 * 8 * 2), [2, 8, 8, 2]) as tf.Tensor4D;
    const w1 = tf.reshape(seed(3 * 3 * 2 * 4), [3, 3, 2, 4]) as tf.Tensor4D;
    const w2 = tf.reshape(seed(4 * 4 * 4 * 3), [64, 3]) as tf.Tensor2D;
    const labels = tf.oneHot(tf.tensor1d([0, 2], "int32"), 3);
    const loss = (a: tf.Tensor, b: tf.Tensor) => {
      const h = tf.maxPool(
        tf.relu(tf.conv2d(x, a as tf.Tensor4D, 1, "same")),
        2,
        2,
        "valid",
      );
      const logits = tf.matMul(tf.reshape(h, [2, 64]), b as tf.Tensor2D);
      return tf.losses.softmaxCrossEntropy(labels, logits);
    };
    return tf.grads(loss)([w1, w2]);
  });
  const values = await Promise.all(grads.map((g) => g.data()));
  tf.dispose(grads);
  return values as Float32Array[];
}

Deno.test({
  name: "webgpu computes the same convnet gradients as cpu",
  ignore: adapter === null || adapter === undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const expected = await gradients("cpu");
    const actual = await gradients("webgpu");
    assert.equal(tf.getBackend(), "webgpu");
    for (const [i, grad] of expected.entries()) {
      const scale = Math.max(...grad.map(Math.abs));
      assert.ok(scale > 0, "a gradient that is all zero tests nothing");
      for (let j = 0; j < grad.length; j++) {
        assert.ok(
          Math.abs(actual[i][j] - grad[j]) <= 1e-4 * scale,
          `gradient ${i}[${j}]: webgpu ${actual[i][j]}, cpu ${grad[j]}`,
        );
      }
    }
    await initBackend({ backend: "cpu", verbose: false });
  },
});
