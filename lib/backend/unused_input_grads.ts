/**
 * Skips the input gradient of a fused convolution when nothing uses it.
 *
 * tfjs-layers runs a convolution with a bias and no fusable activation
 * (every sigmoid, tanh, LeakyReLU or linear Conv2D layer: 000's LeNet,
 * 003's LeNets, lenet5-1998's C1, the CIFAR-10 CNN) through
 * `tf.fused.conv2d`, whose gradient is a `customGrad`: it computes the
 * gradients of the input, the filter and the bias together, eagerly. For a
 * model's first layer the input gradient (towards the images) is thrown
 * away by the tape, yet it is the costliest of the three there: a
 * convolution from many channels down to one or three (measured on 2
 * cores: 7-33 ms per step against 0.5-18 ms for the filter gradient).
 *
 * The tape already knows which inputs need a gradient (it prunes them
 * before backpropagation); {@linkcode skipUnusedInputGrads} passes that on:
 * while the gradient of a `fusedConv2d` node whose input needs none runs,
 * its one `Conv2DBackpropInput` call returns zeros without computing.
 * Every gradient that is used is computed exactly as before (same kernels,
 * same bits). Gradients towards the input (`tf.grad` of the images, as
 * notebook 004's maximum-stimulus pictures take) are computed as always.
 *
 * It patches tfjs-core's `Engine.addTapeNode` (its manifest entry; installed
 * by `register.ts` with the wasm kernels); the internals it reads
 * are checked by the version guard (`tfjs_internals.ts`: `tapeEngine`,
 * `lastTapeNode`). It also relies on the engine reading a kernel's
 * `kernelFunc` from the registry at each call, which the tests check (the
 * skipped count).
 *
 * @example
 * ```ts
 * import { skipUnusedInputGrads } from "./unused_input_grads.ts";
 * skipUnusedInputGrads();
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import {
  FUSED_CONV2D_SCOPE,
  lastTapeNode,
  type TapeEngine,
  tapeEngine,
} from "./tfjs_internals.ts";

let _installed = false;
let _skipped = 0;

/**
 * How many input gradients {@linkcode skipUnusedInputGrads} has skipped
 * since the process started (for tests and profiles).
 *
 * @example
 * ```ts
 * import { skippedInputGrads } from "./unused_input_grads.ts";
 * console.log(skippedInputGrads());
 * ```
 */
export function skippedInputGrads(): number {
  return _skipped;
}

/**
 * Installs the hook on tfjs's engine (once; later calls do nothing). From
 * then on, on every backend, a fused convolution's input gradient that the
 * tape does not need is not computed. Throws the version guard's error
 * where tfjs's engine lacks what the hook reads.
 *
 * @example
 * ```ts
 * import { skipUnusedInputGrads } from "./unused_input_grads.ts";
 * skipUnusedInputGrads();
 * ```
 */
export function skipUnusedInputGrads(): void {
  if (_installed) return;
  const engine = tapeEngine(tf.engine(), tf.fused.conv2d);
  _installed = true;
  const addTapeNode = engine.addTapeNode;
  engine.addTapeNode = function (this: TapeEngine, ...args: unknown[]) {
    addTapeNode.apply(this, args);
    const [kernelName, , , , saved] = args as [
      string,
      unknown,
      unknown,
      unknown,
      unknown[] | undefined,
    ];
    if (kernelName !== FUSED_CONV2D_SCOPE) return;
    const node = lastTapeNode(this);
    // saved: [filter, x, y, bias?]; the tape's inputs: {0: x, 1: filter, ...}
    const filter = saved?.[0];
    if (!(filter instanceof tf.Tensor)) return; // nothing to match: compute
    const gradient = node.gradient;
    // Called as node.gradient(dys) on the tape's pruned copy of the node:
    // `this.inputs` then lists only the inputs that need a gradient.
    node.gradient = function (
      this: { inputs: Record<string, unknown> } | undefined,
      dys: unknown[],
    ) {
      if (this === undefined || "0" in this.inputs) return gradient(dys);
      return _withoutInputGrad(filter, () => gradient(dys));
    };
  };
}

/**
 * Runs `body` with the active backend's Conv2DBackpropInput answering
 * zeros, uncomputed, for the one call whose filter is `filter`.
 */
function _withoutInputGrad<T>(filter: tf.Tensor, body: () => T): T {
  const config = tf.getKernel("Conv2DBackpropInput", tf.getBackend());
  if (config === undefined) return body();
  const real = config.kernelFunc;
  const skip = ((args: Parameters<tf.KernelFunc>[0]) => {
    const inputs = args.inputs as { filter?: tf.TensorInfo };
    if (inputs.filter?.dataId !== filter.dataId) return real(args);
    config.kernelFunc = real; // one call only
    _skipped++;
    const { inputShape } = args.attrs as unknown as { inputShape: number[] };
    const shape = [...inputShape];
    const zeros = new Float32Array(tf.util.sizeFromShape(shape));
    // write(): every backend's way to hold given values (cpu, wasm, webgpu).
    const dataId = (args.backend as tf.KernelBackend).write(
      zeros,
      shape,
      "float32",
    );
    return { dataId, shape, dtype: "float32" } as tf.TensorInfo;
  }) as tf.KernelFunc;
  config.kernelFunc = skip;
  try {
    return body();
  } finally {
    if (config.kernelFunc === skip) config.kernelFunc = real;
  }
}
