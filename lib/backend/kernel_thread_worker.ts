/**
 * The worker side of {@linkcode startKernelThreads}
 * (`kernel_threads.ts`): it instantiates the shared-memory kernels over the
 * heap it is sent (tfjs-backend-wasm's, made shared), answers "ready",
 * then claims chunks of each job posted in the heap's control words and
 * runs them, polling for `SPIN_MS` between jobs and then blocking in
 * `Atomics.wait` (it never returns to its event loop, so it needs no
 * messages).
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import {
  claimChunk,
  CONTROL,
  type KernelThreadInit,
  spinUntil,
} from "./_kernel_thread_protocol.ts";

parentPort!.once("message", (init: KernelThreadInit) => {
  const instance = new WebAssembly.Instance(init.module, {
    env: { memory: init.memory },
  });
  const kernels = init.names.map((name) =>
    instance.exports[name] as (...args: number[]) => void
  );
  const control = new Int32Array(
    init.memory.buffer,
    init.control,
    CONTROL.words,
  );
  parentPort!.postMessage("ready");
  let seen = 0;
  for (;;) {
    // Poll first: the next job of a training step comes within microseconds.
    if (!spinUntil(control, CONTROL.posted, (posted) => posted !== seen)) {
      Atomics.wait(control, CONTROL.posted, seen);
    }
    seen = Atomics.load(control, CONTROL.posted);
    // Read before claiming: a claim succeeds only while this job is current,
    // and the poster rewrites these words only after its last chunk is done.
    const kernel = kernels[control[CONTROL.kernel]];
    const args = Array.from(
      control.subarray(CONTROL.args, CONTROL.args + control[CONTROL.argc]),
    );
    const total = control[CONTROL.total], step = control[CONTROL.step];
    const chunks = Math.ceil(total / step);
    for (let c; (c = claimChunk(control, seen, chunks)) >= 0;) {
      try {
        kernel(...args, c * step, Math.min(total, (c + 1) * step));
      } catch {
        control[CONTROL.status] = 1;
      }
      Atomics.add(control, CONTROL.done, 1);
      Atomics.notify(control, CONTROL.done);
    }
  }
});
