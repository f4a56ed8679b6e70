/**
 * TensorFlow.js's chained tensor methods (`x.square().sum()`,
 * `t.toFloat()`, `a.add(b)`), installed on the project's one tfjs-core.
 *
 * The `@tensorflow/tfjs` umbrella registers them by importing tfjs-core's
 * `register_all_chained_ops.js`, an ES module whose extension-less imports do
 * not load under Deno (and would load a second tfjs-core if they did). Here
 * each method is a small function on `tf.Tensor.prototype` that delegates to
 * the tfjs-core op of the same meaning, exactly as tfjs's own chained ops do.
 * Their TypeScript types are tfjs-core's own declaration augmentations,
 * imported for types only (no code of theirs runs).
 *
 * `lib/tf.ts` imports this module, so every `tf` of the project has them.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "./tf.ts";
 * import { initBackend } from "./backend/init.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const x = tf.tensor1d([1, 2, 3]);
 * assert.deepEqual(await x.square().sum().data(), new Float32Array([14]));
 * ```
 *
 * @module
 */
import * as core from "@tensorflow/tfjs-core";
import type {} from "@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops";

/**
 * Chained methods that call the tfjs-core op of the same name with the tensor
 * as first argument: `x.name(...args)` is `tf.name(x, ...args)`.
 */
export const SAME_NAME_CHAINED_OPS = [
  "abs",
  "acos",
  "acosh",
  "add",
  "all",
  "any",
  "argMax",
  "argMin",
  "asin",
  "asinh",
  "atan",
  "atan2",
  "atanh",
  "avgPool",
  "batchToSpaceND",
  "batchNorm",
  "broadcastTo",
  "cast",
  "ceil",
  "clipByValue",
  "conv1d",
  "conv2d",
  "conv2dTranspose",
  "cos",
  "cosh",
  "cumprod",
  "cumsum",
  "depthToSpace",
  "depthwiseConv2d",
  "dilation2d",
  "div",
  "divNoNan",
  "dot",
  "elu",
  "equal",
  "erf",
  "euclideanNorm",
  "exp",
  "expandDims",
  "expm1",
  "fft",
  "floor",
  "floorDiv",
  "gather",
  "greater",
  "greaterEqual",
  "ifft",
  "irfft",
  "isFinite",
  "isInf",
  "isNaN",
  "leakyRelu",
  "less",
  "lessEqual",
  "localResponseNormalization",
  "log",
  "log1p",
  "logSigmoid",
  "logSoftmax",
  "logSumExp",
  "logicalAnd",
  "logicalNot",
  "logicalOr",
  "logicalXor",
  "matMul",
  "max",
  "maxPool",
  "maximum",
  "mean",
  "min",
  "minimum",
  "mirrorPad",
  "mod",
  "mul",
  "neg",
  "norm",
  "notEqual",
  "oneHot",
  "onesLike",
  "pad",
  "pool",
  "pow",
  "prelu",
  "prod",
  "reciprocal",
  "relu",
  "relu6",
  "reshape",
  "reverse",
  "rfft",
  "round",
  "rsqrt",
  "selu",
  "separableConv2d",
  "sigmoid",
  "sign",
  "sin",
  "sinh",
  "slice",
  "softmax",
  "softplus",
  "spaceToBatchND",
  "split",
  "sqrt",
  "square",
  "squaredDifference",
  "squeeze",
  "step",
  "stridedSlice",
  "sub",
  "sum",
  "tan",
  "tanh",
  "tile",
  "topk",
  "transpose",
  "unique",
  "unsortedSegmentSum",
  "unstack",
  "zerosLike",
] as const;

type Method = (this: core.Tensor, ...args: never[]) => unknown;

