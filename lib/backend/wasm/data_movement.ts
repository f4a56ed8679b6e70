/**
 * Data-movement kernels for `wasm` that avoid copies: GatherV2 along the
 * first axis, Slice straight from the heap, Tile of whole tensors, Identity
 * as a new reference.
 *
 * @module
 */
import * as tf from "../../tf.ts";
import { simdKernelsFor } from "../simd_kernels.ts";
import {
  attrsOf,
  callOriginal,
  type KernelArgs,
  type KernelImpl,
  wasmBackend,
} from "./_common.ts";
/**
 * GatherV2 along the first axis (how `model.fit` slices its batches) as one
 * heap copy per index: the shipped kernel walks every element through
 * generic strides, ~50 times slower for a batch of images.
 */
function gatherV2(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x, indices } = args.inputs as {
    x: tf.TensorInfo;
    indices: tf.TensorInfo;
  };
  const { axis, batchDims } = attrsOf<{
    axis: number;
    batchDims?: number;
  }>(args);
  const first = tf.util.parseAxisParam(axis, x.shape)[0] === 0;
  if (
    !first || (batchDims ?? 0) !== 0 || indices.dtype !== "int32" ||
    (x.dtype !== "float32" && x.dtype !== "int32")
  ) {
    return callOriginal("GatherV2", args);
  }
  const rows = backend.typedArrayFromHeap(indices) as Int32Array;
  const count = x.shape[0];
  for (const row of rows) {
    if (!(row >= 0 && row < count)) {
      throw new Error(
        `GatherV2: the index value ${row} is not in [0, ${count - 1}]`,
      );
    }
  }
  const rowSize = tf.util.sizeFromShape(x.shape.slice(1));
  const out = backend.makeOutput(
    [...indices.shape, ...x.shape.slice(1)],
    x.dtype,
  );
  // Views after the allocation: the heap may have grown. Int32 copies move
  // float32 bits unchanged.
  const from = backend.typedArrayFromHeap(x);
  const heap = new Int32Array(from.buffer as ArrayBuffer);
  const src = from.byteOffset / 4;
  let dst = backend.typedArrayFromHeap(out).byteOffset / 4;
  const picks = backend.typedArrayFromHeap(indices) as Int32Array;
  for (let i = 0; i < picks.length; i++, dst += rowSize) {
    const start = src + picks[i] * rowSize;
    heap.copyWithin(dst, start, start + rowSize);
  }
  return out;
}

/**
 * Slice read straight from the heap. The shipped kernel first copies the
 * whole input out of the heap (`readSync`), so slicing a batch off a large
 * tensor costs a copy of the large tensor (LeNet-5 inference over 1,920
 * images spent 85% of its time there). Runs along the last axis are
 * copied whole.
 */
