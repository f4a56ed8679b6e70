/**
 * Batch normalisation in training as three SIMD kernels on `wasm`: the
 * batch moments, the normalisation, and (in the backward pass) all three
 * gradients at once. tfjs-layers' BatchNormalization builds it from
 * `moments` and `batchNorm`, whose gradients take ~45 small kernels per
 * layer and step (MobileNet: 27 layers, about half of its ~2,650 kernel
 * calls per step, each costing more JavaScript than arithmetic).
 *
 * {@linkcode patchBatchNormCall} patches `call` of tfjs-layers'
 * BatchNormalization: in training, on `wasm` with the SIMD kernels, for
 * the channels-last axis with both scale and offset, it computes the same
 * function (same outputs and gradients up to float rounding: the sums run
 * in another order) and updates the moving mean and variance with the same
 * operations as tfjs-layers; everything else runs the original `call`.
 *
 * @example
 * ```ts
 * import { patchBatchNormCall } from "./fused_batch_norm.ts";
 * patchBatchNormCall();
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { simdKernelsFor } from "./simd_kernels.ts";
import { requireFields } from "./tfjs_internals.ts";
import {
  attrsOf,
  type KernelArgs,
  type KernelImpl,
  wasmBackend,
} from "./wasm/_common.ts";

const _MOMENTS = "ProjectBatchNormMoments";
const _FORWARD = "ProjectBatchNormForward";
const _GRAD = "ProjectBatchNormGrad";

function _address(backend: BackendWasm, info: tf.TensorInfo): number {
  return backend.typedArrayFromHeap(info).byteOffset;
}

/** Rows and channels of x viewed as [rows, channels]. */
function _rowsCols(x: tf.TensorInfo): [number, number] {
  const cols = x.shape[x.shape.length - 1];
  return [tf.util.sizeFromShape(x.shape) / cols, cols];
}

function _moments(args: KernelArgs): tf.TensorInfo[] {
  const backend = wasmBackend(args);
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { epsilon } = attrsOf<{ epsilon: number }>(args);
  const [rows, cols] = _rowsCols(x);
  const outs = [0, 1, 2].map(() => backend.makeOutput([cols], "float32"));
  const [xAt, meanAt, varAt, invstdAt] = [x, ...outs].map((t) =>
    _address(backend, t)
  );
  simdKernelsFor(backend)!.bn_moments(
    xAt,
    meanAt,
    varAt,
    invstdAt,
    rows,
    cols,
    epsilon,
  );
  return outs;
}

function _forward(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x, mean, invstd, gamma, beta } = args.inputs as Record<
    string,
    tf.TensorInfo
  >;
  const [rows, cols] = _rowsCols(x);
  const out = backend.makeOutput([...x.shape], "float32");
  const [xAt, meanAt, invstdAt, gammaAt, betaAt, outAt] = [
    x,
    mean,
    invstd,
    gamma,
    beta,
    out,
  ].map((t) => _address(backend, t));
  simdKernelsFor(backend)!.bn_forward(
    xAt,
    meanAt,
    invstdAt,
    gammaAt,
    betaAt,
    outAt,
    rows,
    cols,
    0,
    rows,
  );
  return out;
}

function _grad(args: KernelArgs): tf.TensorInfo[] {
  const backend = wasmBackend(args);
  const { x, dy, mean, invstd, gamma } = args.inputs as Record<
    string,
    tf.TensorInfo
  >;
  const [rows, cols] = _rowsCols(x);
  const dx = backend.makeOutput([...x.shape], "float32");
  const dgamma = backend.makeOutput([cols], "float32");
  const dbeta = backend.makeOutput([cols], "float32");
  const at = [x, dy, mean, invstd, gamma, dx, dgamma, dbeta].map((t) =>
    _address(backend, t)
  );
  simdKernelsFor(backend)!.bn_backward(
    at[0],
    at[1],
    at[2],
    at[3],
    at[4],
    at[5],
    at[6],
    at[7],
    rows,
    cols,
  );
  return [dx, dgamma, dbeta];
}

/** The fields of tfjs-layers' BatchNormalization that the fused path uses. */
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: { read(): tf.Tensor } | null;
  beta: { read(): tf.Tensor } | null;
  movingMean: { read(): tf.Tensor; write(t: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(t: tf.Tensor): void };
}

type Call = (
  this: BatchNormLayer,
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: Record<string, unknown>,
) => tf.Tensor | tf.Tensor[];

