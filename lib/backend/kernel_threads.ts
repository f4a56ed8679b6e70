/**
 * A second thread for the project's SIMD kernels: a `node:worker_threads`
 * worker that runs the shared-memory build of the kernels
 * (`kernels/kernels_shared.wasm`) over a shared `WebAssembly.Memory`, so
 * that one synchronous kernel can hand part of its work to the other core
 * and wait for it (a round trip costs some 10-20 µs).
 *
 * tfjs-backend-wasm's heap is not shared, so a threaded kernel copies the
 * inputs the worker needs into {@linkcode KernelThreads.scratch}, posts its
 * part with {@linkcode KernelThreads.post}, does its own part in the heap,
 * then {@linkcode KernelThreads.join}s and copies the worker's results
 * back. Parts are fixed disjoint slices of the output, each summed in the
 * single-threaded order, so the results do not depend on the threads.
 *
 * {@linkcode startKernelThreads} starts the worker once (`initBackend`
 * does it); {@linkcode kernelThreads} then gives it, or `undefined` where
 * `CNN_KERNEL_THREADS=1`, `CNN_SIMD_KERNELS=off`, or no shared memory or
 * worker is available: the kernels then run on one thread. The worker is
 * unref'd: it never keeps a script from exiting.
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

/** Where the shared-memory build lies, next to this file. */
export const SHARED_KERNELS_URL: URL = new URL(
  "./kernels/kernels_shared.wasm",
  import.meta.url,
);

/** The int32 control words at the start of the shared memory. */
export const CONTROL = {
  /** The number of the last job posted (the worker waits on it). */
  posted: 0,
  /** The number of the last job done (the poster waits on it). */
  done: 1,
  /** 0 when the last job ran, 1 when its kernel threw. */
  status: 2,
  /** The index of the job's kernel in {@linkcode KernelThreadInit.names}. */
  kernel: 3,
  /** How many int32 arguments follow. */
  argc: 4,
  /** The first argument. */
  args: 5,
  /** Words reserved for control. */
  words: 64,
} as const;

/** What the worker is sent to start. */
export interface KernelThreadInit {
  /** The compiled `kernels_shared.wasm`. */
  module: WebAssembly.Module;
  /** The shared memory both threads instantiate it over. */
  memory: WebAssembly.Memory;
  /** The kernels a job can name, by index. */
  names: readonly string[];
}

/** The kernels the worker can run. */
export const THREADED_KERNELS: readonly string[] = [
  "conv2d_filter_grad_taps",
  "conv2d_input_grad",
];

/** Byte address where scratch space starts, after the control words. */
const _SCRATCH = 4096;
const _PAGE = 65536;
/** 1 GiB: the most `kernels_shared.wasm` declares. */
const _MAX_PAGES = 16384;
/** How long `join` waits for the worker before giving up. */
const _JOIN_TIMEOUT_MS = 60_000;

/** A started kernel thread, shared by every threaded kernel. */
export interface KernelThreads {
  /** Threads the kernels compute on: the caller's and the worker's. */
  readonly threads: number;
  /**
   * The shared memory, grown so that `bytes` bytes from the returned byte
   * address are usable; take views of `memory.buffer` after calling it.
   */
  scratch(bytes: number): number;
  /** The shared memory (its buffer is a `SharedArrayBuffer`). */
  readonly memory: WebAssembly.Memory;
  /** Starts `kernel` (one of {@linkcode THREADED_KERNELS}) on the worker with int32 `args`. */
  post(kernel: string, args: readonly number[]): void;
  /** Waits until the posted job is done; throws if its kernel failed. */
  join(): void;
}

let _threads: KernelThreads | undefined;
let _starting: Promise<boolean> | undefined;

function _env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no env permission: the default
  }
}

/** Whether `CNN_KERNEL_THREADS` (and `CNN_SIMD_KERNELS`) allow a second thread. */
export function kernelThreadsWanted(): boolean {
  if (_env("CNN_SIMD_KERNELS") === "off") return false;
  const value = _env("CNN_KERNEL_THREADS");
  if (value === undefined || value === "") return _DEFAULT_THREADS > 1;
  if (value !== "1" && value !== "2") {
    throw new Error(
      `CNN_KERNEL_THREADS=${value}: use 1 (one thread) or 2 (a worker too).`,
    );
  }
  return value === "2";
}

