/**
 * A second thread for the project's SIMD kernels: a `node:worker_threads`
 * worker that runs the shared-memory build of the kernels
 * (`kernels/kernels_shared.wasm`) over a shared `WebAssembly.Memory`, so
 * that one synchronous kernel can hand part of its work to the other core
 * and wait for it (a round trip costs some 10-20 µs).
 *
 * tfjs-backend-wasm's heap is not shared, so a threaded kernel copies its
 * inputs into {@linkcode KernelThreads.scratch}, then
 * {@linkcode KernelThreads.share}s the work in chunks: each thread claims
 * chunks in turn, this one computing in the heap, the worker in the shared
 * memory, whose results are then copied back. Chunks are disjoint slices
 * of the output, each summed in the single-threaded order, so the results
 * do not depend on which thread did what.
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
import { readWasmModule } from "./simd_kernels.ts";

/** Where the shared-memory build lies, next to this file. */
export const SHARED_KERNELS_URL: URL = new URL(
  "./kernels/kernels_shared.wasm",
  import.meta.url,
);

/** The int32 control words at the start of the shared memory. */
export const CONTROL = {
  /** The last job's number, 1 to 32767 (the worker waits on it). */
  posted: 0,
  /** Chunks of the current job the worker has finished. */
  done: 1,
  /** 0, or 1 once a kernel threw on the worker during the current job. */
  status: 2,
  /** The index of the job's kernel in {@linkcode KernelThreadInit.names}. */
  kernel: 3,
  /** How many int32 arguments follow (before the chunk's range). */
  argc: 4,
  /** The size of the range the job's chunks cover. */
  total: 5,
  /** The size of one chunk. */
  step: 6,
  /** (job << 16) | the next unclaimed chunk: both threads claim from it. */
  claim: 7,
  /** The first argument. */
  args: 8,
  /** Words reserved for control. */
  words: 64,
} as const;

/**
 * Claims the next chunk of `job` for the calling thread: its index, or -1
 * when they are all taken or `job` is no longer the current one (a late
 * worker then does nothing).
 */
export function claimChunk(
  control: Int32Array,
  job: number,
  chunks: number,
): number {
  for (;;) {
    const value = Atomics.load(control, CONTROL.claim);
    if (value >>> 16 !== job || (value & 0xffff) >= chunks) return -1;
    if (
      Atomics.compareExchange(control, CONTROL.claim, value, value + 1) ===
        value
    ) {
      return value & 0xffff;
    }
  }
}

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
  "conv2d_input_grad_images",
];

/** Byte address where scratch space starts, after the control words. */
const _SCRATCH = 4096;
const _PAGE = 65536;
/** 1 GiB: the most `kernels_shared.wasm` declares. */
const _MAX_PAGES = 16384;
/** Threads used when `CNN_KERNEL_THREADS` is unset. */
const _DEFAULT_THREADS: number = 1;
/** How long the worker may take to start before it is given up. */
const _START_TIMEOUT_MS = 30_000;
/** How long `share` waits for the worker before giving up. */
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
  /**
   * When true, this thread claims no chunks and the worker does them all:
   * for tests, to check the worker's path and the copies back. Default
   * false.
   */
  workerOnly: boolean;
  /**
   * Runs one job split in chunks of `step` over the range [0, total): this
   * thread and the worker claim chunks in turn (so a worker that is slow
   * to wake, or descheduled, takes fewer). The worker calls `kernel` (one
   * of {@linkcode THREADED_KERNELS}) with `args` then the chunk's range,
   * over the shared memory; this thread calls `here` with the range.
   * Returns, per chunk, whether the worker did it (its results are in the
   * shared memory); throws if a kernel failed on the worker.
   */
  share(
    kernel: string,
    args: readonly number[],
    range: { total: number; step: number },
    here: (from: number, to: number) => void,
  ): boolean[];
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

async function _start(): Promise<KernelThreads> {
  const module = await WebAssembly.compile(
    await readWasmModule(SHARED_KERNELS_URL) as BufferSource,
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
        names: THREADED_KERNELS,
      };
      worker.postMessage(init);
    });
  } catch (error) {
    await worker.terminate();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  worker.removeAllListeners();
  worker.unref();
  let control: Int32Array = new Int32Array(memory.buffer, 0, CONTROL.words);
  let job = 0;
  const started: KernelThreads = {
    threads: 2,
    memory,
    workerOnly: false,
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
    share(kernel, args, { total, step }, here): boolean[] {
      const index = THREADED_KERNELS.indexOf(kernel);
      if (index < 0) throw new Error(`no threaded kernel ${kernel}`);
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
      const byWorker = new Array<boolean>(chunks).fill(true);
      let mine = 0;
      for (
        let c;
        !started.workerOnly && (c = claimChunk(control, job, chunks)) >= 0;
      ) {
        here(c * step, Math.min(total, (c + 1) * step));
        byWorker[c] = false;
        mine++;
      }
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
      return byWorker;
    },
  };
  return started;
}

/**
 * Starts the kernel thread once, where {@linkcode kernelThreadsWanted}
 * (a later call with `CNN_KERNEL_THREADS=2` can still start it); resolves
 * to whether it runs. Where a worker or shared memory is unavailable the
 * kernels stay on one thread; it throws only for a malformed
 * `CNN_KERNEL_THREADS`.
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
