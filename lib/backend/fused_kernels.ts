/**
 * Fused gradients of the saturating activations on `wasm`, and a SIMD
 * Tanh (tfjs-backend-wasm's calls libm per element): Sigmoid's
 * (000's LeNet, 003's Fashion LeNets: every layer) and Tanh's (the scaled
 * tanh of 002's lenet5-1998). tfjs writes each as three or four kernel
 * calls over the tensor (a scalar 1, then sub, square, mul); with the
 * project's SIMD kernels each is one call and one pass
 * (`kernels/fused.c`), to the same bits. Elsewhere (other backends, the
 * SIMD module off) tfjs's formulas run unchanged.
 *
 * @example
 * ```ts
 * import { registerFusedKernels } from "./fused_kernels.ts";
 * registerFusedKernels(); // after tfjs-backend-wasm is imported
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { simdKernelsFor } from "./simd_kernels.ts";
import { skipUnusedInputGrads } from "./unused_input_grads.ts";

/** The exports of `kernels/fused.c` (same module as the SIMD kernels). */
interface FusedKernels {
  /** dx = dy * (y * (1 - y)): y, dy, dx, size. */
  sigmoid_grad(y: number, dy: number, dx: number, size: number): void;
  /** dx = (1 - y * y) * dy: y, dy, dx, size. */
  tanh_grad(y: number, dy: number, dx: number, size: number): void;
  /** tanh of elements [i0, i1), within 1 ulp: x, out, i0, i1. */
  tanh_range(x: number, out: number, i0: number, i1: number): void;
  /** x as [a, p, b, q, c] summed over p and q: x, out, a, p, b, q, c. */
  sum_two_axes(...args: number[]): void;
}

/** Names of the kernels {@linkcode registerFusedKernels} adds to wasm. */
export const FUSED_GRAD_KERNELS = {
  sigmoid: "ProjectSigmoidGrad",
  tanh: "ProjectTanhGrad",
} as const;

type GradArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
};

function _fused(backend: BackendWasm): FusedKernels | undefined {
  const kernels = simdKernelsFor(backend) as unknown as
    | Partial<FusedKernels>
    | undefined;
  return kernels?.sigmoid_grad && kernels.tanh_grad && kernels.tanh_range &&
      kernels.sum_two_axes
    ? kernels as FusedKernels
    : undefined;
}

function _gradKernel(which: "sigmoid_grad" | "tanh_grad") {
  return (args: GradArgs): tf.TensorInfo => {
    const backend = args.backend as BackendWasm;
    const { y, dy } = args.inputs as { y: tf.TensorInfo; dy: tf.TensorInfo };
    const out = backend.makeOutput([...y.shape], "float32");
    const address = (t: tf.TensorInfo) =>
      (backend.typedArrayFromHeap(t) as Float32Array).byteOffset;
    // Addresses after the allocation: they stay valid when the heap grows.
    _fused(backend)![which](
      address(y),
      address(dy),
      address(out),
      tf.util.sizeFromShape(y.shape),
    );
    return out;
  };
}

/** tfjs-backend-wasm's own Tanh (std::tanh per element), kept as the fallback. */
let _shippedTanh: tf.KernelConfig | undefined;

/**
 * Tanh in SIMD (`tanh_range`: within 1 ulp of the exact value, as the cpu
 * backend's Math.tanh; tfjs-backend-wasm calls libm's tanh per element,
 * about 60x slower); the shipped kernel for other dtypes or without the
 * SIMD module.
 */
function _tanh(args: GradArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const kernels = _fused(backend);
  if (kernels === undefined || x.dtype !== "float32") {
    return _shippedTanh!.kernelFunc(
      args as unknown as Parameters<tf.KernelFunc>[0],
    ) as tf.TensorInfo;
  }
  const out = backend.makeOutput([...x.shape], "float32");
  const address = (t: tf.TensorInfo) =>
    (backend.typedArrayFromHeap(t) as Float32Array).byteOffset;
  kernels.tanh_range(
    address(x),
    address(out),
    0,
    tf.util.sizeFromShape(x.shape),
  );
  return out;
}

/**
 * Sum over one or two axes that are not the last, in one pass
 * (`sum_two_axes`), where tfjs-backend-wasm transposes the tensor first:
 * lenet5-1998's trainable subsampling sums 2x2 windows of
 * `[n, h/2, 2, w/2, 2, c]` over axes 2 and 4. Same order of additions as
 * tfjs's, so the same bits (axes given in ascending order; others are
 * left to tfjs). `undefined` for other reductions (the caller runs tfjs's
 * kernel).
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
 * import { sumTwoAxes } from "./fused_kernels.ts";
 * const x = tf.ones([2, 3, 2, 3, 2, 4]);
 * const info = sumTwoAxes(tf.backend() as BackendWasm, x, [2, 4], false);
 * ```
 */
