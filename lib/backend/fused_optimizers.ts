/**
 * Adam and Adamax steps fused into one SIMD kernel call per variable on
 * `wasm`: tfjs's optimizers run about a dozen small kernels per variable
 * and step (MobileNet: ~1,000 per step), each with its own allocation and
 * JavaScript overhead. The fused kernels compute the same float32 operations
 * in the same order, so the weights are the same as tfjs's.
 *
 * `installFusedOptimizers` (`register.ts`) patches `applyGradients` of tfjs's
 * `AdamOptimizer` and `AdamaxOptimizer` classes; the patched method falls
 * back to the original on any other backend, without the SIMD kernels, or
 * for anything the kernels do not cover (non-float32 variables). The
 * optimizer's state (moments, `accBeta1`, ...) is kept in the same
 * variables, so checkpoints and `getWeights` are unchanged.
 *
 * @example
 * ```ts
 * import { patchAdam } from "./fused_optimizers.ts";
 * patchAdam();
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { type SimdKernels, simdKernelsFor } from "./simd_kernels.ts";
import { requireFields } from "./tfjs_internals.ts";

type Gradients = tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[];

/** The fields of tfjs's Adam and Adamax optimizers the fused step uses. */
interface OptimizerState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  decay?: number;
  accBeta1: tf.Variable;
  accBeta2?: tf.Variable;
  iteration?: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment?: { originalName: string; variable: tf.Variable }[];
  accumulatedWeightedInfNorm?: {
    originalName: string;
    variable: tf.Variable;
  }[];
  incrementIterations(): void;
}

type Fused = "adam" | "adamax";

/** The private fields each fused step reads, with their `typeof`. */
const _FIELDS: Record<Fused, Record<string, string>> = {
  adam: {
    learningRate: "number",
    beta1: "number",
    beta2: "number",
    epsilon: "number",
    accBeta1: "object",
    accBeta2: "object",
    accumulatedFirstMoment: "object",
    accumulatedSecondMoment: "object",
    incrementIterations: "function",
  },
  adamax: {
    learningRate: "number",
    beta1: "number",
    beta2: "number",
    epsilon: "number",
    decay: "number",
    accBeta1: "object",
    iteration: "object",
    accumulatedFirstMoment: "object",
    accumulatedWeightedInfNorm: "object",
    incrementIterations: "function",
  },
};

const _CLASS: Record<Fused, string> = {
  adam: "AdamOptimizer",
  adamax: "AdamaxOptimizer",
};

/** The optimizer's variables and gradients in order, if all are float32. */
function _entries(
  grads: Gradients,
): { value: tf.Variable; gradient: tf.Tensor | null }[] | undefined {
  const names = Array.isArray(grads)
    ? grads.map((g) => g.name)
    : Object.keys(grads);
  const registered = tf.engine().registeredVariables;
  const entries = names.map((name, i) => ({
    value: registered[name],
    gradient: (Array.isArray(grads) ? grads[i].tensor : grads[name]) ?? null,
  }));
  const ok = entries.every(({ value, gradient }) =>
    value !== undefined && value.dtype === "float32" &&
    (gradient === null ||
      (gradient.dtype === "float32" && gradient.size === value.size))
  );
  return ok ? entries : undefined;
}

function _moment(
  slots: { originalName: string; variable: tf.Variable }[],
  i: number,
  value: tf.Variable,
  suffix: string,
): tf.Variable {
  slots[i] ??= {
    originalName: `${value.name}/${suffix}`,
    variable: tf.variable(tf.zerosLike(value), false),
  };
  return slots[i].variable;
}

function _address(backend: BackendWasm, t: tf.Tensor): number {
  return backend.typedArrayFromHeap(t).byteOffset;
}

