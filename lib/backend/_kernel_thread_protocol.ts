/**
 * What the kernel thread (`kernel_thread_worker.ts`) and the kernels that
 * hand it work (`kernel_threads.ts`) share: the control words in the heap
 * and how a thread claims a chunk. Kept apart so that the worker loads
 * neither TensorFlow.js nor the backend.
 *
 * @module
 */

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

/**
 * How long, in ms, each thread polls before it sleeps in `Atomics.wait`:
 * the worker for the next job, the poster for the worker's last chunk. A
 * training step posts a job every few tens of microseconds, and waking a
 * sleeping thread costs as much; polling for up to 0.3 ms measured
 * 7,290-7,420 LeNet-5 training samples/s against 4,680-7,260 without (4
 * runs each, alternated, batch 32, 2-core AMD EPYC), and costs a thread at
 * most 0.3 ms of CPU after a job.
 */
export const SPIN_MS = 0.3;

/**
 * Polls `control[index]` until `stop` accepts its value or `SPIN_MS` pass;
 * true when it was accepted.
 */
export function spinUntil(
  control: Int32Array,
  index: number,
  stop: (value: number) => boolean,
): boolean {
  const until = performance.now() + SPIN_MS;
  do {
    if (stop(Atomics.load(control, index))) return true;
  } while (performance.now() < until);
  return false;
}

/** What the worker is sent to start. */
export interface KernelThreadInit {
  /** The compiled `kernels_shared.wasm`. */
  module: WebAssembly.Module;
  /** The shared heap both threads instantiate it over. */
  memory: WebAssembly.Memory;
  /** Byte address of the control words ({@linkcode CONTROL}) in it. */
  control: number;
  /** The kernels a job can name, by index. */
  names: readonly string[];
}