/** Threads used when `CNN_KERNEL_THREADS` is unset. */
const _DEFAULT_THREADS: number = 1;

async function _readModule(url: URL): Promise<Uint8Array> {
  if (url.protocol === "file:") return await Deno.readFile(url);
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`fetching ${url} gave HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function _start(): Promise<KernelThreads> {
  const module = await WebAssembly.compile(
    await _readModule(SHARED_KERNELS_URL) as BufferSource,
  );
  const memory = new WebAssembly.Memory({
    initial: 32,
    maximum: _MAX_PAGES,
    shared: true,
  });
  if (!(memory.buffer instanceof SharedArrayBuffer)) {
    throw new Error("no shared WebAssembly memory here");
  }
  const worker = new Worker(
    new URL("./kernel_thread_worker.ts", import.meta.url),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("error", reject);
      worker.once("exit", () => reject(new Error("kernel thread exited")));
      const init: KernelThreadInit = {
        module,
        memory,
        names: THREADED_KERNELS,
      };
      worker.postMessage(init);
    });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  worker.removeAllListeners();
  worker.unref();
  let control: Int32Array = new Int32Array(memory.buffer, 0, CONTROL.words);
  let job = 0;
  return {
    threads: 2,
    memory,
    scratch(bytes: number): number {
      const pages = Math.ceil((_SCRATCH + bytes) / _PAGE);
      const have = memory.buffer.byteLength / _PAGE;
      if (pages > have) {
        if (pages > _MAX_PAGES) {
          throw new Error(
            `a threaded kernel needs ${bytes} bytes of shared memory; ` +
              "at most 1 GiB is available (set CNN_KERNEL_THREADS=1).",
          );
        }
        memory.grow(pages - have);
        control = new Int32Array(memory.buffer, 0, CONTROL.words);
      }
      return _SCRATCH;
    },
    post(kernel: string, args: readonly number[]): void {
      const index = THREADED_KERNELS.indexOf(kernel);
      if (index < 0) throw new Error(`no threaded kernel ${kernel}`);
      if (args.length > CONTROL.words - CONTROL.args) {
        throw new Error(`${kernel}: too many arguments`);
      }
      control[CONTROL.kernel] = index;
      control[CONTROL.argc] = args.length;
      control.set(args, CONTROL.args);
      Atomics.store(control, CONTROL.posted, ++job);
      Atomics.notify(control, CONTROL.posted);
    },
    join(): void {
      const start = performance.now();
      while (Atomics.load(control, CONTROL.done) !== job) {
        Atomics.wait(control, CONTROL.done, job - 1, 1000);
        if (performance.now() - start > _JOIN_TIMEOUT_MS) {
          throw new Error(
            "the kernel thread did not answer within 60 s; " +
              "set CNN_KERNEL_THREADS=1 to compute on one thread.",
          );
        }
      }
      if (control[CONTROL.status] !== 0) {
        throw new Error("a kernel failed on the kernel thread");
      }
    },
  };
}

/**
 * Starts the kernel thread once, where {@linkcode kernelThreadsWanted}
 * (a later call with `CNN_KERNEL_THREADS=2` can still start it); resolves
 * to whether it runs. Never throws: where a worker or shared memory is
 * unavailable, or `CNN_KERNEL_THREADS` is malformed, the kernels stay on
 * one thread.
 *
 * @example
 * ```ts
 * import { startKernelThreads } from "./kernel_threads.ts";
 * console.log(await startKernelThreads()); // true where a worker started
 * ```
 */
export async function startKernelThreads(): Promise<boolean> {
  try {
    if (!kernelThreadsWanted()) return _threads !== undefined;
  } catch {
    return false;
  }
  _starting ??= (async () => {
    try {
      _threads = await _start();
      return true;
    } catch {
      return false;
    }
  })();
  return await _starting;
}

/**
 * The started kernel thread, or `undefined` when none runs or
 * `CNN_KERNEL_THREADS=1` / `CNN_SIMD_KERNELS=off` is set now.
 *
 * @example
 * ```ts
 * import { kernelThreads } from "./kernel_threads.ts";
 * const threads = kernelThreads()?.threads ?? 1;
 * ```
 */
export function kernelThreads(): KernelThreads | undefined {
  if (_threads === undefined) return undefined;
  const value = _env("CNN_KERNEL_THREADS");
  if (value === "1" || _env("CNN_SIMD_KERNELS") === "off") return undefined;
  return _threads;
}
