/**
 * Registration, driven by the manifest (`manifest.ts`): it lists the
 * project's kernels, gradients and patches and loops over them, with no
 * logic of its own. A kernel without a manifest entry, or an entry without
 * its kernel, is an error (see {@linkcode checkManifest}).
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import { registerWasmTrainingKernels } from "./register.ts";
 * registerWasmTrainingKernels();
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import { BACKEND_MANIFEST, type ManifestEntry } from "./manifest.ts";
import { type KernelImpl, originals } from "./wasm/_common.ts";
import { CONVOLUTION_KERNELS } from "./wasm/convolution.ts";
import { DENSE_KERNELS } from "./wasm/dense.ts";
import { POOLING_KERNELS } from "./wasm/pooling.ts";
import { NORMALISATION_KERNELS } from "./wasm/normalisation.ts";
import { ELEMENTWISE_KERNELS } from "./wasm/elementwise.ts";
import { DATA_MOVEMENT_KERNELS } from "./wasm/data_movement.ts";
import { GRADIENT_KERNELS, GRADIENTS } from "./wasm/gradients.ts";
import { BATCH_NORM_KERNELS, patchBatchNormCall } from "./fused_batch_norm.ts";
import { patchAdam, patchAdamax } from "./fused_optimizers.ts";
import { skipUnusedInputGrads } from "./unused_input_grads.ts";

/** Every wasm kernel of the project (added, replaced or its own). */
const WASM_KERNELS: readonly KernelImpl[] = [
  ...CONVOLUTION_KERNELS,
  ...DENSE_KERNELS,
  ...POOLING_KERNELS,
  ...NORMALISATION_KERNELS,
  ...ELEMENTWISE_KERNELS,
  ...DATA_MOVEMENT_KERNELS,
  ...GRADIENT_KERNELS,
  ...BATCH_NORM_KERNELS,
];

/** The patches `register.ts` installs, by manifest name. */
const PATCHES: Readonly<Record<string, () => void>> = {
  "AdamOptimizer.prototype.applyGradients": patchAdam,
  "AdamaxOptimizer.prototype.applyGradients": patchAdamax,
  "BatchNormalization.prototype.call": patchBatchNormCall,
  "Engine.addTapeNode": skipUnusedInputGrads,
};

/**
 * Patches applied elsewhere, by manifest name: the cpu kernel by
 * `registerCpuTrainingKernels` (it can be undone), the memory flag by
 * `withSharedWasmHeap` around the backend's start.
 */
const APPLIED_ELSEWHERE: readonly string[] = [
  "WebAssembly.instantiate (the memory flag byte)",
];

/** Names of the kernels {@linkcode registerWasmTrainingKernels} adds. */
export const WASM_TRAINING_KERNELS: readonly string[] = BACKEND_MANIFEST
  .filter((e) => e.kind === "added" && e.backend === "wasm")
  .map((e) => e.name);

function _wasmEntry(name: string): ManifestEntry | undefined {
  return BACKEND_MANIFEST.find((e) =>
    e.name === name && e.backend === "wasm" &&
    (e.kind === "added" || e.kind === "replaced" || e.kind === "project")
  );
}

/**
 * Checks that the manifest and the registration lists agree: every wasm
 * kernel, gradient and patch has its entry and every entry its kernel,
 * gradient or patch. Throws an error listing each mismatch.
 *
 * @example
 * ```ts
 * import { checkManifest } from "./register.ts";
 * checkManifest();
 * ```
 */
