/**
 * lib/backend/unused_input_grads.ts, the patch of tfjs-core's
 * Engine.addTapeNode: a fused convolution's input gradient
 * that the tape throws away (a model's first layer) is not computed, on
 * wasm (one and two kernel threads) and cpu; every gradient that is used
 * keeps its bits, and input gradients that are asked for are computed.
 */
import assert from "node:assert/strict";
import * as tf from "../lib/tf.ts";
import "@tensorflow/tfjs-backend-cpu";
import { initBackend } from "../lib/backend/init.ts";
import { skippedInputGrads } from "../lib/backend/unused_input_grads.ts";

/** A sigmoid LeNet-like stack: fused conv (bias, linear) first. */
function model(): tf.Sequential {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [12, 12, 1],
        filters: 4,
        kernelSize: 3,
        activation: "sigmoid",
        kernelInitializer: init(1),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({
        filters: 6,
        kernelSize: 3,
        activation: "tanh",
        kernelInitializer: init(2),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, kernelInitializer: init(3) }),
    ],
  });
}

const X = tf.tidy(() =>
  tf.randomUniform([5, 12, 12, 1], -1, 1, "float32", 7).arraySync()
) as number[][][][];

interface Grads {
  /** Gradients of the weights, in order. */
  weights: Float32Array[];
  /** Gradient of the images, when asked. */
  input?: Float32Array;
  skipped: number;
}

/** Gradients of a scalar loss, of the weights (and of the images if asked). */
async function grads(withInput: boolean): Promise<Grads> {
  const net = model();
  const x = tf.tensor4d(X);
  const variables = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const loss = (input: tf.Tensor) =>
    tf.tidy(() =>
      tf.sum(tf.square(net.apply(input, { training: true }) as tf.Tensor))
    ) as tf.Scalar;
  const before = skippedInputGrads();
  const tensors = tf.memory().numTensors;
  let out: Grads;
  if (withInput) {
    const { value, grads } = tf.variableGrads(() => loss(x), variables);
    const dx = tf.grad((input: tf.Tensor) => loss(input))(x);
    out = {
      weights: await Promise.all(
        variables.map(async (v) =>
          Float32Array.from(await grads[v.name].data())
        ),
      ),
      input: Float32Array.from(await dx.data()),
      skipped: 0,
    };
    tf.dispose([value, dx, ...Object.values(grads)]);
  } else {
    const { value, grads } = tf.variableGrads(() => loss(x), variables);
    out = {
      weights: await Promise.all(
        variables.map(async (v) =>
          Float32Array.from(await grads[v.name].data())
        ),
      ),
      skipped: 0,
    };
    tf.dispose([value, ...Object.values(grads)]);
  }
  out.skipped = skippedInputGrads() - before;
  assert.equal(tf.memory().numTensors, tensors, "leaked tensors");
  x.dispose();
  net.dispose();
  return out;
}

Deno.test("fused conv input gradients nothing uses are skipped; used gradients keep their bits, on one and two kernel threads", async () => {
  for (const threads of ["1", "2"]) {
    Deno.env.set("CNN_KERNEL_THREADS", threads);
    try {
      await initBackend({ backend: "wasm", verbose: false });
      const weightsOnly = await grads(false);
      // The first layer's input gradient: skipped (once per step).
      assert.equal(weightsOnly.skipped, 1, `${threads} thread(s)`);
      // tf.grad of the images needs it: computed, never skipped; the
      // weight gradients of the same step are computed as always.
      const withInput = await grads(true);
      assert.equal(withInput.skipped, 1, "only variableGrads skips");
      weightsOnly.weights.forEach((w, k) => {
        for (let i = 0; i < w.length; i++) {
          assert.ok(
            Object.is(w[i], withInput.weights[k][i]),
            `${threads} thread(s), weight ${k}, element ${i}`,
          );
        }
      });
      assert.ok(withInput.input!.some((v) => v !== 0), "input gradient zero");
    } finally {
      Deno.env.delete("CNN_KERNEL_THREADS");
    }
  }
});

Deno.test("unused input gradients are skipped on cpu too, and gradients match wasm's within float rounding", async () => {
  await initBackend({ backend: "wasm", verbose: false });
  const wasm = await grads(true);
  await initBackend({ backend: "cpu", verbose: false });
  const cpuSkip = await grads(false);
  assert.equal(cpuSkip.skipped, 1);
  const cpu = await grads(true);
  const close = (a: Float32Array, e: Float32Array, what: string) => {
    const scale = Math.max(...e.map(Math.abs));
    for (let i = 0; i < e.length; i++) {
      assert.ok(
        Math.abs(a[i] - e[i]) <= 1e-4 * scale,
        `${what}, element ${i}: ${a[i]}, expected ${e[i]}`,
      );
    }
  };
  cpu.weights.forEach((w, k) => {
    close(wasm.weights[k], w, `weight ${k}`);
    close(cpuSkip.weights[k], w, `cpu weight ${k} (skipped vs not)`);
  });
  close(wasm.input!, cpu.input!, "input gradient");
});
