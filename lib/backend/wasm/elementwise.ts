/**
 * Element-wise and per-channel kernels for `wasm`: Add, Sub, Multiply and
 * RealDiv by a per-channel vector, LeakyRelu, ClipByValue (NaN kept), Tanh
 * in SIMD, and Sum over all leading axes or over one or two inner axes.
 *
 * @module
 */
import * as tf from "../../tf.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { simdKernelsFor } from "../simd_kernels.ts";
import {
  address,
  attrsOf,
  callOriginal,
  heapF32,
  type KernelArgs,
  type KernelImpl,
  rangeCall,
  wasmBackend,
} from "./_common.ts";
import { ELEMENTWISE_WORK_PER_VALUE, TANH_WORK_PER_VALUE } from "./policy.ts";
/**
 * Sum over one or two axes that are not the last, in one pass
 * (`sum_two_axes`), where tfjs-backend-wasm transposes the tensor first:
 * lenet5-1998's trainable subsampling sums 2x2 windows of
 * `[n, h/2, 2, w/2, 2, c]` over axes 2 and 4. Same order of additions as
 * tfjs's, so the same bits (axes given in ascending order; others are
 * left to tfjs). `undefined` for other reductions (the caller runs tfjs's
 * kernel).
 */
function sumInnerAxes(
  backend: BackendWasm,
  x: tf.TensorInfo,
  axis: number | number[],
  keepDims: boolean,
): tf.TensorInfo | undefined {
  const rank = x.shape.length;
  const simd = simdKernelsFor(backend);
  if (simd === undefined || x.dtype !== "float32") return undefined;
  // tfjs adds in the order the axes are given: ascending only, here.
  const axes = tf.util.parseAxisParam(axis, x.shape);
  if (
    axes.length < 1 || axes.length > 2 || axes[0] >= rank - 1 ||
    (axes.length === 2 && !(axes[0] < axes[1] && axes[1] < rank - 1))
  ) {
    return undefined;
  }
  const dims = x.shape;
  const prod = (from: number, to: number) =>
    dims.slice(from, to).reduce((m, d) => m * d, 1);
  const [i, j] = axes.length === 2 ? axes : [axes[0], axes[0] + 1];
  const geometry = axes.length === 2
    ? [prod(0, i), dims[i], prod(i + 1, j), dims[j], prod(j + 1, rank)] as const
    : [prod(0, i), dims[i], 1, 1, prod(i + 1, rank)] as const;
  const shape = keepDims
    ? dims.map((d, k) => (axes.includes(k) ? 1 : d))
    : dims.filter((_, k) => !axes.includes(k));
  const out = backend.makeOutput(shape, "float32");
  // Addresses after the allocation: they stay valid when the heap grows.
  rangeCall(
    simd,
    "sum_two_axes",
    [address(backend, x), address(backend, out), ...geometry],
    geometry[0],
    ELEMENTWISE_WORK_PER_VALUE * tf.util.sizeFromShape(x.shape),
  );
  return out;
}

/**
 * Sum over every axis but the last (a bias gradient) as SIMD column sums;
 * the shipped kernel transposes the whole tensor first to bring the summed
 * axes last. Sums over one or two inner axes go to
 * {@linkcode sumInnerAxes}, other reductions to the shipped kernel.
 */
function sum(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = attrsOf<{
    axis: number | number[];
    keepDims: boolean;
  }>(args);
  const simd = simdKernelsFor(backend);
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = rank >= 2 && axes.length === rank - 1 &&
    axes.every((a, i) => a === i);
  if (simd === undefined || !leading || x.dtype !== "float32") {
    return sumInnerAxes(backend, x, axis, keepDims) ??
      callOriginal("Sum", args);
  }
  const cols = x.shape[rank - 1];
  const shape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), cols] : [
    cols,
  ];
  const out = backend.makeOutput(shape, "float32");
  simd.sum_rows(
    address(backend, x),
    address(backend, out),
    tf.util.sizeFromShape(x.shape) / Math.max(cols, 1),
    cols,
  );
  return out;
}

/** The `column_op` code of each binary kernel it serves. */
const COLUMN_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 } as const;

/**
 * The columns of `shape` that `t` holds one value each of: the last axis's
 * size for a per-channel vector, 1 for a single value (a scalar, as in
 * `tf.mul(x, 2 / 3)`); undefined when `t` is neither.
 */
function columnsOf(
  t: tf.TensorInfo,
  shape: readonly number[],
): number | undefined {
  if (t.shape.length > shape.length) return undefined;
  if (tf.util.sizeFromShape(t.shape) === 1) return 1;
  const cols = shape[shape.length - 1];
  return t.shape.length >= 1 && t.shape[t.shape.length - 1] === cols &&
      t.shape.slice(0, -1).every((d) => d === 1)
    ? cols
    : undefined;
}

/**
 * Add, Sub, Multiply and RealDiv of a tensor and a per-channel vector (a
 * bias, a batch-norm mean or scale) or a single value (lenet5-1998's scaled
 * tanh) as one SIMD pass, on two threads for large tensors: the shipped
 * kernels broadcast through generic index arithmetic (~5x slower) or run on
 * one thread. Other shapes and dtypes go to the shipped kernels.
 */
