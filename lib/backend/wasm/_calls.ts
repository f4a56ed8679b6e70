/**
 * The C kernel calls that more than one family uses: the filter gradient
 * as a direct sum (also Aᵀ·B of a dense layer), C = A · Bᵀ and C = A · B.
 *
 * @module
 */
import * as tf from "../../tf.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { SimdKernels } from "../simd_kernels.ts";
import { address, type ConvGeometry, rangeCall } from "./_common.ts";
import { PRODUCT_CHUNKS } from "./policy.ts";
/**
 * The filter gradient (fh x fw x ci x co values, shaped `outShape`) of a
 * convolution with the given geometry (`geometryArgs`, with
 * output channels) in `conv2d_filter_grad_units`, on two threads where
 * they run.
 */
export function simdFilterGrad(
  backend: BackendWasm,
  simd: SimdKernels,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  outShape: readonly number[],
  geometry: ConvGeometry,
): tf.TensorInfo {
  const out = backend.makeOutput([...outShape], "float32");
  // Addresses after the allocation: they stay valid when the heap grows.
  const [n, , , ci, oh, ow, co, fh, fw] = geometry;
  const pixels = n * oh * ow;
  rangeCall(
    simd,
    "conv2d_filter_grad_units",
    [
      address(backend, x),
      address(backend, dy),
      address(backend, out),
      ...geometry,
    ],
    fh * fw * Math.ceil(ci / 4),
    pixels * fh * fw * ci * co,
  );
  return out;
}

/**
 * C = A · Bᵀ (A [m, k], B [n, k], read from their last axis) in
 * `matmul_nt_cols`, on two threads where they run; C is shaped
 * `outShape`.
 */
export function simdMatMulNt(
  backend: BackendWasm,
  simd: SimdKernels,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  outShape: number[],
): tf.TensorInfo {
  const k = a.shape[a.shape.length - 1];
  const m = tf.util.sizeFromShape(a.shape) / Math.max(k, 1);
  const n = tf.util.sizeFromShape(b.shape) / Math.max(k, 1);
  const out = backend.makeOutput(outShape, "float32");
  if (m * n === 0) return out;
  rangeCall(
    simd,
    "matmul_nt_cols",
    [
      address(backend, a),
      address(backend, b),
      address(backend, out),
      m,
      n,
      k,
    ],
    n,
    m * n * k,
    PRODUCT_CHUNKS,
  );
  return out;
}

/**
 * C = A · B (+ bias, then ReLU where `relu`) for A [m, k] and B [k, n] in
 * the SIMD kernels, on two threads where they run; `a` and `b` may carry
 * leading 1s in their shapes.
 */
export function matmulNn(
  backend: BackendWasm,
  simd: SimdKernels,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  outShape: number[],
  relu = false,
): tf.TensorInfo {
  const k = a.shape[a.shape.length - 1];
  const n = b.shape[b.shape.length - 1];
  const m = tf.util.sizeFromShape(a.shape) / Math.max(k, 1);
  const out = backend.makeOutput(outShape, "float32");
  if (m * n === 0) return out;
  // Addresses after the allocation: they stay valid when the heap grows.
  rangeCall(
    simd,
    "matmul_nn_rows",
    [
      address(backend, a),
      address(backend, b),
      address(backend, out),
      bias === undefined ? 0 : address(backend, bias),
      relu ? 1 : 0,
      m,
      n,
      k,
    ],
    m,
    m * n * k,
    PRODUCT_CHUNKS,
  );
  return out;
}
