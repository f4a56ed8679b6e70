/**
 * Gradient overrides (global: gradients are registered per kernel name for
 * every backend) for LeakyRelu, Relu and ClipByValue, each one C kernel on
 * `wasm` and tfjs's formula elsewhere, with the project kernels behind them.
 *
 * @module
 */
import * as tf from "../../tf.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { simdKernelsFor } from "../simd_kernels.ts";
import {
  address,
  attrsOf,
  type KernelArgs,
  type KernelImpl,
  wasmBackend,
} from "./_common.ts";
/** The wasm kernel behind the LeakyRelu gradient, see {@linkcode leakyReluGrad}. */
const LEAKY_RELU_GRAD = "ProjectLeakyReluGrad";

function leakyReluGradKernel(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { alpha } = attrsOf<{ alpha: number }>(args);
  const out = backend.makeOutput([...x.shape], "float32");
  simdKernelsFor(backend)!.leaky_relu_grad(
    address(backend, x),
    address(backend, dy),
    address(backend, out),
    tf.util.sizeFromShape(x.shape),
    alpha,
  );
  return out;
}

/**
 * LeakyRelu's gradient in one SIMD pass on wasm; tfjs's formula (greater,
 * multiply, where) everywhere else. Gradients are registered per kernel
 * name for all backends, so this one decides by the active backend.
 */
const leakyReluGrad: tf.GradConfig = {
  kernelName: "LeakyRelu",
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { alpha } = attrs as { alpha: number };
    const g = dy as tf.Tensor;
    const fused = tf.getBackend() === "wasm" && x.dtype === "float32" &&
      g.dtype === "float32" &&
      simdKernelsFor(tf.backend() as BackendWasm) !== undefined;
    return {
      x: () =>
        fused
          ? tf.engine().runKernel(LEAKY_RELU_GRAD, { x, dy: g }, { alpha })
          : tf.where(tf.greater(x, 0), g, tf.mul(g, alpha)),
    };
  },
};

/** The wasm kernels behind the Relu and ClipByValue gradients. */
const RELU_GRAD = "ProjectReluGrad";

const CLIP_GRAD = "ProjectClipByValueGrad";

function reluGradKernel(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const out = backend.makeOutput([...x.shape], "float32");
  simdKernelsFor(backend)!.relu_grad(
    address(backend, x),
    address(backend, dy),
    address(backend, out),
    tf.util.sizeFromShape(x.shape),
  );
  return out;
}

function clipGradKernel(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { clipValueMin, clipValueMax } = attrsOf<{
    clipValueMin: number;
    clipValueMax: number;
  }>(args);
  const out = backend.makeOutput([...x.shape], "float32");
  simdKernelsFor(backend)!.clip_grad(
    address(backend, x),
    address(backend, dy),
    address(backend, out),
    tf.util.sizeFromShape(x.shape),
    clipValueMin,
    clipValueMax,
  );
  return out;
}

/** True when a gradient of `x` and `dy` can run as one SIMD kernel. */
function fusedGrad(x: tf.Tensor, dy: tf.Tensor): boolean {
  return tf.getBackend() === "wasm" && x.dtype === "float32" &&
    dy.dtype === "float32" &&
    tf.util.arraysEqual(x.shape, dy.shape) &&
    simdKernelsFor(tf.backend() as BackendWasm) !== undefined;
}

/**
 * Relu's gradient in one SIMD pass on wasm (to the same bits); tfjs's
 * formula, mul(dy, cast(step(x))), everywhere else.
 */
const reluGrad: tf.GradConfig = {
  kernelName: "Relu",
  inputsToSave: ["x"],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    return {
      x: () =>
        fusedGrad(x, g)
          ? tf.engine().runKernel(RELU_GRAD, { x, dy: g })
          : tf.mul(g, tf.cast(tf.step(x), "float32")),
    };
  },
};

/**
 * ClipByValue's gradient (ReLU6 layers clip) in one SIMD pass on wasm;
 * tfjs's formula (where of logicalAnd of two comparisons) everywhere else.
 */
const clipByValueGrad: tf.GradConfig = {
  kernelName: "ClipByValue",
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { clipValueMin, clipValueMax } = attrs as {
      clipValueMin: number;
      clipValueMax: number;
    };
    const g = dy as tf.Tensor;
    return {
      x: () =>
        fusedGrad(x, g)
          ? tf.engine().runKernel(CLIP_GRAD, { x, dy: g }, {
            clipValueMin,
            clipValueMax,
          })
          : tf.where(
            tf.logicalAnd(
              tf.greaterEqual(x, clipValueMin),
              tf.lessEqual(x, clipValueMax),
            ),
            g,
            tf.zerosLike(g),
          ),
    };
  },
};

/** The project kernels behind the gradient overrides, for `register.ts`. */
export const GRADIENT_KERNELS: readonly KernelImpl[] = [
  { kernelName: LEAKY_RELU_GRAD, kernelFunc: leakyReluGradKernel },
  { kernelName: RELU_GRAD, kernelFunc: reluGradKernel },
  { kernelName: CLIP_GRAD, kernelFunc: clipGradKernel },
];

/** The gradient overrides, for `register.ts`. */
export const GRADIENTS: readonly tf.GradConfig[] = [
  leakyReluGrad,
  reluGrad,
  clipByValueGrad,
];
