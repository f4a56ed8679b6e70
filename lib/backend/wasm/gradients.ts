/**
 * Gradient overrides (global: gradients are registered per kernel name for
 * every backend) for LeakyRelu, Relu, ClipByValue, Sigmoid and Tanh, each
 * one C kernel on `wasm` and tfjs's formula elsewhere, with the project
 * kernels behind them.
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

/**
 * The wasm kernels behind the Sigmoid and Tanh gradients: each one pass
 * from the saved output (tfjs writes them as three or four kernel calls:
 * a scalar 1, then sub, square, mul), to the same bits.
 */
export const FUSED_GRAD_KERNELS = {
  sigmoid: "ProjectSigmoidGrad",
  tanh: "ProjectTanhGrad",
} as const;

/** A kernel computing dx from an activation's output y and dy. */
function outputGradKernel(which: "sigmoid_grad" | "tanh_grad") {
  return (args: KernelArgs): tf.TensorInfo => {
    const backend = wasmBackend(args);
    const { y, dy } = args.inputs as { y: tf.TensorInfo; dy: tf.TensorInfo };
    const out = backend.makeOutput([...y.shape], "float32");
    // Addresses after the allocation: they stay valid when the heap grows.
    simdKernelsFor(backend)![which](
      address(backend, y),
      address(backend, dy),
      address(backend, out),
      tf.util.sizeFromShape(y.shape),
    );
    return out;
  };
}

/**
 * Sigmoid's gradient in one SIMD pass on wasm (000's LeNet, 003's Fashion
 * LeNets: every layer); tfjs's formula, mul(dy, mul(y, sub(1, y))),
 * everywhere else.
 */
const sigmoidGrad: tf.GradConfig = {
  kernelName: "Sigmoid",
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved;
    const g = dy as tf.Tensor;
    return {
      x: () =>
        fusedGrad(y, g)
          ? tf.engine().runKernel(FUSED_GRAD_KERNELS.sigmoid, { y, dy: g })
          : tf.mul(g, tf.mul(y, tf.sub(tf.scalar(1), y))),
    };
  },
};

/**
 * Tanh's gradient in one SIMD pass on wasm (the scaled tanh of 002's
 * lenet5-1998); tfjs's formula, mul(sub(1, square(y)), dy), everywhere
 * else.
 */
const tanhGrad: tf.GradConfig = {
  kernelName: "Tanh",
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved;
    const g = dy as tf.Tensor;
    return {
      x: () =>
        fusedGrad(y, g)
          ? tf.engine().runKernel(FUSED_GRAD_KERNELS.tanh, { y, dy: g })
          : tf.mul(tf.sub(tf.scalar(1), tf.square(y)), g),
    };
  },
};

/**
 * Sum's gradient, dy spread over the summed axes, as a broadcast on wasm
 * (its Tile: `broadcast_strided`); tfjs's formula elsewhere, which
 * multiplies dy by a tensor of ones of x's size made in JavaScript each
 * time (lenet5-1998's 2x2 window sums at batch 32, 150K values: about 1 ms
 * a step, the broadcast multiply in the shipped kernel's generic loops).
 * The same values: dy · 1 is dy.
 */
const sumGrad: tf.GradConfig = {
  kernelName: "Sum",
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    const expanded = x.shape.slice();
    const { axis } = attrs as { axis: number | number[] };
    for (const a of tf.util.parseAxisParam(axis, x.shape)) expanded[a] = 1;
    return {
      x: () =>
        tf.getBackend() === "wasm" && g.dtype === "float32"
          ? tf.broadcastTo(tf.reshape(g, expanded), x.shape)
          : tf.mul(tf.reshape(g, expanded), tf.ones(x.shape, "float32")),
    };
  },
};

/** The project kernels behind the gradient overrides, for `register.ts`. */
export const GRADIENT_KERNELS: readonly KernelImpl[] = [
  { kernelName: LEAKY_RELU_GRAD, kernelFunc: leakyReluGradKernel },
  { kernelName: RELU_GRAD, kernelFunc: reluGradKernel },
  { kernelName: CLIP_GRAD, kernelFunc: clipGradKernel },
  {
    kernelName: FUSED_GRAD_KERNELS.sigmoid,
    kernelFunc: outputGradKernel("sigmoid_grad"),
  },
  {
    kernelName: FUSED_GRAD_KERNELS.tanh,
    kernelFunc: outputGradKernel("tanh_grad"),
  },
];

/** The gradient overrides, for `register.ts`. */
export const GRADIENTS: readonly tf.GradConfig[] = [
  leakyReluGrad,
  reluGrad,
  clipByValueGrad,
  sigmoidGrad,
  tanhGrad,
  sumGrad,
];
