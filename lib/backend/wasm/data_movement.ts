/**
 * Data-movement kernels for `wasm` that avoid copies: GatherV2 along the
 * first axis, Slice straight from the heap, Tile of whole tensors, Identity
 * as a new reference.
 *
 * @module
 */
import * as tf from "../../tf.ts";
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
 * Tile that only repeats the whole tensor (every repeated axis comes before
 * the first axis longer than 1), as the batch-norm gradient's broadcasts of
 * per-channel values do: block copies, doubling, instead of the shipped
 * kernel's per-element index arithmetic (~50 ms per MobileNet step).
 */
function tile(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { reps } = attrsOf<{ reps: number[] }>(args);
  let first = x.shape.findIndex((d) => d !== 1);
  if (first < 0) first = x.shape.length;
  if (
    (x.dtype !== "float32" && x.dtype !== "int32") ||
    reps.length !== x.shape.length || reps.slice(first).some((r) => r !== 1)
  ) {
    return callOriginal("Tile", args);
  }
  const out = backend.makeOutput(x.shape.map((d, i) => d * reps[i]), x.dtype);
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