/** The chained methods whose op differs in name or arguments. */
const _OTHER_CHAINED_OPS: Readonly<Record<string, Method>> = {
  as1D(this: core.Tensor) {
    return core.reshape(this, [this.size]);
  },
  as2D(this: core.Tensor, rows: number, columns: number) {
    return core.reshape(this, [rows, columns]);
  },
  as3D(this: core.Tensor, rows: number, columns: number, depth: number) {
    return core.reshape(this, [rows, columns, depth]);
  },
  as4D(this: core.Tensor, a: number, b: number, c: number, d: number) {
    return core.reshape(this, [a, b, c, d]);
  },
  as5D(
    this: core.Tensor,
    a: number,
    b: number,
    c: number,
    d: number,
    e: number,
  ) {
    return core.reshape(this, [a, b, c, d, e]);
  },
  asScalar(this: core.Tensor) {
    if (this.size !== 1) {
      throw new Error(
        `asScalar: the tensor has ${this.size} elements (shape [${this.shape}]); it must have exactly 1`,
      );
    }
    return core.reshape(this, []);
  },
  asType(this: core.Tensor, dtype: core.DataType) {
    return core.cast(this, dtype);
  },
  concat(this: core.Tensor, x: core.Tensor | core.Tensor[], axis?: number) {
    return core.concat([this, ...(x instanceof core.Tensor ? [x] : x)], axis);
  },
  flatten(this: core.Tensor) {
    return core.reshape(this, [this.size]);
  },
  resizeBilinear(
    this: core.Tensor,
    size: [number, number],
    alignCorners?: boolean,
    halfPixelCenters?: boolean,
  ) {
    return core.image.resizeBilinear(
      this as core.Tensor4D,
      size,
      alignCorners,
      halfPixelCenters,
    );
  },
  resizeNearestNeighbor(
    this: core.Tensor,
    size: [number, number],
    alignCorners?: boolean,
    halfPixelCenters?: boolean,
  ) {
    return core.image.resizeNearestNeighbor(
      this as core.Tensor4D,
      size,
      alignCorners,
      halfPixelCenters,
    );
  },
  reshapeAs(this: core.Tensor, x: core.Tensor) {
    return core.reshape(this, x.shape);
  },
  stack(this: core.Tensor, x: core.Tensor | core.Tensor[], axis?: number) {
    return core.stack([this, ...(x instanceof core.Tensor ? [x] : x)], axis);
  },
  toBool(this: core.Tensor) {
    return core.cast(this, "bool");
  },
  toFloat(this: core.Tensor) {
    return core.cast(this, "float32");
  },
  toInt(this: core.Tensor) {
    return core.cast(this, "int32");
  },
  where(this: core.Tensor, condition: core.Tensor, x: core.Tensor) {
    return core.where(condition, this, x);
  },
};

/**
 * Names of every chained method {@linkcode registerChainedOps} installs.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { CHAINED_OP_NAMES } from "./chained_ops.ts";
 * assert.ok(CHAINED_OP_NAMES.includes("toFloat"));
 * ```
 */
export const CHAINED_OP_NAMES: readonly string[] = [
  ...SAME_NAME_CHAINED_OPS,
  ...Object.keys(_OTHER_CHAINED_OPS),
].sort();

/**
 * Installs the chained methods on `tf.Tensor.prototype` (so on variables
 * too). Methods a tensor class already has (`cast`, or ones registered by
 * tfjs itself) are kept. Idempotent; returns the names it installed now.
 * `lib/tf.ts` already calls it.
 *
 * @example
 * ```ts
 * import { registerChainedOps } from "./chained_ops.ts";
 * registerChainedOps(); // [] the second time
 * ```
 */
export function registerChainedOps(): string[] {
  const proto = core.Tensor.prototype as unknown as Record<string, unknown>;
  const ops = core as unknown as Record<
    string,
    (...args: unknown[]) => unknown
  >;
  const installed: string[] = [];
  const define = (name: string, method: Method) => {
    if (typeof proto[name] === "function") return;
    Object.defineProperty(proto, name, {
      value: function (this: core.Tensor, ...args: never[]) {
        this.throwIfDisposed();
        return method.apply(this, args);
      },
      writable: true,
      configurable: true,
      enumerable: false,
    });
    installed.push(name);
  };
  for (const name of SAME_NAME_CHAINED_OPS) {
    const op = ops[name];
    if (typeof op !== "function") {
      throw new Error(
        `registerChainedOps: tfjs-core has no op "${name}"; the chained-op list does not match this tfjs-core version`,
      );
    }
    define(name, function (this: core.Tensor, ...args: unknown[]) {
      return op(this, ...args);
    });
  }
  for (const [name, method] of Object.entries(_OTHER_CHAINED_OPS)) {
    define(name, method);
  }
  return installed;
}

registerChainedOps();