export function sumTwoAxes(
  backend: BackendWasm,
  x: tf.TensorInfo,
  axis: number | number[],
  keepDims: boolean,
): tf.TensorInfo | undefined {
  const rank = x.shape.length;
  const kernels = _fused(backend);
  if (kernels === undefined || x.dtype !== "float32") return undefined;
  // tfjs adds in the order the axes are given: ascending only, here.
  const sorted = tf.util.parseAxisParam(axis, x.shape);
  if (
    sorted.length < 1 || sorted.length > 2 || sorted[0] >= rank - 1 ||
    (sorted.length === 2 && !(sorted[0] < sorted[1] && sorted[1] < rank - 1))
  ) {
    return undefined;
  }
  const dims = x.shape;
  const prod = (from: number, to: number) =>
    dims.slice(from, to).reduce((m, d) => m * d, 1);
  const [i, j] = sorted.length === 2 ? sorted : [sorted[0], sorted[0] + 1];
  const geometry = sorted.length === 2
    ? [prod(0, i), dims[i], prod(i + 1, j), dims[j], prod(j + 1, rank)]
    : [prod(0, i), dims[i], 1, 1, prod(i + 1, rank)];
  const shape = keepDims
    ? dims.map((d, k) => (sorted.includes(k) ? 1 : d))
    : dims.filter((_, k) => !sorted.includes(k));
  const out = backend.makeOutput(shape, "float32");
  const address = (t: tf.TensorInfo) =>
    (backend.typedArrayFromHeap(t) as Float32Array).byteOffset;
  kernels.sum_two_axes(address(x), address(out), ...geometry);
  return out;
}

/**
 * Whether a convolution's input gradient should run as products per
 * output pixel scattered onto the input (`conv2d_input_grad`) rather than
 * as a convolution of the padded output gradient, whatever the channel
 * count: when the input has at least twice the output's pixels (a 'valid'
 * convolution on small maps), the convolution would multiply that many
 * padding zeros. Measured on 2 loaded cores (median of 5, three
 * alternations): lenet5-1998's C5 (1x1 output, 25 input pixels) 0.4-1.9
 * ms against 7-16 ms; the wide Fashion LeNet's second layer (8x8 from
 * 12x12, 32 channels, batch 100) 76-135 ms against 97-363 ms; 'same'
 * convolutions (the Kannada CNN) stay convolutions.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { colsInputGradPays } from "./fused_kernels.ts";
 * const info = tf.backend_util.computeConv2DInfo(
 *   [32, 5, 5, 16], [5, 5, 16, 120], 1, 1, "valid");
 * console.log(colsInputGradPays(info)); // true
 * ```
 */
export function colsInputGradPays(info: tf.backend_util.Conv2DInfo): boolean {
  return info.inHeight * info.inWidth >= 2 * info.outHeight * info.outWidth;
}

/** True when the gradient of output `y` for `dy` can run as one kernel. */
function _canFuse(y: tf.Tensor, dy: tf.Tensor): boolean {
  return tf.getBackend() === "wasm" && y.dtype === "float32" &&
    dy.dtype === "float32" && tf.util.arraysEqual(y.shape, dy.shape) &&
    _fused(tf.backend() as BackendWasm) !== undefined;
}

const _sigmoidGrad: tf.GradConfig = {
  kernelName: "Sigmoid",
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved;
    const g = dy as tf.Tensor;
    return {
      x: () =>
        _canFuse(y, g)
          ? tf.engine().runKernel(FUSED_GRAD_KERNELS.sigmoid, { y, dy: g })
          : tf.mul(g, tf.mul(y, tf.sub(tf.scalar(1), y))),
    };
  },
};

const _tanhGrad: tf.GradConfig = {
  kernelName: "Tanh",
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved;
    const g = dy as tf.Tensor;
    return {
      x: () =>
        _canFuse(y, g)
          ? tf.engine().runKernel(FUSED_GRAD_KERNELS.tanh, { y, dy: g })
          : tf.mul(tf.sub(tf.scalar(1), tf.square(y)), g),
    };
  },
};

/**
 * Registers the fused Sigmoid and Tanh gradient kernels for `wasm` and
 * the gradients that use them there (tfjs's formulas elsewhere), and
 * replaces wasm's Tanh by the SIMD one; and stops fused convolutions from
 * computing input gradients nothing uses (`unused_input_grads.ts`, every
 * backend). Idempotent; needs tfjs-backend-wasm to be imported first.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import { registerFusedKernels } from "./fused_kernels.ts";
 * registerFusedKernels();
 * ```
 */
export function registerFusedKernels(): void {
  skipUnusedInputGrads();
  for (
    const [kernelName, which, gradient] of [
      [FUSED_GRAD_KERNELS.sigmoid, "sigmoid_grad", _sigmoidGrad],
      [FUSED_GRAD_KERNELS.tanh, "tanh_grad", _tanhGrad],
    ] as const
  ) {
    if (tf.getKernel(kernelName, "wasm") !== undefined) continue;
    tf.registerKernel({
      kernelName,
      backendName: "wasm",
      kernelFunc: _gradKernel(which) as unknown as tf.KernelFunc,
    });
    tf.registerGradient(gradient);
  }
  if (_shippedTanh === undefined) {
    const shipped = tf.getKernel("Tanh", "wasm");
    if (shipped === undefined) {
      throw new Error(
        'tfjs-backend-wasm has no Tanh kernel: import "@tensorflow/tfjs-backend-wasm" first.',
      );
    }
    _shippedTanh = shipped;
    tf.unregisterKernel("Tanh", "wasm");
    tf.registerKernel({
      kernelName: "Tanh",
      backendName: "wasm",
      // The shipped setup binds the C++ entry point the fallback needs.
      setupFunc: shipped.setupFunc,
      disposeFunc: shipped.disposeFunc,
      kernelFunc: _tanh as unknown as tf.KernelFunc,
    });
  }
}
