/**
 * Pooling kernels for `wasm`: MaxPool over 2x2 windows, MaxPoolGrad.
 *
 * @module
 */
import * as tf from "../../tf.ts";
import { simdKernelsFor } from "../simd_kernels.ts";
import { maxPoolGrad } from "../_conv_loops.ts";
import {
  address,
  attrsOf,
  callOriginal,
  type ConvAttrs,
  geometryArgs,
  heapF32,
  type KernelArgs,
  type KernelImpl,
  rangeCall,
  simdCall,
  wasmBackend,
} from "./_common.ts";
import { ELEMENTWISE_WORK_PER_VALUE } from "./policy.ts";
/** The geometry of a max pool from its kernel arguments. */
function poolInfo(
  input: tf.TensorInfo,
  args: KernelArgs,
): tf.backend_util.Conv2DInfo {
  const attrs = attrsOf<
    ConvAttrs & {
      filterSize: number | [number, number];
    }
  >(args);
  return tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

/** 2x2 windows at stride 2 starting at the input's corner, 4+ channels. */
function corner2x2(info: tf.backend_util.Conv2DInfo): boolean {
  return info.filterHeight === 2 && info.filterWidth === 2 &&
    info.strideHeight === 2 && info.strideWidth === 2 &&
    info.dilationHeight === 1 && info.dilationWidth === 1 &&
    info.padInfo.top === 0 && info.padInfo.left === 0 &&
    2 * info.outHeight <= info.inHeight &&
    2 * info.outWidth <= info.inWidth && info.inChannels >= 4;
}

/**
 * MaxPool over 2x2 windows at stride 2 (every LeNet's and the CIFAR CNN's
 * pools) in the SIMD kernels' `max_pool_2x2_rows`, by rows on two threads
 * for large inputs; other pools go to the shipped kernel. The shipped one
 * ran on one thread (LeNet-5-32's first pool at batch 256: 470 µs) and
 * gave -Infinity for a window holding a NaN.
 */
function maxPoolKernel(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x } = args.inputs as { x: tf.TensorInfo };
  const simd = simdKernelsFor(backend);
  if (simd === undefined || x.dtype !== "float32" || x.shape.length !== 4) {
    return callOriginal("MaxPool", args);
  }
  const info = poolInfo(x, args);
  if (!corner2x2(info)) return callOriginal("MaxPool", args);
  const [n, h, w, c] = x.shape;
  const out = backend.makeOutput([...info.outShape], "float32");
  if (n * info.outHeight * info.outWidth === 0) return out;
  rangeCall(
    simd,
    "max_pool_2x2_rows",
    [
      address(backend, x),
      address(backend, out),
      n,
      h,
      w,
      c,
      info.outHeight,
      info.outWidth,
    ],
    n * info.outHeight,
    // Not multiply-adds: a compare per input value, weighted as the
    // gradient's.
    ELEMENTWISE_WORK_PER_VALUE * tf.util.sizeFromShape(x.shape),
  );
  return out;
}

/** Max-pool gradient as a JS loop on the heap: 2-4x the shipped kernel. */
function maxPoolGradKernel(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { dy, input } = args.inputs as {
    dy: tf.TensorInfo;
    input: tf.TensorInfo;
  };
  const info = poolInfo(input, args);
  const simd = simdKernelsFor(backend);
  const [n, h, w, c] = input.shape;
  const tiles2x2 = corner2x2(info) && h === 2 * info.outHeight &&
    w === 2 * info.outWidth;
  const disjoint = info.filterHeight <= info.strideHeight &&
    info.filterWidth <= info.strideWidth && info.dilationHeight === 1 &&
    info.dilationWidth === 1;
  if (simd !== undefined && disjoint) {
    // Windows that do not overlap: rows are independent, and shared with
    // the kernel thread where it runs. 2x2 tiles (LeNet's and the CIFAR
    // CNN's pools) write each input value once, with no zeroing or
    // scatter: measured against the general row kernel (median of 7, one
    // process each, alternated twice), LeNet-5's first pool at batch 32
    // (28x28x6) 0.06 against 0.29-0.31 ms, 24x24x32 at batch 100 0.36
    // against 0.88-0.95 ms.
    const [kernel, geometry] = tiles2x2
      ? ["max_pool_grad_2x2_rows" as const, [
        n,
        h,
        w,
        c,
        info.outHeight,
        info.outWidth,
      ]]
      : ["max_pool_grad_rows" as const, geometryArgs(info, false)];
    heapF32(backend, input); // dtype checks
    heapF32(backend, dy);
    const dx = backend.makeOutput([...input.shape], "float32");
    rangeCall(
      simd,
      kernel,
      [
        address(backend, input),
        address(backend, dy),
        address(backend, dx),
        ...geometry,
      ],
      n * info.outHeight,
      // Not multiply-adds: a few compares per input value, weighted alike.
      ELEMENTWISE_WORK_PER_VALUE * tf.util.sizeFromShape(input.shape),
    );
    return dx;
  }
  if (simd !== undefined) {
    return simdCall(
      backend,
      simd,
      "max_pool_grad",
      input,
      dy,
      [...input.shape],
      geometryArgs(info, false),
    );
  }
  const dx = backend.makeOutput([...input.shape], "float32");
  const out = backend.typedArrayFromHeap(dx) as Float32Array;
  out.fill(0);
  maxPoolGrad(heapF32(backend, input), heapF32(backend, dy), info, out);
  return dx;
}

/** The pooling kernels, for `register.ts`. */
export const POOLING_KERNELS: readonly KernelImpl[] = [
  { kernelName: "MaxPool", kernelFunc: maxPoolKernel },
  { kernelName: "MaxPoolGrad", kernelFunc: maxPoolGradKernel },
];
