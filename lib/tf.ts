/**
 * The one TensorFlow.js namespace of the project: tfjs-core and tfjs-layers
 * re-exported together, as the `@tensorflow/tfjs` umbrella package does, so
 * every module shares exactly one copy of tfjs-core whichever backend wins.
 * Backends are registered and chosen by `lib/backend/`, never here. Tensors
 * have TensorFlow.js's chained methods (`x.square().sum()`, `t.toFloat()`),
 * installed on this one tfjs-core by `./chained_ops.ts`.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "./tf.ts";
 * import { initBackend } from "./backend/init.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({
 *   layers: [tf.layers.dense({ units: 1, inputShape: [2] })],
 * });
 * assert.equal(model.countParams(), 3);
 * const sum = tf.tensor1d([1, 2, 3]).square().sum();
 * assert.deepEqual(await sum.data(), new Float32Array([14]));
 * ```
 *
 * @module
 */
export * from "@tensorflow/tfjs-core";
export * from "@tensorflow/tfjs-layers";
import "./chained_ops.ts";