/** One fused step over all variables; state updated as tfjs does. */
function _fusedStep(
  kind: Fused,
  opt: OptimizerState,
  backend: BackendWasm,
  simd: SimdKernels,
  entries: { value: tf.Variable; gradient: tf.Tensor | null }[],
): void {
  const f = Math.fround;
  const b1 = f(opt.beta1), b2 = f(opt.beta2), eps = f(opt.epsilon);
  const oneMinusB1 = f(1 - opt.beta1), oneMinusB2 = f(1 - opt.beta2);
  const accBeta1 = opt.accBeta1.dataSync()[0];
  const c1 = f(1 - accBeta1);
  tf.tidy(() => {
    // One C call per variable: its seven addresses and size, then these.
    let update: (at: number[], size: number) => void;
    if (kind === "adam") {
      const c2 = f(1 - opt.accBeta2!.dataSync()[0]);
      const scalars = [
        b1,
        oneMinusB1,
        b2,
        oneMinusB2,
        c1,
        c2,
        eps,
        f(-opt.learningRate),
      ] as const;
      update = ([a, b, c, d, e, g, h], size) =>
        simd.adam_update(a, b, c, d, e, g, h, size, ...scalars);
    } else {
      const t = opt.iteration!.dataSync()[0];
      const lr = f(f(-opt.learningRate) / f(f(t * f(opt.decay ?? 0)) + 1));
      const scalars = [b1, oneMinusB1, b2, eps, f(lr / c1)] as const;
      update = ([a, b, c, d, e, g, h], size) =>
        simd.adamax_update(a, b, c, d, e, g, h, size, ...scalars);
    }
    const second = kind === "adam"
      ? opt.accumulatedSecondMoment!
      : opt.accumulatedWeightedInfNorm!;
    entries.forEach(({ value, gradient }, i) => {
      const m = _moment(opt.accumulatedFirstMoment, i, value, "m");
      const v = _moment(second, i, value, "v");
      if (gradient === null) return;
      const fresh = () =>
        tf.engine().makeTensorFromTensorInfo(
          backend.makeOutput([...value.shape], "float32"),
        );
      const [newValue, newM, newV] = [fresh(), fresh(), fresh()];
      // Addresses after the allocations: they stay valid if the heap grew.
      update(
        [value, gradient, m, v, newValue, newM, newV].map((t) =>
          _address(backend, t)
        ),
        value.size,
      );
      m.assign(newM);
      v.assign(newV);
      value.assign(newValue);
    });
    if (kind === "adamax") {
      opt.iteration!.assign(tf.add(opt.iteration!, 1));
    } else {
      opt.accBeta2!.assign(tf.mul(opt.accBeta2!, opt.beta2));
    }
    opt.accBeta1.assign(tf.mul(opt.accBeta1, opt.beta1));
  });
  opt.incrementIterations();
}

const _installed = new Set<Fused>();

function _patch(kind: Fused, prototype: object) {
  if (_installed.has(kind)) return;
  requireFields(prototype, `${_CLASS[kind]}.prototype`, {
    applyGradients: "function",
  });
  const patchable = prototype as { applyGradients(g: Gradients): void };
  _installed.add(kind);
  const original = patchable.applyGradients;
  patchable.applyGradients = function (this: object, grads: Gradients) {
    const backend = tf.backend() as BackendWasm;
    const simd = tf.getBackend() === "wasm"
      ? simdKernelsFor(backend)
      : undefined;
    const entries = simd === undefined ? undefined : _entries(grads);
    if (simd === undefined || entries === undefined) {
      return original.call(this, grads);
    }
    // Private fields of tfjs's optimizer: checked, or a loud error.
    requireFields(this, _CLASS[kind], _FIELDS[kind]);
    _fusedStep(kind, this as OptimizerState, backend, simd, entries);
  };
}

/**
 * Makes tfjs's Adam optimizer take its steps with one fused SIMD kernel per
 * variable on `wasm` (see the module doc). Idempotent.
 *
 * @example
 * ```ts
 * import { patchAdam } from "./fused_optimizers.ts";
 * patchAdam();
 * ```
 */
export function patchAdam(): void {
  _patch("adam", tf.AdamOptimizer.prototype);
}

/**
 * The same for tfjs's Adamax optimizer. Idempotent.
 *
 * @example
 * ```ts
 * import { patchAdamax } from "./fused_optimizers.ts";
 * patchAdamax();
 * ```
 */
export function patchAdamax(): void {
  _patch("adamax", tf.AdamaxOptimizer.prototype);
}
