/**
 * TensorFlow.js backends for the project: {@linkcode initBackend} picks and
 * initialises the fastest one that works here (`CNN_BACKEND` overrides it),
 * and the kernel modules make `wasm` able to train convnets and `cpu`
 * usable as the last fallback.
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
  registerWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
} from "./wasm_kernels.ts";
export { registerCpuTrainingKernels } from "./cpu_kernels.ts";
export { installFusedOptimizers } from "./fused_optimizers.ts";
export { installFusedBatchNorm } from "./fused_batch_norm.ts";
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