export function checkManifest(): void {
  const problems: string[] = [];
  for (const k of WASM_KERNELS) {
    if (_wasmEntry(k.kernelName) === undefined) {
      problems.push(`wasm kernel ${k.kernelName} has no manifest entry`);
    }
  }
  for (const g of GRADIENTS) {
    if (
      !BACKEND_MANIFEST.some((e) =>
        e.kind === "gradient" && e.name === g.kernelName
      )
    ) problems.push(`the ${g.kernelName} gradient has no manifest entry`);
  }
  for (const e of BACKEND_MANIFEST) {
    const missing = e.backend === "wasm" && e.kind !== "patch" &&
        e.kind !== "gradient"
      ? !WASM_KERNELS.some((k) => k.kernelName === e.name)
      : e.kind === "gradient"
      ? !GRADIENTS.some((g) => g.kernelName === e.name)
      : e.kind === "patch"
      ? !(e.name in PATCHES) && !APPLIED_ELSEWHERE.includes(e.name)
      : e.backend === "cpu"
      ? e.name !== "Conv2DBackpropFilter"
      : true;
    if (missing) {
      problems.push(`manifest entry ${e.kind} ${e.name} is not implemented`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `lib/backend's manifest and registration disagree: ${
        problems.join("; ")
      }. Add the entry to manifest.ts, or the kernel to register.ts.`,
    );
  }
}

function _register(k: KernelImpl, entry: ManifestEntry): void {
  const kernelFunc: tf.KernelFunc = k.kernelFunc;
  if (entry.kind !== "replaced") {
    if (tf.getKernel(k.kernelName, "wasm") !== undefined) return;
    tf.registerKernel({
      kernelName: k.kernelName,
      backendName: "wasm",
      kernelFunc,
    });
    return;
  }
  if (originals.has(k.kernelName)) return;
  const original = tf.getKernel(k.kernelName, "wasm");
  if (original === undefined) {
    throw new Error(
      `tfjs-backend-wasm has no ${k.kernelName} kernel: import ` +
        `"@tensorflow/tfjs-backend-wasm" before registering.`,
    );
  }
  originals.set(k.kernelName, original);
  tf.unregisterKernel(k.kernelName, "wasm");
  tf.registerKernel({
    kernelName: k.kernelName,
    backendName: "wasm",
    // The shipped setup binds the C++ entry point the original needs.
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
    kernelFunc,
  });
}

let _gradients = false;

/**
 * Registers every wasm kernel of the manifest (`describeBackend()` lists
 * them): adds the training kernels tfjs-backend-wasm lacks (see
 * {@linkcode WASM_TRAINING_KERNELS}), replaces slow or wrong ones by the
 * project's (keeping the shipped ones as fallbacks), registers the project
 * kernels and the gradient overrides, and installs the convolution
 * family's patch (fused convolutions skip the input gradients nothing
 * uses, on every backend from then on). Idempotent; needs
 * tfjs-backend-wasm to be imported first.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import { registerWasmTrainingKernels } from "./register.ts";
 * registerWasmTrainingKernels();
 * ```
 */
export function registerWasmTrainingKernels(): void {
  checkManifest();
  for (const k of WASM_KERNELS) _register(k, _wasmEntry(k.kernelName)!);
  _install("convolution");
  if (_gradients) return;
  for (const g of GRADIENTS) tf.registerGradient(g);
  _gradients = true;
}

function _install(family: ManifestEntry["family"]): void {
  for (const e of BACKEND_MANIFEST) {
    if (e.kind === "patch" && e.family === family) PATCHES[e.name]?.();
  }
}

/**
 * Makes tfjs's Adam and Adamax optimizers take their steps with one fused
 * C kernel per variable on `wasm` (`fused_optimizers.ts`). Idempotent.
 *
 * @example
 * ```ts
 * import { installFusedOptimizers } from "./register.ts";
 * installFusedOptimizers();
 * ```
 */
export function installFusedOptimizers(): void {
  _install("optimizers");
}

/**
 * Registers the fused batch norm's kernels and makes tfjs-layers'
 * BatchNormalization train with them on `wasm` (`fused_batch_norm.ts`).
 * Idempotent.
 *
 * @example
 * ```ts
 * import { installFusedBatchNorm } from "./register.ts";
 * installFusedBatchNorm();
 * ```
 */
export function installFusedBatchNorm(): void {
  for (const k of BATCH_NORM_KERNELS) _register(k, _wasmEntry(k.kernelName)!);
  _install("normalisation");
}
