/**
 * A second thread for the project's SIMD kernels: a `node:worker_threads`
 * worker that runs the shared-memory build of the kernels
 * (`kernels/kernels_shared.wasm`) over tfjs-backend-wasm's own heap, made
 * shared when the backend starts (`shared_heap.ts`), so that one
 * synchronous kernel can hand part of its work to the other core and wait
 * for it (a round trip costs some 10-20 µs). Both threads read and write
 * the tensors in place: nothing is copied.
 *
 * A threaded kernel {@linkcode KernelThreads.share}s its work in chunks:
 * each thread claims chunks in turn and computes them. Chunks are disjoint
 * slices of the output, each summed in the single-threaded order, so the
 * results do not depend on which thread did what.
 *
 * {@linkcode startKernelThreads} starts the worker once (`initBackend`
 * does it); {@linkcode kernelThreads} then gives it, or `undefined` where
 * `CNN_KERNEL_THREADS=1`, `CNN_SIMD_KERNELS=off`, one core, or no shared
 * heap or worker is available: the kernels then run on one thread. The
 * worker is unref'd: it never keeps a script from exiting.
 *
 * @example
 * ```ts
 * import { kernelThreads, startKernelThreads } from "./kernel_threads.ts";
 * await startKernelThreads();
 * console.log(kernelThreads()?.threads ?? 1);
 * ```
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import * as tf from "../tf.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { sharedKernelsModule } from "./simd_kernels.ts";
import { THREADED_KERNELS, type ThreadedKernel } from "./bindings.ts";
import { backendOption } from "./options.ts";
import {
  TfjsInternalsError,
  type WasmInternals,
  wasmInternals,
} from "./tfjs_internals.ts";
import {
  claimChunk,
  CONTROL,
  type KernelThreadInit,
  spinUntil,
} from "./_kernel_thread_protocol.ts";

/** The kernels the worker can run (see `bindings.ts`). */
export { THREADED_KERNELS };

/** Threads used when the `kernelThreads` option is "auto", on 2 cores or more. */
const _DEFAULT_THREADS: number = 2;
/** How long the worker may take to start before it is given up. */
const _START_TIMEOUT_MS = 30_000;
/** How long `share` waits for the worker before giving up. */
const _JOIN_TIMEOUT_MS = 60_000;

/** A started kernel thread, shared by every threaded kernel. */
export interface KernelThreads {
  /** Threads the kernels compute on: the caller's and the worker's. */
  readonly threads: number;
  /** The shared heap (its buffer is a `SharedArrayBuffer`). */
  readonly memory: WebAssembly.Memory;
  /**
   * When true, this thread claims no chunks and the worker does them all:
   * for tests, to check the worker's path. Default false.
   */
  workerOnly: boolean;
  /**
   * Runs one job split in chunks of `step` over the range [0, total): this
   * thread and the worker claim chunks in turn (so a worker that is slow
   * to wake, or descheduled, takes fewer). The worker calls `kernel` (one
   * of {@linkcode THREADED_KERNELS}) with `args` then the chunk's range,
   * in the shared heap; this thread calls `here` with the range. Returns
   * once every chunk is done; throws if a kernel failed on the worker.
   */
  share(
    kernel: ThreadedKernel,
    args: readonly number[],
    range: { total: number; step: number },
    here: (from: number, to: number) => void,
  ): void;
}

let _threads: KernelThreads | undefined;
let _starting: Promise<boolean> | undefined;

let _suspended = 0;

/** The thread count asked for now; a malformed one counts as "auto" here. */
function _envThreads(): 1 | 2 | "auto" {
  try {
    return backendOption("kernelThreads");
  } catch {
    return "auto"; // refused by startKernelThreads, not mid-kernel
  }
}

/**
 * Whether the `kernelThreads` and `simdKernels` options
 * (`CNN_KERNEL_THREADS`, `CNN_SIMD_KERNELS`) allow a second thread: by
 * default where there are two cores or more.
 *
 * @example
 * ```ts
 * import { kernelThreadsWanted } from "./kernel_threads.ts";
 * console.log(kernelThreadsWanted());
 * ```
 */
export function kernelThreadsWanted(): boolean {
  if (!backendOption("simdKernels")) return false;
  const threads = backendOption("kernelThreads");
  if (threads === "auto") {
    return _DEFAULT_THREADS > 1 && (navigator.hardwareConcurrency ?? 1) > 1;
  }
  return threads === 2;
}

/** The wasm backend's heap where it is shared (see `shared_heap.ts`). */
function _sharedHeap(): WasmInternals {
  const backend = tf.findBackend("wasm") as BackendWasm | null;
  if (backend === null) throw new Error("the wasm backend is not started");
  const heap = wasmInternals(backend);
  if (!(heap.memory.buffer instanceof SharedArrayBuffer)) {
    throw new Error("the wasm backend's heap is not shared");
  }
  return heap;
}

