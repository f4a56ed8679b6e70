/**
 * Normalisation kernels for `wasm`: FusedBatchNorm, the batch norm of
 * inference (training's goes through `../fused_batch_norm.ts`).
 *
 * @module
 */
import * as tf from "../../tf.ts";
import { simdKernelsFor } from "../simd_kernels.ts";
import {
  address,
  attrsOf,
  callOriginal,
  type KernelArgs,
  type KernelImpl,
  rangeCall,
  wasmBackend,
} from "./_common.ts";
import { ELEMENTWISE_WORK_PER_VALUE } from "./policy.ts";

/** A float32 vector of `channels` values along the last axis, or absent. */
function perChannel(t: tf.TensorInfo | undefined, channels: number): boolean {
  return t === undefined ||
    (t.dtype === "float32" && t.shape.length >= 1 &&
      t.shape[t.shape.length - 1] === channels &&
      tf.util.sizeFromShape(t.shape) === channels);
}

/**
 * FusedBatchNorm over per-channel statistics (a BatchNormalization layer
 * in inference) as (x - mean) · invstd · gamma + beta in the SIMD kernels'
 * `bn_forward`, the formula training's fused batch norm uses, on two
 * threads for large inputs, with invstd = 1 / sqrt(variance + ε) computed
 * once per channel in float32. The shipped kernel takes a square root and
 * a division per value: 74 ms of MobileNet's 360 ms inference batch of 256.
 * Results differ from it by float rounding. Other shapes and dtypes go to
 * the shipped kernel.
 */
function fusedBatchNorm(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x, mean, variance, offset, scale } = args.inputs as Record<
    string,
    tf.TensorInfo | undefined
  >;
  const { varianceEpsilon } = attrsOf<{ varianceEpsilon: number }>(args);
  const simd = simdKernelsFor(backend);
  const channels = x?.shape[x.shape.length - 1] ?? 0;
  if (
    simd === undefined || x === undefined || x.dtype !== "float32" ||
    x.shape.length < 1 || channels === 0 || mean === undefined ||
    variance === undefined ||
    ![mean, variance, offset, scale].every((t) => perChannel(t, channels))
  ) {
    return callOriginal("FusedBatchNorm", args);
  }
  const out = backend.makeOutput([...x.shape], "float32");
  const size = tf.util.sizeFromShape(x.shape);
  if (size === 0) return out;
  // invstd, then gamma and beta where the layer has none (ones, zeros).
  const scratch = backend.makeOutput([3 * channels], "float32");
  try {
    const values = backend.typedArrayFromHeap(scratch) as Float32Array;
    const varianceValues = backend.typedArrayFromHeap(variance);
    const eps = Math.fround(varianceEpsilon);
    for (let c = 0; c < channels; c++) {
      // float32 steps, as the C kernels' 1.f / sqrtf(var + eps).
      const root = Math.fround(
        Math.sqrt(Math.fround(varianceValues[c] + eps)),
      );
      values[c] = Math.fround(1 / root);
    }
    values.fill(1, channels, 2 * channels);
    values.fill(0, 2 * channels);
    // Addresses after every allocation: they stay valid when the heap grows.
    const at = address(backend, scratch);
    const step = 4 * channels;
    const rows = size / channels;
    rangeCall(
      simd,
      "bn_forward",
      [
        address(backend, x),
        address(backend, mean),
        at,
        scale === undefined ? at + step : address(backend, scale),
        offset === undefined ? at + 2 * step : address(backend, offset),
        address(backend, out),
        rows,
        channels,
      ],
      rows,
      ELEMENTWISE_WORK_PER_VALUE * size,
    );
  } finally {
    backend.disposeData(scratch.dataId);
  }
  return out;
}

/** The normalisation kernels, for `register.ts`. */
export const NORMALISATION_KERNELS: readonly KernelImpl[] = [
  { kernelName: "FusedBatchNorm", kernelFunc: fusedBatchNorm },
];
