/**
 * Shared by the wasm kernel families: the kernel-call types, the
 * convolution geometry as tfjs computes it, heap views and addresses, the
 * shipped kernels that a replacement falls back to, and the range call that
 * shares a C kernel with the kernel thread.
 *
 * @module
 */
import * as tf from "../../tf.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { SimdKernels, ThreadedKernel } from "../bindings.ts";
import { kernelThreads } from "../kernel_threads.ts";
import { CHUNKS, MIN_THREADED_WORK } from "./policy.ts";
import type { KernelArgs } from "../_kernel_args.ts";

export { attrsOf, type KernelArgs, type KernelImpl } from "../_kernel_args.ts";

/** The attributes of a convolution or pooling kernel call. */
export type ConvAttrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: "floor" | "round" | "ceil";
  dilations?: number | [number, number];
  dataFormat?: "NHWC" | "NCHW";
};

type Shape4 = [number, number, number, number];

/** The convolution geometry of a kernel call, as tfjs computes it. */
export function convInfo(
  inputShape: readonly number[],
  filterShape: readonly number[],
  attrs: ConvAttrs,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inputShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
}

/** A kernel call's backend, which is wasm's for every kernel here. */
export function wasmBackend(args: KernelArgs): BackendWasm {
  return args.backend as BackendWasm;
}

/**
 * The shipped wasm kernels that the project's replace, kept by the
 * registration (`register.ts`) to fall back to.
 */
export const originals: Map<string, tf.KernelConfig> = new Map();

/** The shipped wasm kernel that the project's `name` replaced. */
export function originalKernel(name: string): tf.KernelFunc {
  const kernel = originals.get(name);
  if (kernel === undefined) throw new Error(`${name}: not registered yet`);
  return kernel.kernelFunc;
}

/** Calls the shipped kernel that the project's `name` replaced. */
export function callOriginal(name: string, args: KernelArgs): tf.TensorInfo {
  return originalKernel(name)(
    args as Parameters<tf.KernelFunc>[0],
  ) as tf.TensorInfo;
}

export function checkNhwc(kernel: string, attrs: ConvAttrs): void {
  if (attrs.dataFormat === "NCHW") {
    throw new Error(
      `${kernel} on wasm supports only NHWC (channelsLast) data; ` +
        `build the model with dataFormat "channelsLast".`,
    );
  }
}

export function heapF32(
  backend: BackendWasm,
  info: tf.TensorInfo,
): Float32Array {
  if (info.dtype !== "float32") {
    throw new Error(
      `expected a float32 tensor, got ${info.dtype}; cast it first.`,
    );
  }
  return backend.typedArrayFromHeap(info) as Float32Array;
}

export function outputFrom(
  backend: BackendWasm,
  shape: number[],
  values: Float32Array,
): tf.TensorInfo {
  const out = backend.makeOutput(shape, "float32");
  (backend.typedArrayFromHeap(out) as Float32Array).set(values);
  return out;
}

/** A tensor's byte address in the wasm heap, for the SIMD kernels. */
export function address(backend: BackendWasm, info: tf.TensorInfo): number {
  return heapF32(backend, info).byteOffset;
}

/**
 * The geometry a pooling or depthwise kernel takes after its pointers
 * (see `bindings.ts`).
 */
export type PoolGeometry = [
  n: number,
  h: number,
  w: number,
  c: number,
  oh: number,
  ow: number,
  fh: number,
  fw: number,
  sh: number,
  sw: number,
  dh: number,
  dw: number,
  pt: number,
  pl: number,
];

/** The geometry a convolution kernel takes: PoolGeometry plus co. */
export type ConvGeometry = [
  n: number,
  h: number,
  w: number,
  ci: number,
  oh: number,
  ow: number,
  co: number,
  fh: number,
  fw: number,
  sh: number,
  sw: number,
  dh: number,
  dw: number,
  pt: number,
  pl: number,
];

/**
 * The geometry arguments the SIMD kernels take after their pointers: n, h,
 * w, channels, outHeight, outWidth, [outChannels,] filter, strides,
 * dilations, top and left padding.
 */
export function geometryArgs(
  info: tf.backend_util.Conv2DInfo,
  withOutChannels: true,
): ConvGeometry;
export function geometryArgs(
  info: tf.backend_util.Conv2DInfo,
  withOutChannels: false,
): PoolGeometry;
export function geometryArgs(
  info: tf.backend_util.Conv2DInfo,
  withOutChannels: boolean,
): ConvGeometry | PoolGeometry {
  const front = [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
  ] as const;
  const back = [
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ] as const;
  return withOutChannels
    ? [...front, info.outChannels, ...back]
    : [...front, ...back];
}

/**
 * Runs SIMD kernel `name` as out = f(a, b) in the heap: allocates the
 * output tensor, then passes the three addresses and the geometry.
 */
export function simdCall(
  backend: BackendWasm,
  kernels: SimdKernels,
  name: "depthwise_filter_grad" | "depthwise_input_grad" | "max_pool_grad",
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  outShape: number[],
  geometry: PoolGeometry,
): tf.TensorInfo {
  const out = backend.makeOutput(outShape, "float32");
  // Addresses after the allocation: they stay valid when the heap grows.
  kernels[name](
    address(backend, a),
    address(backend, b),
    address(backend, out),
    ...geometry,
  );
  return out;
}

/**
 * The wasm kernel `name` as tfjs-backend-wasm ships it (its original where
 * the project replaced it).
 */
export function shippedKernel(name: string): tf.KernelFunc {
  const kernel = originals.get(name) ?? tf.getKernel(name, "wasm");
  if (kernel === undefined) {
    throw new Error(`tfjs-backend-wasm has no ${name} kernel; is it loaded?`);
  }
  return kernel.kernelFunc;
}

/** The SIMD kernels that compute a range of their output's rows or units. */
export type RangeKernel = Exclude<ThreadedKernel, "conv2d_input_grad_images">;

/**
 * Runs range kernel `name` with `args` over [0, total): shared with the
 * kernel thread in chunks where it runs and `work` (multiply-adds) is
 * worth a hand-off, else all here. The kernels compute every part alike
 * however it is split, so the result is the same bit for bit.
 */
export function rangeCall(
  simd: SimdKernels,
  name: RangeKernel,
  args: readonly number[],
  total: number,
  work: number,
  chunks = CHUNKS,
): void {
  const threads = kernelThreads();
  if (threads === undefined || total < 2 || work < MIN_THREADED_WORK) {
    // A range kernel's arguments are int32s, then the range.
    (simd[name] as (...args: number[]) => void)(...args, 0, total);
    return;
  }
  threads.share(
    name,
    args,
    { total, step: Math.ceil(total / chunks) },
    (from, to) =>
      (simd[name] as (...args: number[]) => void)(...args, from, to),
  );
}
