/**
 * The worker side of {@linkcode startKernelThreads}
 * (`kernel_threads.ts`): it instantiates the shared-memory kernels over the
 * memory it is sent, answers "ready", then runs one kernel call per job
 * posted in the memory's control words, blocking in `Atomics.wait` between
 * jobs (it never returns to its event loop, so it needs no messages).
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { CONTROL, type KernelThreadInit } from "./kernel_threads.ts";

parentPort!.once("message", (init: KernelThreadInit) => {
  const instance = new WebAssembly.Instance(init.module, {
    env: { memory: init.memory },
  });
  const kernels = init.names.map((name) =>
    instance.exports[name] as (...args: number[]) => void
  );
  const control = new Int32Array(init.memory.buffer, 0, CONTROL.words);
  parentPort!.postMessage("ready");
  let seen = 0;
  for (;;) {
    Atomics.wait(control, CONTROL.posted, seen);
    seen = Atomics.load(control, CONTROL.posted);
    let status = 0;
    try {
      const argc = control[CONTROL.argc];
      const args = Array.from(
        control.subarray(CONTROL.args, CONTROL.args + argc),
      );
      kernels[control[CONTROL.kernel]](...args);
    } catch {
      status = 1;
    }
    control[CONTROL.status] = status;
    Atomics.store(control, CONTROL.done, seen);
    Atomics.notify(control, CONTROL.done);
  }
});