function slice(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { begin, size } = attrsOf<{
    begin: number | number[];
    size?: number | number[];
  }>(args);
  if (x.dtype === "string") {
    return callOriginal("Slice", args);
  }
  const [start, extent] = tf.slice_util.parseSliceParams(
    x as tf.Tensor,
    begin,
    size,
  );
  const out = backend.makeOutput(extent, x.dtype);
  const total = tf.util.sizeFromShape(extent);
  if (total === 0) return out;
  // Views after the allocation: the heap may have grown.
  const from = backend.typedArrayFromHeap(x);
  const to = backend.typedArrayFromHeap(out);
  const strides = tf.util.computeStrides(x.shape);
  if (tf.slice_util.isSliceContinous(x.shape, start, extent)) {
    const offset = tf.slice_util.computeFlatOffset(start, strides);
    to.set(from.subarray(offset, offset + total));
    return out;
  }
  const rank = x.shape.length;
  const run = extent[rank - 1];
  const index = new Array<number>(rank - 1).fill(0);
  for (let done = 0; done < total; done += run) {
    let offset = start[rank - 1];
    for (let d = 0; d < rank - 1; d++) {
      offset += (start[d] + index[d]) * strides[d];
    }
    to.set(from.subarray(offset, offset + run), done);
    for (let d = rank - 2; d >= 0; d--) {
      if (++index[d] < extent[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/**
 * The sizes and strides (in values; 0 repeats a value) of a Tile that is a
 * broadcast (every repeated axis has size 1), adjacent axes that read
 * alike merged and axes of one dropped, padded in front to the 6 axes of
 * `broadcast_strided`; undefined for other tiles or over 6 merged axes.
 */
function broadcastGeometry(
  shape: readonly number[],
  reps: readonly number[],
): number[] | undefined {
  if (shape.some((d, i) => reps[i] !== 1 && d !== 1)) return undefined;
  const dims: number[] = [];
  const strides: number[] = [];
  let stride = tf.util.sizeFromShape(shape as number[]);
  for (let i = 0; i < shape.length; i++) {
    stride /= shape[i]; // x's stride of axis i
    const d = shape[i] * reps[i];
    if (d === 1) continue;
    const s = reps[i] === 1 ? stride : 0;
    const last = dims.length - 1;
    // The outer axis steps over the whole inner one: one axis.
    if (last >= 0 && strides[last] === s * d) {
      dims[last] *= d;
      strides[last] = s;
    } else {
      dims.push(d);
      strides.push(s);
    }
  }
  if (dims.length > 6) return undefined;
  while (dims.length < 6) {
    dims.unshift(1);
    strides.unshift(0);
  }
  return [...dims, ...strides];
}

/**
 * Tile of float32 or int32 tensors: repeats of the whole tensor (its
 * leading axes of size 1 repeated, as the batch-norm gradient's broadcasts
 * of per-channel values: ~50 ms per MobileNet step in the shipped kernel)
 * as doubling block copies, with or without the SIMD kernels; other
 * broadcasts (every repeated axis of size 1, as `tf.broadcastTo` and the
 * Sum gradient ask) in the SIMD kernels' `broadcast_strided`; other tiles
 * in the shipped kernel, which walks every value through generic index
 * arithmetic (a 150K-value broadcast: 13 ms).
 */
function tile(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { reps } = attrsOf<{ reps: number[] }>(args);
  if (
    (x.dtype !== "float32" && x.dtype !== "int32") ||
    reps.length !== x.shape.length
  ) {
    return callOriginal("Tile", args);
  }
  let first = x.shape.findIndex((d) => d !== 1);
  if (first < 0) first = x.shape.length;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  if (reps.slice(first).some((r) => r !== 1)) {
    const simd = simdKernelsFor(backend);
    const geometry = simd && broadcastGeometry(x.shape, reps);
    if (simd === undefined || geometry === undefined) {
      return callOriginal("Tile", args);
    }
    const out = backend.makeOutput(outShape, x.dtype);
    if (tf.util.sizeFromShape(outShape) === 0) return out;
    // Addresses after the allocation: they stay valid when the heap grows.
    const [d0, d1, d2, d3, d4, d5, s0, s1, s2, s3, s4, s5] = geometry;
    // Byte addresses of float32 or int32 data (the kernel moves bits).
    const at = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t).byteOffset;
    simd.broadcast_strided(
      at(x),
      at(out),
      d0,
      d1,
      d2,
      d3,
      d4,
      d5,
      s0,
      s1,
      s2,
      s3,
      s4,
      s5,
    );
    return out;
  }
  const out = backend.makeOutput(outShape, x.dtype);
  // Views after the allocation: the heap may have grown.
  const from = backend.typedArrayFromHeap(x);
  const heap = new Int32Array(from.buffer as ArrayBuffer);
  const start = backend.typedArrayFromHeap(out).byteOffset / 4;
  const size = from.length;
  const total = size * reps.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  heap.copyWithin(start, from.byteOffset / 4, from.byteOffset / 4 + size);
  for (let done = size; done < total; done *= 2) {
    heap.copyWithin(start + done, start, start + Math.min(done, total - done));
  }
  return out;
}

/**
 * Identity as a new reference to the same heap buffer, as Reshape (and the
 * cpu backend's Identity) do, instead of a copy: tfjs tensors are never
 * written in place, and the gradient tape and tfjs-layers call Identity
 * hundreds of times per step (MobileNet: ~880).
 */
function identity(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === "string") {
    return callOriginal("Identity", args);
  }
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** The data-movement kernels, for `register.ts`. */
export const DATA_MOVEMENT_KERNELS: readonly KernelImpl[] = [
  { kernelName: "GatherV2", kernelFunc: gatherV2 },
  { kernelName: "Slice", kernelFunc: slice },
  { kernelName: "Tile", kernelFunc: tile },
  { kernelName: "Identity", kernelFunc: identity },
];
