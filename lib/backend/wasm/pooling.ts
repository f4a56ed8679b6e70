/**
 * Pooling kernels for `wasm`: MaxPoolGrad.
 *
 * @module
 */
import * as tf from "../../tf.ts";
import { simdKernelsFor } from "../simd_kernels.ts";
import { maxPoolGrad } from "../_conv_loops.ts";
import {
  address,
  attrsOf,
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
/** Max-pool gradient as a JS loop on the heap: 2-4x the shipped kernel. */
function maxPoolGradKernel(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { dy, input } = args.inputs as {
    dy: tf.TensorInfo;
    input: tf.TensorInfo;
  };
  const attrs = attrsOf<
    ConvAttrs & {
      filterSize: number | [number, number];
    }
  >(args);
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const simd = simdKernelsFor(backend);
  const [n, h, w, c] = input.shape;
  const { top, left } = info.padInfo;
  const tiles2x2 = info.filterHeight === 2 && info.filterWidth === 2 &&
    info.strideHeight === 2 && info.strideWidth === 2 &&
    info.dilationHeight === 1 && info.dilationWidth === 1 &&
    top === 0 && left === 0 && h === 2 * info.outHeight &&
    w === 2 * info.outWidth && c >= 4;
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
  { kernelName: "MaxPoolGrad", kernelFunc: maxPoolGradKernel },
];