async function _start(): Promise<KernelThreads> {
  const module = sharedKernelsModule();
  if (module === undefined) throw new Error("no shared-memory kernels");
  const heap = _sharedHeap();
  const memory = heap.memory;
  const controlAt = heap.malloc(4 * CONTROL.words);
  // A shared memory grows in place: this view stays valid when the heap
  // grows (only memory.buffer's length changes).
  const control = new Int32Array(memory.buffer, controlAt, CONTROL.words);
  control.fill(0);
  const worker = new Worker(
    new URL("./kernel_thread_worker.ts", import.meta.url),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error("the kernel thread did not start")),
        _START_TIMEOUT_MS,
      );
      worker.once("message", () => resolve());
      worker.once("error", reject);
      worker.once("exit", () => reject(new Error("kernel thread exited")));
      const init: KernelThreadInit = {
        module,
        memory,
        control: controlAt,
        names: THREADED_KERNELS,
      };
      worker.postMessage(init);
    });
  } catch (error) {
    await worker.terminate();
    heap.free(controlAt);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  worker.removeAllListeners();
  worker.unref();
  let job = 0;
  const started: KernelThreads = {
    threads: 2,
    memory,
    workerOnly: false,
    share(kernel, args, { total, step }, here): void {
      const index = THREADED_KERNELS.indexOf(kernel);
      if (index < 0) throw new Error(`no threaded kernel ${kernel}`);
      if (!args.every(Number.isInteger)) {
        // The control words are int32s: a float would be truncated.
        throw new Error(`${kernel}: arguments must be integers`);
      }
      if (args.length > CONTROL.words - CONTROL.args) {
        throw new Error(`${kernel}: too many arguments`);
      }
      const chunks = Math.ceil(total / step);
      if (chunks > 0xffff) throw new Error(`${kernel}: too many chunks`);
      job = job % 0x7fff + 1;
      control[CONTROL.kernel] = index;
      control[CONTROL.argc] = args.length;
      control.set(args, CONTROL.args);
      control[CONTROL.total] = total;
      control[CONTROL.step] = step;
      control[CONTROL.status] = 0;
      Atomics.store(control, CONTROL.done, 0);
      Atomics.store(control, CONTROL.claim, job << 16);
      Atomics.store(control, CONTROL.posted, job);
      Atomics.notify(control, CONTROL.posted);
      let mine = 0;
      for (
        let c;
        !started.workerOnly && (c = claimChunk(control, job, chunks)) >= 0;
      ) {
        here(c * step, Math.min(total, (c + 1) * step));
        mine++;
      }
      // The worker's last chunk usually ends within microseconds: poll
      // before sleeping.
      spinUntil(control, CONTROL.done, (done) => done === chunks - mine);
      const start = performance.now();
      for (;;) {
        const done = Atomics.load(control, CONTROL.done);
        if (done === chunks - mine) break;
        Atomics.wait(control, CONTROL.done, done, 100);
        if (performance.now() - start > _JOIN_TIMEOUT_MS) {
          throw new Error(
            "the kernel thread did not answer within 60 s; " +
              "set CNN_KERNEL_THREADS=1 to compute on one thread.",
          );
        }
      }
      if (control[CONTROL.status] !== 0) {
        throw new Error(`${kernel} failed on the kernel thread`);
      }
    },
  };
  return started;
}

/**
 * Starts the kernel thread once, where {@linkcode kernelThreadsWanted}
 * (a later call with `CNN_KERNEL_THREADS=2` can still start it); resolves
 * to whether it runs. Where a worker or shared memory is unavailable the
 * kernels stay on one thread; it throws for a malformed
 * `CNN_KERNEL_THREADS`, and where tfjs's heap or allocator is missing (the
 * version guard, `tfjs_internals.ts`).
 *
 * @example
 * ```ts
 * import { startKernelThreads } from "./kernel_threads.ts";
 * console.log(await startKernelThreads()); // true where a worker started
 * ```
 */
export async function startKernelThreads(): Promise<boolean> {
  if (!kernelThreadsWanted()) return _threads !== undefined;
  _starting ??= (async () => {
    try {
      _threads = await _start();
      return true;
    } catch (error) {
      if (error instanceof TfjsInternalsError) throw error;
      return false;
    }
  })();
  return await _starting;
}

/**
 * The started kernel thread, or `undefined` when none runs or the options
 * now ask for one thread (`CNN_KERNEL_THREADS=1`) or no SIMD kernels
 * (`CNN_SIMD_KERNELS=off`).
 *
 * @example
 * ```ts
 * import { kernelThreads } from "./kernel_threads.ts";
 * const threads = kernelThreads()?.threads ?? 1;
 * ```
 */
export function kernelThreads(): KernelThreads | undefined {
  if (_threads === undefined || _suspended > 0) return undefined;
  if (!backendOption("simdKernels")) return undefined;
  return _envThreads() === 1 ? undefined : _threads;
}

/**
 * Runs `body` with the kernel thread unused (the kernels on this thread
 * only), e.g. while data-parallel replicas already keep every core busy.
 *
 * @example
 * ```ts
 * import { withoutKernelThreads } from "./kernel_threads.ts";
 * await withoutKernelThreads(async () => {});
 * ```
 */
export async function withoutKernelThreads<T>(
  body: () => Promise<T>,
): Promise<T> {
  _suspended++;
  try {
    return await body();
  } finally {
    _suspended--;
  }
}