function columnBinary(
  name: keyof typeof COLUMN_OPS,
  args: KernelArgs,
): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const simd = simdKernelsFor(backend);
  if (simd !== undefined && a.dtype === "float32" && b.dtype === "float32") {
    const same = (s: readonly number[], t: readonly number[]) =>
      s.length === t.length && s.every((d, i) => d === t[i]);
    const swap = columnsOf(b, a.shape) === undefined;
    const [big, vector] = swap ? [b, a] : [a, b];
    const cols = columnsOf(vector, big.shape);
    if (cols !== undefined && !same(vector.shape, big.shape)) {
      const out = backend.makeOutput([...big.shape], "float32");
      const size = tf.util.sizeFromShape(big.shape);
      if (size === 0) return out;
      // Addresses after the allocation: they stay valid when the heap grows.
      rangeCall(
        simd,
        "column_op",
        [
          address(backend, big),
          address(backend, vector),
          address(backend, out),
          size / cols,
          cols,
          COLUMN_OPS[name],
          swap ? 1 : 0,
        ],
        size / cols,
        ELEMENTWISE_WORK_PER_VALUE * size,
      );
      return out;
    }
  }
  return callOriginal(name, args);
}

/**
 * LeakyRelu in one SIMD pass (on two threads where they run, for large
 * tensors); the shipped kernel goes one element at a time (1.2 ms for the
 * CIFAR-10 CNN's 1M activations).
 */
function leakyRelu(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { alpha } = attrsOf<{ alpha: number }>(args);
  const simd = simdKernelsFor(backend);
  if (simd === undefined || x.dtype !== "float32") {
    return callOriginal("LeakyRelu", args);
  }
  const size = tf.util.sizeFromShape(x.shape);
  const out = backend.makeOutput([...x.shape], "float32");
  // Addresses after the allocation: they stay valid when the heap grows.
  const [xAt, outAt] = [x, out].map((t) => address(backend, t));
  // alpha as its float32 bits: the kernel thread's arguments are int32s.
  const alphaBits = new Int32Array(new Float32Array([alpha]).buffer)[0];
  // Weighted like the max-pool gradient: threaded from 256K values.
  rangeCall(
    simd,
    "leaky_relu_range",
    [xAt, outAt, alphaBits],
    size,
    ELEMENTWISE_WORK_PER_VALUE * size,
  );
  return out;
}

/**
 * ClipByValue that keeps NaN as NaN, as tfjs-backend-cpu and PyTorch do:
 * the shipped wasm kernel maps NaN to the lower bound, which hides a
 * diverged model (a NaN probability clipped to 1e-7 gives a finite
 * cross-entropy). In the C kernel `clip_by_value`, else (the project's
 * kernels off) as a JavaScript loop on the heap; other dtypes go to the
 * shipped kernel.
 */
function clipByValue(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { clipValueMin, clipValueMax } = attrsOf<{
    clipValueMin: number;
    clipValueMax: number;
  }>(args);
  if (x.dtype !== "float32") return callOriginal("ClipByValue", args);
  const size = tf.util.sizeFromShape(x.shape);
  const out = backend.makeOutput([...x.shape], "float32");
  if (size === 0) return out;
  const simd = simdKernelsFor(backend);
  // Addresses and views after the allocation: the heap may have grown.
  if (simd !== undefined) {
    simd.clip_by_value(
      address(backend, x),
      address(backend, out),
      size,
      clipValueMin,
      clipValueMax,
    );
    return out;
  }
  const lo = Math.fround(clipValueMin), hi = Math.fround(clipValueMax);
  const from = heapF32(backend, x);
  const to = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < size; i++) {
    const v = from[i];
    to[i] = v > hi ? hi : v < lo ? lo : v; // NaN: both false, NaN kept
  }
  return out;
}

/**
 * Tanh in SIMD (`tanh_range`: within 1 ulp of the exact value, as the cpu
 * backend's Math.tanh; tfjs-backend-wasm calls libm's tanh per element,
 * about 60x slower), on two threads from 64K values; the shipped kernel
 * for other dtypes or without the SIMD kernels.
 */
function tanh(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x } = args.inputs as { x: tf.TensorInfo };
  const simd = simdKernelsFor(backend);
  if (simd === undefined || x.dtype !== "float32") {
    return callOriginal("Tanh", args);
  }
  const out = backend.makeOutput([...x.shape], "float32");
  const size = tf.util.sizeFromShape(x.shape);
  // Addresses after the allocation: they stay valid when the heap grows.
  rangeCall(
    simd,
    "tanh_range",
    [address(backend, x), address(backend, out)],
    size,
    TANH_WORK_PER_VALUE * size,
  );
  return out;
}

/** The element-wise kernels, for `register.ts`. */
export const ELEMENTWISE_KERNELS: readonly KernelImpl[] = [
  { kernelName: "Add", kernelFunc: (args) => columnBinary("Add", args) },
  { kernelName: "Sub", kernelFunc: (args) => columnBinary("Sub", args) },
  {
    kernelName: "Multiply",
    kernelFunc: (args) => columnBinary("Multiply", args),
  },
  {
    kernelName: "RealDiv",
    kernelFunc: (args) => columnBinary("RealDiv", args),
  },
  { kernelName: "LeakyRelu", kernelFunc: leakyRelu },
  { kernelName: "ClipByValue", kernelFunc: clipByValue },
  { kernelName: "Sum", kernelFunc: sum },
  { kernelName: "Tanh", kernelFunc: tanh },
];
