/**
 * TensorFlow.js backends for the project: {@linkcode initBackend} picks and
 * initialises the fastest one that works here (`CNN_BACKEND` overrides it),
 * and the kernel modules make `wasm` able to train convnets and `cpu`
 * usable as the last fallback. {@linkcode describeBackend} lists every
 * kernel, gradient and patch the project adds (`manifest.ts`).
 *
 * @example
 * ```ts
 * import { initBackend } from "./mod.ts";
 * const choice = await initBackend({ backend: "cpu" });
 * console.log(choice.name);
 * ```
 *
 * @module
 */
export {
  BACKEND_NAMES,
  type BackendChoice,
  type BackendName,
  initBackend,
  type InitBackendOptions,
  parseBackendName,
} from "./init.ts";
export {
  BACKEND_ENV,
  type BackendOptions,
  backendOptions,
  configureBackend,
} from "./options.ts";
export {
  checkManifest,
  installFusedBatchNorm,
  installFusedOptimizers,
  registerWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
} from "./register.ts";
export {
  BACKEND_MANIFEST,
  type ManifestEntry,
  type ManifestFamily,
  type ManifestKind,
} from "./manifest.ts";
export { type BackendDescription, describeBackend } from "./describe.ts";
export {
  TFJS_CHECKED_VERSION,
  TfjsInternalsError,
  tfjsVersions,
} from "./tfjs_internals.ts";
export {
  KERNEL_SIGNATURES,
  type KernelArg,
  type KernelArgType,
  type KernelBinding,
  type KernelExport,
  type ThreadedKernel,
} from "./bindings.ts";
export { registerCpuTrainingKernels } from "./cpu_kernels.ts";
export {
  loadSimdKernels,
  SHARED_KERNELS_URL,
  sharedKernelsModule,
  SIMD_KERNELS_URL,
  type SimdKernels,
  simdKernelsFor,
  wasmHeap,
} from "./simd_kernels.ts";
export {
  type KernelThreads,
  kernelThreads,
  kernelThreadsWanted,
  startKernelThreads,
  withoutKernelThreads,
} from "./kernel_threads.ts";
export { sharedMemoryModule, withSharedWasmHeap } from "./shared_heap.ts";
export {
  measureSimdCeiling,
  type SimdCeiling,
  type SimdCeilingOptions,
} from "./simd_ceiling.ts";
