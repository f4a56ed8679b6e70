/**
 * Dense-layer kernels for `wasm`: BatchMatMul with transposed operands or
 * new weights, and _FusedMatMul on new weights.
 *
 * @module
 */
import type * as tf from "../../tf.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { type SimdKernels, simdKernelsFor } from "../simd_kernels.ts";
import { matmulNn, simdFilterGrad, simdMatMulNt } from "./_calls.ts";
import {
  attrsOf,
  callOriginal,
  type KernelArgs,
  type KernelImpl,
  originalKernel,
  shippedKernel,
  wasmBackend,
} from "./_common.ts";
import { freshWeights, MIN_SIMD_PIXELS } from "./policy.ts";
/**
 * A product operand as a matrix [rows, cols]: rank 2, or rank 3 with batch
 * 1 (tfjs passes either); `undefined` for batched or non-float32 ones.
 */
function matrix(t: tf.TensorInfo): [number, number] | undefined {
  if (t.dtype !== "float32") return undefined;
  if (t.shape.length === 2) return [t.shape[0], t.shape[1]];
  if (t.shape.length === 3 && t.shape[0] === 1) {
    return [t.shape[1], t.shape[2]];
  }
  return undefined;
}

/**
 * One matrix product with one transposed operand (batch 1, float32) in the
 * SIMD kernels, or `undefined` for other cases: Aᵀ·B is the filter
 * gradient of a 1x1 convolution over a column of `k` pixels; A·Bᵀ is
 * `matmul_nt`.
 */
function simdMatMul(
  backend: BackendWasm,
  simd: SimdKernels,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
): tf.TensorInfo | undefined {
  const am = matrix(a), bm = matrix(b);
  if (am === undefined || bm === undefined) return undefined;
  const lead = a.shape.length === 3 || b.shape.length === 3 ? [1] : [];
  if (transposeA) {
    const [k, m] = am;
    const n = bm[1];
    if (k < MIN_SIMD_PIXELS) return undefined;
    return simdFilterGrad(backend, simd, a, b, [...lead, m, n], [
      1,
      k,
      1,
      m,
      k,
      1,
      n,
      1,
      1,
      1,
      1,
      1,
      1,
      0,
      0,
    ]);
  }
  return simdMatMulNt(backend, simd, a, b, [...lead, am[0], bm[0]]);
}

/**
 * _FusedMatMul (a dense layer's forward pass) without transposes, on a
 * weight seen for the first time (see {@linkcode freshWeights}), with a
 * per-column bias or none and a linear or ReLU activation, in the SIMD
 * kernels (on two threads where they run); anything else in the shipped
 * kernel (XNNPACK, which first packs a new weight: 3 ms for 4096x256).
 */
function fusedMatMul(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { a, b, bias, preluActivationWeights } = args.inputs as {
    a: tf.TensorInfo;
    b: tf.TensorInfo;
    bias?: tf.TensorInfo;
    preluActivationWeights?: tf.TensorInfo;
  };
  const { transposeA, transposeB, activation } = attrsOf<{
    transposeA: boolean;
    transposeB: boolean;
    activation?: string;
  }>(args);
  const simd = simdKernelsFor(backend);
  const am = matrix(a), bm = matrix(b);
  const act = activation ?? "linear";
  if (
    simd !== undefined && am !== undefined && bm !== undefined &&
    !transposeA && !transposeB && am[1] === bm[0] &&
    preluActivationWeights === undefined &&
    (act === "linear" || act === "relu") &&
    (bias === undefined ||
      (bias.dtype === "float32" && bias.shape.length === 1 &&
        bias.shape[0] === bm[1])) &&
    freshWeights(b)
  ) {
    const lead = a.shape.length === 3 || b.shape.length === 3 ? [1] : [];
    return matmulNn(
      backend,
      simd,
      a,
      b,
      bias,
      [...lead, am[0], bm[1]],
      act === "relu",
    );
  }
  return callOriginal("_FusedMatMul", args);
}

/**
 * A product without transposes on a weight seen for the first time (see
 * {@linkcode freshWeights}), batch 1, float32, in the SIMD kernels; or
 * `undefined` for the shipped kernel.
 */
function freshMatMul(
  backend: BackendWasm,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
): tf.TensorInfo | undefined {
  const simd = simdKernelsFor(backend);
  const am = matrix(a), bm = matrix(b);
  if (
    simd === undefined || am === undefined || bm === undefined ||
    !freshWeights(b)
  ) {
    return undefined;
  }
  const lead = a.shape.length === 3 || b.shape.length === 3 ? [1] : [];
  return matmulNn(backend, simd, a, b, undefined, [...lead, am[0], bm[1]]);
}

/**
 * BatchMatMul with the transposes done first: tfjs-backend-wasm's product
 * with a transposed operand is several times slower than a transpose plus
 * an untransposed product (dense layers' gradients use both).
 */
function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = attrsOf<{
    transposeA: boolean;
    transposeB: boolean;
  }>(args);
  const original = originalKernel("BatchMatMul");
  if (!transposeA && !transposeB) {
    return freshMatMul(backend, a, b) ?? callOriginal("BatchMatMul", args);
  }
  const simd = simdKernelsFor(backend);
  if (simd !== undefined && transposeA !== transposeB) {
    const product = simdMatMul(backend, simd, a, b, transposeA);
    if (product !== undefined) return product;
  }
  const transpose = (t: tf.TensorInfo): tf.TensorInfo => {
    const perm = t.shape.map((_, i) => i);
    perm.push(...perm.splice(-2).reverse());
    return shippedKernel("Transpose")({
      inputs: { x: t },
      backend,
      attrs: { perm },
    }) as tf.TensorInfo;
  };
  const a2 = transposeA ? transpose(a) : a;
  const b2 = transposeB ? transpose(b) : b;
  const out = freshMatMul(backend, a2, b2) ?? original({
    inputs: { a: a2, b: b2 },
    backend,
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
  if (a2 !== a) backend.disposeData(a2.dataId);
  if (b2 !== b) backend.disposeData(b2.dataId);
  return out;
}

/** The dense-layer kernels, for `register.ts`. */
export const DENSE_KERNELS: readonly KernelImpl[] = [
  { kernelName: "BatchMatMul", kernelFunc: batchMatMul },
  { kernelName: "_FusedMatMul", kernelFunc: fusedMatMul },
];