/** The one input tensor, when `call` was given one. */
function _single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | undefined {
  if (inputs instanceof tf.Tensor) return inputs;
  return inputs.length === 1 ? inputs[0] : undefined;
}

/** The fields of the layer the fused path reads, with their `typeof`. */
const _LAYER_FIELDS: Record<string, string> = {
  axis: "number",
  momentum: "number",
  epsilon: "number",
  center: "boolean",
  scale: "boolean",
  movingMean: "object",
  movingVariance: "object",
};

function _fusable(layer: BatchNormLayer, x: tf.Tensor | undefined): boolean {
  if (x === undefined || x.dtype !== "float32" || x.rank < 2) return false;
  if (
    tf.getBackend() !== "wasm" ||
    simdKernelsFor(tf.backend() as BackendWasm) === undefined
  ) {
    return false;
  }
  // Fields of tfjs-layers' BatchNormalization: checked, or a loud error.
  requireFields(layer, "BatchNormalization", _LAYER_FIELDS);
  const axis = layer.axis < 0 ? layer.axis + x.rank : layer.axis;
  if (!(axis === x.rank - 1 && layer.center && layer.scale)) return false;
  requireFields(layer, "BatchNormalization", {
    gamma: "object",
    beta: "object",
  });
  return layer.gamma !== null && layer.beta !== null &&
    x.shape[x.rank - 1] > 0 && x.size > 0;
}

/** moving ← moving − (moving − value)(1 − momentum), as tfjs-layers does. */
function _movingAverage(
  variable: BatchNormLayer["movingMean"],
  value: tf.Tensor,
  momentum: number,
): void {
  tf.tidy(() => {
    const decay = 1 - momentum;
    const origValue = variable.read();
    const updateDelta = tf.mul(tf.sub(origValue, value), decay);
    variable.write(tf.sub(origValue, updateDelta));
  });
}

function _fusedCall(this: BatchNormLayer, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const engine = tf.engine();
    const [mean, variance, invstd] = engine.runKernel(_MOMENTS, { x }, {
      epsilon: this.epsilon,
    }) as tf.Tensor[];
    // The gradient accounts for the batch statistics' dependence on x, so
    // they enter as constants, not as inputs with gradients of their own.
    const normalize = tf.customGrad(
      (input, gamma, beta, save) => {
        const [xs, g, b] = [input, gamma, beta] as tf.Tensor[];
        (save as (t: tf.Tensor[]) => void)([xs, g, mean, invstd]);
        const value = engine.runKernel(_FORWARD, {
          x: xs,
          mean,
          invstd,
          gamma: g,
          beta: b,
        }) as tf.Tensor;
        return {
          value,
          gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
            const [sx, sg, sm, si] = saved;
            return engine.runKernel(_GRAD, {
              x: sx,
              dy: dy as tf.Tensor,
              mean: sm,
              invstd: si,
              gamma: sg,
            }) as tf.Tensor[];
          },
        };
      },
    );
    const normed = normalize(
      x,
      this.gamma!.read(),
      this.beta!.read(),
    ) as tf.Tensor;
    _movingAverage(this.movingMean, mean, this.momentum);
    _movingAverage(this.movingVariance, variance, this.momentum);
    return normed;
  });
}

/** The project kernels of the fused batch norm, for `register.ts`. */
export const BATCH_NORM_KERNELS: readonly KernelImpl[] = [
  { kernelName: _MOMENTS, kernelFunc: _moments },
  { kernelName: _FORWARD, kernelFunc: _forward },
  { kernelName: _GRAD, kernelFunc: _grad },
];

let _patched = false;

/**
 * Patches `call` of tfjs-layers' BatchNormalization to take the fused path
 * in training (see the module doc); its kernels are registered by
 * `installFusedBatchNorm` (`register.ts`). Idempotent.
 *
 * @example
 * ```ts
 * import { patchBatchNormCall } from "./fused_batch_norm.ts";
 * patchBatchNormCall();
 * ```
 */
export function patchBatchNormCall(): void {
  if (_patched) return;
  const prototype = Object.getPrototypeOf(
    tf.layers.batchNormalization({}),
  ) as object;
  requireFields(prototype, "BatchNormalization.prototype", {
    call: "function",
  });
  const patchable = prototype as { call: Call };
  _patched = true;
  const original = patchable.call;
  patchable.call = function (this: BatchNormLayer, inputs, kwargs) {
    const x = _single(inputs);
    if (kwargs?.training === true && _fusable(this, x)) {
      return _fusedCall.call(this, x!);
    }
    return original.call(this, inputs, kwargs);
  };
}
